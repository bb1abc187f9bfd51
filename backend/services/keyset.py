"""Keyset pagination for the district's lists (docs/scale.md): `after` is the last id of the previous
page, so a page costs the same at the end of a long list as at its start (an OFFSET would read and
throw away every row before it)."""
from backend.extensions import db

MAX_LIMIT = 200


def keyset(query, key, after=None, limit=50, descending=False):
    """{items, next_after, limit}: up to `limit` rows of `query` ordered by `key` (an integer column),
    after the key `after`; next_after is the key to ask the next page with, or None at the end."""
    limit = min(max(int(limit or 50), 1), MAX_LIMIT)
    if after is not None:
        query = query.where(key < after if descending else key > after)
    rows = db.session.execute(query.order_by(key.desc() if descending else key).limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_after": getattr(rows[-1], key.key) if more else None, "limit": limit}
