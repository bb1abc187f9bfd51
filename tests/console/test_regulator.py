"""The street office / housing bureau in the console: the compound's statistics as charts with data,
the escalated tickets, and the CSV export."""
from datetime import datetime, timedelta, timezone

import requests

from tests.console.support import flask, miniprogram_login, sign_in
from tests.console.test_committee import community_id, table_rows


def test_regulator_reads_the_charts_escalated_tickets_and_exports_csv(page, base, console_site):
    cid = community_id(base)
    owner = miniprogram_login(base, "dev-owner")
    for text in ("楼上装修噪音到晚上十点", "夜里广场舞音响太吵"):  # two noise complaints this week: a hot spot
        assert requests.post(f"{base}/api/v1/communities/{cid}/tickets", headers=owner, timeout=10, json={
            "category": "complaint", "subject": "noise", "description": text, "location": "3 号楼"}).status_code == 201
    # a week later nothing was accepted: the escalation job marks them for the regulator
    later = (datetime.now(timezone.utc) + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%SZ")
    flask(console_site["env"], "tickets-escalate", "--now", later)
    sign_in(page, base, "dev-regulator")
    page.wait_for_url(f"**/c/{cid}/stats")
    for chart in ("chart-rates", "chart-response", "chart-status", "chart-heat"):
        page.locator(f"[data-testid={chart}][data-rendered=true] canvas").first.wait_for()
    cards = page.inner_text("[data-testid=stat-cards]")
    assert "工单总数" in cards and "解决率（投诉）" in cards and "首次响应 p50 / p90" in cards
    total = int(cards.split("工单总数")[1].split()[0])
    assert total >= 5
    # the heat map holds the week's noise complaints
    assert page.get_attribute("[data-testid=chart-heat]", "aria-label") == "每周投诉热点热力图"
    assert page.get_by_text("期间内没有同一事项一周两次以上的投诉").count() == 0
    # escalated tickets only
    page.get_by_role("menuitem", name="工单").click()
    page.get_by_role("heading", name="升级工单").wait_for()
    inbox = page.locator("[data-testid=ticket-inbox]")
    inbox.locator(".el-table__row").first.wait_for()
    rows = table_rows(inbox)
    assert any("夜里广场舞音响太吵" in r[3] for r in rows)
    staff = miniprogram_login(base, "dev-clerk")
    every = requests.get(f"{base}/api/v1/communities/{cid}/tickets", headers=staff, params={"per_page": 100},
                         timeout=10).json()["items"]
    escalated = {f"#{t['id']}" for t in every if t["escalated_at"]}
    assert {r[0] for r in rows} == escalated and len(escalated) < len(every)
    with page.expect_download() as info:
        page.get_by_role("button", name="导出统计 CSV").click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf") and "metric" in data.decode("utf-8-sig").splitlines()[0]
