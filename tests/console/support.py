"""The web console under test: its build, a database of its own with the demo community, gunicorn
serving it (the same command as scripts/serve.sh), Debian's Chromium driven by Playwright, and
signing in by QR code the way the mini-program confirms it.

Shared by the browser tests (tests/console/conftest.py), the screenshot script
(tests/console/screenshots.py) and the benchmark (bench/console_bench.py)."""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import requests

from tests.servers import running

REPO = Path(__file__).resolve().parents[2]
CONSOLE = REPO / "console"
DIST = CONSOLE / "dist"
CHROMIUM = "/usr/bin/chromium"
# Flags that work on this machine (no sandbox as root, no GPU, nothing reaching out to the network).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class NotReady(Exception):
    """Something the console's tests need is missing; the message says how to get it."""


def build_console():
    """Build console/dist when its sources changed (scripts/build_console.sh), one process at a time."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise NotReady("Node.js and npm are needed to build the web console (Debian: apt-get install nodejs npm)")
    with open(REPO / "console" / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        proc = subprocess.run(["bash", "scripts/build_console.sh"], cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "CONSOLE_BUILD_REQUIRED": "1"}, timeout=900)
    if proc.returncode != 0 or not (DIST / "index.html").is_file():
        raise NotReady(f"the console did not build:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return DIST


def chromium_launch_args():
    """Playwright's launch arguments for Debian's Chromium (no browser download, ever)."""
    if not os.path.exists(CHROMIUM):
        raise NotReady("Debian's Chromium is needed for the browser tests: apt-get install -y chromium fonts-wqy-microhei")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


def own_database(base_url, folder, name):
    """A database of the console's own beside the suite's (the rest of the suite empties its tables
    after every test): a SQLite file in `folder`, or a new PostgreSQL database on the same server.
    Returns (url, drop) where drop() removes a PostgreSQL database again."""
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    if url.get_backend_name() != "postgresql":
        return f"sqlite:///{folder}/{name}.db", lambda: None
    import psycopg

    db_name = f"{url.database}_{name}_{uuid.uuid4().hex[:6]}"
    admin = url.set(drivername="postgresql", database="postgres")
    dsn = admin.render_as_string(hide_password=False)

    def run(sql):
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql)

    run(f'CREATE DATABASE "{db_name}"')
    return url.set(database=db_name).render_as_string(hide_password=False), lambda: run(
        f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def server_env(database_url, folder, wechat_base):
    """The environment of the console's server and of its flask commands."""
    return {**os.environ, "DATABASE_URL": database_url, "INSTANCE_PATH": str(folder),
            "SIGNING_KEY_FILE": str(Path(folder) / "signing_key.pem"), "MEDIA_ROOT": str(Path(folder) / "media"),
            "WECHAT_API_BASE": wechat_base, "WECHAT_APPID": "wx-test-appid", "WECHAT_SECRET": "wx-test-secret",
            "WECHAT_DEV_FAKE": "0", "LINLI_ENV": "testing", "LINLI_THREADS": "4"}


def flask(env, *args, timeout=600):
    """`flask --app wsgi …` (the README's commands) in the console's environment."""
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"flask {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-5000:]}"
    return proc.stdout


@contextlib.contextmanager
def gunicorn(env, folder, workers=2):
    """gunicorn with gunicorn.conf.py serving wsgi:app (API and console) on a free port; yields the base URL."""
    with running(env, folder, workers) as (base, _):
        yield base


_seq = iter(range(1, 10**9))


def miniprogram_login(base, openid):
    """What the mini-program does: wx.login's code (the fake WeChat's `code-<openid>`) for a token."""
    resp = requests.post(f"{base}/api/v1/auth/wechat-login",
                         json={"code": f"code-{openid}~{uuid.uuid4().hex[:8]}{next(_seq)}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["token"]}


def sign_in(page, base, openid, path="/console/"):
    """Sign the console in page in as `openid` by its QR code: read the code the page shows, confirm it
    on the 'phone' (the API, as the mini-program's confirm page does), wait for the console to let us in."""
    page.goto(f"{base}/console/login")
    qr = page.locator("[data-testid=qr] img")
    qr.wait_for()
    code = page.get_attribute("[data-testid=qr]", "data-code")
    phone = miniprogram_login(base, openid)
    seen = requests.get(f"{base}/api/v1/console/login-challenges/{code}", headers=phone, timeout=10)
    assert seen.status_code == 200, seen.text
    confirmed = requests.post(f"{base}/api/v1/console/login-challenges/{code}/confirm", headers=phone, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    page.wait_for_url(lambda url: "/console/login" not in url, timeout=15000)
    page.locator("[data-testid=sign-out]").wait_for()
    if path != "/console/":
        page.goto(base + path)
    return phone, seen.json()


@contextlib.contextmanager
def demo_site(folder, workers=2, seed=None, database_url=None):
    """Outside pytest (screenshots, benchmark): the fake WeChat, a database of its own (a SQLite file in
    `folder`, or a new PostgreSQL database beside `database_url`'s, dropped afterwards) with the demo
    community (and whatever `seed(env)` adds), gunicorn serving API and console. Yields
    {"base", "env", "folder"}."""
    from backend.fake_wechat import FakeWechat

    build_console()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fake = FakeWechat("wx-test-appid", "wx-test-secret")
    fake.start()
    url, drop = own_database(database_url or f"sqlite:///{folder}/console.db", folder, "console")
    try:
        env = server_env(url, folder, fake.base_url)
        flask(env, "db", "upgrade", "heads")
        flask(env, "demo")
        if seed:
            seed(env)
        with gunicorn(env, folder, workers=workers) as base:
            yield {"base": base, "env": env, "folder": folder}
    finally:
        fake.stop()
        drop()


def launch_chromium(playwright):
    return playwright.chromium.launch(**chromium_launch_args())
