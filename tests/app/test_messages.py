"""What a person reads: validation messages in Chinese, JSON in UTF-8, one log line per refusal."""
import inspect
import logging
import re

import marshmallow as ma
import pytest

from miniprogram_api.messages import TRANSLATIONS, translate

CJK = re.compile(r"[\u4e00-\u9fff]")


def _messages(tree, path=""):
    """(where, message) for every message of a details.fields tree."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _messages(value, f"{path}.{key}" if path else str(key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _messages(value, path if isinstance(value, str) else f"{path}[{i}]")
    else:
        yield path, tree


def _marshmallow_templates():
    for cls in vars(ma.fields).values():
        if inspect.isclass(cls) and issubclass(cls, ma.fields.Field):
            for klass in cls.__mro__:
                yield from getattr(klass, "default_error_messages", {}).values()
    yield from ma.Schema._default_error_messages.values()
    for cls in vars(ma.validate).values():
        if inspect.isclass(cls) and issubclass(cls, ma.validate.Validator) and cls is not ma.validate.Range:
            yield from (value for name, value in vars(cls).items()
                        if isinstance(value, str) and (name.startswith("message") or name == "default_message"))


def test_the_table_has_every_default_message_of_marshmallow():
    """After an upgrade a new English default fails here, not in front of a resident."""
    missing = sorted({m for m in _marshmallow_templates() if m not in TRANSLATIONS})
    assert missing == []
    # Range builds its messages from parts: every combination
    for kwargs in ({"min": 1}, {"max": 9}, {"min": 1, "max": 9}, {"min": 1, "min_inclusive": False},
                   {"max": 9, "max_inclusive": False}, {"min": 1, "max": 9, "min_inclusive": False},
                   {"min": 1, "max": 9, "max_inclusive": False},
                   {"min": 1, "max": 9, "min_inclusive": False, "max_inclusive": False}):
        with pytest.raises(ma.ValidationError) as exc:
            ma.validate.Range(**kwargs)(100 if "max" in kwargs else -100)
        assert CJK.search(translate(exc.value.messages[0])), (kwargs, exc.value.messages)
    assert translate("Length must be between 1 and 120.") == "长度须在 1 到 120 之间"
    assert translate("Not a valid datetime.") == "须为有效的日期时间"
    assert translate("Must be one of: repair, complaint.") == "须为以下之一：repair, complaint"
    assert translate("须为对象") == "须为对象"  # ours pass through


def _mistakes(world, client):
    """The typical mistakes, sent to a few routes: (route, response)."""
    admin = world.platform_admin()
    cid = world.community()
    staff = world.member(cid, "property_staff")
    committee = world.member(cid, "committee")
    resident = world.member(cid, "resident")
    h = admin["headers"]
    yield "communities: missing fields, unknown field", client.post("/api/v1/communities", headers=h, json={"x": 1})
    yield "communities: wrong types", client.post("/api/v1/communities", headers=h, json={
        "name": 1, "district": ["a"], "address": None})
    yield "communities: too long", client.post("/api/v1/communities", headers=h, json={
        "name": "小" * 500, "district": "", "address": "路"})
    yield "communities: body not an object", client.post("/api/v1/communities", headers=h, json=["a"])
    yield "communities: bad query", client.get("/api/v1/communities?page=abc&per_page=1000&mine=maybe", headers=h)
    yield "tickets: choices, list, range, integer", client.post(
        f"/api/v1/communities/{cid}/tickets", headers=resident["headers"], json={
            "category": "bogus", "subject": "elevator", "description": "坏了", "part_id": "abc",
            "photo_ids": [0, "x"]})
    yield "tickets: list expected", client.post(f"/api/v1/communities/{cid}/tickets", headers=resident["headers"],
                                                json={"category": "repair", "photo_ids": "1"})
    yield "emergency spending: dates, strict integer, range", client.post(
        f"/api/v1/communities/{cid}/emergency-spending", headers=committee["headers"], json={
            "amount_fen": "12", "reason": "电梯", "contractor": "某公司", "spent_on": "2026-13-45",
            "street_office_reference": "JD-1", "street_office_confirmed_on": "yesterday"})
    yield "emergency spending: out of range", client.post(
        f"/api/v1/communities/{cid}/emergency-spending", headers=committee["headers"], json={
            "amount_fen": 0, "reason": "电梯", "contractor": "某公司", "spent_on": "2026-11-01",
            "street_office_reference": "JD-1", "street_office_confirmed_on": "2026-11-02"})
    yield "ticket stats: bad datetime", client.get(f"/api/v1/communities/{cid}/ticket-stats?from=garbage&format=xml",
                                                   headers=staff["headers"])
    yield "disclosure: not a mapping", client.post(f"/api/v1/communities/{cid}/disclosures", headers=staff["headers"],
                                                   json={"kind": "service_content", "content": "x"})
    yield "disclosure: content checked by the service", client.post(
        f"/api/v1/communities/{cid}/disclosures", headers=staff["headers"],
        json={"kind": "service_content", "content": {"items": "x", "extra": 1}})
    notice = client.post(f"/api/v1/communities/{cid}/notices", headers=committee["headers"],
                         json={"title": "通知", "body": "内容"}).get_json()["id"]
    yield "notice: not a boolean", client.patch(f"/api/v1/communities/{cid}/notices/{notice}",
                                                headers=committee["headers"], json={"pinned": "maybe"})
    yield "binding review: bad choice", client.post("/api/v1/bindings/1/review", headers=committee["headers"],
                                                    json={"decision": "perhaps", "owner_id": -3})


def test_every_validation_message_is_chinese(world, client):
    seen = 0
    for route, resp in _mistakes(world, client):
        assert resp.status_code == 422, (route, resp.status_code, resp.get_json())
        fields = resp.get_json()["error"]["details"]["fields"]
        for where, message in _messages(fields):
            seen += 1
            assert isinstance(message, str) and CJK.search(message), (route, where, message)
    assert seen >= 30


def test_json_is_utf8_without_escapes(world, client):
    """Chinese reads as itself in curl: the raw bytes carry UTF-8, no \\uXXXX."""
    resp = client.get("/api/v1/nowhere")
    assert "资源不存在".encode() in resp.data and b"\\u" not in resp.data
    admin = world.platform_admin()
    resp = client.post("/api/v1/communities", headers=admin["headers"],
                       json={"name": "幸福里", "district": "朝阳区", "address": "幸福路 1 号"})
    assert resp.status_code == 201 and "幸福里".encode() in resp.data and b"\\u" not in resp.data
    assert resp.content_type == "application/json"  # RFC 8259: JSON is UTF-8, no charset parameter needed
    spec = client.get("/api/v1/openapi.json")
    assert "m²".encode() in spec.data and b"\\u00b2" not in spec.data


def test_a_lone_surrogate_is_escaped_not_a_500(client):
    """Valid in a JSON string, not in UTF-8: echoed (an unknown field's name) as its escape."""
    resp = client.post("/api/v1/auth/wechat-login", data='{"code": "x", "\\ud800": 1}',
                       content_type="application/json")
    assert resp.status_code == 422 and b'"\\ud800"' in resp.data
    assert resp.get_json()["error"]["details"]["fields"]["\ud800"] == ["未知字段"]


def test_a_refusal_is_one_log_line_without_a_stack(world, client, caplog):
    """4xx: request id, method, path, status and code on one line, never a traceback; 5xx: the stack."""
    user = world.login()
    caplog.set_level(logging.INFO)
    refusals = [
        (client.get("/api/v1/tickets/999", headers={**user["headers"], "X-Request-Id": "req-a"}), "req-a",
         "GET /api/v1/tickets/999 -> 404 ticket_not_found"),
        (client.post("/api/v1/communities", headers={**user["headers"], "X-Request-Id": "req-b"}, json={}), "req-b",
         "POST /api/v1/communities -> 422 validation_error"),
        (client.get("/api/v1/nowhere", headers={"X-Request-Id": "req-c"}), "req-c",
         "GET /api/v1/nowhere -> 404 not_found"),
        (client.get("/api/v1/me", headers={"X-Request-Id": "req-d", "Authorization": "Bearer nope"}), "req-d",
         "GET /api/v1/me -> 401 invalid_token"),
    ]
    for resp, request_id, line in refusals:
        assert 400 <= resp.status_code < 500
        records = [r for r in caplog.records if request_id in r.getMessage()]
        assert len(records) == 1 and line in records[0].getMessage(), [r.getMessage() for r in records]
    assert all(r.exc_info is None for r in caplog.records) and "Traceback" not in caplog.text


def test_a_server_error_is_logged_with_its_stack(client, caplog, monkeypatch):
    from backend.services import identity

    def boom(code):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(identity, "wechat_login", boom)
    with caplog.at_level(logging.INFO, logger="linli"):
        resp = client.post("/api/v1/auth/wechat-login", json={"code": "x"}, headers={"X-Request-Id": "req-500"})
    assert resp.status_code == 500
    (record,) = [r for r in caplog.records if "req-500" in r.getMessage()]
    assert "POST /api/v1/auth/wechat-login -> 500 internal_error" in record.getMessage()
    assert record.exc_info and record.exc_info[0] is RuntimeError and "Traceback" in caplog.text
