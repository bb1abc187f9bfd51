"""Tickets (工单: repair, complaint, suggestion), their append-only events and their replies (docs/tickets.md)."""
from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

# docs/tickets.md "Codes": these codes are normative (API, database, docs).
TICKET_CATEGORIES = ("repair", "complaint", "suggestion")
TICKET_SUBJECTS = ("elevator", "parking", "sanitation", "security", "greenery", "illegal_construction",
                   "fire_lane", "pets", "noise", "utilities", "other")
TICKET_STATUSES = ("submitted", "accepted", "in_progress", "resolved", "confirmed", "reopened")
# Where a ticket came from (issue 15): the mini-program, the 12345 hotline, or another channel
# (another hotline, a mailbox, an Open311 client). Hotline tickets have no reporter user.
TICKET_CHANNELS = ("miniprogram", "12345", "other")


def _one_of(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Ticket(db.Model):
    """One complaint, repair request or suggestion filed by a resident of a community."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_one_of("category", TICKET_CATEGORIES), name="category"),
        CheckConstraint(_one_of("subject", TICKET_SUBJECTS), name="subject"),
        CheckConstraint(_one_of("status", TICKET_STATUSES), name="status"),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating"),
        # a community's tickets per status and the overdue and escalated ones among them (the inbox's
        # counts, the street dashboard): counted from the index alone, never from the scattered rows
        # (docs/scale.md); PostgreSQL keeps escalated_at in its leaves, SQLite has no INCLUDE
        Index("ix_tickets_community_status_subject", "community_id", "status", "subject", "created_at",
              postgresql_include=["escalated_at"]),
        CheckConstraint(_one_of("channel", TICKET_CHANNELS), name="channel"),
        # a hotline's order number is unique per channel, so a re-import is idempotent
        UniqueConstraint("channel", "external_id", name="uq_tickets_channel_external_id"),
        Index("ix_tickets_created", "created_at"),
        # the community's list, newest first, and its keyset pages: the whole ORDER BY in one index
        Index("ix_tickets_community_created_id", "community_id", "created_at", "id"),
        # a community's tickets of one channel (the hotline's), counted and listed without the
        # channel-wide unique index (300,000 entries for 12345 at city scale: docs/scale.md)
        Index("ix_tickets_community_channel_created", "community_id", "channel", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # None for a ticket from a hotline or another outside channel (no user filed it).
    reporter_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="miniprogram", server_default="miniprogram")
    external_id: Mapped[Optional[str]] = mapped_column(String(64))  # the hotline's order number
    category: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    # Where: a part of the community and/or free text (a common area, or a detail inside the part).
    part_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parts.id"))
    location: Mapped[Optional[str]] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # submission time
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last reply or transition; auto-confirmation waits for this much silence.
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # First accept or first staff reply, whichever came first (first-response time).
    first_response_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    accepted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    resolved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # the latest resolution
    confirmed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    auto_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[Optional[int]] = mapped_column(Integer)
    rating_comment: Mapped[Optional[str]] = mapped_column(Text)
    # Escalation to the street office is a mark, not a status (docs/tickets.md): the work goes on.
    escalated_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    escalation_reason: Mapped[Optional[str]] = mapped_column(String(32))  # not_accepted | not_resolved
    # A regulator may rule a complaint invalid (not the company's matter): it then leaves the
    # integrity score's count of valid complaints (docs/integrity.md).
    invalid_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    invalid_reason: Mapped[Optional[str]] = mapped_column(Text)
    invalid_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    part = relationship("Part", lazy="joined")


class TicketReply(db.Model):
    """A message on a ticket (resident, property staff, or the street office once escalated)."""

    __tablename__ = "ticket_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(16))  # reporter | property_staff | regulator
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketEvent(db.Model):
    """Append-only history of a ticket: submission, each transition, assignment, escalation."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))  # None: the system (a command)
    actor_role: Mapped[str] = mapped_column(String(16))  # reporter | property_staff | system
    action: Mapped[str] = mapped_column(String(16))  # submitted | transition | assigned | escalated
    from_status: Mapped[Optional[str]] = mapped_column(String(16))
    to_status: Mapped[Optional[str]] = mapped_column(String(16))
    assignee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    rating: Mapped[Optional[int]] = mapped_column(Integer)
    note: Mapped[Optional[str]] = mapped_column(Text)
    reply_id: Mapped[Optional[int]] = mapped_column(ForeignKey("ticket_replies.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(TicketEvent, "before_update")
@event.listens_for(TicketReply, "before_update")
@event.listens_for(TicketEvent, "before_delete")
@event.listens_for(TicketReply, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError(f"{type(target).__name__} rows are append-only")
