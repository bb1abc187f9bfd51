"""Subscribe messages waiting to be sent to WeChat by the worker (never inside a request)."""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, Index
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

OUTBOX_STATUSES = ("pending", "sent", "declined", "failed")


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[Optional[int]] = mapped_column(ForeignKey("communities.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(128))
    page: Mapped[Optional[str]] = mapped_column(String(255))
    data: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
