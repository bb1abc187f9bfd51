"""SQLite appends (votes._queue_for_sqlite_writes): queued on a flock, committed at
synchronous=NORMAL and made durable by an fsync of the write-ahead log after the queue is left and
before the receipt exists; the connection goes back to the pool at synchronous=FULL. Runs on its own
SQLite database whatever DATABASE_URL the suite runs on."""
import fcntl
import logging
import os

import pytest

from backend import create_app
from backend.extensions import db
from backend.models import AuthSession, User
from backend.models.base import utcnow
from backend.services import votes as vote_service
from bench.cast_bench import build_scene, signed_envelope
from voting.canonical import format_time


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path), "MEDIA_ROOT": str(tmp_path / "media"),
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'votes.db'}",
                      "SIGNING_KEY_FILE": str(tmp_path / "key.pem"), "WECHAT_API_BASE": "http://127.0.0.1:9/",
                      "WECHAT_DEV_FAKE": False})
    with app.app_context():
        from flask_migrate import upgrade

        logging.disable(logging.WARNING)
        upgrade(revision="heads")
        logging.disable(logging.NOTSET)
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def synced(tmp_path, monkeypatch):
    """Every fsync as (path, whether the writers' queue was free at that moment)."""
    database = str(tmp_path / "votes.db")
    seen = []
    fsync = os.fsync

    def watching_fsync(fd):
        path = os.readlink(f"/proc/self/fd/{fd}")
        probe = os.open(database + "-writers.lock", os.O_RDWR)
        try:  # the queue is free again: the next appender is not waiting for this disk sync
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            free = True
        except BlockingIOError:
            free = False
        finally:
            os.close(probe)
        seen.append((path, free))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", watching_fsync)
    return seen


def test_a_cast_is_synced_after_leaving_the_queue(sqlite_app, tmp_path, synced):
    vote_pk, vote_id, owners = build_scene(2)
    db.session.remove()
    database = str(tmp_path / "votes.db")
    owner = owners[0]
    receipt = vote_service.cast_ballot(owner["user_id"], vote_pk,
                                       signed_envelope(owner, vote_id, "approve", format_time(utcnow())))
    assert receipt["leaf_index"] >= 1
    assert synced == [(database + "-wal", True)]
    # every pooled connection is back at synchronous=FULL (2)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    # a refused cast (here: a replayed nonce) rolls back: nothing to sync
    synced.clear()
    envelope = signed_envelope(owner, vote_id, "reject", format_time(utcnow()))
    vote_service.cast_ballot(owner["user_id"], vote_pk, envelope)
    synced.clear()
    with pytest.raises(Exception) as refused:
        vote_service.cast_ballot(owner["user_id"], vote_pk, envelope)
    assert getattr(refused.value, "code", None) == "nonce_used" and synced == []


def test_the_cast_routes_batches_are_synced_after_leaving_the_queue(sqlite_app, tmp_path, synced):
    """The same for the cast route's common case (votes.accept_ballot, a batch on a pool connection
    of its own): durable before the receipt exists, synced after the queue is free, the connection
    back at FULL; a cast that does not stand appends and syncs nothing."""
    vote_pk, vote_id, owners = build_scene(2)
    owner = owners[0]
    sid = db.session.execute(db.select(AuthSession.id).filter_by(user_id=owner["user_id"])).scalar_one()
    db.session.remove()
    database = str(tmp_path / "votes.db")
    first = vote_service.cast_ballot(owner["user_id"], vote_pk,  # the full path: the vote is now cached
                                     signed_envelope(owner, vote_id, "approve", format_time(utcnow())))
    synced.clear()
    receipt = vote_service.accept_ballot(sid, vote_pk, signed_envelope(owner, vote_id, "reject", format_time(utcnow())))
    assert receipt is not None and receipt["leaf_index"] == first["leaf_index"] + 1
    assert synced == [(database + "-wal", True)]
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    synced.clear()
    assert vote_service.accept_ballot("no-such-session", vote_pk,
                                      signed_envelope(owner, vote_id, "abstain", format_time(utcnow()))) is None
    assert synced == []
    assert vote_service.tree_head(db.session.get(User, owner["user_id"]), vote_pk)["size"] == receipt["leaf_index"] + 1
