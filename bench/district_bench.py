"""City-scale figures of the district's reads and commands on PostgreSQL (docs/scale.md), on a
database made by bench/district_generate.py, in one run with a warm cache:

- p50/p99 of the public query of a company, a street's regulator dashboard, and a page of each list
  endpoint (keyset pages deep into the lists as well as the first);
- the quarterly assessment of every organisation (integrity-assess, with --revise so that a re-run
  recomputes) and the weekly roll-up;
- the registry import of a 5,000-part compound into this database against the same import into an
  empty one (the baseline, measured in the same run).

Usage: .venv/bin/python bench/district_bench.py linli_city [--empty linli_city_empty] [--rounds 200]
(the empty database is created and migrated by the bench when missing; both must be owned by root).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def app_for(database):
    os.environ["INSTANCE_PATH"] = "/tmp/linli-city"
    from backend import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg:///{database}", "INSTANCE_PATH": "/tmp/linli-city",
                       "WECHAT_DEV_FAKE": False, "SIGNING_KEY_FILE": "/tmp/linli-city/signing_key.pem"})


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * p / 100 + 0.999999) - 1, 0)]


def timed(client, path, headers, rounds, expect=200):
    """Warm up, then time `rounds` requests of each path (a callable giving the path per round)."""
    for i in range(5):
        resp = client.get(path(i), headers=headers)
        assert resp.status_code == expect, (path(i), resp.status_code, resp.get_data()[:300])
    times = []
    for i in range(rounds):
        start = time.perf_counter()
        resp = client.get(path(i), headers=headers)
        times.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == expect
    return times


def line(name, times, target):
    p50, p99 = statistics.median(times), percentile(times, 99)
    print(f"  {name:<52} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  (target p99 < {target} ms)"
          f"{'' if p99 < target else '  MISSED'}", flush=True)


def token(app, openid, admin=False, street=None, district=False):
    from backend.extensions import db
    from backend.models import RegulatorScope, User
    from backend.security import issue_token

    user = db.session.execute(db.select(User).filter_by(openid=openid)).scalar_one_or_none()
    if user is None:
        user = User(openid=openid, is_platform_admin=admin)
        db.session.add(user)
        db.session.flush()
        if street or district:
            db.session.add(RegulatorScope(user_id=user.id, street_id=street,
                                          scope_key="district" if district else f"street:{street}"))
    raw, _ = issue_token(user, ttl_seconds=86400)
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def reads(app, rounds):
    from backend.extensions import db
    from backend.models import Community, Inspection, Organisation, Ticket
    from backend.services import integrity_results

    client = app.test_client()
    with app.app_context():
        admin = token(app, "bench-admin", admin=True)
        street = token(app, "bench-street-1", street=1)
        orgs = db.session.execute(db.select(Organisation.id).order_by(Organisation.id)).scalars().all()
        communities = db.session.execute(db.select(Community.id).where(Community.street_id == 1)).scalars().all()
        if not db.session.execute(db.select(db.func.count()).select_from(
                db.select(integrity_results.IntegrityResult.id).limit(1).subquery())).scalar():
            integrity_results.assess(datetime(2026, 11, 27, 4, tzinfo=timezone.utc))
        deep_inspection = db.session.execute(db.select(db.func.max(Inspection.id))).scalar() // 2
        # a ticket half-way down compound 1's list: the keyset page after it is as deep as page ~75
        deep_ticket = db.session.execute(db.select(Ticket.id).where(Ticket.community_id == 1)
                                         .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                                         .offset(1500).limit(1)).scalar()
    print(f"reads ({rounds} requests each, warm):", flush=True)
    line("public query of a company", timed(client, lambda i: f"/api/v1/public/organisations/{orgs[i % len(orgs)]}",
                                            {}, rounds), 50)
    line("regulator dashboard of a street", timed(client, lambda i: f"/api/v1/streets/{i % 20 + 1}/dashboard",
                                                  admin, max(rounds // 4, 20)), 200)
    pages = {
        "public organisations, first page": lambda i: "/api/v1/public/organisations?limit=50",
        "public organisations, after id 80": lambda i: "/api/v1/public/organisations?limit=50&after=80",
        "organisations (regulator)": lambda i: "/api/v1/organisations?limit=50&after=" + str(i % 60 + 1),
        "a compound's inspections, first page": lambda i: f"/api/v1/communities/{communities[i % len(communities)]}/inspections",
        "a compound's inspections, deep (after)": lambda i: f"/api/v1/communities/1/inspections?after={deep_inspection}",
        "a compound's measures": lambda i: f"/api/v1/communities/{communities[i % len(communities)]}/measures",
        "a compound's disputes": lambda i: f"/api/v1/communities/{communities[i % len(communities)]}/disputes",
        "open disputes in scope": lambda i: "/api/v1/regulator/disputes",
        "a street's compounds": lambda i: "/api/v1/streets/1/communities?limit=50",
        "a street's circulars": lambda i: "/api/v1/streets/1/circulars",
        "a compound's tickets (page 1, offset list)": lambda i: f"/api/v1/communities/{communities[i % len(communities)]}/tickets",
        "a compound's tickets (page 50, offset list)": lambda i: f"/api/v1/communities/{communities[i % len(communities)]}/tickets?page=50",
        "a compound's hotline tickets": lambda i: f"/api/v1/communities/{communities[i % len(communities)]}/tickets?channel=12345",
        "a compound's tickets, deep (keyset after)": lambda i: f"/api/v1/communities/1/tickets?after={deep_ticket}",
    }
    for name, path in pages.items():
        line(name, timed(client, path, street if "open disputes" in name or "street" in name else admin, rounds), 50)


def commands(app):
    from backend.services import hotline, integrity_results

    print("commands:", flush=True)
    now = datetime(2026, 11, 27, 4, tzinfo=timezone.utc)
    with app.app_context():
        for attempt in range(2):
            start = time.perf_counter()
            done = integrity_results.assess(now, revise=True, note="bench")
            print(f"  quarterly assessment of all organisations (run {attempt + 1}): {time.perf_counter() - start:6.1f} s "
                  f"(target < 60 s) {done}", flush=True)
        for attempt, moment in enumerate((now, now - timedelta(days=7 * 52))):
            from backend.extensions import db
            from backend.models import FocusInspection, WeeklyRollup

            week = hotline.week_bounds(moment)[0]
            db.session.execute(db.delete(FocusInspection).where(FocusInspection.week == week))
            db.session.execute(db.delete(WeeklyRollup).where(WeeklyRollup.week == week))
            db.session.commit()
            start = time.perf_counter()
            rollup = hotline.weekly_rollup(moment)
            print(f"  weekly roll-up {rollup.week}: {time.perf_counter() - start:6.2f} s (target < 10 s), "
                  f"{rollup.totals['complaints']} complaints, {rollup.totals['focus']} focus inspections", flush=True)


def registry_import(database, empty):
    """The 5,000-part import into the city database and into an empty one, alternating, 3 rounds."""
    sys.path.insert(0, str(ROOT / "bench"))
    from registry_bench import build_xlsx

    data = build_xlsx()
    results = {database: [], empty: []}
    for round_ in range(3):
        for name in (empty, database):
            app = app_for(name)
            with app.app_context():
                from backend.extensions import db
                from backend.models import Community
                from backend.services import identity, registry

                community = Community(name=f"导入测试{round_}", district="和平区", address="幸福路")
                db.session.add(community)
                db.session.commit()
                actor = identity.make_platform_admin("bench-registry")
                start = time.perf_counter()
                registry.import_registry(actor, community.id, "registry.xlsx", data)
                results[name].append(time.perf_counter() - start)
                db.session.remove()
                db.engine.dispose()
    city, bare = statistics.median(results[database]), statistics.median(results[empty])
    print(f"registry import of a 5,000-part compound: city database {city:.2f} s, empty database {bare:.2f} s, "
          f"ratio {city / bare:.2f} (target ≤ 1.5; runs {[round(t, 2) for t in results[database]]} / "
          f"{[round(t, 2) for t in results[empty]]})", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("--empty", default=None)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--skip", default="", help="comma list of: reads, commands, registry")
    args = parser.parse_args()
    empty = args.empty or args.database + "_empty"
    if subprocess.run(["psql", "-lqt"], capture_output=True, text=True).stdout.count(f" {empty} ") == 0:
        subprocess.run(["createdb", "-O", "root", empty], check=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade", "heads"], cwd=ROOT, check=True,
                   capture_output=True, env={**os.environ, "DATABASE_URL": f"postgresql+psycopg:///{empty}",
                                             "INSTANCE_PATH": "/tmp/linli-city"})
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (2 CPUs)", flush=True)
    app = app_for(args.database)
    skip = set(filter(None, args.skip.split(",")))
    if "reads" not in skip:
        reads(app, args.rounds)
    if "commands" not in skip:
        commands(app)
    if "registry" not in skip:
        registry_import(args.database, empty)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)


if __name__ == "__main__":
    main()
