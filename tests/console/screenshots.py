"""Screenshots of the console's main pages for the README: `.venv/bin/python -m tests.console.screenshots`
(writes docs/screenshots/*.png). Runs its own server on the demo data (tests/console/support.py)."""
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from tests.console.support import REPO, demo_site, flask, launch_chromium, miniprogram_login, sign_in

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
    # the district (seeded by `district` below) and the witnesses
    ("street.png", "dev-street", "d/street", "[data-testid=chart-compounds] canvas"),
    ("hotline.png", "dev-street", "d/hotline", "[data-testid=rollup-communities] .el-table__row"),
    ("inspections.png", "dev-street", "c/{cid}/inspections", "[data-testid=measures] .el-table__row"),
    ("routine.png", "dev-street", "d/routine", "[data-testid=chart-progress] canvas"),
    ("organisations.png", "dev-admin", "d/organisations", "[data-testid=organisations] .el-table__row"),
    ("disputes.png", "dev-committee", "c/{cid}/disputes", "[data-testid=disputes] .el-table__row"),
    ("witnesses.png", "dev-committee", "c/{cid}/witnesses", "[data-testid=witnesses] .el-table__row"),
    ("public.png", None, "public/{oid}", "[data-testid=public-score]"),
]


def district(base, env, cid):
    """A street with the demo compound, its regulator, last week's hotline complaints and the roll-up, an
    inspection with a measure, the serving company's frozen score, a dispute, a witness."""
    from stdnum.cn import uscc

    def call(who, method, path, **kw):
        resp = requests.request(method, f"{base}/api/v1{path}", headers=who, timeout=20, **kw)
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else None

    admin, committee = miniprogram_login(base, "dev-admin"), miniprogram_login(base, "dev-committee")
    regulator = miniprogram_login(base, "dev-street")
    sid = call(admin, "POST", "/streets", json={"name": "青山街道"})["id"]
    call(admin, "PUT", f"/communities/{cid}/street", json={"street_id": sid})
    call(admin, "POST", "/regulator-scopes", json={"openid": "dev-street", "street_id": sid})
    code = "91330100MA2H00011"
    oid = call(admin, "POST", "/organisations", json={"kind": "property_company", "name": "青山物业服务有限公司",
                                                      "uscc": code + uscc.calc_check_digit(code)})["id"]
    call(admin, "POST", f"/communities/{cid}/service-contracts",
         json={"organisation_id": oid, "service": "property", "starts_on": "2026-01-01"})
    china = datetime.now(timezone.utc) + timedelta(hours=8)
    monday = (china - timedelta(days=china.weekday() + 7)).strftime("%Y-%m-%d")
    rows = [("H-1", "09:30", "阳光花园3号楼", "电梯困人"), ("H-2", "20:15", "阳光花园1栋", "夜间施工噪音"),
            ("H-3", "11:00", "阳光花园", "楼道堆放杂物")]
    text = "工单编号,受理时间,事发地址,诉求内容,诉求类型,渠道\n" + "".join(
        f"{n},{monday} {t},{a},{c},投诉,12345\n" for n, t, a, c in rows)
    requests.post(f"{base}/api/v1/hotline-imports", headers=regulator, timeout=20,
                  files={"file": ("热线.csv", text.encode("gb18030"), "text/csv")}).raise_for_status()
    flask(env, "weekly-rollup")
    call(regulator, "POST", f"/communities/{cid}/inspections", json={
        "kind": "inspection", "inspected_on": china.strftime("%Y-%m-%d"), "findings": "3 号楼消防通道被电动车占用",
        "items": [{"code": "fire_lane", "title": "消防通道畅通", "passed": False, "points": 5},
                  {"code": "sanitation", "title": "公共区域环境卫生", "passed": True, "points": 3}],
        "measures": [{"level": "rectification_notice", "description": "三日内清理消防通道并设置禁停标识",
                      "due_on": (china + timedelta(days=15)).strftime("%Y-%m-%d")}]})
    flask(env, "integrity-assess")
    call(committee, "POST", f"/communities/{cid}/disputes", json={
        "title": "地下车库漏水损坏车辆", "description": "业主与物业就车库漏水造成的车辆损失赔偿协商未果"})
    call(committee, "POST", f"/communities/{cid}/witnesses", json={
        "kind": "committee_member", "name": "王建国（业委会委员）", "public_key": "ClEiOkPjvSwzPqiYhpjr-ZUimCxguHWl9Z10oVbvPvc"})
    return {"oid": oid}


def main(out=OUT, only=None):
    """All screenshots, or `only` those named (regenerating the new pages leaves the others as they are)."""
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
        ids.update(district(base, site["env"], cid))
        browser = launch_chromium(pw)
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 860})
        page = context.new_page()
        if not only or "login.png" in only:
            page.goto(f"{base}/console/login")
            page.locator("[data-testid=qr] img").wait_for()
            page.screenshot(path=str(out / "login.png"))
        for name, openid, path, ready in SHOTS:
            if only and name not in only:
                continue
            ctx = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 860})
            page = ctx.new_page()
            if openid:
                sign_in(page, base, openid, "/console/" + path.format(**ids))
            else:
                page.goto(f"{base}/console/" + path.format(**ids))
            page.locator(ready).first.wait_for()
            if name == "fee-standards.png":
                page.get_by_role("tab", name="收费标准").click()
                page.locator("[data-testid=price-table]").wait_for()
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(800)  # chart animations
            page.screenshot(path=str(out / name))
            ctx.close()
        browser.close()
    print("\n".join(sorted(str(p) for p in out.glob("*.png"))))


if __name__ == "__main__":
    # python -m tests.console.screenshots [folder] [--only a.png,b.png]
    args = sys.argv[1:]
    chosen = None
    if "--only" in args:
        at = args.index("--only")
        chosen = set(args[at + 1].split(","))
        del args[at:at + 2]
    main(Path(args[0]) if args else OUT, chosen)
