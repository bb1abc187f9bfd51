"""Notices of the committee or the property company, and who has read them."""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

NOTICE_CATEGORIES = ("general", "maintenance", "outage", "safety", "meeting", "finance", "vote", "other")
NOTICE_STATUSES = ("published", "withdrawn")
PUBLISHER_ROLES = ("committee", "property_staff")


class Notice(db.Model):
    """A notice; never deleted: a withdrawn notice stays in the history, flagged."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_community_listing", "community_id", "pinned", "published_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    important: Mapped[bool] = mapped_column(Boolean, default=False)
    attachment_ids: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="published")
    # The role the notice was published in: the committee speaks for the owners, staff for the company.
    publisher_role: Mapped[str] = mapped_column(String(32))
    published_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[Optional[str]] = mapped_column(Text)


class NoticeRead(db.Model):
    """A read receipt: one row per (notice, user), written once."""

    __tablename__ = "notice_reads"
    __table_args__ = (UniqueConstraint("notice_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
