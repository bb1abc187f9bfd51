"""Fixed-window rate limits counted in the database, so that every worker and host shares them."""
from datetime import datetime, timezone

from sqlalchemy.dialects import postgresql, sqlite

from backend.errors import DomainError
from backend.extensions import db
from backend.models.ratelimit import RateCounter


class TooManyRequests(DomainError):
    status = 429


def hit(key, limit, window_seconds, now, code="too_many_requests", message="操作过于频繁，请稍后再试"):
    """Count one attempt of `key` in its window (committed at once, so refused attempts count too);
    429 with `retry_after` seconds once more than `limit` attempts fall in the window."""
    epoch = int(now.timestamp())
    start = epoch - epoch % window_seconds
    window = datetime.fromtimestamp(start, timezone.utc)
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = RateCounter.__table__
    count = db.session.execute(
        insert(table).values(key=key, window_start=window, count=1)
        .on_conflict_do_update(index_elements=["key", "window_start"], set_={"count": table.c.count + 1})
        .returning(table.c.count)).scalar_one()
    db.session.commit()
    if count > limit:
        raise TooManyRequests(code, message, details={"limit": limit, "window_seconds": window_seconds,
                                                      "retry_after": start + window_seconds - epoch})


def forget_before(moment):
    """Drop counters of windows that started before `moment` (housekeeping)."""
    db.session.execute(db.delete(RateCounter).where(RateCounter.window_start < moment))
