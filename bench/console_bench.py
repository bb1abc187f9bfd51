"""The web console's figures, in headless Debian Chromium on this machine (docs/console.md "Figures"):

1. the JS + CSS the first page (/console/login) loads, gzipped — against the whole build, gzipped;
2. the first page interactive: navigation start → the QR code shown (the page's one job), cold cache —
   against a bare round trip (navigating to GET /api/v1/health) on the same server;
3. a ticket inbox of 10,000 tickets paged by the console: click "next page" → the new rows on screen —
   against the API's own answer for the same page (fetch in the same page, same token).

Runs its own server (gunicorn, the demo community + 10,000 tickets) on SQLite, or with DATABASE_URL set
on a new PostgreSQL database beside that one (dropped afterwards), and prints the figures.
Usage: [DATABASE_URL=postgresql+psycopg:///DB] .venv/bin/python bench/console_bench.py [--runs 7] [--pages 20]
"""
import argparse
import gzip
import os
import statistics
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.console.support import DIST, demo_site, launch_chromium, sign_in  # noqa: E402

TICKETS = 10_000


def seed_tickets(env):
    """10,000 tickets in the demo community, filed over 90 days by the demo owner, in every status."""
    import random

    from backend import create_app
    from backend.extensions import db
    from backend.models import Community, Ticket, User
    from backend.models.ticket import TICKET_STATUSES, TICKET_SUBJECTS

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "INSTANCE_PATH": env["INSTANCE_PATH"],
                      "SIGNING_KEY_FILE": env["SIGNING_KEY_FILE"], "MEDIA_ROOT": env["MEDIA_ROOT"],
                      "WECHAT_API_BASE": env["WECHAT_API_BASE"], "WECHAT_DEV_FAKE": False})
    rng = random.Random(13)
    with app.app_context():
        cid = db.session.execute(db.select(Community.id)).scalars().first()
        owner = db.session.execute(db.select(User.id).filter_by(openid="dev-owner")).scalar_one()
        now = datetime.now(timezone.utc)
        rows = []
        for i in range(TICKETS):
            at = now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))
            rows.append({"community_id": cid, "reporter_id": owner, "category": rng.choice(("repair", "complaint", "suggestion")),
                         "subject": rng.choice(TICKET_SUBJECTS), "description": f"压力测试工单 {i}", "location": "3 号楼",
                         "status": rng.choice(TICKET_STATUSES), "created_at": at, "updated_at": at, "last_activity_at": at,
                         "auto_confirmed": False, "reopen_count": 0})
        db.session.execute(db.insert(Ticket.__table__), rows)
        db.session.commit()


def spread(values, unit="ms"):
    values = sorted(values)
    return (f"min {values[0]:.0f} / median {statistics.median(values):.0f} / "
            f"p90 {values[max(0, -(-9 * len(values) // 10) - 1)]:.0f} / max {values[-1]:.0f} {unit} (n={len(values)})")


def first_page(browser, base, runs):
    sizes, times, bare = None, [], []
    for _ in range(runs):
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.add_init_script("""new MutationObserver((_, obs) => {
            if (document.querySelector('[data-testid=qr] img')) { window.__qrAt = performance.now(); obs.disconnect() }
        }).observe(document, {childList: true, subtree: true})""")
        loaded = []
        page.on("response", lambda r: loaded.append(r) if r.request.resource_type in ("script", "stylesheet") else None)
        page.goto(f"{base}/console/login")
        page.locator("[data-testid=qr] img").wait_for()
        times.append(page.evaluate("window.__qrAt"))
        if sizes is None:
            bodies = [r.body() for r in loaded]
            sizes = (len(bodies), sum(len(b) for b in bodies), sum(len(gzip.compress(b, 6)) for b in bodies))
        context.close()
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{base}/api/v1/health")
        bare.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd"))
        context.close()
    return sizes, times, bare


def whole_build():
    files = [p for p in (DIST / "assets").iterdir() if p.suffix in (".js", ".css")]
    return len(files), sum(p.stat().st_size for p in files), sum(len(gzip.compress(p.read_bytes(), 6)) for p in files)


PAGE_TURN = """async () => {
    const body = document.querySelector('[data-testid=ticket-inbox] .el-table__body tbody');
    const first = body.querySelector('tr td').innerText;
    const t0 = performance.now();
    const changed = new Promise((resolve) => new MutationObserver((_, obs) => {
        const cell = body.querySelector('tr td');
        if (cell && cell.innerText !== first) { obs.disconnect(); resolve(performance.now()) }
    }).observe(body, {childList: true, subtree: true, characterData: true}));
    document.querySelector('.pager .btn-next').click();
    const t1 = await changed;
    await new Promise((r) => requestAnimationFrame(() => r()));  // painted
    return performance.now() - t0;
}"""

API_PAGE = """async (n) => {
    const t0 = performance.now();
    const resp = await fetch(`/api/v1/communities/${location.pathname.split('/')[3]}/tickets?page=${n}&sort=due`,
        {headers: {Authorization: 'Bearer ' + localStorage.getItem('linli-console-token')}});
    const body = await resp.json();
    if (!body.items.length) throw new Error('empty page');
    return performance.now() - t0;
}"""


def inbox(browser, base, pages):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 860})
    page = context.new_page()
    sign_in(page, base, "dev-clerk")
    page.wait_for_url("**/tickets")
    page.locator("[data-testid=ticket-inbox] .el-table__row").first.wait_for()
    total = page.locator(".pager .el-pagination__total").inner_text()
    turns, api = [], []
    for n in range(pages):
        turns.append(page.evaluate(PAGE_TURN))
        api.append(page.evaluate(API_PAGE, n + 2))
    context.close()
    return total, turns, api


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pages", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    print(f"database: {'PostgreSQL' if url and url.startswith('postgresql') else 'SQLite'}")
    with tempfile.TemporaryDirectory() as folder, demo_site(folder, seed=seed_tickets, database_url=url) as site, \
            sync_playwright() as pw:
        browser = launch_chromium(pw)
        (count, raw, packed), times, bare = first_page(browser, site["base"], args.runs)
        all_count, all_raw, all_packed = whole_build()
        print(f"first page JS+CSS: {count} files, {raw / 1024:.0f} KB, gzipped {packed / 1024:.0f} KB (target ≤ 400 KB); "
              f"whole build: {all_count} files, {all_raw / 1024:.0f} KB, gzipped {all_packed / 1024:.0f} KB")
        print(f"first page interactive (QR shown, cold): {spread(times)} (target < 1500 ms)")
        print(f"  baseline, bare navigation to /api/v1/health: {spread(bare)}")
        total, turns, api = inbox(browser, site["base"], args.pages)
        print(f"ticket inbox of {TICKETS:,} tickets ({total.strip()}), sorted by due time, page turn to rows on screen: "
              f"{spread(turns)} (target < 300 ms)")
        print(f"  baseline, the API's answer for the same pages (fetch): {spread(api)}")
        browser.close()


if __name__ == "__main__":
    main()
