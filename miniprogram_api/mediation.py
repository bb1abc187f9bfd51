"""The mediation ladder: disputes and the records of their four levels (docs/district.md)."""
import marshmallow as ma

from backend.models.mediation import DISPUTE_STATUSES
from backend.security import current_user
from backend.services import mediation as service
from miniprogram_api.common import BEARER, Derived, NonBlank, Schema, UTCDateTime, blueprint
from miniprogram_api.keyset import ID, KeysetArgs, keyset_schema

blp = blueprint("mediation", "Disputes and the four-level mediation ladder")


@blp.before_request
def _authenticate():
    current_user()


class DisputeArgs(Schema):
    title = NonBlank(max=200)
    description = NonBlank(max=5000)
    ticket_id = ma.fields.Integer(allow_none=True, load_default=None, validate=ID)


class RecordArgs(Schema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(service.OUTCOMES))
    note = NonBlank(max=5000)
    agreement_media_id = ma.fields.Integer(allow_none=True, load_default=None, validate=ID,
                                           metadata={"description": "the signed agreement (PDF or photo); "
                                                                    "required with outcome=settled"})


class TakeUpArgs(Schema):
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class DisputeListArgs(KeysetArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(DISPUTE_STATUSES))


class OpenDisputeArgs(KeysetArgs):
    level = ma.fields.Integer(validate=ma.validate.Range(min=1, max=4))


class RecordSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    level = ma.fields.Integer(required=True)
    action = ma.fields.String(required=True, metadata={"enum": ["filed", "session", "settled", "failed", "taken_up"]})
    actor_id = ma.fields.Integer(required=True)
    actor_role = ma.fields.String(required=True)
    outcome = ma.fields.String(required=True)
    agreement_media_id = ma.fields.Integer(allow_none=True)
    created_at = UTCDateTime(required=True)


class DisputeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    ticket_id = ma.fields.Integer(allow_none=True)
    filed_by = ma.fields.Integer(required=True)
    filer_role = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    level = ma.fields.Integer(required=True, metadata={"description": "1 committee, 2 community mediation "
                                                                      "committee, 3 street joint meeting, 4 district centre"})
    level_body = Derived(ma.fields.String(), lambda d: service.LEVEL_BODIES[d.level])
    status = ma.fields.String(required=True, metadata={"enum": list(DISPUTE_STATUSES)})
    level_started_at = UTCDateTime(required=True)
    level_deadline = Derived(UTCDateTime(), service.deadline,
                             metadata={"description": "after this the next level may take it up"})
    level_failed_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime(required=True)
    closed_at = UTCDateTime(allow_none=True)


class DisputeDetailSchema(DisputeSchema):
    records = Derived(ma.fields.List(ma.fields.Nested(RecordSchema)), lambda d: service.records_of(d.id))


@blp.route("/communities/<int:cid>/disputes", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(DisputeArgs)
@blp.response(201, DisputeDetailSchema)
def file_dispute(args, cid):
    """File a dispute at level 1 (an owner, the committee, or a ticket's reporter from that ticket)."""
    return service.file_dispute(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/disputes", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(DisputeListArgs, location="query")
@blp.response(200, keyset_schema(DisputeSchema, "DisputePage"))
def list_disputes(args, cid):
    """A community's disputes, newest first (committee, staff, mediators, regulators; others their own)."""
    return service.list_disputes(current_user(), cid, **args)


@blp.route("/disputes/<int:did>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, DisputeDetailSchema)
def get_dispute(did):
    """One dispute with the record of every level."""
    return service.get_dispute(current_user(), did)


@blp.route("/disputes/<int:did>/records", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(RecordArgs)
@blp.response(201, DisputeDetailSchema)
def record_mediation(args, did):
    """The current level's body records a session, a settlement (with the agreement) or a failure."""
    return service.record_step(current_user(), did, **args)


@blp.route("/disputes/<int:did>/take-up", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(TakeUpArgs)
@blp.response(200, DisputeDetailSchema)
def take_up_dispute(args, did):
    """Move the dispute to the next level once this level's time is out or it failed."""
    return service.take_up(current_user(), did, **args)


@blp.route("/regulator/disputes", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(OpenDisputeArgs, location="query")
@blp.response(200, keyset_schema(DisputeSchema, "OpenDisputePage"))
def list_open_disputes(args):
    """Every open dispute in the regulator's scope, oldest first."""
    return service.open_in_scope(current_user(), **args)
