"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2; docs/district.md "Open311"):
services are the ticket subjects, service requests are tickets of every channel, and clients that
POST requests hold an API key issued by the platform admin.

Nothing personal leaves through it: no names, phone numbers or user ids; the address stops at the
compound and the building; the description is the category and subject, never the resident's own
words (they routinely carry names and phone numbers no filter reliably removes)."""
import hashlib
import re
import secrets
from datetime import timedelta

from backend.errors import DomainError, NotFound
from backend.extensions import db
from backend.models import Community, Open311Client, Organisation, ServiceContract, Street, Ticket
from backend.models.base import utcnow
from backend.models.ticket import TICKET_SUBJECTS
from backend.security import require_platform_admin
from backend.services import tickets as ticket_service
from backend.services.hotline import BUILDING, AddressBook
from backend.services.organisations import format_coordinate, parse_coordinate
from backend.services.tickets import CATEGORY_LABELS, CHINA, STATUS_LABELS, SUBJECT_LABELS

OPEN = ("submitted", "accepted", "in_progress", "reopened")
DEFAULT_DAYS, MAX_RESULTS = 90, 1000
JURISDICTION = re.compile(r"(street|community)-(\d{1,10})\Z")
KEYWORDS = {"elevator": "电梯,lift", "parking": "停车,车位", "sanitation": "垃圾,卫生", "security": "门禁,安全",
            "greenery": "绿化,树木", "illegal_construction": "违建,搭建", "fire_lane": "消防通道",
            "pets": "宠物,犬只", "noise": "噪声,扰民", "utilities": "水,电,停水,停电", "other": "其他"}


class Open311Error(DomainError):
    """A GeoReport error: rendered as the spec's error list, [{code, description}], not Linli's envelope."""


# ---------------------------------------------------------------- clients and keys


def issue_key(actor, name):
    """A new client and its API key, shown once (platform admins); only its hash is kept."""
    require_platform_admin(actor)
    key = secrets.token_urlsafe(32)
    client = Open311Client(name=(name or "").strip(), key_sha256=hashlib.sha256(key.encode()).hexdigest(),
                           key_prefix=key[:8], created_by=actor.id)
    db.session.add(client)
    db.session.commit()
    return client, key


def list_clients(actor):
    """Every client (platform admins)."""
    require_platform_admin(actor)
    return db.session.execute(db.select(Open311Client).order_by(Open311Client.id)).scalars().all()


def revoke_client(actor, client_id):
    """Revoke a client's key (platform admins); its requests stay."""
    require_platform_admin(actor)
    client = db.session.get(Open311Client, client_id)
    if client is None:
        raise NotFound("open311_client_not_found", "Open311 客户端不存在")
    client.revoked_at = client.revoked_at or utcnow()
    db.session.commit()
    return client


def client_for_key(key):
    """The live client holding `key`, or a GeoReport 403."""
    client = db.session.execute(db.select(Open311Client).filter_by(
        key_sha256=hashlib.sha256((key or "").encode()).hexdigest())).scalar_one_or_none() if key else None
    if client is None or client.revoked_at is not None:
        raise Open311Error("open311_forbidden", "api_key 无效，无法提交服务请求", 403)
    return client


# ---------------------------------------------------------------- services


def services():
    """GET services: one service per ticket subject."""
    return [{"service_code": code, "service_name": SUBJECT_LABELS[code],
             "description": f"住宅小区物业问题：{SUBJECT_LABELS[code]}", "metadata": False, "type": "realtime",
             "keywords": KEYWORDS[code], "group": "住宅小区物业"} for code in TICKET_SUBJECTS]


# ---------------------------------------------------------------- service requests


def _jurisdiction(value):
    """(kind, id) of 'street-3' / 'community-12', None for none; 404 when it names nothing."""
    if not value:
        return None
    match = JURISDICTION.match(value)
    model = {"street": Street, "community": Community}.get(match.group(1)) if match else None
    if model is None or db.session.get(model, int(match.group(2))) is None:
        raise Open311Error("open311_jurisdiction_not_found", f"没有 jurisdiction_id {value}", 404)
    return match.group(1), int(match.group(2))


def find_requests(jurisdiction_id=None, service_codes=None, statuses=None, start=None, end=None, ids=None, now=None):
    """GET requests: tickets matching the filters, newest first, at most 1000; without ids or dates,
    the last 90 days (the spec's defaults)."""
    now = now or utcnow()
    query = db.select(Ticket)
    scope = _jurisdiction(jurisdiction_id)
    if ids:  # the spec: with service_request_id, the other filters are ignored
        return views(db.session.execute(query.where(Ticket.id.in_(ids[:MAX_RESULTS])).order_by(Ticket.id.desc()))
                     .scalars().all())
    if scope and scope[0] == "community":
        query = query.where(Ticket.community_id == scope[1])
    elif scope:
        query = query.where(Ticket.community_id.in_(db.select(Community.id).where(Community.street_id == scope[1])))
    if start is None and end is None:
        start = now - timedelta(days=DEFAULT_DAYS)
    if start is not None:
        query = query.where(Ticket.created_at >= start)
    if end is not None:
        query = query.where(Ticket.created_at <= end)
    if service_codes:
        query = query.where(Ticket.subject.in_(service_codes))
    if statuses:
        wanted = set()
        for status in statuses:
            wanted |= set(OPEN) if status == "open" else {"resolved", "confirmed"} if status == "closed" else set()
        query = query.where(Ticket.status.in_(sorted(wanted)))
    rows = db.session.execute(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(MAX_RESULTS)
                              ).scalars().all()
    return views(rows)


def get_request(request_id):
    """GET a request, or a GeoReport 404."""
    ticket = db.session.get(Ticket, request_id) if 0 < request_id < 2**31 else None
    if ticket is None:
        raise Open311Error("open311_request_not_found", f"没有 service_request_id {request_id}", 404)
    return views([ticket])


def views(tickets):
    """The GeoReport fields of tickets (nothing personal: docs/district.md)."""
    communities = {c.id: c for c in db.session.execute(db.select(Community).where(
        Community.id.in_(sorted({t.community_id for t in tickets})))).scalars()} if tickets else {}
    agencies = _agencies(tickets)
    result = []
    for t in tickets:
        community = communities[t.community_id]
        building = t.part.building if t.part else None
        if building is None and t.location:
            found = BUILDING.search(t.location)
            building = found.group(1) if found else None
        closed = t.status in ("resolved", "confirmed")
        result.append({
            "service_request_id": t.id, "status": "closed" if closed else "open",
            "status_notes": STATUS_LABELS[t.status] + ("（已上报街道）" if t.escalated_at else ""),
            "service_name": SUBJECT_LABELS[t.subject], "service_code": t.subject,
            "description": f"{CATEGORY_LABELS[t.category]}：{SUBJECT_LABELS[t.subject]}",
            "agency_responsible": agencies.get(t.id) or "", "service_notice": "",
            "requested_datetime": _w3c(t.created_at), "updated_datetime": _w3c(t.updated_at),
            "expected_datetime": None if closed else _w3c(ticket_service.due_at(t)),
            "address": f"{community.address} {community.name}" + (f" {building}号楼" if building else ""),
            "address_id": f"community-{community.id}", "zipcode": None,
            "lat": format_coordinate(community.lat_e6), "long": format_coordinate(community.lng_e6),
            "media_url": None,
        })
    return result


def _agencies(tickets):
    """{ticket id: the property company serving its compound on the day it was filed}."""
    if not tickets:
        return {}
    rows = db.session.execute(db.select(ServiceContract, Organisation.name)
                              .join(Organisation, Organisation.id == ServiceContract.organisation_id)
                              .where(ServiceContract.service == "property",
                                     ServiceContract.community_id.in_(sorted({t.community_id for t in tickets})))).all()
    found = {}
    for t in tickets:
        day = t.created_at.astimezone(CHINA).date()
        for contract, name in rows:
            if contract.community_id == t.community_id and contract.starts_on <= day and (
                    contract.ends_on is None or contract.ends_on > day):
                found[t.id] = name
    return found


def _w3c(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def create_request(client, form, now=None):
    """POST a request: a ticket of channel `other` in the compound named by address_id, the
    jurisdiction, the address or the position. The client's contact fields (name, phone, e-mail)
    are not kept."""
    now = now or utcnow()
    code = form.get("service_code")
    if code not in TICKET_SUBJECTS:
        raise Open311Error("open311_service_code", "没有这个 service_code", 404)
    community_id = _place(form)
    description = (form.get("description") or "").strip()
    ticket = ticket_service.Ticket(
        community_id=community_id, reporter_id=None, channel="other", category="complaint", subject=code,
        description=(description or f"Open311：{SUBJECT_LABELS[code]}")[:2000],
        location=(form.get("address_string") or "").strip()[:255] or f"Open311 {client.name}"[:255],
        status="submitted", created_at=now, updated_at=now, last_activity_at=now)
    db.session.add(ticket)
    db.session.flush()
    ticket_service._event(ticket, None, "system", "submitted", now, to_status="submitted",
                          note=f"Open311 客户端 #{client.id}")
    ticket_service._notify(ticket_service._members(community_id, "property_staff"), ticket, "ticket_submitted", now)
    db.session.commit()
    return [{"service_request_id": ticket.id, "service_notice": "已转交小区物业服务企业处理", "account_id": None}]


def _place(form):
    """The compound a POST names: address_id 'community-N', a community jurisdiction, an address
    matched like hotline orders, or the nearest compound within 1 km of lat/long."""
    for value in (form.get("address_id"), form.get("jurisdiction_id")):
        scope = _jurisdiction(value) if value and value.startswith("community-") else None
        if scope:
            return scope[1]
    if form.get("address_string"):
        community_id, _ = AddressBook().match(form["address_string"])
        if community_id:
            return community_id
    if form.get("lat") and form.get("long"):
        try:
            lat, lng = parse_coordinate(form["lat"], "latitude"), parse_coordinate(form["long"], "longitude")
        except DomainError:
            lat = lng = None
        if lat is not None:
            best = None
            for c in db.session.execute(db.select(Community).where(Community.lat_e6.is_not(None))).scalars():
                # metres, approximately: 0.111 m per millionth of a degree (longitude scaled at 30°N)
                d2 = ((c.lat_e6 - lat) * 111) ** 2 + ((c.lng_e6 - lng) * 96) ** 2
                if d2 <= 1_000_000_000_000 and (best is None or d2 < best[0]):
                    best = (d2, c.id)
            if best:
                return best[1]
    raise Open311Error("open311_location", "须给出本平台所服务小区的位置：address_id、address_string 或 lat/long", 400)
