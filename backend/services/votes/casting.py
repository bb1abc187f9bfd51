"""Casting: the one way a signed ballot enters a vote's log, on both databases.

Every cast goes through `append_casts`, alone or with others, in one transaction: it locks the log
(`Log.lock`), reads what the database says about the casts (`Facts`), asks the one rule
(`standing.refusal`) about each in turn, appends those it accepts (a caller's own key that the log
does not know for the right yet is bound first), writes and commits; only then are the receipts
handed out. A refused cast changes nothing. Before that, each cast is prepared where it arrived:
everything that needs no database is worked out (`Cast`); the bearer sessions of a batch are
resolved together, first of all.

Group commit: casts into one vote that reach this process while a batch of them is being appended
wait for it to end and then go in together, as the next batch, appended by the first of them — one
lock, one transaction and one durable commit for all (`GroupCommit`). The log's integrity never
depends on it: every batch holds the log's lock like any other append.
"""
import threading

from sqlalchemy.exc import IntegrityError

from backend.errors import Unauthorized
from backend.extensions import db
from backend.security import session_user_ids
from backend.services.votes import common
from backend.services.votes.key_entries import bind_key
from backend.services.votes.log import Log
from backend.services.votes.standing import Cast, Facts, envelope_problem, refusal


def cast_ballot(session_id, vote_pk, envelope, now=None):
    """Accept one owner-signed ballot, cast under the bearer session `session_id` (its token's
    signature checked by the caller), and return its receipt once the entry is committed and
    durable; or raise the refusal, with its precise code. Casts into the same vote that arrive
    together in this process share a transaction (group commit)."""
    vote, state, [cast] = _prepare(vote_pk, [(session_id, envelope)], now)
    if state == "open":
        _group_commit.append(vote, cast)
    else:
        append_casts(vote, state, [cast])
    if cast.error is not None:
        raise cast.error
    return cast.receipt


def cast_ballots(vote_pk, items, now=None):
    """Decide and append the casts `items` [(session id, envelope)] into vote `vote_pk` in one
    transaction (commands and benchmarks). Returns, per item in order, its receipt or its refusal."""
    vote, state, casts = _prepare(vote_pk, items, now)
    append_casts(vote, state, casts)
    return [cast.error if cast.error is not None else cast.receipt for cast in casts]


def _prepare(vote_pk, items, now):
    """(the vote, its state, the casts), each cast's database-free checks made. The vote is the cached
    OpenedVote once open, found under the id the ballot names, so that the common case reads nothing
    here; "open" may turn out "closed" once the log is locked."""
    moment = now or common.now()
    first = items[0][1] if items else None
    vote = (common.cached_opened(vote_pk, first["ballot"]["vote_id"])
            if first is not None and envelope_problem(first) is None else None)
    state = "open" if vote is not None else None
    if vote is None:
        row = common.find_vote(vote_pk)
        if row is not None:
            state = row.state if row.state in ("draft", "open") else "closed"
            vote = row if state == "draft" else common.opened(row)
    definition = vote.definition if state in ("open", "closed") else None
    return vote, state, [Cast(session_id, envelope, moment, definition) for session_id, envelope in items]


def append_casts(vote, state, casts, again=True):
    """Decide each of `casts` by the one rule and append those it accepts, in one transaction under
    the log's lock; sets each cast's `receipt` (after the commit) or `error`. `vote` is None for a
    vote that does not exist."""
    users = session_user_ids([cast.session_id for cast in casts], max(cast.moment for cast in casts))
    for cast in casts:
        answer = users[cast.session_id]
        cast.user_id, cast.error = (None, answer) if isinstance(answer, Unauthorized) else (answer, None)
        if vote is None and cast.error is None:
            cast.error = common.vote_not_found()
    if all(cast.error is not None for cast in casts):
        db.session.rollback()
        return  # refused before anything about the vote is said (401, 404)
    book = None
    if state == "open":
        book = Log.lock(vote, refuse_closed=False)
        state = "closed" if book.closed else state
    facts = Facts(vote, casts if state != "draft" else [])
    accepted = []
    for cast in casts:
        cast.error = refusal(vote, state, cast, facts)
        if cast.error is not None:
            continue
        if cast.bind_first:
            bind_key(book, vote, cast.right_id, cast.key, cast.user_id, cast.when)
        accepted.append((cast, book.append(cast.entry, cast.when, right_id=cast.right_id, nonce=cast.nonce,
                                           user_id=cast.user_id).receipt))
        facts.accept(cast)
    if not accepted:
        db.session.rollback()
        return
    try:
        book.write()
        db.session.commit()  # synchronous: durable before any receipt is handed out
    except IntegrityError:
        # The nonces were checked under the lock, so the log's unique index (vote, nonce), the last
        # guard, should never fire; if it does, nothing was written: decide the casts once more.
        db.session.rollback()
        if not again:
            raise
        append_casts(vote, state, [cast for cast, _ in accepted], again=False)
        return
    for cast, receipt in accepted:
        cast.receipt = receipt


class GroupCommit:
    """Group commit of casts within one process (gunicorn's threads).

    The first cast into a vote leads: it appends itself. Casts into that vote that arrive while a
    batch is being appended queue; when the batch has ended, its leader hands the queue, as the next
    batch, to the first cast in it, which appends it. So each thread only ever appends a batch that
    holds its own cast, and a cast waits for at most the batch before its own. If a batch fails (the
    database is unreachable, say), every cast in it gets that failure. With one thread per worker
    every batch is a single cast."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._queues = {}  # vote pk → the casts waiting for the batch in flight to end

    def append(self, vote, cast):
        cast.batch, cast.failure, cast.done = None, None, threading.Event()
        with self._mutex:
            queue = self._queues.get(vote.id)
            if queue is None:
                self._queues[vote.id] = []
                cast.batch = [cast]
            else:
                queue.append(cast)
        if cast.batch is None:
            cast.done.wait()  # woken to lead the next batch, or when the batch holding it has ended
        if cast.batch is not None:
            self._lead(vote, cast.batch)
        if cast.failure is not None:
            raise cast.failure

    def _lead(self, vote, batch):
        try:
            append_casts(vote, "open", batch)
        except BaseException as exc:  # noqa: BLE001 — every cast of the batch shares its fate
            for cast in batch:
                cast.failure = exc
        finally:
            with self._mutex:
                queue = self._queues.pop(vote.id)
                if queue:
                    self._queues[vote.id] = []
                    queue[0].batch = queue
            for cast in batch[1:]:
                cast.done.set()
            if queue:
                queue[0].done.set()


_group_commit = GroupCommit()
