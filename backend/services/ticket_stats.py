"""Ticket figures over a period (docs/tickets.md "Statistics": "first-response time, resolution rate, satisfaction,
and communities with two or more complaints in a week") and their CSV export.

Definitions (also in docs/tickets.md). The cohort is the tickets *submitted* in [from, to); each
figure is taken over the cohort as it stands now.
- first response: first accept or first staff reply minus submission, in whole seconds; median and
  p90 by the nearest-rank method (the ⌈p/100·n⌉-th smallest value; the median of an even count is
  the lower middle value); tickets not yet answered are counted in `waiting`, not in the figures.
- resolution rate: tickets now resolved or confirmed / tickets in the cohort; for all categories
  and for complaints alone (the district's ≥ 95 % target is about complaints).
- satisfaction: rated tickets with a rating ≥ 4 / rated tickets (auto-confirmed tickets carry no
  rating and are left out).
- reopen rate: tickets reopened at least once / tickets resolved at least once.
- hot spots: (community, subject, ISO week in Asia/Shanghai time) with two or more complaints of the
  cohort; for a regulator across every community they regulate, otherwise this community only.
- every channel counts (the mini-program, the 12345 hotline, others); `by_channel` splits the cohort.
Rates are fractions rounded to 4 decimals, null when the denominator is 0.
"""
import csv
import io
import math
from collections import Counter
from datetime import timedelta

from backend.errors import Invalid
from backend.extensions import db
from backend.models import Community, Ticket
from backend.models.base import utcnow
from backend.models.ticket import TICKET_CATEGORIES, TICKET_CHANNELS, TICKET_STATUSES, TICKET_SUBJECTS
from backend.security import regulated_communities, require_community, roles_in
from backend.services.tickets import CATEGORY_LABELS, CHINA, STATUS_LABELS, SUBJECT_LABELS

READERS = ("property_staff", "committee", "regulator")
CHANNEL_LABELS = {"miniprogram": "小程序", "12345": "12345 热线", "other": "其他渠道"}
DEFAULT_DAYS = 30
HOT_SPOT_MIN = 2


def nearest_rank(sorted_values, percent):
    """The nearest-rank percentile of an ascending list (None for an empty list)."""
    if not sorted_values:
        return None
    return sorted_values[max(math.ceil(percent * len(sorted_values) / 100), 1) - 1]


def iso_week(moment):
    """'2026-W09': the ISO week of a UTC time, taken in China time."""
    year, week, _ = moment.astimezone(CHINA).isocalendar()
    return f"{year}-W{week:02d}"


def _rate(part, whole):
    return round(part / whole, 4) if whole else None


def _ratio(part, whole, part_name, whole_name):
    return {part_name: part, whole_name: whole, "rate": _rate(part, whole)}


def community_stats(user, community_id, date_from=None, date_to=None, now=None):
    """The figures of one community's tickets submitted in [date_from, date_to) (default: the last
    30 days) for its staff, committee and regulators."""
    community = require_community(user, community_id, *READERS)
    end = date_to or now or utcnow()
    start = date_from or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise Invalid({"from": ["开始时间须早于结束时间"]})
    rows = db.session.execute(
        db.select(Ticket.category, Ticket.subject, Ticket.status, Ticket.channel, Ticket.created_at, Ticket.first_response_at,
                  Ticket.resolved_at, Ticket.rating, Ticket.reopen_count, Ticket.escalated_at)
        .where(Ticket.community_id == community_id, Ticket.created_at >= start, Ticket.created_at < end)
    ).all()
    done = ("resolved", "confirmed")
    complaints = [r for r in rows if r.category == "complaint"]
    response = sorted(int((r.first_response_at - r.created_at).total_seconds())
                      for r in rows if r.first_response_at is not None)
    rated = [r.rating for r in rows if r.rating is not None]
    resolved_ever = [r for r in rows if r.resolved_at is not None]
    return {
        "community_id": community.id,
        "community_name": community.name,
        "from": start,
        "to": end,
        "total": len(rows),
        "by_status": _counts(TICKET_STATUSES, (r.status for r in rows)),
        "by_subject": _counts(TICKET_SUBJECTS, (r.subject for r in rows)),
        "by_category": _counts(TICKET_CATEGORIES, (r.category for r in rows)),
        "by_channel": _counts(TICKET_CHANNELS, (r.channel for r in rows)),
        "first_response": {"responded": len(response), "waiting": len(rows) - len(response),
                           "median_seconds": nearest_rank(response, 50), "p90_seconds": nearest_rank(response, 90),
                           "method": "nearest-rank"},
        "resolution": {
            "all": _ratio(sum(r.status in done for r in rows), len(rows), "resolved", "total"),
            "complaints": _ratio(sum(r.status in done for r in complaints), len(complaints), "resolved", "total"),
        },
        "satisfaction": _ratio(sum(r >= 4 for r in rated), len(rated), "satisfied", "rated"),
        "reopen": _ratio(sum(r.reopen_count > 0 for r in resolved_ever), len(resolved_ever), "reopened", "resolved"),
        "escalated": sum(r.escalated_at is not None for r in rows),
        "hot_spots": hot_spots(_hot_spot_scope(user, community_id), start, end),
    }


def _counts(codes, values):
    counter = Counter(values)
    return {code: counter[code] for code in codes}


def _hot_spot_scope(user, community_id):
    """A regulator looks across every community they regulate (memberships and street or district
    scopes); everyone else at this one."""
    if user.is_platform_admin or "regulator" not in roles_in(user, community_id):
        return [community_id]
    return sorted(db.session.execute(regulated_communities(user)).scalars())


def hot_spots(community_ids, start, end):
    """(community, subject, ISO week) with HOT_SPOT_MIN or more complaints submitted in [start, end)."""
    rows = db.session.execute(
        db.select(Ticket.community_id, Ticket.subject, Ticket.created_at)
        .where(Ticket.community_id.in_(community_ids), Ticket.category == "complaint",
               Ticket.created_at >= start, Ticket.created_at < end)
    ).all()
    counts = Counter((r.community_id, r.subject, iso_week(r.created_at)) for r in rows)
    names = dict(db.session.execute(
        db.select(Community.id, Community.name).where(Community.id.in_(community_ids))).all())
    return [
        {"community_id": cid, "community_name": names[cid], "subject": subject, "week": week, "complaints": n}
        for (cid, subject, week), n in sorted(counts.items(), key=lambda item: (item[0][2], item[0][0], item[0][1]))
        if n >= HOT_SPOT_MIN
    ]


def to_csv(stats):
    """The figures as CSV text for Excel: UTF-8 with a byte-order mark, one figure per row."""
    rows = [("metric", "key", "value", "说明"),
            ("community", stats["community_id"], stats["community_name"], "小区"),
            ("period", "from", _iso(stats["from"]), "统计开始（含，UTC）"),
            ("period", "to", _iso(stats["to"]), "统计结束（不含，UTC）"),
            ("total", "", stats["total"], "期间提交的工单数")]
    for metric, labels, title in (("by_status", STATUS_LABELS, "状态"), ("by_subject", SUBJECT_LABELS, "类别"),
                                  ("by_category", CATEGORY_LABELS, "类型"), ("by_channel", CHANNEL_LABELS, "渠道")):
        rows += [(metric, code, n, f"{title}：{labels[code]}") for code, n in stats[metric].items()]
    fr = stats["first_response"]
    rows += [("first_response", "responded", fr["responded"], "已首次响应的工单数"),
             ("first_response", "waiting", fr["waiting"], "尚未响应的工单数"),
             ("first_response", "median_seconds", _blank(fr["median_seconds"]), "首次响应时间中位数（秒，最近秩法）"),
             ("first_response", "p90_seconds", _blank(fr["p90_seconds"]), "首次响应时间 90 分位（秒，最近秩法）")]
    for key, title in (("all", "全部工单"), ("complaints", "投诉")):
        r = stats["resolution"][key]
        rows += [(f"resolution_{key}", "resolved", r["resolved"], f"{title}：已解决或已确认"),
                 (f"resolution_{key}", "total", r["total"], f"{title}：总数"),
                 (f"resolution_{key}", "rate", _blank(r["rate"]), f"{title}：解决率")]
    s, o = stats["satisfaction"], stats["reopen"]
    rows += [("satisfaction", "satisfied", s["satisfied"], "评分 ≥ 4 的工单数"),
             ("satisfaction", "rated", s["rated"], "已评分的工单数"),
             ("satisfaction", "rate", _blank(s["rate"]), "满意率"),
             ("reopen", "reopened", o["reopened"], "曾被重新打开的工单数"),
             ("reopen", "resolved", o["resolved"], "曾被解决的工单数"),
             ("reopen", "rate", _blank(o["rate"]), "重新打开率"),
             ("escalated", "", stats["escalated"], "已上报街道办的工单数")]
    rows += [("hot_spot", f"{h['community_id']}/{h['subject']}/{h['week']}", h["complaints"],
              f"{h['community_name']} {SUBJECT_LABELS[h['subject']]} {h['week']} 投诉数")
             for h in stats["hot_spots"]]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return "\ufeff" + out.getvalue()


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _blank(value):
    return "" if value is None else value
