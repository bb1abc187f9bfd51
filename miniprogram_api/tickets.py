"""Tickets: complaints, repair requests and suggestions, their workflow, replies and statistics."""
import re
from datetime import date, datetime, time, timedelta, timezone

import marshmallow as ma
from flask import Response

from backend.models.ticket import TICKET_CATEGORIES, TICKET_CHANNELS, TICKET_STATUSES, TICKET_SUBJECTS
from backend.security import current_user
from backend.services import ticket_stats as stats_service
from backend.services import tickets as service
from miniprogram_api.common import BEARER, Derived, NonBlank, PageArgs, Schema, UTCDateTime, blueprint, page_schema
from miniprogram_api.media import MediaSchema

blp = blueprint("tickets", "Complaints, repair requests and suggestions")


@blp.before_request
def _authenticate():
    # 401 before the body or the query is validated: anonymous callers learn nothing about the API
    current_user()


ID = ma.validate.Range(min=1, max=2**31 - 1)


def PhotoIds():
    return ma.fields.List(ma.fields.Integer(validate=ID), load_default=list,
                          validate=ma.validate.Length(max=service.MAX_PHOTOS),
                          metadata={"description": "ids from POST /api/v1/media, uploaded by the caller; at most 9"})


def _photos(attached_type):
    return Derived(ma.fields.List(ma.fields.Nested(MediaSchema)), lambda obj: service.photos_of(attached_type, obj))


class TicketArgs(Schema):
    category = ma.fields.String(required=True, validate=ma.validate.OneOf(TICKET_CATEGORIES))
    subject = ma.fields.String(required=True, validate=ma.validate.OneOf(TICKET_SUBJECTS))
    description = NonBlank(max=2000)
    location = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=255),
                                metadata={"description": "a common area (free text), or a detail inside part_id; "
                                                         "required when part_id is absent"})
    part_id = ma.fields.Integer(allow_none=True, validate=ID, metadata={"description": "any part of the community"})
    photo_ids = PhotoIds()


class TicketListArgs(PageArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(TICKET_STATUSES))
    subject = ma.fields.String(validate=ma.validate.OneOf(TICKET_SUBJECTS))
    category = ma.fields.String(validate=ma.validate.OneOf(TICKET_CATEGORIES))
    assignee_id = ma.fields.Integer(validate=ID)
    overdue = ma.fields.Boolean(metadata={"description": "past the accept or the subject's resolution deadline"})
    escalated = ma.fields.Boolean()
    mine = ma.fields.Boolean(load_default=False, metadata={"description": "only the tickets I filed"})
    building = ma.fields.String(validate=ma.validate.Length(min=1, max=32),
                                metadata={"description": "tickets about a part of this building"})
    sort = ma.fields.String(load_default="newest", validate=ma.validate.OneOf(service.SORTS),
                            metadata={"description": "newest (default) or due: open tickets by deadline first"})
    channel = ma.fields.String(validate=ma.validate.OneOf(TICKET_CHANNELS))
    after = ma.fields.Integer(validate=ID, metadata={"description": "the id of the last ticket of the previous "
                                                                   "page: keyset paging (page is then ignored)"})


class TransitionArgs(Schema):
    to = ma.fields.String(required=True, validate=ma.validate.OneOf(TICKET_STATUSES))
    rating = ma.fields.Integer(allow_none=True, validate=ma.validate.Range(min=1, max=5),
                               metadata={"description": "1–5, required with to=confirmed"})
    reason = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=500),
                              metadata={"description": "required with to=reopened (only then)"})
    comment = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=2000),
                               metadata={"description": "what was done (required with to=resolved), "
                                                        "the rating comment (to=confirmed), or a note"})
    photo_ids = PhotoIds()


class AssignArgs(Schema):
    assignee_id = ma.fields.Integer(required=True, allow_none=True, validate=ID,
                                    metadata={"description": "a property_staff member of the community; "
                                                             "null unassigns"})


class ReplyArgs(Schema):
    body = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    photo_ids = PhotoIds()


class TicketEventSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    action = ma.fields.String(required=True, metadata={"enum": ["submitted", "transition", "assigned", "escalated",
                                                                "validated", "invalidated"]})
    actor_id = ma.fields.Integer(allow_none=True, metadata={"description": "null for the system (scheduled jobs)"})
    actor_role = ma.fields.String(required=True)
    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String(allow_none=True)
    assignee_id = ma.fields.Integer(allow_none=True)
    rating = ma.fields.Integer(allow_none=True)
    note = ma.fields.String(allow_none=True)
    reply_id = ma.fields.Integer(allow_none=True)
    created_at = UTCDateTime(required=True)


class TicketReplySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    ticket_id = ma.fields.Integer(required=True)
    author_id = ma.fields.Integer(required=True)
    author_role = ma.fields.String(required=True, metadata={"enum": ["reporter", "property_staff", "regulator"]})
    body = ma.fields.String(required=True)
    photos = _photos("ticket_reply")
    created_at = UTCDateTime(required=True)


class TicketSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    community_id = ma.fields.Integer(required=True)
    reporter_id = ma.fields.Integer(required=True, allow_none=True,
                                    metadata={"description": "null: from a hotline or another outside channel"})
    channel = ma.fields.String(required=True, metadata={"enum": list(TICKET_CHANNELS)})
    external_id = ma.fields.String(allow_none=True, metadata={"description": "the hotline's order number"})
    category = ma.fields.String(required=True, metadata={"enum": list(TICKET_CATEGORIES)})
    subject = ma.fields.String(required=True, metadata={"enum": list(TICKET_SUBJECTS)})
    description = ma.fields.String(required=True)
    part_id = ma.fields.Integer(allow_none=True)
    part_label = Derived(ma.fields.String(allow_none=True), lambda t: t.part.label if t.part else None)
    location = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": list(TICKET_STATUSES)})
    assignee_id = ma.fields.Integer(allow_none=True)
    created_at = UTCDateTime(required=True)
    updated_at = UTCDateTime(required=True)
    accepted_at = UTCDateTime(allow_none=True)
    first_response_at = UTCDateTime(allow_none=True)
    resolved_at = UTCDateTime(allow_none=True)
    confirmed_at = UTCDateTime(allow_none=True)
    auto_confirmed = ma.fields.Boolean(required=True)
    reopen_count = ma.fields.Integer(required=True)
    rating = ma.fields.Integer(allow_none=True)
    rating_comment = ma.fields.String(allow_none=True)
    escalated_at = UTCDateTime(allow_none=True)
    escalation_reason = ma.fields.String(allow_none=True, metadata={"enum": ["not_accepted", "not_resolved"]})
    invalid_at = UTCDateTime(allow_none=True, metadata={"description": "a regulator ruled the complaint invalid"})
    invalid_reason = ma.fields.String(allow_none=True)
    due_at = Derived(UTCDateTime(), service.due_at,
                     metadata={"description": "resolution deadline (submission + the subject's hours)"})
    overdue = Derived(ma.fields.Boolean(), service.is_overdue)
    photos = _photos("ticket")


class TicketDetailSchema(TicketSchema):
    """A ticket with its timeline: events (every change) and replies, oldest first."""

    events = Derived(ma.fields.List(ma.fields.Nested(TicketEventSchema)), lambda t: service.events_of(t.id))
    replies = Derived(ma.fields.List(ma.fields.Nested(TicketReplySchema)), lambda t: service.replies_of(t.id))


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PeriodBound(UTCDateTime):
    """An ISO 8601 time with a zone, or a date: a whole day in China time (`to` then includes it)."""

    def __init__(self, end=False, **kwargs):
        super().__init__(**kwargs)
        self.end = end

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and _DATE.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ma.ValidationError("日期无效") from None
            start = datetime.combine(day + timedelta(days=1) if self.end else day, time(), service.CHINA)
            return start.astimezone(timezone.utc)
        return super()._deserialize(value, attr, data, **kwargs)


class StatsArgs(Schema):
    date_from = PeriodBound(data_key="from", metadata={"description": "inclusive; default: 30 days before `to`"})
    date_to = PeriodBound(end=True, data_key="to", metadata={"description": "exclusive (a date: that whole day "
                                                                           "included); default: now"})
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(("json", "csv")))


def _ratio(name, part, whole):
    return type(name, (ma.Schema,), {
        part: ma.fields.Integer(required=True), whole: ma.fields.Integer(required=True),
        "rate": ma.fields.Float(allow_none=True, metadata={"description": "fraction, 4 decimals; null if 0 of 0"}),
    })


ResolutionRatio = _ratio("ResolutionRatio", "resolved", "total")


class FirstResponseSchema(ma.Schema):
    responded = ma.fields.Integer(required=True)
    waiting = ma.fields.Integer(required=True, metadata={"description": "not yet accepted nor answered by staff"})
    median_seconds = ma.fields.Integer(allow_none=True)
    p90_seconds = ma.fields.Integer(allow_none=True)
    method = ma.fields.String(required=True)


class ResolutionSchema(ma.Schema):
    all = ma.fields.Nested(ResolutionRatio, required=True)
    complaints = ma.fields.Nested(ResolutionRatio, required=True)


class HotSpotSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    community_name = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    week = ma.fields.String(required=True, metadata={"description": "ISO week in China time, e.g. 2026-W09"})
    complaints = ma.fields.Integer(required=True)


class TicketStatsSchema(ma.Schema):
    community_id = ma.fields.Integer(required=True)
    community_name = ma.fields.String(required=True)
    date_from = UTCDateTime(required=True, attribute="from", data_key="from")
    date_to = UTCDateTime(required=True, attribute="to", data_key="to")
    total = ma.fields.Integer(required=True)
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    by_subject = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    by_category = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    by_channel = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True,
                                metadata={"description": "miniprogram, 12345, other: every channel counts"})
    first_response = ma.fields.Nested(FirstResponseSchema, required=True)
    resolution = ma.fields.Nested(ResolutionSchema, required=True)
    satisfaction = ma.fields.Nested(_ratio("SatisfactionRatio", "satisfied", "rated"), required=True)
    reopen = ma.fields.Nested(_ratio("ReopenRatio", "reopened", "resolved"), required=True)
    escalated = ma.fields.Integer(required=True)
    hot_spots = ma.fields.List(ma.fields.Nested(HotSpotSchema), required=True)


class TicketCountsSchema(ma.Schema):
    """Tickets per status under the list's other filters, and the overdue ones (the inbox's tabs)."""

    submitted = ma.fields.Integer(required=True)
    accepted = ma.fields.Integer(required=True)
    in_progress = ma.fields.Integer(required=True)
    resolved = ma.fields.Integer(required=True)
    confirmed = ma.fields.Integer(required=True)
    reopened = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)


class TicketPage(page_schema(TicketSchema, "TicketPageBase")):
    counts = ma.fields.Nested(TicketCountsSchema, required=True)


@blp.route("/communities/<int:cid>/tickets", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(TicketArgs)
@blp.response(201, TicketDetailSchema)
def file_ticket(args, cid):
    """File a complaint, repair request or suggestion with up to 9 uploaded photos (any role in the community)."""
    return service.file_ticket(current_user(), cid, **args)


@blp.route("/communities/<int:cid>/tickets", methods=["GET"])
@blp.doc(security=BEARER)
@blp.arguments(TicketListArgs, location="query")
@blp.response(200, TicketPage)
def list_tickets(args, cid):
    """Staff and committee: every ticket of the community; regulators: the escalated ones; residents: their own."""
    return service.list_tickets(current_user(), cid, **args)


@blp.route("/tickets/<int:tid>", methods=["GET"])
@blp.doc(security=BEARER)
@blp.response(200, TicketDetailSchema)
def get_ticket(tid):
    """One ticket with its timeline (events and replies)."""
    return service.get_ticket(current_user(), tid)


@blp.route("/tickets/<int:tid>/transitions", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(TransitionArgs)
@blp.response(200, TicketDetailSchema)
def transition(args, tid):
    """Move the ticket along the workflow: staff accept, start, resolve (with comment and photos); the
    reporter confirms (rating 1–5) or reopens (reason, within 7 days of resolution)."""
    return service.transition(current_user(), tid, **args)


@blp.route("/tickets/<int:tid>/assign", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(AssignArgs)
@blp.response(200, TicketDetailSchema)
def assign(args, tid):
    """Give the ticket to a property staff member of its community (property staff)."""
    return service.assign(current_user(), tid, **args)


@blp.route("/tickets/<int:tid>/replies", methods=["POST"])
@blp.doc(security=BEARER)
@blp.arguments(ReplyArgs)
@blp.response(201, TicketReplySchema)
def reply(args, tid):
    """A message with photos: the reporter, the community's staff, or the street office once escalated."""
    return service.add_reply(current_user(), tid, **args)


# Documented by hand: flask-smorest's @response describes one content type, this route has two.
STATS_RESPONSES = {"200": {"description": "OK", "content": {
    "application/json": {"schema": TicketStatsSchema},
    "text/csv": {"schema": {"type": "string", "description": "format=csv: the same figures, UTF-8 with a BOM"}},
}}}


@blp.route("/communities/<int:cid>/ticket-stats", methods=["GET"])
@blp.doc(security=BEARER, responses=STATS_RESPONSES)
@blp.arguments(StatsArgs, location="query")
@blp.response(200, TicketStatsSchema)
def ticket_stats(args, cid):
    """Figures over tickets submitted in [from, to) for staff, committee and regulators (format=csv for Excel)."""
    fmt = args.pop("format")
    stats = stats_service.community_stats(current_user(), cid, **args)
    if fmt == "csv":
        return Response(stats_service.to_csv(stats), content_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="ticket-stats-{cid}.csv"'})
    return stats
