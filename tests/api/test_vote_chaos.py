"""Chaos: 30 owners cast concurrently against `gunicorn -w 3` while things break (docs/votes.md "When
things break"). In one storm a worker is killed with SIGKILL; in another the database goes away
under the service — PostgreSQL: every connection of the service is terminated
(`pg_terminate_backend`), again and again for a while; SQLite: another process holds the database's
write lock (`BEGIN EXCLUSIVE`) for longer than a writer waits for it. Afterwards: every ballot
acknowledged with a 201 and a receipt is in the log at the receipt's index, every receipt is
consistent with the final log, the closed vote's bundle passes `python -m voting.verify` with all of
them, and no entry exists twice. During the outage the answers are 503 with Retry-After, never 500,
and the service recovers without a restart. Runs on whatever DATABASE_URL the suite runs on."""
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

from backend.extensions import SQLITE_BUSY_TIMEOUT_MS, db
from backend.models import VoteEntry
from tests.servers import children, serving
from tests.api.test_votes import canonical, envelope, public, receipt_holds, stamp, verify_bundle
from tests.support import id_number
from voting.merkle import Frontier, leaf_hash, verify_inclusion

OWNERS = 30
WORKERS = 3
APPLICATION = "linli-chaos"  # the service's connections, as PostgreSQL's pg_stat_activity names them


def _vote_of_30(world, client):
    """A community of 30 verified owners with device keys and an open vote; returns (vote pk,
    protocol id, committee, owners)."""
    cid = world.community()
    committee = world.member(cid, "committee")
    rows = [("1", str(1 + i // 10), f"{101 + i % 10}", "88.88", f"业主{i:02d}", f"137{i:08d}", id_number(200 + i),
             "person") for i in range(OWNERS)]
    assert world.import_registry(cid, rows, user=committee).status_code == 200
    owners = []
    for building, unit, room, _, name, phone, _, _ in rows:
        user = world.owner(cid, building, unit, room, name, phone)
        user["key"] = Ed25519PrivateKey.generate()
        assert client.post("/api/v1/me/keys", headers=user["headers"],
                           json={"public_key": public(user["key"])}).status_code == 201
        owners.append(user)
    now = datetime.now(timezone.utc)
    vote = client.post(f"/api/v1/communities/{cid}/votes", headers=committee["headers"], json={
        "title": "混沌表决", "kind": "resolution", "opens_at": stamp(now),
        "closes_at": stamp(now + timedelta(hours=1))}).json
    opened = client.post(f"/api/v1/votes/{vote['id']}/open", headers=committee["headers"]).json
    for user in owners:
        user["right"] = client.get(f"/api/v1/votes/{vote['id']}/my-rights", headers=user["headers"]).json[0]["right_id"]
    db.session.remove()
    return vote["id"], opened["vote_id"], committee, owners


class Storm:
    """30 clients casting for their own rights, one request after another, until stopped. Every
    answer is kept with the envelope sent and when it came back; a request that got no answer (its
    worker was killed) is counted apart."""

    def __init__(self, base, vid, vote_id, owners):
        self.base, self.vid, self.vote_id, self.owners = base, vid, vote_id, owners
        self.answers, self.unanswered = [], 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(owner,)) for owner in owners]

    def _client(self, owner):
        session = requests.Session()
        options = ("approve", "reject", "abstain")
        n = 0
        while not self.stop.is_set():
            env = envelope(owner["key"], self.vote_id, owner["right"], {"option": options[n % 3]})
            n += 1
            try:
                resp = session.post(f"{self.base}/api/v1/votes/{self.vid}/ballots", headers=owner["headers"],
                                    json=env, timeout=60)
            except requests.RequestException:
                with self.lock:
                    self.unanswered += 1
                session = requests.Session()
                continue
            with self.lock:
                self.answers.append((time.monotonic(), resp.status_code, env, resp.json(), resp.headers))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(120)

    def wait_for(self, count, timeout=60):
        """Until `count` more answers have come back."""
        target, deadline = len(self.answers) + count, time.monotonic() + timeout
        while len(self.answers) < target:
            assert time.monotonic() < deadline, "the storm stalled"
            time.sleep(0.05)

    def receipts(self):
        return [(env, body) for _, status, env, body, _ in self.answers if status == 201]


def _check_the_log(vid, acknowledged, server_key):
    """Every acknowledged ballot is in the log at its receipt's index, every receipt is consistent
    with the final log, and no entry (nor nonce) is there twice. Returns the log's size."""
    db.session.remove()
    rows = db.session.execute(db.select(VoteEntry.idx, VoteEntry.leaf, VoteEntry.leaf_hash, VoteEntry.nonce)
                              .filter_by(vote_id=vid).order_by(VoteEntry.idx)).all()
    assert [r.idx for r in rows] == list(range(len(rows)))
    leaves = [bytes(r.leaf) for r in rows]
    hashes = [leaf_hash(leaf) for leaf in leaves]
    assert all(bytes(r.leaf_hash) == h for r, h in zip(rows, hashes))
    assert len(set(leaves)) == len(leaves), "an entry is in the log twice"
    nonces = [r.nonce for r in rows if r.nonce is not None]
    assert len(set(nonces)) == len(nonces)
    prefix_roots, frontier = {}, Frontier()
    for size, digest in enumerate(hashes, 1):
        frontier.append(digest)
        prefix_roots[size] = frontier.root().hex()
    for env, receipt in acknowledged:
        index, head = receipt["leaf_index"], receipt["tree_head"]
        assert receipt["entry"]["envelope"] == env  # what was sent, as logged
        assert leaves[index] == canonical(receipt["entry"]), f"acknowledged entry {index} is not in the log"
        assert receipt_holds(receipt, server_key)
        assert prefix_roots[head["size"]] == head["root"], "a receipt's tree is not a prefix of the final log"
        assert verify_inclusion(hashes[index], index, len(hashes),
                                _audit_path(hashes, index), bytes.fromhex(prefix_roots[len(hashes)]))
    return len(rows)


def _audit_path(hashes, index):
    from voting.merkle import inclusion_proof

    return inclusion_proof(hashes, index, len(hashes))


def _close_and_verify(client, monkeypatch, base, vid, committee, voter, acknowledged, tmp_path):
    from backend.services.votes import common as vote_common

    monkeypatch.setattr(vote_common, "utcnow", lambda: datetime.now(timezone.utc) + timedelta(hours=2))
    closed = client.post(f"/api/v1/votes/{vid}/close", headers=committee["headers"])
    assert closed.status_code == 200, closed.json
    bundle = requests.get(f"{base}/api/v1/votes/{vid}/bundle", headers=voter["headers"], timeout=60)
    assert bundle.status_code == 200
    code, output = verify_bundle(tmp_path, bundle.content, [r for _, r in acknowledged] + [closed.json["close_receipt"]])
    assert code == 0, output[-3000:]


def test_a_worker_killed_mid_storm_loses_nothing_acknowledged(app, world, client, tmp_path, monkeypatch):
    vid, vote_id, committee, owners = _vote_of_30(world, client)
    server_key = client.get(f"/api/v1/votes/{vid}", headers=committee["headers"]).json["definition"]["server_key"]
    with serving(app, tmp_path, WORKERS, 8) as (base, gunicorn):
        workers = children(gunicorn.pid)
        assert len(workers) == WORKERS
        with Storm(base, vid, vote_id, owners) as storm:
            storm.wait_for(60)
            os.kill(workers[0], signal.SIGKILL)
            killed_at = time.monotonic()
            storm.wait_for(120)
        statuses = {status for _, status, _, _, _ in storm.answers}
        assert statuses <= {201, 503}, statuses  # never a 500
        assert any(at > killed_at and status == 201 for at, status, _, _, _ in storm.answers)
        assert workers[0] not in children(gunicorn.pid)  # it died; the master started another
        acknowledged = storm.receipts()
        assert len(acknowledged) >= 150
        _check_the_log(vid, acknowledged, server_key)
        _close_and_verify(client, monkeypatch, base, vid, committee, owners[0], acknowledged, tmp_path)


def _drop_the_database(stop, url):
    """PostgreSQL: terminate every connection of the service, every 100 ms, until `stop` is set.
    SQLite: another process takes the write lock and keeps it past the writers' timeout."""
    if url.get_backend_name() == "postgresql":
        import psycopg

        admin_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            while not stop.is_set():
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND application_name = %s", (APPLICATION,))
                time.sleep(0.1)
        return None
    hold = SQLITE_BUSY_TIMEOUT_MS / 1000 + 2
    locker = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(float(sys.argv[2]))\n"
         "c.execute('ROLLBACK')", url.database, str(hold)], stdout=subprocess.PIPE, text=True)
    assert locker.stdout.readline().strip() == "locked"
    return locker


def test_the_database_dropped_mid_storm_gives_503s_loses_nothing_and_recovers(app, world, client, tmp_path,
                                                                             monkeypatch):
    vid, vote_id, committee, owners = _vote_of_30(world, client)
    server_key = client.get(f"/api/v1/votes/{vid}", headers=committee["headers"]).json["definition"]["server_key"]
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    service_url = url.update_query_dict({"application_name": APPLICATION}) if url.get_backend_name() == "postgresql" \
        else url
    with serving(app, tmp_path, WORKERS, 8,
                 DATABASE_URL=service_url.render_as_string(hide_password=False)) as (base, gunicorn):
        workers = sorted(children(gunicorn.pid))
        with Storm(base, vid, vote_id, owners) as storm:
            storm.wait_for(60)
            stop = threading.Event()
            outage = threading.Thread(target=lambda: setattr(outage, "locker", _drop_the_database(stop, url)))
            outage.start()
            deadline = time.monotonic() + 60
            while not any(status == 503 for _, status, _, _, _ in storm.answers):
                assert time.monotonic() < deadline, "the outage never reached a client"
                time.sleep(0.05)
            stop.set()
            outage.join(30)
            if getattr(outage, "locker", None) is not None:
                assert outage.locker.wait(30) == 0
            recovered_from = time.monotonic()
            storm.wait_for(120)
        assert sorted(children(gunicorn.pid)) == workers  # recovered without a restart
    bad = [(status, body) for _, status, _, body, _ in storm.answers if status not in (201, 503)]
    assert bad == []  # never a 500
    refused = [(body, headers) for _, status, _, body, headers in storm.answers if status == 503]
    assert refused and all(body["error"]["code"] == "database_unavailable" and int(headers["Retry-After"]) > 0
                           for body, headers in refused)
    assert sum(1 for at, status, _, _, _ in storm.answers if at > recovered_from and status == 201) >= 60
    assert storm.unanswered == 0
    acknowledged = storm.receipts()
    _check_the_log(vid, acknowledged, server_key)
    with serving(app, tmp_path, 1, 2) as (base, _):
        _close_and_verify(client, monkeypatch, base, vid, committee, owners[0], acknowledged, tmp_path)
