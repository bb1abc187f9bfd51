"""Subscribe-message templates as the mini-program asks for them (wx.requestSubscribeMessage).

WeChat only delivers a subscribe message the user agreed to receive, one agreement per message, and
the mini-program must name the template ids when it asks. The ids are configured on the server
(`WECHAT_TEMPLATES`, the same setting the outbox sends with), so the app takes them from here rather
than hard-coding them: a template changed in the WeChat console is changed in one place.
"""
from flask import current_app

# Every event the outbox sends (docs/tickets.md, docs/votes.md, docs/disclosures.md, docs/district.md),
# in a fixed order.
EVENTS = (
    "notice_published",
    "ticket_submitted",
    "ticket_status",
    "ticket_reply",
    "ticket_reopened",
    "ticket_assigned",
    "ticket_escalated",
    "vote_opened",
    "vote_closing",
    "vote_result",
    "measure_issued",
)


def templates(user):
    """[{event, template_id}] for the events that have a template configured, in EVENTS order.

    An event without one is left out: the outbox's stand-in (the event's own name) is not a WeChat
    template id, and asking WeChat to subscribe to it would fail the whole request."""
    del user  # any logged-in user may ask; the ids are the same for everyone and reveal nothing
    configured = current_app.config.get("WECHAT_TEMPLATES") or {}
    return [{"event": event, "template_id": configured[event]} for event in EVENTS if configured.get(event)]
