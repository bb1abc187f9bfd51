"""Emergency use of the maintenance fund (docs/disclosures.md): disclosed records, not votes."""
import marshmallow as ma

from backend.security import current_user
from backend.services import emergency_fund as service
from miniprogram_api.common import BEARER, NonBlank, PageArgs, Schema, UTCDateTime, blueprint, page_schema
from voting.canonical import MAX_SAFE_INT

blp = blueprint("emergency_fund", "Emergency maintenance-fund spending")


class SpendingArgs(Schema):
    amount_fen = ma.fields.Integer(strict=True, required=True, validate=ma.validate.Range(min=1, max=MAX_SAFE_INT))
    reason = NonBlank(max=1000)
    contractor = NonBlank(max=120)
    location = ma.fields.String(validate=ma.validate.Length(max=120), metadata={"description": "e.g. 3 号楼 1 单元电梯"})
    spent_on = ma.fields.Date(required=True)
    street_office_reference = NonBlank(max=120, metadata={"description": "the street office's confirmation number"})
    street_office_confirmed_on = ma.fields.Date(required=True)
    photo_ids = ma.fields.List(ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=2**31 - 1)),
                               validate=ma.validate.Length(max=20))


class SpendingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    amount_fen = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True)
    contractor = ma.fields.String(required=True)
    location = ma.fields.String(allow_none=True)
    spent_on = ma.fields.Date(required=True)
    street_office_reference = ma.fields.String(required=True)
    street_office_confirmed_on = ma.fields.Date(required=True)
    photo_ids = ma.fields.List(ma.fields.Integer(), required=True)
    recorded_by = ma.fields.Integer(required=True)
    recorder_role = ma.fields.String(required=True)
    created_at = UTCDateTime(required=True)


@blp.route("/communities/<int:cid>/emergency-spending", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(SpendingArgs)
@blp.response(201, SpendingSchema)
def record(args, cid):
    """Record an emergency payment from the maintenance fund (committee or property staff)."""
    return service.record(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/emergency-spending", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(SpendingSchema, "EmergencySpendingPage"))
def records(args, cid):
    """The community's emergency fund spending, newest first."""
    return service.list_records(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/emergency-spending/<int:rid>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, SpendingSchema)
def one(cid, rid):
    """One emergency spending record."""
    return service.get_record(current_user(), cid, rid)
