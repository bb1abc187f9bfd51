"""Published, versioned records (the five disclosures and public-revenue statements) and
emergency maintenance-fund spending records (docs/disclosures.md)."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

DISCLOSURE_KINDS = ("service_content", "service_standard", "fee_items", "fee_standards", "utility_apportionment")
REVENUE_KIND = "revenue_statement"
PUBLICATION_KINDS = DISCLOSURE_KINDS + (REVENUE_KIND,)


class PublishedVersion(db.Model):
    """One immutable, numbered, server-signed version of a published record.

    A series is (community, kind, series): the five disclosures have one series per kind
    (series ""); revenue statements have one per half-year (series = period, e.g. "2026-H1").
    Rows are only ever inserted; a correction is the next version of the same series.
    """

    __tablename__ = "disclosure_versions"
    __table_args__ = (UniqueConstraint("community_id", "kind", "series", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    series: Mapped[str] = mapped_column(String(32), default="")
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    previous_sha256: Mapped[Optional[str]] = mapped_column(String(64))
    note: Mapped[Optional[str]] = mapped_column(Text)
    # [{"media_id", "sha256"}]: the files travel under the signature by their hashes.
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Whole seconds, so that the signed object can be rebuilt from the row byte for byte.
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signature: Mapped[str] = mapped_column(String(128))


class EmergencySpending(db.Model):
    """Maintenance-fund money spent in an emergency without a vote: a disclosed record (docs/disclosures.md)."""

    __tablename__ = "emergency_spendings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    contractor: Mapped[str] = mapped_column(String(120))
    location: Mapped[Optional[str]] = mapped_column(String(120))
    spent_on: Mapped[date] = mapped_column(Date)
    street_office_reference: Mapped[str] = mapped_column(String(120))
    street_office_confirmed_on: Mapped[date] = mapped_column(Date)
    photo_ids: Mapped[list] = mapped_column(JSON, default=list)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorder_role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
