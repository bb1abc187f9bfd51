"""The four-level mediation ladder (issue 15): disputes and the record made at each level."""
from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

# 1 the owners' committee, 2 the community's people's mediation committee (社区人民调解委员会),
# 3 the street's joint meeting (镇街联席会议), 4 the district guidance centre (区物业矛盾调处指导中心)
LEVELS = (1, 2, 3, 4)
DISPUTE_STATUSES = ("open", "settled", "closed")


class Dispute(db.Model):
    __tablename__ = "disputes"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 4", name="level"),
                      CheckConstraint("status IN ('open', 'settled', 'closed')", name="status"),
                      Index("ix_disputes_community_status", "community_id", "status", "id"),
                      Index("ix_disputes_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    ticket_id: Mapped[Optional[int]] = mapped_column(ForeignKey("tickets.id"), index=True)
    filed_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    filer_role: Mapped[str] = mapped_column(String(16))  # owner | committee | reporter
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    level: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open")
    level_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    level_failed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class DisputeRecord(db.Model):
    """Append-only: who did what at which level, when, with what outcome and agreement document."""

    __tablename__ = "dispute_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # filed | session | settled | failed | taken_up | withdrawn
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(Text, default="")
    agreement_media_id: Mapped[Optional[int]] = mapped_column(ForeignKey("media.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(DisputeRecord, "before_update")
@event.listens_for(DisputeRecord, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("dispute records are append-only")
