"""Page through a select: the list shape of docs/architecture.md {items, page, per_page, total}."""
from sqlalchemy import func, select

from backend.extensions import db

MAX_PER_PAGE = 100


def paginate(query, page=1, per_page=20):
    """Run `query` for one page; returns {items, page, per_page, total}."""
    page = max(int(page or 1), 1)
    per_page = min(max(int(per_page or 20), 1), MAX_PER_PAGE)
    total = db.session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}
