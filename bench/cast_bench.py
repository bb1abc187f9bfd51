"""Benchmark: casting signed ballots into one vote vs. a bare JSON endpoint, on the same gunicorn.

Run: .venv/bin/python bench/cast_bench.py [--clients 16] [--requests 4000] [--rounds 10] [--sizes 1000,10000,50000]
                                          [--workers 2] [--threads N] [--rights 200] [--db sqlite,pg]

For each database — SQLite (a file in a temporary directory) and PostgreSQL when DATABASE_URL names
one or a local cluster answers (a temporary database is created on that server and dropped after):
  1. builds a community, verified owners with device keys and an open vote through the service layer;
  2. starts `gunicorn -c gunicorn.conf.py -w WORKERS wsgi:app` on 127.0.0.1 (the production settings,
     8 threads per worker, unless --threads says);
  3. at each log size in --sizes: pre-fills the log to that size through the service layer (the one
     cast path, votes.cast_ballots, 1,000 real signed ballots per transaction), then sends --requests
     requests from --clients threads to GET /api/v1/health (the baseline) and as many real signed ballots to
     POST /api/v1/votes/<id>/ballots (signed before the clock starts, as phones sign before sending),
     in --rounds alternating rounds so that the machine's drift during the measurement touches both;
  4. prints for both: throughput, p50/p99 latency, gunicorn's own time per request, and the CPU time
     per request of the gunicorn workers and (PostgreSQL) of the database backends — the cost per
     cast, which is what must stay flat as the log grows — the share of the machine's CPU time left
     idle during each side, and the throughput ratio.
Prints figures and exits 0; it is not a test and asserts nothing about time. The runs are recorded
in bench/README.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
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
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- databases


def _pg_server_url():
    """A PostgreSQL URL (DATABASE_URL or the local cluster) to create the bench database on, or None."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url, "DATABASE_URL"
    try:
        import psycopg

        psycopg.connect("dbname=postgres", connect_timeout=3).close()
        return "postgresql+psycopg:///postgres", "local cluster"
    except Exception:  # noqa: BLE001 — no cluster: the PostgreSQL run is skipped
        return None, None


class PgDatabase:
    """A throw-away database on the server of `server_url`."""

    def __init__(self, server_url):
        from sqlalchemy.engine import make_url

        self.server = make_url(server_url)
        self.name = f"linli_bench_{os.getpid()}"
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        self._admin(f'CREATE DATABASE "{self.name}"')

    def _connect(self, database):
        import psycopg

        url = self.server.set(drivername="postgresql", database=database).render_as_string(hide_password=False)
        return psycopg.connect(url, autocommit=True)

    def _admin(self, sql):
        with self._connect("postgres") as conn:
            conn.execute(sql)

    def backend_pids(self):
        """Server processes connected to the bench database (the gunicorn workers' pool)."""
        with self._connect("postgres") as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.name,))]

    def drop(self):
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def cpu_seconds(pids):
    """utime + stime of each process, by pid (from /proc)."""
    result = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            result[pid] = (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError, ValueError):
            pass
    return result


def machine_idle():
    """(idle, total) jiffies of the whole machine so far (/proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)


def children(pid):
    """Processes whose parent is pid (gunicorn's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


# ---------------------------------------------------------------- the scene, through the service layer


def build_scene(n_rights):
    """A community of n_rights single-owner flats, each owner verified with a device key registered
    before the vote opened, and the open vote. Returns (vote pk, protocol vote id, owners)."""
    from backend.extensions import db
    from backend.models import User
    from backend.models.base import utcnow
    from backend.security import encrypt_pii, issue_token, pii_hash
    from backend.services import bindings, communities, identity, keys, registry, votes

    def id_number(seq):  # a valid GB 11643 ID-card number, distinct per seq
        body = f"110105{1950 + seq // 1000}0101{seq % 1000:03d}"
        return body + registry.id_check_digit(body)

    admin = identity.make_platform_admin("bench-admin")
    community = communities.create_community(admin, "基准小区", "朝阳区", "基准路 1 号")
    committee_id = communities.add_member(admin, community.id, "committee", openid="bench-committee").user_id
    rows, flats = [], []
    for i in range(n_rights):
        building, unit, room = str(1 + i // 100), str(1 + (i // 10) % 10), str(101 + i % 10)
        name, phone = f"业主{i:04d}", f"139{i:08d}"
        rows.append([building, unit, room, "89.52", name, phone, id_number(i), "person"])
        flats.append((building, unit, room, name, phone))
    registry.import_registry(admin, community.id, "bench.csv", registry.registry_csv(rows))
    owners = []
    for i, (building, unit, room, name, phone) in enumerate(flats):
        user = User(openid=f"bench-owner-{i}", phone_enc=encrypt_pii(phone), phone_hash=pii_hash(phone),
                    phone_verified_at=utcnow())
        db.session.add(user)
        db.session.commit()
        assert bindings.request_binding(user, community.id, building, unit, room, name).status == "verified"
        key = Ed25519PrivateKey.generate()
        public = b64u_encode(key.public_key().public_bytes_raw())
        keys.register_key(user, public)
        token, session = issue_token(user)
        db.session.commit()
        owners.append({"user_id": user.id, "session_id": session.id, "token": token, "key": key, "public": public})
    now = utcnow()
    committee = db.session.get(User, committee_id)
    draft = votes.create_vote(committee, community.id, title="基准表决", kind="resolution",
                              opens_at=now, closes_at=now + timedelta(days=7))
    opened = votes.open_vote(committee, draft["id"])
    for owner in owners:
        owner["right_id"] = votes.my_rights(db.session.get(User, owner["user_id"]), opened["id"])[0]["right_id"]
    return opened["id"], opened["vote_id"], owners


def signed_envelope(owner, vote_id, option, signed_at):
    """A ballot signed as the owner's phone signs it."""
    ballot = {"type": "ballot", "vote_id": vote_id, "right_id": owner["right_id"], "choice": {"option": option},
              "nonce": b64u_encode(os.urandom(16)), "signed_at": signed_at}
    return {"ballot": ballot, "public_key": owner["public"], "signature": b64u_encode(owner["key"].sign(dumps(ballot)))}


def prefill(vote_pk, vote_id, owners, start, target):
    """Append real signed ballots through votes.cast_ballots (1,000 per transaction) from `start`
    entries to `target`. Returns (ballots added, seconds in the service layer)."""
    from backend.extensions import db
    from backend.services import votes

    options = ("approve", "reject", "abstain")
    n, spent = start, 0.0
    while n < target:
        count = min(PREFILL_BATCH, target - n)
        signed_at = format_time(datetime.now(timezone.utc))
        items = []
        for j in range(n, n + count):
            owner = owners[j % len(owners)]
            items.append((owner["session_id"], signed_envelope(owner, vote_id, options[j % 3], signed_at)))
        started = time.perf_counter()
        answers = votes.cast_ballots(vote_pk, items)
        refused = [a for a in answers if isinstance(a, Exception)]
        if refused:
            raise RuntimeError(f"pre-fill: {len(refused)} casts refused, first: {refused[0].code}")
        spent += time.perf_counter() - started
        db.session.remove()
        n += count
    return n - start, spent


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
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            mine.append(time.perf_counter() - started)
            if resp.status >= 300:
                bad.append((resp.status, data[:300]))
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
    """gunicorn's own request times (µs) for requests logged after `offset` whose path starts so."""
    with open(access_log, "rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode().split("\n")
    return [int(t) for path, t in (line.split()[:2] for line in lines if line.strip()) if path.startswith(path_prefix)]


def figures(phases, pg):
    """The figures of one side from its phases (run_load rounds): throughput over their total time."""
    n = sum(p["n"] for p in phases)
    latencies = [x for p in phases for x in p["latencies"]]
    server = [x for p in phases for x in p["server"]]
    return {
        "n": n, "rps": n / sum(p["seconds"] for p in phases),
        "p50": percentile(latencies, 50) * 1e3, "p99": percentile(latencies, 99) * 1e3,
        "server_ms": statistics.mean(server) / 1e3 if server else float("nan"),
        "worker_cpu_ms": sum(p["worker_cpu"] for p in phases) / n * 1e3,
        "db_cpu_ms": sum(p["db_cpu"] for p in phases) / n * 1e3 if pg else None,
        "errors": [e for p in phases for e in p["errors"]],
        "idle_pct": 100 * sum(p["idle"][0] for p in phases) / max(1, sum(p["idle"][1] for p in phases)),
    }


class Server:
    """gunicorn serving wsgi:app on the bench database, with CPU accounting of its workers."""

    def __init__(self, env, instance, args, pg):
        self.port = _free_port()
        self.access_log = os.path.join(instance, "access.log")
        self.pg = pg
        # The production settings (gunicorn.conf.py), with the bench's workers, port and access log.
        if args.threads:
            env = dict(env, LINLI_THREADS=str(args.threads))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", str(args.workers),
             "-b", f"127.0.0.1:{self.port}", "--access-logfile", self.access_log,
             "--access-logformat", "%(U)s %(D)s", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)

    def measure(self, jobs, path_prefix):
        """Run the jobs; returns the raw figures of this phase (see figures())."""
        workers = children(self.proc.pid)
        backends = self.pg.backend_pids() if self.pg else []
        offset = os.path.getsize(self.access_log)
        before_w, before_b = cpu_seconds(workers), cpu_seconds(backends)
        idle_before = machine_idle()
        seconds, latencies, errors = run_load(self.port, jobs)
        idle_after = machine_idle()
        after_w = cpu_seconds(workers)
        after_b = cpu_seconds(set(backends) | set(self.pg.backend_pids() if self.pg else []))
        return {
            "n": len(latencies), "seconds": seconds, "latencies": latencies, "errors": errors,
            "server": server_micros(self.access_log, offset, path_prefix),
            "worker_cpu": sum(after_w[p] - before_w.get(p, 0) for p in after_w),
            "db_cpu": sum(after_b[p] - before_b.get(p, 0) for p in after_b),
            "idle": (idle_after[0] - idle_before[0], idle_after[1] - idle_before[1]),
        }

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# ---------------------------------------------------------------- one database


def bench_database(database_url, args, pg=None):
    """All measurements on one database; returns one row per log size."""
    from backend import create_app
    from backend.extensions import db

    instance = tempfile.mkdtemp(prefix="linli-bench-")
    config = {"ENV": "development", "INSTANCE_PATH": instance, "SQLALCHEMY_DATABASE_URI": database_url,
              "SIGNING_KEY_FILE": os.path.join(instance, "signing_key.pem"),
              "MEDIA_ROOT": os.path.join(instance, "media"), "WECHAT_API_BASE": "http://127.0.0.1:9/",
              "WECHAT_DEV_FAKE": False,
              # the scene's owners all claim their flats in one go: above the limit meant for people
              "CLAIMS_PER_COMMUNITY_PER_MINUTE": 1_000_000}
    app = create_app(config)
    server = None
    try:
        with app.app_context():
            from flask_migrate import upgrade

            logging.disable(logging.WARNING)  # alembic's progress lines
            upgrade(revision="heads")
            logging.disable(logging.NOTSET)
            started = time.perf_counter()
            vote_pk, vote_id, owners = build_scene(args.rights)
            db.session.remove()
        print(f"  {args.rights} verified owners with device keys, vote {vote_id} open "
              f"(set up in {time.perf_counter() - started:.1f} s)", flush=True)
        env = dict(os.environ, DATABASE_URL=database_url, INSTANCE_PATH=instance,
                   SIGNING_KEY_FILE=config["SIGNING_KEY_FILE"], MEDIA_ROOT=config["MEDIA_ROOT"],
                   WECHAT_API_BASE=config["WECHAT_API_BASE"], WECHAT_DEV_FAKE="0", LINLI_ENV="development")
        server = Server(env, instance, args, pg)
        clients = owners[: args.clients]
        per_client = max(1, args.requests // len(clients) // args.rounds)
        path = f"/api/v1/votes/{vote_pk}/ballots"

        def cast_jobs(count):
            signed_at = format_time(datetime.now(timezone.utc))
            jobs = []
            for owner in clients:
                headers = {"Authorization": f"Bearer {owner['token']}", "Content-Type": "application/json"}
                jobs.append([("POST", path, json.dumps(signed_envelope(owner, vote_id, "approve", signed_at)).encode(),
                              headers) for _ in range(count)])
            return jobs

        # warm up both paths (connection pools, caches) outside the figures
        server.measure([[("GET", "/api/v1/health", None, {})] * 5 for _ in clients], "/api/v1/health")
        warm = server.measure(cast_jobs(3), path)
        log_size = 1 + warm["n"] - len(warm["errors"])  # the definition (keys were in the roll) + warm-up
        rows = []
        for target in args.sizes:
            with app.app_context():
                added, spent = prefill(vote_pk, vote_id, owners, log_size, target)
            log_size += added
            # the two sides in alternating rounds, so that the machine's drift touches both alike
            bare, cast = [], []
            for _ in range(args.rounds):
                bare.append(server.measure([[("GET", "/api/v1/health", None, {})] * per_client for _ in clients],
                                           "/api/v1/health"))
                cast.append(server.measure(cast_jobs(per_client), path))
            bare, cast = figures(bare, pg), figures(cast, pg)
            rows.append({"size": log_size, "bare": bare, "cast": cast,
                         "prefill_us": spent / added * 1e6 if added else None})
            log_size += cast["n"] - len(cast["errors"])
            print_row(rows[-1])
        return rows
    finally:
        if server is not None:
            server.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        shutil.rmtree(instance, ignore_errors=True)


def _side(label, f):
    db = f" + database {f['db_cpu_ms']:5.2f}" if f["db_cpu_ms"] is not None else ""
    return (f"    {label:22s} {f['rps']:7.1f} req/s   p50 {f['p50']:6.1f} ms   p99 {f['p99']:6.1f} ms   "
            f"gunicorn {f['server_ms']:5.2f} ms/req   CPU per request: workers {f['worker_cpu_ms']:5.2f}{db} ms   "
            f"machine idle {f['idle_pct']:4.1f} %")


def print_row(row):
    bare, cast = row["bare"], row["cast"]
    print(f"  log size {row['size']:>6,} ({cast['n']} requests each side)")
    print(_side("bare GET /health", bare))
    print(_side("cast POST /ballots", cast))
    prefill = f"   (pre-fill through the service layer: {row['prefill_us']:.0f} µs per ballot)" if row["prefill_us"] else ""
    print(f"    casting at {cast['rps'] / bare['rps'] * 100:.1f} % of bare throughput{prefill}")
    for label, errors in (("bare", bare["errors"]), ("cast", cast["errors"])):
        if errors:
            print(f"    {label}: {len(errors)} ERRORS, first: {errors[0]}")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000, help="requests per measurement, each side")
    parser.add_argument("--rounds", type=int, default=10,
                        help="alternating bare/cast rounds per measurement (the machine's speed moves within seconds)")
    parser.add_argument("--sizes", default="1000,10000,50000", help="log sizes to measure at")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=0,
                        help="threads per worker (1: sync workers; default: gunicorn.conf.py's, 8)")
    parser.add_argument("--rights", type=int, default=200, help="owners (voting rights) in the community")
    parser.add_argument("--db", default="sqlite,pg", help="sqlite, pg or both")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.clients = min(args.clients, args.rights)
    threads = args.threads or "as gunicorn.conf.py says (LINLI_THREADS, 8 by default)"
    print(f"cast_bench: {args.clients} clients, gunicorn -c gunicorn.conf.py -w {args.workers}, threads {threads}, "
          f"{args.requests} requests per measurement, log sizes {args.sizes}; {os.cpu_count()} CPUs shared by "
          f"gunicorn, the database and the load generator (load average {os.getloadavg()[0]:.1f} at start)")
    summary = []
    if "sqlite" in args.db:
        tmp = tempfile.mkdtemp(prefix="linli-bench-sqlite-")
        print("\nSQLite (WAL, synchronous=FULL; a file in a temporary directory)", flush=True)
        try:
            summary.append(("SQLite", bench_database(f"sqlite:///{tmp}/bench.db", args)))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if "pg" in args.db:
        server_url, origin = _pg_server_url()
        if server_url is None:
            print("\nPostgreSQL: no DATABASE_URL and no local cluster reachable — skipped")
        else:
            pg = PgDatabase(server_url)
            print(f"\nPostgreSQL ({origin}; temporary database {pg.name})", flush=True)
            try:
                summary.append(("PostgreSQL", bench_database(pg.url, args, pg)))
            finally:
                pg.drop()
    print(f"\nsummary (load average {os.getloadavg()[0]:.1f} at the end)")
    for label, rows in summary:
        for r in rows:
            c = r["cast"]
            cpu = c["worker_cpu_ms"] + (c["db_cpu_ms"] or 0)
            print(f"  {label:10s} log {r['size']:>6,}: casting {c['rps']:6.1f}/s = {c['rps'] / r['bare']['rps'] * 100:4.1f} % "
                  f"of bare {r['bare']['rps']:6.1f}/s; cast p50 {c['p50']:5.1f} ms p99 {c['p99']:6.1f} ms; "
                  f"server+database CPU {cpu:5.2f} ms per cast")
    return 0


if __name__ == "__main__":
    sys.exit(main())
