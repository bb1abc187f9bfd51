"""Signing in to the web console by QR code, confirmed in the mini-program (issue 13), and the
sessions a user sees and ends. The test plays the console (anonymous, polling with its secret) and
the phone (the mini-program user's bearer token) as the two real clients would."""
from datetime import timedelta

import pytest

from backend.models.base import utcnow
from backend.services import console_login


class Console:
    """The browser: asks for a challenge, shows the QR text, polls with the secret."""

    def __init__(self, client):
        self.client = client
        self.headers = {"User-Agent": "Mozilla/5.0 Chrome/156", "Origin": "https://linli.example.cn"}
        resp = client.post("/api/v1/console/login-challenges", headers=self.headers)
        assert resp.status_code == 201, resp.json
        self.challenge = resp.json

    @property
    def code(self):
        return self.challenge["code"]

    def poll(self, secret=None):
        return self.client.post(f"/api/v1/console/login-challenges/{self.code}/poll", headers=self.headers,
                                json={"poll_secret": secret or self.challenge["poll_secret"]})


def scan(client, user, qr_text):
    """What the mini-program does with the scanned text: strip the prefix, show, then confirm."""
    assert qr_text.startswith("linli-console-login:")
    code = qr_text.split(":", 1)[1]
    return code, client.get(f"/api/v1/console/login-challenges/{code}", headers=user["headers"])


def test_scan_confirm_and_the_console_is_signed_in_once(world, client):
    cid = world.community()
    secretary = world.member(cid, "committee")
    console = Console(client)
    assert "poll_secret" not in console.challenge["qr_text"] and console.challenge["poll_secret"] not in console.challenge["qr_text"]
    assert console.poll().json["status"] == "pending"
    code, shown = scan(client, secretary, console.challenge["qr_text"])
    assert shown.status_code == 200, shown.json
    assert shown.json["console"]["origin"] == "https://linli.example.cn"
    assert "Chrome" in shown.json["console"]["user_agent"]
    assert shown.json["communities"] == [{"community_id": cid, "community_name": shown.json["communities"][0]["community_name"],
                                          "roles": ["committee"]}]
    confirmed = client.post(f"/api/v1/console/login-challenges/{code}/confirm", headers=secretary["headers"])
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    signed_in = console.poll()
    assert signed_in.status_code == 200 and signed_in.json["status"] == "signed_in"
    token = signed_in.json["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json
    assert me["user"]["id"] == secretary["id"]
    # single use: the next poll, a second confirmation, a replay of the secret — all refused
    assert console.poll().json["error"]["code"] == "challenge_used"
    again = client.post(f"/api/v1/console/login-challenges/{code}/confirm", headers=secretary["headers"])
    assert again.status_code == 409 and again.json["error"]["code"] == "challenge_used"


def test_only_the_poll_secret_receives_the_session(world, client):
    secretary = world.member(world.community(), "committee")
    console = Console(client)
    code, _ = scan(client, secretary, console.challenge["qr_text"])
    client.post(f"/api/v1/console/login-challenges/{code}/confirm", headers=secretary["headers"])
    # someone who saw the QR code over the secretary's shoulder has the code, not the secret
    stolen = console.poll(secret="x" * 43)
    assert stolen.status_code == 404 and stolen.json["error"]["code"] == "challenge_not_found"
    assert console.poll().json["status"] == "signed_in"


def test_a_challenge_expires_after_two_minutes(world, client, monkeypatch):
    secretary = world.member(world.community(), "committee")
    console = Console(client)
    later = utcnow() + timedelta(seconds=121)
    monkeypatch.setattr(console_login, "utcnow", lambda: later)
    code, shown = scan(client, secretary, console.challenge["qr_text"])
    assert shown.status_code == 409 and shown.json["error"]["code"] == "challenge_expired"
    assert "过期" in shown.json["error"]["message"]
    assert client.post(f"/api/v1/console/login-challenges/{code}/confirm",
                       headers=secretary["headers"]).json["error"]["code"] == "challenge_expired"
    assert console.poll().json["error"]["code"] == "challenge_expired"


def test_declined_on_the_phone(world, client):
    clerk = world.member(world.community(), "property_staff")
    console = Console(client)
    code, _ = scan(client, clerk, console.challenge["qr_text"])
    assert client.post(f"/api/v1/console/login-challenges/{code}/decline",
                       headers=clerk["headers"]).json["status"] == "declined"
    refused = console.poll()
    assert refused.status_code == 409 and refused.json["error"]["code"] == "challenge_declined"


def test_an_owner_without_a_console_role_is_told_so(world, client):
    cid, phones = world.standard_community()
    owner = world.owner(cid, "1", "1", "101", "张伟", phones["张伟"])
    console = Console(client)
    code, shown = scan(client, owner, console.challenge["qr_text"])
    assert shown.status_code == 403 and shown.json["error"]["code"] == "no_console_role"
    assert client.post(f"/api/v1/console/login-challenges/{code}/confirm", headers=owner["headers"]).status_code == 403
    assert console.poll().json["status"] == "pending"


def test_sessions_are_listed_and_ended_from_the_phone(world, client):
    secretary = world.member(world.community(), "committee")
    console = Console(client)
    code, _ = scan(client, secretary, console.challenge["qr_text"])
    client.post(f"/api/v1/console/login-challenges/{code}/confirm", headers=secretary["headers"])
    console_token = console.poll().json["token"]
    sessions = client.get("/api/v1/me/sessions", headers=secretary["headers"]).json
    assert sorted(s["kind"] for s in sessions) == ["console", "miniprogram"]
    phone = next(s for s in sessions if s["kind"] == "miniprogram")
    web = next(s for s in sessions if s["kind"] == "console")
    assert phone["current"] and not web["current"] and "Chrome" in web["user_agent"]
    assert console_token.split(".")[0] not in str(sessions)  # handles, never session ids
    # the console session lasts hours, not the mini-program's week
    assert web["expires_at"] < phone["expires_at"]
    ended = client.delete(f"/api/v1/me/sessions/{web['id']}", headers=secretary["headers"])
    assert ended.status_code == 204
    refused = client.get("/api/v1/me", headers={"Authorization": f"Bearer {console_token}"})
    assert refused.status_code == 401 and refused.json["error"]["code"] == "token_revoked"
    assert client.delete(f"/api/v1/me/sessions/{web['id']}", headers=secretary["headers"]).status_code == 404
    # and one cannot end someone else's session
    other = world.login()
    assert client.delete(f"/api/v1/me/sessions/{phone['id']}", headers=other["headers"]).status_code == 404


@pytest.mark.parametrize("fake_wechat_on", [True, False])
def test_dev_login_only_with_the_fake_wechat(world, client, app, monkeypatch, fake_wechat_on):
    secretary = world.member(world.community(), "committee")
    monkeypatch.setitem(app.config, "WECHAT_DEV_FAKE", fake_wechat_on)
    resp = client.post("/api/v1/console/dev-login", json={"openid": secretary["openid"]})
    if fake_wechat_on:
        assert resp.status_code == 200 and resp.json["status"] == "signed_in"
        sessions = client.get("/api/v1/me/sessions", headers={"Authorization": "Bearer " + resp.json["token"]}).json
        assert [s["kind"] for s in sessions if s["current"]] == ["console"]
        unknown = client.post("/api/v1/console/dev-login", json={"openid": "nobody"})
        assert unknown.status_code == 422
    else:
        assert resp.status_code == 403 and resp.json["error"]["code"] == "dev_login_disabled"
        assert "扫码" in resp.json["error"]["message"]


def test_challenges_are_rate_limited_per_address(client, monkeypatch):
    monkeypatch.setattr(console_login, "CHALLENGES_PER_IP_PER_MINUTE", 3)
    statuses = [client.post("/api/v1/console/login-challenges").status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
