"""Integrity results (issue 15, docs/integrity.md): the quarterly assessment freezes each
organisation's score (and each project manager's credit) as a server-signed version, as disclosure
versions are signed; the year-end red and black lists likewise; the provisional score of the running
quarter; the public query (no login, nothing personal) and the regulators' breakdown."""
from collections import defaultdict

from backend import signing
from backend.errors import Invalid, NotFound
from backend.extensions import db
from backend.models import (Community, IntegrityResult, Measure, Organisation, ProjectManager, ProvisionalScore,
                            ServiceContract)
from backend.models.base import utcnow
from backend.models.district import ORGANISATION_KINDS
from backend.services import integrity
from backend.services.disclosures import content_sha256
from backend.services.organisations import get_organisation, require_regulator
from backend.services.tickets import CHINA
from voting.canonical import format_time

STATEMENT_TYPE = "linli-integrity/1"
# What a list or a summary needs of a result: never its content, which carries every record's id.
SUMMARY = (IntegrityResult.organisation_id, IntegrityResult.period, IntegrityResult.version, IntegrityResult.score,
           IntegrityResult.published_at)
RED, BLACK = 5, 3


# ---------------------------------------------------------------- signed versions


def statement(result):
    """The object the server signs for a result: no author and nothing personal, so that it may be
    shown to anyone."""
    return {"type": STATEMENT_TYPE, "kind": result.kind, "subject": result.subject, "period": result.period,
            "version": result.version, "score": result.score, "content_sha256": result.content_sha256,
            "previous_sha256": result.previous_sha256, "published_at": format_time(result.published_at),
            "note": result.note}


def signed_statement(result):
    """The statement with its signature (check with voting.keys.verify_object and the server key)."""
    return {**statement(result), "signature": result.signature}


def latest(kind, subject, period):
    """The newest version of a series, or None."""
    return db.session.execute(db.select(IntegrityResult).filter_by(kind=kind, subject=subject, period=period)
                              .order_by(IntegrityResult.version.desc()).limit(1)).scalar_one_or_none()


def publish(kind, subject, period, content, score, organisation_id=None, note=None, now=None):
    """Freeze content as the next signed version of its series; the same content as the current
    version publishes nothing (returns None)."""
    previous = latest(kind, subject, period)
    digest = content_sha256(content)
    if previous is not None and previous.content_sha256 == digest:
        return None
    result = IntegrityResult(kind=kind, subject=subject, organisation_id=organisation_id, period=period,
                             version=previous.version + 1 if previous else 1, score=score, content=content,
                             content_sha256=digest, previous_sha256=previous.content_sha256 if previous else None,
                             note=note, published_at=(now or utcnow()).replace(microsecond=0), signature="")
    result.signature = signing.sign(statement(result))["signature"]
    db.session.add(result)
    return result


# ---------------------------------------------------------------- the commands


def assess(now=None, revise=False, note=None):
    """The quarterly assessment: freeze the scores of the quarter before `now` (every organisation
    that served a compound in it, and every project manager's credit) — once: a result already
    frozen stays as it is unless `revise`, which publishes a new version where the figures changed —
    and refresh the provisional scores of the running quarter. Returns what it did."""
    now = now or utcnow()
    period = integrity.previous_quarter(integrity.quarter_of(now))
    done = {"period": period, "published": 0, "unchanged": 0, "managers": 0, "provisional": 0}
    start, end = integrity.quarter_days(period)
    organisations = db.session.execute(db.select(Organisation).order_by(Organisation.id)).scalars().all()
    frozen = {r for r in db.session.execute(db.select(IntegrityResult.subject).filter_by(period=period)).scalars()}
    contracts = db.session.execute(db.select(ServiceContract).where(
        ServiceContract.starts_on < end, db.or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on > start))
        .order_by(ServiceContract.id)).scalars().all()
    tickets = integrity.tickets_by_contract(contracts, start, end)
    by_org, by_manager = defaultdict(list), defaultdict(list)
    for c in contracts:
        by_org[c.organisation_id].append(c)
        if c.manager_id is not None:
            by_manager[c.manager_id].append(c)
    for organisation in organisations:
        subject = f"org:{organisation.id}"
        if not by_org.get(organisation.id) or (subject in frozen and not revise):
            continue
        content = integrity.compute(organisation, by_org[organisation.id], period, now,
                                    tickets=[r for c in by_org[organisation.id] for r in tickets.get(c.id, ())])
        published = publish("quarterly_score", subject, period, content, content["score"], organisation.id,
                            note=note if subject in frozen else None, now=now)
        done["published" if published else "unchanged"] += 1
    companies = {o.id: o for o in organisations}
    for manager_id, mine in sorted(by_manager.items()):
        subject = f"manager:{manager_id}"
        if subject in frozen and not revise:
            continue
        content = integrity.compute(companies[mine[0].organisation_id], mine, period, now,
                                    tickets=[r for c in mine for r in tickets.get(c.id, ())])
        content["manager_id"] = manager_id
        if publish("manager_credit", subject, period, content, content["score"], mine[0].organisation_id, now=now):
            done["managers"] += 1
    done["provisional"] = refresh_provisional(now, organisations)
    db.session.commit()
    return done


def refresh_provisional(now, organisations):
    """Recompute the running quarter's score of every organisation serving a compound in it."""
    period = integrity.quarter_of(now)
    start, end = integrity.quarter_days(period)
    contracts = db.session.execute(db.select(ServiceContract).where(
        ServiceContract.starts_on < end, db.or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on > start))
        .order_by(ServiceContract.id)).scalars().all()
    tickets = integrity.tickets_by_contract(contracts, start, end)
    by_org = defaultdict(list)
    for c in contracts:
        by_org[c.organisation_id].append(c)
    rows = {p.organisation_id: p for p in db.session.execute(
        db.select(ProvisionalScore).filter_by(period=period)).scalars()}
    for organisation in organisations:
        if not by_org.get(organisation.id):
            continue
        content = integrity.compute(organisation, by_org[organisation.id], period, now,
                                    tickets=[r for c in by_org[organisation.id] for r in tickets.get(c.id, ())])
        row = rows.get(organisation.id) or ProvisionalScore(organisation_id=organisation.id, period=period)
        row.score, row.content, row.computed_at = content["score"], content, now
        db.session.add(row)
    return len(by_org)


def year_lists(now=None, revise=False):
    """At year end: each kind's red list (top 5) and black list (bottom 3) by the year's score, the
    rounded mean of its frozen quarterly scores; ties at a boundary are all listed (docs/integrity.md).
    Once per year and kind unless `revise`. Returns {kind: result or None}."""
    now = now or utcnow()
    year = str(now.astimezone(CHINA).year - 1)
    published = {}
    for kind in ORGANISATION_KINDS:
        if latest("annual_lists", kind, year) is not None and not revise:
            published[kind] = None
            continue
        content = ranking(kind, year)
        published[kind] = publish("annual_lists", kind, year, content, None, now=now)
    db.session.commit()
    return published


def ranking(kind, year):
    """The year's ranking of one kind of organisation with its red and black lists."""
    rows = db.session.execute(
        db.select(IntegrityResult, Organisation).join(Organisation, Organisation.id == IntegrityResult.organisation_id)
        .where(IntegrityResult.kind == "quarterly_score", IntegrityResult.period.like(f"{year}-Q%"),
               Organisation.kind == kind).order_by(IntegrityResult.id)).all()
    newest = {}
    for result, organisation in rows:  # the latest version of each quarter counts
        newest[(organisation.id, result.period)] = (result, organisation)
    per_org = defaultdict(list)
    for (oid, _), (result, organisation) in sorted(newest.items()):
        per_org[oid].append((result, organisation))
    ranking = []
    for oid, results in per_org.items():
        scores = [r.score for r, _ in results]
        organisation = results[0][1]
        ranking.append({"organisation_id": oid, "name": organisation.name, "uscc": organisation.uscc,
                        "score": (2 * sum(scores) + len(scores)) // (2 * len(scores)),
                        "quarters": [{"period": r.period, "version": r.version, "score": r.score} for r, _ in results]})
    ranking.sort(key=lambda e: (-e["score"], e["organisation_id"]))
    red = _boundary(ranking, RED, top=True)
    black = [oid for oid in _boundary(ranking, BLACK, top=False) if oid not in red]
    return {"formula": integrity.FORMULA, "year": year, "kind": kind, "ranking": ranking, "red": red, "black": black}


def _boundary(ranking, size, top):
    """The ids of the `size` best (or worst) and of everyone tied with the last of them."""
    ordered = ranking if top else list(reversed(ranking))
    if len(ordered) <= size:
        return sorted(e["organisation_id"] for e in ordered)
    edge = ordered[size - 1]["score"]
    return sorted(e["organisation_id"] for e in ordered if (e["score"] >= edge if top else e["score"] <= edge))


# ---------------------------------------------------------------- reading


def breakdown(user, organisation_id, period, now=None):
    """The score of a quarter with every figure and the records behind it (regulators): the frozen
    version when there is one, else computed now."""
    require_regulator(user)
    get_organisation(organisation_id)
    _period(period)
    frozen = latest("quarterly_score", f"org:{organisation_id}", period)
    if frozen is not None:
        return {"frozen": True, "version": frozen.version, "content": frozen.content,
                "signed": signed_statement(frozen)}
    content = integrity.score_of(organisation_id, period, now or utcnow())
    if content is None:
        raise NotFound("score_not_found", f"该企业 {period} 的评分尚未发布")
    return {"frozen": False, "version": None, "content": content, "signed": None}


def _period(period):
    try:
        integrity.quarter_days(period)
    except ValueError:
        raise Invalid({"period": ["格式为 YYYY-Qn，例如 2026-Q3"]}) from None


def manager_credit(user, organisation_id):
    """A company's project managers with their latest frozen credit (regulators; personal)."""
    require_regulator(user)
    get_organisation(organisation_id)
    managers = db.session.execute(db.select(ProjectManager).filter_by(organisation_id=organisation_id)
                                  .order_by(ProjectManager.id)).scalars().all()
    results = {}
    for result in db.session.execute(db.select(IntegrityResult).where(
            IntegrityResult.kind == "manager_credit",
            IntegrityResult.subject.in_([f"manager:{m.id}" for m in managers])).order_by(IntegrityResult.id)).scalars():
        results[result.subject] = result  # the newest wins
    return [{"manager": m, "credit": results.get(f"manager:{m.id}")} for m in managers]


def public_organisations(kind=None, q=None, after=None, limit=50):
    """The public directory: organisations with their latest frozen score (no login)."""
    from backend.services.organisations import _organisations_page

    page = _organisations_page(kind, q, after, limit)
    ids = [o.id for o in page["items"]]
    newest = {}
    for result in db.session.execute(db.select(*SUMMARY).where(
            IntegrityResult.kind == "quarterly_score", IntegrityResult.organisation_id.in_(ids))
            .order_by(IntegrityResult.period, IntegrityResult.version)):
        newest[result.organisation_id] = result
    page["items"] = [{"organisation": o, "latest": newest.get(o.id)} for o in page["items"]]
    return page


def public_organisation(organisation_id, now=None):
    """What anyone may know of an organisation: its record, current and past scores, its places on
    the year-end lists, its measures and the compounds it serves — nothing about any person."""
    organisation = get_organisation(organisation_id)
    history = {}
    for result in db.session.execute(db.select(*SUMMARY).filter_by(
            kind="quarterly_score", organisation_id=organisation_id).order_by(IntegrityResult.version)):
        history[result.period] = result
    provisional = db.session.execute(
        db.select(ProvisionalScore.period, ProvisionalScore.score, ProvisionalScore.computed_at)
        .filter_by(organisation_id=organisation_id).order_by(ProvisionalScore.period.desc()).limit(1)).first()
    lists = []
    for result in db.session.execute(db.select(IntegrityResult).filter_by(kind="annual_lists", subject=organisation.kind)
                                     .order_by(IntegrityResult.period, IntegrityResult.version)).scalars():
        lists = [e for e in lists if e["year"] != result.period]
        for name in ("red", "black"):
            if organisation_id in result.content[name]:
                lists.append({"year": result.period, "list": name, "version": result.version})
    measures = db.session.execute(
        db.select(Measure, Community.name).join(Community, Community.id == Measure.community_id)
        .where(Measure.organisation_id == organisation_id).order_by(Measure.id.desc()).limit(50)).all()
    today = (now or utcnow()).astimezone(CHINA).date()
    serving = db.session.execute(
        db.select(ServiceContract, Community.name).join(Community, Community.id == ServiceContract.community_id)
        .where(ServiceContract.organisation_id == organisation_id, ServiceContract.starts_on <= today,
               db.or_(ServiceContract.ends_on.is_(None), ServiceContract.ends_on > today))
        .order_by(ServiceContract.community_id)).all()
    ordered = [history[p] for p in sorted(history, reverse=True)]
    return {"organisation": organisation, "current": ordered[0] if ordered else None, "provisional": provisional,
            "history": ordered, "lists": lists,
            "measures": [{"measure": m, "community_name": name} for m, name in measures],
            "compounds": [{"community_id": c.community_id, "community_name": name, "since": c.starts_on}
                          for c, name in serving]}


def public_result(organisation_id, period, version=None):
    """One frozen quarterly score with its content and signature (no login)."""
    get_organisation(organisation_id)
    query = db.select(IntegrityResult).filter_by(kind="quarterly_score", subject=f"org:{organisation_id}", period=period)
    result = db.session.execute(query.filter_by(version=version) if version else
                                query.order_by(IntegrityResult.version.desc()).limit(1)).scalar_one_or_none()
    if result is None:
        raise NotFound("score_not_found", f"该企业 {period} 的评分尚未发布")
    return result


def public_lists(year, kind):
    """The red and black lists of a year (no login)."""
    result = latest("annual_lists", kind, year)
    if result is None:
        raise NotFound("lists_not_found", f"{year} 年度红黑榜尚未发布")
    return result

