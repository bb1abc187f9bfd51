"""An accessibility scan of each main page of the console: axe-core (from npm, console/node_modules)
injected by Playwright; no serious or critical violations."""
import json

import pytest
import requests

from tests.console.support import CONSOLE, miniprogram_login, sign_in
from tests.console.test_committee import community_id

AXE = CONSOLE / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["registry", "bindings", "votes", "votes/{vote}", "notices", "revenue", "emergency", "tickets",
         "tickets/{ticket}", "disclosures", "stats", "members", "inspections", "disputes", "contracts", "witnesses"]
DISTRICT = ["street", "hotline", "routine", "organisations", "open-disputes", "setup"]


def scan(page):
    """axe-core's serious and critical violations on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def settle(page):
    page.wait_for_load_state("networkidle")
    page.locator(".el-loading-mask").first.wait_for(state="hidden")
    page.wait_for_timeout(300)  # transitions of Element Plus


def test_the_sign_in_page(page, base):
    assert AXE.is_file(), "axe-core is missing: npm ci --prefix console"
    page.goto(f"{base}/console/login")
    page.locator("[data-testid=qr] img").wait_for()
    problems = scan(page)
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)


def test_every_main_page(page, base):
    cid = community_id(base)
    admin = miniprogram_login(base, "dev-admin")
    vote = requests.get(f"{base}/api/v1/communities/{cid}/votes", headers=admin, timeout=10).json()["items"][-1]["id"]
    ticket = requests.get(f"{base}/api/v1/communities/{cid}/tickets", headers=admin, timeout=10).json()["items"][-1]["id"]
    sign_in(page, base, "dev-admin")
    found = {}
    for path in PAGES + ["communities"] + [f"d/{p}" for p in DISTRICT]:
        url = f"{base}/console/communities" if path == "communities" else f"{base}/console/{path}" if path.startswith("d/") else \
            f"{base}/console/c/{cid}/" + path.format(vote=vote, ticket=ticket)
        page.goto(url)
        page.locator("h1, .el-page-header").first.wait_for()
        settle(page)
        problems = scan(page)
        if problems:
            found[path] = problems
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_public_integrity_page(page, base):
    page.goto(f"{base}/console/public")
    page.get_by_role("heading", name="物业企业诚信信息公开").wait_for()
    settle(page)
    problems = scan(page)
    assert problems == [], json.dumps(problems, ensure_ascii=False, indent=1)
