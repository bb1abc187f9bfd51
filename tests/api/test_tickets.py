"""Tickets end to end: filing with photos, the workflow guard for every (from, to, role), replies,
assignment, lists and filters, who sees what (photos included), cross-community refusals,
notifications, and the escalation and auto-confirm commands on a controlled clock."""
import io
from datetime import timedelta

import pytest
from PIL import Image

from backend.config import Config, ConfigError
from backend.extensions import db
from backend.models import OutboxMessage, Ticket, TicketEvent, User
from backend.models.base import utcnow
from backend.models.ticket import TICKET_STATUSES, TICKET_SUBJECTS
from backend.services import tickets as service

# The workflow the tests expect, written out independently of the service's table.
ALLOWED = {
    ("submitted", "accepted"): {"staff"},
    ("accepted", "in_progress"): {"staff"},
    ("in_progress", "resolved"): {"staff"},
    ("resolved", "confirmed"): {"reporter"},
    ("resolved", "reopened"): {"reporter"},
    ("reopened", "in_progress"): {"staff"},
}
# How to reach each status from submitted, as (to, actor) steps.
PATHS = {
    "submitted": [],
    "accepted": ["accepted"],
    "in_progress": ["accepted", "in_progress"],
    "resolved": ["accepted", "in_progress", "resolved"],
    "confirmed": ["accepted", "in_progress", "resolved", "confirmed"],
    "reopened": ["accepted", "in_progress", "resolved", "reopened"],
}
PAYLOAD = {"confirmed": {"rating": 4, "comment": "谢谢"}, "reopened": {"reason": "还是坏的"},
           "resolved": {"comment": "已更换按钮"}}


def png(colour=(200, 30, 30), size=(64, 48)):
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def upload(client, user, colour=(200, 30, 30)):
    resp = client.post("/api/v1/media", headers=user["headers"], data={"file": (io.BytesIO(png(colour)), "p.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def as_user(u):
    db.session.expire_all()
    return db.session.get(User, u["id"])


def messages(user=None, event=None):
    """Outbox rows (user_id, event), optionally filtered."""
    db.session.expire_all()
    rows = db.session.execute(db.select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
    return [(m.user_id, m.event) for m in rows
            if (user is None or m.user_id == user["id"]) and (event is None or m.event == event)]


class Scene:
    """One community with its people, and a second community with its own staff and regulator."""

    def __init__(self, world):
        self.world, self.client = world, world.client
        self.cid, self.phones = world.standard_community()
        self.reporter = world.owner(self.cid, "1", "1", "101", "张伟", self.phones["张伟"])
        self.neighbour = world.member(self.cid, "resident")
        self.staff = world.member(self.cid, "property_staff")
        self.staff2 = world.member(self.cid, "property_staff")
        self.committee = world.member(self.cid, "committee")
        self.regulator = world.member(self.cid, "regulator")
        self.other_cid = world.community()
        self.outsider_staff = world.member(self.other_cid, "property_staff")
        self.outsider_regulator = world.member(self.other_cid, "regulator")

    def part_id(self, label):
        from backend.models import Part

        b, u, r = label.split("-")
        return db.session.execute(db.select(Part.id).filter_by(community_id=self.cid, building=b, unit=u,
                                                               room=r)).scalar_one()

    def file(self, user=None, **fields):
        body = {"category": "repair", "subject": "elevator", "description": "3 号电梯按钮失灵", "location": "1 号楼电梯厅"}
        body.update(fields)
        return self.client.post(f"/api/v1/communities/{self.cid}/tickets", headers=(user or self.reporter)["headers"],
                                json=body)

    def ticket(self, **fields):
        resp = self.file(**fields)
        assert resp.status_code == 201, resp.json
        return resp.json["id"]

    def move(self, tid, to, user, **extra):
        body = {"to": to, **PAYLOAD.get(to, {}), **extra}
        return self.client.post(f"/api/v1/tickets/{tid}/transitions", headers=user["headers"], json=body)

    def drive(self, tid, status):
        for to in PATHS[status]:
            actor = self.reporter if to in ("confirmed", "reopened") else self.staff
            resp = self.move(tid, to, actor)
            assert resp.status_code == 200, resp.json

    def escalate(self, tid):
        """Mark one ticket escalated through the job, with a clock past every deadline."""
        ticket = db.session.get(Ticket, tid)
        escalated = service.escalate_overdue(now=ticket.created_at + timedelta(days=60))
        assert tid in escalated

    def get(self, tid, user):
        return self.client.get(f"/api/v1/tickets/{tid}", headers=user["headers"])


@pytest.fixture
def scene(world):
    return Scene(world)


# ---------------------------------------------------------------- filing


def test_file_with_photos_and_part_then_timeline(scene, client):
    photos = [upload(client, scene.reporter, (255, 0, 0)), upload(client, scene.reporter, (0, 0, 255))]
    resp = scene.file(category="complaint", subject="noise", part_id=scene.part_id("1-1-101"), location="卧室",
                      photo_ids=photos)
    assert resp.status_code == 201, resp.json
    body = resp.json
    assert (body["status"], body["category"], body["subject"]) == ("submitted", "complaint", "noise")
    assert body["part_label"] == "1-1-101" and body["location"] == "卧室"
    assert [p["id"] for p in body["photos"]] == photos
    assert body["photos"][0]["thumbnail_url"] == f"/api/v1/media/{photos[0]}/thumbnail"
    assert [e["action"] for e in body["events"]] == ["submitted"] and body["replies"] == []
    assert body["escalated_at"] is None and body["overdue"] is False and body["reporter_id"] == scene.reporter["id"]
    # every staff member is told about the new ticket; nobody else
    assert sorted(messages(event="ticket_submitted")) == sorted(
        [(scene.staff["id"], "ticket_submitted"), (scene.staff2["id"], "ticket_submitted")])
    detail = scene.get(body["id"], scene.reporter)
    assert detail.status_code == 200 and detail.json["events"][0]["actor_role"] == "reporter"


def test_common_area_only_and_location_rules(scene):
    assert scene.file(location="南门消防通道", subject="fire_lane").status_code == 201
    resp = scene.file(location="  ")
    assert resp.status_code == 422 and "location" in resp.json["error"]["details"]["fields"]
    from backend.models import Part

    scene.world.import_registry(scene.other_cid, [("9", "1", "901", "50.00", "周七", "13900000009", "", "person")])
    other_part = db.session.execute(db.select(Part.id).filter_by(community_id=scene.other_cid)).scalar_one()
    resp = scene.file(part_id=other_part)
    assert resp.status_code == 422 and "part_id" in resp.json["error"]["details"]["fields"]
    resp = scene.file(category="praise", subject="lift", description="")
    assert resp.status_code == 422
    assert {"category", "subject", "description"} <= set(resp.json["error"]["details"]["fields"])
    resp = scene.file(extra="x")
    assert resp.status_code == 422 and "extra" in resp.json["error"]["details"]["fields"]
    assert db.session.execute(db.select(db.func.count(Ticket.id))).scalar_one() == 1


def test_only_people_of_the_community_may_file(scene, world):
    stranger = world.login()
    assert scene.file(user=stranger).status_code == 403
    assert scene.file(user=scene.outsider_staff).status_code == 403
    assert scene.client.post(f"/api/v1/communities/{scene.cid}/tickets", json={}).status_code == 401


def test_photos_only_if_uploaded_by_the_same_user(scene, client):
    theirs = upload(client, scene.neighbour)
    mine = upload(client, scene.reporter)
    resp = scene.file(photo_ids=[mine, theirs])
    assert resp.status_code == 422
    assert "photo_ids" in resp.json["error"]["details"]["fields"]
    assert resp.json["error"]["details"]["media_ids"] == [theirs]
    assert db.session.execute(db.select(db.func.count(Ticket.id))).scalar_one() == 0  # nothing half-written
    first = scene.ticket(photo_ids=[mine])
    # a photo already on one ticket cannot be put on another
    resp = scene.file(photo_ids=[mine])
    assert resp.status_code == 422 and resp.json["error"]["details"]["media_ids"] == [mine]
    resp = scene.file(photo_ids=list(range(1, 11)))
    assert resp.status_code == 422 and "photo_ids" in resp.json["error"]["details"]["fields"]
    # staff cannot attach the reporter's photo to their reply either
    scene.drive(first, "accepted")
    resp = client.post(f"/api/v1/tickets/{first}/replies", headers=scene.staff["headers"],
                       json={"body": "看到了", "photo_ids": [upload(client, scene.reporter)]})
    assert resp.status_code == 422 and "photo_ids" in resp.json["error"]["details"]["fields"]


def test_photo_visibility_follows_the_ticket(scene, client):
    photo = upload(client, scene.reporter)
    tid = scene.ticket(photo_ids=[photo])
    for user, status in ((scene.reporter, 200), (scene.staff, 200), (scene.committee, 200),
                         (scene.neighbour, 403), (scene.regulator, 403), (scene.outsider_staff, 403)):
        assert client.get(f"/api/v1/media/{photo}", headers=user["headers"]).status_code == status, user
    scene.drive(tid, "in_progress")
    staff_photo = upload(client, scene.staff, (0, 200, 0))
    resp = client.post(f"/api/v1/tickets/{tid}/replies", headers=scene.staff["headers"],
                       json={"body": "师傅已到现场", "photo_ids": [staff_photo]})
    assert resp.status_code == 201 and [p["id"] for p in resp.json["photos"]] == [staff_photo]
    assert client.get(f"/api/v1/media/{staff_photo}", headers=scene.reporter["headers"]).status_code == 200
    assert client.get(f"/api/v1/media/{staff_photo}", headers=scene.neighbour["headers"]).status_code == 403
    scene.escalate(tid)
    assert client.get(f"/api/v1/media/{photo}", headers=scene.regulator["headers"]).status_code == 200
    assert client.get(f"/api/v1/media/{staff_photo}", headers=scene.regulator["headers"]).status_code == 200
    assert client.get(f"/api/v1/media/{photo}", headers=scene.outsider_regulator["headers"]).status_code == 403


# ---------------------------------------------------------------- the workflow guard


def test_service_table_matches_the_documented_workflow():
    table = {pair: {"staff" if r == "property_staff" else r for r in roles - {"system"}}
             for pair, roles in service.TRANSITIONS.items()}
    assert table == ALLOWED
    assert service.TRANSITIONS[("resolved", "confirmed")] >= {"system"}


@pytest.mark.parametrize("from_status,to", [(f, t) for f in TICKET_STATUSES for t in TICKET_STATUSES])
def test_every_transition_for_every_role(scene, from_status, to):
    """Each role tries the move on a fresh ticket in `from_status`: 200 if the table allows it, 409 if
    the move does not exist, 403 if it exists but is not theirs, 404 if they cannot see the ticket."""
    people = {"reporter": scene.reporter, "staff": scene.staff, "committee": scene.committee,
              "regulator": scene.regulator, "neighbour": scene.neighbour, "outsider": scene.outsider_staff}
    for name, user in people.items():
        tid = scene.ticket()
        scene.escalate(tid)  # so that the regulator can see it and is refused for the right reason
        scene.drive(tid, from_status)
        resp = scene.move(tid, to, user)
        if name in ("neighbour", "outsider"):
            expected = 404
        elif (from_status, to) not in ALLOWED:
            expected = 409
        else:
            expected = 200 if name in ALLOWED[(from_status, to)] else 403
        assert resp.status_code == expected, (name, from_status, to, resp.json)
        db.session.expire_all()
        ticket = db.session.get(Ticket, tid)
        assert ticket.status == (to if expected == 200 else from_status)
        if expected == 200:
            last = scene.get(tid, user).json["events"][-1]
            assert (last["action"], last["from_status"], last["to_status"], last["actor_id"]) == (
                "transition", from_status, to, user["id"])
        elif expected in (403, 409):
            code = "invalid_transition" if expected == 409 else "transition_forbidden"
            assert resp.json["error"]["code"] == code


def test_full_story_with_timeline_and_notifications(scene, client):
    tid = scene.ticket()
    r = scene.move(tid, "accepted", scene.staff)
    assert r.status_code == 200 and r.json["assignee_id"] == scene.staff["id"] and r.json["first_response_at"]
    assert scene.move(tid, "in_progress", scene.staff, comment="已联系维保").status_code == 200
    photo = upload(client, scene.staff)
    r = scene.move(tid, "resolved", scene.staff, comment="已更换按钮", photo_ids=[photo])
    assert r.status_code == 200 and r.json["resolved_at"]
    reply = r.json["replies"][-1]
    assert (reply["body"], reply["author_role"], [p["id"] for p in reply["photos"]]) == (
        "已更换按钮", "property_staff", [photo])
    assert r.json["events"][-1]["reply_id"] == reply["id"]
    r = scene.move(tid, "confirmed", scene.reporter, rating=5, comment="修得很快")
    assert r.status_code == 200
    assert (r.json["status"], r.json["rating"], r.json["rating_comment"], r.json["auto_confirmed"]) == (
        "confirmed", 5, "修得很快", False)
    timeline = scene.get(tid, scene.reporter).json["events"]
    assert [(e["action"], e["to_status"]) for e in timeline] == [
        ("submitted", "submitted"), ("transition", "accepted"), ("transition", "in_progress"),
        ("transition", "resolved"), ("transition", "confirmed")]
    assert timeline[2]["note"] == "已联系维保" and timeline[4]["rating"] == 5
    # the resident hears of every status change made by someone else; not of their own
    assert messages(scene.reporter) == [(scene.reporter["id"], "ticket_status")] * 3
    # replies after confirmation are refused
    resp = client.post(f"/api/v1/tickets/{tid}/replies", headers=scene.reporter["headers"], json={"body": "再说一句"})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "ticket_closed"


def test_transition_payload_rules(scene):
    tid = scene.ticket()
    resp = scene.move(tid, "accepted", scene.staff, rating=3)
    assert resp.status_code == 422 and "rating" in resp.json["error"]["details"]["fields"]
    resp = scene.move(tid, "accepted", scene.staff, reason="x")
    assert resp.status_code == 422 and "reason" in resp.json["error"]["details"]["fields"]
    resp = scene.move(tid, "accepted", scene.staff, photo_ids=[1])
    assert resp.status_code == 422 and "photo_ids" in resp.json["error"]["details"]["fields"]
    resp = scene.move(tid, "flying", scene.staff)
    assert resp.status_code == 422 and "to" in resp.json["error"]["details"]["fields"]
    scene.drive(tid, "in_progress")
    resp = scene.move(tid, "resolved", scene.staff, comment=" ")
    assert resp.status_code == 422 and "comment" in resp.json["error"]["details"]["fields"]
    assert scene.move(tid, "resolved", scene.staff).status_code == 200
    for bad in ({"rating": None}, {"rating": 0}, {"rating": 6}, {"rating": "five"}):
        resp = scene.move(tid, "confirmed", scene.reporter, **bad)
        assert resp.status_code == 422 and "rating" in resp.json["error"]["details"]["fields"], bad
    resp = scene.move(tid, "reopened", scene.reporter, reason="")
    assert resp.status_code == 422 and "reason" in resp.json["error"]["details"]["fields"]
    db.session.expire_all()
    assert db.session.get(Ticket, tid).status == "resolved"


def test_reopen_within_seven_days_only(scene, client):
    tid = scene.ticket()
    scene.drive(tid, "resolved")
    r = scene.move(tid, "reopened", scene.reporter, reason="又坏了", photo_ids=[upload(client, scene.reporter)])
    assert r.status_code == 200 and r.json["reopen_count"] == 1
    assert r.json["replies"][-1]["author_role"] == "reporter" and len(r.json["replies"][-1]["photos"]) == 1
    assert r.json["events"][-1]["note"] == "又坏了"
    # the assignee hears of the reopening
    assert (scene.staff["id"], "ticket_reopened") in messages(scene.staff)
    assert scene.move(tid, "in_progress", scene.staff).status_code == 200
    assert scene.move(tid, "resolved", scene.staff).status_code == 200
    ticket = db.session.get(Ticket, tid)
    ticket.resolved_at = utcnow() - timedelta(days=7, minutes=1)
    db.session.commit()
    resp = scene.move(tid, "reopened", scene.reporter)
    assert resp.status_code == 409 and resp.json["error"]["code"] == "reopen_window_closed"
    assert scene.move(tid, "confirmed", scene.reporter, rating=2).status_code == 200


# ---------------------------------------------------------------- assignment and replies


def test_assign_to_staff_of_the_same_community_only(scene, client):
    tid = scene.ticket()
    url = f"/api/v1/tickets/{tid}/assign"
    resp = client.post(url, headers=scene.staff["headers"], json={"assignee_id": scene.staff2["id"]})
    assert resp.status_code == 200 and resp.json["assignee_id"] == scene.staff2["id"]
    assert resp.json["events"][-1]["action"] == "assigned" and resp.json["status"] == "submitted"
    assert messages(scene.staff2, "ticket_assigned") == [(scene.staff2["id"], "ticket_assigned")]
    for bad in (scene.neighbour, scene.outsider_staff, scene.committee):
        resp = client.post(url, headers=scene.staff["headers"], json={"assignee_id": bad["id"]})
        assert resp.status_code == 422 and "assignee_id" in resp.json["error"]["details"]["fields"]
    for user, status in ((scene.reporter, 403), (scene.committee, 403), (scene.neighbour, 404)):
        assert client.post(url, headers=user["headers"], json={"assignee_id": scene.staff["id"]}).status_code == status
    assert client.post(url, headers=scene.staff["headers"], json={}).status_code == 422
    resp = client.post(url, headers=scene.staff["headers"], json={"assignee_id": None})
    assert resp.status_code == 200 and resp.json["assignee_id"] is None
    # accepting an unassigned ticket makes the accepter its assignee
    assert scene.move(tid, "accepted", scene.staff2).json["assignee_id"] == scene.staff2["id"]


def test_replies_both_ways(scene, client):
    tid = scene.ticket()
    url = f"/api/v1/tickets/{tid}/replies"
    resp = client.post(url, headers=scene.staff["headers"], json={"body": "请问具体几号电梯？"})
    assert resp.status_code == 201 and resp.json["author_role"] == "property_staff"
    db.session.expire_all()
    ticket = db.session.get(Ticket, tid)
    assert ticket.first_response_at is not None and ticket.status == "submitted"
    assert messages(scene.reporter, "ticket_reply") == [(scene.reporter["id"], "ticket_reply")]
    resp = client.post(url, headers=scene.reporter["headers"],
                       json={"body": "", "photo_ids": [upload(client, scene.reporter)]})
    assert resp.status_code == 201 and resp.json["author_role"] == "reporter"
    # unassigned: every staff member hears of the resident's reply
    assert {u for u, _ in messages(event="ticket_reply")} == {
        scene.reporter["id"], scene.staff["id"], scene.staff2["id"]}
    assert client.post(url, headers=scene.reporter["headers"], json={"body": "  "}).status_code == 422
    assert client.post(url, headers=scene.committee["headers"], json={"body": "业委会关注"}).status_code == 403
    assert client.post(url, headers=scene.regulator["headers"], json={"body": "街道办"}).status_code == 404
    scene.escalate(tid)
    resp = client.post(url, headers=scene.regulator["headers"], json={"body": "请物业 24 小时内处理"})
    assert resp.status_code == 201 and resp.json["author_role"] == "regulator"
    replies = scene.get(tid, scene.reporter).json["replies"]
    assert [r["author_role"] for r in replies] == ["property_staff", "reporter", "regulator"]


# ---------------------------------------------------------------- lists


def test_a_list_page_reads_its_photos_in_one_statement(scene, client, app):
    """The page's photos come with it: as many statements for 6 tickets with photos as for 2."""
    from sqlalchemy import event

    tickets = [scene.ticket(photo_ids=[upload(client, scene.reporter, (i * 40, 0, 0))]) for i in range(6)]
    statements = []

    def count(*_):
        statements.append(1)

    def page(per_page):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            resp = client.get(f"/api/v1/communities/{scene.cid}/tickets?per_page={per_page}",
                              headers=scene.staff["headers"])
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert resp.status_code == 200 and len(resp.json["items"]) == per_page
        assert all(len(item["photos"]) == 1 for item in resp.json["items"])
        return len(statements)

    assert page(2) == page(6)
    assert sorted(item["id"] for item in client.get(f"/api/v1/communities/{scene.cid}/tickets",
                                                    headers=scene.staff["headers"]).json["items"]) == sorted(tickets)


def test_lists_filters_and_pagination(scene, client):
    staff_user = as_user(scene.staff)
    reporter = as_user(scene.reporter)
    now = utcnow()
    old_lift = service.file_ticket(reporter, scene.cid, "repair", "elevator", "电梯停了", location="2 号楼",
                                   now=now - timedelta(hours=50)).id
    fresh_noise = service.file_ticket(as_user(scene.neighbour), scene.cid, "complaint", "noise", "装修噪声",
                                      location="3 号楼", now=now - timedelta(hours=1)).id
    late_accept = service.file_ticket(reporter, scene.cid, "complaint", "parking", "占用车位", location="地库",
                                      now=now - timedelta(hours=25)).id
    service.transition(staff_user, old_lift, "accepted", now=now - timedelta(hours=49))
    service.assign(as_user(scene.staff), old_lift, scene.staff2["id"])
    url = f"/api/v1/communities/{scene.cid}/tickets"

    def ids(user, **query):
        resp = client.get(url, headers=user["headers"], query_string=query)
        assert resp.status_code == 200, resp.json
        return [t["id"] for t in resp.json["items"]]

    assert ids(scene.staff) == [fresh_noise, late_accept, old_lift]  # newest first
    assert ids(scene.committee) == [fresh_noise, late_accept, old_lift]
    assert ids(scene.reporter) == [late_accept, old_lift]
    assert ids(scene.neighbour) == [fresh_noise]
    assert ids(scene.regulator) == []
    assert ids(scene.staff, status="accepted") == [old_lift]
    assert ids(scene.staff, subject="noise") == [fresh_noise]
    assert ids(scene.staff, category="complaint") == [fresh_noise, late_accept]
    assert ids(scene.staff, assignee_id=scene.staff2["id"]) == [old_lift]
    assert ids(scene.staff, overdue="true") == [late_accept, old_lift]
    assert ids(scene.staff, overdue="false") == [fresh_noise]
    assert ids(scene.staff, mine="true") == []
    page = client.get(url, headers=scene.staff["headers"], query_string={"per_page": 2, "page": 2}).json
    assert (page["total"], page["page"], page["per_page"], [t["id"] for t in page["items"]]) == (3, 2, 2, [old_lift])
    listed = {t["id"]: t for t in client.get(url, headers=scene.staff["headers"]).json["items"]}
    assert listed[old_lift]["overdue"] and listed[late_accept]["overdue"] and not listed[fresh_noise]["overdue"]
    assert service.escalate_overdue(now=now) == [old_lift, late_accept]
    assert ids(scene.regulator) == [late_accept, old_lift]
    assert ids(scene.staff, escalated="false") == [fresh_noise]
    assert client.get(url, headers=scene.staff["headers"], query_string={"status": "lost"}).status_code == 422
    # keyset pages (after = the last id seen) keep the whole list's total and counts; not with sort=due
    first = client.get(url, headers=scene.staff["headers"], query_string={"per_page": 1}).json
    rest = client.get(url, headers=scene.staff["headers"], query_string={"per_page": 2, "after": first["items"][0]["id"]}).json
    assert [t["id"] for t in first["items"] + rest["items"]] == [fresh_noise, late_accept, old_lift]
    assert rest["total"] == first["total"] == 3 and rest["counts"] == first["counts"]
    refused = client.get(url, headers=scene.staff["headers"], query_string={"after": old_lift, "sort": "due"})
    assert refused.status_code == 422 and "after" in refused.json["error"]["details"]["fields"]


# ---------------------------------------------------------------- community boundaries


def test_cross_community_access_refused_everywhere(scene, client):
    tid = scene.ticket()
    scene.escalate(tid)
    for outsider in (scene.outsider_staff, scene.outsider_regulator):
        h = outsider["headers"]
        assert client.get(f"/api/v1/communities/{scene.cid}/tickets", headers=h).status_code == 403
        assert scene.file(user=outsider).status_code == 403
        assert client.get(f"/api/v1/communities/{scene.cid}/ticket-stats", headers=h).status_code == 403
        assert client.get(f"/api/v1/tickets/{tid}", headers=h).status_code == 404
        assert client.post(f"/api/v1/tickets/{tid}/transitions", headers=h, json={"to": "accepted"}).status_code == 404
        assert client.post(f"/api/v1/tickets/{tid}/replies", headers=h, json={"body": "x"}).status_code == 404
        assert client.post(f"/api/v1/tickets/{tid}/assign", headers=h,
                           json={"assignee_id": outsider["id"]}).status_code == 404
    # and the outsiders' own community shows none of it
    other = client.get(f"/api/v1/communities/{scene.other_cid}/tickets", headers=scene.outsider_staff["headers"])
    assert other.status_code == 200 and other.json["total"] == 0
    assert client.get("/api/v1/tickets/999999", headers=scene.staff["headers"]).status_code == 404
    for path in (f"/api/v1/communities/{scene.cid}/tickets", f"/api/v1/tickets/{tid}",
                 f"/api/v1/communities/{scene.cid}/ticket-stats"):
        assert client.get(path).status_code == 401
    db.session.expire_all()
    assert db.session.get(Ticket, tid).status == "submitted"


def test_neighbour_and_unescalated_regulator_cannot_see(scene):
    tid = scene.ticket()
    assert scene.get(tid, scene.neighbour).status_code == 404
    assert scene.get(tid, scene.regulator).status_code == 404
    assert scene.get(tid, scene.committee).status_code == 200
    scene.escalate(tid)
    body = scene.get(tid, scene.regulator).json
    assert body["escalated_at"] and body["escalation_reason"] == "not_accepted"


# ---------------------------------------------------------------- the scheduled jobs


def test_escalate_command_with_controlled_times(scene, app):
    reporter, staff = as_user(scene.reporter), as_user(scene.staff)
    now = utcnow()
    unaccepted = service.file_ticket(reporter, scene.cid, "repair", "greenery", "树枝折断", location="中心花园",
                                     now=now - timedelta(hours=25)).id
    young = service.file_ticket(reporter, scene.cid, "repair", "greenery", "草坪枯黄", location="中心花园",
                                now=now - timedelta(hours=23)).id
    late_lift = service.file_ticket(reporter, scene.cid, "repair", "elevator", "电梯异响", location="1 号楼",
                                    now=now - timedelta(hours=49)).id
    service.transition(staff, late_lift, "accepted", now=now - timedelta(hours=48, minutes=30))
    slow_garden = service.file_ticket(reporter, scene.cid, "repair", "greenery", "浇水", location="花园",
                                      now=now - timedelta(hours=100)).id
    service.transition(staff, slow_garden, "accepted", now=now - timedelta(hours=99))
    done = service.file_ticket(reporter, scene.cid, "repair", "elevator", "电梯灯", location="2 号楼",
                               now=now - timedelta(hours=200)).id
    for to, h in (("accepted", 199), ("in_progress", 198), ("resolved", 197)):
        service.transition(staff, done, to, comment="好了" if to == "resolved" else None, now=now - timedelta(hours=h))
    before = len(messages())

    result = app.test_cli_runner().invoke(args=["tickets-escalate"])
    assert result.exit_code == 0 and "escalated 2 tickets" in result.output, result.output
    db.session.expire_all()
    marks = {t.id: (t.escalated_at is not None, t.escalation_reason, t.status)
             for t in db.session.execute(db.select(Ticket)).scalars()}
    assert marks == {unaccepted: (True, "not_accepted", "submitted"), young: (False, None, "submitted"),
                     late_lift: (True, "not_resolved", "accepted"), slow_garden: (False, None, "accepted"),
                     done: (False, None, "resolved")}
    # staff and regulators hear of each escalation; the mark is an event, the status goes on
    new = messages()[before:]
    expected = {(u["id"], "ticket_escalated") for u in (scene.staff, scene.staff2, scene.regulator)}
    assert set(new) == expected and len(new) == 2 * len(expected)
    events = db.session.execute(db.select(TicketEvent).filter_by(action="escalated")).scalars().all()
    assert {(e.ticket_id, e.actor_id, e.actor_role) for e in events} == {(unaccepted, None, "system"),
                                                                        (late_lift, None, "system")}
    # once only; and the work goes on
    assert "escalated 0 tickets" in app.test_cli_runner().invoke(args=["tickets-escalate"]).output
    assert scene.move(unaccepted, "accepted", scene.staff).status_code == 200
    # the command on a controlled clock further on: the young ticket is still not accepted, the garden
    # one passes its 168 h
    later = (now + timedelta(hours=69)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    result = app.test_cli_runner().invoke(args=["tickets-escalate", "--now", later])
    assert "escalated 2 tickets" in result.output, result.output
    db.session.expire_all()
    marked_later = db.select(Ticket.id).where(Ticket.escalated_at > now + timedelta(hours=1))
    assert set(db.session.execute(marked_later).scalars()) == {young, slow_garden}
    bad = app.test_cli_runner().invoke(args=["tickets-escalate", "--now", "2026-03-01T08:00:00"])
    assert bad.exit_code != 0 and "zone" in bad.output


def test_resolution_deadline_is_configurable(scene, app, monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_RESOLUTION_HOURS", {**app.config["TICKET_RESOLUTION_HOURS"], "noise": 2})
    now = utcnow()
    tid = service.file_ticket(as_user(scene.reporter), scene.cid, "complaint", "noise", "夜间施工", location="5 号楼",
                              now=now - timedelta(hours=3)).id
    service.transition(as_user(scene.staff), tid, "accepted", now=now - timedelta(hours=2, minutes=30))
    assert scene.get(tid, scene.staff).json["overdue"] is True
    assert service.escalate_overdue(now=now) == [tid]
    assert Config(env={"TICKET_RESOLUTION_HOURS": "noise=12, elevator=6"}).TICKET_RESOLUTION_HOURS["elevator"] == 6
    for bad in ("lift=3", "noise=0", "noise=soon"):
        with pytest.raises(ConfigError):
            Config(env={"TICKET_RESOLUTION_HOURS": bad})
    assert set(Config(env={}).TICKET_RESOLUTION_HOURS) == set(TICKET_SUBJECTS)


def test_auto_confirm_command_after_seven_silent_days(scene, app):
    reporter, staff = as_user(scene.reporter), as_user(scene.staff)
    now = utcnow()

    def resolved(days_ago):
        t = service.file_ticket(reporter, scene.cid, "repair", "utilities", "停水", location="3 号楼",
                                now=now - timedelta(days=days_ago, hours=5))
        for i, to in enumerate(("accepted", "in_progress", "resolved")):
            service.transition(staff, t.id, to, comment="已恢复" if to == "resolved" else None,
                               now=now - timedelta(days=days_ago, hours=3 - i))
        return t.id

    silent = resolved(8)
    talking = resolved(9)
    service.add_reply(reporter, talking, "水压还是很低", now=now - timedelta(days=3))
    recent = resolved(6)
    before = len(messages(scene.reporter))

    result = app.test_cli_runner().invoke(args=["tickets-auto-confirm"])
    assert result.exit_code == 0 and "auto-confirmed 1 tickets" in result.output, result.output
    db.session.expire_all()
    states = {t.id: (t.status, t.auto_confirmed, t.rating) for t in db.session.execute(db.select(Ticket)).scalars()}
    assert states == {silent: ("confirmed", True, None), talking: ("resolved", False, None),
                      recent: ("resolved", False, None)}
    last = scene.get(silent, scene.reporter).json["events"][-1]
    assert (last["actor_id"], last["actor_role"], last["to_status"]) == (None, "system", "confirmed")
    assert messages(scene.reporter)[before:] == [(scene.reporter["id"], "ticket_status")]
    # with the clock moved on, the conversation has fallen silent too
    assert service.auto_confirm(now=now + timedelta(days=4, minutes=-1)) == [recent]
    later = (now + timedelta(days=4, minutes=1)).isoformat()
    result = app.test_cli_runner().invoke(args=["tickets-auto-confirm", "--now", later])
    assert "auto-confirmed 1 tickets" in result.output, result.output
    db.session.expire_all()
    assert db.session.get(Ticket, talking).status == "confirmed"


def test_events_are_append_only(scene):
    tid = scene.ticket()
    event = db.session.execute(db.select(TicketEvent).filter_by(ticket_id=tid)).scalar_one()
    event.note = "rewritten"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()


def test_staff_cannot_rate_work_on_their_own_ticket(scene, client):
    """Nobody rates their own work: a clerk files a ticket, colleagues resolve it, the clerk may not
    confirm it with five stars (it auto-confirms unrated); an owner's own rating still counts."""
    tid = scene.ticket(user=scene.staff2)
    for to in ("accepted", "in_progress", "resolved"):
        assert scene.move(tid, to, scene.staff).status_code == 200
    refused = scene.move(tid, "confirmed", scene.staff2, rating=5)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "own_work"
    assert scene.get(tid, scene.staff2).json["status"] == "resolved"
    owners = scene.ticket()
    scene.drive(owners, "confirmed")
    assert scene.get(owners, scene.reporter).json["rating"] == 4
