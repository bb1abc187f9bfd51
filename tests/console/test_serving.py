"""How Flask serves the built console under /console/ (backend/__init__.py register_console): cache
headers, the console's own routes, and a clear page — never a 500 — when nothing is built."""
import os

from backend import create_app
from tests.console.support import DIST


def make_app(tmp_path, dist):
    return create_app({"ENV": "testing", "INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "WECHAT_DEV_FAKE": False, "WECHAT_API_BASE": "http://127.0.0.1:9/", "CONSOLE_DIST": str(dist)})


def test_hashed_assets_are_immutable_and_the_page_is_never_cached(console_dist, tmp_path):
    client = make_app(tmp_path, console_dist).test_client()
    index = client.get("/console/")
    assert index.status_code == 200 and index.headers["Cache-Control"] == "no-cache"
    assert b'<div id="app">' in index.data
    asset = next(name for name in os.listdir(DIST / "assets") if name.endswith(".js"))
    assert b'src="/console/assets/' in index.data  # Vite's base is /console/
    resp = client.get(f"/console/assets/{asset}")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.mimetype in ("text/javascript", "application/javascript")
    # the console's own routes get the page; a missing asset is a 404, not the page
    deep = client.get("/console/c/1/tickets/7")
    assert deep.status_code == 200 and deep.data == index.data and deep.headers["Cache-Control"] == "no-cache"
    assert client.get("/console/assets/nope-123.js").status_code == 404
    # nothing outside the build is reachable
    for path in ("/console/assets/..%2f..%2f..%2fwsgi.py", "/console/..%2f..%2fwsgi.py"):
        resp = client.get(path)
        assert b"create_app" not in resp.data and resp.status_code in (200, 404)
    assert client.get("/console").headers["Location"].endswith("/console/")
    # the console is not part of the published API
    assert not any(path.startswith("/console") for path in client.get("/api/v1/openapi.json").json["paths"])


def test_without_a_build_a_page_says_how_to_make_one(tmp_path):
    client = make_app(tmp_path, tmp_path / "no-dist").test_client()
    for path in ("/console/", "/console/c/1/registry", "/console/login"):
        resp = client.get(path)
        assert resp.status_code == 503 and resp.mimetype == "text/html"
        text = resp.data.decode()
        assert "管理后台尚未构建" in text and "bash scripts/serve.sh" in text and "npm run build" in text
    assert client.get("/console/assets/app.js").status_code == 404
