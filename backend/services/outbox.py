"""The notification outbox: use cases enqueue in their own transaction; a worker command sends
through WeChat subscribe messages, retrying with back-off; 43101 (the user declined) is final."""
from datetime import timedelta

from flask import current_app

from backend import wechat
from backend.extensions import db
from backend.models import OutboxMessage
from backend.models.base import utcnow

MAX_ATTEMPTS = 8
# Template ids are configured per event (WECHAT_TEMPLATES); the event name stands in until then.


def template_for(event):
    return current_app.config.get("WECHAT_TEMPLATES", {}).get(event, event)


def enqueue(user_id, community_id, event, data, page=None):
    """Queue one subscribe message for a user; the caller's transaction commits it."""
    message = OutboxMessage(user_id=user_id, community_id=community_id, event=event,
                            template_id=template_for(event), page=page,
                            data={k: {"value": str(v)[:20]} for k, v in data.items()})
    db.session.add(message)
    return message


def backoff(attempts):
    """Seconds before the next try: 30 s, 1 min, 2 min … capped at one hour."""
    return min(30 * 2 ** (attempts - 1), 3600)


def send_due(now=None, limit=100):
    """Send the messages that are due; returns counts by outcome."""
    from backend.models import User

    now = now or utcnow()
    counts = {"sent": 0, "declined": 0, "retry": 0, "failed": 0}
    due = db.session.execute(
        db.select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).scalars().all()
    for message in due:
        user = db.session.get(User, message.user_id)
        message.attempts += 1
        try:
            outcome = wechat.send_subscribe_message(user.openid, message.template_id, message.data, message.page)
        except wechat.WechatError as exc:
            message.last_error = f"{exc.code}: {exc.details}"
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
                counts["failed"] += 1
            else:
                message.next_attempt_at = now + timedelta(seconds=backoff(message.attempts))
                counts["retry"] += 1
        else:
            message.status = outcome
            message.sent_at = now if outcome == "sent" else None
            counts[outcome] += 1
        db.session.commit()  # one message per transaction: a crash never resends what was sent
    return counts
