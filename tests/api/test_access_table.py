"""Who may do what, for every operation of the published OpenAPI (issue 18 item 2).

One table says, for each operation, which kinds of user get past its access check; the test sends a
valid request for every operation of /api/v1/openapi.json as every kind of user and checks each
answer against the table: a user outside the table gets 401/403/404 (and nothing changes), a user in
it gets anything else (2xx, or a 409/422 about the object's state or the input). An operation missing
from the table fails the test, so a new route cannot forget the rule.

The users: in community A a verified owner, a claimant whose claim is pending and one whose claim was
rejected, a resident, the committee, property staff and a regulator; members of community B (owner,
committee, staff, regulator); the platform admin; and nobody (no token).
"""
import base64
import io
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from tests.api.publishing import REVENUE, SERVICE_CONTENT
from tests.support import id_number
from voting.delegations import make_delegation, sign_delegation
from voting.witnesses import make_cosignature, sign_request

A_MEMBERS = {"owner", "resident", "committee", "staff", "regulator"}
B_USERS = {"b_owner", "b_committee", "b_staff", "b_regulator"}
CLAIMANTS = {"pending", "rejected"}
# regulators above the communities: of A's street, and of the whole district (docs/district.md)
SCOPED = {"street_regulator", "district_regulator"}
EVERYONE = A_MEMBERS | B_USERS | CLAIMANTS | SCOPED | {"admin"}
PERSONAS = sorted(EVERYONE | {"anonymous"})
A_ROLES = A_MEMBERS | SCOPED | {"admin"}  # any role in A (the platform admin passes everywhere)
REGULATORS = {"admin", "regulator", "b_regulator"} | SCOPED  # a regulator anywhere
A_REGULATORS = {"admin", "regulator"} | SCOPED
STREETWIDE = {"admin"} | SCOPED  # a scope over A's street (or the district)
A_READERS = {"admin", "committee", "staff"} | A_REGULATORS
CONSOLE_USERS = {"admin", "committee", "staff", "regulator", "b_committee", "b_staff", "b_regulator"}

# operation → the personas that get past its access check. A/B: communities; the ticket was filed by
# A's owner; the binding under review is the pending claimant's; the vote is open in A.
TABLE = {
    "POST /api/v1/auth/wechat-login": EVERYONE | {"anonymous"},
    "POST /api/v1/auth/logout": EVERYONE,
    "GET /api/v1/me": EVERYONE,
    "POST /api/v1/me/phone": EVERYONE,
    "GET /api/v1/communities": EVERYONE,
    "POST /api/v1/communities": {"admin"},
    "POST /api/v1/communities/{cid}/members": {"admin", "committee"},
    "GET /api/v1/communities/{cid}/members": {"admin", "committee", "staff", "regulator"},
    # the committee removes the property staff it may add (the membership under test is a clerk's)
    "DELETE /api/v1/communities/{cid}/members/{member_id}": {"admin", "committee"},
    "POST /api/v1/communities/{cid}/registry": {"admin", "committee"},
    "GET /api/v1/communities/{cid}/parts": {"admin", "committee", "staff", "regulator"},
    "GET /api/v1/communities/{cid}/registry/export": {"admin", "committee", "staff", "regulator"},
    "POST /api/v1/communities/{cid}/bindings": EVERYONE,  # anyone may claim a flat, in any community
    "GET /api/v1/communities/{cid}/bindings": {"admin", "committee", "staff"},
    "POST /api/v1/bindings/{bid}/review": {"admin", "committee", "staff"},
    "POST /api/v1/media": EVERYONE,
    "GET /api/v1/media/{mid}/info": A_ROLES,  # a notice's attachment
    "GET /api/v1/media/{mid}": A_ROLES,
    "GET /api/v1/media/{mid}/thumbnail": A_ROLES,
    "POST /api/v1/communities/{cid}/tickets": A_ROLES,
    "GET /api/v1/communities/{cid}/tickets": A_ROLES,
    "GET /api/v1/tickets/{tid}": {"admin", "owner", "committee", "staff"},  # reporter and handlers
    # the platform admin reads everything but does not act as property staff on tickets
    "POST /api/v1/tickets/{tid}/transitions": {"staff"},  # accept
    "POST /api/v1/tickets/{tid}/assign": {"staff"},
    "POST /api/v1/tickets/{tid}/replies": {"owner", "staff"},
    "GET /api/v1/communities/{cid}/ticket-stats": {"admin", "committee", "staff", "regulator"},
    "GET /api/v1/communities/{cid}/disclosures": A_ROLES,
    "POST /api/v1/communities/{cid}/disclosures": {"admin", "staff"},
    "GET /api/v1/communities/{cid}/disclosures/{kind}/versions": A_ROLES,
    "GET /api/v1/communities/{cid}/disclosures/{kind}/versions/{number}": A_ROLES,
    "GET /api/v1/communities/{cid}/disclosures/{kind}/diff": A_ROLES,
    "GET /api/v1/communities/{cid}/my-fees": {"admin", "owner"},
    "GET /api/v1/communities/{cid}/revenue-statements": A_ROLES,
    "POST /api/v1/communities/{cid}/revenue-statements": {"admin", "committee"},
    "GET /api/v1/communities/{cid}/revenue-statements/{period}/versions": A_ROLES,
    "GET /api/v1/communities/{cid}/revenue-statements/{period}/versions/{number}": A_ROLES,
    "GET /api/v1/communities/{cid}/revenue-statements/{period}/diff": A_ROLES,
    "POST /api/v1/communities/{cid}/emergency-spending": {"admin", "committee", "staff"},
    "GET /api/v1/communities/{cid}/emergency-spending": A_ROLES,
    "GET /api/v1/communities/{cid}/emergency-spending/{rid}": A_ROLES,
    "GET /api/v1/communities/{cid}/notices": A_ROLES,
    "POST /api/v1/communities/{cid}/notices": {"committee", "staff"},  # the admin must name a publisher role
    "GET /api/v1/communities/{cid}/notices/{nid}": A_ROLES,
    "PATCH /api/v1/communities/{cid}/notices/{nid}": {"admin", "committee"},  # its publisher role
    "POST /api/v1/communities/{cid}/notices/{nid}/read": A_ROLES,
    "POST /api/v1/communities/{cid}/notices/{nid}/withdraw": {"admin", "committee"},
    "POST /api/v1/communities/{cid}/votes": {"admin", "committee"},
    "GET /api/v1/communities/{cid}/votes": A_ROLES,
    "GET /api/v1/me/votes": EVERYONE,
    "GET /api/v1/votes/{vid}": A_ROLES,
    "PATCH /api/v1/votes/{vid}": {"admin", "committee"},
    "POST /api/v1/votes/{vid}/open": {"admin", "committee"},
    "GET /api/v1/votes/{vid}/my-rights": A_ROLES,
    "POST /api/v1/votes/{vid}/ballots": {"owner"},  # the signed ballot is the owner's
    "POST /api/v1/votes/{vid}/paper-ballots": {"admin", "committee"},
    "GET /api/v1/votes/{vid}/tree-head": A_ROLES,
    "GET /api/v1/votes/{vid}/proofs/inclusion": A_ROLES,
    "GET /api/v1/votes/{vid}/proofs/consistency": A_ROLES,
    "POST /api/v1/votes/{vid}/close": {"admin", "committee"},
    "GET /api/v1/votes/{vid}/turnout": A_ROLES,  # totals only; who voted is the roll's
    "GET /api/v1/votes/{vid}/roll": {"admin", "committee", "regulator"},
    "GET /api/v1/votes/{vid}/tally": A_ROLES,
    "GET /api/v1/votes/{vid}/bundle": {"admin", "owner", "regulator", "committee"},
    # witnesses: the committee registers its members' keys (the admin any); the community sees them
    "POST /api/v1/communities/{cid}/witnesses": {"admin", "committee"},
    "GET /api/v1/communities/{cid}/witnesses": A_ROLES,
    "DELETE /api/v1/communities/{cid}/witnesses/{wid}": {"admin", "committee"},
    # the witness program's own routes: authenticated by the witness's signature, not a bearer token,
    # so whoever sends the request, a request the vote's witness signed gets through
    "GET /api/v1/witness/votes": EVERYONE | {"anonymous"},
    "GET /api/v1/witness/votes/{vid}/head": EVERYONE | {"anonymous"},
    "POST /api/v1/votes/{vid}/cosignatures": EVERYONE | {"anonymous"},
    # proxies: the owner signs them; anyone of the community sees their own (empty for non-owners)
    "POST /api/v1/votes/{vid}/delegations": {"owner"},
    "POST /api/v1/votes/{vid}/delegation-revocations": {"owner"},
    "GET /api/v1/votes/{vid}/delegations": A_ROLES,
    "GET /api/v1/me/proxies": EVERYONE,
    "POST /api/v1/me/proxy-keys": {"owner", "b_owner"},  # a verified phone (here: the verified owners)
    "POST /api/v1/me/keys": {"owner", "b_owner"},  # verified owners, of any community
    "GET /api/v1/me/keys": EVERYONE,
    "DELETE /api/v1/me/keys/{public_key}": {"owner"},  # one's own key only
    # the console's QR sign-in: anyone may ask for a challenge or poll with its secret; only a holder of
    # a console role may look at a scanned code and confirm it; anyone who scanned it may decline
    "POST /api/v1/console/login-challenges": EVERYONE | {"anonymous"},
    "GET /api/v1/console/login-challenges/{code}": CONSOLE_USERS,
    "POST /api/v1/console/login-challenges/{code}/confirm": CONSOLE_USERS,
    "POST /api/v1/console/login-challenges/{code}/decline": EVERYONE,
    "POST /api/v1/console/login-challenges/{code}/poll": EVERYONE | {"anonymous"},
    "POST /api/v1/console/dev-login": set(),  # development only (the tests run without the fake WeChat on)
    "GET /api/v1/me/sessions": EVERYONE,
    "DELETE /api/v1/me/sessions/{session_id}": {"owner"},  # one's own session only
    "GET /api/v1/health": EVERYONE | {"anonymous"},  # the liveness probe
    "GET /api/v1/notifications/templates": EVERYONE,  # the mini-program's subscribe-message ids
    # the district (issue 15)
    "POST /api/v1/streets": {"admin"},
    "GET /api/v1/streets": REGULATORS,
    "PUT /api/v1/communities/{cid}/street": {"admin"},
    "GET /api/v1/streets/{sid}/communities": STREETWIDE,
    "GET /api/v1/streets/{sid}/dashboard": STREETWIDE,
    "POST /api/v1/regulator-scopes": {"admin"},
    "GET /api/v1/regulator-scopes": {"admin"},
    "DELETE /api/v1/regulator-scopes/{scope_id}": {"admin"},
    "POST /api/v1/organisations": {"admin", "district_regulator"},
    "GET /api/v1/organisations": REGULATORS,
    "POST /api/v1/organisations/{oid}/managers": {"admin", "district_regulator"},
    "GET /api/v1/organisations/{oid}/managers": REGULATORS,
    "POST /api/v1/communities/{cid}/service-contracts": A_REGULATORS,
    "GET /api/v1/communities/{cid}/service-contracts": A_ROLES,
    "POST /api/v1/hotline-imports": STREETWIDE,  # a membership in one community is no street scope
    "POST /api/v1/tickets/{tid}/validity": A_REGULATORS - {"admin"},  # a hotline complaint in A
    "GET /api/v1/complaint-rollups/{week}": REGULATORS,
    "POST /api/v1/open311-clients": {"admin"},
    "GET /api/v1/open311-clients": {"admin"},
    "DELETE /api/v1/open311-clients/{client_id}": {"admin"},
    "POST /api/v1/communities/{cid}/inspections": A_REGULATORS,
    "GET /api/v1/communities/{cid}/inspections": A_READERS,
    "GET /api/v1/inspections/{iid}": A_READERS,
    "GET /api/v1/communities/{cid}/measures": A_READERS,
    "GET /api/v1/measures/{mid}": A_READERS,
    "POST /api/v1/measures/{mid}/answers": {"staff"},
    "POST /api/v1/measures/{mid}/review": A_REGULATORS,
    "POST /api/v1/streets/{sid}/circulars": STREETWIDE,
    "GET /api/v1/streets/{sid}/circulars": STREETWIDE,
    "GET /api/v1/inspection-progress": STREETWIDE,
    "GET /api/v1/organisations/{oid}/integrity/{period}": REGULATORS,
    "GET /api/v1/public/organisations": EVERYONE | {"anonymous"},  # the public query: no login
    "GET /api/v1/public/organisations/{oid}": EVERYONE | {"anonymous"},
    "GET /api/v1/public/organisations/{oid}/scores/{period}": EVERYONE | {"anonymous"},
    "GET /api/v1/public/integrity-lists/{year}": EVERYONE | {"anonymous"},
    "POST /api/v1/communities/{cid}/disputes": {"admin", "owner", "committee"},
    "GET /api/v1/communities/{cid}/disputes": A_ROLES,
    "GET /api/v1/disputes/{did}": {"owner"} | A_READERS,  # filed by A's owner
    "POST /api/v1/disputes/{did}/records": {"committee"},  # level 1 is the committee's
    "POST /api/v1/disputes/{did}/take-up": {"owner", "committee"},  # the filer, the level's body (409: too early)
    "GET /api/v1/regulator/disputes": REGULATORS,
}
# A regulator scope gives `regulator` in every community of the scope and nothing else: wherever A's
# regulator may act, so may the street's and the district's — and nowhere else (TABLE's other rows).
TABLE = {operation: allowed | SCOPED if "regulator" in allowed else allowed for operation, allowed in TABLE.items()}
DENIED = {401, 403, 404}


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def png():
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Place:
    """Two communities, every kind of user, and one object of each kind in A."""

    def __init__(self, world, client):
        self.world, self.client = world, client
        self.a, phones = world.standard_community()
        self.b, _ = world.standard_community()
        u = self.users = {"admin": world.platform_admin(), "anonymous": None}
        for name, role in (("committee", "committee"), ("staff", "property_staff"), ("regulator", "regulator"),
                           ("resident", "resident")):
            u[name] = world.member(self.a, role)
            u["b_" + name] = world.member(self.b, role)
        u["owner"] = world.owner(self.a, "1", "1", "101", "张伟", phones["张伟"])
        admin = u["admin"]["headers"]
        self.street = client.post("/api/v1/streets", headers=admin, json={"name": "幸福街道"}).json["id"]
        assert client.put(f"/api/v1/communities/{self.a}/street", headers=admin,
                          json={"street_id": self.street}).status_code == 200
        for name, street in (("street_regulator", self.street), ("district_regulator", None)):
            u[name] = world.login()
            assert client.post("/api/v1/regulator-scopes", headers=admin,
                               json={"user_id": u[name]["id"], "street_id": street}).status_code == 201
        u["b_owner"] = world.owner(self.b, "1", "1", "102", "李娜", phones["李娜"])
        for name in ("pending", "rejected"):
            u[name] = world.login()
            resp = self.post(name, f"/api/v1/communities/{self.a}/bindings",
                             {"building": "1", "unit": "1", "room": "102", "name": "王强"})
            assert resp.status_code == 201 and resp.json["status"] == "pending", resp.json
            u[name]["binding"] = resp.json["id"]
        assert self.post("committee", f"/api/v1/bindings/{u['rejected']['binding']}/review",
                         {"decision": "reject", "reason": "无房产证"}).status_code == 200
        self.key = Ed25519PrivateKey.generate()
        self.public_key = b64u(self.key.public_key().public_bytes_raw())
        assert self.post("owner", "/api/v1/me/keys", {"public_key": self.public_key}).status_code == 201
        self.media = self.upload("committee")
        self.notice = self.post("committee", f"/api/v1/communities/{self.a}/notices",
                                {"title": "停水通知", "body": "周六停水", "attachment_ids": [self.media]}).json["id"]
        self.ticket = self.post("owner", f"/api/v1/communities/{self.a}/tickets",
                                {"category": "repair", "subject": "elevator", "description": "电梯异响",
                                 "location": "1 号楼"}).json["id"]
        resp = self.post("staff", f"/api/v1/communities/{self.a}/disclosures",
                         {"kind": "service_content", "content": SERVICE_CONTENT})
        assert resp.status_code == 201, resp.json
        self.spending = self.post("committee", f"/api/v1/communities/{self.a}/emergency-spending",
                                  self.spending_body()).json["id"]
        resp = self.post("committee", f"/api/v1/communities/{self.a}/revenue-statements",
                         {"content": self.revenue_content()})
        assert resp.status_code == 201, resp.json
        self.period = resp.json["series"]
        # A committee member's witness, named by the vote's definition; a resident who can be a proxy.
        self.witness_key = Ed25519PrivateKey.generate()
        self.witness_public = b64u(self.witness_key.public_key().public_bytes_raw())
        resp = self.post("committee", f"/api/v1/communities/{self.a}/witnesses",
                         {"kind": "committee_member", "name": "委员 刘洋", "public_key": self.witness_public})
        assert resp.status_code == 201, resp.json
        self.witness = resp.json["id"]
        proxy = world.member(self.a, "resident")
        world.verify_phone(proxy, "13911110000")
        self.delegate_key = b64u(Ed25519PrivateKey.generate().public_key().public_bytes_raw())
        assert self.client.post("/api/v1/me/proxy-keys", headers=proxy["headers"],
                                json={"public_key": self.delegate_key}).status_code == 201
        now = datetime.now(timezone.utc)
        resp = self.post("committee", f"/api/v1/communities/{self.a}/votes", self.vote_body(now))
        assert resp.status_code == 201, resp.json
        self.vote = resp.json["id"]
        opened = self.post("committee", f"/api/v1/votes/{self.vote}/open", None)
        assert opened.status_code == 200, opened.json
        self.vote_id = opened.json["vote_id"]
        rights = self.client.get(f"/api/v1/votes/{self.vote}/my-rights", headers=u["owner"]["headers"]).json
        self.right_id = rights[0]["right_id"]
        sessions = self.client.get("/api/v1/me/sessions", headers=u["owner"]["headers"]).json
        self.owner_session = next(s["id"] for s in sessions if s["current"])

    def district(self):
        """The district's objects, made once on first use: an organisation serving A with a manager,
        an inspection with a measure, a circular, a hotline complaint, a roll-up, frozen results,
        a dispute, an Open311 client and a spare scope."""
        if getattr(self, "_district", None):
            return self._district
        from backend.extensions import db
        from backend.models import Ticket
        from backend.services import hotline, integrity, integrity_results

        admin, now = self.users["admin"]["headers"], datetime.now(timezone.utc)
        org = self.post("admin", "/api/v1/organisations", {"kind": "property_company", "name": "安居物业",
                                                            "uscc": "91350100M000100Y43"}).json["id"]
        manager = self.post("admin", f"/api/v1/organisations/{org}/managers", {"name": "陈经理"}).json["id"]
        today = now.astimezone(integrity.CHINA).date()
        assert self.post("regulator", f"/api/v1/communities/{self.a}/service-contracts", {
            "organisation_id": org, "service": "property", "starts_on": str(today - timedelta(days=400)),
            "manager_id": manager}).status_code == 201
        inspection = self.post("regulator", f"/api/v1/communities/{self.a}/inspections", {
            "kind": "inspection", "inspected_on": str(today), "items": [
                {"code": "clean", "title": "楼道清洁", "passed": False, "points": 3}],
            "measures": [{"level": "rectification_notice", "description": "清理楼道", "due_on": str(today)}]}).json
        circular = self.post("street_regulator", f"/api/v1/streets/{self.street}/circulars", {
            "title": "通报", "body": "本月检查情况", "issued_on": str(today)}).json["id"]
        ticket = Ticket(community_id=self.a, reporter_id=None, channel="12345", external_id="A-1",
                        category="complaint", subject="noise", description="噪音", location="1号楼",
                        status="submitted", created_at=now - timedelta(days=8), updated_at=now,
                        last_activity_at=now)
        db.session.add(ticket)
        db.session.commit()
        rollup = hotline.weekly_rollup(now)
        period = integrity.previous_quarter(integrity.quarter_of(now))
        integrity_results.publish("quarterly_score", f"org:{org}", period, {"score": 9000}, 9000, org)
        integrity_results.publish("annual_lists", "property_company", "2025", {"red": [org], "black": []}, None)
        db.session.commit()
        dispute = self.post("owner", f"/api/v1/communities/{self.a}/disputes",
                            {"title": "停车费", "description": "收费过高"}).json["id"]
        client = self.post("admin", "/api/v1/open311-clients", {"name": "市平台"}).json["id"]
        spare = self.world.login()
        scope = self.post("admin", "/api/v1/regulator-scopes", {"user_id": spare["id"]}).json["id"]
        self._district = dict(oid=org, iid=inspection["id"], mid=inspection["measures"][0]["id"], circular=circular,
                              hotline_ticket=ticket.id, week=rollup.week, period=period, year="2025",
                              did=dispute, client_id=client, scope_id=scope, sid=self.street,
                              current=integrity.quarter_of(now), admin=admin)
        return self._district

    def headers(self, name):
        user = self.users[name]
        return user["headers"] if user else {}

    def post(self, name, path, body):
        return self.client.post(path, headers=self.headers(name), json=body)

    def upload(self, name):
        resp = self.client.post("/api/v1/media", headers=self.headers(name), content_type="multipart/form-data",
                                data={"file": (io.BytesIO(png()), "photo.png")})
        assert resp.status_code == 201, resp.json
        return resp.json["id"]

    @staticmethod
    def spending_body():
        return {"amount_fen": 1_250_000, "reason": "电梯曳引机故障", "contractor": "某电梯公司",
                "spent_on": "2026-11-01", "street_office_reference": "JD-2026-001",
                "street_office_confirmed_on": "2026-11-02"}

    @staticmethod
    def revenue_content(extra_fen=0):
        return {**REVENUE, "opening_balance_fen": REVENUE["opening_balance_fen"] + extra_fen}

    @staticmethod
    def vote_body(now):
        return {"title": "更换电梯", "kind": "resolution", "opens_at": stamp(now - timedelta(minutes=1)),
                "closes_at": stamp(now + timedelta(hours=1))}

    def envelope(self):
        ballot = {"type": "ballot", "vote_id": self.vote_id, "right_id": self.right_id, "choice": {"option": "approve"},
                  "nonce": b64u(os.urandom(16)), "signed_at": stamp(datetime.now(timezone.utc))}
        data = json.dumps(ballot, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        return {"ballot": ballot, "public_key": self.public_key, "signature": b64u(self.key.sign(data))}

    def delegation(self, kind="delegation"):
        signed = make_delegation(self.vote_id, self.right_id, self.delegate_key, stamp(datetime.now(timezone.utc)),
                                 kind=kind)
        return sign_delegation(self.key, signed)

    def cosignature(self):
        head = self.client.get(f"/api/v1/votes/{self.vote}/tree-head", headers=self.headers("committee")).json
        size, root = head["tree_head"]["size"], head["tree_head"]["root"]
        witness_id = f"w{self.witness}"
        return make_cosignature(self.witness_key, self.vote_id, size, root, witness_id,
                                stamp(datetime.now(timezone.utc)))

    def witness_headers(self, target):
        return sign_request(self.witness_key, self.witness_public, "GET", target, stamp(datetime.now(timezone.utc)))

    def request(self, operation, persona):
        """A valid request for `operation` as `persona` (fresh bodies: nonces, codes, files)."""
        method, template = operation.split(" ", 1)
        challenge = None
        if "{code}" in template:  # a fresh challenge each time: confirming one uses it up
            challenge = self.client.post("/api/v1/console/login-challenges").json
        member = None
        if "{member_id}" in template:  # a fresh property-staff role each time: removing one uses it up
            member = self.client.post(f"/api/v1/communities/{self.a}/members", headers=self.headers("admin"),
                                      json={"openid": f"clerk-{os.urandom(4).hex()}", "role": "property_staff"}).json["id"]
        d = self.district() if any(k in template for k in DISTRICT_PLACES) else {}
        if operation == "POST /api/v1/tickets/{tid}/validity":
            template = template.replace("{tid}", str(d["hotline_ticket"]))
        if template.startswith("/api/v1/measures/"):
            template = template.replace("{mid}", str(d["mid"]))
        if operation == "GET /api/v1/organisations/{oid}/integrity/{period}":
            template = template.replace("{period}", d["current"])
        if operation == "GET /api/v1/public/organisations/{oid}/scores/{period}":
            template = template.replace("{period}", d["period"])
        path = template.format(cid=self.a, bid=self.users["pending"]["binding"], mid=self.media, tid=self.ticket,
                               sid=d.get("sid"), oid=d.get("oid"), iid=d.get("iid"), week=d.get("week"),
                               scope_id=d.get("scope_id"), client_id=d.get("client_id"), did=d.get("did"),
                               year=d.get("year"),
                               kind="service_content", number=1, period=self.period, rid=self.spending,
                               nid=self.notice, vid=self.vote, public_key=self.public_key,
                               code=challenge and challenge["code"], session_id=self.owner_session, wid=self.witness,
                               member_id=member)
        query, body, files = QUERIES.get(operation, ""), None, None
        now = datetime.now(timezone.utc)
        bodies = {
            "POST /api/v1/auth/wechat-login": lambda: {"code": f"code-{persona}-again~{os.urandom(4).hex()}"},
            "POST /api/v1/me/phone": lambda: {"code": f"phone-13911112222~{os.urandom(4).hex()}"},
            "POST /api/v1/communities": lambda: {"name": "新小区", "district": "朝阳区", "address": "幸福路 2 号"},
            "POST /api/v1/communities/{cid}/members": lambda: {"user_id": self.users["resident"]["id"],
                                                               "role": "property_staff"},
            "POST /api/v1/communities/{cid}/bindings": lambda: {"building": "2", "unit": "1", "room": "103",
                                                                "name": "赵敏"},
            "POST /api/v1/bindings/{bid}/review": lambda: {"decision": "reject", "reason": "材料不全"},
            "POST /api/v1/communities/{cid}/tickets": lambda: {"category": "complaint", "subject": "noise",
                                                               "description": "夜间噪音", "location": "2 号楼"},
            "POST /api/v1/tickets/{tid}/transitions": lambda: {"to": "accepted"},
            "POST /api/v1/tickets/{tid}/assign": lambda: {"assignee_id": None},
            "POST /api/v1/tickets/{tid}/replies": lambda: {"body": "已收到"},
            "POST /api/v1/communities/{cid}/disclosures": lambda: {"kind": "service_content", "content": {
                "items": SERVICE_CONTENT["items"] + [{"name": persona, "description": "新增", "frequency": "每周"}]}},
            "POST /api/v1/communities/{cid}/revenue-statements": lambda: {
                "content": self.revenue_content(len(persona))},
            "POST /api/v1/communities/{cid}/emergency-spending": self.spending_body,
            "POST /api/v1/communities/{cid}/notices": lambda: {"title": "通知", "body": "内容"},
            "PATCH /api/v1/communities/{cid}/notices/{nid}": lambda: {"pinned": True},
            "POST /api/v1/communities/{cid}/notices/{nid}/withdraw": lambda: {"reason": "发错了"},
            "POST /api/v1/communities/{cid}/votes": lambda: self.vote_body(now),
            "PATCH /api/v1/votes/{vid}": lambda: {"title": "改个标题"},
            "POST /api/v1/votes/{vid}/ballots": self.envelope,
            "POST /api/v1/votes/{vid}/paper-ballots": lambda: {"right_id": self.right_id, "choice": {"option": "reject"},
                                                               "evidence_media_id": self.media},
            "POST /api/v1/me/keys": lambda: {"public_key": b64u(os.urandom(32))},
            "POST /api/v1/me/proxy-keys": lambda: {"public_key": b64u(os.urandom(32))},
            "POST /api/v1/communities/{cid}/witnesses": lambda: {
                "kind": "committee_member", "name": "委员", "public_key": b64u(os.urandom(32))},
            "POST /api/v1/votes/{vid}/cosignatures": self.cosignature,
            "POST /api/v1/votes/{vid}/delegations": self.delegation,
            "POST /api/v1/votes/{vid}/delegation-revocations": lambda: self.delegation("delegation_revocation"),
            "POST /api/v1/console/login-challenges/{code}/poll": lambda: {"poll_secret": challenge["poll_secret"]},
            "POST /api/v1/console/dev-login": lambda: {"openid": self.users["committee"]["openid"]},
            "POST /api/v1/streets": lambda: {"name": f"街道-{persona}"},
            "PUT /api/v1/communities/{cid}/street": lambda: {"street_id": d["sid"], "latitude": "31.230416",
                                                             "longitude": "121.473701"},
            "POST /api/v1/regulator-scopes": lambda: {"user_id": self.users["resident"]["id"], "street_id": d["sid"]},
            "POST /api/v1/organisations": lambda: {"kind": "lift_contractor", "name": f"电梯{persona}",
                                                   "uscc": "91110000600037341L"},
            "POST /api/v1/organisations/{oid}/managers": lambda: {"name": "李经理"},
            "POST /api/v1/communities/{cid}/service-contracts": lambda: {
                "organisation_id": d["oid"], "service": "property", "starts_on": str(now.date())},
            "POST /api/v1/tickets/{tid}/validity": lambda: {"valid": False, "reason": "非物业职责"},
            "POST /api/v1/open311-clients": lambda: {"name": f"客户端-{persona}"},
            "POST /api/v1/communities/{cid}/inspections": lambda: {
                "kind": "review", "inspected_on": str(now.date() - timedelta(days=1)),
                "items": [{"code": "lift.cert", "title": "电梯年检", "passed": True, "points": 5}]},
            "POST /api/v1/measures/{mid}/answers": lambda: {"body": "已清理"},
            "POST /api/v1/measures/{mid}/review": lambda: {"decision": "accept"},
            "POST /api/v1/streets/{sid}/circulars": lambda: {"title": "通报", "body": "内容",
                                                            "issued_on": str(now.date() - timedelta(days=1))},
            "POST /api/v1/communities/{cid}/disputes": lambda: {"title": "纠纷", "description": "说明"},
            "POST /api/v1/disputes/{did}/records": lambda: {"outcome": "session", "note": "第一次调解"},
            "POST /api/v1/disputes/{did}/take-up": lambda: {"note": "申请上一级"},
        }
        if operation == "POST /api/v1/communities/{cid}/registry":
            rows = "building,unit,room,area_m2,owner_name,owner_phone,owner_id_number,owner_kind\n" \
                   f"1,1,101,89.50,张伟,13800000001,{id_number(1)},person\n"
            files = {"file": (io.BytesIO(rows.encode()), "registry.csv")}
        elif operation == "POST /api/v1/hotline-imports":
            rows = "工单编号,受理时间,事发地址,诉求内容,诉求类型,渠道\n" \
                   f"H-{persona},2026-11-20 09:30:00,幸福路 1 号 1号楼,楼下噪音扰民,投诉,12345\n"
            files = {"file": (io.BytesIO(rows.encode()), "orders.csv")}
        elif operation == "POST /api/v1/media":
            files = {"file": (io.BytesIO(png()), "photo.png")}
        elif operation in bodies:
            body = bodies[operation]()
        kwargs = {"headers": self.headers(persona)}
        if template.startswith("/api/v1/witness/"):
            kwargs["headers"] = {**kwargs["headers"], **self.witness_headers(path + query)}
        if files:
            kwargs.update(data=files, content_type="multipart/form-data")
        elif method in ("POST", "PATCH", "PUT") and body is not None:
            kwargs["json"] = body
        return self.client.open(path + query, method=method, **kwargs)


DISTRICT_PLACES = ("{sid}", "{oid}", "{iid}", "/measures", "{week}", "{scope_id}", "{client_id}", "{did}", "{year}",
                   "{period}", "/validity", "/organisations", "/inspection-progress", "/hotline-imports", "/street",
                   "/service-contracts", "/inspections", "/regulator-scopes",
                   "/regulator/", "/public/", "/open311-clients", "/disputes")
QUERIES = {
    "GET /api/v1/inspection-progress": "?month=2026-11",
    "GET /api/v1/votes/{vid}/proofs/inclusion": "?leaf_index=0",
    "GET /api/v1/votes/{vid}/proofs/consistency": "?first=1",
    "GET /api/v1/communities/{cid}/disclosures/{kind}/diff": "?from=1&to=1",
    "GET /api/v1/communities/{cid}/revenue-statements/{period}/diff": "?from=1&to=1",
}


def operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    return sorted(f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
                  if method in ("get", "post", "put", "patch", "delete"))


def test_the_table_covers_every_operation_of_the_spec(app):
    published = set(operations(app))
    assert published - set(TABLE) == set(), "operations without a row in TABLE: decide who may call them"
    assert set(TABLE) - published == set(), "rows for operations the API does not have"


OPERATIONS = sorted(TABLE)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_who_may_do_what(world, client, operation):
    place = Place(world, client)
    allowed = TABLE[operation]
    # those refused first: their requests must change nothing the others then see
    for persona in sorted(PERSONAS, key=lambda p: p in allowed):
        resp = place.request(operation, persona)
        body = resp.get_json(silent=True) or {}
        if persona in allowed:
            assert resp.status_code not in DENIED, (persona, resp.status_code, body)
            assert resp.status_code < 500, (persona, body)
        else:
            assert resp.status_code in DENIED, (persona, resp.status_code, body)
            assert set(body) == {"error"} and body["error"]["message"], body
