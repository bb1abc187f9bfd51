"""Integrity scores (诚信系统, issue 15): frozen, server-signed quarterly results and year-end red
and black lists (one versioned, signed series each, like disclosure versions), and the provisional
score of the running quarter, recomputed by the assessment command."""
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

RESULT_KINDS = ("quarterly_score", "annual_lists", "manager_credit")


class IntegrityResult(db.Model):
    """One immutable, numbered, signed version of a result. A series is (kind, subject, period):
    subject "org:<id>" (a quarterly score), "manager:<id>" (a project manager's credit) or the
    organisation kind (the year's lists); period "2026-Q3" or "2026". Rows are only inserted."""

    __tablename__ = "integrity_results"
    __table_args__ = (UniqueConstraint("kind", "subject", "period", "version"),
                      Index("ix_integrity_results_org", "organisation_id", "period"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(40))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    period: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    score: Mapped[Optional[int]] = mapped_column(Integer)  # hundredths of a point, 0 … 10000
    content: Mapped[dict] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    note: Mapped[Optional[str]] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)  # whole seconds
    signature: Mapped[str] = mapped_column(String(128))


class ProvisionalScore(db.Model):
    """The running quarter's score as of `computed_at` (not signed; replaced on each run)."""

    __tablename__ = "integrity_provisional"
    __table_args__ = (UniqueConstraint("organisation_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    period: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(IntegrityResult, "before_update")
@event.listens_for(IntegrityResult, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("integrity results are append-only")
