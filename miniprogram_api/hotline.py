"""Complaints from the 12345 hotline and other channels: the import of hotline orders, the ruling on a
complaint's validity, the weekly roll-up (docs/district.md "Complaints from 12345")."""
import re

import marshmallow as ma
from flask_smorest.fields import Upload

from backend.models.ticket import TICKET_CHANNELS
from backend.security import current_user
from backend.services import hotline
from miniprogram_api.common import BEARER, Schema, UTCDateTime, blueprint

blp = blueprint("hotline", "Hotline orders, complaint validity and the weekly complaint roll-up")


@blp.before_request
def _authenticate():
    current_user()


class HotlineUpload(Schema):
    file = Upload(required=True, metadata={"description": ".csv or .xlsx as the hotline exports it"})


class RefusedOrder(ma.Schema):
    row = ma.fields.Integer(required=True)
    order_no = ma.fields.String(required=True)
    reason = ma.fields.String(required=True, metadata={
        "enum": ["order_no", "time", "content", "no_match", "ambiguous", "out_of_scope"]})


class HotlineReport(ma.Schema):
    rows = ma.fields.Integer(required=True)
    imported = ma.fields.Integer(required=True)
    duplicates = ma.fields.Integer(required=True, metadata={"description": "already imported: skipped"})
    ticket_ids = ma.fields.List(ma.fields.Integer(), required=True)
    refused = ma.fields.List(ma.fields.Nested(RefusedOrder), required=True)


class ValidityArgs(Schema):
    valid = ma.fields.Boolean(required=True)
    reason = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=500))


class ValiditySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    category = ma.fields.String(required=True)
    channel = ma.fields.String(required=True, metadata={"enum": list(TICKET_CHANNELS)})
    invalid_at = UTCDateTime(allow_none=True)
    invalid_reason = ma.fields.String(allow_none=True)


class RollupCommunity(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    community_name = ma.fields.String(required=True)
    complaints = ma.fields.Integer(required=True)
    by_channel = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)


class FocusSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    week = ma.fields.String(required=True)
    community_id = ma.fields.Integer(required=True)
    complaints = ma.fields.Integer(required=True)
    ticket_ids = ma.fields.List(ma.fields.Integer(), required=True)
    done = ma.fields.Boolean(required=True)


class RollupSchema(ma.Schema):
    week = ma.fields.String(required=True)
    date_from = UTCDateTime(required=True, attribute="from", data_key="from")
    date_to = UTCDateTime(required=True, attribute="to", data_key="to")
    complaints = ma.fields.Integer(required=True)
    by_channel = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    communities = ma.fields.List(ma.fields.Nested(RollupCommunity), required=True)
    focus = ma.fields.List(ma.fields.Nested(FocusSchema), required=True)


WEEK = re.compile(r"\d{4}-W(0[1-9]|[1-4]\d|5[0-3])\Z")



@blp.route("/hotline-imports", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(HotlineUpload, location="files")
@blp.response(200, HotlineReport)
def import_hotline(files):
    """Import 12345 work orders as tickets of the compounds in the caller's scope (street and district regulators)."""
    upload = files["file"]
    return hotline.import_orders(current_user(), upload.filename, upload.read())


@blp.route("/tickets/<int:tid>/validity", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(ValidityArgs)
@blp.response(200, ValiditySchema)
def mark_validity(args, tid):
    """Rule a complaint valid or invalid for the integrity score (regulators of its compound)."""
    return hotline.mark_validity(current_user(), tid, **args)


@blp.route("/complaint-rollups/<week>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, RollupSchema)
def get_rollup(week):
    """A week's complaints of every channel in the caller's scope and the focus inspections ordered (regulators)."""
    if not WEEK.match(week):
        from backend.errors import NotFound

        raise NotFound("rollup_not_found", f"{week} 的投诉周汇总尚未生成")
    return hotline.rollup_view(current_user(), week)
