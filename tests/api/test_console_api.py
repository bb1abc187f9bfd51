"""The API the web console needed beyond the mini-program's (issue 13): the registry import preview and
the masked .xlsx export, the ticket inbox's building filter, due-time sort and counts, removing a role,
and a vote's turnout and roll."""
import base64
import io
import json
import os
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openpyxl import load_workbook
from PIL import Image

from backend.extensions import db
from backend.models import Part, Ticket
from tests.support import STANDARD_ROWS, id_number


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- registry


def test_preview_reports_every_change_and_writes_nothing(world, client, app):
    cid, _ = world.standard_community()
    committee = world.member(cid, "committee")
    rows = [r for r in STANDARD_ROWS if r[2] != "103"]  # 2-1-103 removed
    rows = [("1", "1", "101", "90.00", *r[4:]) if r[:3] == ("1", "1", "101") else r for r in rows]  # area changed
    rows.append(("3", "1", "301", "66.60", "钱多", "13800000009", id_number(9), "person"))  # added
    from backend.services.registry import registry_csv

    data = registry_csv(rows)
    with app.app_context():
        before = sorted((p.label, p.area, p.removed_at) for p in db.session.execute(db.select(Part)).scalars())
    resp = client.post(f"/api/v1/communities/{cid}/registry?preview=true", headers=committee["headers"],
                       data={"file": (io.BytesIO(data), "r.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 200, resp.json
    report = resp.json
    assert report["import_id"] is None
    assert (report["added"], report["changed"], report["removed"]) == (1, 1, 1)
    assert report["preview"]["added"] == [{"label": "3-1-301", "area": 6660, "owners": ["钱多"]}]
    assert report["preview"]["changed"] == [{"label": "1-1-101", "area": 9000, "old_area": 8950,
                                             "owners": ["张伟"], "old_owners": ["张伟"]}]
    assert report["preview"]["removed"] == [{"label": "2-1-103", "area": 14316}]
    with app.app_context():
        after = sorted((p.label, p.area, p.removed_at) for p in db.session.execute(db.select(Part)).scalars())
    assert after == before
    # the same file imported for real reports the same counts
    real = client.post(f"/api/v1/communities/{cid}/registry", headers=committee["headers"],
                       data={"file": (io.BytesIO(data), "r.csv")}, content_type="multipart/form-data")
    assert real.status_code == 200 and real.json["import_id"] and "preview" not in real.json
    assert (real.json["added"], real.json["changed"], real.json["removed"]) == (1, 1, 1)


def test_preview_of_a_bad_file_lists_the_row_errors(world, client):
    cid = world.community()
    committee = world.member(cid, "committee")
    bad = "楼栋,单元,房号,面积,业主姓名,手机号\n1,1,101,-5,张伟,13800000001\n1,1,102,80,李娜,123\n"
    resp = client.post(f"/api/v1/communities/{cid}/registry?preview=true", headers=committee["headers"],
                       data={"file": (io.BytesIO(bad.encode()), "r.csv")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and resp.json["error"]["code"] == "registry_invalid"
    assert [(r["row"], r["field"]) for r in resp.json["error"]["details"]["rows"]] == [(2, "area_m2"), (3, "owner_phone")]


def test_export_is_the_current_registry_masked(world, client):
    cid, _ = world.standard_community()
    staff = world.member(cid, "property_staff")
    resp = client.get(f"/api/v1/communities/{cid}/registry/export", headers=staff["headers"])
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(resp.data)).worksheets[0]
    rows = [tuple(c if c is not None else "" for c in row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ("楼栋", "单元", "房号", "面积", "业主姓名", "手机号", "身份证号", "业主类型")
    assert len(rows) == 1 + len(STANDARD_ROWS)
    zhang = next(r for r in rows if r[:3] == ("1", "1", "101"))
    assert zhang == ("1", "1", "101", "89.50", "张伟", "138****0001", id_number(1)[:3] + "*" * 11 + id_number(1)[-4:], "个人")
    assert not any("13800000001" in str(c) for r in rows for c in r)
    dev = next(r for r in rows if r[:3] == ("2", "1", "101"))
    assert dev[4:] == ("阳光置业", "", "", "开发商")
    outsider = world.member(world.community(), "committee")
    assert client.get(f"/api/v1/communities/{cid}/registry/export", headers=outsider["headers"]).status_code == 403


# ---------------------------------------------------------------- tickets


def test_inbox_filters_by_building_sorts_by_due_and_counts_per_status(world, client, app):
    cid, phones = world.standard_community()
    owner = world.owner(cid, "1", "1", "101", "张伟", phones["张伟"])
    staff = world.member(cid, "property_staff")
    with app.app_context():
        parts = {p.label: p.id for p in db.session.execute(db.select(Part).filter_by(community_id=cid)).scalars()}
    made = []
    for subject, label in (("greenery", "1-1-101"), ("elevator", "2-1-101"), ("fire_lane", "1-1-102"),
                           ("noise", None)):
        body = {"category": "complaint", "subject": subject, "description": "问题"}
        body.update({"part_id": parts[label]} if label else {"location": "北门"})
        resp = client.post(f"/api/v1/communities/{cid}/tickets", headers=owner["headers"], json=body)
        assert resp.status_code == 201
        made.append(resp.json["id"])
    # all filed at once: due = created + the subject's hours (fire_lane 24 < elevator 48 < noise 72 < greenery 168)
    moment = datetime(2026, 11, 1, 8, tzinfo=timezone.utc)
    with app.app_context():
        for tid in made:
            db.session.get(Ticket, tid).created_at = moment
        db.session.commit()
    client.post(f"/api/v1/tickets/{made[1]}/transitions", headers=staff["headers"], json={"to": "accepted"})
    url = f"/api/v1/communities/{cid}/tickets"
    page = client.get(url + "?sort=due", headers=staff["headers"]).json
    assert [t["subject"] for t in page["items"]] == ["fire_lane", "elevator", "noise", "greenery"]
    assert page["counts"] == {"submitted": 3, "accepted": 1, "in_progress": 0, "resolved": 0, "confirmed": 0,
                              "reopened": 0, "overdue": 4}
    one = client.get(url + "?building=1&sort=due", headers=staff["headers"]).json
    assert [t["subject"] for t in one["items"]] == ["fire_lane", "greenery"] and one["total"] == 2
    assert one["counts"]["submitted"] == 2 and one["counts"]["accepted"] == 0
    # the status filter narrows the items, not the tabs
    sub = client.get(url + "?status=accepted", headers=staff["headers"]).json
    assert sub["total"] == 1 and sub["counts"]["submitted"] == 3 and sub["counts"]["overdue"] == 1
    paged = client.get(url + "?sort=due&per_page=2&page=2", headers=staff["headers"]).json
    assert [t["subject"] for t in paged["items"]] == ["noise", "greenery"] and paged["total"] == 4
    assert client.get(url + "?sort=sideways", headers=staff["headers"]).status_code == 422


# ---------------------------------------------------------------- members


def test_removing_a_role(world, client):
    cid = world.community()
    admin = world.platform_admin()
    committee = world.member(cid, "committee")
    regulator = world.member(cid, "regulator")
    clerk = world.login()
    added = client.post(f"/api/v1/communities/{cid}/members", headers=committee["headers"],
                        json={"user_id": clerk["id"], "role": "property_staff"}).json
    members = {m["user_id"]: m["id"] for m in client.get(f"/api/v1/communities/{cid}/members",
                                                         headers=admin["headers"]).json}
    # the committee may remove the staff it may add, nothing else
    resp = client.delete(f"/api/v1/communities/{cid}/members/{members[regulator['id']]}", headers=committee["headers"])
    assert resp.status_code == 403 and resp.json["error"]["code"] == "role_not_removable"
    assert client.delete(f"/api/v1/communities/{cid}/members/{added['id']}",
                         headers=committee["headers"]).status_code == 204
    assert client.get(f"/api/v1/communities/{cid}/tickets", headers=clerk["headers"]).status_code == 403
    # the admin removes any role; a membership of another community is not found here
    assert client.delete(f"/api/v1/communities/{cid}/members/{members[regulator['id']]}",
                         headers=admin["headers"]).status_code == 204
    other = world.community()
    elsewhere = world.member(other, "committee")
    theirs = client.get(f"/api/v1/communities/{other}/members", headers=admin["headers"]).json
    resp = client.delete(f"/api/v1/communities/{cid}/members/{theirs[0]['id']}", headers=admin["headers"])
    assert resp.status_code == 404 and resp.json["error"]["code"] == "member_not_found"
    assert client.get(f"/api/v1/communities/{other}/members", headers=elsewhere["headers"]).status_code == 200
    assert client.delete(f"/api/v1/communities/{cid}/members/{members[committee['id']]}",
                         headers=regulator["headers"]).status_code == 403


# ---------------------------------------------------------------- votes


def _b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _png():
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


def test_turnout_and_roll_follow_the_ballots(world, client):
    cid, phones = world.standard_community()
    committee = world.member(cid, "committee")
    regulator = world.member(cid, "regulator")
    owner = world.owner(cid, "1", "1", "101", "张伟", phones["张伟"])
    now = datetime.now(timezone.utc)
    vote = client.post(f"/api/v1/communities/{cid}/votes", headers=committee["headers"], json={
        "title": "更换电梯", "kind": "resolution", "opens_at": stamp(now - timedelta(minutes=1)),
        "closes_at": stamp(now + timedelta(hours=2))}).json["id"]
    draft = client.get(f"/api/v1/votes/{vote}/turnout", headers=committee["headers"]).json
    # rights: 张伟 (1-1-101 + 1-2-201), 李娜+王强 (1-1-102), the developer (2-1-101, 2-1-102), 赵敏 (2-1-103)
    assert (draft["state"], draft["rights"], draft["heads"]) == ("draft", 4, 4)
    assert draft["area"] == 8950 + 12000 + 9530 + 7605 * 2 + 14316
    assert (draft["quorum_heads"], draft["quorum_reached"], draft["voted_rights"]) == (3, False, 0)
    assert draft["quorum_area"] * 3 >= 2 * draft["area"] > (draft["quorum_area"] - 1) * 3
    # a draft is the committee's alone
    assert client.get(f"/api/v1/votes/{vote}/turnout", headers=regulator["headers"]).json["error"]["code"] == \
        "vote_not_found"
    opened = client.post(f"/api/v1/votes/{vote}/open", headers=committee["headers"]).json
    key = Ed25519PrivateKey.generate()
    public = _b64u(key.public_key().public_bytes_raw())
    assert client.post("/api/v1/me/keys", headers=owner["headers"], json={"public_key": public}).status_code == 201
    right = client.get(f"/api/v1/votes/{vote}/my-rights", headers=owner["headers"]).json[0]["right_id"]
    ballot = {"type": "ballot", "vote_id": opened["vote_id"], "right_id": right, "choice": {"option": "approve"},
              "nonce": _b64u(os.urandom(16)), "signed_at": stamp(datetime.now(timezone.utc))}
    data = json.dumps(ballot, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    resp = client.post(f"/api/v1/votes/{vote}/ballots", headers=owner["headers"],
                       json={"ballot": ballot, "public_key": public, "signature": _b64u(key.sign(data))})
    assert resp.status_code == 201, resp.json
    roll = client.get(f"/api/v1/votes/{vote}/roll", headers=committee["headers"]).json
    assert roll["total"] == 4 and [r["voted"] for r in roll["items"]].count(True) == 1
    zhao = client.get(f"/api/v1/votes/{vote}/roll?q=2-1-103", headers=regulator["headers"]).json["items"]
    assert [r["label"] for r in zhao] == ["2-1-103"] and not zhao[0]["voted"]
    photo = client.post("/api/v1/media", headers=committee["headers"], content_type="multipart/form-data",
                        data={"file": (io.BytesIO(_png()), "paper.png")}).json["id"]
    resp = client.post(f"/api/v1/votes/{vote}/paper-ballots", headers=committee["headers"],
                       json={"right_id": zhao[0]["right_id"], "choice": {"option": "reject"}, "evidence_media_id": photo})
    assert resp.status_code == 201, resp.json
    live = client.get(f"/api/v1/votes/{vote}/turnout", headers=regulator["headers"]).json
    assert (live["state"], live["voted_rights"], live["voted_heads"]) == ("open", 2, 2)
    assert live["voted_area"] == 8950 + 12000 + 14316
    assert (live["signed_ballots"], live["paper_ballots"], live["quorum_reached"]) == (1, 1, False)
    # owners follow the totals (by either id of the vote), never who voted
    assert client.get(f"/api/v1/votes/{opened['vote_id']}/turnout", headers=owner["headers"]).json == live
    assert client.get(f"/api/v1/votes/{opened['vote_id']}/roll", headers=owner["headers"]).status_code == 403
    outsider = world.member(world.community(), "committee")
    assert client.get(f"/api/v1/votes/{vote}/roll", headers=outsider["headers"]).json["error"]["code"] == \
        "vote_not_found"
