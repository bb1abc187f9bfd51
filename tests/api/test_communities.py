"""Communities, members, roles and scoping."""
import pytest


def test_only_platform_admin_creates_communities(world, client):
    user = world.login()
    resp = client.post("/api/v1/communities", headers=user["headers"], json={"name": "x", "district": "y", "address": "z"})
    assert resp.status_code == 403
    cid = world.community("幸福里")
    listed = client.get("/api/v1/communities", headers=user["headers"]).json
    assert [c["name"] for c in listed["items"]] == ["幸福里"] and listed["items"][0]["my_roles"] == []
    assert client.get("/api/v1/communities?mine=true", headers=user["headers"]).json["total"] == 0
    world.member(cid, "resident", user)
    mine = client.get("/api/v1/communities?mine=true", headers=user["headers"]).json
    assert mine["total"] == 1 and mine["items"][0]["my_roles"] == ["resident"]


def test_blank_fields_are_422(world, client):
    admin = world.platform_admin()
    resp = client.post("/api/v1/communities", headers=admin["headers"], json={"name": "  ", "district": "y"})
    assert resp.status_code == 422
    assert set(resp.json["error"]["details"]["fields"]) == {"name", "address"}


def test_committee_may_add_only_its_own_property_staff(world, client):
    cid = world.community()
    other = world.community()
    committee = world.member(cid, "committee")
    clerk = world.login()
    ok = client.post(f"/api/v1/communities/{cid}/members", headers=committee["headers"],
                     json={"user_id": clerk["id"], "role": "property_staff"})
    assert ok.status_code == 201
    dup = client.post(f"/api/v1/communities/{cid}/members", headers=committee["headers"],
                      json={"user_id": clerk["id"], "role": "property_staff"})
    assert dup.status_code == 409
    assert client.post(f"/api/v1/communities/{cid}/members", headers=committee["headers"],
                       json={"user_id": clerk["id"], "role": "committee"}).status_code == 403
    assert client.post(f"/api/v1/communities/{other}/members", headers=committee["headers"],
                       json={"user_id": clerk["id"], "role": "property_staff"}).status_code == 403
    members = client.get(f"/api/v1/communities/{cid}/members", headers=committee["headers"]).json
    assert {(m["user_id"], m["role"]) for m in members} == {(committee["id"], "committee"), (clerk["id"], "property_staff")}


def test_member_by_openid_before_first_login(world, client):
    cid = world.community()
    resp = client.post(f"/api/v1/communities/{cid}/members", headers=world.platform_admin()["headers"],
                       json={"openid": "future-clerk", "role": "property_staff"})
    assert resp.status_code == 201
    clerk = world.login("future-clerk")
    me = client.get("/api/v1/me", headers=clerk["headers"]).json
    assert me["communities"][0]["roles"] == ["property_staff", "resident"]


@pytest.mark.parametrize("body", [{"role": "committee"}, {"openid": "a", "user_id": 1, "role": "committee"},
                                  {"user_id": 1, "role": "king"}])
def test_member_args_validated(world, client, body):
    cid = world.community()
    resp = client.post(f"/api/v1/communities/{cid}/members", headers=world.platform_admin()["headers"], json=body)
    assert resp.status_code == 422


def test_role_in_one_community_grants_nothing_in_another(world, client):
    a = world.community()
    b = world.community()
    for role in ("committee", "property_staff", "regulator", "resident"):
        user = world.member(a, role)
        assert client.get(f"/api/v1/communities/{b}/members", headers=user["headers"]).status_code == 403
        assert client.get(f"/api/v1/communities/{b}/parts", headers=user["headers"]).status_code == 403
        assert client.get(f"/api/v1/communities/{b}/bindings", headers=user["headers"]).status_code == 403
