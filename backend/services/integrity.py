"""The integrity score (诚信分, issue 15): one formula per organisation per quarter, documented with a
worked example in docs/integrity.md. Every figure is an integer and carries the ids of the records it
was counted from, so that the breakdown can be checked record by record.

Scores are hundredths of a point (0 … 10000 = 0.00 … 100.00). Each component earns
⌊max × numerator / denominator⌋ hundredths (full marks when there is nothing to count); a lift
contractor has no disclosures component and its score is ⌊Σ earned × 10000 / Σ max⌋.
"""
import re
from collections import defaultdict
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app

from backend.extensions import db
from backend.models import Community, Inspection, Measure, Organisation, PublishedVersion, ServiceContract, Ticket
from backend.models.disclosure import DISCLOSURE_KINDS, REVENUE_KIND
from backend.services.tickets import CHINA
from voting.canonical import format_time

FORMULA = "linli-integrity/1"
# (component, maximum in hundredths of a point); they add up to 10000.
COMPONENTS = (("resolution", 3000), ("first_response", 1000), ("resolution_time", 1000), ("satisfaction", 1500),
              ("reopen", 500), ("inspections", 1500), ("measures", 500), ("disclosures", 1000))
MAX = dict(COMPONENTS)
TARGET_BP = 9500  # the district's target: 95 % of valid complaints resolved
LIFT_PREFIX = "lift"  # checklist items about lifts: codes lift, lift.*, lift_*
QUARTER = re.compile(r"(19[7-9]\d|[2-9]\d{3})-Q([1-4])\Z")
DONE = ("resolved", "confirmed")


# ---------------------------------------------------------------- periods


def quarter_of(moment):
    """'2026-Q4': the quarter (China time) a UTC time falls in."""
    local = moment.astimezone(CHINA)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def quarter_days(label):
    """(first day, first day of the next quarter) of '2026-Q4', China dates."""
    match = QUARTER.match(label or "")
    if not match:
        raise ValueError(label)
    year, q = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * q - 2, 1)
    return start, date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)


def previous_quarter(label):
    """The quarter before '2026-Q1' is '2025-Q4'."""
    start, _ = quarter_days(label)
    return quarter_of(datetime.combine(start - timedelta(days=1), time(12), CHINA))


def midnight(day):
    """00:00 China time of a date, as UTC."""
    return datetime.combine(day, time(), CHINA).astimezone(timezone.utc)


# ---------------------------------------------------------------- the formula


def share(maximum, numerator, denominator):
    """⌊maximum × numerator / denominator⌋, full marks when there is nothing to count."""
    return maximum if denominator == 0 else maximum * numerator // denominator


def component_points(code, figures):
    """The hundredths a component earns from its figures (docs/integrity.md)."""
    m = MAX[code]
    if code == "resolution":  # full marks at the 95 % target, proportionally below it
        n, d = figures["resolved"], figures["complaints"]
        return m if d == 0 else min(m, m * n * 10000 // (d * TARGET_BP))
    if code == "first_response":
        return share(m, figures["in_time"], figures["tickets"])
    if code == "resolution_time":
        return share(m, figures["in_time"], figures["tickets"])
    if code == "satisfaction":
        return share(m, figures["satisfied"], figures["rated"])
    if code == "reopen":
        return share(m, figures["resolved"] - figures["reopened"], figures["resolved"])
    if code == "inspections":  # one point (100 hundredths) per point lost per inspection on average
        return m if figures["inspections"] == 0 else max(0, m - 100 * figures["points_lost"] // figures["inspections"])
    if code == "measures":  # one point per measure overdue
        return max(0, m - 100 * figures["overdue"])
    if code == "disclosures":
        return share(m, figures["kept"], figures["due"])
    raise KeyError(code)


def total(components):
    """The score: Σ earned when every component applies, else scaled to 10000."""
    earned = sum(c["earned"] for c in components)
    maximum = sum(c["max"] for c in components)
    return earned if maximum == 10000 else earned * 10000 // maximum


# ---------------------------------------------------------------- the records


def _windows(contracts, start, end):
    """{community_id: [(from, to, contract)]}: the UTC spans of [start, end) each contract covers."""
    spans = defaultdict(list)
    for c in contracts:
        lo, hi = max(c.starts_on, start), min(c.ends_on or end, end)
        if lo < hi:
            spans[c.community_id].append((midnight(lo), midnight(hi), c))
    return spans


def tickets_by_contract(contracts, start, end, subject=None):
    """{contract id: [ticket rows]} for tickets submitted in the span each contract covers. One
    statement over the quarter for all the contracts' compounds (the assessment of every company
    reads the quarter's tickets once)."""
    spans = _windows(contracts, start, end)
    found = defaultdict(list)
    if not spans:
        return found
    query = (db.select(Ticket.id, Ticket.community_id, Ticket.category, Ticket.subject, Ticket.status,
                       Ticket.created_at, Ticket.first_response_at, Ticket.resolved_at, Ticket.rating,
                       Ticket.reopen_count, Ticket.invalid_at)
             .where(Ticket.created_at >= midnight(start), Ticket.created_at < midnight(end)).order_by(Ticket.id))
    if len(spans) < 200:
        query = query.where(Ticket.community_id.in_(sorted(spans)))
    if subject:
        query = query.where(Ticket.subject == subject)
    for row in db.session.execute(query):
        for lo, hi, contract in spans.get(row.community_id, ()):
            if lo <= row.created_at < hi:
                found[contract.id].append(row)
    return found


def ticket_figures(rows, as_of):
    """The five ticket components' figures over rows, with the ids behind each count."""
    accept = timedelta(hours=current_app.config["TICKET_ACCEPT_HOURS"])
    hours = current_app.config["TICKET_RESOLUTION_HOURS"]
    complaints = [r for r in rows if r.category == "complaint" and (r.invalid_at is None or r.invalid_at > as_of)]
    ids = lambda items: sorted(r.id for r in items)  # noqa: E731
    responded = [r for r in rows if r.first_response_at is not None and r.first_response_at <= r.created_at + accept]
    on_time = [r for r in rows if r.status in DONE and r.resolved_at is not None
               and r.resolved_at <= r.created_at + timedelta(hours=hours[r.subject])]
    rated = [r for r in rows if r.rating is not None]
    resolved_ever = [r for r in rows if r.resolved_at is not None]
    return {
        "resolution": {"complaints": len(complaints), "resolved": sum(r.status in DONE for r in complaints),
                       "records": {"complaints": ids(complaints),
                                   "resolved": ids(r for r in complaints if r.status in DONE)}},
        "first_response": {"tickets": len(rows), "in_time": len(responded),
                           "records": {"tickets": ids(rows), "in_time": ids(responded)}},
        "resolution_time": {"tickets": len(rows), "in_time": len(on_time), "records": {"in_time": ids(on_time)}},
        "satisfaction": {"rated": len(rated), "satisfied": sum(r.rating >= 4 for r in rated),
                         "records": {"rated": ids(rated), "satisfied": ids(r for r in rated if r.rating >= 4)}},
        "reopen": {"resolved": len(resolved_ever), "reopened": sum(r.reopen_count > 0 for r in resolved_ever),
                   "records": {"resolved": ids(resolved_ever),
                               "reopened": ids(r for r in resolved_ever if r.reopen_count > 0)}},
    }


def inspection_figures(organisation, contracts, start, end):
    """Points lost in the inspections of the organisation's compounds during its service (a lift
    contractor: only the lift items)."""
    lift = organisation.kind == "lift_contractor"
    rows = []
    for c in contracts:
        lo, hi = max(c.starts_on, start), min(c.ends_on or end, end)
        if lo < hi:
            rows += db.session.execute(db.select(Inspection.id, Inspection.items, Inspection.points_lost).where(
                Inspection.community_id == c.community_id, Inspection.inspected_on >= lo,
                Inspection.inspected_on < hi)).all()
    lost = {}
    for row in rows:
        lost[row.id] = (sum(i["points"] for i in row.items if not i["passed"] and i["code"].startswith(LIFT_PREFIX))
                        if lift else row.points_lost)
    return {"inspections": len(lost), "points_lost": sum(lost.values()),
            "records": {"inspections": sorted(lost), "points_lost": {str(k): v for k, v in sorted(lost.items()) if v}}}


def measure_figures(organisation_id, start, end, as_of):
    """Measures addressed to the organisation, due in the quarter, not closed by their due time."""
    rows = db.session.execute(db.select(Measure.id, Measure.due_at, Measure.closed_at).where(
        Measure.organisation_id == organisation_id, Measure.due_at >= midnight(start), Measure.due_at < midnight(end),
        Measure.due_at <= as_of)).all()
    overdue = sorted(r.id for r in rows if r.closed_at is None or r.closed_at > r.due_at)
    return {"due": len(rows), "overdue": len(overdue),
            "records": {"due": sorted(r.id for r in rows), "overdue": overdue}}


def revenue_deadline(end):
    """(half-year, deadline) of the last revenue statement due by the quarter's end: each half-year's
    statement is due within a month of its end (H1 by 31 July, H2 by 31 January)."""
    last = end - timedelta(days=1)
    if last >= date(last.year, 8, 1):
        return f"{last.year}-H1", date(last.year, 8, 1)
    if last >= date(last.year, 2, 1):
        return f"{last.year - 1}-H2", date(last.year, 2, 1)
    return f"{last.year - 1}-H1", date(last.year - 1, 8, 1)


def disclosure_figures(contracts, end):
    """For each compound served on the quarter's last day: the five disclosures published by then,
    and the due revenue statement published by its deadline (6 checks per compound)."""
    last = end - timedelta(days=1)
    compounds = sorted({c.community_id for c in contracts if c.starts_on <= last and (c.ends_on is None or c.ends_on > last)})
    period, deadline = revenue_deadline(end)
    checks = []
    for cid in compounds:
        first = dict(db.session.execute(
            db.select(PublishedVersion.kind, db.func.min(PublishedVersion.id))
            .where(PublishedVersion.community_id == cid, PublishedVersion.kind.in_(DISCLOSURE_KINDS),
                   PublishedVersion.published_at < midnight(end)).group_by(PublishedVersion.kind)).all())
        checks += [{"community_id": cid, "kind": kind, "version_id": first.get(kind)} for kind in DISCLOSURE_KINDS]
        revenue = db.session.execute(db.select(db.func.min(PublishedVersion.id)).where(
            PublishedVersion.community_id == cid, PublishedVersion.kind == REVENUE_KIND,
            PublishedVersion.series == period, PublishedVersion.published_at < midnight(deadline))).scalar()
        checks.append({"community_id": cid, "kind": f"{REVENUE_KIND}:{period}", "version_id": revenue})
    return {"due": len(checks), "kept": sum(c["version_id"] is not None for c in checks), "records": {"checks": checks}}


# ---------------------------------------------------------------- one organisation, one quarter


def compute(organisation, contracts, period, as_of, tickets=None):
    """The score content of an organisation (or of a project manager's contracts) for a quarter, as
    the records stand at `as_of` (figures, components, the records behind them)."""
    start, end = quarter_days(period)
    lift = organisation.kind == "lift_contractor"
    if tickets is None:
        found = tickets_by_contract(contracts, start, end, subject="elevator" if lift else None)
        tickets = [row for c in contracts for row in found.get(c.id, ())]
    if lift:
        tickets = [row for row in tickets if row.subject == "elevator"]
    figures = ticket_figures(tickets, as_of)
    figures["inspections"] = inspection_figures(organisation, contracts, start, end)
    figures["measures"] = measure_figures(organisation.id, start, end, as_of)
    if not lift:
        figures["disclosures"] = disclosure_figures(contracts, end)
    components = []
    for code, maximum in COMPONENTS:
        if code in figures:
            counts = {k: v for k, v in figures[code].items() if k != "records"}
            components.append({"code": code, "max": maximum, "earned": component_points(code, counts),
                               "figures": counts, "records": figures[code]["records"]})
    names = dict(db.session.execute(db.select(Community.id, Community.name).where(
        Community.id.in_(sorted({c.community_id for c in contracts})))).all()) if contracts else {}
    return {
        "formula": FORMULA, "period": period, "from": start.isoformat(), "to": end.isoformat(),
        "as_of": format_time(as_of.replace(microsecond=0)),
        "organisation": {"id": organisation.id, "kind": organisation.kind, "name": organisation.name,
                         "uscc": organisation.uscc},
        "compounds": [{"community_id": c.community_id, "community_name": names.get(c.community_id, ""),
                       "contract_id": c.id, "from": max(c.starts_on, start).isoformat(),
                       "to": min(c.ends_on or end, end).isoformat()} for c in contracts],
        "components": components,
        "score": total(components),
    }


def organisation_contracts(organisation, start, end, manager_id=None):
    """The organisation's contracts of its own service running in [start, end)."""
    service = "lift" if organisation.kind == "lift_contractor" else "property"
    query = db.select(ServiceContract).where(
        ServiceContract.service == service, ServiceContract.starts_on < end,
        db.or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on > start))
    query = query.where(ServiceContract.manager_id == manager_id) if manager_id is not None \
        else query.where(ServiceContract.organisation_id == organisation.id)
    return db.session.execute(query.order_by(ServiceContract.id)).scalars().all()


def score_of(organisation_id, period, as_of):
    """compute() for one organisation by id (None when it served no compound in the quarter)."""
    organisation = db.session.get(Organisation, organisation_id)
    start, end = quarter_days(period)
    contracts = organisation_contracts(organisation, start, end)
    return compute(organisation, contracts, period, as_of) if contracts else None
