"""The regulator's dashboard of a street (issue 15, docs/district.md): what is open in its compounds
now — tickets, overdue and escalated ones, this week's complaints by channel, focus inspections to
do, measures open and overdue, disputes by level — and this month's 4-2-1 progress. A handful of
grouped statements over the street's compounds (docs/scale.md)."""
from collections import Counter, defaultdict
from datetime import timedelta

from backend.extensions import db
from backend.models import Community, Dispute, FocusInspection, Measure, Ticket
from backend.models.base import utcnow
from backend.security import require_street
from backend.services import inspections
from backend.services.organisations import get_street
from backend.services.tickets import CHINA, OPEN_STATUSES, _overdue_clause


def street_dashboard(user, street_id, now=None):
    """The street's figures now, overall and per compound (its regulators, the district)."""
    now = now or utcnow()
    street = get_street(street_id)
    require_street(user, street_id)
    in_street = db.select(Community.id).where(Community.street_id == street_id)
    names = dict(db.session.execute(db.select(Community.id, Community.name).where(Community.street_id == street_id)).all())
    local = now.astimezone(CHINA)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    per = defaultdict(Counter)
    open_rows = db.session.execute(
        db.select(Ticket.community_id, _overdue_clause(now).label("overdue"), Ticket.escalated_at.is_not(None).label("esc"),
                  db.func.count().label("n"))
        .where(Ticket.community_id.in_(in_street), Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.community_id, "overdue", "esc")).all()
    for row in open_rows:
        per[row.community_id]["open_tickets"] += row.n
        per[row.community_id]["overdue_tickets"] += row.n if row.overdue else 0
        per[row.community_id]["escalated_open"] += row.n if row.esc else 0
    by_channel = Counter()
    for row in db.session.execute(
            db.select(Ticket.community_id, Ticket.channel, db.func.count().label("n"))
            .where(Ticket.community_id.in_(in_street), Ticket.category == "complaint", Ticket.created_at >= monday)
            .group_by(Ticket.community_id, Ticket.channel)):
        per[row.community_id]["complaints_this_week"] += row.n
        by_channel[row.channel] += row.n
    for row in db.session.execute(
            db.select(Measure.community_id, (Measure.due_at <= now).label("late"), db.func.count().label("n"))
            .where(Measure.community_id.in_(in_street), Measure.status != "closed")
            .group_by(Measure.community_id, "late")):
        per[row.community_id]["open_measures"] += row.n
        per[row.community_id]["overdue_measures"] += row.n if row.late else 0
    disputes = Counter()
    for row in db.session.execute(
            db.select(Dispute.community_id, Dispute.level, db.func.count().label("n"))
            .where(Dispute.community_id.in_(in_street), Dispute.status == "open")
            .group_by(Dispute.community_id, Dispute.level)):
        per[row.community_id]["open_disputes"] += row.n
        disputes[str(row.level)] += row.n
    focus = db.session.execute(db.select(FocusInspection).where(
        FocusInspection.community_id.in_(in_street), FocusInspection.done.is_(False))
        .order_by(FocusInspection.week.desc(), FocusInspection.community_id).limit(100)).scalars().all()
    keys = ("open_tickets", "overdue_tickets", "escalated_open", "complaints_this_week", "open_measures",
            "overdue_measures", "open_disputes")
    totals = {k: sum(c[k] for c in per.values()) for k in keys}
    month = local.strftime("%Y-%m")
    routine = next(s for s in inspections.progress_for([street], month)["streets"])
    return {
        "street": street, "as_of": now, "communities": len(names), "totals": totals,
        "complaints_this_week_by_channel": dict(sorted(by_channel.items())),
        "disputes_by_level": {str(level): disputes[str(level)] for level in (1, 2, 3, 4)},
        "focus_pending": [{"id": f.id, "week": f.week, "community_id": f.community_id,
                           "community_name": names.get(f.community_id, ""), "complaints": f.complaints} for f in focus],
        "routine": {"month": month, **routine},
        "compounds": [{"community_id": cid, "community_name": names[cid], **{k: per[cid][k] for k in keys}}
                      for cid in sorted(names, key=lambda c: (-per[c]["overdue_tickets"], -per[c]["open_tickets"], c))
                      if any(per[cid][k] for k in keys)][:100],
    }



