"""Uploaded photos and documents (re-encoded images, checked PDFs) and the upload rate counters."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow


class Media(db.Model):
    """One stored file. Unattached (community_id, attached_* null) until a use case binds it to an object."""

    __tablename__ = "media"
    __table_args__ = (
        Index("ix_media_attached", "attached_type", "attached_id"),
        # media-gc looks for old unattached rows
        Index("ix_media_unattached", "attached_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[Optional[int]] = mapped_column(ForeignKey("communities.id"), index=True)
    attached_type: Mapped[Optional[str]] = mapped_column(String(32))
    attached_id: Mapped[Optional[int]] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(64))  # image/jpeg | image/png | image/webp | application/pdf
    width: Mapped[Optional[int]] = mapped_column(Integer)  # null for PDFs
    height: Mapped[Optional[int]] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)  # bytes stored
    sha256: Mapped[str] = mapped_column(String(64))  # hex SHA-256 of the stored bytes
    storage_key: Mapped[str] = mapped_column(String(255), unique=True)
    thumbnail_key: Mapped[Optional[str]] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attached_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    @property
    def is_image(self):
        return self.content_type.startswith("image/")
