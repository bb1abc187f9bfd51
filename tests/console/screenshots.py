"""Screenshots of the console's main pages for the README: `.venv/bin/python -m tests.console.screenshots`
(writes docs/screenshots/*.png). Runs its own server on the demo data (tests/console/support.py)."""
import sys
import tempfile
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from tests.console.support import REPO, demo_site, launch_chromium, miniprogram_login, sign_in

OUT = REPO / "docs" / "screenshots"
# (file, openid, path under /console/ with {cid}/{vote}/{ticket}, what to wait for)
SHOTS = [
    ("registry.png", "dev-committee", "c/{cid}/registry", ".el-table__row"),
    ("vote-turnout.png", "dev-committee", "c/{cid}/votes/{open_vote}", "[data-testid=turnout] canvas"),
    ("vote-tally.png", "dev-regulator", "c/{cid}/votes/{closed_vote}", "[data-testid=tally]"),
    ("ticket-inbox.png", "dev-clerk", "c/{cid}/tickets", "[data-testid=ticket-inbox] .el-table__row"),
    ("ticket-detail.png", "dev-clerk", "c/{cid}/tickets/{ticket}", "[data-testid=timeline]"),
    ("fee-standards.png", "dev-clerk", "c/{cid}/disclosures", "[data-testid=disclosure-form]"),
    ("stats.png", "dev-regulator", "c/{cid}/stats", "[data-testid=chart-status] canvas"),
    ("members.png", "dev-admin", "c/{cid}/members", "[data-testid=members] .el-table__row"),
]


def main(out=OUT):
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, demo_site(folder) as site, sync_playwright() as pw:
        base = site["base"]
        admin = miniprogram_login(base, "dev-admin")
        cid = requests.get(f"{base}/api/v1/communities", headers=admin, timeout=10).json()["items"][0]["id"]
        votes = requests.get(f"{base}/api/v1/communities/{cid}/votes", headers=admin, timeout=10).json()["items"]
        tickets = requests.get(f"{base}/api/v1/communities/{cid}/tickets", headers=admin, timeout=10).json()["items"]
        ids = {"cid": cid, "open_vote": next(v["id"] for v in votes if v["state"] == "open"),
               "closed_vote": next(v["id"] for v in votes if v["state"] == "tallied"),
               "ticket": next(t["id"] for t in tickets if t["status"] == "resolved")}
        browser = launch_chromium(pw)
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 860})
        page = context.new_page()
        page.goto(f"{base}/console/login")
        page.locator("[data-testid=qr] img").wait_for()
        page.screenshot(path=str(out / "login.png"))
        for name, openid, path, ready in SHOTS:
            ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 860})
            page = ctx.new_page()
            sign_in(page, base, openid, "/console/" + path.format(**ids))
            page.locator(ready).first.wait_for()
            if name == "fee-standards.png":
                page.get_by_role("tab", name="收费标准").click()
                page.locator("[data-testid=price-table]").wait_for()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(800)  # chart animations
            page.screenshot(path=str(out / name))
            ctx.close()
        browser.close()
    print("\n".join(sorted(str(p.relative_to(REPO)) for p in out.glob("*.png"))))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
