"""The district above the compounds: streets and regulator scopes, organisations and who serves which
compound, the street dashboard, Open311 keys (docs/district.md)."""
import marshmallow as ma

from backend.models.district import ORGANISATION_KINDS, SERVICES
from backend.security import current_user
from backend.services import dashboard, organisations as service
from backend.services.organisations import format_coordinate
from miniprogram_api.common import BEARER, Derived, NonBlank, Schema, UTCDateTime, blueprint
from miniprogram_api.keyset import ID, KeysetArgs, keyset_schema

blp = blueprint("district", "The district: streets, regulator scopes, organisations, Open311 keys")


@blp.before_request
def _authenticate():
    current_user()


class StreetArgs(Schema):
    name = NonBlank(max=120)


class StreetSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)


class StreetListItem(ma.Schema):
    id = ma.fields.Integer(required=True, attribute="street.id")
    name = ma.fields.String(required=True, attribute="street.name")
    communities = ma.fields.Integer(required=True)
    mine = ma.fields.Boolean(required=True, metadata={"description": "within the caller's scope"})


class PlacementArgs(Schema):
    street_id = ma.fields.Integer(required=True, allow_none=True, validate=ID)
    latitude = ma.fields.String(allow_none=True, load_default=None, metadata={"description": "decimal degrees, e.g. 31.230416"})
    longitude = ma.fields.String(allow_none=True, load_default=None)


class PlacedCommunity(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True)
    street_id = ma.fields.Integer(allow_none=True)
    latitude = Derived(ma.fields.String(allow_none=True), lambda c: format_coordinate(c.lat_e6))
    longitude = Derived(ma.fields.String(allow_none=True), lambda c: format_coordinate(c.lng_e6))


class RegulatorScopeArgs(Schema):
    street_id = ma.fields.Integer(allow_none=True, load_default=None, validate=ID,
                                  metadata={"description": "null: the whole district"})
    user_id = ma.fields.Integer(validate=ID)
    openid = ma.fields.String(validate=ma.validate.Length(min=1, max=64))


class RegulatorScopeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    street_id = ma.fields.Integer(allow_none=True, metadata={"description": "null: the whole district"})
    created_at = UTCDateTime(required=True)


class OrganisationArgs(Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(ORGANISATION_KINDS))
    name = NonBlank(max=200)
    uscc = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40),
                            metadata={"description": "统一社会信用代码, 18 characters, GB 32100 check character"})


class OrganisationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(ORGANISATION_KINDS)})
    name = ma.fields.String(required=True)
    uscc = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)


class OrganisationListArgs(KeysetArgs):
    kind = ma.fields.String(validate=ma.validate.OneOf(ORGANISATION_KINDS))
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=100), metadata={"description": "name or code"})


class ManagerArgs(Schema):
    name = NonBlank(max=120)
    phone = ma.fields.String(allow_none=True, validate=ma.validate.Regexp(r"^1\d{10}$"))


class ManagerSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    organisation_id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)


class CreditSchema(ma.Schema):
    period = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    score = ma.fields.Integer(required=True, metadata={"description": "hundredths of a point, 0–10000"})


class ManagerCreditSchema(ma.Schema):
    manager = ma.fields.Nested(ManagerSchema, required=True)
    credit = ma.fields.Nested(CreditSchema, required=True, allow_none=True)


class ContractArgs(Schema):
    organisation_id = ma.fields.Integer(required=True, validate=ID)
    service = ma.fields.String(required=True, validate=ma.validate.OneOf(list(SERVICES)))
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(allow_none=True, load_default=None)
    manager_id = ma.fields.Integer(allow_none=True, load_default=None, validate=ID)


class ContractSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    organisation_id = ma.fields.Integer(required=True)
    service = ma.fields.String(required=True, metadata={"enum": list(SERVICES)})
    manager_id = ma.fields.Integer(allow_none=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(allow_none=True, metadata={"description": "exclusive; null: still serving"})
    created_at = UTCDateTime(required=True)


DashboardCompound = type("DashboardCompound", (ma.Schema,), {
    "community_id": ma.fields.Integer(required=True), "community_name": ma.fields.String(required=True),
    **{name: ma.fields.Integer(required=True) for name in (
        "open_tickets", "overdue_tickets", "escalated_open", "complaints_this_week", "open_measures",
        "overdue_measures", "open_disputes")}})


class RoutineSchema(ma.Schema):
    month = ma.fields.String(required=True)
    street_id = ma.fields.Integer(required=True)
    street_name = ma.fields.String(required=True)
    communities = ma.fields.Integer(required=True)
    inspections = ma.fields.Integer(required=True)
    circulars = ma.fields.Integer(required=True)
    reviews = ma.fields.Integer(required=True)
    complete = ma.fields.Boolean(required=True)


class PendingFocus(ma.Schema):
    id = ma.fields.Integer(required=True)
    week = ma.fields.String(required=True)
    community_id = ma.fields.Integer(required=True)
    community_name = ma.fields.String(required=True)
    complaints = ma.fields.Integer(required=True)


class DashboardSchema(ma.Schema):
    street = ma.fields.Nested(StreetSchema, required=True)
    as_of = UTCDateTime(required=True)
    communities = ma.fields.Integer(required=True)
    totals = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    complaints_this_week_by_channel = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    disputes_by_level = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    focus_pending = ma.fields.List(ma.fields.Nested(PendingFocus), required=True)
    routine = ma.fields.Nested(RoutineSchema, required=True)
    compounds = ma.fields.List(ma.fields.Nested(DashboardCompound), required=True)


class ClientArgs(Schema):
    name = NonBlank(max=120)


class ClientSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    key_prefix = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)
    revoked_at = UTCDateTime(allow_none=True)


class IssuedClientSchema(ClientSchema):
    api_key = ma.fields.String(required=True, metadata={"description": "shown once; only its hash is kept"})


# ---------------------------------------------------------------- routes


@blp.route("/streets", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(StreetArgs)
@blp.response(201, StreetSchema)
def create_street(args):
    """Create a street office (platform admin)."""
    return service.create_street(current_user(), **args)


@blp.route("/streets", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, StreetListItem(many=True))
def list_streets():
    """Every street with its number of compounds; `mine` marks the caller's (regulators)."""
    return service.list_streets(current_user())


@blp.route("/communities/<int:cid>/street", methods=["PUT"])
@blp.doc(security=BEARER)
@blp.arguments(PlacementArgs)
@blp.response(200, PlacedCommunity)
def place_community(args, cid):
    """Put a compound in a street, with its position (platform admin)."""
    return service.place_community(current_user(), cid, **args)


@blp.route("/streets/<int:sid>/communities", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(KeysetArgs, location="query")
@blp.response(200, keyset_schema(PlacedCommunity, "StreetCommunityPage"))
def street_communities(args, sid):
    """The compounds of a street, by id (its regulators, the district)."""
    return service.street_communities(current_user(), sid, **args)


@blp.route("/streets/<int:sid>/dashboard", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, DashboardSchema)
def street_dashboard(sid):
    """What is open in the street's compounds now, and this month's 4-2-1 progress (its regulators)."""
    return dashboard.street_dashboard(current_user(), sid)


@blp.route("/regulator-scopes", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(RegulatorScopeArgs)
@blp.response(201, RegulatorScopeSchema)
def grant_scope(args):
    """Make a user the regulator of a street or of the district (platform admin)."""
    return service.grant_scope(current_user(), **args)


@blp.route("/regulator-scopes", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, RegulatorScopeSchema(many=True))
def list_scopes():
    """Every regulator scope (platform admin)."""
    return service.list_scopes(current_user())


@blp.route("/regulator-scopes/<int:scope_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(204)
def revoke_scope(scope_id):
    """Take a regulator scope away (platform admin)."""
    service.revoke_scope(current_user(), scope_id)


@blp.route("/organisations", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(OrganisationArgs)
@blp.response(201, OrganisationSchema)
def create_organisation(args):
    """Register a property company or a lift maintenance contractor (the district)."""
    return service.create_organisation(current_user(), **args)


@blp.route("/organisations", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(OrganisationListArgs, location="query")
@blp.response(200, keyset_schema(OrganisationSchema, "OrganisationPage"))
def list_organisations(args):
    """The organisations' registry (regulators)."""
    return service.list_organisations(current_user(), **args)


@blp.route("/organisations/<int:oid>/managers", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(ManagerArgs)
@blp.response(201, ManagerSchema)
def add_manager(args, oid):
    """Add a property company's project manager (the district)."""
    return service.add_manager(current_user(), oid, **args)


@blp.route("/organisations/<int:oid>/managers", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, ManagerCreditSchema(many=True))
def list_managers(oid):
    """A company's project managers with their latest personal credit (regulators; never public)."""
    from backend.services import integrity_results

    return integrity_results.manager_credit(current_user(), oid)


@blp.route("/communities/<int:cid>/service-contracts", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(ContractArgs)
@blp.response(201, ContractSchema)
def record_contract(args, cid):
    """From starts_on the organisation serves the compound; the running contract of that service ends then (regulators)."""
    return service.record_contract(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/service-contracts", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, ContractSchema(many=True))
def list_contracts(cid):
    """Who served the compound from when to when, newest first (anyone with a role there)."""
    return service.list_contracts(current_user(), cid)


@blp.route("/open311-clients", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(ClientArgs)
@blp.response(201, IssuedClientSchema)
def issue_open311_key(args):
    """Issue an Open311 API key to a client (platform admin); the key is shown once."""
    from backend.services import open311

    client, key = open311.issue_key(current_user(), args["name"])
    return {**{k: getattr(client, k) for k in ("id", "name", "key_prefix", "created_at", "revoked_at")}, "api_key": key}


@blp.route("/open311-clients", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, ClientSchema(many=True))
def list_open311_clients():
    """Open311 clients (platform admin)."""
    from backend.services import open311

    return open311.list_clients(current_user())


@blp.route("/open311-clients/<int:client_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@blp.response(204)
def revoke_open311_key(client_id):
    """Revoke an Open311 client's key (platform admin)."""
    from backend.services import open311

    open311.revoke_client(current_user(), client_id)
