"""Integrity scores: the regulators' breakdown, and the public query under /api/v1/public (no login,
nothing personal: docs/integrity.md)."""
import re

import marshmallow as ma

from backend import signing
from backend.errors import NotFound
from backend.models.district import ORGANISATION_KINDS
from backend.security import current_user
from backend.services import integrity_results as service
from miniprogram_api.common import BEARER, Derived, Schema, UTCDateTime, blueprint
from miniprogram_api.district import OrganisationSchema
from miniprogram_api.keyset import KeysetArgs, keyset_schema

blp = blueprint("integrity", "Integrity scores, red and black lists (the public query needs no login)")
PERIOD = re.compile(r"(19[7-9]\d|[2-9]\d{3})-Q[1-4]\Z")
YEAR = re.compile(r"\d{4}\Z")


class SignedSchema(ma.Schema):
    type = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    period = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    score = ma.fields.Integer(required=True, allow_none=True)
    content_sha256 = ma.fields.String(required=True)
    previous_sha256 = ma.fields.String(required=True, allow_none=True)
    published_at = ma.fields.String(required=True)
    note = ma.fields.String(required=True, allow_none=True)
    signature = ma.fields.String(required=True)


Content = ma.fields.Dict(required=True, metadata={"description": "the canonical content (docs/integrity.md)"})


class BreakdownSchema(ma.Schema):
    frozen = ma.fields.Boolean(required=True, metadata={"description": "a signed quarterly result; else computed now"})
    version = ma.fields.Integer(required=True, allow_none=True)
    content = Content
    signed = ma.fields.Nested(SignedSchema, required=True, allow_none=True)


class ScoreSummary(ma.Schema):
    period = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    score = ma.fields.Integer(required=True, metadata={"description": "hundredths of a point, 0–10000"})
    published_at = UTCDateTime(required=True)


class ProvisionalSchema(ma.Schema):
    period = ma.fields.String(required=True)
    score = ma.fields.Integer(required=True)
    computed_at = UTCDateTime(required=True)


class PublicOrganisationItem(ma.Schema):
    organisation = ma.fields.Nested(OrganisationSchema, required=True)
    latest = ma.fields.Nested(ScoreSummary, required=True, allow_none=True)


class ListEntrySchema(ma.Schema):
    year = ma.fields.String(required=True)
    list = ma.fields.String(required=True, metadata={"enum": ["red", "black"]})
    version = ma.fields.Integer(required=True)


class PublicMeasure(ma.Schema):
    id = ma.fields.Integer(required=True, attribute="measure.id")
    community_name = ma.fields.String(required=True)
    level = ma.fields.String(required=True, attribute="measure.level")
    status = ma.fields.String(required=True, attribute="measure.status")
    issued_at = UTCDateTime(required=True, attribute="measure.issued_at")
    due_at = UTCDateTime(required=True, attribute="measure.due_at")
    overdue = Derived(ma.fields.Boolean(), lambda e: e["measure"].overdue_at is not None)


class PublicCompound(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    community_name = ma.fields.String(required=True)
    since = ma.fields.Date(required=True)


class PublicOrganisationSchema(ma.Schema):
    organisation = ma.fields.Nested(OrganisationSchema, required=True)
    current = ma.fields.Nested(ScoreSummary, required=True, allow_none=True,
                               metadata={"description": "the latest frozen quarter"})
    provisional = ma.fields.Nested(ProvisionalSchema, required=True, allow_none=True,
                                   metadata={"description": "the running quarter so far (not signed)"})
    history = ma.fields.List(ma.fields.Nested(ScoreSummary), required=True)
    lists = ma.fields.List(ma.fields.Nested(ListEntrySchema), required=True)
    measures = ma.fields.List(ma.fields.Nested(PublicMeasure), required=True)
    compounds = ma.fields.List(ma.fields.Nested(PublicCompound), required=True)


class PublicResultSchema(ma.Schema):
    period = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    score = ma.fields.Integer(required=True, allow_none=True)
    content = Content
    signed = Derived(ma.fields.Nested(SignedSchema), service.signed_statement, raw=True)
    server_key = Derived(ma.fields.String(), lambda r: signing.server_public_key())


class PublicListArgs(KeysetArgs):
    kind = ma.fields.String(validate=ma.validate.OneOf(ORGANISATION_KINDS))
    q = ma.fields.String(validate=ma.validate.Length(min=1, max=100))


class VersionArgs(Schema):
    version = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))


class ListsArgs(Schema):
    kind = ma.fields.String(load_default="property_company", validate=ma.validate.OneOf(ORGANISATION_KINDS))


@blp.route("/organisations/<int:oid>/integrity/<period>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, BreakdownSchema)
def get_breakdown(oid, period):
    """A quarter's score with every figure and the ids of the records behind it (regulators)."""
    user = current_user()
    if not PERIOD.match(period):
        raise NotFound("score_not_found", f"该企业 {period} 的评分尚未发布")
    return service.breakdown(user, oid, period)


@blp.route("/public/organisations", methods=["GET"])
@blp.arguments(PublicListArgs, location="query")
@blp.response(200, keyset_schema(PublicOrganisationItem, "PublicOrganisationPage"))
def list_public_organisations(args):
    """Property companies and lift contractors with their latest score (no login)."""
    return service.public_organisations(**args)


@blp.route("/public/organisations/<int:oid>", methods=["GET"])
@blp.response(200, PublicOrganisationSchema)
def get_public_organisation(oid):
    """An organisation's current score, history, year-end lists, measures and compounds (no login)."""
    return service.public_organisation(oid)


@blp.route("/public/organisations/<int:oid>/scores/<period>", methods=["GET"])
@blp.arguments(VersionArgs, location="query")
@blp.response(200, PublicResultSchema)
def get_public_score(args, oid, period):
    """A frozen quarterly score with its content and the server's signature (no login)."""
    if not PERIOD.match(period):
        raise NotFound("score_not_found", f"该企业 {period} 的评分尚未发布")
    return service.public_result(oid, period, args.get("version"))


@blp.route("/public/integrity-lists/<year>", methods=["GET"])
@blp.arguments(ListsArgs, location="query")
@blp.response(200, PublicResultSchema)
def get_integrity_lists(args, year):
    """A year's red list (top 5) and black list (bottom 3), signed (no login)."""
    if not YEAR.match(year):
        raise NotFound("lists_not_found", f"{year} 年度红黑榜尚未发布")
    return service.public_lists(year, args["kind"])
