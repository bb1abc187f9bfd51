"""Rate-limit counters shared by every worker and host (docs/architecture.md "State")."""
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime


class RateCounter(db.Model):
    """Hits of one key (e.g. "claim:user:12") in one fixed window starting at window_start."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
