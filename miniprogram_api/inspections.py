"""The "421" routine: inspections and their measures, the companies' answers, circulated notices,
the monthly 4-2-1 report (docs/district.md "Inspections")."""
import re

import marshmallow as ma
from flask import Response

from backend.models.inspection import INSPECTION_KINDS, MEASURE_LEVELS, MEASURE_STATUSES
from backend.security import current_user
from backend.services import inspections as service
from miniprogram_api.common import BEARER, Derived, NonBlank, Schema, UTCDateTime, blueprint
from miniprogram_api.keyset import ID, KeysetArgs, keyset_schema
from miniprogram_api.media import MediaSchema

blp = blueprint("inspections", "Inspections, graded measures, circulated notices and the 4-2-1 routine")


@blp.before_request
def _authenticate():
    current_user()


def PhotoIds():
    return ma.fields.List(ma.fields.Integer(validate=ID), load_default=list,
                          validate=ma.validate.Length(max=service.MAX_PHOTOS))


class ItemArgs(Schema):
    code = NonBlank(max=40)
    title = NonBlank(max=200)
    passed = ma.fields.Boolean(required=True)
    points = ma.fields.Integer(required=True, validate=ma.validate.Range(min=0, max=service.MAX_POINTS),
                               metadata={"description": "whole points lost when the item fails"})
    note = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500))


class MeasureArgs(Schema):
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(MEASURE_LEVELS))
    description = NonBlank(max=2000)
    due_on = ma.fields.Date(required=True, metadata={"description": "the last day (China) to comply"})
    addressee = ma.fields.String(load_default="property", validate=ma.validate.OneOf(("property", "lift")),
                                 metadata={"description": "the property company or the lift contractor serving then"})


class InspectionArgs(Schema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(INSPECTION_KINDS))
    inspected_on = ma.fields.Date(required=True)
    items = ma.fields.List(ma.fields.Nested(ItemArgs), required=True,
                           validate=ma.validate.Length(min=1, max=service.MAX_ITEMS))
    findings = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    measures = ma.fields.List(ma.fields.Nested(MeasureArgs), load_default=list, validate=ma.validate.Length(max=20))
    photo_ids = PhotoIds()
    focus_id = ma.fields.Integer(allow_none=True, load_default=None, validate=ID,
                                 metadata={"description": "the focus inspection of the weekly roll-up this answers"})


class ItemSchema(ma.Schema):
    code = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    passed = ma.fields.Boolean(required=True)
    points = ma.fields.Integer(required=True)
    note = ma.fields.String(allow_none=True)


class MeasureSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    inspection_id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    organisation_id = ma.fields.Integer(allow_none=True)
    level = ma.fields.String(required=True, metadata={"enum": list(MEASURE_LEVELS)})
    level_label = Derived(ma.fields.String(), lambda m: service.LEVEL_LABELS[m.level])
    description = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(MEASURE_STATUSES)})
    issued_at = UTCDateTime(required=True)
    due_at = UTCDateTime(required=True)
    closed_at = UTCDateTime(allow_none=True)
    overdue_at = UTCDateTime(allow_none=True, metadata={"description": "marked overdue by measures-escalate"})
    escalated_to_id = ma.fields.Integer(allow_none=True)
    previous_id = ma.fields.Integer(allow_none=True)


class ResponseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": ["answer", "accepted", "rejected"]})
    author_id = ma.fields.Integer(required=True)
    body = ma.fields.String(required=True)
    photos = Derived(ma.fields.List(ma.fields.Nested(MediaSchema)),
                     lambda r: service.media.attached_to("measure_response", r.id))
    created_at = UTCDateTime(required=True)


class MeasureDetailSchema(MeasureSchema):
    responses = Derived(ma.fields.List(ma.fields.Nested(ResponseSchema)), lambda m: service.responses_of(m.id))


class InspectionSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    street_id = ma.fields.Integer(allow_none=True)
    organisation_id = ma.fields.Integer(allow_none=True, metadata={"description": "the company serving that day"})
    kind = ma.fields.String(required=True, metadata={"enum": list(INSPECTION_KINDS)})
    inspected_on = ma.fields.Date(required=True)
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True)
    points_lost = ma.fields.Integer(required=True)
    findings = ma.fields.String(required=True)
    focus_id = ma.fields.Integer(allow_none=True)
    inspector_id = ma.fields.Integer(required=True)
    created_at = UTCDateTime(required=True)


class InspectionDetailSchema(InspectionSchema):
    measures = Derived(ma.fields.List(ma.fields.Nested(MeasureSchema)), lambda i: service.measures_of(i.id))
    photos = Derived(ma.fields.List(ma.fields.Nested(MediaSchema)), lambda i: service.media.attached_to("inspection", i.id))


class MeasureListArgs(KeysetArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(MEASURE_STATUSES))


class AnswerArgs(Schema):
    body = NonBlank(max=5000)
    photo_ids = PhotoIds()


class MeasureReviewArgs(Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("accept", "reject")))
    comment = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class CircularArgs(Schema):
    title = NonBlank(max=200)
    body = NonBlank(max=10000)
    issued_on = ma.fields.Date(required=True)
    inspection_ids = ma.fields.List(ma.fields.Integer(validate=ID), load_default=list,
                                    validate=ma.validate.Length(max=200))


class CircularSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    street_id = ma.fields.Integer(allow_none=True)
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    issued_on = ma.fields.Date(required=True)
    inspection_ids = ma.fields.List(ma.fields.Integer(), required=True)
    author_id = ma.fields.Integer(required=True)
    created_at = UTCDateTime(required=True)


class ProgressArgs(Schema):
    month = ma.fields.String(required=True, validate=ma.validate.Regexp(re.compile(r"^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$")),
                             metadata={"description": "YYYY-MM"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(("json", "csv")))


class StreetProgress(ma.Schema):
    street_id = ma.fields.Integer(required=True)
    street_name = ma.fields.String(required=True)
    communities = ma.fields.Integer(required=True)
    inspections = ma.fields.Integer(required=True)
    circulars = ma.fields.Integer(required=True)
    reviews = ma.fields.Integer(required=True)
    complete = ma.fields.Boolean(required=True)


class ProgressSchema(ma.Schema):
    month = ma.fields.String(required=True)
    targets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    streets = ma.fields.List(ma.fields.Nested(StreetProgress), required=True)


@blp.route("/communities/<int:cid>/inspections", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(InspectionArgs)
@blp.response(201, InspectionDetailSchema)
def record_inspection(args, cid):
    """Record an inspection or on-site review with its checklist, photos and graded measures (regulators)."""
    return service.record_inspection(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/inspections", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(KeysetArgs, location="query")
@blp.response(200, keyset_schema(InspectionSchema, "InspectionPage"))
def list_inspections(args, cid):
    """A compound's inspections, newest first (regulators, property staff, committee)."""
    return service.list_inspections(current_user(), cid, **args)


@blp.route("/inspections/<int:iid>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, InspectionDetailSchema)
def get_inspection(iid):
    """One inspection with its measures and photos."""
    return service.get_inspection(current_user(), iid)


@blp.route("/communities/<int:cid>/measures", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(MeasureListArgs, location="query")
@blp.response(200, keyset_schema(MeasureSchema, "MeasurePage"))
def list_measures(args, cid):
    """A compound's graded measures, newest first."""
    return service.list_measures(current_user(), cid, **args)


@blp.route("/measures/<int:mid>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, MeasureDetailSchema)
def get_measure(mid):
    """One measure with the company's answers and the regulator's reviews."""
    return service.get_measure(current_user(), mid)


@blp.route("/measures/<int:mid>/answers", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(AnswerArgs)
@blp.response(200, MeasureDetailSchema)
def answer_measure(args, mid):
    """The company answers a measure with what it did and evidence photos (property staff)."""
    return service.answer_measure(current_user(), mid, **args)


@blp.route("/measures/<int:mid>/review", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(MeasureReviewArgs)
@blp.response(200, MeasureDetailSchema)
def review_measure(args, mid):
    """Accept the company's answer (the measure is closed) or send it back (regulators)."""
    return service.review_measure(current_user(), mid, **args)


@blp.route("/streets/<int:sid>/circulars", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(CircularArgs)
@blp.response(201, CircularSchema)
def publish_circular(args, sid):
    """Circulate a notice (通报) about the street's inspections (street regulators)."""
    return service.publish_circular(current_user(), sid, **args)


@blp.route("/streets/<int:sid>/circulars", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(KeysetArgs, location="query")
@blp.response(200, keyset_schema(CircularSchema, "CircularPage"))
def list_circulars(args, sid):
    """A street's circulated notices, newest first."""
    return service.list_circulars(current_user(), sid, **args)


PROGRESS_RESPONSES = {"200": {"description": "OK", "content": {
    "application/json": {"schema": ProgressSchema},
    "text/csv": {"schema": {"type": "string", "description": "format=csv: the same report, UTF-8 with a BOM"}},
}}}


@blp.route("/inspection-progress", methods=["GET"])
@blp.doc(security=BEARER, responses=PROGRESS_RESPONSES)
@blp.arguments(ProgressArgs, location="query")
@blp.response(200, ProgressSchema)
def inspection_progress(args):
    """The month's 4-2-1 completion (4 inspections, 2 circulars, 1 review) of each street in scope (format=csv)."""
    report = service.progress(current_user(), args["month"])
    if args["format"] == "csv":
        return Response(service.progress_csv(report), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="inspections-421-{args["month"]}.csv"'})
    return report
