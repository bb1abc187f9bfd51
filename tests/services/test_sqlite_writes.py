"""SQLite's settings come from the engine's configuration in one place (backend/extensions.py): every
connection is in WAL mode at synchronous=FULL (an acknowledged commit is durable) with a bounded wait
for the write lock, and stays so after serving casts; importing a service installs no process-wide
database listeners. Runs on its own SQLite database whatever DATABASE_URL the suite runs on."""
import json
import logging
import subprocess
import sys

import pytest

from backend import create_app
from backend.extensions import SQLITE_BUSY_TIMEOUT_MS, db
from backend.models.base import utcnow
from backend.services import votes as vote_service
from bench.cast_bench import build_scene, signed_envelope
from tests.api.test_votes import ROOT
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


def _settings(conn):
    return (conn.exec_driver_sql("PRAGMA journal_mode").scalar(), conn.exec_driver_sql("PRAGMA synchronous").scalar(),
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar())


def test_every_connection_is_wal_full_sync_with_a_bounded_wait_before_and_after_casts(sqlite_app):
    vote_pk, vote_id, owners = build_scene(4)
    db.session.remove()
    expected = ("wal", 2, SQLITE_BUSY_TIMEOUT_MS)  # synchronous 2 = FULL
    with db.engine.connect() as first, db.engine.connect() as second:
        assert _settings(first) == _settings(second) == expected
    items = [(o["session_id"], signed_envelope(o, vote_id, "approve", format_time(utcnow()))) for o in owners]
    answers = vote_service.cast_ballots(vote_pk, items)
    assert [a["leaf_index"] for a in answers] == [1, 2, 3, 4]
    one = vote_service.cast_ballot(owners[0]["session_id"], vote_pk,
                                   signed_envelope(owners[0], vote_id, "reject", format_time(utcnow())))
    assert one["leaf_index"] == 5 and one["entry"]["envelope"]["ballot"]["choice"] == {"option": "reject"}
    db.session.remove()
    connections = [db.engine.connect() for _ in range(3)]  # the pooled ones that served the casts among them
    try:
        assert all(_settings(conn) == expected for conn in connections)
    finally:
        for conn in connections:
            conn.close()


LISTENERS = r"""
import json, sqlalchemy.event.api as api
seen = []
listen = api.listen
def recording(target, identifier, fn, *args, **kwargs):
    seen.append([getattr(target, "__name__", type(target).__name__), identifier, fn.__module__])
    return listen(target, identifier, fn, *args, **kwargs)
api.listen = recording
from backend import create_app
import backend.services.votes, backend.services.keys
app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "WECHAT_DEV_FAKE": False,
                  "WECHAT_API_BASE": "http://127.0.0.1:9/"})
print(json.dumps(seen))
"""


def test_importing_the_app_and_its_services_installs_no_database_listeners_outside_the_engine_config(tmp_path):
    done = subprocess.run([sys.executable, "-c", LISTENERS], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "INSTANCE_PATH": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    # no service listens to anything; of the process-wide database events (sessions, pools,
    # engines, connections), the SQLite pragmas of backend/extensions.py are the only listener
    assert [entry for entry in seen if entry[2].startswith("backend.services")] == []
    database_wide = [entry for entry in seen if entry[0] in ("Session", "Pool", "QueuePool", "Engine", "Connection")]
    assert database_wide == [["Engine", "connect", "backend.extensions"]], database_wide
