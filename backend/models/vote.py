"""Votes (docs/votes.md, docs/protocol.md): the draft and its state, the frozen roll, the append-only log with its
frontier (the row locked on every append), signed tree heads, the tally, owners' device keys, and [linli-vote/1.1]
the witnesses (registered per community, frozen per vote) with their co-signatures, and proxies."""
from datetime import datetime
from typing import Optional

from sqlalchemy import (JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from backend.extensions import db
from backend.models.base import UTCDateTime, utcnow

VOTE_STATES = ("draft", "open", "closed", "tallied")


class Vote(db.Model):
    """A resolution or an election; `public_id` is the protocol `vote_id`, fixed when it opens."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    public_id: Mapped[Optional[str]] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16))  # resolution | election
    matter: Mapped[str] = mapped_column(String(16))  # ordinary | special
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    buildings: Mapped[Optional[list]] = mapped_column(JSON)  # the scope; null = the whole community
    candidates: Mapped[Optional[list]] = mapped_column(JSON)  # [{id, name, statement}] for an election
    seats: Mapped[Optional[int]] = mapped_column(Integer)
    fund_amount_fen: Mapped[Optional[int]] = mapped_column(BigInteger)
    fund_purpose: Mapped[Optional[str]] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # The "closing in 24 hours" reminder went out (vote-reminders sends it once).
    reminded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # How many witnesses must co-sign a head, set by the committee while a draft; null: the default
    # (docs/votes.md "Witnesses"). The definition fixes the value at opening.
    witness_quorum: Mapped[Optional[int]] = mapped_column(Integer)


class VoteEvent(db.Model):
    """Append-only history of a vote's state: who moved it from which state to which, when."""

    __tablename__ = "vote_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))  # null: a scheduled command
    from_state: Mapped[Optional[str]] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoteRight(db.Model):
    """One right of the frozen roll (docs/protocol.md §3); `keys` are those bound when the roll froze."""

    __tablename__ = "vote_rights"
    __table_args__ = (UniqueConstraint("vote_id", "right_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    right_id: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(Text)
    area: Mapped[int] = mapped_column(BigInteger)  # 0.01 m²
    heads: Mapped[int] = mapped_column(Integer)
    keys: Mapped[list] = mapped_column(JSON)


class VoteRightOwner(db.Model):
    """The owner set of a roll right as it was when the roll froze: who may cast for it."""

    __tablename__ = "vote_right_owners"
    __table_args__ = (Index("ix_vote_right_owners_owner", "vote_id", "owner_id"),)

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    right_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)


class VoteKey(db.Model):
    """A public key's standing for one right of one vote, as the log says at its end: from the roll
    (bound_index null) or a key_binding entry, and revoked by a key_revocation entry."""

    __tablename__ = "vote_keys"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    right_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    bound_index: Mapped[Optional[int]] = mapped_column(Integer)
    revoked_index: Mapped[Optional[int]] = mapped_column(Integer)


class VoteEntry(db.Model):
    """One leaf of a vote's log: the canonical JSON bytes of the entry and its leaf hash."""

    __tablename__ = "vote_entries"
    __table_args__ = (
        # docs/protocol.md §7: a nonce is used once per log (NULLs — entries without a nonce — never collide).
        UniqueConstraint("vote_id", "nonce"),
        Index("ix_vote_entries_right", "vote_id", "right_id", "kind"),
    )

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))  # not indexed: hot append path
    kind: Mapped[str] = mapped_column(String(32))  # the entry's "type" ("delegation_revocation": 21)
    right_id: Mapped[Optional[str]] = mapped_column(String(64))
    nonce: Mapped[Optional[str]] = mapped_column(String(32))
    # Who caused the entry (server-side audit; not in the protocol).
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class VoteFrontier(db.Model):
    """The head of a vote's log: its size and the roots of its perfect subtrees (voting.merkle.Frontier).
    Every append locks this row (PostgreSQL SELECT … FOR UPDATE), so appends to one vote are serial."""

    __tablename__ = "vote_frontier"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    nodes: Mapped[bytes] = mapped_column(LargeBinary)  # 32 bytes per node, largest subtree first
    # Set by the close entry in the same transaction: an append that waited for the lock sees it.
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class TreeHead(db.Model):
    """A signed tree head (docs/protocol.md §6): one for every size the log has had."""

    __tablename__ = "tree_heads"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"))  # not indexed: hot append path
    root: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(32))  # the protocol time string, as signed
    signature: Mapped[str] = mapped_column(String(128))


class Tally(db.Model):
    """The signed tally of a closed vote and the result notice made from it."""

    __tablename__ = "tallies"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    body: Mapped[dict] = mapped_column(JSON)  # the tally (docs/protocol.md §9), with the server's signature
    # Written when the tally is published: at once without witnesses, else once the close head has its quorum.
    notice_text: Mapped[Optional[str]] = mapped_column(Text)
    notice_id: Mapped[Optional[int]] = mapped_column(Integer)  # the published notice, when notices exist
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class DeviceKey(db.Model):
    """An owner's device public key (Ed25519, b64u); the private key never leaves the phone."""

    __tablename__ = "device_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


WITNESS_KINDS = ("street_office", "residents_committee", "committee_member")


class Witness(db.Model):
    """A witness registered for a community (docs/votes.md "Witnesses"): the street office's and the
    residents' committee's keys (by the platform admin), committee members' keys (by the committee).
    Its protocol id is `w<id>`. Retired witnesses stay, for the votes that name them."""

    __tablename__ = "witnesses"
    __table_args__ = (UniqueConstraint("community_id", "public_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class VoteWitness(db.Model):
    """A witness of a vote, as its definition names it (frozen when the vote opens, like the roll)."""

    __tablename__ = "vote_witnesses"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    witness_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the protocol id
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    registry_id: Mapped[int] = mapped_column(ForeignKey("witnesses.id"))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    public_key: Mapped[str] = mapped_column(String(64), index=True)


class Cosignature(db.Model):
    """A witness's co-signature of one tree head of a vote, as received (checked) — one per witness and size."""

    __tablename__ = "cosignatures"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    witness_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    root: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(32))  # the protocol time string, as signed
    signature: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VoteDelegation(db.Model):
    """A proxy (docs/protocol.md §5.7) as the log says: granted by the delegation entry at
    `granted_index`, ended by a revocation, a newer delegation or the revocation of the key that
    signed it (`ended_index`, `ended_by`). At most one per right is active (ended_index null)."""

    __tablename__ = "vote_delegations"
    __table_args__ = (Index("ix_vote_delegations_right", "vote_id", "right_id"),)

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes.id"), primary_key=True)
    granted_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    right_id: Mapped[str] = mapped_column(String(64))
    delegate_key: Mapped[str] = mapped_column(String(64))
    delegate_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    signed_by: Mapped[str] = mapped_column(String(64))  # the owner key that signed it
    owner_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ended_index: Mapped[Optional[int]] = mapped_column(Integer)
    ended_by: Mapped[Optional[str]] = mapped_column(String(16))  # revoked | replaced | key_revoked
