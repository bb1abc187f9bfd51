"""Benchmark: casting signed ballots into one vote vs. a bare JSON endpoint, on the same gunicorn.

Run: .venv/bin/python bench/cast_bench.py [--clients 16] [--requests 2000] [--sizes 1000,10000,50000]
                                          [--workers 2] [--rights 200] [--db sqlite,pg]

For each database (SQLite in a temporary directory; PostgreSQL when DATABASE_URL names one or a local
cluster answers — a temporary database is created on that server and dropped afterwards):
  1. builds a community, verified owners with device keys and an open vote through the service layer;
  2. starts `gunicorn -w WORKERS wsgi:app` on 127.0.0.1;
  3. at each log size in --sizes: pre-fills the log to that size through the service layer
     (votes.cast_ballots, 1,000 real signed ballots per transaction), then sends --requests requests
     from --clients threads to GET /api/v1/health (the baseline) and then as many real signed ballots
     to POST /api/v1/votes/<id>/ballots (ballots are signed before the clock starts, as phones do);
  4. prints throughput, p50/p99 latency of both, the ratio, and gunicorn's own time per request.
Prints figures and exits 0; it is not a test and asserts nothing about time.
"""
from __future__ import annotations

import argparse
import csv
import http.client
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from voting.canonical import b64u_encode, dumps, format_time  # noqa: E402

PREFILL_BATCH = 1000


# ---------------------------------------------------------------- databases


def _pg_server_url():
    """A PostgreSQL URL to create the bench database on, or None."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    candidate = "postgresql+psycopg:///postgres"
    try:
        import psycopg

        psycopg.connect("dbname=postgres", connect_timeout=3).close()
        return candidate
    except Exception:  # noqa: BLE001 — no local cluster: the PostgreSQL run is skipped
        return None


class PgDatabase:
    """A throw-away database on the server of `server_url`."""

    def __init__(self, server_url):
        from sqlalchemy.engine import make_url

        self.server = make_url(server_url)
        self.name = f"linli_bench_{os.getpid()}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        self._admin(f'CREATE DATABASE "{self.name}"')

    def _admin(self, sql):
        import psycopg

        url = self.server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql)

    def drop(self):
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# ---------------------------------------------------------------- the scene, through the service layer


def build_scene(app, n_rights):
    """A community of n_rights single-owner flats, each owner verified with a device key, and an open
    vote. Returns (vote id, vote public id, [(user, token, right_id, private key)])."""
    from backend.extensions import db
    from backend.models import User
    from backend.models.base import utcnow
    from backend.security import encrypt_pii, issue_token, pii_hash
    from backend.services import bindings, communities, identity, keys, registry, votes
    from backend.services.demo import id_number

    admin = identity.make_platform_admin("bench-admin")
    community = communities.create_community(admin, "基准小区", "朝阳区", "基准路 1 号")
    member = communities.add_member(admin, community.id, "committee", openid="bench-committee")
    committee = db.session.get(User, member.user_id)
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(registry.COLUMNS)
    flats = []
    rng = random.Random(7)
    for i in range(n_rights):
        building, unit, room = str(1 + i // 100), str(1 + (i // 10) % 10), str(101 + i % 10)
        name, phone = f"业主{i:04d}", f"139{i:08d}"
        writer.writerow([building, unit, room, "89.52", name, phone, id_number(rng, 1960 + i % 40), "person"])
        flats.append((building, unit, room, name, phone))
    registry.import_registry(admin, community.id, "bench.csv", rows.getvalue().encode())
    owners = []
    for i, (building, unit, room, name, phone) in enumerate(flats):
        user = User(openid=f"bench-owner-{i}", phone_enc=encrypt_pii(phone), phone_hash=pii_hash(phone),
                    phone_verified_at=utcnow())
        db.session.add(user)
        db.session.commit()
        assert bindings.request_binding(user, community.id, building, unit, room, name).status == "verified"
        key = Ed25519PrivateKey.generate()
        keys.register_key(user, b64u_encode(key.public_key().public_bytes_raw()))
        token, _ = issue_token(user)
        db.session.commit()
        owners.append([user, token, None, key])
    now = utcnow()
    draft = votes.create_vote(committee, community.id, title="基准表决", kind="resolution",
                              opens_at=now, closes_at=now + timedelta(days=7))
    opened = votes.open_vote(committee, draft["id"])
    for owner in owners:
        owner[2] = votes.my_rights(owner[0], opened["id"])[0]["right_id"]
    return opened["id"], opened["vote_id"], owners


def signed_envelope(key, public_key, vote_id, right_id, option, signed_at):
    """A ballot signed as the owner's phone signs it."""
    ballot = {"type": "ballot", "vote_id": vote_id, "right_id": right_id, "choice": {"option": option},
              "nonce": b64u_encode(os.urandom(16)), "signed_at": signed_at}
    return {"ballot": ballot, "public_key": public_key, "signature": b64u_encode(key.sign(dumps(ballot)))}


def prefill(app, vote_pk, vote_id, owners, target, log_size):
    """Append signed ballots through votes.cast_ballots until the log has `target` entries.
    Returns (ballots added, seconds) so that the service-layer cost per ballot can be shown too."""
    from backend.extensions import db
    from backend.services import votes

    options = ("approve", "reject", "abstain")
    added, spent, n = 0, 0.0, log_size
    publics = [b64u_encode(o[3].public_key().public_bytes_raw()) for o in owners]
    while n < target:
        count = min(PREFILL_BATCH, target - n)
        signed_at = format_time(datetime.now(timezone.utc))
        items = []
        for j in range(count):
            user, _, right_id, key = owners[(n + j) % len(owners)]
            items.append((user, signed_envelope(key, publics[(n + j) % len(owners)], vote_id, right_id,
                                                options[(n + j) % 3], signed_at)))
        started = time.perf_counter()
        votes.cast_ballots(vote_pk, items)
        spent += time.perf_counter() - started
        db.session.remove()
        n += count
        added += count
    return added, spent


# ---------------------------------------------------------------- the load generator


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_load(port, jobs_per_client):
    """Each client thread sends its (method, path, body, headers) jobs one after another on a fresh
    connection (gunicorn's sync workers close after each response). Returns (seconds, latencies, errors)."""
    barrier = threading.Barrier(len(jobs_per_client) + 1)
    latencies, errors = [], []
    lock = threading.Lock()

    def client(jobs):
        mine, bad = [], []
        barrier.wait()
        for method, path, body, headers in jobs:
            started = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            mine.append(time.perf_counter() - started)
            if resp.status >= 300:
                bad.append((resp.status, data[:200]))
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=client, args=(jobs,)) for jobs in jobs_per_client]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, errors


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def server_micros(access_log, offset, path_prefix):
    """Mean of gunicorn's own request time (µs) for requests logged after `offset` whose path starts so."""
    with open(access_log, "rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode().split("\n")
    times = [int(t) for path, t in (line.split()[:2] for line in lines if line.strip()) if path.startswith(path_prefix)]
    return statistics.mean(times) if times else float("nan")


# ---------------------------------------------------------------- one database


def bench_database(label, database_url, args):
    from backend import create_app

    instance = tempfile.mkdtemp(prefix="linli-bench-")
    config = {"ENV": "development", "INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": database_url,
              "SIGNING_KEY_FILE": os.path.join(instance, "signing_key.pem"),
              "MEDIA_ROOT": os.path.join(instance, "media"), "WECHAT_API_BASE": "http://127.0.0.1:9/",
              "WECHAT_DEV_FAKE": False}
    app = create_app(config)
    proc = None
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade(revision="heads")
            t0 = time.perf_counter()
            vote_pk, vote_id, owners = build_scene(app, args.rights)
            print(f"  scene: {args.rights} verified owners with keys, vote {vote_id} open "
                  f"({time.perf_counter() - t0:.1f} s)", flush=True)
            from backend.extensions import db
            db.session.remove()

        port = _free_port()
        access_log = os.path.join(instance, "access.log")
        env = dict(os.environ, DATABASE_URL=database_url, INSTANCE_PATH=instance,
                   SIGNING_KEY_FILE=config["SIGNING_KEY_FILE"], MEDIA_ROOT=config["MEDIA_ROOT"],
                   WECHAT_API_BASE=config["WECHAT_API_BASE"], WECHAT_DEV_FAKE="0", LINLI_ENV="development")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "--threads", str(args.threads),
             "-b", f"127.0.0.1:{port}",
             "--access-logfile", access_log, "--access-logformat", "%(U)s %(D)s", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ready(port, proc)

        clients = owners[: args.clients]
        per_client = max(1, args.requests // len(clients))
        path = f"/api/v1/votes/{vote_pk}/ballots"
        log_size = 1  # the definition; the keys were registered before opening, so they are in the roll
        rows = []
        for target in args.sizes:
            with app.app_context():
                added, spent = prefill(app, vote_pk, vote_id, owners, target, log_size)
            log_size += added
            bare_jobs = [[("GET", "/api/v1/health", None, {})] * per_client for _ in clients]
            offset = os.path.getsize(access_log) if os.path.exists(access_log) else 0
            bare_s, bare_lat, bare_err = run_load(port, bare_jobs)
            bare_server = server_micros(access_log, offset, "/api/v1/health")
            signed_at = format_time(datetime.now(timezone.utc))
            cast_jobs = []
            for user, token, right_id, key in clients:
                public = b64u_encode(key.public_key().public_bytes_raw())
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                cast_jobs.append([("POST", path, json.dumps(signed_envelope(key, public, vote_id, right_id, "approve",
                                                                            signed_at)).encode(), headers)
                                  for _ in range(per_client)])
            offset = os.path.getsize(access_log)
            cast_s, cast_lat, cast_err = run_load(port, cast_jobs)
            cast_server = server_micros(access_log, offset, path)
            n = per_client * len(clients)
            start_size = log_size
            log_size += n - len(cast_err)
            rows.append({
                "size": start_size, "prefill_us": spent / added * 1e6 if added else float("nan"),
                "bare_rps": n / bare_s, "bare_p50": percentile(bare_lat, 50) * 1e3,
                "bare_p99": percentile(bare_lat, 99) * 1e3, "bare_server": bare_server,
                "cast_rps": n / cast_s, "cast_p50": percentile(cast_lat, 50) * 1e3,
                "cast_p99": percentile(cast_lat, 99) * 1e3, "cast_server": cast_server,
                "errors": len(bare_err) + len(cast_err), "sample_error": (bare_err + cast_err)[:1],
            })
            _print_row(rows[-1], n)
        return rows
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        with app.app_context():
            from backend.extensions import db
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)


def _wait_ready(port, proc):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _print_row(r, n):
    print(f"  log size {r['size']:>6,}: {n} requests from each side")
    print(f"    bare  GET /health     {r['bare_rps']:8.1f} req/s   p50 {r['bare_p50']:6.1f} ms   "
          f"p99 {r['bare_p99']:6.1f} ms   server {r['bare_server'] / 1e3:5.2f} ms/req")
    print(f"    cast  POST /ballots   {r['cast_rps']:8.1f} req/s   p50 {r['cast_p50']:6.1f} ms   "
          f"p99 {r['cast_p99']:6.1f} ms   server {r['cast_server'] / 1e3:5.2f} ms/req")
    print(f"    ratio cast/bare {r['cast_rps'] / r['bare_rps'] * 100:5.1f} %   "
          f"service-layer pre-fill {r['prefill_us']:.0f} µs/ballot"
          + (f"   ERRORS {r['errors']}: {r['sample_error']}" if r["errors"] else ""), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (each side)")
    parser.add_argument("--sizes", default="1000,10000,50000", help="log sizes to measure at")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (1: sync workers; more: gthread)")
    parser.add_argument("--rights", type=int, default=200, help="owners (rights) in the community")
    parser.add_argument("--db", default="sqlite,pg", help="sqlite, pg or both")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.clients = min(args.clients, args.rights)
    print(f"cast_bench: {args.clients} clients, gunicorn -w {args.workers}, {args.requests} requests per "
          f"measurement, log sizes {args.sizes}, {os.cpu_count()} CPUs shared by server, database and clients")
    summary = []
    if "sqlite" in args.db:
        tmp = tempfile.mkdtemp(prefix="linli-bench-sqlite-")
        print("\nSQLite (file in a temporary directory)", flush=True)
        summary.append(("SQLite", bench_database("SQLite", f"sqlite:///{tmp}/bench.db", args)))
        shutil.rmtree(tmp, ignore_errors=True)
    if "pg" in args.db:
        server = _pg_server_url()
        if server is None:
            print("\nPostgreSQL: no DATABASE_URL and no local cluster reachable — skipped")
        else:
            database = PgDatabase(server)
            print(f"\nPostgreSQL ({'DATABASE_URL' if os.environ.get('DATABASE_URL', '').startswith('postgresql') else 'local cluster'}, "
                  f"temporary database {database.name})", flush=True)
            try:
                summary.append(("PostgreSQL", bench_database("PostgreSQL", database.url, args)))
            finally:
                database.drop()
    print("\nsummary (cast throughput as % of bare; p99 of casting; server time per cast by log size)")
    for label, rows in summary:
        cells = "  ".join(f"@{r['size']:,}: {r['cast_rps'] / r['bare_rps'] * 100:.0f} %, p99 {r['cast_p99']:.0f} ms, "
                          f"{r['cast_server'] / 1e3:.2f} ms" for r in rows)
        print(f"  {label:10s} {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
