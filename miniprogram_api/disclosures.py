"""The five disclosures (docs/disclosures.md): current versions, publishing, history, differences,
and an owner's own monthly fees."""
import marshmallow as ma

from backend.models.disclosure import DISCLOSURE_KINDS
from backend.security import current_user
from backend.services import disclosures as service
from backend.signing import server_public_key
from miniprogram_api.common import BEARER, Derived, PageArgs, Schema, UTCDateTime, blueprint, page_schema

blp = blueprint("disclosures", "The five disclosures and an owner's fees")


# ---------------------------------------------------------------- schemas shared with revenue.py


class AttachmentSchema(ma.Schema):
    media_id = ma.fields.Integer(required=True)
    sha256 = ma.fields.String(required=True)


class SignedStatementSchema(ma.Schema):
    """What the server signs for a version (docs/disclosures.md), with its signature."""

    type = ma.fields.String(required=True)
    community_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    series = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)
    content_sha256 = ma.fields.String(required=True)
    previous_sha256 = ma.fields.String(required=True, allow_none=True)
    published_at = ma.fields.String(required=True, metadata={"format": "date-time"})
    author_id = ma.fields.Integer(required=True)
    note = ma.fields.String(required=True, allow_none=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)
    signature = ma.fields.String(required=True, metadata={"description": "Ed25519 over the canonical JSON of the "
                                                                        "rest, base64url"})


class VersionSummarySchema(ma.Schema):
    """A published version without its content (history lists)."""

    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    series = ma.fields.String(required=True, metadata={"description": "\"\" for disclosures; the period for revenue statements"})
    version = ma.fields.Integer(required=True)
    content_sha256 = ma.fields.String(required=True, metadata={"description": "SHA-256 of the canonical JSON of content"})
    previous_sha256 = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)
    author_id = ma.fields.Integer(required=True)
    published_at = UTCDateTime(required=True)
    signed = Derived(ma.fields.Nested(SignedStatementSchema), service.signed_statement, raw=True, metadata={
        "description": "the statement signed by the server key (docs/disclosures.md)"})


class VersionSchema(VersionSummarySchema):
    """A published version with its content and the key that verifies its signature."""

    content = ma.fields.Dict(required=True)
    server_key = Derived(ma.fields.String(), lambda _: server_public_key(), metadata={"description": "Ed25519, base64url"})


class PublishArgs(Schema):
    content = ma.fields.Dict(required=True, metadata={"description": "structured content of the kind (docs/disclosures.md)"})
    note = ma.fields.String(validate=ma.validate.Length(max=500), metadata={"description": "e.g. what a correction corrects"})
    attachment_ids = ma.fields.List(ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=2**31 - 1)),
                                    validate=ma.validate.Length(max=20))


class DisclosureArgs(PublishArgs):
    kind = ma.fields.String(required=True, metadata={"enum": list(DISCLOSURE_KINDS)})


class DiffArgs(Schema):
    from_version = ma.fields.Integer(required=True, data_key="from", validate=ma.validate.Range(min=1, max=2**31 - 1))
    to_version = ma.fields.Integer(required=True, data_key="to", validate=ma.validate.Range(min=1, max=2**31 - 1))


class ChangeSchema(ma.Schema):
    path = ma.fields.String(required=True, metadata={"description": "JSON Pointer (RFC 6901) into content"})
    op = ma.fields.String(required=True, metadata={"enum": ["added", "removed", "changed"]})
    old = ma.fields.Raw(allow_none=True, metadata={"description": "any JSON value: the content at `path` before"})
    new = ma.fields.Raw(allow_none=True, metadata={"description": "any JSON value: the content at `path` after"})


class DiffSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    series = ma.fields.String(required=True)
    from_version = ma.fields.Nested(VersionSummarySchema, data_key="from", attribute="from")
    to_version = ma.fields.Nested(VersionSummarySchema, data_key="to", attribute="to")
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), required=True)


VersionPage = page_schema(VersionSummarySchema, "VersionPage")


# ---------------------------------------------------------------- disclosure schemas


class KindSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    current = ma.fields.Nested(VersionSchema, allow_none=True)


class DisclosuresSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    kinds = ma.fields.List(ma.fields.Nested(KindSchema), required=True)


class FeeLineSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    basis = ma.fields.String(required=True)
    mandatory = ma.fields.Boolean(required=True)
    price_fen = ma.fields.Integer(required=True)
    monthly_fen = ma.fields.Integer(required=True)


class PartFeesSchema(ma.Schema):
    part_id = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True)
    area = ma.fields.Integer(required=True, metadata={"description": "0.01 m²"})
    building_type = ma.fields.String(allow_none=True)
    fees = ma.fields.List(ma.fields.Nested(FeeLineSchema), required=True)
    monthly_total_fen = ma.fields.Integer(required=True)
    apportionment_fen = ma.fields.Integer(allow_none=True, metadata={"description": "share of the latest apportionment"})


def _standards_ref(result):
    version = result["fee_standards"]
    return version and {"version": version.version, "effective_date": version.content["effective_date"],
                        "filing_reference": version.content["filing_reference"]}


def _apportionment_ref(result):
    version = result["apportionment"]
    return version and {"version": version.version, **{k: version.content[k] for k in
                                                         ("period", "category", "method", "total_fen", "rounding")}}


class FeeStandardsRefSchema(ma.Schema):
    version = ma.fields.Integer(required=True)
    effective_date = ma.fields.String(required=True, metadata={"format": "date"})
    filing_reference = ma.fields.String(required=True)


class ApportionmentRefSchema(ma.Schema):
    version = ma.fields.Integer(required=True)
    period = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    category = ma.fields.String(required=True)
    method = ma.fields.String(required=True)
    total_fen = ma.fields.Integer(required=True)
    rounding = ma.fields.String(required=True)


class MyFeesSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    rounding = ma.fields.String(required=True)
    fee_items_version = ma.fields.Integer(allow_none=True)
    fee_standards = Derived(ma.fields.Nested(FeeStandardsRefSchema, allow_none=True), _standards_ref,
                            metadata={"description": "the fee standards in force; null before any"})
    apportionment = Derived(ma.fields.Nested(ApportionmentRefSchema, allow_none=True), _apportionment_ref,
                            metadata={"description": "the latest utility apportionment; null before any"})
    parts = ma.fields.List(ma.fields.Nested(PartFeesSchema), required=True)
    monthly_total_fen = ma.fields.Integer(required=True)
    apportionment_total_fen = ma.fields.Integer(required=True)


# ---------------------------------------------------------------- routes


@blp.route("/communities/<int:cid>/disclosures", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, DisclosuresSchema)
def current(cid):
    """The current version of each of the five disclosures (anyone of the community)."""
    return service.current_disclosures(current_user(), cid)


@blp.route("/communities/<int:cid>/disclosures", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(DisclosureArgs)
@blp.response(201, VersionSchema)
def publish(args, cid):
    """Publish the next version of a disclosure (property staff); a correction is a new version."""
    return service.publish_disclosure(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/disclosures/<kind>/versions", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, VersionPage)
def versions(args, cid, kind):
    """The versions of one disclosure, newest first."""
    return service.disclosure_versions(current_user(), cid, kind, **args)


@blp.route("/communities/<int:cid>/disclosures/<kind>/versions/<int:number>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, VersionSchema)
def version(cid, kind, number):
    """One version of a disclosure with its content and signature."""
    return service.disclosure_version(current_user(), cid, kind, number)


@blp.route("/communities/<int:cid>/disclosures/<kind>/diff", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(DiffArgs, location="query")
@blp.response(200, DiffSchema)
def diff(args, cid, kind):
    """Field-by-field changes from version `from` to version `to`."""
    return service.disclosure_diff(current_user(), cid, kind, args["from_version"], args["to_version"])


@blp.route("/communities/<int:cid>/my-fees", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, MyFeesSchema)
def my_fees(cid):
    """The caller's monthly fees per verified part, and their share of the latest apportionment (owners)."""
    return service.my_fees(current_user(), cid)
