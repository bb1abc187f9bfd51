"""Notices of the committee and the property company, with read receipts."""
import marshmallow as ma

from backend.models.notice import NOTICE_CATEGORIES, NOTICE_STATUSES, PUBLISHER_ROLES
from backend.security import current_user
from backend.services import notices as service
from miniprogram_api.common import BEARER, Derived, NonBlank, PageArgs, Schema, UTCDateTime, blueprint, page_schema

blp = blueprint("notices", "Notices")


class NoticeArgs(Schema):
    title = NonBlank(max=120)
    body = NonBlank(max=20000)
    category = ma.fields.String(load_default="general", validate=ma.validate.OneOf(NOTICE_CATEGORIES))
    pinned = ma.fields.Boolean(load_default=False)
    important = ma.fields.Boolean(load_default=False, metadata={
        "description": "also sent to the community's users as a WeChat subscribe message"})
    attachment_ids = ma.fields.List(ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=2**31 - 1)),
                                    validate=ma.validate.Length(max=20))
    publisher_role = ma.fields.String(validate=ma.validate.OneOf(PUBLISHER_ROLES), metadata={
        "description": "needed only by a user who is both committee and property staff"})


class NoticeListArgs(PageArgs):
    category = ma.fields.String(validate=ma.validate.OneOf(NOTICE_CATEGORIES))
    status = ma.fields.String(validate=ma.validate.OneOf(NOTICE_STATUSES), metadata={
        "description": "publisher roles only; others always see published notices"})


class WithdrawArgs(Schema):
    reason = NonBlank(max=500)


class PinArgs(Schema):
    pinned = ma.fields.Boolean(required=True)


class NoticeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    category = ma.fields.String(required=True, metadata={"enum": list(NOTICE_CATEGORIES)})
    pinned = ma.fields.Boolean(required=True)
    important = ma.fields.Boolean(required=True)
    attachment_ids = ma.fields.List(ma.fields.Integer(), required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(NOTICE_STATUSES)})
    withdrawn = Derived(ma.fields.Boolean(), lambda n: n.status == "withdrawn")
    publisher_role = ma.fields.String(required=True)
    published_by = ma.fields.Integer(required=True)
    published_at = UTCDateTime(required=True)
    withdrawn_at = UTCDateTime(allow_none=True)
    withdraw_reason = ma.fields.String(allow_none=True)
    read_at = UTCDateTime(allow_none=True, metadata={"description": "when the caller first read it"})
    read_count = ma.fields.Integer(allow_none=True, metadata={"description": "publisher roles only, else null"})


@blp.route("/communities/<int:cid>/notices", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(NoticeListArgs, location="query")
@blp.response(200, page_schema(NoticeSchema, "NoticePage"))
def notices(args, cid):
    """Notices, pinned first then newest (withdrawn ones only for the publisher roles, flagged)."""
    return service.list_notices(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/notices", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(NoticeArgs)
@blp.response(201, NoticeSchema)
def publish(args, cid):
    """Publish a notice (committee or property staff)."""
    return service.publish(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/notices/<int:nid>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, NoticeSchema)
def notice(cid, nid):
    """One notice."""
    return service.get_notice(current_user(), cid, nid)


@blp.route("/communities/<int:cid>/notices/<int:nid>", methods=["PATCH"])
@blp.doc(security=BEARER)
@blp.arguments(PinArgs)
@blp.response(200, NoticeSchema)
def pin(args, cid, nid):
    """Pin or unpin a notice (its publisher role)."""
    return service.set_pinned(current_user(), cid, nid, **args)


@blp.route("/communities/<int:cid>/notices/<int:nid>/read", methods=["POST"])
@blp.doc(security=BEARER)
@blp.response(200, NoticeSchema)
def read(cid, nid):
    """Record that the caller has read the notice (idempotent)."""
    return service.mark_read(current_user(), cid, nid)


@blp.route("/communities/<int:cid>/notices/<int:nid>/withdraw", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(WithdrawArgs)
@blp.response(200, NoticeSchema)
def withdraw(args, cid, nid):
    """Withdraw a notice; it stays in the history, flagged (its publisher role)."""
    return service.withdraw(current_user(), cid, nid, **args)
