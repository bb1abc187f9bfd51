"""Property staff in the console: a ticket from the inbox to resolved with a photo reply; the fee
standards published as the price table by building type, and the difference from the last version."""
import requests

from tests.console.support import miniprogram_login, sign_in
from tests.console.test_committee import community_id, png_bytes, table_rows


def test_a_clerk_handles_a_ticket_from_inbox_to_resolved_with_a_photo_reply(page, base, tmp_path):
    cid = community_id(base)
    owner = miniprogram_login(base, "dev-owner")
    filed = requests.post(f"{base}/api/v1/communities/{cid}/tickets", headers=owner, timeout=10, json={
        "category": "repair", "subject": "fire_lane", "description": "5 号楼消防通道的门锁坏了", "location": "5 号楼北门"})
    assert filed.status_code == 201, filed.text
    tid = filed.json()["id"]
    sign_in(page, base, "dev-clerk", f"/console/c/{cid}/tickets")
    inbox = page.locator("[data-testid=ticket-inbox]")
    inbox.get_by_text(f"#{tid}").wait_for()
    # sorted by due time: the open tickets first, the soonest due on top (fire lanes: 24 hours)
    rows = table_rows(inbox)
    open_rows = [r for r in rows if r[5] in ("已提交", "已受理", "处理中", "已重新打开")]
    assert rows[:len(open_rows)] == open_rows and len(open_rows) >= 3
    dues = [r[6].replace(" 超时", "") for r in open_rows]
    assert dues == sorted(dues) and f"#{tid}" in [r[0] for r in open_rows[:2]]
    submitted_tab = page.get_by_role("tab", name="已提交")
    before = int(submitted_tab.inner_text().split()[-1])
    inbox.get_by_text(f"#{tid}").click()
    page.wait_for_url(f"**/tickets/{tid}")
    page.click("[data-testid=accept]")
    page.locator("[data-testid=ticket-status]", has_text="已受理").wait_for()
    page.click("[data-testid=start]")
    page.locator("[data-testid=ticket-status]", has_text="处理中").wait_for()
    page.get_by_label("回复内容").fill("维修师傅已到场，正在更换门锁")
    photo = tmp_path / "lock.png"
    photo.write_bytes(png_bytes((90, 90, 90)))
    page.locator("[data-testid=media-input]").first.set_input_files(str(photo))
    page.get_by_text("已上传").wait_for()
    page.click("[data-testid=send-reply]")
    timeline = page.locator("[data-testid=timeline]")
    timeline.get_by_text("物业回复：维修师傅已到场，正在更换门锁").wait_for()
    timeline.locator("img[alt='回复照片']").wait_for()
    page.click("[data-testid=resolve]")
    dialog = page.get_by_role("dialog", name="办结工单")
    dialog.get_by_label("处理结果").fill("已更换门锁，通道畅通")
    page.click("[data-testid=resolve-confirm]")
    page.locator("[data-testid=ticket-status]", has_text="已解决").wait_for()
    timeline.get_by_text("物业：处理中 → 已解决：已更换门锁，通道畅通").wait_for()
    # the resident sees the reply with its photo
    ticket = requests.get(f"{base}/api/v1/tickets/{tid}", headers=owner, timeout=10).json()
    assert ticket["status"] == "resolved"
    assert [len(r["photos"]) for r in ticket["replies"] if r["body"].startswith("维修师傅")] == [1]
    page.goto(f"{base}/console/c/{cid}/tickets")
    inbox.get_by_text(f"#{tid}").wait_for()  # the page and its counts arrive together
    after = int(page.get_by_role("tab", name="已解决").inner_text().split()[-1])
    assert after >= 1 and int(page.get_by_role("tab", name="已提交").inner_text().split()[-1]) == before - 1


def test_fee_standards_published_as_a_price_table_and_the_diff_read(page, base):
    cid = community_id(base)
    sign_in(page, base, "dev-clerk", f"/console/c/{cid}/disclosures")
    page.get_by_role("tab", name="收费标准").click()
    table = page.locator("[data-testid=price-table]")
    table.wait_for()
    price = page.get_by_label("物业服务费 高层 价格（元）")
    assert price.input_value() == "2.35"
    current = page.inner_text("[data-testid=current-version]")
    # a price that is not an amount is refused beside its cell
    price.fill("2.355")
    page.click("[data-testid=publish]")
    table.get_by_text("须为金额（元），最多两位小数").wait_for()
    assert page.get_by_role("button", name="发布", exact=True).count() == 0  # nothing sent
    price.fill("2.48")
    page.get_by_label("物业服务费 别墅 价格（元）").fill("3.80")
    page.get_by_label("更正说明").fill("2026 年起高层物业费调整")
    page.click("[data-testid=publish]")
    page.get_by_role("button", name="发布", exact=True).click()
    page.get_by_text("已发布新版本").wait_for()  # shown once the new version and its history are loaded
    assert page.inner_text("[data-testid=current-version]") != current
    page.locator("[data-testid=versions] .el-table__row").nth(1).wait_for()
    page.click("[data-testid=show-diff]")
    diff = page.locator("[data-testid=diff]")
    diff.wait_for()
    rows = table_rows(diff)
    assert ["修改", "/prices/0/price_fen", "235", "248"] in rows
    assert any(r[0] == "新增" and "villa" in r[3] and "380" in r[3] for r in rows), rows


def test_utility_apportionment_shares_are_previewed_before_publishing(page, base):
    cid = community_id(base)
    sign_in(page, base, "dev-clerk", f"/console/c/{cid}/disclosures")
    page.get_by_role("tab", name="公共水电费分摊").click()
    page.get_by_label("总额（元）").fill("1234.56")
    page.get_by_label("分摊方式").get_by_text("按面积").click()
    page.click("[data-testid=preview-shares]")
    shares = page.locator("[data-testid=shares]")
    shares.wait_for()
    summary = page.get_by_text("户，合计 ¥1,234.56")
    summary.wait_for()
    households = int(summary.inner_text().split("户")[0].strip())
    admin = miniprogram_login(base, "dev-admin")
    parts = requests.get(f"{base}/api/v1/communities/{cid}/parts", headers=admin, timeout=10).json()["total"]
    assert households == parts
    assert len(table_rows(shares)) == 20  # paged
