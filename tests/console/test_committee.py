"""The committee's work in the console: registry import (errors with row numbers, fixed, previewed,
confirmed), binding review with the certificate photo, and a vote from draft to verified bundle."""
import csv
import io
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import requests
from PIL import Image

from backend.services.demo import demo_registry_rows
from tests.console.support import REPO, miniprogram_login, sign_in


def png_bytes(colour=(40, 120, 200), size=(640, 480)):
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def community_id(base):
    admin = miniprogram_login(base, "dev-admin")
    items = requests.get(f"{base}/api/v1/communities", headers=admin, params={"per_page": 100}, timeout=10).json()["items"]
    return next(c["id"] for c in items if c["name"] == "阳光花园")


def table_rows(scope):
    """The cells' texts of an Element Plus table's body rows."""
    return [[cell.inner_text().strip() for cell in row.locator("td").all()]
            for row in scope.locator(".el-table__body tr").all()]


def registry_sheet(transform):
    rows = list(csv.reader(io.StringIO(demo_registry_rows().decode("utf-8"))))
    return rows[0], transform(rows[1:])


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_registry_import_errors_fixed_previewed_confirmed_and_exported(page, base, tmp_path):
    cid = community_id(base)
    sign_in(page, base, "dev-committee", f"/console/c/{cid}/registry")
    victim = None

    def broken(rows):
        nonlocal victim
        rows = [list(r) for r in rows]
        rows[4][3] = "-12"          # spreadsheet row 6: area
        rows[9][5] = "1380000"      # spreadsheet row 11: phone
        return rows

    header, rows = registry_sheet(broken)
    page.set_input_files("[data-testid=registry-file]", str(write_csv(tmp_path / "名册.csv", header, rows)))
    page.click("[data-testid=preview]")
    errors = page.locator("[data-testid=row-errors]")
    errors.wait_for()
    text = errors.inner_text()
    assert "2 处错误，未导入任何数据" in text
    assert table_rows(errors) == [["6", "面积", "面积须为正数，最多两位小数"], ["11", "手机号", "手机号格式不正确"]]

    def fixed(rows):
        nonlocal victim
        rows = [list(r) for r in rows]
        for row in rows:                                        # an area changed (every owner's row)
            if row[:3] == rows[0][:3]:
                row[3] = "101.01"
        victim = rows[-2][:3]
        rows = [r for r in rows if r[:3] != victim]             # a part removed
        rows.append(["9", "1", "101", "66.60", "新业主", "13912345678", "", "person"])  # a part added
        return rows

    header, rows = registry_sheet(fixed)
    page.set_input_files("[data-testid=registry-file]", str(write_csv(tmp_path / "名册-改.csv", header, rows)))
    page.click("[data-testid=preview]")
    preview = page.locator("[data-testid=import-preview]")
    preview.wait_for()
    assert "新增 1，变更 1，移除 1" in preview.inner_text()
    assert "9-1-101" in preview.inner_text()
    # nothing is written by the preview
    admin = miniprogram_login(base, "dev-admin")
    building_9 = lambda: requests.get(f"{base}/api/v1/communities/{cid}/parts", headers=admin,  # noqa: E731
                                      params={"building": "9"}, timeout=10).json()["total"]
    assert building_9() == 0
    page.click("[data-testid=confirm-import]")
    page.get_by_role("dialog").get_by_text("新增 1 户、变更 1 户、移除 1 户").wait_for()
    page.get_by_role("button", name="导入", exact=True).click()
    page.get_by_text("已导入：新增 1，变更 1，移除 1").wait_for()
    assert building_9() == 1
    # the masked export
    with page.expect_download() as info:
        page.click("[data-testid=export]")
    data = open(info.value.path(), "rb").read()
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    values = [[c if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]
    assert values[0][:5] == ["楼栋", "单元", "房号", "面积", "业主姓名"]
    new = next(r for r in values if r[:3] == ["9", "1", "101"])
    assert new[5] == "139****5678" and "-".join(victim) not in {"-".join(map(str, r[:3])) for r in values}


def test_binding_review_with_the_certificate_photo(page, base):
    cid = community_id(base)
    claimant = miniprogram_login(base, "claimant-1")
    photo = requests.post(f"{base}/api/v1/media", headers=claimant, timeout=10,
                          files={"file": ("房产证.png", png_bytes((180, 40, 40)), "image/png")}).json()["id"]
    admin = miniprogram_login(base, "dev-admin")
    part = requests.get(f"{base}/api/v1/communities/{cid}/parts", headers=admin, params={"building": "2"},
                        timeout=10).json()["items"][3]
    owner_name = part["owners"][0]["name"]
    claim = requests.post(f"{base}/api/v1/communities/{cid}/bindings", headers=claimant, timeout=10, json={
        "building": part["building"], "unit": part["unit"], "room": part["room"], "name": owner_name,
        "certificate_media_id": photo}).json()
    assert claim["status"] == "pending", claim
    sign_in(page, base, "dev-committee", f"/console/c/{cid}/bindings")
    row = page.locator("[data-testid=bindings] .el-table__row", has_text=part["label"])
    row.wait_for()
    # the certificate photo is shown (fetched with the console's token)
    row.locator(f"img[alt='{part['label']} 房产证照片']").wait_for()
    row.get_by_role("button", name="通过").click()
    page.click("[data-testid=approve-confirm]")
    page.get_by_text("已通过认证").wait_for()
    mine = requests.get(f"{base}/api/v1/me", headers=claimant, timeout=10).json()["bindings"]
    assert [b["status"] for b in mine] == ["verified"]


def beijing(moment):
    return (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")


def fill_picker(page, label, value):
    field = page.get_by_label(label, exact=True)
    field.click()
    field.fill(value)
    field.press("Enter")
    page.get_by_role("dialog").get_by_text("起草表决").click()  # closes the picker's panel, not the dialog


def test_vote_draft_open_paper_ballot_close_tally_and_verified_bundle(page, base, browser, tmp_path):
    cid = community_id(base)
    sign_in(page, base, "dev-committee", f"/console/c/{cid}/votes")
    page.click("[data-testid=new-vote]")
    form = page.locator("[data-testid=vote-form]")
    # a 422 is shown beside its field
    page.click("[data-testid=save-draft]")
    form.get_by_text("不能为空").first.wait_for()
    form.get_by_label("标题", exact=True).fill("更换 1 号楼电梯")
    form.get_by_label("说明", exact=True).fill("使用维修资金更换 1 号楼两部电梯")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    closes = now + timedelta(seconds=55)
    fill_picker(page, "开始时间", beijing(now - timedelta(minutes=1)))
    fill_picker(page, "截止时间", beijing(closes))
    page.click("[data-testid=save-draft]")
    page.wait_for_url("**/votes/*")
    vid = page.url.rstrip("/").split("/")[-1]
    assert page.inner_text("[data-testid=vote-state]") == "草稿"
    page.click("[data-testid=open-vote]")
    roll = page.locator("[data-testid=open-roll]")
    roll.get_by_text(" 个").wait_for()
    assert "表决权" in roll.inner_text() and "业主人数" in roll.inner_text()
    page.click("[data-testid=open-confirm]")
    page.get_by_text("表决已开启").wait_for()
    page.locator("[data-testid=turnout] canvas").first.wait_for()
    # a paper ballot with the photo of the signed sheet
    page.get_by_label("按房屋查找表决权").fill("1-1-101")
    page.get_by_label("按房屋查找表决权").press("Enter")
    page.locator("[data-testid=roll] .el-table__row", has_text="1-1-101").get_by_role("button", name="录入纸质票").click()
    dialog = page.get_by_role("dialog", name="录入纸质选票")
    dialog.get_by_text("反对").click()
    photo = tmp_path / "signed.png"
    photo.write_bytes(png_bytes((250, 250, 240)))
    dialog.locator("[data-testid=media-input]").set_input_files(str(photo))
    dialog.get_by_text("已上传").wait_for()
    page.click("[data-testid=paper-submit]")
    page.get_by_text("已录入，记录序号").wait_for()
    page.locator("[data-testid=turnout]").get_by_text("纸质票 1 张").wait_for()
    # closing early is refused by the API, with its message
    page.click("[data-testid=close-vote]")
    page.get_by_role("button", name="截止", exact=True).click()
    page.locator(".el-message--error").first.wait_for()
    time.sleep(max(0.0, (closes - datetime.now(timezone.utc)).total_seconds() + 1.5))
    page.click("[data-testid=close-vote]")
    page.get_by_role("button", name="截止", exact=True).click()
    tally = page.locator("[data-testid=tally]")
    tally.wait_for(timeout=20000)
    assert "未达到参与门槛" in tally.inner_text()  # one paper ballot out of ~200 rights
    assert "更换 1 号楼电梯" in page.inner_text("[data-testid=result-notice]")
    assert f"python -m voting.verify vote-{vid}-bundle.json" in page.inner_text("[data-testid=verify-command]")
    # the bundle is for owners and regulators: the street office downloads it from its vote audit
    context = browser.new_context(accept_downloads=True, locale="zh-CN")
    regulator = context.new_page()
    sign_in(regulator, base, "dev-regulator", f"/console/c/{cid}/votes/{vid}")
    regulator.locator("[data-testid=tally]").wait_for()
    with regulator.expect_download() as info:
        regulator.click("[data-testid=download-bundle]")
    bundle = tmp_path / info.value.suggested_filename
    info.value.save_as(bundle)
    context.close()
    proc = subprocess.run([sys.executable, "-m", "voting.verify", str(bundle)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_election_and_fund_drafts_with_candidates_statements_scope_and_quotes(page, base, tmp_path):
    import pikepdf

    cid = community_id(base)
    sign_in(page, base, "dev-committee", f"/console/c/{cid}/votes")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    # an election of two seats in building 1, with statements
    page.click("[data-testid=new-vote]")
    form = page.locator("[data-testid=vote-form]")
    form.get_by_label("标题", exact=True).fill("第三届业委会委员选举（1 号楼）")
    form.get_by_label("类型").get_by_text("选举").click()
    fill_picker(page, "开始时间", beijing(now + timedelta(days=1)))
    fill_picker(page, "截止时间", beijing(now + timedelta(days=8)))
    form.locator(".el-select", has=page.get_by_label("范围楼栋")).click()
    page.get_by_role("option", name="1 号楼", exact=True).click()
    page.get_by_role("dialog").get_by_text("起草表决").click()
    form.get_by_label("应选人数").fill("2")
    form.get_by_label("候选人 1 姓名").fill("王建国")
    form.get_by_label("候选人 1 陈述").fill("退休工程师，愿意监督维修资金使用")
    form.get_by_role("button", name="添加候选人").click()
    form.get_by_label("候选人 2 姓名").fill("李秀英")
    form.get_by_label("候选人 2 陈述").fill("社区志愿者，关注老年人出行")
    page.click("[data-testid=save-draft]")
    page.wait_for_url("**/votes/*")
    page.get_by_text("退休工程师，愿意监督维修资金使用").wait_for()
    page.get_by_text("范围：1 号楼").wait_for()
    assert page.get_by_text("李秀英").count() == 1 and "选举" in page.inner_text("section")
    # a maintenance-fund resolution with a contractor's quote (PDF)
    quote = tmp_path / "报价单.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(quote)
    page.goto(f"{base}/console/c/{cid}/votes")
    page.click("[data-testid=new-vote]")
    form.get_by_label("标题", exact=True).fill("使用维修资金更换屋面防水")
    form.get_by_label("类型").get_by_text("维修资金使用").click()
    fill_picker(page, "开始时间", beijing(now + timedelta(days=1)))
    fill_picker(page, "截止时间", beijing(now + timedelta(days=8)))
    form.get_by_label("金额（元）").fill("12.3.4")
    page.click("[data-testid=save-draft]")
    form.get_by_text("请填写金额（元，最多两位小数）").wait_for()
    form.get_by_label("金额（元）").fill("158,000.50")
    form.get_by_label("用途", exact=True).fill("1-3 号楼屋面防水层整体翻新")
    form.locator("[data-testid=media-input]").set_input_files(str(quote))
    form.get_by_text("已上传").wait_for()
    page.click("[data-testid=save-draft]")
    page.wait_for_url("**/votes/*")
    page.get_by_text("¥158,000.50").wait_for()
    assert page.get_by_role("button", name="附件 #").count() == 1
