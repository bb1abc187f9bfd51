"""Helpers for building test situations through the API (used by every test package)."""
import io
import itertools

from backend.extensions import db
from backend.services import identity
from backend.services.registry import id_check_digit, registry_csv

_ids = itertools.count(1)


def id_number(seq):
    """A valid GB 11643 ID-card number, distinct for each seq."""
    body = f"11010519800101{seq:03d}"
    return body + id_check_digit(body)


# The standard community's registry: two buildings, co-owners, an owner of two flats, the developer.
STANDARD_ROWS = [
    ("1", "1", "101", "89.50", "张伟", "13800000001", id_number(1), "person"),
    ("1", "1", "102", "95.30", "李娜", "13800000002", id_number(2), "person"),
    ("1", "1", "102", "95.30", "王强", "13800000003", id_number(3), "person"),
    ("1", "2", "201", "120.00", "张伟", "13800000001", id_number(1), "person"),
    ("2", "1", "101", "76.05", "阳光置业", "", "", "developer"),
    ("2", "1", "102", "76.05", "阳光置业", "", "", "developer"),
    ("2", "1", "103", "143.16", "赵敏", "13800000004", id_number(4), "person"),
]


class World:
    """A small language for tests: users who log in through the fake WeChat, communities, roles."""

    def __init__(self, app, client, wechat):
        self.app, self.client, self.wechat = app, client, wechat
        self.admin = None

    def login(self, openid=None):
        """Log in through the API (code → token); returns {"id", "openid", "headers"}."""
        openid = openid or f"user-{next(_ids)}"
        resp = self.client.post("/api/v1/auth/wechat-login", json={"code": f"code-{openid}~{next(_ids)}"})
        assert resp.status_code == 200, resp.json
        body = resp.json
        return {"id": body["user"]["id"], "openid": openid, "token": body["token"],
                "headers": {"Authorization": "Bearer " + body["token"]}}

    def platform_admin(self):
        """A logged-in platform admin (made by the create-admin use case)."""
        if self.admin is None:
            openid = f"admin-{next(_ids)}"
            identity.make_platform_admin(openid)
            self.admin = self.login(openid)
        return self.admin

    def community(self, name=None):
        """A new community, created by the platform admin through the API; returns its id."""
        admin = self.platform_admin()
        resp = self.client.post("/api/v1/communities", headers=admin["headers"],
                                json={"name": name or f"小区{next(_ids)}", "district": "朝阳区", "address": "幸福路 1 号"})
        assert resp.status_code == 201, resp.json
        return resp.json["id"]

    def member(self, community_id, role, user=None):
        """A logged-in user holding `role` in the community."""
        user = user or self.login()
        resp = self.client.post(f"/api/v1/communities/{community_id}/members",
                                headers=self.platform_admin()["headers"], json={"user_id": user["id"], "role": role})
        assert resp.status_code == 201, resp.json
        return user

    def import_registry(self, community_id, rows, user=None, filename="registry.csv"):
        """Import registry rows as a committee member; returns the response."""
        user = user or self.member(community_id, "committee")
        data = rows if isinstance(rows, bytes) else registry_csv(rows)
        return self.client.post(f"/api/v1/communities/{community_id}/registry", headers=user["headers"],
                                data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")

    def verify_phone(self, user, phone):
        resp = self.client.post("/api/v1/me/phone", headers=user["headers"], json={"code": f"phone-{phone}~{next(_ids)}"})
        assert resp.status_code == 200, resp.json
        return resp

    def owner(self, community_id, building, unit, room, name, phone):
        """A logged-in user verified (phone + name match) as owner of an imported part."""
        user = self.login()
        self.verify_phone(user, phone)
        resp = self.client.post(f"/api/v1/communities/{community_id}/bindings", headers=user["headers"],
                                json={"building": building, "unit": unit, "room": room, "name": name})
        assert resp.status_code == 201 and resp.json["status"] == "verified", resp.json
        return user

    def standard_community(self):
        """A community with a small registry: two buildings, co-owners, an owner of two flats,
        the developer's unsold flats. Returns (community_id, {name: phone})."""
        cid = self.community()
        resp = self.import_registry(cid, STANDARD_ROWS)
        assert resp.status_code == 200, resp.json
        return cid, {"张伟": "13800000001", "李娜": "13800000002", "王强": "13800000003", "赵敏": "13800000004"}

    def db(self):
        return db
