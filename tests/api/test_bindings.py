"""Owner verification: phone + name match, pending review, events, rights in /me."""
from backend.extensions import db
from backend.models import BindingEvent


def _claim(client, user, cid, room, name, building="1", unit="1"):
    return client.post(f"/api/v1/communities/{cid}/bindings", headers=user["headers"],
                       json={"building": building, "unit": unit, "room": room, "name": name})


def test_phone_and_name_match_verifies_at_once(world, client):
    cid, phones = world.standard_community()
    user = world.login()
    world.verify_phone(user, phones["张伟"])
    resp = _claim(client, user, cid, "101", "张 伟")  # white space in a name does not matter
    assert resp.status_code == 201
    assert resp.json["status"] == "verified" and resp.json["method"] == "phone_match"
    assert [e["action"] for e in resp.json["events"]] == ["requested", "verified"]
    me = client.get("/api/v1/me", headers=user["headers"]).json
    community = me["communities"][0]
    assert community["roles"] == ["owner", "resident"]
    # 张伟 owns 1-1-101 and 1-2-201 alone: one right with the summed area (docs/protocol.md "Rights").
    assert [(r["label"], r["area"], r["heads"]) for r in community["rights"]] == [("1-1-101,1-2-201", 8950 + 12000, 1)]
    assert [p["label"] for p in community["parts"]] == ["1-1-101"]


def test_coowner_shares_one_right(world, client):
    cid, phones = world.standard_community()
    li = world.owner(cid, "1", "1", "102", "李娜", phones["李娜"])
    wang = world.owner(cid, "1", "1", "102", "王强", phones["王强"])
    r1 = client.get("/api/v1/me", headers=li["headers"]).json["communities"][0]["rights"]
    r2 = client.get("/api/v1/me", headers=wang["headers"]).json["communities"][0]["rights"]
    assert r1 == r2 and r1[0]["label"] == "1-1-102" and r1[0]["area"] == 9530


def test_no_phone_or_mismatch_goes_pending(world, client):
    cid, phones = world.standard_community()
    nophone = world.login()
    resp = _claim(client, nophone, cid, "101", "张伟")
    assert resp.json["status"] == "pending" and "手机号" in resp.json["reason"]
    wrongname = world.login()
    world.verify_phone(wrongname, phones["张伟"])
    assert _claim(client, wrongname, cid, "101", "张三").json["status"] == "pending"
    # a claim under review gives no role at all: it is listed among the user's bindings only
    me = client.get("/api/v1/me", headers=nophone["headers"]).json
    assert me["communities"] == []
    assert [(b["community_id"], b["label"], b["status"]) for b in me["bindings"]] == [(cid, "1-1-101", "pending")]


def test_review_approve_and_reject(world, client):
    cid, _ = world.standard_community()
    committee = world.member(cid, "committee")
    claimant = world.login()
    bid = _claim(client, claimant, cid, "102", "李娜").json["id"]
    listed = client.get(f"/api/v1/communities/{cid}/bindings?status=pending", headers=committee["headers"]).json
    assert [b["id"] for b in listed["items"]] == [bid]
    resp = client.post(f"/api/v1/bindings/{bid}/review", headers=committee["headers"], json={"decision": "approve"})
    assert resp.status_code == 200 and resp.json["status"] == "verified" and resp.json["method"] == "manual_review"
    assert client.post(f"/api/v1/bindings/{bid}/review", headers=committee["headers"],
                       json={"decision": "approve"}).status_code == 409
    other = world.login()
    bid2 = _claim(client, other, cid, "103", "某人", building="2").json["id"]
    no_reason = client.post(f"/api/v1/bindings/{bid2}/review", headers=committee["headers"], json={"decision": "reject"})
    assert no_reason.status_code == 422 and "reason" in no_reason.json["error"]["details"]["fields"]
    # approving a name that is not on the part needs an explicit owner
    approve = client.post(f"/api/v1/bindings/{bid2}/review", headers=committee["headers"], json={"decision": "approve"})
    assert approve.status_code == 422 and "owner_id" in approve.json["error"]["details"]["fields"]
    rejected = client.post(f"/api/v1/bindings/{bid2}/review", headers=committee["headers"],
                           json={"decision": "reject", "reason": "房产证姓名不符"})
    assert rejected.json["status"] == "rejected"
    actions = [e.action for e in db.session.execute(db.select(BindingEvent).order_by(BindingEvent.id)).scalars()]
    assert actions == ["requested", "approved", "requested", "rejected"]


def test_review_scoped_to_community(world, client):
    cid, _ = world.standard_community()
    other = world.community()
    outsider_committee = world.member(other, "committee")
    resident = world.member(cid, "resident")
    claimant = world.login()
    bid = _claim(client, claimant, cid, "102", "李娜").json["id"]
    for user in (outsider_committee, resident, claimant):
        resp = client.post(f"/api/v1/bindings/{bid}/review", headers=user["headers"], json={"decision": "approve"})
        assert resp.status_code == 403
        assert client.get(f"/api/v1/communities/{cid}/bindings", headers=user["headers"]).status_code == 403


def test_unknown_part_and_duplicate_claim(world, client):
    cid, phones = world.standard_community()
    user = world.login()
    unknown = _claim(client, user, cid, "999", "张伟")  # pending like any claim: the reviewer sees the mismatch
    assert unknown.status_code == 201 and unknown.json["status"] == "pending"
    world.verify_phone(user, phones["张伟"])
    assert _claim(client, user, cid, "101", "张伟").status_code == 201
    again = _claim(client, user, cid, "101", "张伟")
    assert again.status_code == 409 and again.json["error"]["code"] == "binding_exists"
    assert _claim(client, user, 99999, "101", "张伟").status_code == 404


def test_user_with_parts_in_two_communities(world, client):
    a, phones = world.standard_community()
    b, _ = world.standard_community()
    user = world.login()
    world.verify_phone(user, phones["赵敏"])
    assert _claim(client, user, a, "103", "赵敏", building="2").json["status"] == "verified"
    assert _claim(client, user, b, "103", "赵敏", building="2").json["status"] == "verified"
    me = client.get("/api/v1/me", headers=user["headers"]).json
    assert sorted(c["id"] for c in me["communities"]) == sorted([a, b])
    assert all(c["rights"][0]["area"] == 14316 for c in me["communities"])
