"""Notices: publishing by the committee or property staff, attachments, pinning, withdrawal that
stays in the history, read receipts and subscribe messages for important notices."""
import pytest

from backend.extensions import db
from backend.models import OutboxMessage
from tests.api.publishing import PHONES, other_community, upload


@pytest.fixture
def place(world):
    cid, _ = world.standard_community()
    owner = world.owner(cid, "1", "1", "101", "张伟", PHONES["张伟"])
    pending = world.login()
    resp = world.client.post(f"/api/v1/communities/{cid}/bindings", headers=pending["headers"],
                             json={"building": "2", "unit": "1", "room": "103", "name": "赵敏"})
    assert resp.json["status"] == "pending"
    return {"cid": cid, "clerk": world.member(cid, "property_staff"), "committee": world.member(cid, "committee"),
            "resident": world.member(cid, "resident"), "owner": owner, "pending": pending}


def url(cid, tail=""):
    return f"/api/v1/communities/{cid}/notices{tail}"


def post(client, user, cid, **body):
    return client.post(url(cid), headers=user["headers"], json={"title": "停水通知", "body": "周六 9:00-12:00 停水", **body})


def listing(client, user, cid, query=""):
    resp = client.get(url(cid, query), headers=user["headers"])
    assert resp.status_code == 200, resp.json
    return resp.json


def test_committee_and_staff_publish_residents_read(client, place):
    cid = place["cid"]
    first = post(client, place["committee"], cid, category="meeting", title="业主大会筹备通知")
    assert first.status_code == 201, first.json
    assert first.json["publisher_role"] == "committee" and first.json["status"] == "published"
    second = post(client, place["clerk"], cid, category="outage", pinned=True)
    assert second.status_code == 201 and second.json["publisher_role"] == "property_staff"
    # a claim still under review shows nothing of the community (docs/decisions.md)
    assert client.get(url(cid), headers=place["pending"]["headers"]).status_code == 403
    for who in ("owner", "resident"):
        body = listing(client, place[who], cid)
        # pinned first, then newest
        assert [n["id"] for n in body["items"]] == [second.json["id"], first.json["id"]]
        assert body["total"] == 2 and all(n["read_count"] is None for n in body["items"])
    only = listing(client, place["owner"], cid, "?category=meeting")
    assert [n["title"] for n in only["items"]] == ["业主大会筹备通知"]
    for who in ("owner", "resident"):
        assert post(client, place[who], cid).status_code == 403


def test_bad_notices_are_422_naming_fields(client, place):
    cid, clerk = place["cid"], place["clerk"]
    resp = client.post(url(cid), headers=clerk["headers"], json={"title": " ", "body": "x", "category": "gossip"})
    assert resp.status_code == 422 and {"title", "category"} <= set(resp.json["error"]["details"]["fields"])
    resp = client.post(url(cid), headers=clerk["headers"], json={"body": "x", "colour": "red"})
    assert {"title", "colour"} <= set(resp.json["error"]["details"]["fields"])
    resp = post(client, clerk, cid, publisher_role="committee")
    assert resp.status_code == 403  # staff cannot speak for the committee
    assert listing(client, clerk, cid)["total"] == 0


def test_attachments_images_and_pdfs(client, world, place):
    cid, clerk = place["cid"], place["clerk"]
    pdf, photo = upload(client, clerk, "document"), upload(client, clerk)
    resp = post(client, clerk, cid, attachment_ids=[pdf, photo])
    assert resp.status_code == 201, resp.json
    assert resp.json["attachment_ids"] == [pdf, photo]
    assert client.get(f"/api/v1/media/{pdf}/info", headers=place["owner"]["headers"]).status_code == 200
    outsider = world.member(other_community(world), "committee")
    assert client.get(f"/api/v1/media/{pdf}/info", headers=outsider["headers"]).status_code == 403
    # reused or someone else's file: 422 naming the field, and no notice half-written
    again = post(client, clerk, cid, attachment_ids=[pdf])
    assert again.status_code == 422 and "attachment_ids" in again.json["error"]["details"]["fields"]
    foreign = post(client, clerk, cid, attachment_ids=[upload(client, place["committee"])])
    assert foreign.status_code == 422
    assert listing(client, clerk, cid)["total"] == 1


def test_read_receipts_are_idempotent_and_counted_for_publishers(client, place):
    cid = place["cid"]
    nid = post(client, place["committee"], cid).json["id"]
    first = client.post(url(cid, f"/{nid}/read"), headers=place["owner"]["headers"])
    assert first.status_code == 200 and first.json["read_at"] is not None
    again = client.post(url(cid, f"/{nid}/read"), headers=place["owner"]["headers"])
    assert again.status_code == 200 and again.json["read_at"] == first.json["read_at"]
    assert first.json["read_count"] is None  # residents do not see the count
    client.post(url(cid, f"/{nid}/read"), headers=place["resident"]["headers"])
    for publisher in ("committee", "clerk"):
        seen = client.get(url(cid, f"/{nid}"), headers=place[publisher]["headers"]).json
        assert seen["read_count"] == 2 and seen["read_at"] is None
    unread = client.get(url(cid, f"/{nid}"), headers=place["clerk"]["headers"]).json
    assert unread["read_at"] is None
    assert client.get(url(cid, f"/{nid}"), headers=place["pending"]["headers"]).status_code == 403
    assert client.post(url(cid, "/999999/read"), headers=place["owner"]["headers"]).status_code == 404


def test_withdrawn_notice_stays_in_history_for_publishers_only(client, place):
    cid = place["cid"]
    nid = post(client, place["committee"], cid, pinned=True).json["id"]
    keep = post(client, place["committee"], cid, title="保留").json["id"]
    # only the publishing role may withdraw: property staff cannot withdraw the committee's notice
    resp = client.post(url(cid, f"/{nid}/withdraw"), headers=place["clerk"]["headers"], json={"reason": "错误"})
    assert resp.status_code == 403
    assert client.post(url(cid, f"/{nid}/withdraw"), headers=place["committee"]["headers"],
                       json={}).status_code == 422
    resp = client.post(url(cid, f"/{nid}/withdraw"), headers=place["committee"]["headers"], json={"reason": "时间有误"})
    assert resp.status_code == 200
    assert resp.json["withdrawn"] is True and resp.json["status"] == "withdrawn" and resp.json["pinned"] is False
    assert resp.json["withdraw_reason"] == "时间有误"
    again = client.post(url(cid, f"/{nid}/withdraw"), headers=place["committee"]["headers"], json={"reason": "x"})
    assert again.status_code == 409

    assert [n["id"] for n in listing(client, place["owner"], cid)["items"]] == [keep]
    assert client.get(url(cid, f"/{nid}"), headers=place["owner"]["headers"]).status_code == 404
    assert client.post(url(cid, f"/{nid}/read"), headers=place["owner"]["headers"]).status_code == 404
    # owners asking for withdrawn ones still get only published notices
    assert [n["id"] for n in listing(client, place["owner"], cid, "?status=withdrawn")["items"]] == [keep]
    for publisher in ("committee", "clerk"):
        body = listing(client, place[publisher], cid)
        flags = {n["id"]: n["withdrawn"] for n in body["items"]}
        assert flags == {nid: True, keep: False}
        assert [n["id"] for n in listing(client, place[publisher], cid, "?status=withdrawn")["items"]] == [nid]


def test_pinning(client, place):
    cid = place["cid"]
    older = post(client, place["clerk"], cid, title="旧").json["id"]
    newer = post(client, place["clerk"], cid, title="新").json["id"]
    assert [n["id"] for n in listing(client, place["owner"], cid)["items"]] == [newer, older]
    resp = client.patch(url(cid, f"/{older}"), headers=place["clerk"]["headers"], json={"pinned": True})
    assert resp.status_code == 200 and resp.json["pinned"] is True
    assert [n["id"] for n in listing(client, place["owner"], cid)["items"]] == [older, newer]
    assert client.patch(url(cid, f"/{older}"), headers=place["committee"]["headers"],
                        json={"pinned": False}).status_code == 403
    assert client.patch(url(cid, f"/{older}"), headers=place["owner"]["headers"],
                        json={"pinned": False}).status_code == 403
    assert client.patch(url(cid, f"/{older}"), headers=place["clerk"]["headers"], json={}).status_code == 422


def test_important_notice_goes_to_the_outbox_for_the_community(client, world, place):
    cid = place["cid"]
    other = other_community(world)
    stranger = world.member(other, "resident")
    post(client, place["committee"], cid, title="普通通知")
    assert db.session.execute(db.select(OutboxMessage)).scalars().all() == []
    nid = post(client, place["committee"], cid, title="关于电梯更换的业主大会表决通知", important=True).json["id"]
    messages = db.session.execute(db.select(OutboxMessage)).scalars().all()
    recipients = {m.user_id for m in messages}
    expected = {place[w]["id"] for w in ("clerk", "resident", "owner")}
    # the registry importer (a committee member) is a member too; the publisher gets no message, nor
    # does a claimant still under review
    assert expected <= recipients and place["committee"]["id"] not in recipients
    assert place["pending"]["id"] not in recipients
    assert stranger["id"] not in recipients
    assert all(m.event == "notice_published" and m.community_id == cid and str(nid) in m.page for m in messages)
    assert messages[0].data["title"]["value"] == "关于电梯更换的业主大会表决通知"[:20]


def test_another_community_sees_nothing(client, world, place):
    cid = place["cid"]
    nid = post(client, place["committee"], cid).json["id"]
    elsewhere = other_community(world)
    outsider = world.member(elsewhere, "committee")
    outsider_clerk = world.member(elsewhere, "property_staff")
    for user in (outsider, outsider_clerk):
        assert client.get(url(cid), headers=user["headers"]).status_code == 403
        assert client.get(url(cid, f"/{nid}"), headers=user["headers"]).status_code == 403
        assert client.post(url(cid, f"/{nid}/read"), headers=user["headers"]).status_code == 403
        assert client.post(url(cid, f"/{nid}/withdraw"), headers=user["headers"], json={"reason": "x"}).status_code == 403
        assert client.patch(url(cid, f"/{nid}"), headers=user["headers"], json={"pinned": True}).status_code == 403
        assert post(client, user, cid).status_code == 403
        # the notice's id under their own community does not reach it either
        assert client.get(url(elsewhere, f"/{nid}"), headers=user["headers"]).status_code == 404
        assert client.post(url(elsewhere, f"/{nid}/withdraw"), headers=user["headers"],
                           json={"reason": "x"}).status_code == 404
    assert listing(client, outsider, elsewhere)["total"] == 0
    assert client.get(url(cid)).status_code == 401
