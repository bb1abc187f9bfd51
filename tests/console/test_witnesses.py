"""Witnesses in the console: the committee registers a member's key (and only that kind), drafts a vote
with a witness quorum, sees the witnesses in the opening dialog, and after the close the tally waiting
for the witness who has not co-signed; the bundle's 409 shows the API's message."""
import time
from datetime import datetime, timedelta, timezone

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.console.support import miniprogram_login, sign_in
from tests.console.test_committee import beijing, community_id, fill_picker, table_rows
from voting.canonical import b64u_encode


def public_key():
    return b64u_encode(Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def test_committee_registers_a_witness_and_a_vote_waits_for_its_cosignature(page, base, browser):
    cid = community_id(base)
    admin = miniprogram_login(base, "dev-admin")
    key = public_key()
    sign_in(page, base, "dev-committee", f"/console/c/{cid}/witnesses")
    form = page.locator("[data-testid=witness-form]")
    try:
        # the committee may register only its members' keys: the kind offers nothing else
        form.locator(".el-select").click()
        assert [o.inner_text() for o in page.get_by_role("option").all()] == ["业委会委员"]
        page.keyboard.press("Escape")
        form.get_by_label("见证人名称").fill("王建国（业委会委员）")
        form.get_by_label("见证人公钥").fill("not-a-key")
        page.click("[data-testid=register-witness]")
        error = form.locator(".el-form-item", has=page.get_by_label("见证人公钥")).locator(".el-form-item__error")
        error.wait_for()
        assert error.inner_text().strip()
        form.get_by_label("见证人公钥").fill(key)
        page.click("[data-testid=register-witness]")
        page.locator("[data-testid=witnesses] .el-table__row", has_text=key).wait_for()
        row = next(r for r in table_rows(page.locator("[data-testid=witnesses]")) if r[3] == key)
        assert row[1:3] == ["业委会委员", "王建国（业委会委员）"] and row[4] == "有效"
        assert "默认联署法定人数：1" in page.inner_text("[data-testid=default-quorum]")

        # a draft with a quorum of one witness
        page.get_by_role("menuitem", name="表决").click()
        page.click("[data-testid=new-vote]")
        vote_form = page.locator("[data-testid=vote-form]")
        vote_form.get_by_label("标题", exact=True).fill("增设非机动车充电桩")
        now = datetime.now(timezone.utc).replace(microsecond=0)
        closes = now + timedelta(seconds=20)
        fill_picker(page, "开始时间", beijing(now - timedelta(minutes=1)))
        fill_picker(page, "截止时间", beijing(closes))
        vote_form.get_by_label("见证人联署法定人数").fill("1")
        page.click("[data-testid=save-draft]")
        page.wait_for_url("**/votes/*")
        vid = page.url.rstrip("/").split("/")[-1]
        assert page.inner_text("[data-testid=draft-quorum]") == "1"
        assert requests.get(f"{base}/api/v1/votes/{vid}", headers=admin, timeout=10).json()["witness_quorum"] == 1
        # the opening dialog names the witnesses and the quorum
        page.click("[data-testid=open-vote]")
        shown = page.locator("[data-testid=open-witnesses]")
        shown.get_by_text("王建国（业委会委员）").wait_for()
        assert "联署法定人数1" in shown.inner_text().replace("\n", "").replace("\t", "").replace(" ", "")
        page.click("[data-testid=open-confirm]")
        page.locator("[data-testid=vote-witnesses]").get_by_text("王建国（业委会委员）").wait_for()
        # closed: the tally is signed but waits for the witness who has not co-signed
        time.sleep(max(0.0, (closes - datetime.now(timezone.utc)).total_seconds() + 1.5))
        page.click("[data-testid=close-vote]")
        page.get_by_role("button", name="截止", exact=True).click()
        waiting = page.locator("[data-testid=tally-awaiting]")
        waiting.wait_for(timeout=20000)
        assert "王建国（业委会委员）" in page.inner_text("[data-testid=witnesses-missing]")
        assert page.locator("[data-testid=tally]").count() == 0
        # the street office tries the bundle: 409 with the API's own message
        context = browser.new_context(accept_downloads=True, locale="zh-CN")
        regulator = context.new_page()
        sign_in(regulator, base, "dev-regulator", f"/console/c/{cid}/votes/{vid}")
        regulator.click("[data-testid=download-bundle]")
        regulator.locator("[data-testid=bundle-error]", has_text="计票结果须经见证人联署后公布").wait_for()
        context.close()
        # retiring the key changes no vote already opened (asked first)
        page.goto(f"{base}/console/c/{cid}/witnesses")
        page.locator("[data-testid=witnesses] .el-table__row", has_text=key).get_by_role("button", name="停用").click()
        page.locator(".el-message-box").get_by_role("button", name="停用", exact=True).click()
        page.locator("[data-testid=witnesses] .el-table__row", has_text=key).wait_for(state="detached")
        page.locator("[data-testid=default-quorum]", has_text="默认联署法定人数：0").wait_for()
    finally:
        # the demo compound's later votes must not wait for this witness
        listed = requests.get(f"{base}/api/v1/communities/{cid}/witnesses", headers=admin, timeout=10).json()["items"]
        for w in listed:
            if w["public_key"] == key and not w["retired_at"]:
                requests.delete(f"{base}/api/v1/communities/{cid}/witnesses/{w['id']}", headers=admin, timeout=10)
