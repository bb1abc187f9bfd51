"""The "421" routine (issue 15, docs/district.md "Inspections"): a regulator records an inspection
(or on-site review) of a compound with its checklist and graded measures; the company answers each
measure with evidence and the regulator accepts or rejects the answer; overdue measures escalate to
the next grade (the measures-escalate command); circulated notices; the monthly 4-2-1 completion.
"""
import csv
import io
from datetime import date, datetime, time, timedelta, timezone

from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Circular, Community, FocusInspection, Inspection, Measure, MeasureResponse, Street
from backend.models.base import utcnow
from backend.models.inspection import INSPECTION_KINDS, MEASURE_LEVELS
from backend.security import require_community, require_street, roles_in, scopes_of
from backend.services import media, outbox
from backend.services.keyset import keyset
from backend.services.organisations import serving
from backend.services.tickets import CHINA

MAX_ITEMS, MAX_POINTS, MAX_PHOTOS = 100, 100, 9
# The monthly routine per street: 4 inspections, 2 circulated notices, 1 on-site review.
TARGETS = {"inspections": 4, "circulars": 2, "reviews": 1}
# Days an escalated measure (the next grade) gives the company.
ESCALATION_DAYS = 15
LEVEL_LABELS = {"rectification_notice": "整改通知书", "interview": "约谈企业负责人", "credit_record": "记入信用档案",
                "qualification_restriction": "建议限制资质"}
READERS = ("regulator", "property_staff", "committee")

media.register_visibility("inspection", lambda user, attached_id: _may_read(user, Inspection, attached_id))
media.register_visibility("measure_response", lambda user, attached_id: _may_read(user, MeasureResponse, attached_id))


def _may_read(user, model, attached_id):
    row = db.session.get(model, attached_id)
    if row is None:
        return False
    require_community(user, row.community_id, *READERS)
    return True


def _text(value):
    return (value or "").strip()


def china_midnight(day):
    """00:00 China time of a date, in UTC."""
    return datetime.combine(day, time(), CHINA).astimezone(timezone.utc)


# ---------------------------------------------------------------- inspections


def _checklist(items):
    fields, clean = {}, []
    if not items or len(items) > MAX_ITEMS:
        fields["items"] = [f"检查项 1–{MAX_ITEMS} 条"]
    codes = set()
    for i, item in enumerate(items or []):
        code, points = _text(item.get("code")), item.get("points")
        if not code or code in codes:
            fields[f"items.{i}.code"] = ["检查项编码须填写且不重复"]
        if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= MAX_POINTS:
            fields[f"items.{i}.points"] = [f"分值须为 0–{MAX_POINTS} 的整数"]
        codes.add(code)
        clean.append({"code": code, "title": _text(item.get("title")), "passed": bool(item.get("passed")),
                      "points": points, "note": _text(item.get("note")) or None})
    if fields:
        raise Invalid(fields)
    return clean


def record_inspection(user, community_id, kind, inspected_on, items, findings="", measures=(), photo_ids=(),
                      focus_id=None, now=None):
    """A regulator of the compound records an inspection or review with its checklist, findings,
    photos and graded measures [{level, description, due_on}] addressed to the company serving the
    compound that day; a focus inspection ordered by the roll-up is marked done."""
    now = now or utcnow()
    community = require_community(user, community_id, "regulator")
    if kind not in INSPECTION_KINDS:
        raise Invalid({"kind": [f"须为 {', '.join(INSPECTION_KINDS)} 之一"]})
    if inspected_on > now.astimezone(CHINA).date():
        raise Invalid({"inspected_on": ["不能晚于今天"]})
    clean = _checklist(items)
    organisation_id = serving(community_id, inspected_on)
    lift_id = serving(community_id, inspected_on, "lift")
    fields = {}
    for i, m in enumerate(measures or ()):
        if m.get("addressee", "property") == "lift" and lift_id is None:
            fields[f"measures.{i}.addressee"] = ["该小区在检查日没有登记的电梯维保单位"]
        if m.get("level") not in MEASURE_LEVELS:
            fields[f"measures.{i}.level"] = [f"须为 {', '.join(MEASURE_LEVELS)} 之一"]
        if not _text(m.get("description")):
            fields[f"measures.{i}.description"] = ["不能为空"]
        if not isinstance(m.get("due_on"), date) or m["due_on"] < inspected_on:
            fields[f"measures.{i}.due_on"] = ["须为不早于检查日的日期"]
    if measures and organisation_id is None:
        fields["measures"] = ["该小区在检查日没有登记的物业服务企业，无法下达措施"]
    focus = None
    if focus_id is not None:
        focus = db.session.get(FocusInspection, focus_id)
        if focus is None or focus.community_id != community_id:
            fields["focus_id"] = ["不是本小区的重点检查任务"]
    if len(photo_ids or ()) > MAX_PHOTOS:
        fields["photo_ids"] = [f"最多 {MAX_PHOTOS} 张照片"]
    if fields:
        raise Invalid(fields)
    inspection = Inspection(community_id=community_id, street_id=community.street_id,
                            organisation_id=organisation_id, kind=kind, inspected_on=inspected_on, items=clean,
                            points_lost=sum(item["points"] for item in clean if not item["passed"]),
                            findings=_text(findings), focus_id=focus_id, inspector_id=user.id, created_at=now)
    db.session.add(inspection)
    db.session.flush()
    media.attach(user, list(photo_ids or ()), community_id, "inspection", inspection.id, field="photo_ids")
    for m in measures or ():
        _issue(inspection, m["level"], _text(m["description"]), china_midnight(m["due_on"] + timedelta(days=1)),
               user.id, now, organisation_id=lift_id if m.get("addressee") == "lift" else organisation_id)
    if focus is not None:
        focus.done = True
    db.session.commit()
    return inspection


def _issue(inspection, level, description, due_at, issued_by, now, previous=None, organisation_id=None):
    measure = Measure(inspection_id=inspection.id, community_id=inspection.community_id,
                      organisation_id=organisation_id, level=level, description=description,
                      status="open", issued_at=now, issued_by=issued_by, due_at=due_at,
                      previous_id=previous.id if previous else None)
    db.session.add(measure)
    db.session.flush()
    local = due_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    for staff_id in _staff(inspection.community_id):
        outbox.enqueue(staff_id, inspection.community_id, "measure_issued",
                       {"measure": f"#{measure.id} {LEVEL_LABELS[level]}", "time": local})
        # no page: staff answer measures in the web console, the mini-program has no page for them
    return measure


def _staff(community_id):
    from backend.models import Membership

    return db.session.execute(db.select(Membership.user_id).filter_by(community_id=community_id,
                                                                      role="property_staff")).scalars().all()


def get_inspection(user, inspection_id):
    """One inspection (regulators, the compound's staff and committee)."""
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or not (user.is_platform_admin or roles_in(user, inspection.community_id) & set(READERS)):
        raise NotFound("inspection_not_found", "检查记录不存在")
    return inspection


def list_inspections(user, community_id, after=None, limit=50):
    """A compound's inspections, newest first, a keyset page."""
    require_community(user, community_id, *READERS)
    return keyset(db.select(Inspection).where(Inspection.community_id == community_id), Inspection.id, after,
                  limit, descending=True)


def measures_of(inspection_id):
    """The measures an inspection ordered."""
    return db.session.execute(db.select(Measure).filter_by(inspection_id=inspection_id).order_by(Measure.id)
                              ).scalars().all()


# ---------------------------------------------------------------- measures


def _measure(user, measure_id, lock=False):
    query = db.select(Measure).filter_by(id=measure_id)
    if lock:
        query = query.with_for_update()
    measure = db.session.execute(query).scalar_one_or_none()
    roles = set() if measure is None else roles_in(user, measure.community_id)
    if measure is None or not (user.is_platform_admin or roles & set(READERS)):
        raise NotFound("measure_not_found", "整改措施不存在")
    return measure, roles


def get_measure(user, measure_id):
    """One measure with its answers and reviews."""
    return _measure(user, measure_id)[0]


def responses_of(measure_id):
    """The answers and reviews of a measure, oldest first."""
    return db.session.execute(db.select(MeasureResponse).filter_by(measure_id=measure_id)
                              .order_by(MeasureResponse.id)).scalars().all()


def list_measures(user, community_id, status=None, after=None, limit=50):
    """A compound's measures, newest first (regulators, staff, committee), a keyset page."""
    require_community(user, community_id, *READERS)
    query = db.select(Measure).where(Measure.community_id == community_id)
    if status:
        query = query.where(Measure.status == status)
    return keyset(query, Measure.id, after, limit, descending=True)


def answer_measure(user, measure_id, body, photo_ids=(), now=None):
    """The company (property staff of the compound) answers a measure with what it did and evidence."""
    now = now or utcnow()
    measure, roles = _measure(user, measure_id, lock=True)
    if "property_staff" not in roles:
        raise Forbidden("measure_answer_forbidden", "仅本小区物业人员可以回复整改措施")
    if measure.status == "closed":
        raise Conflict("measure_closed", "该整改措施已办结")
    if not _text(body):
        raise Invalid({"body": ["请说明整改情况"]})
    if len(photo_ids or ()) > MAX_PHOTOS:
        raise Invalid({"photo_ids": [f"最多 {MAX_PHOTOS} 张照片"]})
    response = MeasureResponse(measure_id=measure.id, community_id=measure.community_id, author_id=user.id,
                               kind="answer", body=_text(body), created_at=now)
    db.session.add(response)
    db.session.flush()
    media.attach(user, list(photo_ids or ()), measure.community_id, "measure_response", response.id,
                 field="photo_ids")
    measure.status = "answered"
    db.session.commit()
    return measure


def review_measure(user, measure_id, decision, comment="", now=None):
    """The regulator accepts the answer (the measure is closed) or rejects it (open again)."""
    now = now or utcnow()
    measure, roles = _measure(user, measure_id, lock=True)
    if "regulator" not in roles and not user.is_platform_admin:
        raise Forbidden("measure_review_forbidden", "仅监管部门可以验收整改措施")
    if measure.status != "answered":
        raise Conflict("measure_not_answered", "企业尚未回复，无法验收")
    if decision not in ("accept", "reject"):
        raise Invalid({"decision": ["须为 accept 或 reject"]})
    if decision == "reject" and not _text(comment):
        raise Invalid({"comment": ["退回须说明原因"]})
    db.session.add(MeasureResponse(measure_id=measure.id, community_id=measure.community_id, author_id=user.id,
                                   kind="accepted" if decision == "accept" else "rejected", body=_text(comment),
                                   created_at=now))
    measure.status = "closed" if decision == "accept" else "open"
    measure.closed_at = now if decision == "accept" else None
    db.session.commit()
    return measure


def escalate_measures(now=None):
    """Mark each measure not closed by its due time overdue (once) and order the next grade, due in
    ESCALATION_DAYS; the last grade is only marked. Returns the overdue measure ids."""
    now = now or utcnow()
    due = db.session.execute(db.select(Measure).where(Measure.status != "closed", Measure.due_at <= now,
                                                      Measure.overdue_at.is_(None))
                             .order_by(Measure.id).with_for_update(skip_locked=True)).scalars().all()
    for measure in due:
        measure.overdue_at = now
        grade = MEASURE_LEVELS.index(measure.level)
        if grade + 1 < len(MEASURE_LEVELS):
            inspection = db.session.get(Inspection, measure.inspection_id)
            follow = _issue(inspection, MEASURE_LEVELS[grade + 1], f"逾期未整改（措施 #{measure.id}）：{measure.description}",
                            now + timedelta(days=ESCALATION_DAYS), None, now, previous=measure,
                            organisation_id=measure.organisation_id)
            measure.escalated_to_id = follow.id
    db.session.commit()
    return [m.id for m in due]



# ---------------------------------------------------------------- circulars and the 421 routine


def publish_circular(user, street_id, title, body, issued_on, inspection_ids=(), now=None):
    """A circulated notice (通报) of a street about inspections of its compounds (street regulators)."""
    now = now or utcnow()
    street = db.session.get(Street, street_id)
    if street is None:
        raise NotFound("street_not_found", "街道不存在")
    require_street(user, street_id)
    ids = sorted(set(inspection_ids or ()))
    found = set(db.session.execute(db.select(Inspection.id).where(Inspection.id.in_(ids),
                                                                  Inspection.street_id == street_id)).scalars())
    if set(ids) - found:
        raise Invalid({"inspection_ids": [f"不是本街道的检查记录：{sorted(set(ids) - found)}"]})
    if issued_on > now.astimezone(CHINA).date():
        raise Invalid({"issued_on": ["不能晚于今天"]})
    circular = Circular(street_id=street_id, title=_text(title), body=_text(body), issued_on=issued_on,
                        inspection_ids=ids, author_id=user.id, created_at=now)
    db.session.add(circular)
    db.session.commit()
    return circular


def list_circulars(user, street_id, after=None, limit=50):
    """A street's circulated notices, newest first."""
    require_street(user, street_id)
    return keyset(db.select(Circular).where(Circular.street_id == street_id), Circular.id, after, limit,
                  descending=True)


def month_bounds(month):
    """'2026-11' → (first day, first day of the next month)."""
    year, number = int(month[:4]), int(month[5:7])
    start = date(year, number, 1)
    return start, date(year + number // 12, number % 12 + 1, 1)


def progress(user, month):
    """The 4-2-1 completion of each street in the caller's scope for a month (China dates)."""
    streets = scopes_of(user)
    if streets is not None and not streets:
        raise Forbidden("forbidden", "您没有此操作的权限")
    query = db.select(Street).order_by(Street.id)
    if streets is not None:
        query = query.where(Street.id.in_(sorted(streets)))
    return progress_for(db.session.execute(query).scalars().all(), month)


def progress_for(rows, month):
    """The 4-2-1 report of these streets for a month."""
    start, end = month_bounds(month)
    ids = [s.id for s in rows]

    def counts(select):
        return dict(db.session.execute(select).all())

    window = (Inspection.inspected_on >= start, Inspection.inspected_on < end, Inspection.street_id.in_(ids))
    inspections = counts(db.select(Inspection.street_id, db.func.count()).where(*window, Inspection.kind == "inspection")
                         .group_by(Inspection.street_id))
    reviews = counts(db.select(Inspection.street_id, db.func.count()).where(*window, Inspection.kind == "review")
                     .group_by(Inspection.street_id))
    circulars = counts(db.select(Circular.street_id, db.func.count()).where(
        Circular.issued_on >= start, Circular.issued_on < end, Circular.street_id.in_(ids)).group_by(Circular.street_id))
    communities = counts(db.select(Community.street_id, db.func.count()).where(Community.street_id.in_(ids))
                         .group_by(Community.street_id))
    result = []
    for street in rows:
        done = {"inspections": inspections.get(street.id, 0), "circulars": circulars.get(street.id, 0),
                "reviews": reviews.get(street.id, 0)}
        result.append({"street_id": street.id, "street_name": street.name, "communities": communities.get(street.id, 0),
                       **done, "complete": all(done[k] >= n for k, n in TARGETS.items())})
    return {"month": month, "targets": TARGETS, "streets": result}


def progress_csv(report):
    """The 4-2-1 report as CSV for Excel (UTF-8 with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["月份", "街道", "小区数", "检查（目标 4）", "通报（目标 2）", "现场复查（目标 1）", "完成"])
    for s in report["streets"]:
        writer.writerow([report["month"], s["street_name"], s["communities"], s["inspections"], s["circulars"],
                         s["reviews"], "是" if s["complete"] else "否"])
    return "\ufeff" + out.getvalue()
