"""Signing in to the console by QR code, what the phone is shown, signing out, and another compound."""
import requests

from tests.console.support import miniprogram_login, sign_in


def test_qr_sign_in_shows_the_console_and_roles_then_signs_out(page, base):
    phone, seen = sign_in(page, base, "dev-committee")
    # the phone was shown which console asks and which roles it will sign in
    assert seen["console"]["origin"] == base
    assert any(c["community_name"] == "阳光花园" and "committee" in c["roles"] for c in seen["communities"])
    page.wait_for_url("**/registry")
    assert "业委会" in page.inner_text("[data-testid=roles]")
    # the mini-program lists the console's session
    sessions = requests.get(f"{base}/api/v1/me/sessions", headers=phone, timeout=10).json()
    assert [s["kind"] for s in sessions].count("console") >= 1
    page.click("[data-testid=sign-out]")
    page.get_by_role("button", name="确定").click()
    page.wait_for_url("**/console/login")
    token = page.evaluate("localStorage.getItem('linli-console-token')")
    assert token is None


def test_a_declined_qr_code_signs_nobody_in(page, base):
    page.goto(f"{base}/console/login")
    page.locator("[data-testid=qr] img").wait_for()
    code = page.get_attribute("[data-testid=qr]", "data-code")
    phone = miniprogram_login(base, "dev-clerk")
    assert requests.post(f"{base}/api/v1/console/login-challenges/{code}/decline", headers=phone,
                         timeout=10).status_code == 200
    page.get_by_text("已在手机上拒绝登录").wait_for()
    assert page.get_by_role("button", name="刷新二维码").is_visible()
    assert "/console/login" in page.url


def test_a_user_of_another_compound_sees_nothing_of_this_one(page, base):
    admin = miniprogram_login(base, "dev-admin")
    other = requests.post(f"{base}/api/v1/communities", headers=admin, timeout=10,
                          json={"name": "明月小区", "district": "海淀区", "address": "明月路 8 号"}).json()
    requests.post(f"{base}/api/v1/communities/{other['id']}/members", headers=admin, timeout=10,
                  json={"openid": "moon-committee", "role": "committee"})
    sign_in(page, base, "moon-committee")
    page.wait_for_url(f"**/c/{other['id']}/registry")
    assert "明月小区" in page.inner_text("header")
    assert "阳光花园" not in page.content()
    sunny = requests.get(f"{base}/api/v1/communities", headers=admin, params={"per_page": 100},
                         timeout=10).json()["items"]
    sunny_id = next(c["id"] for c in sunny if c["name"] == "阳光花园")
    # typing the other compound's address into the browser shows nothing of it: the API refuses
    page.goto(f"{base}/console/c/{sunny_id}/registry")
    page.locator(".el-message--error").get_by_text("您没有此操作的权限").first.wait_for()
    assert page.locator("[data-testid=import-preview]").count() == 0
    rows = page.locator(".el-table__body tr")
    assert rows.count() == 0


def test_the_dev_login_form_is_refused_without_the_fake_wechat(page, base):
    """The server under test runs as production would in this respect (no built-in fake WeChat)."""
    page.goto(f"{base}/console/login")
    page.get_by_text("开发登录（仅开发环境）").click()
    page.get_by_role("button", name="开发登录", exact=True).click()
    page.get_by_text("开发登录仅在开发环境（内置模拟微信）可用，请扫码登录").wait_for()
    assert "/console/login" in page.url
    assert page.evaluate("localStorage.getItem('linli-console-token')") is None
