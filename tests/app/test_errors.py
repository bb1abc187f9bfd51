"""The error envelope (docs/errors.md) everywhere, and no stack trace leaks."""
import logging

import pytest

from backend.config import Config, ConfigError


def _envelope(resp, status, code=None):
    assert resp.status_code == status
    body = resp.get_json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_unknown_route_is_json_404(client):
    _envelope(client.get("/api/v1/nowhere"), 404, "not_found")
    _envelope(client.get("/favicon.ico"), 404, "not_found")


def test_wrong_method_is_json_405(client):
    _envelope(client.delete("/api/v1/auth/wechat-login"), 405, "method_not_allowed")


def test_an_id_out_of_range_is_404_even_where_another_method_has_the_path(world, client):
    """Found by schemathesis once the spec stopped documenting a catch-all response: werkzeug answered
    405 for GET /communities/0/members because the POST rule of that path had matched it first."""
    admin = world.platform_admin()
    for path in ("/api/v1/communities/0/members", "/api/v1/communities/99999999999/members"):
        _envelope(client.get(path, headers=admin["headers"]), 404, "not_found")
    err = _envelope(client.delete("/api/v1/communities/1/members", headers=admin["headers"]), 405, "method_not_allowed")
    assert "GET" in err["details"]["allowed"] and "POST" in err["details"]["allowed"]


def test_malformed_json_is_4xx(client):
    resp = client.post("/api/v1/auth/wechat-login", data="{not json", content_type="application/json")
    assert resp.status_code in (400, 422)
    _envelope(resp, resp.status_code)


def test_unknown_field_is_422_naming_it(client):
    err = _envelope(client.post("/api/v1/auth/wechat-login", json={"code": "x", "extra": 1}), 422)
    assert "extra" in err["details"]["fields"]


def test_body_over_limit_is_413(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = client.post("/api/v1/auth/wechat-login", data=b"x" * (limit + 1), content_type="application/json")
    _envelope(resp, 413, "payload_too_large")


def test_unexpected_exception_is_json_500_with_request_id(client, caplog, monkeypatch):
    from backend.services import identity

    def boom(code):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(identity, "wechat_login", boom)
    with caplog.at_level(logging.ERROR, logger="linli"):
        resp = client.post("/api/v1/auth/wechat-login", json={"code": "x"}, headers={"X-Request-Id": "req-123"})
    err = _envelope(resp, 500, "internal_error")
    assert err["details"]["request_id"] == "req-123"
    assert "secret internals" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)
    assert any("req-123" in r.getMessage() for r in caplog.records)


def test_production_refuses_default_secrets():
    with pytest.raises(ConfigError) as exc:
        Config(env={"LINLI_ENV": "production"}).validate()
    assert "SECRET_KEY" in str(exc.value) and "WECHAT_APPID" in str(exc.value)
    good = {"LINLI_ENV": "production", "SECRET_KEY": STRONG_SECRET, "PII_KEY": STRONG_PII_KEY,
            "WECHAT_APPID": "wx123", "WECHAT_SECRET": "abc", "WECHAT_API_BASE": "https://api.weixin.qq.com/"}
    Config(env=good).validate()
    with pytest.raises(ConfigError):
        Config(env=dict(good, WECHAT_DEV_FAKE="1")).validate()


STRONG_SECRET = "Yq3vN7hT0xPz-K2mW9cLbR5sJd8fGa1eUo4iHn6tQyE"  # secrets.token_urlsafe(32)
STRONG_PII_KEY = "m8X1c0f7Jq2ZyVb5tN3hL9kR4sW6dA0eP7uG2iO5xYQ="  # base64 of 32 random bytes


@pytest.mark.parametrize("name,value", [
    ("SECRET_KEY", "s" * 40),                                   # long, one character
    ("SECRET_KEY", "correct-horse-battery"),                    # short
    ("SECRET_KEY", "abcd" * 12),                                # a repeated pattern
    ("PII_KEY", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"),   # "keykeykey…"
    ("PII_KEY", "c2hvcnQta2V5LTE2Ynl0ZQ=="),                   # 16 bytes
    ("PII_KEY", "not base64 at all!"),
    ("SECRET_KEY_PREVIOUS", "old-password"),
])
def test_production_refuses_weak_secrets(name, value):
    good = {"LINLI_ENV": "production", "SECRET_KEY": STRONG_SECRET, "PII_KEY": STRONG_PII_KEY,
            "WECHAT_APPID": "wx123", "WECHAT_SECRET": "abc", "WECHAT_API_BASE": "https://api.weixin.qq.com/"}
    with pytest.raises(ConfigError) as exc:
        Config(env=dict(good, **{name: value})).validate()
    assert name in str(exc.value)


def test_development_default_needs_nothing():
    config = Config(env={})
    config.validate()
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///") and config.SQLALCHEMY_DATABASE_URI.endswith(
        "instance/linli.db")
    assert config.MEDIA_ROOT.endswith("instance/media") and config.WECHAT_DEV_FAKE


def test_template_ids_and_deadlines_from_the_environment():
    config = Config(env={"WECHAT_TEMPLATES": "ticket_reply=T1, vote_opened=T2",
                         "TICKET_RESOLUTION_HOURS": "noise=12"})
    assert config.WECHAT_TEMPLATES == {"ticket_reply": "T1", "vote_opened": "T2"}
    assert config.TICKET_RESOLUTION_HOURS["noise"] == 12 and config.TICKET_RESOLUTION_HOURS["elevator"] == 48
    for bad in ({"WECHAT_TEMPLATES": "ticket_reply"}, {"TICKET_RESOLUTION_HOURS": "dragons=3"}):
        with pytest.raises(ConfigError):
            Config(env=bad)


def test_times_before_1970_are_422_and_output_years_have_four_digits(world, client):
    """Found by schemathesis: year 0503 in a query reached the response as '503-…' (not ISO 8601)."""
    from datetime import datetime, timezone

    from miniprogram_api.common import UTCDateTime

    cid = world.community()
    staff = world.member(cid, "property_staff")
    resp = client.get(f"/api/v1/communities/{cid}/ticket-stats?from=0503-10-04T09:10:25Z", headers=staff["headers"])
    assert resp.status_code == 422 and "from" in resp.json["error"]["details"]["fields"]
    assert UTCDateTime()._serialize(datetime(999, 1, 2, 3, 4, 5, tzinfo=timezone.utc), "t", None) == "0999-01-02T03:04:05Z"


def test_unnamed_multipart_part_is_422_not_500(world, client):
    """Found by schemathesis: a multipart part with an odd name made the error handler sort None with str."""
    user = world.login()
    body = (b'--b\r\nContent-Disposition: form-data; name="\r"\r\n\r\nnull\r\n--b--\r\n')
    resp = client.post("/api/v1/media", data=body, headers={**user["headers"],
                                                            "Content-Type": "multipart/form-data; boundary=b"})
    assert resp.status_code == 422


def test_nul_characters_are_422_everywhere(world, client):
    """Found by schemathesis on PostgreSQL, which cannot store NUL: body, query and nested values."""
    admin = world.platform_admin()
    resp = client.post("/api/v1/communities", headers=admin["headers"],
                       json={"name": "a", "district": "b", "address": "幸福路\x00"})
    assert resp.status_code == 422 and "address" in resp.json["error"]["details"]["fields"]
    cid = world.community()
    resp = client.get(f"/api/v1/communities/{cid}/parts?building=1%00", headers=admin["headers"])
    assert resp.status_code == 422 and "building" in resp.json["error"]["details"]["fields"]


HOSTILE_BODIES = {
    "nested 100,000 deep": '{"code": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "nested 40 deep": '{"code": ' + "[" * 40 + "]" * 40 + "}",
    "a 5,000-digit integer": '{"code": ' + "9" * 5000 + "}",
    "a 25-digit integer": '{"code": 1234567890123456789012345}',
    "a key twice": '{"code": "code-a", "code": "code-b"}',
    "NaN": '{"code": NaN}',
    "Infinity": '{"code": -Infinity}',
    "a huge number": '{"code": 1' + "0" * 100 + '.5}',
    "bad UTF-8": b'{"code": "\xff\xfe"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_json_is_400_before_any_handler(world, client, caplog, name):
    """Anonymous login and the ballot route alike: a 400 with the envelope, no handler, no traceback."""
    user = world.login()
    caplog.set_level(logging.INFO)
    body = HOSTILE_BODIES[name]
    for path, headers in (("/api/v1/auth/wechat-login", {}), ("/api/v1/votes/1/ballots", user["headers"]),
                          ("/api/v1/me/keys", user["headers"])):
        err = _envelope(client.post(path, data=body, content_type="application/json", headers=headers), 400, "invalid_json")
        assert err["message"].startswith("请求体不是有效的 JSON")
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_json_within_the_limits_still_parses(world, client):
    user = world.login()
    nested = {"a": [[[[{"b": [1, 2, 9007199254740991]}]]]]}
    resp = client.post("/api/v1/me/keys", headers=user["headers"], json={"public_key": nested})
    assert resp.status_code == 422  # reached the schema, which refuses the type


def test_signed_token_with_a_session_id_of_another_type_is_401(app, world, client):
    from itsdangerous import URLSafeSerializer

    world.login()
    signer = URLSafeSerializer(app.config["SECRET_KEY"], salt="linli-bearer")
    for payload in ({"sid": [1, 2]}, {"sid": {"a": 1}}, {"sid": 7}, {"sid": None}, ["sid"], "sid", {"sid": "x" * 32},
                    {}):
        resp = client.get("/api/v1/me", headers={"Authorization": "Bearer " + signer.dumps(payload)})
        _envelope(resp, 401, "invalid_token")


def test_request_ids_are_echoed_only_when_plain(client):
    assert client.get("/api/v1/me", headers={"X-Request-Id": "req-42.a_b"}).headers["X-Request-Id"] == "req-42.a_b"
    for hostile in ("x" * 65, "a b", "<script>", "id\u2028two"):
        echoed = client.get("/api/v1/me", headers={"X-Request-Id": hostile}).headers["X-Request-Id"]
        assert echoed != hostile and len(echoed) == 32


def test_json_answers_are_not_cached(world, client):
    user = world.login()
    assert client.get("/api/v1/me", headers=user["headers"]).headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/nowhere").headers["Cache-Control"] == "no-store"
