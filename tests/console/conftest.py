"""Fixtures of the console's tests: one build, one database of its own with the demo community, one
gunicorn for the session (tests/console/support.py), Playwright on Debian's Chromium."""
import pytest

from tests.console import support


@pytest.fixture(scope="session")
def console_dist():
    try:
        return support.build_console()
    except support.NotReady as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright launches Debian's Chromium, never a downloaded browser."""
    try:
        return support.chromium_launch_args()
    except support.NotReady as e:
        pytest.fail(str(e))


@pytest.fixture(scope="session")
def browser_context_args():
    return {"locale": "zh-CN", "timezone_id": "Asia/Shanghai", "viewport": {"width": 1366, "height": 860},
            "accept_downloads": True}


@pytest.fixture(scope="session")
def console_site(app, fake_wechat, console_dist, tmp_path_factory):
    """The demo community (`flask demo`, as scripts/serve.sh loads it) in a database of its own,
    served by gunicorn with the console built. Yields {"base", "env", "folder"}."""
    folder = tmp_path_factory.mktemp("console-site")
    url, drop = support.own_database(app.config["SQLALCHEMY_DATABASE_URI"], folder, "console")
    env = support.server_env(url, folder, fake_wechat.base_url)
    try:
        support.flask(env, "db", "upgrade", "heads")
        support.flask(env, "demo")
        with support.gunicorn(env, folder) as base:
            yield {"base": base, "env": env, "folder": folder}
    finally:
        drop()


@pytest.fixture
def base(console_site):
    return console_site["base"]
