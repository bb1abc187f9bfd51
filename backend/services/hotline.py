"""Complaints from outside the mini-program (issue 15, docs/district.md "Hotline"): the import of
12345 hotline work orders (CSV or XLSX as the hotline exports them), matched to compounds by
address and kept as tickets with their channel and order number; the weekly roll-up of complaints
from every channel with its focus inspections; and the regulator's ruling on a complaint's validity.
"""
import re
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

from backend.errors import Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Community, FocusInspection, Ticket, WeeklyRollup
from backend.models.base import utcnow
from backend.security import regulated_communities, scopes_of
from backend.services import tickets as ticket_service
from backend.services.spreadsheet import read_table
from backend.services.tickets import CHINA, REGULATOR, STAFF

# The hotline's columns, as its exports name them (Chinese or English headers).
COLUMNS = {
    "order_no": ("工单编号", "工单号", "编号", "order_no", "order number"),
    "time": ("受理时间", "来电时间", "登记时间", "时间", "time"),
    "address": ("事发地址", "地址", "诉求地址", "address"),
    "content": ("诉求内容", "内容", "来电内容", "content"),
    "category": ("诉求类型", "类别", "分类", "category"),
    "channel": ("渠道", "来源", "来源渠道", "channel"),
}
REQUIRED = ("order_no", "time", "address", "content")
MAX_ORDERS = 20_000
# Hotline category → ticket category; anything else is a complaint (what the hotline mostly sends).
CATEGORIES = (("建议", "suggestion"), ("报修", "repair"), ("维修", "repair"), ("求助", "repair"))
# Words in the category or the content → subject, first match wins (docs/district.md).
SUBJECTS = (("电梯", "elevator"), ("消防", "fire_lane"), ("停车", "parking"), ("车位", "parking"),
            ("噪音", "noise"), ("噪声", "noise"), ("扰民", "noise"), ("违建", "illegal_construction"),
            ("违章搭建", "illegal_construction"), ("宠物", "pets"), ("犬", "pets"), ("狗", "pets"),
            ("垃圾", "sanitation"), ("卫生", "sanitation"), ("绿化", "greenery"), ("树", "greenery"),
            ("停水", "utilities"), ("停电", "utilities"), ("漏水", "utilities"), ("水电", "utilities"),
            ("门禁", "security"), ("安全", "security"), ("监控", "security"))
BUILDING = re.compile(r"(\d+)\s*(?:号楼|栋|幢|号院|座)")
FOCUS_MIN = 2
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S")


def _norm(text):
    """NFKC (full-width digits and letters become ASCII), no white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return unicodedata.normalize("NFC", str(value)).strip()


def read_orders(filename, data):
    """[(row number, {column: text})] from the hotline's CSV (UTF-8 or GBK) or XLSX; 422 for a file
    that cannot be read or lacks a required column."""
    raw = [[_cell(c) for c in row] for row in read_table(filename, data)]
    raw = [row for row in raw if any(row)]
    if not raw:
        raise Invalid({"file": ["文件为空"]}, code="empty_file")
    aliases = {alias.lower(): column for column, names in COLUMNS.items() for alias in names}
    header = [aliases.get(h.lower()) for h in raw[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise Invalid({"file": [f"缺少列：{', '.join(missing)}"]}, code="missing_columns", details={"missing": missing})
    if len(raw) - 1 > MAX_ORDERS:
        raise Invalid({"file": [f"行数超过上限 {MAX_ORDERS}"]}, code="too_many_rows")
    return [(number, {c: v for c, v in zip(header, row) if c}) for number, row in enumerate(raw[1:], start=2)]


def parse_local_time(text):
    """A hotline time (China local, as the export writes it) as UTC, or None."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
        for fmt in TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment.astimezone(CHINA).astimezone(timezone.utc)


class AddressBook:
    """Every community's name and address, normalised, for matching addresses to compounds."""

    def __init__(self):
        self.entries = [(c.id, _norm(c.name), _norm(c.address)) for c in db.session.execute(
            db.select(Community.id, Community.name, Community.address)).all()]

    def match(self, address):
        """(community id, building or None) or (None, reason): the community whose name (else whose
        registered address) appears in the address, the longest when several do; a tie between two
        communities is ambiguous."""
        text = _norm(address)
        for index in (1, 2):
            hits = [(len(entry[index]), entry[0]) for entry in self.entries if entry[index] and entry[index] in text]
            if hits:
                best = max(length for length, _ in hits)
                ids = sorted({cid for length, cid in hits if length == best})
                if len(ids) > 1:
                    return None, "ambiguous"
                found = BUILDING.search(text[text.index(self._key(ids[0], index)) + best:] or text)
                return ids[0], found.group(1) if found else None
        return None, "no_match"

    def _key(self, community_id, index):
        return next(entry[index] for entry in self.entries if entry[0] == community_id)


def classify(category, content):
    """(ticket category, subject) of a hotline order (docs/district.md)."""
    text = _norm(category) + _norm(content)
    ticket_category = next((code for word, code in CATEGORIES if word in _norm(category)), "complaint")
    subject = next((code for word, code in SUBJECTS if word in text), "other")
    return ticket_category, subject


def channel_of(text):
    """'12345' when the order came through 12345 (or names no channel: it is the hotline's export),
    else 'other'."""
    text = _norm(text)
    return "12345" if not text or "12345" in text else "other"


def import_orders(actor, filename, data, now=None):
    """Import hotline orders as tickets of the compounds they name (regulators with a street or
    district scope, platform admins, for the compounds in their scope). Orders already imported
    (same channel and order number) are skipped, so a re-import changes nothing; orders that match
    no compound of the caller's scope are reported by row and not imported."""
    now = now or utcnow()
    streets = scopes_of(actor)
    if streets is not None and not streets:
        raise Forbidden("forbidden", "您没有此操作的权限")
    rows = read_orders(filename, data)
    in_scope = set(db.session.execute(regulated_communities(actor)).scalars())
    book = AddressBook()
    report = {"rows": len(rows), "imported": 0, "duplicates": 0, "ticket_ids": [], "refused": []}
    seen = set()
    wanted = [(channel_of(r.get("channel")), r.get("order_no", "")) for _, r in rows]
    existing = set()
    for chunk in range(0, len(wanted), 500):
        keys = wanted[chunk:chunk + 500]
        existing |= {tuple(row) for row in db.session.execute(db.select(Ticket.channel, Ticket.external_id).where(
            Ticket.external_id.in_([k[1] for k in keys])))}
    staff_of = {}
    for (number, row), key in zip(rows, wanted):
        reason, moment = None, parse_local_time(row.get("time"))
        if not key[1] or len(key[1]) > 64:
            reason = "order_no"
        elif moment is None:
            reason = "time"
        elif not row.get("content"):
            reason = "content"
        if reason is None and (key in existing or key in seen):
            report["duplicates"] += 1
            continue
        community_id, building = (None, None) if reason else book.match(row.get("address"))
        if reason is None and community_id is None:
            reason = building
        elif reason is None and community_id not in in_scope:
            reason = "out_of_scope"
        if reason:
            report["refused"].append({"row": number, "order_no": key[1], "reason": reason})
            continue
        seen.add(key)
        category, subject = classify(row.get("category"), row["content"])
        ticket = Ticket(community_id=community_id, reporter_id=None, channel=key[0], external_id=key[1],
                        category=category, subject=subject, description=row["content"][:2000],
                        location=(row.get("address") or "")[:255] or None, status="submitted",
                        created_at=moment, updated_at=now, last_activity_at=moment)
        db.session.add(ticket)
        db.session.flush()
        ticket_service._event(ticket, actor, REGULATOR, "submitted", moment, to_status="submitted",
                              note=f"{key[0]} 工单 {key[1]}")
        if community_id not in staff_of:
            staff_of[community_id] = ticket_service._members(community_id, STAFF)
        ticket_service._notify(staff_of[community_id], ticket, "ticket_submitted", now)
        report["imported"] += 1
        report["ticket_ids"].append(ticket.id)
    db.session.commit()
    return report


def mark_validity(user, ticket_id, valid, reason=None, now=None):
    """A regulator rules a complaint valid or invalid (not the company's matter, a duplicate…):
    invalid complaints leave the integrity score's count of valid complaints (docs/integrity.md)."""
    now = now or utcnow()
    ticket, roles = ticket_service._load(user, ticket_id, lock=True)
    if REGULATOR not in roles:
        raise Forbidden("validity_forbidden", "仅监管部门可以认定投诉是否有效")
    if ticket.category != "complaint":
        raise Invalid({"valid": ["只有投诉需要认定是否有效"]})
    if not valid and not ticket_service._text(reason):
        raise Invalid({"reason": ["认定无效须说明原因"]})
    ticket.invalid_at, ticket.invalid_by = (None, None) if valid else (now, user.id)
    ticket.invalid_reason = None if valid else ticket_service._text(reason)
    ticket.updated_at = now
    ticket_service._event(ticket, user, REGULATOR, "validated" if valid else "invalidated", now, note=ticket_service._text(reason) or None)
    db.session.commit()
    return ticket


# ---------------------------------------------------------------- the weekly roll-up


def week_bounds(now):
    """(ISO week label, start, end) of the last whole week before `now`, Monday 00:00 China time."""
    local = now.astimezone(CHINA)
    this_monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = this_monday - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}", start.astimezone(timezone.utc), this_monday.astimezone(timezone.utc)


def weekly_rollup(now=None):
    """Roll up the complaints of every channel received in the last whole week before `now` and
    order a focus inspection of each compound complained about FOCUS_MIN times or more. Once per
    week: a second run finds the roll-up made and changes nothing. Returns the WeeklyRollup."""
    label, start, end = week_bounds(now or utcnow())
    done = db.session.get(WeeklyRollup, label)
    if done is not None:
        return done
    rows = db.session.execute(
        db.select(Ticket.id, Ticket.community_id, Ticket.channel)
        .where(Ticket.category == "complaint", Ticket.created_at >= start, Ticket.created_at < end)
        .order_by(Ticket.id)).all()
    by_community = defaultdict(list)
    for row in rows:
        by_community[row.community_id].append(row.id)
    focus = {cid: ids for cid, ids in by_community.items() if len(ids) >= FOCUS_MIN}
    if focus:
        db.session.execute(db.insert(FocusInspection), [
            {"week": label, "community_id": cid, "complaints": len(ids), "ticket_ids": ids, "done": False,
             "created_at": utcnow()} for cid, ids in sorted(focus.items())])
    rollup = WeeklyRollup(week=label, starts_at=start, ends_at=end, totals={
        "complaints": len(rows), "communities": len(by_community), "focus": len(focus),
        "by_channel": dict(sorted(Counter(row.channel for row in rows).items()))})
    db.session.add(rollup)
    db.session.commit()
    return rollup




def rollup_view(user, week):
    """A week's roll-up as the caller's scope sees it: totals by channel, every compound of the
    scope with complaints that week, and the focus inspections ordered (regulators)."""
    streets = scopes_of(user)
    in_scope = db.session.execute(regulated_communities(user)).scalars().all()
    if streets is not None and not in_scope:
        raise Forbidden("forbidden", "您没有此操作的权限")
    rollup = db.session.get(WeeklyRollup, week)
    if rollup is None:
        raise NotFound("rollup_not_found", f"{week} 的投诉周汇总尚未生成")
    query = (db.select(Ticket.community_id, Ticket.channel, db.func.count().label("n"))
             .where(Ticket.category == "complaint", Ticket.created_at >= rollup.starts_at,
                    Ticket.created_at < rollup.ends_at)
             .group_by(Ticket.community_id, Ticket.channel))
    if streets is not None:
        query = query.where(Ticket.community_id.in_(regulated_communities(user)))
    counts = defaultdict(Counter)
    for row in db.session.execute(query):
        counts[row.community_id][row.channel] += row.n
    names = dict(db.session.execute(db.select(Community.id, Community.name)
                                    .where(Community.id.in_(sorted(counts)))).all()) if counts else {}
    focus = db.select(FocusInspection).filter_by(week=week).order_by(FocusInspection.community_id)
    if streets is not None:
        focus = focus.where(FocusInspection.community_id.in_(regulated_communities(user)))
    by_channel = Counter()
    for channels in counts.values():
        by_channel.update(channels)
    return {
        "week": week, "from": rollup.starts_at, "to": rollup.ends_at,
        "complaints": sum(by_channel.values()), "by_channel": dict(sorted(by_channel.items())),
        "communities": [{"community_id": cid, "community_name": names.get(cid, ""), "complaints": sum(c.values()),
                         "by_channel": dict(sorted(c.items()))} for cid, c in sorted(counts.items())],
        "focus": db.session.execute(focus).scalars().all(),
    }
