"""The district above the compounds (issue 15): streets, regulator scopes, the organisations that
serve compounds (property companies with their project managers, lift maintenance contractors) and
which one served which compound from when to when."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

ORGANISATION_KINDS = ("property_company", "lift_contractor")
# A service contract's service, and the kind of organisation that provides it.
SERVICES = {"property": "property_company", "lift": "lift_contractor"}


class Street(db.Model):
    """A street office (街道办 / 镇): a regulator scope above its compounds."""

    __tablename__ = "streets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RegulatorScope(db.Model):
    """A user regulates a whole street (street_id) or the whole district (street_id null): they hold
    `regulator` in every community of that scope, through security.roles_in, and nothing else."""

    __tablename__ = "regulator_scopes"
    # scope_key: "district" or "street:<id>", so that one user holds each scope once on both databases
    __table_args__ = (UniqueConstraint("user_id", "scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"), index=True)
    scope_key: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class Organisation(db.Model):
    """A property company (物业服务企业) or a lift maintenance contractor (电梯维保单位), identified
    by its unified social credit code (统一社会信用代码, GB 32100, check character validated)."""

    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint("kind IN ('property_company', 'lift_contractor')", name="kind"),
                      Index("ix_organisations_kind_id", "kind", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class ProjectManager(db.Model):
    """A property company's project manager (项目经理): a person, so never in a public answer; the
    phone is encrypted like every other."""

    __tablename__ = "project_managers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    phone_enc: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ServiceContract(db.Model):
    """An organisation serves a compound (property management or lift maintenance) from starts_on
    until the day before ends_on (null: still serving). Rows are never deleted: a change of company
    ends the current row and adds the next, so history is kept. Dates are China dates."""

    __tablename__ = "service_contracts"
    __table_args__ = (CheckConstraint("service IN ('property', 'lift')", name="service"),
                      CheckConstraint("ends_on IS NULL OR ends_on > starts_on", name="period"),
                      Index("ix_service_contracts_community", "community_id", "service", "starts_on"),
                      Index("ix_service_contracts_organisation", "organisation_id", "starts_on"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    service: Mapped[str] = mapped_column(String(16))
    manager_id: Mapped[Optional[int]] = mapped_column(ForeignKey("project_managers.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[Optional[date]] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
