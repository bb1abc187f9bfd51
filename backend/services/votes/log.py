"""A vote's log in the database: the frontier row that every append locks, appending entries with
their signed tree heads, and reading heads, leaves and the roll back.

The log's integrity rests on the database alone: every append — a ballot, a paper ballot, a key
binding or revocation, the close — locks the vote's `vote_frontier` row for its transaction
(PostgreSQL `SELECT … FOR UPDATE`; SQLite, which has no row locks, an `UPDATE … RETURNING` that
takes the database's write lock and reads the row inside it), reads the frontier, appends, writes the
entries, their heads and the new frontier, and commits. Whatever reaches the lock second sees the
first one's commit. The append step itself (leaf, frontier, signed head, receipt) is
`voting.append.append_entry`.
"""
from sqlalchemy import bindparam, insert, select, update

from backend import signing
from backend.errors import Conflict
from backend.extensions import db
from backend.models.vote import TreeHead, VoteEntry, VoteFrontier, VoteRight
from voting.append import append_entry
from voting.merkle import Frontier

_FRONTIER = VoteFrontier.__table__
_LOCK_ROW = (select(_FRONTIER.c.size, _FRONTIER.c.nodes, _FRONTIER.c.closed)
             .where(_FRONTIER.c.vote_id == bindparam("vote")).with_for_update())
# SQLite has no row locks: an UPDATE takes the database's write lock, and RETURNING reads the row
# inside it, so no other writer can append between the read and the write.
_LOCK_DATABASE = (update(_FRONTIER).where(_FRONTIER.c.vote_id == bindparam("vote")).values(size=_FRONTIER.c.size)
                  .returning(_FRONTIER.c.size, _FRONTIER.c.nodes, _FRONTIER.c.closed))
_SAVE_FRONTIER = (update(_FRONTIER).where(_FRONTIER.c.vote_id == bindparam("vote"))
                  .values(size=bindparam("size"), nodes=bindparam("nodes"), closed=bindparam("closed")))


class Log:
    """One vote's log inside the current transaction (`vote`: anything with `id`, `public_id` and
    `community_id`). Made by `Log.lock` (an existing log, its row locked until the transaction ends)
    or `Log.start` (entry 0, when the vote opens)."""

    def __init__(self, vote, frontier, closed=False, new=False):
        self.vote, self.frontier, self.closed, self.new = vote, frontier, closed, new
        self.key = signing.server_key()
        self.entry_rows, self.head_rows = [], []

    @classmethod
    def start(cls, vote):
        return cls(vote, Frontier(), new=True)

    @classmethod
    def lock(cls, vote, refuse_closed=True):
        """Lock the vote's log for this transaction and read its frontier. Once the close entry is in,
        nothing may follow it: 409 `vote_closed` (unless `refuse_closed` is false: the caller decides)."""
        conn = db.session.connection()
        statement = _LOCK_ROW if conn.dialect.name == "postgresql" else _LOCK_DATABASE
        row = conn.execute(statement, {"vote": vote.id}).one()
        if row.closed and refuse_closed:
            raise Conflict("vote_closed", "表决已截止")
        return cls(vote, Frontier(row.size, [bytes(row.nodes[i:i + 32]) for i in range(0, len(row.nodes), 32)]),
                   closed=row.closed)

    @property
    def size(self):
        return self.frontier.size

    def append(self, entry, timestamp, right_id=None, nonce=None, user_id=None, leaf=None):
        """Append one entry (`leaf`: its canonical bytes, if already made); returns the
        voting.append.Appended, whose receipt may be handed out once the transaction has committed."""
        done = append_entry(self.frontier, entry, self.key, self.vote.public_id, timestamp, leaf)
        vote_pk, community = self.vote.id, self.vote.community_id
        self.entry_rows.append({"vote_id": vote_pk, "idx": done.index, "community_id": community,
                                "kind": entry["type"], "right_id": right_id, "nonce": nonce, "user_id": user_id,
                                "leaf": done.leaf, "leaf_hash": done.leaf_hash})
        head = done.tree_head
        self.head_rows.append({"vote_id": vote_pk, "size": done.index + 1, "community_id": community,
                               "root": head["root"], "timestamp": head["timestamp"], "signature": head["signature"]})
        return done

    def write(self, closed=False):
        """Write the new entries, their tree heads and the frontier (the caller commits)."""
        conn = db.session.connection()
        if self.entry_rows:
            one = len(self.entry_rows) == 1  # one row as a plain execute, not the executemany path
            conn.execute(insert(VoteEntry.__table__), self.entry_rows[0] if one else self.entry_rows)
            conn.execute(insert(TreeHead.__table__), self.head_rows[0] if one else self.head_rows)
        nodes = b"".join(self.frontier.nodes())
        if self.new:
            conn.execute(insert(_FRONTIER).values(vote_id=self.vote.id, community_id=self.vote.community_id,
                                                  size=self.size, nodes=nodes, closed=closed))
            self.new = False
        else:
            conn.execute(_SAVE_FRONTIER, {"vote": self.vote.id, "size": self.size, "nodes": nodes, "closed": closed})
        self.entry_rows, self.head_rows = [], []


# ---------------------------------------------------------------- reading the log back


def log_size(vote):
    return db.session.execute(select(VoteFrontier.size).where(VoteFrontier.vote_id == vote.id)).scalar() or 0


def head_dict(vote, row):
    return {"type": "tree_head", "vote_id": vote.public_id, "size": row.size, "root": row.root,
            "timestamp": row.timestamp, "signature": row.signature}


def stored_head(vote, size=None):
    """The signed tree head of `size` (the latest when None), or None."""
    query = select(TreeHead).where(TreeHead.vote_id == vote.id)
    query = query.where(TreeHead.size == size) if size is not None else query.order_by(TreeHead.size.desc()).limit(1)
    row = db.session.execute(query).scalar_one_or_none()
    return head_dict(vote, row) if row else None


def leaf_hashes(vote, size):
    return [bytes(h) for h in db.session.execute(
        select(VoteEntry.leaf_hash).where(VoteEntry.vote_id == vote.id, VoteEntry.idx < size)
        .order_by(VoteEntry.idx)).scalars()]


def leaf_at(vote, index):
    """The canonical bytes of entry `index`."""
    return bytes(db.session.execute(
        select(VoteEntry.leaf).where(VoteEntry.vote_id == vote.id, VoteEntry.idx == index)).scalar_one())


def leaves(vote):
    """Every entry's canonical bytes, in log order."""
    return [bytes(leaf) for leaf in db.session.execute(
        select(VoteEntry.leaf).where(VoteEntry.vote_id == vote.id).order_by(VoteEntry.idx)).scalars()]


def roll(vote):
    """The frozen roll as docs/protocol.md §3 lists it, sorted by right_id."""
    rows = db.session.execute(
        select(VoteRight.right_id, VoteRight.label, VoteRight.area, VoteRight.heads, VoteRight.keys)
        .where(VoteRight.vote_id == vote.id).order_by(VoteRight.right_id)
    ).all()
    return [{"right_id": r.right_id, "label": r.label, "area": r.area, "heads": r.heads, "keys": list(r.keys)}
            for r in rows]
