"""Nobody verifies themselves, and a claim reveals nothing (issue 18, items 1 and 2; docs/decisions.md).

The path to a counted ballot: an owner in the registry (imported by the committee) → a verified
binding (registry match or a review) → a device key → a ballot. Each step here needs someone other
than the one who benefits."""
from backend.extensions import db
from backend.models import Binding
from tests.api.publishing import upload
from tests.support import id_number

ROOMS = {"101": "张伟", "102": "李娜"}


def claim(client, user, cid, room, name, building="1", unit="1", **extra):
    return client.post(f"/api/v1/communities/{cid}/bindings", headers=user["headers"],
                       json={"building": building, "unit": unit, "room": room, "name": name, **extra})


def review(client, user, bid, decision="approve", **extra):
    return client.post(f"/api/v1/bindings/{bid}/review", headers=user["headers"], json={"decision": decision, **extra})


def register_key(client, user):
    return client.post("/api/v1/me/keys", headers=user["headers"],
                       json={"public_key": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})


def test_a_clerk_cannot_verify_themselves_as_an_owner(world, client):
    cid, _ = world.standard_community()
    clerk = world.member(cid, "property_staff")
    bid = claim(client, clerk, cid, "101", "张伟").json["id"]
    refused = review(client, clerk, bid)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "own_claim"
    assert "本人" in refused.json["error"]["message"]
    assert review(client, clerk, bid, "reject", reason="撤回").status_code == 403
    assert db.session.get(Binding, bid).status == "pending"
    # still not an owner: no key, no ballot
    assert register_key(client, clerk).status_code == 403
    # another reviewer may decide it, and the decision names them
    colleague = world.member(cid, "property_staff")
    approved = review(client, colleague, bid)
    assert approved.status_code == 200 and approved.json["decided_by"] == colleague["id"]


def test_a_committee_members_own_claim_goes_to_another_member(world, client):
    cid, _ = world.standard_community()
    member = world.member(cid, "committee")
    bid = claim(client, member, cid, "102", "李娜").json["id"]
    assert review(client, member, bid).json["error"]["code"] == "own_claim"
    other = world.member(cid, "committee")
    assert review(client, other, bid).json["status"] == "verified"


def test_an_owner_of_the_part_may_not_review_claims_on_it(world, client):
    cid, phones = world.standard_community()
    # 李娜, verified co-owner of 1-1-102, sits on the committee
    li = world.owner(cid, "1", "1", "102", "李娜", phones["李娜"])
    world.member(cid, "committee", user=li)
    bid = claim(client, world.login(), cid, "102", "王强").json["id"]
    refused = review(client, li, bid)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "own_part"
    # nor may someone whose WeChat phone is an owner's of that part, bound or not
    wang_phone = world.member(cid, "property_staff")
    world.verify_phone(wang_phone, phones["王强"])
    assert review(client, wang_phone, bid).json["error"]["code"] == "own_part"
    # an unrelated reviewer may
    assert review(client, world.member(cid, "committee"), bid).json["status"] == "verified"


def test_approving_a_name_the_registry_does_not_have_needs_the_certificate(world, client):
    cid, _ = world.standard_community()
    committee = world.member(cid, "committee")
    owners = {o["name"]: o["id"] for o in _owners_of(client, committee, cid, "1-1-101")}
    bare = claim(client, world.login(), cid, "101", "张小伟").json["id"]
    refused = review(client, committee, bare, owner_id=owners["张伟"])
    assert refused.status_code == 422 and refused.json["error"]["code"] == "certificate_required"
    claimant = world.login()
    photo = upload(client, claimant)
    with_photo = claim(client, claimant, cid, "101", "张小伟", certificate_media_id=photo).json["id"]
    approved = review(client, committee, with_photo, owner_id=owners["张伟"], reason="房产证为张伟，申请人为其本人")
    assert approved.status_code == 200 and approved.json["status"] == "verified"
    assert approved.json["decided_by"] == committee["id"]
    assert [e["action"] for e in approved.json["events"]] == ["requested", "approved"]
    assert approved.json["events"][-1]["actor_id"] == committee["id"]


def _owners_of(client, user, cid, label):
    parts = client.get(f"/api/v1/communities/{cid}/parts?per_page=100", headers=user["headers"]).json
    part = next(p for p in parts["items"] if p["label"] == label)
    return part["owners"]


def test_the_registry_does_not_vouch_for_the_one_who_wrote_it(world, client):
    cid = world.community()
    importer = world.member(cid, "committee")
    world.verify_phone(importer, "13900000009")
    rows = [("1", "1", "101", "89.50", "张伟", "13800000001", id_number(1), "person"),
            # the committee member puts themselves down as co-owner of 1-1-101
            ("1", "1", "101", "89.50", "钱多多", "13900000009", "", "person")]
    assert world.import_registry(cid, rows, user=importer).status_code == 200
    mine = claim(client, importer, cid, "101", "钱多多")
    assert mine.status_code == 201 and mine.json["status"] == "pending"
    assert register_key(client, importer).status_code == 403
    # the same phone + name match made by someone else's import verifies at once
    other = world.community()
    second = world.member(other, "committee")
    assert world.import_registry(other, rows, user=second).status_code == 200
    stranger = world.login()
    world.verify_phone(stranger, "13900000009")
    assert claim(client, stranger, other, "101", "钱多多").json["status"] == "verified"


def test_a_relinked_owner_is_not_matched_for_the_importer(world, client):
    """An owner record someone else imported, linked to another flat by the claimant's own import."""
    cid = world.community()
    first = world.member(cid, "committee")
    member = world.member(cid, "committee")
    world.verify_phone(member, "13900000008")
    rows = [("1", "1", "101", "89.50", "张伟", "13800000001", id_number(1), "person"),
            ("1", "1", "102", "95.30", "孙悟", "13900000008", id_number(8), "person")]
    assert world.import_registry(cid, rows, user=first).status_code == 200
    rows.append(("1", "1", "101", "89.50", "孙悟", "13900000008", id_number(8), "person"))
    assert world.import_registry(cid, rows, user=member).status_code == 200
    assert claim(client, member, cid, "101", "孙悟").json["status"] == "pending"
    assert claim(client, member, cid, "102", "孙悟").json["status"] == "verified"  # that link is not theirs


def test_a_claim_answers_the_same_whether_or_not_the_flat_exists(world, client):
    cid, phones = world.standard_community()
    answers = []
    for room in ("101", "909"):
        user = world.login()
        world.verify_phone(user, "13700000000")
        resp = claim(client, user, cid, room, "张伟")
        assert resp.status_code == 201
        answers.append({k: v for k, v in resp.json.items() if k not in ("id", "label", "created_at", "events")})
        assert [e["action"] for e in resp.json["events"]] == ["requested"]
        assert "part_id" not in resp.json and "in_registry" not in resp.json
    assert answers[0] == answers[1] and answers[0]["status"] == "pending"
    # the reviewer sees the difference, and cannot approve a flat the registry lacks
    committee = world.member(cid, "committee")
    listed = client.get(f"/api/v1/communities/{cid}/bindings", headers=committee["headers"]).json["items"]
    assert {b["label"]: b["in_registry"] for b in listed} == {"1-1-101": True, "1-1-909": False}
    ghost = next(b["id"] for b in listed if not b["in_registry"])
    refused = review(client, committee, ghost)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "part_not_in_registry"


def test_claims_are_rate_limited_and_few_may_wait(world, client, app, monkeypatch):
    cid, _ = world.standard_community()
    user = world.login()
    for room in ("101", "102", "103"):
        assert claim(client, user, cid, room, "某人").status_code == 201
    fourth = claim(client, user, cid, "104", "某人")
    assert fourth.status_code == 409 and fourth.json["error"]["code"] == "too_many_pending"
    monkeypatch.setitem(app.config, "CLAIMS_PER_USER_PER_HOUR", 5)
    flooded = [claim(client, user, cid, f"2{i:02d}", "某人").status_code for i in range(3)]
    assert flooded[-1] == 429
    monkeypatch.setitem(app.config, "CLAIMS_PER_COMMUNITY_PER_MINUTE", 3)
    statuses = [claim(client, world.login(), cid, "105", "某人").status_code for _ in range(4)]
    assert statuses[-1] == 429
    resp = claim(client, world.login(), cid, "105", "某人")
    assert resp.json["error"]["code"] == "too_many_claims" and resp.json["error"]["details"]["retry_after"] >= 0
    assert "频繁" in resp.json["error"]["message"] or "过多" in resp.json["error"]["message"]


def test_pending_and_rejected_claimants_see_nothing_of_the_community(world, client):
    cid, _ = world.standard_community()
    committee = world.member(cid, "committee")
    pending, rejected = world.login(), world.login()
    claim(client, pending, cid, "101", "张伟")
    bid = claim(client, rejected, cid, "102", "李娜").json["id"]
    review(client, committee, bid, "reject", reason="无房产证")
    for user in (pending, rejected):
        for path in ("notices", "disclosures", "votes", "tickets", "revenue-statements"):
            resp = client.get(f"/api/v1/communities/{cid}/{path}", headers=user["headers"])
            assert resp.status_code == 403, (path, resp.json)
        me = client.get("/api/v1/me", headers=user["headers"]).json
        assert me["communities"] == [] and len(me["bindings"]) == 1
    listed = client.get("/api/v1/communities?mine=true", headers=pending["headers"]).json
    assert listed["items"] == []
