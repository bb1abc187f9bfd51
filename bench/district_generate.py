"""Generate a city-scale district into a PostgreSQL database with COPY (docs/scale.md):
20 streets, 1,000 compounds, 700,000 parts, 600,000 users, 3 years of tickets (3,000,000, each with
its submitted event; a tenth from the 12345 hotline), 130 organisations and their contracts, monthly
inspections with measures. The schema comes from the migrations.

Usage: createdb -O root linli_city
       .venv/bin/python bench/district_generate.py linli_city [--scale 1.0]
--scale multiplies the row counts (0.01 for a quick try). Deterministic (seeded).
"""
import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECTS = ("elevator", "parking", "sanitation", "security", "greenery", "illegal_construction", "fire_lane",
            "pets", "noise", "utilities", "other")
HOURS = {"elevator": 48, "fire_lane": 24, "security": 24, "utilities": 48, "sanitation": 72, "parking": 72,
         "noise": 72, "pets": 72, "greenery": 168, "illegal_construction": 360, "other": 168}
NOW = datetime(2026, 11, 27, 4, 0, tzinfo=timezone.utc)
START = NOW - timedelta(days=3 * 365)


def ts(moment):
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "\\N"


def copy(conn, table, columns, rows):
    """COPY rows (tuples of text) into table, streamed in chunks."""
    with conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as out:
            buf, n = io.StringIO(), 0
            for row in rows:
                buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
                n += 1
                if n % 50000 == 0:
                    out.write(buf.getvalue())
                    buf = io.StringIO()
            out.write(buf.getvalue())
    conn.commit()
    return n


def uscc(n):
    from stdnum.cn import uscc as code

    body = f"91110000MA{n:07d}"
    return body + code.calc_check_digit(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    s = args.scale
    n_communities, n_parts, n_users, n_tickets = int(1000 * s) or 20, int(700_000 * s), int(600_000 * s), int(3_000_000 * s)
    url = f"postgresql+psycopg:///{args.database}"
    env = {**os.environ, "DATABASE_URL": url, "INSTANCE_PATH": "/tmp/linli-city"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "heads"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    import psycopg

    rng = random.Random(2026)
    conn = psycopg.connect(dbname=args.database)
    t0 = time.perf_counter()
    created = ts(START)
    copy(conn, "streets", ("id", "name", "created_at"), ((i, f"街道{i}", created) for i in range(1, 21)))
    copy(conn, "communities", ("id", "name", "district", "address", "created_at", "street_id", "lat_e6", "lng_e6"),
         ((i, f"城市花园{i}期", "和平区", f"和平区幸福路{i}号", created, (i - 1) % 20 + 1,
           31_000_000 + i * 300, 121_000_000 + i * 300) for i in range(1, n_communities + 1)))
    copy(conn, "users", ("id", "openid", "is_platform_admin", "created_at"),
         ((i, f"city-user-{i}", "f", created) for i in range(1, n_users + 1)))
    per = max(n_parts // n_communities, 1)
    copy(conn, "parts", ("id", "community_id", "building", "unit", "room", "area"),
         ((i, (i - 1) // per % n_communities + 1, str((i - 1) % per // 200 + 1), str((i - 1) % 200 // 100 + 1),
           str(101 + (i - 1) % 100), 8000 + i % 5000) for i in range(1, n_parts + 1)))
    n_orgs, n_lift = 100, 30
    copy(conn, "organisations", ("id", "kind", "name", "uscc", "created_at"),
         [(i, "property_company", f"物业公司{i}", uscc(i), created) for i in range(1, n_orgs + 1)]
         + [(n_orgs + i, "lift_contractor", f"电梯公司{i}", uscc(n_orgs + i), created) for i in range(1, n_lift + 1)])
    copy(conn, "project_managers", ("id", "organisation_id", "name", "created_at"),
         ((i, (i - 1) % n_orgs + 1, f"经理{i}", created) for i in range(1, 301)))
    begin = (START - timedelta(days=30)).date().isoformat()
    copy(conn, "service_contracts", ("id", "community_id", "organisation_id", "service", "manager_id", "starts_on",
                                     "created_at"),
         [(c, c, (c - 1) % n_orgs + 1, "property", (c - 1) % 300 + 1, begin, created) for c in range(1, n_communities + 1)]
         + [(n_communities + c, c, n_orgs + (c - 1) % n_lift + 1, "lift", None, begin, created)
            for c in range(1, n_communities + 1)])
    span = int((NOW - START).total_seconds())

    def tickets():
        for i in range(1, n_tickets + 1):
            created_at = START + timedelta(seconds=rng.randrange(span))
            community = rng.randrange(1, n_communities + 1)
            subject = rng.choice(SUBJECTS)
            hotline = i % 10 == 0
            age = (NOW - created_at).total_seconds()
            status = "confirmed" if age > 30 * 86400 and rng.random() < 0.9 else rng.choice(
                ("submitted", "accepted", "in_progress", "resolved", "confirmed", "reopened"))
            responded = created_at + timedelta(hours=rng.randrange(1, 40)) if status != "submitted" else None
            resolved = created_at + timedelta(hours=rng.randrange(2, 2 * HOURS[subject])) \
                if status in ("resolved", "confirmed", "reopened") else None
            yield (i, community, None if hotline else rng.randrange(1, n_users + 1), "12345" if hotline else "miniprogram",
                   f"H{i}" if hotline else None, rng.choice(("complaint", "complaint", "repair", "suggestion")),
                   subject, "问题描述", "1号楼", status, ts(created_at), ts(resolved or created_at),
                   ts(resolved or created_at), ts(responded), ts(responded), ts(resolved),
                   ts(resolved + timedelta(days=7)) if status == "confirmed" else None,
                   "f", 1 if status == "reopened" else 0, rng.randint(1, 5) if status == "confirmed" else None)

    copy(conn, "tickets", ("id", "community_id", "reporter_id", "channel", "external_id", "category", "subject",
                           "description", "location", "status", "created_at", "updated_at", "last_activity_at",
                           "first_response_at", "accepted_at", "resolved_at", "confirmed_at", "auto_confirmed",
                           "reopen_count", "rating"), tickets())
    with conn.cursor() as cur:
        cur.execute("INSERT INTO ticket_events (ticket_id, community_id, actor_id, actor_role, action, to_status, "
                    "created_at) SELECT id, community_id, reporter_id, 'reporter', 'submitted', 'submitted', created_at "
                    "FROM tickets")
    conn.commit()
    items = json.dumps([{"code": "clean", "title": "清洁", "passed": False, "points": 2, "note": None},
                        {"code": "lift.cert", "title": "电梯年检", "passed": True, "points": 5, "note": None}],
                       ensure_ascii=False)
    inspections, day, iid = [], START.date(), 0
    while day < NOW.date():
        for c in range(1, n_communities + 1, 7):
            iid += 1
            inspections.append((iid, c, (c - 1) % 20 + 1, (c - 1) % n_orgs + 1, "inspection" if iid % 5 else "review",
                                day.isoformat(), items, 2, "", 1, ts(START)))
        day += timedelta(days=30)
    copy(conn, "inspections", ("id", "community_id", "street_id", "organisation_id", "kind", "inspected_on", "items",
                               "points_lost", "findings", "inspector_id", "created_at"), inspections)
    copy(conn, "measures", ("id", "inspection_id", "community_id", "organisation_id", "level", "description", "status",
                            "issued_at", "due_at", "closed_at"),
         ((i, row[0], row[1], row[3], "rectification_notice", "整改", "closed" if i % 4 else "open",
           f"{row[5]} 02:00:00", f"{row[5]} 02:00:00", f"{row[5]} 03:00:00" if i % 4 else None)
          for i, row in enumerate(inspections, start=1)))
    with conn.cursor() as cur:
        for table in ("streets", "communities", "users", "parts", "organisations", "project_managers",
                      "service_contracts", "tickets", "ticket_events", "inspections", "measures"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        cur.execute("ANALYZE")
    conn.commit()
    print(f"generated {n_communities} compounds, {n_parts} parts, {n_users} users, {n_tickets} tickets with events, "
          f"{len(inspections)} inspections in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
