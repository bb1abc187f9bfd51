"""The "421" routine (issue 15): inspections of compounds with their checklists, the graded
measures they order and the companies' answers, circulated notices (通报), and the weekly
complaint roll-up's focus inspections."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

INSPECTION_KINDS = ("inspection", "review")  # 检查, 现场复查
# Graded measures, mildest first; an overdue measure escalates to the next grade.
MEASURE_LEVELS = ("rectification_notice", "interview", "credit_record", "qualification_restriction")
MEASURE_STATUSES = ("open", "answered", "closed")


class Inspection(db.Model):
    """A regulator's inspection (or on-site review) of one compound on one day. `items` is the
    checklist: [{code, title, passed, points}] — `points` are whole points lost when the item fails."""

    __tablename__ = "inspections"
    __table_args__ = (CheckConstraint("kind IN ('inspection', 'review')", name="kind"),
                      Index("ix_inspections_community_date", "community_id", "inspected_on"),
                      Index("ix_inspections_street_date", "street_id", "inspected_on"),
                      Index("ix_inspections_organisation_date", "organisation_id", "inspected_on"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    # The community's street and serving company on that day, kept so that history stays as it was.
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    inspected_on: Mapped[date] = mapped_column(Date)
    items: Mapped[list] = mapped_column(JSON)
    points_lost: Mapped[int] = mapped_column(Integer)
    findings: Mapped[str] = mapped_column(Text, default="")
    focus_id: Mapped[Optional[int]] = mapped_column(ForeignKey("focus_inspections.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Measure(db.Model):
    """A graded measure ordered by an inspection (or by the escalation of an overdue one), addressed
    to an organisation, due by `due_at`."""

    __tablename__ = "measures"
    __table_args__ = (CheckConstraint("status IN ('open', 'answered', 'closed')", name="status"),
                      Index("ix_measures_community_id", "community_id", "id"),
                      Index("ix_measures_organisation_issued", "organisation_id", "issued_at"),
                      Index("ix_measures_status_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    organisation_id: Mapped[Optional[int]] = mapped_column(ForeignKey("organisations.id"))
    level: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))  # null: the escalation job
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Overdue: not closed by due_at. The escalation job marks it once and orders the next grade.
    overdue_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    escalated_to_id: Mapped[Optional[int]] = mapped_column(ForeignKey("measures.id"))
    previous_id: Mapped[Optional[int]] = mapped_column(ForeignKey("measures.id"))


class MeasureResponse(db.Model):
    """The company's answer to a measure (with evidence photos), or the regulator's review of it."""

    __tablename__ = "measure_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # answer | accepted | rejected
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Circular(db.Model):
    """A circulated notice (通报) of a street (or the district, street_id null) about inspections."""

    __tablename__ = "circulars"
    __table_args__ = (Index("ix_circulars_street_date", "street_id", "issued_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    inspection_ids: Mapped[list] = mapped_column(JSON, default=list)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FocusInspection(db.Model):
    """A compound complained about twice or more in one ISO week (China time): the weekly roll-up
    orders a focus inspection of it; the inspection that answers it points back here."""

    __tablename__ = "focus_inspections"
    __table_args__ = (UniqueConstraint("week", "community_id"), Index("ix_focus_inspections_done", "done", "week"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(8))  # 2026-W47
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    complaints: Mapped[int] = mapped_column(Integer)
    ticket_ids: Mapped[list] = mapped_column(JSON)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WeeklyRollup(db.Model):
    """One week's complaint roll-up (all channels), made once by the weekly-rollup command."""

    __tablename__ = "weekly_rollups"

    week: Mapped[str] = mapped_column(String(8), primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    totals: Mapped[dict] = mapped_column(JSON)  # {"by_channel": {…}, "complaints": n, "communities": n}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


@event.listens_for(MeasureResponse, "before_update")
@event.listens_for(MeasureResponse, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError(f"{type(target).__name__} rows are append-only")
