"""Communities, roles, the owner registry (parts and owners) and owner bindings."""
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

# `mediator`: a member of the community's people's mediation committee (社区人民调解委员会), level 2 of
# the mediation ladder (docs/district.md).
ROLES = ("committee", "property_staff", "regulator", "resident", "mediator")


class Community(db.Model):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    district: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The street office above the compound (issue 15): its street regulators hold `regulator` here.
    street_id: Mapped[Optional[int]] = mapped_column(ForeignKey("streets.id"), index=True)
    # WGS-84 position in millionths of a degree (integers, never floats): Open311's lat/long.
    lat_e6: Mapped[Optional[int]] = mapped_column(Integer)
    lng_e6: Mapped[Optional[int]] = mapped_column(Integer)


class Membership(db.Model):
    """A role a user holds in one community (owner status comes from bindings instead)."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "community_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class Part(db.Model):
    """An exclusive part (专有部分): one flat or shop with its registered area in 0.01 m²."""

    __tablename__ = "parts"
    __table_args__ = (UniqueConstraint("community_id", "building", "unit", "room"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    area: Mapped[int] = mapped_column(Integer)
    # Removed by a later registry import; kept so that bindings and history still resolve.
    removed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    owners = relationship("Owner", secondary="part_owners", lazy="selectin", order_by="Owner.id")

    @property
    def label(self):
        return f"{self.building}-{self.unit}-{self.room}"


class Owner(db.Model):
    """A person (or the developer) in the registry; phone and ID number encrypted, hashed for matching."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("community_id", "identity_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # person | developer
    name: Mapped[str] = mapped_column(String(120))
    # developer → "developer"; person → "id:<hmac of ID number>" or "np:<hmac of name|phone>"
    identity_key: Mapped[str] = mapped_column(String(80))
    phone_enc: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    phone_hash: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    id_number_enc: Mapped[Optional[bytes]] = mapped_column(LargeBinary)
    id_number_hash: Mapped[Optional[str]] = mapped_column(String(64))
    # Who last wrote this owner's name, phone or ID number (the importing user): a claim by that user
    # is never verified by matching it (docs/decisions.md "Nobody verifies themselves").
    imported_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))


class PartOwner(db.Model):
    __tablename__ = "part_owners"

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), primary_key=True, index=True)
    imported_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))  # who linked them (as Owner)


class RegistryImport(db.Model):
    """One accepted registry import and what it changed (audit trail for the committee)."""

    __tablename__ = "registry_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    rows: Mapped[int] = mapped_column(Integer)
    added: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    removed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


BINDING_STATUSES = ("verified", "pending", "rejected")


class Binding(db.Model):
    """A user's claim to own a part: verified by phone+name match, or reviewed by hand."""

    __tablename__ = "bindings"
    __table_args__ = (Index("ix_bindings_user_community", "user_id", "community_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The address as claimed; part_id is the registry's part at that address, if there is one (the
    # claimant is never told which: docs/decisions.md "Claims reveal nothing").
    building: Mapped[str] = mapped_column(String(32))
    unit: Mapped[str] = mapped_column(String(32))
    room: Mapped[str] = mapped_column(String(32))
    part_id: Mapped[Optional[int]] = mapped_column(ForeignKey("parts.id"))
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("owners.id"))
    claimed_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))
    method: Mapped[Optional[str]] = mapped_column(String(32))  # phone_match | manual_review
    reason: Mapped[Optional[str]] = mapped_column(Text)
    certificate_media_id: Mapped[Optional[int]] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    decided_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))

    part = relationship("Part", lazy="joined")
    events = relationship("BindingEvent", order_by="BindingEvent.id", lazy="select", viewonly=True)

    @property
    def label(self):
        """The claimed address, building-unit-room (the part's label once it is resolved)."""
        return f"{self.building}-{self.unit}-{self.room}"


class BindingEvent(db.Model):
    """Append-only history of a binding: who did what, when and how it was verified."""

    __tablename__ = "binding_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    binding_id: Mapped[int] = mapped_column(ForeignKey("bindings.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))  # requested | verified | approved | rejected
    method: Mapped[Optional[str]] = mapped_column(String(32))
    note: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
