"""GET /api/v1/notifications/templates: the subscribe-message template ids the mini-program asks
wx.requestSubscribeMessage for, from WECHAT_TEMPLATES (never hard-coded in the app)."""
from backend.config import Config
from backend.services.notifications import EVENTS


def test_configured_templates_in_event_order(world, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATES", {"vote_result": "tpl-result-XYZ", "ticket_reply": "tpl-reply-1",
                                                         "not_an_event": "tpl-other"})
    user = world.login()
    resp = client.get("/api/v1/notifications/templates", headers=user["headers"])
    assert resp.status_code == 200
    assert resp.json == {"templates": [{"event": "ticket_reply", "template_id": "tpl-reply-1"},
                                       {"event": "vote_result", "template_id": "tpl-result-XYZ"}]}


def test_nothing_configured_is_an_empty_list(world, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATES", {})
    resp = client.get("/api/v1/notifications/templates", headers=world.login()["headers"])
    assert resp.status_code == 200 and resp.json == {"templates": []}


def test_needs_a_login(client):
    resp = client.get("/api/v1/notifications/templates")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized" and resp.json["error"]["message"]


def test_the_setting_as_the_environment_gives_it():
    config = Config(env={"WECHAT_TEMPLATES": "vote_opened=AbC-123, ticket_status=tpl_9"})
    assert config.WECHAT_TEMPLATES == {"vote_opened": "AbC-123", "ticket_status": "tpl_9"}
    assert {"vote_opened", "ticket_status"} <= set(EVENTS)


def test_every_event_the_outbox_sends_is_listed():
    """EVENTS names each event the use cases enqueue, so none can be configured yet never offered."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "backend" / "services"
    sent = set()
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        sent |= set(re.findall(r'outbox\.enqueue\([^,]+,[^,]+,\s*"([a-z_]+)"', text))
        sent |= set(re.findall(r'^EVENT\s*=\s*"([a-z_]+)"', text, re.M))
        sent |= set(re.findall(r'_notify\([^\n]*?,\s*"([a-z_]+)",', text))
    assert sent == set(EVENTS)
