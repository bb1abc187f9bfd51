"""The district in the console: the admin's streets, scopes and Open311 keys; a street regulator's hotline
import (an error row, fixed), the weekly roll-up's focus compound, an inspection with a measure that the
clerk answers and the regulator accepts, the 4-2-1 progress; organisations with the server's USCC check;
the public integrity page without login; a dispute taken up a level."""
import re
import pytest
import requests
from stdnum.cn import uscc

from tests.console.support import flask, miniprogram_login, sign_in
from tests.console.test_committee import png_bytes, table_rows

STREET = "青山街道"
COMPOUND = "青山花园"  # a compound of its own: the demo compound's inboxes stay as the other tests expect
REGULATOR = "dev-street"
CLERK = "dev-qs-clerk"
COMMITTEE = "dev-qs-committee"
COMPANY = "青山物业服务有限公司"


def valid_uscc(base17):
    return base17 + uscc.calc_check_digit(base17)


def api(base, who, method, path, **kw):
    resp = requests.request(method, f"{base}/api/v1{path}", headers=who, timeout=10, **kw)
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


@pytest.fixture(scope="module")
def district(console_site):
    """青山花园 in 青山街道 with its clerk and committee member, dev-street regulating that street, and the
    company serving it (made through the API, once)."""
    base = console_site["base"]
    admin = miniprogram_login(base, "dev-admin")
    listed = api(base, admin, "GET", "/communities", params={"per_page": 100})["items"]
    cid = next((c["id"] for c in listed if c["name"] == COMPOUND), None)
    if cid is None:
        cid = api(base, admin, "POST", "/communities", json={"name": COMPOUND, "district": "青山区",
                                                             "address": "青山区幸福路 88 号"})["id"]
        for openid, role in ((CLERK, "property_staff"), (COMMITTEE, "committee")):
            miniprogram_login(base, openid)
            api(base, admin, "POST", f"/communities/{cid}/members", json={"openid": openid, "role": role})
    street = next((s for s in api(base, admin, "GET", "/streets") if s["name"] == STREET), None)
    sid = street["id"] if street else api(base, admin, "POST", "/streets", json={"name": STREET})["id"]
    api(base, admin, "PUT", f"/communities/{cid}/street", json={"street_id": sid, "latitude": "31.230416",
                                                                 "longitude": "121.473701"})
    miniprogram_login(base, REGULATOR)  # the user exists once they used the mini-program
    if not any(s["street_id"] == sid for s in api(base, admin, "GET", "/regulator-scopes")):
        api(base, admin, "POST", "/regulator-scopes", json={"openid": REGULATOR, "street_id": sid})
    # the company serving 青山花园 since January (measures are addressed to it), with a project manager
    code = valid_uscc("91330100MA2H00011")
    found = api(base, admin, "GET", "/organisations", params={"q": code})["items"]
    oid = found[0]["id"] if found else api(base, admin, "POST", "/organisations", json={
        "kind": "property_company", "name": COMPANY, "uscc": code})["id"]
    if not found:
        api(base, admin, "POST", f"/organisations/{oid}/managers", json={"name": "陈建国", "phone": "13912345678"})
        api(base, admin, "POST", f"/communities/{cid}/service-contracts",
            json={"organisation_id": oid, "service": "property", "starts_on": "2026-01-01"})
    return {"cid": cid, "sid": sid, "admin": admin, "oid": oid, "uscc": code}


def switch_user(page, base, openid, path="/console/"):
    page.evaluate("localStorage.clear()")
    return sign_in(page, base, openid, path)


def flat(text):
    return re.sub(r"\s", "", text)


def confirm(page, name):
    page.locator(".el-message-box").get_by_role("button", name=name, exact=True).click()


def hotline_csv(path, rows):
    text = "工单编号,受理时间,事发地址,诉求内容,诉求类型,渠道\n" + "".join(",".join(r) + "\n" for r in rows)
    path.write_bytes(text.encode("gb18030"))  # the hotline's exports are GBK
    return str(path)


def test_admin_sets_up_a_street_a_scope_and_an_open311_key(page, base):
    sign_in(page, base, "dev-admin", "/console/d/setup")
    page.get_by_label("街道名称").fill("白云街道")
    page.click("[data-testid=create-street]")
    page.locator("[data-testid=streets] .el-table__row", has_text="白云街道").wait_for()
    miniprogram_login(base, "dev-street-2")
    form = page.locator("[data-testid=scope-form]")
    form.get_by_label("监管人员 openid").fill("dev-street-2")
    form.locator(".el-select").click()
    page.get_by_role("option", name="白云街道", exact=True).click()
    page.click("[data-testid=grant-scope]")
    confirm(page, "授权")
    page.locator("[data-testid=scopes] .el-table__row", has_text="白云街道").wait_for()
    # a key is shown once; the list keeps only its prefix
    page.get_by_label("接入方名称").fill("市民热线平台")
    page.get_by_role("button", name="签发密钥").click()
    shown = page.locator("[data-testid=issued-key]")
    shown.wait_for()
    key = shown.locator(".el-alert__description").inner_text().strip()
    row = page.locator("[data-testid=open311-clients] .el-table__row", has_text="市民热线平台")
    row.wait_for()
    prefix = next(r[1] for r in table_rows(page.locator("[data-testid=open311-clients]")) if r[0] == "市民热线平台")
    assert len(key) > 20 and key.startswith(prefix) and key not in row.inner_text()
    row.get_by_role("button", name="撤销").click()
    confirm(page, "撤销")
    row.get_by_text("已撤销").wait_for()


def test_street_regulator_imports_hotline_orders_and_inspects_the_focus_compound(page, base, console_site, district,
                                                                                 tmp_path):
    cid = district["cid"]
    sign_in(page, base, REGULATOR)
    page.wait_for_url("**/console/d/street")
    page.locator("[data-testid=street-cards]").wait_for()
    page.get_by_role("menuitem", name="12345 热线").click()
    # three complaints in week 40 (29 Sep – 5 Oct 2026), one with a time the hotline mistyped
    rows = [("Q40-001", "2026-09-29 09:30", "青山区幸福路青山花园3号楼", "电梯困人", "投诉", "12345"),
            ("Q40-002", "2026-09-30 25:10", "青山花园1栋", "夜间施工噪音", "投诉", "12345"),
            ("Q40-003", "2026/10/01 20:15", "青山花园", "楼道堆放杂物", "投诉", "12345热线")]
    page.set_input_files("[data-testid=hotline-file]", hotline_csv(tmp_path / "热线.csv", rows))
    page.click("[data-testid=hotline-import]")
    confirm(page, "导入")
    report = page.locator("[data-testid=hotline-report]")
    report.locator("[data-testid=hotline-refused]").wait_for()
    assert table_rows(page.locator("[data-testid=hotline-refused]")) == [["3", "Q40-002", "受理时间无法识别（应为 2026-11-17 09:30）"]]
    assert "已导入2" in flat(report.inner_text())
    rows[1] = ("Q40-002", "2026-09-30 21:10", "青山花园1栋", "夜间施工噪音", "投诉", "12345")
    page.set_input_files("[data-testid=hotline-file]", hotline_csv(tmp_path / "热线-改.csv", rows))
    page.click("[data-testid=hotline-import]")
    confirm(page, "导入")
    page.locator("[data-testid=hotline-refused]").wait_for(state="detached")
    assert "已导入1" in flat(report.inner_text()) and "已导入过（跳过）2" in flat(report.inner_text())
    # Monday's roll-up of week 40: 青山花园 had 3 complaints → a focus inspection
    flask(console_site["env"], "weekly-rollup", "--now", "2026-10-05T04:00:00Z")
    page.get_by_label("ISO 周（如 2026-W47）").fill("2026-W40")
    page.get_by_role("button", name="查看").click()
    focus_row = page.locator("[data-testid=rollup-communities] .el-table__row", has_text=COMPOUND)
    focus_row.get_by_text("待巡查").wait_for()
    assert table_rows(page.locator("[data-testid=rollup-communities]"))[0][1] == "3"
    # the hotline tickets of the compound, one ruled invalid (not the company's matter)
    tickets = page.locator("[data-testid=hotline-tickets]")
    tickets.locator(".el-table__row", has_text="Q40-003").wait_for()
    tickets.locator(".el-table__row", has_text="Q40-003").get_by_role("button", name="认定无效").click()
    page.locator(".el-message-box input").fill("业主个人堆放，非物业服务事项")
    confirm(page, "确定")
    tickets.locator(".el-table__row", has_text="Q40-003").get_by_text("已认定无效").wait_for()

    # the company resolves Q40-001; the regulator calls the citizen back and confirms it with the rating
    clerk = miniprogram_login(base, CLERK)
    hotline = api(base, clerk, "GET", f"/communities/{cid}/tickets", params={"channel": "12345", "per_page": 50})["items"]
    first = next(t for t in hotline if t["external_id"] == "Q40-001")
    for to, extra in (("accepted", {}), ("in_progress", {}), ("resolved", {"comment": "已解救并检修电梯"})):
        api(base, clerk, "POST", f"/tickets/{first['id']}/transitions", json={"to": to, **extra})
    tickets.locator(".el-table__row", has_text="Q40-001").get_by_role("link", name=f"#{first['id']}").click()
    page.wait_for_url(f"**/c/{cid}/tickets/{first['id']}")
    assert "12345 热线 · 工单编号 Q40-001" in page.inner_text("[data-testid=ticket-channel]")
    page.click("[data-testid=callback-confirm]")
    page.get_by_role("dialog", name="回访确认").locator(".el-rate__item").nth(3).click()
    page.get_by_label("回访记录").fill("市民表示电梯已恢复，满意")
    page.click("[data-testid=callback-submit]")
    page.locator("[data-testid=ticket-status]", has_text="已确认").wait_for()
    assert api(base, clerk, "GET", f"/tickets/{first['id']}")["rating"] == 4

    # the dashboard lists the focus inspection; recording it starts from there
    page.get_by_role("menuitem", name="街道概览").click()
    page.locator("[data-testid=chart-compounds][data-rendered=true] canvas").first.wait_for()
    page.locator("[data-testid=street-communities] .el-table__row", has_text=COMPOUND).wait_for()
    pending = page.locator("[data-testid=focus-pending] .el-table__row", has_text=COMPOUND)
    pending.get_by_role("button", name="记录巡查").click()
    page.wait_for_url(f"**/c/{cid}/inspections?focus=*")
    form = page.locator("[data-testid=inspection-form]")
    form.wait_for()
    form.locator("tr", has_text="消防通道畅通").locator(".el-switch").click()
    form.get_by_label("发现的问题").fill("3 号楼消防通道被电动车占用")
    form.locator("[data-testid=media-input]").set_input_files(
        {"name": "现场.png", "mimeType": "image/png", "buffer": png_bytes((200, 60, 60))})
    form.get_by_text("已上传").wait_for()
    form.locator("[data-testid=add-measure]").click()
    form.get_by_label("措施 1 整改要求").fill("三日内清理消防通道并设置禁停标识")
    log = []
    page.on("console", lambda m: log.append(("console", m.type, m.text)))
    page.on("response", lambda r: log.append(("resp", r.url, r.status, r.request.post_data)))
    page.on("pageerror", lambda e: log.append(("pageerror", str(e))))
    with page.expect_response("**/inspections") as resp:
        page.click("[data-testid=save-inspection]")
    log.append(resp.value.text())
    open("/tmp/c2_log.txt", "w").write(repr(log))
    open("/tmp/c2_dialog.txt", "w").write(page.locator(".el-dialog", has=form).inner_text())
    page.get_by_text("已记录巡查").wait_for()
    row = page.locator("[data-testid=measures] .el-table__row", has_text="三日内清理消防通道")
    row.wait_for()
    assert "整改通知书" in row.inner_text() and "待整改" in row.inner_text()
    focus = api(base, district["admin"], "GET", "/complaint-rollups/2026-W40")["focus"]
    assert [f["done"] for f in focus if f["community_id"] == cid] == [True]

    # the property clerk answers with evidence
    switch_user(page, base, CLERK, f"/console/c/{cid}/inspections")
    page.locator("[data-testid=measures] .el-table__row", has_text="三日内清理消防通道").get_by_role("button", name="查看").click()
    answer = page.locator("[data-testid=answer-form]")
    answer.get_by_label("整改情况").fill("已清理通道，张贴禁停标识，安排保安每日巡查")
    answer.locator("[data-testid=media-input]").set_input_files(
        {"name": "整改后.png", "mimeType": "image/png", "buffer": png_bytes((60, 160, 60))})
    answer.get_by_text("已上传").wait_for()
    page.click("[data-testid=send-answer]")
    page.locator("[data-testid=measure-status]", has_text="已答复待审核").wait_for()

    # the street regulator, by a direct link, accepts it
    switch_user(page, base, REGULATOR, f"/console/c/{cid}/inspections")
    page.locator("[data-testid=measures] .el-table__row", has_text="三日内清理消防通道").get_by_role("button", name="查看").click()
    detail = page.locator("[data-testid=measure-detail]")
    detail.get_by_text("已清理通道").wait_for()
    detail.locator("img").first.wait_for()
    page.click("[data-testid=accept-measure]")
    confirm(page, "通过")
    page.locator("[data-testid=measure-status]", has_text="已办结").wait_for()

    # the month's 4-2-1: one inspection of 青山街道, and its CSV
    page.keyboard.press("Escape")
    page.get_by_role("menuitem", name="421 巡查通报").click()
    progress = page.locator("[data-testid=progress]")
    progress.locator(".el-table__row", has_text=STREET).wait_for()
    row = next(r for r in table_rows(progress) if r[0] == STREET)
    assert row[2] == "1/4" and row[5] == "未完成"
    with page.expect_download() as info:
        page.click("[data-testid=progress-csv]")
    text = open(info.value.path(), "rb").read().decode("utf-8-sig")
    assert STREET in text


def test_organisations_with_the_servers_code_check_and_the_public_page_without_login(page, base, console_site,
                                                                                     district):
    sign_in(page, base, "dev-admin", "/console/d/organisations")
    form = page.locator("[data-testid=organisation-form]")
    form.get_by_label("企业名称").fill("青山安居物业服务有限公司")
    good = valid_uscc("91350100M00010022")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    form.get_by_label("统一社会信用代码").fill(bad)
    form.get_by_role("button", name="登记企业").click()
    error = form.locator(".el-form-item", has=page.get_by_label("统一社会信用代码")).locator(".el-form-item__error")
    error.wait_for()
    assert error.inner_text().strip()
    form.get_by_label("统一社会信用代码").fill(good)
    form.get_by_role("button", name="登记企业").click()
    page.locator("[data-testid=organisations] .el-table__row", has_text=good).wait_for()
    # the serving company's running quarter, component by component, and its contract on the compound
    page.get_by_label("搜索企业").fill(COMPANY)
    page.get_by_label("搜索企业").press("Enter")
    page.locator("[data-testid=organisations] .el-table__row", has_text=COMPANY).get_by_role("button", name="诚信分").click()
    page.locator("[data-testid=breakdown-score]", has_text="本季度至今").wait_for()
    assert "巡查扣分" in page.get_by_role("dialog").last.inner_text()
    page.keyboard.press("Escape")
    page.goto(f"{base}/console/c/{district['cid']}/contracts")
    row = page.locator("[data-testid=contracts] .el-table__row", has_text=COMPANY)
    row.wait_for()
    assert "2026-01-01" in row.inner_text() and "履行中" in row.inner_text()
    # the company serving 青山花园 (its project manager has a phone number: a person, never public)
    oid, good = district["oid"], district["uscc"]
    flask(console_site["env"], "integrity-assess")  # freezes the last whole quarter
    # the public page: no session at all
    page.evaluate("localStorage.clear()")
    page.goto(f"{base}/console/public")
    page.get_by_role("heading", name="物业企业诚信信息公开").wait_for()
    row = page.locator("[data-testid=public-organisations] .el-table__row", has_text=COMPANY)
    row.wait_for()
    assert re.search(r"\d+\.\d\d（\d{4}-Q[1-4]）", row.inner_text())
    row.get_by_role("link").click()
    score = page.locator("[data-testid=public-score]")
    score.wait_for()
    assert re.fullmatch(r"\d+\.\d\d", score.inner_text().strip())
    page.wait_for_url(f"**/console/public/{oid}")
    drawer = page.locator("[data-testid=public-organisation]").inner_text()
    assert COMPOUND in drawer and good in drawer
    everything = page.locator("body").inner_text()
    assert "陈建国" not in everything and "13912345678" not in everything and "139****5678" not in everything and not re.search(r"\d{17}[\dX]", everything.replace(good, ""))
    assert page.locator("[data-testid=sign-out]").count() == 0
    # the signed result of a quarter
    page.locator("[data-testid=public-organisation]").get_by_role("button", name="明细与签名").first.click()
    page.locator("[data-testid=public-result]").get_by_text("有效投诉解决").wait_for()


def test_a_dispute_filed_fails_at_the_committee_and_is_taken_up(page, base, district):
    cid = district["cid"]
    sign_in(page, base, COMMITTEE, f"/console/c/{cid}/disputes")
    page.click("[data-testid=new-dispute]")
    dialog = page.get_by_role("dialog", name="登记纠纷")
    dialog.get_by_label("纠纷事由").fill("地下车库漏水损坏车辆")
    dialog.get_by_label("纠纷情况").fill("业主与物业就车库漏水造成的车辆损失赔偿协商未果")
    page.click("[data-testid=file-dispute]")
    detail = page.locator("[data-testid=dispute-detail]")
    page.locator("[data-testid=dispute-level]", has_text="1 级").wait_for()
    # too early to take it up: the server says until when
    page.click("[data-testid=take-up]")
    confirm(page, "受理")
    page.locator("[data-testid=mediation-form] .el-alert", has_text="本级期限").wait_for()
    form = page.locator("[data-testid=mediation-form]")
    form.get_by_text("调解不成").click()
    form.get_by_label("调解说明").fill("双方对赔偿金额分歧较大")
    page.click("[data-testid=record-mediation]")
    confirm(page, "记录")
    detail.get_by_text("调解不成").first.wait_for()
    page.click("[data-testid=take-up]")
    confirm(page, "受理")
    page.locator("[data-testid=dispute-level]", has_text="2 级").wait_for()
    assert "社区人民调解委员会" in page.locator("[data-testid=dispute-level]").inner_text()
    # the street regulator sees it among the open disputes of the street
    switch_user(page, base, REGULATOR, "/console/d/open-disputes")
    page.locator("[data-testid=open-disputes] .el-table__row", has_text="地下车库漏水损坏车辆").wait_for()
