"""Tickets (docs/tickets.md): filing, the one workflow guard, replies, assignment, the
timeline, and the two scheduled jobs (escalation of overdue tickets, auto-confirmation).

Every function that changes something takes `now` (default: the clock) so that tests and the
commands can run on a controlled clock. Every decision is in docs/tickets.md.
"""
from datetime import timedelta, timezone

from flask import current_app
from sqlalchemy import and_, or_, tuple_

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Membership, Part, Ticket, TicketEvent, TicketReply
from backend.models.base import utcnow
from backend.models.ticket import TICKET_CATEGORIES, TICKET_STATUSES, TICKET_SUBJECTS
from backend.security import regulators_of, require_community, roles_in
from backend.services import media, outbox

# Roles on a ticket: community roles, plus `reporter` for whoever filed it, plus `system` for commands.
REPORTER, STAFF, COMMITTEE, REGULATOR, SYSTEM = "reporter", "property_staff", "committee", "regulator", "system"

# The workflow (docs/tickets.md) — THE guard: (from, to) → who may make the move. Nothing else changes a status.
TRANSITIONS = {
    ("submitted", "accepted"): {STAFF},
    ("accepted", "in_progress"): {STAFF},
    ("in_progress", "resolved"): {STAFF},
    ("resolved", "confirmed"): {REPORTER, SYSTEM},
    ("resolved", "reopened"): {REPORTER},
    ("reopened", "in_progress"): {STAFF},
}
# Not yet resolved: these count against the deadlines and may be escalated.
OPEN_STATUSES = ("submitted", "accepted", "in_progress", "reopened")
MAX_PHOTOS = 9

SUBJECT_LABELS = {
    "elevator": "电梯", "parking": "停车", "sanitation": "环境卫生", "security": "安全", "greenery": "绿化",
    "illegal_construction": "违章搭建", "fire_lane": "消防通道", "pets": "宠物", "noise": "噪声",
    "utilities": "水电", "other": "其他",
}
STATUS_LABELS = {
    "submitted": "已提交", "accepted": "已受理", "in_progress": "处理中", "resolved": "已解决",
    "confirmed": "已确认", "reopened": "已重新打开",
}
CATEGORY_LABELS = {"repair": "报修", "complaint": "投诉", "suggestion": "建议"}
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991


# ---------------------------------------------------------------- deadlines


def accept_hours():
    """Hours a ticket may wait for acceptance before it is escalated."""
    return current_app.config["TICKET_ACCEPT_HOURS"]


def resolution_hours():
    """Hours from submission to resolution, per subject (config TICKET_RESOLUTION_HOURS)."""
    return current_app.config["TICKET_RESOLUTION_HOURS"]


def confirm_days():
    """Days after resolution in which the resident may reopen; also the silence before auto-confirm."""
    return current_app.config["TICKET_CONFIRM_DAYS"]


def due_at(ticket):
    """When the ticket must be resolved (submission + the subject's deadline)."""
    return ticket.created_at + timedelta(hours=resolution_hours()[ticket.subject])


def _accept_late(ticket, now):
    return ticket.status == "submitted" and ticket.created_at + timedelta(hours=accept_hours()) <= now


def is_overdue(ticket, now=None):
    """Not accepted within the accept deadline, or not resolved by due_at."""
    now = now or utcnow()
    return ticket.status in OPEN_STATUSES and (_accept_late(ticket, now) or due_at(ticket) <= now)


def _overdue_clause(now):
    """is_overdue as SQL (the same rule, for filters and the escalation job)."""
    per_subject = [and_(Ticket.subject == subject, Ticket.created_at <= now - timedelta(hours=hours))
                   for subject, hours in resolution_hours().items()]
    return or_(
        and_(Ticket.status == "submitted", Ticket.created_at <= now - timedelta(hours=accept_hours())),
        and_(Ticket.status.in_(OPEN_STATUSES), or_(*per_subject)),
    )


# ---------------------------------------------------------------- who sees what


def roles_on(user, ticket):
    """The caller's roles that matter for one ticket."""
    roles = roles_in(user, ticket.community_id) & {STAFF, COMMITTEE, REGULATOR}
    if user.id == ticket.reporter_id:
        roles.add(REPORTER)
    return roles


def can_view(user, ticket, roles=None):
    """The reporter, the community's staff and committee, platform admins, and the community's
    regulators once the ticket is escalated or when it came from outside the mini-program (a hotline
    order reaches the company through the street office)."""
    if user.is_platform_admin:
        return True
    roles = roles_on(user, ticket) if roles is None else roles
    return bool(roles & {REPORTER, STAFF, COMMITTEE}) or (
        REGULATOR in roles and (ticket.escalated_at is not None or ticket.channel != "miniprogram"))


def _load(user, ticket_id, lock=False):
    query = db.select(Ticket).filter_by(id=ticket_id)
    if lock:
        query = query.with_for_update(of=Ticket)  # one change at a time per ticket (PostgreSQL)
    ticket = db.session.execute(query).scalar_one_or_none()
    roles = roles_on(user, ticket) if ticket else set()
    # A ticket the caller may not see does not exist for them (no probing of other communities).
    if ticket is None or not can_view(user, ticket, roles):
        raise NotFound("ticket_not_found", "工单不存在")
    return ticket, roles


def get_ticket(user, ticket_id):
    """One ticket with its timeline, if the caller may see it."""
    return _load(user, ticket_id)[0]


def events_of(ticket_id):
    """The append-only history of a ticket, oldest first."""
    return db.session.execute(
        db.select(TicketEvent).filter_by(ticket_id=ticket_id).order_by(TicketEvent.id)
    ).scalars().all()


def replies_of(ticket_id):
    """The replies on a ticket, oldest first."""
    return db.session.execute(
        db.select(TicketReply).filter_by(ticket_id=ticket_id).order_by(TicketReply.id)
    ).scalars().all()


def photos_of(attached_type, obj):
    """The photos attached to a ticket ("ticket") or a reply ("ticket_reply"): those a list loaded for
    its whole page (`list_tickets`), else read now."""
    preloaded = obj.__dict__.get("preloaded_photos")
    return preloaded if preloaded is not None else media.attached_to(attached_type, obj.id)


def _may_see_photos(user, attached_type, attached_id):
    model = Ticket if attached_type == "ticket" else TicketReply
    row = db.session.get(model, attached_id)
    if row is None:
        return False
    ticket = row if attached_type == "ticket" else db.session.get(Ticket, row.ticket_id)
    return can_view(user, ticket)


# Photos of a ticket and of its replies are visible to whoever may see the ticket (can_view).
media.register_visibility("ticket", lambda user, attached_id: _may_see_photos(user, "ticket", attached_id))
media.register_visibility("ticket_reply", lambda user, attached_id: _may_see_photos(user, "ticket_reply", attached_id))


# ---------------------------------------------------------------- helpers


def _attach(user, photo_ids, community_id, attached_type, attached_id):
    if not photo_ids:
        return []
    if len(photo_ids) > MAX_PHOTOS:
        raise Invalid({"photo_ids": [f"最多 {MAX_PHOTOS} 张照片"]})
    return media.attach(user, list(photo_ids), community_id, attached_type, attached_id, field="photo_ids")


def _event(ticket, actor, actor_role, action, now, **fields):
    db.session.add(TicketEvent(ticket_id=ticket.id, community_id=ticket.community_id,
                               actor_id=actor.id if actor else None, actor_role=actor_role, action=action,
                               created_at=now, **fields))


def _new_reply(ticket, author, author_role, body, photo_ids, now):
    reply = TicketReply(ticket_id=ticket.id, community_id=ticket.community_id, author_id=author.id,
                        author_role=author_role, body=body or "", created_at=now)
    db.session.add(reply)
    db.session.flush()
    _attach(author, photo_ids, ticket.community_id, "ticket_reply", reply.id)
    return reply


def _members(community_id, role):
    return db.session.execute(
        db.select(Membership.user_id).filter_by(community_id=community_id, role=role)
    ).scalars().all()


def _handlers(ticket):
    """Who answers for the property company: the assignee, else every staff member."""
    return [ticket.assignee_id] if ticket.assignee_id else _members(ticket.community_id, STAFF)


def _notify(user_ids, ticket, event, now, skip=None):
    local = now.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    data = {"ticket": f"#{ticket.id} {SUBJECT_LABELS[ticket.subject]}", "status": STATUS_LABELS[ticket.status],
            "time": local}
    for user_id in sorted(set(user_ids) - {skip, None}):
        outbox.enqueue(user_id, ticket.community_id, event, data, page=f"pages/tickets/detail?id={ticket.id}")


def _text(value):
    return (value or "").strip()


# ---------------------------------------------------------------- use cases


def file_ticket(user, community_id, category, subject, description, location=None, part_id=None,
                photo_ids=(), now=None):
    """A resident (anyone with a role in the community) files a ticket; staff are notified."""
    now = now or utcnow()
    require_community(user, community_id)
    fields = {}
    if category not in TICKET_CATEGORIES:
        fields["category"] = [f"须为 {', '.join(TICKET_CATEGORIES)} 之一"]
    if subject not in TICKET_SUBJECTS:
        fields["subject"] = [f"须为 {', '.join(TICKET_SUBJECTS)} 之一"]
    if not _text(description):
        fields["description"] = ["不能为空"]
    if part_id is not None:
        part = db.session.get(Part, part_id)
        if part is None or part.community_id != community_id or part.removed_at is not None:
            fields["part_id"] = ["本小区没有这个房屋"]
    elif not _text(location):
        fields["location"] = ["请选择房屋或填写公共区域位置"]
    if len(photo_ids or ()) > MAX_PHOTOS:
        fields["photo_ids"] = [f"最多 {MAX_PHOTOS} 张照片"]
    if fields:
        raise Invalid(fields)
    ticket = Ticket(community_id=community_id, reporter_id=user.id, category=category, subject=subject,
                    description=_text(description), part_id=part_id, location=_text(location) or None,
                    status="submitted", created_at=now, updated_at=now, last_activity_at=now)
    db.session.add(ticket)
    db.session.flush()
    _attach(user, photo_ids, community_id, "ticket", ticket.id)
    _event(ticket, user, REPORTER, "submitted", now, to_status="submitted")
    _notify(_members(community_id, STAFF), ticket, "ticket_submitted", now, skip=user.id)
    db.session.commit()
    return ticket


def _due_order():
    """due_at in SQL, for ordering only: submission + the subject's hours (the inbox's sort)."""
    from sqlalchemy import case, func, literal

    hours = case(*[(Ticket.subject == subject, literal(h)) for subject, h in resolution_hours().items()], else_=0)
    if db.session.get_bind().dialect.name == "sqlite":
        # stored as naive UTC text; julianday() is the cheapest of SQLite's date functions (days)
        return func.julianday(Ticket.created_at) + hours / 24.0
    return Ticket.created_at + func.make_interval(0, 0, 0, 0, hours)


SORTS = ("newest", "due")


def list_tickets(user, community_id, status=None, subject=None, category=None, assignee_id=None,
                 overdue=None, escalated=None, mine=False, channel=None, building=None, sort="newest", page=1,
                 per_page=20, after=None, now=None):
    """Staff, committee and admins see every ticket of the community; regulators the escalated
    ones (and those from outside the mini-program); everyone else their own. Newest first, or
    `sort=due`: open tickets by their deadline, then the rest. `after` (the id of the last ticket of
    the previous newest-first page) pages by keyset instead of `page`: a deep page then costs what the
    first does (docs/scale.md). `counts` gives, for the same filters but the status, the tickets per
    status and the overdue ones (the inbox's tabs) — one grouped query, which also gives the total."""
    from sqlalchemy import case, func

    from backend.pagination import MAX_PER_PAGE

    now = now or utcnow()
    require_community(user, community_id)
    query = db.select(Ticket).filter_by(community_id=community_id)
    roles = roles_in(user, community_id)
    if not (user.is_platform_admin or roles & {STAFF, COMMITTEE}):
        visible = [Ticket.reporter_id == user.id]
        if REGULATOR in roles:
            visible += [Ticket.escalated_at.is_not(None), Ticket.channel != "miniprogram"]
        query = query.where(or_(*visible))
    if mine:
        query = query.filter_by(reporter_id=user.id)
    for column, value in (("subject", subject), ("category", category), ("assignee_id", assignee_id),
                          ("channel", channel)):
        if value is not None:
            query = query.filter_by(**{column: value})
    if building is not None:
        query = query.where(Ticket.part_id.in_(
            db.select(Part.id).filter_by(community_id=community_id, building=building)))
    if escalated is not None:
        query = query.where(Ticket.escalated_at.is_not(None) if escalated else Ticket.escalated_at.is_(None))
    late = _overdue_clause(now)
    # per status: every ticket under the other filters, and the overdue ones among them
    sub = query.with_only_columns(Ticket.status, case((late, 1), else_=0).label("late")).order_by(None).subquery()
    grouped = {status_: (n, n_late) for status_, n, n_late in db.session.execute(
        db.select(sub.c.status, func.count(), func.coalesce(func.sum(sub.c.late), 0)).group_by(sub.c.status)).all()}
    counts = {}
    for code in TICKET_STATUSES:
        n, n_late = grouped.get(code, (0, 0))
        counts[code] = n if overdue is None else (n_late if overdue else n - n_late)
    counts["overdue"] = sum(int(grouped.get(code, (0, 0))[1]) for code in TICKET_STATUSES
                            if status is None or code == status)
    counts = {k: int(v) for k, v in counts.items()}
    if overdue is not None:
        query = query.where(late if overdue else ~late)
    if status is not None:
        query = query.filter_by(status=status)
    page = max(int(page or 1), 1)
    per_page = min(max(int(per_page or 20), 1), MAX_PER_PAGE)
    if after is not None:
        if sort != "newest":
            raise Invalid({"after": ["按截止时间排序时请用 page 翻页"]})
        cursor = db.session.execute(db.select(Ticket.created_at, Ticket.id).filter_by(
            id=after, community_id=community_id)).first()
        if cursor is None:
            raise Invalid({"after": ["本小区没有这个工单"]})
        query = query.where(tuple_(Ticket.created_at, Ticket.id) < tuple_(cursor.created_at, cursor.id))
        page = 1
    if sort == "due":
        order = (case((Ticket.status.in_(OPEN_STATUSES), 0), else_=1), _due_order(), Ticket.id)
    else:
        order = (Ticket.created_at.desc(), Ticket.id.desc())
    items = db.session.execute(query.order_by(*order).limit(per_page).offset((page - 1) * per_page)).scalars().all()
    photos = media.attached_to_each("ticket", [ticket.id for ticket in items])
    for ticket in items:
        ticket.preloaded_photos = photos[ticket.id]  # the page's photos in one statement, not one per ticket
    total = counts[status] if status is not None else sum(counts[code] for code in TICKET_STATUSES)
    return {"items": items, "page": page, "per_page": per_page, "total": total, "counts": counts}


def check_transition(ticket, to, roles):
    """The workflow guard: 409 if the move does not exist from this status, 403 if it is not the
    caller's to make. Returns the role the move is made in."""
    allowed = TRANSITIONS.get((ticket.status, to))
    if allowed is not None and REPORTER in allowed and ticket.reporter_id is None:
        # No user filed it (a hotline order): the regulator, who hears the caller back, stands in
        # for the reporter (docs/district.md "Hotline tickets").
        allowed = allowed | {REGULATOR}
    if allowed is None:
        raise Conflict("invalid_transition",
                       f"工单当前为“{STATUS_LABELS[ticket.status]}”，不能变为“{STATUS_LABELS.get(to, to)}”",
                       details={"from": ticket.status, "to": to})
    acting = sorted(allowed & set(roles))
    if not acting:
        raise Forbidden("transition_forbidden", "您无权进行此操作", details={"from": ticket.status, "to": to})
    if to == "confirmed" and STAFF in roles and SYSTEM not in roles:
        # Nobody rates their own work: property staff who filed a ticket of their own community would
        # confirm and rate what their company did (docs/tickets.md); it auto-confirms unrated instead.
        raise Forbidden("own_work", "物业人员不能确认和评价本小区物业处理的工单，工单将在期满后自动确认",
                        details={"from": ticket.status, "to": to})
    return acting[0]


def transition(user, ticket_id, to, rating=None, reason=None, comment=None, photo_ids=(), now=None):
    """Move a ticket along the workflow (docs/tickets.md). Resolving needs a `comment` (sent as a reply, with
    photos); reopening a `reason` (within the confirm window); confirming a 1–5 `rating`."""
    now = now or utcnow()
    ticket, roles = _load(user, ticket_id, lock=True)
    if to not in TICKET_STATUSES:
        raise Invalid({"to": [f"须为 {', '.join(TICKET_STATUSES)} 之一"]})
    role = check_transition(ticket, to, roles)
    fields = {}
    if to == "reopened":
        if not _text(reason):
            fields["reason"] = ["重新打开须说明原因"]
    elif reason is not None:
        fields["reason"] = ["仅在重新打开时填写，其他情况请用 comment"]
    if to == "confirmed" and rating is None:
        fields["rating"] = ["确认时请评分（1–5）"]
    if to != "confirmed" and rating is not None:
        fields["rating"] = ["仅在确认时评分"]
    if rating is not None and not (isinstance(rating, int) and 1 <= rating <= 5):
        fields["rating"] = ["评分须为 1–5"]
    if to == "resolved" and not _text(comment):
        fields["comment"] = ["请填写处理结果"]
    if photo_ids and to not in ("resolved", "reopened"):
        fields["photo_ids"] = ["照片请在回复中上传"]
    if fields:
        raise Invalid(fields)
    if to == "reopened" and now > ticket.resolved_at + timedelta(days=confirm_days()):
        raise Conflict("reopen_window_closed", f"工单解决已超过 {confirm_days()} 天，不能重新打开，请新建工单")
    _apply(ticket, to, user, role, now, rating=rating, note=_text(reason if to == "reopened" else comment) or None,
           photo_ids=photo_ids)
    db.session.commit()
    return ticket


def _apply(ticket, to, actor, role, now, rating=None, note=None, photo_ids=()):
    """Make a guarded move: status, timestamps, the event row, the message and the notifications."""
    from_status = ticket.status
    # Resolving and reopening speak to the other side: the text (and photos) go out as a reply.
    reply = _new_reply(ticket, actor, role, note, photo_ids, now) if to in ("resolved", "reopened") else None
    ticket.status, ticket.updated_at, ticket.last_activity_at = to, now, now
    if to == "accepted":
        ticket.accepted_at = now
        ticket.first_response_at = ticket.first_response_at or now
        ticket.assignee_id = ticket.assignee_id or actor.id  # whoever accepts owns it until reassigned
    elif to == "resolved":
        ticket.resolved_at = now
    elif to == "reopened":
        ticket.reopen_count += 1
    elif to == "confirmed":
        ticket.confirmed_at, ticket.rating, ticket.auto_confirmed = now, rating, actor is None
        ticket.rating_comment = note
    _event(ticket, actor, role, "transition", now, from_status=from_status, to_status=to, rating=rating,
           note=note, reply_id=reply.id if reply else None)
    actor_id = actor.id if actor else None
    _notify([ticket.reporter_id], ticket, "ticket_status", now, skip=actor_id)
    if role == REPORTER and to == "reopened":
        _notify(_handlers(ticket), ticket, "ticket_reopened", now, skip=actor_id)


def assign(user, ticket_id, assignee_id, now=None):
    """Property staff give the ticket to a staff member of the same community (None: unassign)."""
    now = now or utcnow()
    ticket, roles = _load(user, ticket_id, lock=True)
    if STAFF not in roles:
        raise Forbidden("assign_forbidden", "仅物业人员可以指派工单")
    if ticket.status == "confirmed":
        raise Conflict("ticket_closed", "工单已确认关闭，如有新问题请新建工单")
    if assignee_id is not None and assignee_id not in _members(ticket.community_id, STAFF):
        raise Invalid({"assignee_id": ["须为本小区的物业人员"]})
    ticket.assignee_id, ticket.updated_at = assignee_id, now
    _event(ticket, user, STAFF, "assigned", now, assignee_id=assignee_id)
    if assignee_id is not None:
        _notify([assignee_id], ticket, "ticket_assigned", now, skip=user.id)
    db.session.commit()
    return ticket


def add_reply(user, ticket_id, body="", photo_ids=(), now=None):
    """A message on an open ticket from its reporter, the community's staff, or (once escalated)
    the street office. The first staff reply counts as the first response."""
    now = now or utcnow()
    ticket, roles = _load(user, ticket_id, lock=True)
    role = next((r for r in (REPORTER, STAFF, REGULATOR) if r in roles), None)
    if role == REPORTER and ticket.reporter_id is None:
        role = REGULATOR
    if role is None:
        raise Forbidden("reply_forbidden", "您无权回复此工单")
    if ticket.status == "confirmed":
        raise Conflict("ticket_closed", "工单已确认关闭，如有新问题请新建工单")
    if not _text(body) and not photo_ids:
        raise Invalid({"body": ["请填写内容或附上照片"]})
    reply = _new_reply(ticket, user, role, _text(body), photo_ids, now)
    ticket.updated_at = ticket.last_activity_at = now
    if role == STAFF:
        ticket.first_response_at = ticket.first_response_at or now
    else:
        _notify(_handlers(ticket), ticket, "ticket_reply", now, skip=user.id)
    if role != REPORTER:
        _notify([ticket.reporter_id], ticket, "ticket_reply", now, skip=user.id)
    db.session.commit()
    return reply


# ---------------------------------------------------------------- scheduled jobs


def auto_confirm(now=None):
    """Confirm (unrated) resolved tickets the resident left silent for TICKET_CONFIRM_DAYS after
    resolution: no reply or transition in that time. Returns the ticket ids."""
    now = now or utcnow()
    cutoff = now - timedelta(days=confirm_days())
    due = db.session.execute(
        db.select(Ticket)
        .where(Ticket.status == "resolved", Ticket.resolved_at <= cutoff, Ticket.last_activity_at <= cutoff)
        .order_by(Ticket.id)
        .with_for_update(of=Ticket, skip_locked=True)
    ).scalars().all()
    for ticket in due:
        _apply(ticket, "confirmed", None, check_transition(ticket, "confirmed", {SYSTEM}), now)
    db.session.commit()
    return [t.id for t in due]


def escalate_overdue(now=None):
    """Mark tickets not accepted within TICKET_ACCEPT_HOURS or not resolved within their subject's
    deadline as escalated to the street office; notify staff and regulators. Once per ticket."""
    now = now or utcnow()
    due = db.session.execute(
        db.select(Ticket)
        .where(Ticket.escalated_at.is_(None), _overdue_clause(now))
        .order_by(Ticket.id)
        .with_for_update(of=Ticket, skip_locked=True)
    ).scalars().all()
    for ticket in due:
        ticket.escalated_at = now
        ticket.escalation_reason = "not_accepted" if _accept_late(ticket, now) else "not_resolved"
        _event(ticket, None, SYSTEM, "escalated", now, note=ticket.escalation_reason)
        watchers = _members(ticket.community_id, STAFF) + regulators_of(ticket.community_id)
        _notify(watchers, ticket, "ticket_escalated", now)
    db.session.commit()
    return [t.id for t in due]

