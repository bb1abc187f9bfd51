"""backend/wechat.py against the fake WeChat: the shared access_token, its refresh, and the outbox."""
import threading
from datetime import timedelta

from backend import wechat as wx
from backend.extensions import db
from backend.models import OutboxMessage, WechatToken
from backend.models.base import utcnow
from backend.services import outbox


def test_token_is_shared_and_fetched_once_by_concurrent_workers(app, client, wechat):
    results, errors = [], []

    def worker():
        with app.app_context():
            try:
                results.append(wx.token_store.get(wx._client()))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    wechat.delay = 0.3  # make the refresh slow so that the others must wait for the lease holder
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wechat.delay = 0
    assert not errors
    assert len(set(results)) == 1 and wechat.token_fetches == 1
    row = db.session.get(WechatToken, "wx-test-appid")
    assert row.access_token == results[0] and row.refreshing_until is None


def test_expired_token_is_refreshed(app, client, wechat):
    first = wx.token_store.get(wx._client())
    row = db.session.get(WechatToken, "wx-test-appid")
    row.expires_at = utcnow() + timedelta(seconds=30)  # within the 60 s safety margin
    db.session.commit()
    assert wx.token_store.get(wx._client()) != first and wechat.token_fetches == 2


def test_outbox_sends_declines_and_backs_off(world, client, wechat):
    alice, bob, carol = world.login("alice"), world.login("bob"), world.login("carol")
    wechat.declined.add("bob")
    for user in (alice, bob, carol):
        outbox.enqueue(user["id"], None, "ticket_reply", {"thing1": "电梯已修好"}, page="pages/ticket?id=1")
    db.session.commit()
    wechat.fail("cgi-bin/message/subscribe/send", -1)  # the first send (alice) meets a busy WeChat
    now = utcnow()
    assert outbox.send_due(now=now) == {"sent": 1, "declined": 1, "retry": 1, "failed": 0}
    states = {m.user_id: m for m in db.session.execute(db.select(OutboxMessage)).scalars()}
    assert states[alice["id"]].status == "pending" and states[alice["id"]].attempts == 1
    assert states[bob["id"]].status == "declined" and states[carol["id"]].status == "sent"
    assert outbox.send_due(now=now) == {"sent": 0, "declined": 0, "retry": 0, "failed": 0}  # not due yet
    assert outbox.send_due(now=now + timedelta(seconds=31))["sent"] == 1
    assert [m["touser"] for m in wechat.messages] == ["carol", "alice"]
    assert wechat.messages[0]["data"] == {"thing1": {"value": "电梯已修好"}}


def test_backoff_grows_and_is_capped():
    assert [outbox.backoff(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert outbox.backoff(20) == 3600


def test_outbox_uses_the_configured_template(app, world, wechat, monkeypatch):
    user = world.login("dora")
    monkeypatch.setitem(app.config, "WECHAT_TEMPLATES", {"vote_opened": "TPL-VOTE-1"})
    outbox.enqueue(user["id"], None, "vote_opened", {"thing1": "维修资金表决"})
    db.session.commit()
    assert outbox.send_due()["sent"] == 1
    assert wechat.messages[-1]["template_id"] == "TPL-VOTE-1"
