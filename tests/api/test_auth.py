"""Login through the fake WeChat, tokens (expired, tampered, revoked) and /me."""
from datetime import timedelta

from backend.extensions import db
from backend.models import AuthSession, User
from backend.models.base import utcnow
from backend.security import decrypt_pii


def test_login_issues_token_and_me_works(world, client):
    user = world.login("alice")
    me = client.get("/api/v1/me", headers=user["headers"])
    assert me.status_code == 200
    assert me.json["user"]["id"] == user["id"]
    assert me.json["communities"] == [] and me.json["bindings"] == []
    assert "openid" not in me.json["user"] and "session_key" not in str(me.json)


def test_session_key_is_stored_encrypted(world, client):
    world.login("bob")
    row = db.session.execute(db.select(User).filter_by(openid="bob")).scalar_one()
    assert row.session_key_enc and b"session" not in row.session_key_enc
    assert len(decrypt_pii(row.session_key_enc)) > 10


def test_second_login_same_user(world):
    assert world.login("carol")["id"] == world.login("carol")["id"]


def test_invalid_and_used_codes(client, wechat):
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "garbage"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "wechat_code_invalid"
    assert client.post("/api/v1/auth/wechat-login", json={"code": "code-dave"}).status_code == 200
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "code-dave"})
    assert resp.status_code == 400 and resp.json["error"]["code"] == "wechat_code_used"


def test_wechat_failures_become_clear_errors(client, wechat):
    wechat.fail("sns/jscode2session", 45011)
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "code-eve"})
    assert resp.status_code == 429 and resp.json["error"]["code"] == "wechat_rate_limited"
    wechat.fail("sns/jscode2session", -1)
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "code-eve"})
    assert resp.status_code == 503 and resp.json["error"]["code"] == "wechat_busy"


def test_slow_wechat_is_503_not_500(app, client, wechat):
    wechat.delay = 3.0  # the client's timeout in tests is 2 s
    resp = client.post("/api/v1/auth/wechat-login", json={"code": "code-slow"})
    wechat.delay = 0
    assert resp.status_code == 503 and resp.json["error"]["code"] == "wechat_unavailable"


def test_missing_code_is_422_listing_the_field(client):
    resp = client.post("/api/v1/auth/wechat-login", json={})
    assert resp.status_code == 422
    assert "code" in resp.json["error"]["details"]["fields"]


def test_no_token_tampered_token(world, client):
    assert client.get("/api/v1/me").status_code == 401
    user = world.login()
    tampered = user["token"][:-2] + ("AA" if not user["token"].endswith("AA") else "BB")
    resp = client.get("/api/v1/me", headers={"Authorization": "Bearer " + tampered})
    assert resp.status_code == 401 and resp.json["error"]["code"] == "invalid_token"


def test_expired_token_refused(world, client):
    user = world.login()
    session = db.session.execute(db.select(AuthSession)).scalars().all()[-1]
    session.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = client.get("/api/v1/me", headers=user["headers"])
    assert resp.status_code == 401 and resp.json["error"]["code"] == "token_expired"


def test_logout_revokes_on_server(world, client):
    user = world.login()
    assert client.post("/api/v1/auth/logout", headers=user["headers"]).status_code == 204
    resp = client.get("/api/v1/me", headers=user["headers"])
    assert resp.status_code == 401 and resp.json["error"]["code"] == "token_revoked"


def test_phone_verification_masks_and_encrypts(world, client):
    user = world.login()
    resp = client.post("/api/v1/me/phone", headers=user["headers"], json={"code": "phone-13912345678"})
    assert resp.status_code == 200 and resp.json["phone"] == "139****5678"
    row = db.session.get(User, user["id"])
    assert b"13912345678" not in row.phone_enc
    assert client.get("/api/v1/me", headers=user["headers"]).json["user"]["phone"] == "139****5678"


def test_phone_code_refreshes_token_once(world, client, wechat):
    user = world.login()
    world.verify_phone(user, "13912345678")
    fetches = wechat.token_fetches
    wechat.invalidate_tokens()  # WeChat answers 40001 for the stored token
    resp = client.post("/api/v1/me/phone", headers=user["headers"], json={"code": "phone-13912345679"})
    assert resp.status_code == 200
    assert wechat.token_fetches == fetches + 1


def test_token_failing_twice_is_503(world, client, wechat):
    user = world.login()
    wechat.fail("wxa/business/getuserphonenumber", 40001, times=2)
    resp = client.post("/api/v1/me/phone", headers=user["headers"], json={"code": "phone-13912345678"})
    assert resp.status_code == 503
