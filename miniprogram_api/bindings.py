"""Owner verification: claims on parts and their review."""
import marshmallow as ma

from backend.models.community import BINDING_STATUSES
from backend.security import current_user
from backend.services import bindings as service
from miniprogram_api.common import BEARER, Derived, NonBlank, PageArgs, Schema, UTCDateTime, blueprint, page_schema

blp = blueprint("bindings", "Owner verification")


class BindingArgs(Schema):
    building = NonBlank(max=32)
    unit = NonBlank(max=32)
    room = NonBlank(max=32)
    name = NonBlank(max=120)
    certificate_media_id = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=2**31 - 1))


class ReviewArgs(Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("approve", "reject")))
    reason = ma.fields.String(validate=ma.validate.Length(max=500))
    owner_id = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1))


class BindingEventSchema(ma.Schema):
    action = ma.fields.String(required=True)
    actor_id = ma.fields.Integer(required=True)
    method = ma.fields.String(allow_none=True)
    note = ma.fields.String(allow_none=True)
    created_at = UTCDateTime(required=True)


class ClaimSchema(ma.Schema):
    """A claim as its claimant sees it: the address and name as claimed and where it stands. Nothing
    here says whether the registry has that flat (docs/decisions.md "Claims reveal nothing")."""

    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    label = ma.fields.String(required=True, metadata={"description": "the claimed address, building-unit-room"})
    claimed_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(BINDING_STATUSES)})
    method = ma.fields.String(allow_none=True, metadata={"enum": ["phone_match", "manual_review", None]})
    reason = ma.fields.String(allow_none=True)
    certificate_media_id = ma.fields.Integer(allow_none=True)
    created_at = UTCDateTime(required=True)
    decided_at = UTCDateTime(allow_none=True)
    events = ma.fields.List(ma.fields.Nested(BindingEventSchema), required=True)


class BindingSchema(ClaimSchema):
    """A claim as its reviewers (committee, property staff) see it: also the registry's side."""

    user_id = ma.fields.Integer(required=True)
    part_id = ma.fields.Integer(allow_none=True, metadata={"description": "the registry's part at that address; null when the registry has none"})
    in_registry = Derived(ma.fields.Boolean(), lambda b: b.part_id is not None)
    owner_id = ma.fields.Integer(allow_none=True)
    decided_by = ma.fields.Integer(allow_none=True)


class BindingListArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(BINDING_STATUSES))


@blp.route("/communities/<int:cid>/bindings", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(BindingArgs)
@blp.response(201, ClaimSchema)
def request_binding(args, cid):
    """Claim a part: `verified` on a WeChat phone + name match with the registry, else `pending`."""
    return service.request_binding(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/bindings", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(BindingListArgs, location="query")
@blp.response(200, page_schema(BindingSchema, "BindingPage"))
def list_bindings(args, cid):
    """Claims of a community with their history (committee, property staff)."""
    return service.list_bindings(current_user(), cid, **args)


@blp.route("/bindings/<int:bid>/review", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(ReviewArgs)
@blp.response(200, BindingSchema)
def review(args, bid):
    """Approve or reject a pending claim (committee, property staff of its community)."""
    return service.review_binding(current_user(), bid, **args)
