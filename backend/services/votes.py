"""Votes (handbook §5, §6, §3): drafts, opening with the frozen roll, casting with receipts, paper
ballots, key bindings that follow owners' device keys, proofs, closing, the tally, the bundle and
the result notice.

Everything about the protocol — entry builders, the Merkle tree, counting and the tally — comes from
voting/; this module only decides who may do what, keeps the log in the database and serialises
appends per vote. See docs/votes.md.
"""
import fcntl
import json
import logging
import os
import secrets
import sqlite3
import struct
import threading
import unicodedata
from collections import namedtuple
from datetime import timedelta, timezone
from typing import NamedTuple

import psycopg
from flask import current_app
from psycopg.rows import namedtuple_row
from sqlalchemy import (Integer, String, Text, bindparam, column, event, exists, func, insert, literal, select, true,
                        update)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from backend import signing
from backend.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from backend.extensions import db
from backend.models import Binding, Part
from backend.models.base import utcnow
from backend.models.vote import (DeviceKey, Tally, TreeHead, Vote, VoteEntry, VoteEvent, VoteFrontier, VoteKey,
                                 VoteRight, VoteRightOwner)
from backend.pagination import paginate
from backend.security import SESSIONS, live_session, pii_hash, require_community, roles_in
from backend.services import media, outbox
from backend.services.rights import community_rights
from voting import PROTOCOL
from voting.canonical import canonical, dumps, format_time, parse_time
from voting.counting import count_log, intrinsic_problem, tally_body
from voting.entries import (BALLOT_KEYS, ENVELOPE_KEYS, build_roll, choice_problem, is_id,
                            is_nonce, is_public_key, is_signature, make_ballot_entry, make_close, make_definition,
                            make_key_binding, make_key_revocation, make_paper_ballot, make_receipt, make_tree_head,
                            parse_definition)
from voting.keys import verify_bytes
from voting.merkle import Frontier, consistency_proof, inclusion_proof, leaf_hash
from voting.outcome import describe_outcome

log = logging.getLogger("linli.votes")

KINDS = ("resolution", "election")
MATTERS = ("ordinary", "special")
# The one guard of the vote's life (handbook §1): draft → open → closed → tallied.
TRANSITIONS = {"draft": ("open",), "open": ("closed",), "closed": ("tallied",)}
SHANGHAI = timezone(timedelta(hours=8))  # China has no daylight saving: a fixed offset is exact
REMIND_BEFORE = timedelta(hours=24)
MEDIA_FUND = "vote"  # contractor quotes etc. of a maintenance-fund resolution
MEDIA_PAPER = "vote_paper_ballot"  # photos of signed paper ballots


# ---------------------------------------------------------------- small helpers


def _nfc(text):
    return unicodedata.normalize("NFC", text.strip())


def _seconds(moment):
    """Protocol times have whole seconds; stored times are truncated the same way so they agree."""
    return moment.replace(microsecond=0)


def shanghai(moment):
    """A time as people in China read it: 2026-03-01 08:00（北京时间）."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def area_text(hundredths):
    """0.01 m² integer → '1234.56 m²', by integer arithmetic (never float)."""
    return f"{hundredths // 100}.{hundredths % 100:02d} m²"


def _get_vote(vote_pk):
    vote = db.session.get(Vote, vote_pk)
    if vote is None:
        raise NotFound("vote_not_found", "表决不存在")
    return vote


def _visible_vote(user, vote_pk):
    """The vote if the caller has a role in its community; drafts only for the committee."""
    vote = _get_vote(vote_pk)
    require_community(user, vote.community_id)
    if vote.state == "draft" and not (user.is_platform_admin or "committee" in roles_in(user, vote.community_id)):
        raise NotFound("vote_not_found", "表决不存在")
    return vote


def _require_opened(vote):
    if vote.state == "draft":
        raise Conflict("vote_not_open", "表决尚未开始")


def _verified_owner_ids(user_id, community_id=None):
    query = select(Binding.owner_id).where(Binding.user_id == user_id, Binding.status == "verified",
                                           Binding.owner_id.is_not(None))
    if community_id is not None:
        query = query.where(Binding.community_id == community_id)
    return set(db.session.execute(query).scalars())


def _transition(vote, to_state, actor, now):
    """Move the vote to `to_state` if its current state allows it; records a VoteEvent. The UPDATE is
    conditional on the state read, so two racing requests cannot both make the same move."""
    from_state = vote.state
    if to_state not in TRANSITIONS.get(from_state, ()):
        raise Conflict("vote_state_conflict", "表决当前状态不允许此操作",
                       details={"state": from_state, "to": to_state})
    moved = db.session.execute(
        update(Vote).where(Vote.id == vote.id, Vote.state == from_state).values(state=to_state)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise Conflict("vote_state_conflict", "表决状态已变化，请刷新后重试", details={"to": to_state})
    vote.state = to_state
    db.session.add(VoteEvent(vote_id=vote.id, community_id=vote.community_id, actor_id=actor.id if actor else None,
                             from_state=from_state, to_state=to_state, created_at=now))


# ---------------------------------------------------------------- the log


# (vote pk, public id) → the vote's fixed facts once it is open; see _definition.
_opened = {}


class _OpenedVote(NamedTuple):
    """What never changes about a vote once it is open: enough for the log and for casting."""

    id: int
    public_id: str
    community_id: int
    definition: object  # voting.entries.Definition: the parsed entry 0


def _definition(vote):
    """The parsed entry 0; cached per process — it never changes once written (keyed by the random
    public id too, so a reused primary key in another database never hits a stale entry)."""
    key = (vote.id, vote.public_id)
    opened = _opened.get(key)
    if opened is None:
        leaf = db.session.execute(
            select(VoteEntry.leaf).where(VoteEntry.vote_id == vote.id, VoteEntry.idx == 0)
        ).scalar_one()
        opened = _OpenedVote(vote.id, vote.public_id, vote.community_id, parse_definition(json.loads(leaf)))
        if len(_opened) > 1000:
            _opened.clear()
        _opened[key] = opened
    return opened.definition


def _split_nodes(blob):
    return [bytes(blob[i:i + 32]) for i in range(0, len(blob), 32)]


# The statements of the append path, built once (a cast runs them on every request).
_FRONTIER = VoteFrontier.__table__
_LOCK_ROW = (select(_FRONTIER.c.size, _FRONTIER.c.nodes, _FRONTIER.c.closed)
             .where(_FRONTIER.c.vote_id == bindparam("vote")).with_for_update())
# SQLite has no row locks: an UPDATE takes the database's write lock, and RETURNING reads the row
# inside it, so no other writer can append between the read and the write.
_LOCK_DATABASE = (update(_FRONTIER).where(_FRONTIER.c.vote_id == bindparam("vote")).values(size=_FRONTIER.c.size)
                  .returning(_FRONTIER.c.size, _FRONTIER.c.nodes, _FRONTIER.c.closed))
_SAVE_FRONTIER = (update(_FRONTIER).where(_FRONTIER.c.vote_id == bindparam("vote"))
                  .values(size=bindparam("size"), nodes=bindparam("nodes"), closed=bindparam("closed")))
_ADD_ENTRIES = insert(VoteEntry.__table__)
_ADD_HEADS = insert(TreeHead.__table__)
_BINDINGS, _RIGHT_OWNERS, _KEYS = Binding.__table__, VoteRightOwner.__table__, VoteKey.__table__
# (user, right) pairs among those asked for where the user is a verified owner of the roll right.
_OWNED = (select(_BINDINGS.c.user_id, _RIGHT_OWNERS.c.right_id).distinct()
          .join(_RIGHT_OWNERS, _RIGHT_OWNERS.c.owner_id == _BINDINGS.c.owner_id)
          .where(_RIGHT_OWNERS.c.vote_id == bindparam("vote"), _BINDINGS.c.status == "verified",
                 _BINDINGS.c.community_id == bindparam("community"),
                 _BINDINGS.c.user_id.in_(bindparam("users", expanding=True)),
                 _RIGHT_OWNERS.c.right_id.in_(bindparam("rights", expanding=True))))
_KEY_STATES = (select(_KEYS.c.right_id, _KEYS.c.public_key, _KEYS.c.revoked_index)
               .where(_KEYS.c.vote_id == bindparam("vote"), _KEYS.c.public_key.in_(bindparam("keys", expanding=True))))


_SQLITE_QUEUE, _SQLITE_WAL, _COMMITTED = "linli.sqlite_queue", "linli.sqlite_wal", "linli.committed"
_SYNC_NORMAL = "linli.synchronous_normal"


def _queue_for_sqlite_writes(conn):
    """On SQLite, wait for the database's write lock in a queue instead of SQLite's busy handler,
    and fsync after leaving it instead of inside it.

    SQLite has one write lock per database, and a writer that finds it taken sleeps 1, 2, 5, 10 … ms
    before trying again, however soon the lock is released: under a stream of casts that sleep
    was a sixth of the time. Appenders therefore first take an exclusive flock on a file beside the
    database, which wakes the next one the moment the holder's transaction ends (released by
    `_leave_sqlite_queue`). Only a connection that has written nothing yet in this transaction
    queues: one that already holds SQLite's lock must not wait for a queue whose head may be waiting
    for that lock; it keeps to the busy handler, as every other writer does.

    With synchronous=FULL the commit's fsync of the write-ahead log happens while the write lock is
    held — under load most of an append's time in the lock. A queued transaction therefore runs at
    synchronous=NORMAL (the commit writes the WAL without syncing it) and, once it has committed and
    left the queue, fsyncs the WAL itself before the commit returns: the next appender works while
    the disk syncs, and nothing is acknowledged before it is durable. (The frames are then either
    still in the WAL, which the fsync makes durable, or already copied by a checkpoint, which syncs
    the database file before the WAL is reused.) The connection is set back to FULL when it
    returns to the pool.
    """
    path = _database_file(conn)
    if path is None or conn.connection.driver_connection.in_transaction:
        return
    db.session.info.setdefault(_SQLITE_QUEUE, []).append(_enter_sqlite_queue(conn, path))
    db.session.info[_SQLITE_WAL] = path + "-wal"


def _database_file(conn):
    """The SQLite database file of `conn`, or None for an in-memory database."""
    path = conn.engine.url.database
    return path if path and path != ":memory:" else None


def _enter_sqlite_queue(conn, path):
    """Queue for the write lock of the database `path` and set `conn` to synchronous=NORMAL; returns
    the queue's descriptor, whose closing leaves the queue."""
    fd = _flock(path + "-writers.lock")
    try:
        conn.connection.driver_connection.execute("PRAGMA synchronous=NORMAL")
        conn.connection.info[_SYNC_NORMAL] = True
    except BaseException:
        os.close(fd)
        raise
    return fd


def _flock(path):
    """Wait for and take an exclusive flock on `path` (created, and its folder, if missing); returns
    the descriptor, whose closing releases it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        os.close(fd)
        raise
    return fd


@event.listens_for(Session, "after_commit")
def _note_commit(session):
    if _SQLITE_WAL in session.info:
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_transaction_end")
def _leave_sqlite_queue(session, transaction):
    """The transaction has committed or rolled back: let the next writer in (closing releases the
    flock), then make a commit durable."""
    if transaction.parent is not None:
        return
    for fd in session.info.pop(_SQLITE_QUEUE, ()):
        os.close(fd)
    wal, committed = session.info.pop(_SQLITE_WAL, None), session.info.pop(_COMMITTED, False)
    if wal and committed:
        _sync_wal(wal)


def _sync_wal(wal):
    """fsync SQLite's write-ahead log `wal` (or, once checkpointed and removed, the database)."""
    try:
        fd = os.open(wal, os.O_RDONLY)
    except FileNotFoundError:  # checkpointed and removed: the frames are in the database file
        fd = os.open(wal[:-len("-wal")], os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@event.listens_for(Pool, "checkin")
def _back_to_full_sync(dbapi_connection, record):
    """A connection leaves a queued write at synchronous=NORMAL: every other use expects FULL."""
    if record.info.pop(_SYNC_NORMAL, False) and dbapi_connection is not None:
        try:
            dbapi_connection.execute("PRAGMA synchronous=FULL")
        except Exception as exc:  # noqa: BLE001 — never hand out a connection that does not sync
            record.invalidate(exc)


class _Log:
    """One vote's log inside the current transaction, holding the per-vote lock (handbook §3).

    Every append signs the tree head of the new size, so each entry's receipt has a head of exactly
    its own size; its audit path is the frontier before the append (the right edge of the tree), so
    an append never reads other leaves: O(log n) whatever the size of the log.
    """

    def __init__(self, vote, fresh=False, frontier=None):
        self.vote = vote
        if frontier is not None:  # read without the lock: only to build appends (_append_optimistically)
            self.frontier, self.first = frontier, frontier.size
            self.key = signing.server_key()
            self.entry_rows, self.head_rows = [], []
            return
        # The session's connection, used directly: the append path's statements are all Core.
        self.conn = db.session.connection()
        self.postgresql = self.conn.dialect.name == "postgresql"
        if not self.postgresql:
            _queue_for_sqlite_writes(self.conn)
        if fresh:
            self.frontier = Frontier()
        else:
            row = self.conn.execute(_LOCK_ROW if self.postgresql else _LOCK_DATABASE, {"vote": vote.id}).one()
            if row.closed:
                raise Conflict("vote_closed", "表决已结束")
            self.frontier = Frontier(row.size, _split_nodes(row.nodes))
        self.first = self.frontier.size
        self.key = signing.server_key()
        self.entry_rows, self.head_rows = [], []

    @property
    def size(self):
        return self.frontier.size

    def append(self, entry, right_id=None, nonce=None, user_id=None, timestamp=None, leaf=None):
        """Add one entry (`leaf`: its canonical bytes, if already made); returns its receipt."""
        leaf = leaf or canonical(entry)
        digest = leaf_hash(leaf)
        proof = self.frontier.nodes()[::-1]
        index = self.frontier.size
        self.frontier.append(digest)
        head = make_tree_head(self.key, self.vote.public_id, index + 1, self.frontier.root(), timestamp)
        self.entry_rows.append({"vote_id": self.vote.id, "idx": index, "community_id": self.vote.community_id,
                                "kind": entry["type"], "right_id": right_id, "nonce": nonce, "user_id": user_id,
                                "leaf": leaf, "leaf_hash": digest})
        self.head_rows.append({"vote_id": self.vote.id, "size": index + 1, "community_id": self.vote.community_id,
                               "root": head["root"], "timestamp": head["timestamp"], "signature": head["signature"]})
        return make_receipt(self.vote.public_id, index, digest.hex(), head, proof)

    def flush(self, closed=False):
        """Write the new entries, their tree heads and the frontier."""
        if self.entry_rows:
            # A single row as a plain execute: executemany would go through psycopg's pipeline mode.
            single = len(self.entry_rows) == 1
            self.conn.execute(_ADD_ENTRIES, self.entry_rows[0] if single else self.entry_rows)
            self.conn.execute(_ADD_HEADS, self.head_rows[0] if single else self.head_rows)
        nodes = b"".join(self.frontier.nodes())
        if self.first == 0:
            self.conn.execute(insert(_FRONTIER).values(vote_id=self.vote.id, community_id=self.vote.community_id,
                                                        size=self.size, nodes=nodes, closed=closed))
        else:
            self.conn.execute(_SAVE_FRONTIER, {"vote": self.vote.id, "size": self.size, "nodes": nodes,
                                                "closed": closed})
        self.entry_rows, self.head_rows = [], []

    def commit(self):
        """Write and commit the appends in one transaction; only then may their receipts be handed out.
        (An asynchronous commit of the appends followed by a synchronous one of the tree heads, so
        that the lock is not held during the WAL flush, was measured slower on PostgreSQL: each
        round trip costs more than the flush it overlaps.)"""
        self.flush()
        db.session.commit()


def _roll(vote):
    """The frozen roll as §6 lists it, sorted by right_id."""
    rows = db.session.execute(
        select(VoteRight.right_id, VoteRight.label, VoteRight.area, VoteRight.heads, VoteRight.keys)
        .where(VoteRight.vote_id == vote.id).order_by(VoteRight.right_id)
    ).all()
    return [{"right_id": r.right_id, "label": r.label, "area": r.area, "heads": r.heads, "keys": list(r.keys)}
            for r in rows]


def _head_dict(vote, row):
    return {"type": "tree_head", "vote_id": vote.public_id, "size": row.size, "root": row.root,
            "timestamp": row.timestamp, "signature": row.signature}


def _tree_head(vote, size=None):
    """The signed tree head of `size` (the latest when None), or None."""
    query = select(TreeHead).where(TreeHead.vote_id == vote.id)
    query = query.where(TreeHead.size == size) if size is not None else query.order_by(TreeHead.size.desc()).limit(1)
    row = db.session.execute(query).scalar_one_or_none()
    return _head_dict(vote, row) if row else None


def _log_size(vote):
    return db.session.execute(select(VoteFrontier.size).where(VoteFrontier.vote_id == vote.id)).scalar() or 0


def _received(now, definition):
    """The protocol time of an entry received now; refused outside [opens_at, closes_at)."""
    text = format_time(now)
    moment = parse_time(text)
    if moment < definition.opens_at:
        raise Conflict("vote_not_started", "表决尚未开始投票",
                       details={"opens_at": format_time(definition.opens_at)})
    if moment >= definition.closes_at:
        raise Conflict("vote_closed", "表决已截止", details={"closes_at": format_time(definition.closes_at)})
    return text


def _check_open_for_ballots(vote, now):
    if vote.state == "draft":
        raise Conflict("vote_not_open", "表决尚未开始")
    if vote.state != "open":
        raise Conflict("vote_closed", "表决已结束")
    _received(now, _definition(vote))


# ---------------------------------------------------------------- drafts


def _candidates(raw):
    return [{"id": f"c{i}", "name": _nfc(c["name"]), "statement": (c.get("statement") or "").strip()}
            for i, c in enumerate(raw, 1)]


def _apply_draft(vote, fields):
    """Copy the given draft fields onto the vote (partial: absent fields keep their value)."""
    if "title" in fields:
        vote.title = _nfc(fields["title"])  # NFC: the title goes into entry 0, canonical JSON wants NFC
    if "description" in fields:
        vote.description = (fields["description"] or "").strip()
    for name in ("kind", "matter", "seats"):
        if name in fields:
            setattr(vote, name, fields[name])
    for name in ("opens_at", "closes_at"):
        if name in fields:
            setattr(vote, name, _seconds(fields[name]))
    if "scope" in fields:
        scope = fields["scope"]
        vote.buildings = sorted({b.strip() for b in scope["buildings"]}) if scope else None
    if "candidates" in fields:
        vote.candidates = _candidates(fields["candidates"]) if fields["candidates"] else None
    if "fund" in fields:
        fund = fields["fund"]
        vote.fund_amount_fen = fund["amount_fen"] if fund else None
        vote.fund_purpose = fund["purpose"].strip() if fund else None


def _validate_draft(vote, now):
    """§5 and the issue: closing after opening, the minimum period, seats and candidates, the scope."""
    problems = {}
    if vote.kind not in KINDS:
        problems["kind"] = ["须为 resolution 或 election"]
    if vote.matter not in MATTERS:
        problems["matter"] = ["须为 ordinary 或 special"]
    if vote.closes_at <= vote.opens_at:
        problems["closes_at"] = ["结束时间须晚于开始时间"]
    elif vote.closes_at - vote.opens_at < timedelta(hours=current_app.config["VOTE_MIN_HOURS"]):
        problems["closes_at"] = [f"投票期不得少于 {current_app.config['VOTE_MIN_HOURS']} 小时"]
    elif vote.closes_at <= now:
        problems["closes_at"] = ["结束时间已过"]
    if vote.kind == "election":
        if vote.matter != "ordinary":
            problems["matter"] = ["选举按一般事项表决（§5），matter 须为 ordinary"]
        if not vote.seats or vote.seats < 1:
            problems["seats"] = ["应选人数须至少为 1"]
        if not vote.candidates:
            problems["candidates"] = ["选举须有候选人"]
        elif vote.seats and len(vote.candidates) < vote.seats:
            problems["candidates"] = ["候选人数不得少于应选人数"]
        if vote.fund_amount_fen is not None:
            problems["fund"] = ["维修资金使用须以决议表决，不能用于选举"]
    else:
        if vote.candidates:
            problems["candidates"] = ["只有选举才有候选人"]
        if vote.seats is not None:
            problems["seats"] = ["只有选举才有应选人数"]
    if vote.buildings is not None:
        known = set(db.session.execute(
            select(Part.building).where(Part.community_id == vote.community_id, Part.removed_at.is_(None),
                                        Part.building.in_(vote.buildings)).distinct()
        ).scalars())
        missing = [b for b in vote.buildings if b not in known]
        if missing:
            problems["scope.buildings"] = [f"楼栋 {b} 不在登记册中" for b in missing]
    if problems:
        raise Invalid(problems)


def _attach_fund_media(user, vote, attachment_ids):
    if attachment_ids:
        media.attach(user, attachment_ids, vote.community_id, MEDIA_FUND, vote.id, allow_pdf=True,
                     field="fund.attachment_ids")


def create_vote(user, community_id, **fields):
    """A committee drafts a resolution or an election (validated; editable until it opens)."""
    require_community(user, community_id, "committee")
    now = utcnow()
    vote = Vote(community_id=community_id, created_by=user.id, state="draft", created_at=now, description="",
                matter="ordinary")
    _apply_draft(vote, fields)
    _validate_draft(vote, now)
    db.session.add(vote)
    db.session.flush()
    _attach_fund_media(user, vote, (fields.get("fund") or {}).get("attachment_ids"))
    db.session.add(VoteEvent(vote_id=vote.id, community_id=community_id, actor_id=user.id, from_state=None,
                             to_state="draft", created_at=now))
    db.session.commit()
    return view(user, vote)


def update_vote(user, vote_pk, **fields):
    """Edit a draft (only the fields given change); refused once the vote is open."""
    vote = _get_vote(vote_pk)
    require_community(user, vote.community_id, "committee")
    if vote.state != "draft":
        raise Conflict("vote_not_draft", "表决已开始，不能再修改")
    _apply_draft(vote, fields)
    _validate_draft(vote, utcnow())
    if fields.get("fund"):
        _attach_fund_media(user, vote, fields["fund"].get("attachment_ids"))
    db.session.commit()
    return view(user, vote)


# ---------------------------------------------------------------- opening


def _keys_by_owner(community_id):
    """Active device keys of each verified owner of the community (owner id → keys)."""
    rows = db.session.execute(
        select(Binding.owner_id, DeviceKey.public_key)
        .join(DeviceKey, DeviceKey.user_id == Binding.user_id)
        .where(Binding.community_id == community_id, Binding.status == "verified", Binding.owner_id.is_not(None),
               DeviceKey.revoked_at.is_(None))
    ).all()
    keys = {}
    for owner_id, public_key in rows:
        keys.setdefault(str(owner_id), set()).add(public_key)
    return keys


def open_vote(user, vote_pk, now=None):
    """Freeze the roll for the scope (§5 rights), write entry 0 and sign the first tree head."""
    vote = _get_vote(vote_pk)
    require_community(user, vote.community_id, "committee")
    now = _seconds(now or utcnow())
    if vote.state != "draft":
        raise Conflict("vote_not_draft", "表决已开始或已结束")
    # A vote opened after its planned start starts now: entry 0 never claims an earlier opening.
    opens_at = max(vote.opens_at, now)
    if vote.closes_at - opens_at < timedelta(hours=current_app.config["VOTE_MIN_HOURS"]) or vote.closes_at <= opens_at:
        raise Conflict("voting_period_too_short", "距结束时间太近，请先修改结束时间",
                       details={"closes_at": format_time(vote.closes_at)})
    _transition(vote, "open", user, now)
    rights = community_rights(vote.community_id, vote.buildings)
    if not rights:
        raise Conflict("roll_empty", "表决范围内没有业主，无法开始表决")
    owner_keys = _keys_by_owner(vote.community_id)
    keys_by_right = {r.right_id: set().union(*(owner_keys.get(o, set()) for o in r.owners)) for r in rights}
    roll = build_roll(rights, keys_by_right)
    vote.public_id = f"v{vote.id}-{secrets.token_hex(4)}"
    vote.opens_at, vote.opened_at = opens_at, now
    definition = make_definition(
        vote_id=vote.public_id, community_id=str(vote.community_id), title=vote.title, kind=vote.kind,
        matter=vote.matter, opens_at=opens_at, closes_at=vote.closes_at, roll=roll,
        server_key=signing.server_public_key(),
        candidates=[{"id": c["id"], "name": c["name"]} for c in vote.candidates or []] or None, seats=vote.seats,
    )
    cid = vote.community_id
    db.session.execute(insert(VoteRight.__table__), [
        {"vote_id": vote.id, "community_id": cid, "right_id": item["right_id"], "label": item["label"],
         "area": item["area"], "heads": item["heads"], "keys": item["keys"]} for item in roll])
    db.session.execute(insert(VoteRightOwner.__table__), [
        {"vote_id": vote.id, "right_id": r.right_id, "owner_id": int(o), "community_id": cid}
        for r in rights for o in sorted(r.owners)])
    key_rows = [{"vote_id": vote.id, "right_id": item["right_id"], "public_key": k, "community_id": cid}
                for item in roll for k in item["keys"]]
    if key_rows:
        db.session.execute(insert(VoteKey.__table__), key_rows)
    book = _Log(vote, fresh=True)
    book.append(definition, user_id=user.id, timestamp=format_time(now))
    book.flush()
    for user_id in _roll_users(vote):
        outbox.enqueue(user_id, cid, "vote_opened", {"title": vote.title, "closes_at": shanghai(vote.closes_at)},
                       page=_page(vote))
    db.session.commit()
    return view(user, vote)


def _page(vote):
    return f"pages/votes/detail?id={vote.id}"


def _roll_users(vote, right_ids=None):
    """Users verified as owners of rights in the roll (optionally only some rights)."""
    query = (select(Binding.user_id).join(VoteRightOwner, VoteRightOwner.owner_id == Binding.owner_id)
             .where(VoteRightOwner.vote_id == vote.id, Binding.status == "verified",
                    Binding.community_id == vote.community_id).distinct())
    if right_ids is not None:
        query = query.where(VoteRightOwner.right_id.in_(list(right_ids)))
    return sorted(db.session.execute(query).scalars())


# ---------------------------------------------------------------- device keys in open logs


def bind_key_in_open_votes(user, public_key, now):
    """Append a key_binding to every open vote for each roll right the user is a verified owner of."""
    rows = db.session.execute(
        select(VoteRightOwner.vote_id, VoteRightOwner.right_id)
        .join(Vote, Vote.id == VoteRightOwner.vote_id)
        .join(Binding, (Binding.owner_id == VoteRightOwner.owner_id) & (Binding.community_id == Vote.community_id))
        .where(Vote.state == "open", Binding.user_id == user.id, Binding.status == "verified")
        .distinct().order_by(VoteRightOwner.vote_id, VoteRightOwner.right_id)
    ).all()
    return _follow_key(user, public_key, rows, now, bind=True)


def revoke_key_in_open_votes(user, public_key, now):
    """Append a key_revocation to every open vote where the key is bound to a right."""
    rows = db.session.execute(
        select(VoteKey.vote_id, VoteKey.right_id).join(Vote, Vote.id == VoteKey.vote_id)
        .where(Vote.state == "open", VoteKey.public_key == public_key, VoteKey.revoked_index.is_(None))
        .order_by(VoteKey.vote_id, VoteKey.right_id)
    ).all()
    return _follow_key(user, public_key, rows, now, bind=False)


def _follow_key(user, public_key, rows, now, bind):
    by_vote = {}
    for vote_pk, right_id in rows:
        by_vote.setdefault(vote_pk, []).append(right_id)
    done = []
    # Locks are taken in vote id order, so two requests touching several votes never deadlock.
    for vote_pk in sorted(by_vote):
        vote = db.session.get(Vote, vote_pk)
        book = _Log(vote)
        when = format_time(now)
        for right_id in by_vote[vote_pk]:
            if bind:
                done.append(_bind(book, vote, right_id, public_key, user.id, when))
            else:
                index = book.size
                book.append(make_key_revocation(vote.public_id, right_id, public_key, when), right_id=right_id,
                            user_id=user.id, timestamp=when)
                db.session.execute(update(VoteKey).where(
                    VoteKey.vote_id == vote.id, VoteKey.right_id == right_id, VoteKey.public_key == public_key
                ).values(revoked_index=index).execution_options(synchronize_session=False))
                done.append({"vote_id": vote.id, "right_id": right_id, "leaf_index": index})
        book.flush()
    return [d for d in done if d]


def _bind(book, vote, right_id, public_key, user_id, when):
    """Append a key_binding for a key not yet known to this right of this vote."""
    exists = db.session.execute(select(VoteKey.revoked_index).where(
        VoteKey.vote_id == vote.id, VoteKey.right_id == right_id, VoteKey.public_key == public_key)).first()
    if exists is not None:
        return None
    index = book.size
    book.append(make_key_binding(vote.public_id, right_id, public_key, when), right_id=right_id, user_id=user_id,
                timestamp=when)
    db.session.add(VoteKey(vote_id=vote.id, right_id=right_id, public_key=public_key,
                           community_id=vote.community_id, bound_index=index))
    return {"vote_id": vote.id, "right_id": right_id, "leaf_index": index}


# ---------------------------------------------------------------- casting


def _envelope_problem(envelope):
    """(field, message) for an envelope that is not of the §6 form, or None. Vote-specific checks follow."""
    if not isinstance(envelope, dict) or set(envelope) != ENVELOPE_KEYS:
        return "envelope", "须包含且只包含 ballot、public_key、signature"
    if not is_public_key(envelope["public_key"]):
        return "public_key", "须为 Ed25519 公钥（32 字节，无填充 base64url）"
    if not is_signature(envelope["signature"]):
        return "signature", "须为 Ed25519 签名（64 字节，无填充 base64url）"
    ballot = envelope["ballot"]
    if not isinstance(ballot, dict) or set(ballot) != BALLOT_KEYS:
        return "ballot", "选票须包含且只包含 type、vote_id、right_id、choice、nonce、signed_at"
    if ballot["type"] != "ballot":
        return "ballot.type", "须为 ballot"
    if not is_id(ballot["vote_id"]):
        return "ballot.vote_id", "格式不正确"
    if not is_id(ballot["right_id"]):
        return "ballot.right_id", "格式不正确"
    if not is_nonce(ballot["nonce"]):
        return "ballot.nonce", "须为 16 个随机字节（无填充 base64url）"
    try:
        parse_time(ballot["signed_at"])
    except ValueError:
        return "ballot.signed_at", "须为 UTC 时间 YYYY-MM-DDTHH:MM:SSZ"
    return None  # with the choice checked next, every field has a canonical form


def _check_envelope(envelope, definition):
    """Form, vote id and choice (§6); the signature is checked once the caller is known to own the right."""
    problem = _envelope_problem(envelope)
    if problem:
        raise Invalid({problem[0]: [problem[1]]}, message="选票格式不正确", code="malformed_envelope")
    ballot = envelope["ballot"]
    if ballot["vote_id"] != definition.vote_id:
        raise Invalid({"ballot.vote_id": ["选票属于另一项表决"]}, message="选票不属于本表决", code="vote_id_mismatch",
                      details={"expected": definition.vote_id})
    problem = choice_problem(ballot["choice"], definition)
    if problem:
        raise Invalid({"ballot.choice": [problem]}, message="选择不符合本表决", code="invalid_choice")


def _check_signature(envelope):
    if not verify_bytes(envelope["public_key"], envelope["signature"], dumps(envelope["ballot"])):
        raise Invalid({"signature": ["签名与选票内容不符"]}, message="选票签名无效", code="bad_signature")


def _check_owners(vote, items):
    """Each caller is a verified owner of the right they cast for: one query when all is well, and
    the precise refusal (not an owner at all, right not in the roll, someone else's right) otherwise."""
    wanted = {(user_id, envelope["ballot"]["right_id"]) for user_id, envelope in items}
    owned = set(tuple(row) for row in db.session.execute(_OWNED, {
        "vote": vote.id, "community": vote.community_id, "users": sorted({u for u, _ in wanted}),
        "rights": sorted({r for _, r in wanted})}))
    for user_id, right_id in sorted(wanted - owned):
        if not _verified_owner_ids(user_id, vote.community_id):
            raise Forbidden("not_owner", "仅本小区已认证的业主可以投票")
        if not db.session.execute(select(VoteRight.id).where(VoteRight.vote_id == vote.id,
                                                             VoteRight.right_id == right_id)).first():
            raise Invalid({"ballot.right_id": ["该表决权不在本表决的名册中"]}, message="表决权不在名册中",
                          code="right_not_in_roll")
        raise Forbidden("not_your_right", "您不是该表决权的业主，不能代为投票")


def cast_ballot(user_id, vote_pk, envelope, now=None):
    """Accept one owner-signed ballot (§6) from the user `user_id` and return its receipt, after
    commit, making every check in order (cast_ballots): the precise refusal, or the receipt. The
    route first tries accept_ballot, which accepts the common case cheaply."""
    return cast_ballots(vote_pk, [(user_id, envelope)], now)[0]


_VOTES = Vote.__table__


def _standing_of(right, key, user):
    """Whether `user` is a verified owner of the roll right `right` of the vote (`votes` in the
    statement), and whether `key` is bound to that right and not revoked: true or null. (Scalar
    subqueries with LIMIT 1 rather than EXISTS: for a batch PostgreSQL turned EXISTS into hashed
    subplans that read the whole tables; these are index lookups per cast.)"""
    owned = select(true()).where(
        _RIGHT_OWNERS.c.vote_id == _VOTES.c.id, _RIGHT_OWNERS.c.right_id == right,
        _BINDINGS.c.owner_id == _RIGHT_OWNERS.c.owner_id, _BINDINGS.c.user_id == user,
        _BINDINGS.c.status == "verified", _BINDINGS.c.community_id == _VOTES.c.community_id).limit(1)
    key_active = select(true()).where(
        _KEYS.c.vote_id == _VOTES.c.id, _KEYS.c.right_id == right, _KEYS.c.public_key == key,
        _KEYS.c.revoked_index.is_(None)).limit(1)
    return owned.scalar_subquery().label("owned"), key_active.scalar_subquery().label("key_active")


def _stands(row, opened):
    return (row.state, row.public_id, row.owned, row.key_active) == ("open", opened.public_id, True, True)


# Under the vote's lock, one cast: the vote's state and public id, the user of the bearer session if
# that is live, and the cast's standing (_standing_of).
_STANDING = select(
    _VOTES.c.state, _VOTES.c.public_id, SESSIONS.c.user_id,
    *_standing_of(bindparam("right"), bindparam("key"), SESSIONS.c.user_id),
).select_from(_VOTES.join(SESSIONS, true())).where(
    _VOTES.c.id == bindparam("vote"), live_session(bindparam("sid"), bindparam("now")))

# PostgreSQL, a whole batch in one statement without a lock: the same for every cast i, with the
# log's frontier read in the same snapshot. A batch's values travel as one JSON parameter (a list
# of objects, json_to_recordset): adapting Python lists to PostgreSQL arrays cost more than the rest
# of the statement.
def _recordset(name, alias, **columns):
    return func.json_to_recordset(bindparam(name, type_=JSON)).table_valued(
        *(column(key, kind) for key, kind in columns.items())).render_derived(name=alias, with_types=True)


_CASTS = _recordset("casts", "c", i=Integer, sid=String, right_id=String, public_key=String)  # the columns' types: indexes apply
_BATCH_USER = (select(SESSIONS.c.user_id).where(live_session(_CASTS.c.sid, bindparam("now"))).correlate(_CASTS)
               .scalar_subquery())
_BATCH_STANDING = select(
    _CASTS.c.i, _VOTES.c.state, _VOTES.c.public_id, _BATCH_USER.label("user_id"),
    _FRONTIER.c.size, _FRONTIER.c.nodes, _FRONTIER.c.closed,
    *_standing_of(_CASTS.c.right_id, _CASTS.c.public_key, _BATCH_USER),
).select_from(
    _CASTS.join(_VOTES, _VOTES.c.id == bindparam("vote")).join(_FRONTIER, _FRONTIER.c.vote_id == _VOTES.c.id))


def _batch_append():
    """PostgreSQL: the compare-and-set of the log, and the standing of its casts, in one statement.

    The frontier moves from (`expected`, `expected_nodes`) to (`size`, `nodes`) only if it is still
    there and open, and every one of the `n` casts in `rows` stands as _STANDING would have it: the
    vote open under `public_id`, the bearer session `sid` live at `now`, its user a verified owner
    of the right, the key bound to the right and not revoked. Only if it moved are the entries (with
    that user) and their tree heads inserted. Returns the number of frontier rows moved (0 or 1)."""
    rows = _recordset("rows", "r", idx=Integer, sid=String, right_id=String, public_key=String, nonce=Text,
                      leaf=Text, leaf_hash=Text, root=Text, timestamp=Text, signature=Text)
    user = (select(SESSIONS.c.user_id).where(live_session(rows.c.sid, bindparam("now"))).correlate(rows)
            .scalar_subquery())
    users = select(rows, user.label("user_id")).cte("users")
    casts = select(users, *_standing_of(users.c.right_id, users.c.public_key, users.c.user_id)).select_from(
        users.join(_VOTES, _VOTES.c.id == bindparam("vote"))).where(
        _VOTES.c.state == "open", _VOTES.c.public_id == bindparam("public_id")).cte("casts")
    standing = select(func.count()).select_from(casts).where(
        casts.c.user_id.is_not(None), casts.c.owned.is_(True), casts.c.key_active.is_(True)).scalar_subquery()
    moved = (update(_FRONTIER)
             .where(_FRONTIER.c.vote_id == bindparam("vote"), _FRONTIER.c.size == bindparam("expected"),
                    _FRONTIER.c.nodes == bindparam("expected_nodes"), _FRONTIER.c.closed.is_(False),
                    standing == bindparam("n"))
             .values(size=bindparam("size"), nodes=bindparam("nodes")).returning(_FRONTIER.c.vote_id).cte("moved"))
    did_move = exists(select(moved.c.vote_id))
    vote, community = bindparam("vote", type_=Integer), bindparam("community", type_=Integer)
    entries = insert(VoteEntry.__table__).from_select(
        ["vote_id", "idx", "community_id", "kind", "right_id", "nonce", "user_id", "leaf", "leaf_hash"],
        select(vote, casts.c.idx, community, literal("ballot"), casts.c.right_id, casts.c.nonce, casts.c.user_id,
               func.decode(casts.c.leaf, "hex"), func.decode(casts.c.leaf_hash, "hex")).where(did_move)).cte("entries")
    heads = insert(TreeHead.__table__).from_select(
        ["vote_id", "size", "community_id", "root", "timestamp", "signature"],
        select(vote, casts.c.idx + 1, community, casts.c.root, casts.c.timestamp, casts.c.signature).where(did_move)
    ).cte("heads")
    return select(func.count()).select_from(moved).add_cte(entries, heads)


_BATCH_APPEND = _batch_append()
_CAS_ATTEMPTS = 8


def accept_ballot(session_id, vote_pk, envelope, now=None):
    """The receipt of a ballot that passes every check of cast_ballots, cast under the bearer
    session `session_id` (its token's signature already checked), or None: then cast_ballot, after
    the full bearer check, decides — and gives every refusal its precise code. This may only ever
    accept what cast_ballots would accept (the tests send every refusal through both); it is the
    common case made cheap. The vote's definition comes from the per-process cache under the public
    id the ballot names; everything that needs no lock is checked here; the session, the vote's
    state, the ownership and the key's standing are read with the append (_append_casts), which is
    shared with the casts that reach this process meanwhile (_GroupCommit)."""
    if _envelope_problem(envelope):
        return None
    ballot = envelope["ballot"]
    opened = _opened.get((vote_pk, ballot["vote_id"]))
    if opened is None:
        return None
    definition = opened.definition
    now = now or utcnow()
    try:
        when = _received(now, definition)
    except Conflict:
        return None
    if choice_problem(ballot["choice"], definition) or not verify_bytes(
            envelope["public_key"], envelope["signature"], dumps(ballot)):
        return None
    entry = make_ballot_entry(envelope, when)
    if intrinsic_problem(entry, definition, {ballot["right_id"]: None}, None):
        return None
    return _group_commit.submit(opened, _Cast(session_id, envelope, entry, when))


class _Cast:
    """A checked ballot waiting to be appended; `receipt` is set once its transaction has committed."""

    __slots__ = ("session_id", "envelope", "entry", "when", "receipt", "batch", "done")

    def __init__(self, session_id, envelope, entry, when):
        self.session_id, self.envelope, self.entry, self.when = session_id, envelope, entry, when
        self.receipt = None
        self.batch = None  # set on the cast whose thread appends this batch
        self.done = threading.Event()


def _append_casts(opened, casts):
    """Append each cast whose vote is open, whose bearer session is live, whose caller owns the
    right and whose key is bound to it and not revoked, all in one transaction; their receipts are
    set after the commit. Any cast that does not stand is left out (None: cast_ballots will say why);
    if the batch cannot be appended — a nonce already used, the vote closed meanwhile, a database
    error — every receipt stays None and each cast is tried again on its own by cast_ballots."""
    try:
        if db.engine.dialect.name == "postgresql":
            appended = _append_optimistically(opened, casts)
        else:
            appended = _append_queued(opened, casts)
    except (DomainError, SQLAlchemyError, psycopg.Error, sqlite3.Error):
        db.session.rollback()
        log.info("a batch of %d casts fell back to one transaction each", len(casts), exc_info=True)
        return
    for cast, receipt in appended:
        cast.receipt = receipt


def _append_queued(opened, casts):
    """SQLite: the batch in one write transaction, queued as _queue_for_sqlite_writes says (a flock,
    synchronous=NORMAL, the WAL synced after leaving the queue and before any receipt exists), on a
    pool connection of its own and with its statements run on sqlite3 itself (_Compiled): the
    request's ORM session and SQLAlchemy's execution path were half of a batch's time. The write
    lock is taken first (BEGIN IMMEDIATE), so the frontier and the standing read are the log's."""
    with db.engine.connect() as conn:
        dialect, raw = conn.dialect, conn.connection.driver_connection
        path = _database_file(conn)
        queue = _enter_sqlite_queue(conn, path) if path else None
        appended = []
        try:
            raw.execute("BEGIN IMMEDIATE")
            cursor = raw.cursor()
            row = _FRONTIER_ROW.run(cursor, dialect, {"vote": opened.id}).fetchone()
            if row is None or row[2]:
                return []
            book = _Log(opened, frontier=Frontier(row[0], _split_nodes(row[1])))
            for cast in casts:
                ballot = cast.envelope["ballot"]
                standing = _STANDING_SQLITE.run(cursor, dialect, {
                    "vote": opened.id, "right": ballot["right_id"], "key": cast.envelope["public_key"],
                    "sid": cast.session_id, "now": utcnow()}).fetchone()
                if standing is not None and _stands(_StandingRow(*standing), opened):
                    appended.append((cast, book.append(cast.entry, right_id=ballot["right_id"], nonce=ballot["nonce"],
                                                       user_id=standing[2], timestamp=cast.when)))
            if not appended:
                return []
            _ENTRIES_SQLITE.run_many(cursor, dialect, book.entry_rows)
            _HEADS_SQLITE.run_many(cursor, dialect, book.head_rows)
            _SAVE_SQLITE.run(cursor, dialect, {"vote": opened.id, "size": book.size,
                                               "nodes": b"".join(book.frontier.nodes()), "closed": False})
            raw.commit()
        finally:
            if raw.in_transaction:
                raw.rollback()
            if queue is not None:
                os.close(queue)
        if queue is not None:
            _sync_wal(path + "-wal")
        return appended


class _Compiled:
    """A Core statement compiled once per dialect and run on the driver's cursor directly (psycopg:
    prepared). For the batch's statements SQLAlchemy's execution path cost as much client CPU again
    as the driver's own (measured on PostgreSQL's standing read: 130–240 µs against 61–86 µs)."""

    def __init__(self, statement):
        self.statement = statement
        self.forms = {}  # dialect name → (compiled, sql, processors)

    def _params(self, dialect, values):
        form = self.forms.get(dialect.name)
        if form is None:
            compiled = self.statement.compile(dialect=dialect)
            processors = {name: proc for name, bind in compiled.binds.items()
                          if (proc := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
            form = self.forms[dialect.name] = (compiled, compiled.string, processors)
        compiled, sql, processors = form
        params = compiled.construct_params(values)
        for name, proc in processors.items():
            params[name] = proc(params[name])
        return sql, (tuple(params[name] for name in compiled.positiontup) if compiled.positional else params)

    def run(self, cursor, dialect, values):
        sql, params = self._params(dialect, values)
        if dialect.name == "postgresql":
            cursor.execute(sql, params, prepare=True)
            return cursor
        return cursor.execute(sql, params)

    def run_many(self, cursor, dialect, rows):
        """SQLite: the statement once per row of `rows`."""
        forms = [self._params(dialect, row) for row in rows]
        cursor.executemany(forms[0][0], [params for _, params in forms])


_STANDING_PG, _APPEND_PG = _Compiled(_BATCH_STANDING), _Compiled(_BATCH_APPEND)
_FRONTIER_ROW = _Compiled(select(_FRONTIER.c.size, _FRONTIER.c.nodes, _FRONTIER.c.closed)
                          .where(_FRONTIER.c.vote_id == bindparam("vote")))
_STANDING_SQLITE, _SAVE_SQLITE = _Compiled(_STANDING), _Compiled(_SAVE_FRONTIER)
_ENTRIES_SQLITE, _HEADS_SQLITE = _Compiled(_ADD_ENTRIES), _Compiled(_ADD_HEADS)
_StandingRow = namedtuple("_StandingRow", [c.key for c in _STANDING.selected_columns])


def turn_path(vote_pk):
    """The file whose flock is a vote's append turn among the workers of this host (PostgreSQL; the
    batch that ends a turn leaves its frontier in it)."""
    return os.path.join(current_app.instance_path, "cast-turns", f"{vote_pk}.lock")


_TURN_FORMAT = struct.Struct(">4sQ")  # the turn file: b"LNF1", the log's size, then its frontier's nodes


def _frontier_left(turn):
    """The frontier the last batch of this host left in the turn file, if any. Only a hint: the
    write compares it with the log's own (_BATCH_APPEND) — a stale, torn or foreign one fails there."""
    data = os.pread(turn, 4096, 0)
    if len(data) < _TURN_FORMAT.size:
        return None
    magic, size = _TURN_FORMAT.unpack_from(data)
    nodes = data[_TURN_FORMAT.size:_TURN_FORMAT.size + 32 * size.bit_count()]
    if magic != b"LNF1" or len(nodes) != 32 * size.bit_count():
        return None
    return Frontier(size, _split_nodes(nodes))


def _leave_frontier(turn, frontier):
    os.pwrite(turn, _TURN_FORMAT.pack(b"LNF1", frontier.size) + b"".join(frontier.nodes()), 0)


def _append_optimistically(opened, casts):
    """PostgreSQL: usually one statement, its own transaction; no lock held across round trips.

    Holding the vote's row lock from a SELECT … FOR UPDATE through the standing read, the writes and
    the commit kept it across five round trips, each of which, on a loaded server, waits to be
    scheduled: the lock was then held for milliseconds and the workers queued on it. Instead the
    batch is built on a frontier and written with a compare-and-set (_BATCH_APPEND): it writes only
    if the log's frontier is still that one and every cast still stands — checked in the same
    statement. Any append in between (another batch, a key binding or revocation, the close) moves
    the frontier, and the write does nothing. The write is one autocommit statement: synchronous,
    durable before it returns.

    The workers of one host take turns (a flock on a file per vote, turn_path), and the batch that
    ends a turn leaves the frontier it wrote in that file: the next batch, in whichever worker,
    builds on it without reading the log first. If the write does nothing — a cast that does not
    stand, an append from elsewhere, no frontier left yet — the standing of every cast and the
    frontier are read in one snapshot (_BATCH_STANDING), the casts that stand are built again on
    that frontier and written the same way. The turn only saves work (racing, half the batches of
    two workers were read, signed and written twice); the compare-and-set alone keeps the log
    right, across hosts too. The statements run on psycopg itself (_Compiled)."""
    turn = _flock(turn_path(opened.id))
    try:
        frontier, standing = _frontier_left(turn), range(len(casts))
        with db.engine.connect() as sa_conn:
            sa_conn = sa_conn.execution_options(isolation_level="AUTOCOMMIT")
            dialect = sa_conn.dialect
            with sa_conn.connection.driver_connection.cursor(row_factory=namedtuple_row) as cursor:
                for _ in range(_CAS_ATTEMPTS):
                    if frontier is None:
                        _STANDING_PG.run(cursor, dialect, {"vote": opened.id, "now": utcnow(), "casts": [
                            {"i": i, "sid": c.session_id, "right_id": c.envelope["ballot"]["right_id"],
                             "public_key": c.envelope["public_key"]} for i, c in enumerate(casts)]})
                        rows = cursor.fetchall()
                        standing = [row.i for row in rows if _stands(row, opened)]
                        if not standing or rows[0].closed:
                            return []
                        frontier = Frontier(rows[0].size, _split_nodes(rows[0].nodes))
                    expected = b"".join(frontier.nodes())
                    book = _Log(opened, frontier=frontier)
                    appended = [(casts[i], book.append(casts[i].entry, timestamp=casts[i].when)) for i in standing]
                    _APPEND_PG.run(cursor, dialect, {
                        "vote": opened.id, "community": opened.community_id, "public_id": opened.public_id,
                        "now": utcnow(), "n": len(appended), "expected": book.first, "expected_nodes": expected,
                        "size": book.size, "nodes": b"".join(book.frontier.nodes()), "rows": [
                            {"idx": e["idx"], "sid": cast.session_id, "right_id": cast.envelope["ballot"]["right_id"],
                             "public_key": cast.envelope["public_key"], "nonce": cast.envelope["ballot"]["nonce"],
                             "leaf": e["leaf"].hex(), "leaf_hash": e["leaf_hash"].hex(), "root": h["root"],
                             "timestamp": h["timestamp"], "signature": h["signature"]}
                            for (cast, _), e, h in zip(appended, book.entry_rows, book.head_rows)]})
                    if cursor.fetchone()[0]:
                        _leave_frontier(turn, book.frontier)
                        return appended
                    frontier = None
    finally:
        os.close(turn)
    return []  # outrun every time: each cast is appended on its own, under the lock


class _GroupCommit:
    """Group commit of casts within one process (gunicorn's threads; handbook §3's per-vote lock).

    The first cast of a vote to arrive leads: it appends itself. Casts of that vote that arrive
    while a batch is being appended queue; when the batch has committed, the leader wakes its batch
    and hands the queue, as the next batch, to the first cast in it, which leads that one. So each
    thread only ever appends a batch that holds its own cast, a cast waits for at most the batch
    before its own, and the reads, the writes and the durable commit are paid once per batch. With
    one thread per worker every batch is a single cast.
    """

    def __init__(self):
        self._mutex = threading.Lock()
        self._queues = {}  # vote pk → the casts waiting for the next batch, while a batch is appended

    def submit(self, opened, cast):
        with self._mutex:
            queue = self._queues.get(opened.id)
            if queue is None:
                self._queues[opened.id] = []
                cast.batch = [cast]
            else:
                queue.append(cast)
        if cast.batch is None:
            cast.done.wait()
        if cast.batch is not None:
            self._lead(opened, cast)
        return cast.receipt

    def _lead(self, opened, leader):
        try:
            _append_casts(opened, leader.batch)
        finally:
            with self._mutex:
                queue = self._queues.pop(opened.id)
                if queue:
                    self._queues[opened.id] = []
                    queue[0].batch = queue
            for cast in leader.batch:
                cast.done.set()
            if queue:
                queue[0].done.set()


_group_commit = _GroupCommit()


def cast_ballots(vote_pk, items, now=None):
    """Accept signed ballots [(user id, envelope)] in one transaction (all or none); returns the receipts.

    Checks, in order: the vote is open and inside its window, the envelope's form, its vote id and
    choice, the caller is a verified owner of the right, the signature; then, under the vote's lock:
    the key is bound to the right and not revoked at this point of the log; the nonce is unused
    (the log's unique index decides, so a replay racing its original cannot slip through). A
    caller's own registered key that the log does not know for this right yet (e.g. the ownership
    was verified after the key was registered) is bound first by a key_binding entry.
    """
    vote = _get_vote(vote_pk)
    now = now or utcnow()
    _check_open_for_ballots(vote, now)
    definition = _definition(vote)
    for _, envelope in items:
        _check_envelope(envelope, definition)
    _check_owners(vote, items)
    for _, envelope in items:
        _check_signature(envelope)
    nonces = [envelope["ballot"]["nonce"] for _, envelope in items]
    if len(set(nonces)) != len(nonces):
        raise Conflict("nonce_used", "同一随机数的选票只能提交一次", details={"nonces": sorted(set(nonces))})
    # The time the server received the ballot: entries are ordered by the log, not by their times.
    when = _received(now, definition)
    rights = {envelope["ballot"]["right_id"]: None for _, envelope in items}
    ballots = []
    for user_id, envelope in items:
        entry = make_ballot_entry({k: envelope[k] for k in ("ballot", "public_key", "signature")}, when)
        # The verifier's own per-entry rules, as a last guard: never append what it would reject.
        problem = intrinsic_problem(entry, definition, rights, None)
        if problem:
            raise Invalid({"ballot": [problem[1]]}, message="选票无效", code="invalid_ballot")
        ballots.append((user_id, envelope, entry, canonical(entry)))

    book = _Log(vote)
    keys = {(r.right_id, r.public_key): r.revoked_index for r in db.session.execute(
        _KEY_STATES, {"vote": vote.id, "keys": sorted({e["public_key"] for _, e in items})})}
    receipts = []
    for user_id, envelope, entry, leaf in ballots:
        ballot, public_key = envelope["ballot"], envelope["public_key"]
        right_id = ballot["right_id"]
        state = keys.get((right_id, public_key), "unbound")
        if state == "unbound" and _own_active_key(user_id, public_key):
            _bind(book, vote, right_id, public_key, user_id, when)
            state = keys[(right_id, public_key)] = None
        if state == "unbound":
            raise Forbidden("key_not_bound", "该设备密钥未绑定到此表决权，请先登记密钥")
        if state is not None:
            raise Forbidden("key_revoked", "该设备密钥已撤销，不能再投票")
        receipts.append(book.append(entry, right_id=right_id, nonce=ballot["nonce"], user_id=user_id,
                                    timestamp=when, leaf=leaf))
    try:
        book.commit()
    except IntegrityError:
        db.session.rollback()
        used = db.session.execute(select(VoteEntry.nonce).where(VoteEntry.vote_id == vote.id,
                                                                VoteEntry.nonce.in_(nonces))).scalars().all()
        if not used:
            raise
        raise Conflict("nonce_used", "该选票已提交过（随机数重复），请重新签署选票", details={"nonces": sorted(used)})
    return receipts


def _own_active_key(user_id, public_key):
    return db.session.execute(select(DeviceKey.id).where(
        DeviceKey.public_key == public_key, DeviceKey.user_id == user_id, DeviceKey.revoked_at.is_(None))).first()


# ---------------------------------------------------------------- paper ballots


def staff_pseudonym(user):
    """The pseudonymous staff id written into paper-ballot entries (stable per user, reveals nothing)."""
    return "staff-" + pii_hash(f"linli vote staff {user.id}")[:12]


def enter_paper_ballot(user, vote_pk, right_id, choice, evidence_media_id, now=None):
    """A committee member enters a paper ballot with the photo of the signed sheet (§5 Paper ballots)."""
    from backend.models.media import Media

    vote = _get_vote(vote_pk)
    require_community(user, vote.community_id, "committee")
    _check_open_for_ballots(vote, now or utcnow())
    definition = _definition(vote)
    if not db.session.execute(select(VoteRight.id).where(VoteRight.vote_id == vote.id,
                                                         VoteRight.right_id == right_id)).first():
        raise Invalid({"right_id": ["该表决权不在本表决的名册中"]}, message="表决权不在名册中", code="right_not_in_roll")
    problem = choice_problem(choice, definition)
    if problem:
        raise Invalid({"choice": [problem]}, message="选择不符合本表决", code="invalid_choice")
    photo = db.session.get(Media, evidence_media_id)
    if photo is not None and photo.attached_type is not None:
        # One sheet, one photo: a photo already used as evidence (or elsewhere) cannot vouch again.
        raise Invalid({"evidence_media_id": ["该照片已被使用"]}, code="evidence_used")
    media.attach(user, [evidence_media_id], vote.community_id, MEDIA_PAPER, vote.id, field="evidence_media_id")
    evidence = media.media_sha256(evidence_media_id)
    book = _Log(vote)
    when = _received(now or utcnow(), definition)
    signed = db.session.execute(select(VoteEntry.idx).where(
        VoteEntry.vote_id == vote.id, VoteEntry.right_id == right_id, VoteEntry.kind == "ballot").limit(1)).first()
    if signed:
        # §5: a paper ballot never overrides the owner's own signed ballot.
        raise Conflict("signed_ballot_exists", "该表决权已有业主本人签名的电子选票，不能再录入纸质票")
    entry = make_paper_ballot(vote.public_id, right_id, choice, evidence, staff_pseudonym(user), when)
    problem = intrinsic_problem(entry, definition, {right_id: None}, None)
    if problem:
        raise Invalid({"choice": [problem[1]]}, message="纸质票无效", code="invalid_ballot")
    receipt = book.append(entry, right_id=right_id, user_id=user.id, timestamp=when)
    book.flush()
    db.session.commit()
    return receipt


# ---------------------------------------------------------------- closing and the tally


def close_vote(user, vote_pk, now=None):
    """The committee closes a vote at or after closes_at: close entry, signed tally, result notice."""
    vote = _get_vote(vote_pk)
    require_community(user, vote.community_id, "committee")
    now = now or utcnow()
    if vote.state == "draft":
        raise Conflict("vote_not_open", "表决尚未开始")
    if vote.state != "open":
        raise Conflict("vote_already_closed", "表决已结束")
    if now < vote.closes_at:
        raise Conflict("vote_not_due", "未到表决结束时间，不能提前结束",
                       details={"closes_at": format_time(vote.closes_at)})
    _close(vote, user, now)
    return tally_of(user, vote.id)


def close_due_votes(now=None):
    """Close every open vote whose closes_at has passed (for cron); returns the closed votes' ids."""
    now = now or utcnow()
    due = db.session.execute(select(Vote.id).where(Vote.state == "open", Vote.closes_at <= now)
                             .order_by(Vote.id)).scalars().all()
    closed = []
    for vote_pk in due:
        try:
            _close(db.session.get(Vote, vote_pk), None, now)
            closed.append(vote_pk)
        except DomainError as exc:  # closed meanwhile by the committee: nothing to do
            db.session.rollback()
            log.info("vote %s not closed: %s", vote_pk, exc.code)
    return closed


def _close(vote, actor, now):
    when = format_time(now)
    _transition(vote, "closed", actor, now)
    book = _Log(vote)
    book.append(make_close(vote.public_id, when), user_id=actor.id if actor else None, timestamp=when)
    book.flush(closed=True)
    vote.closed_at = now
    leaves = db.session.execute(select(VoteEntry.leaf).where(VoteEntry.vote_id == vote.id)
                                .order_by(VoteEntry.idx)).scalars().all()
    roll = _roll(vote)
    # Each signed ballot's signature was verified when it was accepted; the offline verifier checks them all again.
    result = count_log(roll, [json.loads(leaf) for leaf in leaves], verify_signatures=False)
    if result.problems:
        log.error("vote %s: the log has problems: %s", vote.id, [p.message for p in result.problems[:5]])
    root = book.frontier.root().hex()
    tally = signing.sign(tally_body(result, book.size, root))
    text = result_notice_text(vote, result.definition, tally)
    record = Tally(vote_id=vote.id, community_id=vote.community_id, body=tally, notice_text=text, created_at=now)
    db.session.add(record)
    _transition(vote, "tallied", actor, now)
    outcome = _outcome_words(result.definition, tally)
    for user_id in _roll_users(vote):
        outbox.enqueue(user_id, vote.community_id, "vote_result", {"title": vote.title, "result": outcome},
                       page=_page(vote))
    db.session.commit()
    _publish_notice(vote, record, actor)
    return record


def _publish_notice(vote, record, actor):
    """Publish the result as a community notice (in the committee's name: the closing member, or the
    member who drafted the vote when cron closed it). The tally is committed first; if publishing is
    refused, the notice text stays with the tally and the API returns it there."""
    try:
        from backend.models import User
        from backend.services import notices
    except ImportError:  # the notices module is optional for votes
        return
    publisher = actor or db.session.get(User, vote.created_by)
    try:
        notice = notices.publish(publisher, vote.community_id, f"表决结果公告：{vote.title}"[:120],
                                 record.notice_text, "vote", publisher_role="committee")
    except DomainError as exc:
        db.session.rollback()
        log.warning("vote %s: result notice not published: %s", vote.id, exc.code)
        return
    record.notice_id = notice.id
    db.session.commit()


def _outcome_words(definition, tally):
    if definition.is_election:
        return f"当选 {len(tally['elected'])} 人" + ("，末位同票须决选" if tally["tie"] else "")
    return "通过" if tally["passed"] else "未通过"


def result_notice_text(vote, definition, tally):
    """The result announcement in Chinese: turnout, each option or candidate by area and heads, the
    outcome, and the tree head's root so that anyone can check the bundle."""
    kind = "选举" if definition.is_election else "表决"
    lines = [
        f"【{kind}结果公告】{vote.title}",
        f"表决编号：{vote.public_id}",
        f"投票时间：{shanghai(vote.opens_at)} 至 {shanghai(vote.closes_at)}（北京时间）",
        f"表决范围：{'、'.join(vote.buildings) + ' 号楼' if vote.buildings else '全体业主'}；"
        f"总面积 {area_text(tally['totals']['area'])}，总人数 {tally['totals']['heads']}。",
    ]
    zh, _ = describe_outcome(definition, tally)
    lines.extend(zh.splitlines())
    if tally["paper"]:
        lines.append(f"其中 {tally['paper']} 个表决权以纸质选票计入。")
    lines += [
        f"投票日志共 {tally['size']} 条，最终树根（root）：{tally['root']}。",
        "业主可在小程序下载审计包，用 python -m voting.verify 离线核验每一张选票与计票结果。",
    ]
    return "\n".join(lines)


def tally_of(user, vote_pk):
    """The signed tally and the result notice of a closed vote (any role in the community)."""
    vote = _visible_vote(user, vote_pk)
    record = db.session.get(Tally, vote.id)
    if record is None:
        raise Conflict("vote_not_closed", "表决尚未结束计票")
    return {"vote_id": vote.id, "tally": record.body, "close_receipt": _close_receipt(vote),
            "notice": {"text": record.notice_text, "notice_id": record.notice_id}}


def _close_receipt(vote):
    """The receipt of the close entry (the last leaf): whoever keeps it holds the whole final log
    fixed, so that not even the server key can rewrite the close entry afterwards (docs/protocol.md)."""
    size = _log_size(vote)
    hashes = _leaf_hashes(vote, size)
    return make_receipt(vote.public_id, size - 1, hashes[-1].hex(), _tree_head(vote, size),
                        inclusion_proof(hashes, size - 1, size))


def bundle_bytes(user, vote_pk):
    """The §6 bundle of a closed vote, as canonical JSON bytes (the community's owners and regulators)."""
    vote = _get_vote(vote_pk)
    require_community(user, vote.community_id, "owner", "regulator")
    record = db.session.get(Tally, vote.id)
    if record is None:
        raise Conflict("vote_not_closed", "表决尚未结束，审计包在结束后提供")
    leaves = db.session.execute(select(VoteEntry.leaf).where(VoteEntry.vote_id == vote.id)
                                .order_by(VoteEntry.idx)).scalars().all()
    # The stored leaves are canonical JSON already: splice them instead of re-encoding every entry.
    # Keys in sorted order (entries, protocol, roll, tally, tree_head) keep the whole file canonical.
    return b"".join([
        b'{"entries":[', b",".join(bytes(leaf) for leaf in leaves), b'],"protocol":', dumps(PROTOCOL),
        b',"roll":', dumps(_roll(vote)), b',"tally":', dumps(record.body),
        b',"tree_head":', dumps(_tree_head(vote)), b"}",
    ])


# ---------------------------------------------------------------- reminders


def send_reminders(now=None):
    """Queue 'closing in 24 hours' for owners of rights that have not voted yet (each vote once)."""
    now = now or utcnow()
    due = db.session.execute(select(Vote).where(
        Vote.state == "open", Vote.reminded_at.is_(None), Vote.closes_at > now,
        Vote.closes_at <= now + REMIND_BEFORE).order_by(Vote.id)).scalars().all()
    queued = 0
    for vote in due:
        voted = set(db.session.execute(select(VoteEntry.right_id).where(
            VoteEntry.vote_id == vote.id, VoteEntry.kind.in_(("ballot", "paper_ballot")))).scalars())
        waiting = [r for r in db.session.execute(select(VoteRight.right_id).where(
            VoteRight.vote_id == vote.id)).scalars() if r not in voted]
        for user_id in _roll_users(vote, waiting) if waiting else []:
            outbox.enqueue(user_id, vote.community_id, "vote_closing",
                           {"title": vote.title, "closes_at": shanghai(vote.closes_at)}, page=_page(vote))
            queued += 1
        vote.reminded_at = now
        db.session.commit()
    return {"votes": len(due), "queued": queued}


# ---------------------------------------------------------------- reading


def view(user, vote):
    """A vote as the API shows it: the draft fields, its state, and once open the definition and head."""
    definition = head = None
    if vote.state != "draft":
        definition, head = _definition(vote).entry, _tree_head(vote)
    fund = None
    if vote.fund_amount_fen is not None:
        fund = {"amount_fen": vote.fund_amount_fen, "purpose": vote.fund_purpose,
                "attachment_ids": [m.id for m in media.attached_to(MEDIA_FUND, vote.id)]}
    return {
        "id": vote.id, "community_id": vote.community_id, "vote_id": vote.public_id, "title": vote.title,
        "description": vote.description, "kind": vote.kind, "matter": vote.matter, "opens_at": vote.opens_at,
        "closes_at": vote.closes_at, "scope": {"buildings": vote.buildings} if vote.buildings else None,
        "candidates": vote.candidates, "seats": vote.seats, "fund": fund, "state": vote.state,
        "created_at": vote.created_at, "opened_at": vote.opened_at, "closed_at": vote.closed_at,
        "definition": definition, "tree_head": head, "my_rights": _my_rights(user, vote),
    }


def get_vote(user, vote_pk):
    """One vote (any role in its community; drafts for the committee)."""
    return view(user, _visible_vote(user, vote_pk))


def list_votes(user, community_id, state=None, page=1, per_page=20):
    """The votes of a community, newest first, each with the caller's rights in its roll."""
    require_community(user, community_id)
    query = select(Vote).where(Vote.community_id == community_id).order_by(Vote.id.desc())
    if state:
        query = query.where(Vote.state == state)
    if not (user.is_platform_admin or "committee" in roles_in(user, community_id)):
        query = query.where(Vote.state != "draft")
    result = paginate(query, page, per_page)
    result["items"] = [view(user, v) for v in result["items"]]
    return result


def my_votes(user, page=1, per_page=20):
    """Open votes, in every community, whose roll holds a right the caller is a verified owner of."""
    mine = (select(VoteRightOwner.vote_id).join(Binding, (Binding.owner_id == VoteRightOwner.owner_id))
            .where(Binding.user_id == user.id, Binding.status == "verified"))
    query = select(Vote).where(Vote.state == "open", Vote.id.in_(mine)).order_by(Vote.closes_at, Vote.id)
    result = paginate(query, page, per_page)
    result["items"] = [view(user, v) for v in result["items"]]
    return result


def _my_rights(user, vote):
    if vote.state == "draft":
        return []
    owner_ids = _verified_owner_ids(user.id, vote.community_id)
    if not owner_ids:
        return []
    right_ids = select(VoteRightOwner.right_id).where(VoteRightOwner.vote_id == vote.id,
                                                      VoteRightOwner.owner_id.in_(owner_ids))
    rights = db.session.execute(select(VoteRight).where(VoteRight.vote_id == vote.id,
                                                        VoteRight.right_id.in_(right_ids))
                                .order_by(VoteRight.right_id)).scalars().all()
    keys = {}
    for right_id, public_key in db.session.execute(
        select(VoteKey.right_id, VoteKey.public_key).where(
            VoteKey.vote_id == vote.id, VoteKey.revoked_index.is_(None), VoteKey.right_id.in_([r.right_id for r in rights]))
    ):
        keys.setdefault(right_id, []).append(public_key)
    return [{"right_id": r.right_id, "label": r.label, "area": r.area, "heads": r.heads,
             "keys": sorted(keys.get(r.right_id, []))} for r in rights]


def my_rights(user, vote_pk):
    """The caller's rights in the roll, with the keys bound to them so far."""
    vote = _visible_vote(user, vote_pk)
    _require_opened(vote)
    return _my_rights(user, vote)


def tree_head(user, vote_pk):
    """The latest signed tree head (§6)."""
    vote = _visible_vote(user, vote_pk)
    _require_opened(vote)
    return _tree_head(vote)


def _leaf_hashes(vote, size):
    return [bytes(h) for h in db.session.execute(
        select(VoteEntry.leaf_hash).where(VoteEntry.vote_id == vote.id, VoteEntry.idx < size)
        .order_by(VoteEntry.idx)).scalars()]


def _proof_tree(user, vote_pk, size, field):
    """The vote (visible to the caller, opened) and a tree size within its log: `size`, or the latest."""
    vote = _visible_vote(user, vote_pk)
    _require_opened(vote)
    current = _log_size(vote)
    size = current if size is None else size
    if not 1 <= size <= current:
        raise Invalid({field: [f"须在 1 到 {current} 之间"]})
    return vote, size


def inclusion(user, vote_pk, leaf_index, size=None):
    """The audit path of entry leaf_index in the tree of `size` entries (default: the latest)."""
    vote, size = _proof_tree(user, vote_pk, size, "size")
    if not 0 <= leaf_index < size:
        raise Invalid({"leaf_index": [f"须在 0 到 {size - 1} 之间"]})
    hashes = _leaf_hashes(vote, size)
    return {"vote_id": vote.public_id, "leaf_index": leaf_index, "size": size,
            "leaf_hash": hashes[leaf_index].hex(),
            "inclusion_proof": [p.hex() for p in inclusion_proof(hashes, leaf_index, size)],
            "tree_head": _tree_head(vote, size)}


def consistency(user, vote_pk, first, second=None):
    """RFC 9162 proof that the tree of `first` entries is a prefix of the tree of `second` (default: latest)."""
    vote, second = _proof_tree(user, vote_pk, second, "second")
    if not 1 <= first <= second:
        raise Invalid({"first": [f"须在 1 到 {second} 之间"]})
    hashes = _leaf_hashes(vote, second)
    return {"vote_id": vote.public_id, "first": first, "second": second,
            "consistency_proof": [p.hex() for p in consistency_proof(hashes, first, second)],
            "first_tree_head": _tree_head(vote, first), "second_tree_head": _tree_head(vote, second)}


# ---------------------------------------------------------------- who may see vote media


def _may_see_fund_media(user, vote_pk):
    _visible_vote(user, vote_pk)
    return True


def _may_see_paper_evidence(user, vote_pk):
    # Paper ballots are open to the owners' inspection (§6), like the bundle that names their hash.
    require_community(user, _get_vote(vote_pk).community_id, "owner", "regulator", "committee")
    return True


media.register_visibility(MEDIA_FUND, _may_see_fund_media)
media.register_visibility(MEDIA_PAPER, _may_see_paper_evidence)
