"""HTTP layer: flask-smorest blueprints and marshmallow schemas, one module per resource."""


def blueprints():
    """Every blueprint of the API, in the order they appear in the OpenAPI spec."""
    from miniprogram_api import auth, communities, registry, bindings, me, media, tickets
    from miniprogram_api import disclosures, revenue, emergency_fund, notices
    from miniprogram_api import votes, witnesses, delegations, keys, console, notifications, health
    from miniprogram_api import district, hotline, inspections, integrity, mediation

    return [auth.blp, me.blp, communities.blp, registry.blp, bindings.blp, media.blp, tickets.blp,
            disclosures.blp, revenue.blp, emergency_fund.blp, notices.blp,
            votes.blp, witnesses.blp, delegations.blp, keys.blp, console.blp, notifications.blp,
            district.blp, hotline.blp, inspections.blp, integrity.blp, mediation.blp, health.blp]


def plain_blueprints():
    """Blueprints outside /api/v1 and its OpenAPI: Open311 GeoReport v2 (its own format and errors)."""
    from miniprogram_api import open311

    return [open311.blp]
