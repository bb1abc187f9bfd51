"""Test fixtures: one app per session on SQLite (or DATABASE_URL, e.g. PostgreSQL), the schema made
by the migrations, every table emptied after each test, the fake WeChat on 127.0.0.1, and a test
client that checks every /api/v1 answer against the published OpenAPI (tests/contract.py)."""
import os
import tempfile

import pytest
from sqlalchemy import inspect, text

from backend import create_app
from backend.extensions import db
from backend.fake_wechat import FakeWechat
from tests.contract import Contract, ContractClient
from tests.support import World

_tmp = tempfile.mkdtemp(prefix="linli-tests-")


def _database_url():
    """SQLite in this process's temporary directory, or DATABASE_URL — under pytest-xdist a database of
    each worker's own on that PostgreSQL server (`<name>_gw0`, …, made afresh), since every test
    empties every table when it ends."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{_tmp}/test.db"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not (worker and url.startswith("postgresql")):
        return url
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def fake_wechat():
    fake = FakeWechat("wx-test-appid", "wx-test-secret")
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def app(fake_wechat):
    app = create_app(
        {
            "ENV": "testing",
            "INSTANCE_PATH": _tmp,
            "SQLALCHEMY_DATABASE_URI": _database_url(),
            "MEDIA_ROOT": os.path.join(_tmp, "media"),
            "SIGNING_KEY_FILE": os.path.join(_tmp, "signing_key.pem"),
            "WECHAT_APPID": "wx-test-appid",
            "WECHAT_SECRET": "wx-test-secret",
            "WECHAT_API_BASE": fake_wechat.base_url,
            "WECHAT_DEV_FAKE": False,
            "WECHAT_TIMEOUT": 2.0,
        }
    )
    with app.app_context():
        reset_schema()
        from flask_migrate import upgrade

        upgrade(revision="heads")
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    app.test_client_class = type("AppContractClient", (ContractClient,), {"contract": Contract(spec)})
    yield app


def reset_schema():
    """Drop everything so that the migrations build the schema from nothing."""
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            for (name,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).all():
                conn.execute(text(f'DROP TABLE IF EXISTS "{name}"'))


def empty_tables():
    """Delete every row of every table (the schema stays)."""
    db.session.remove()
    existing = set(inspect(db.engine).get_table_names())
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in existing]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture
def wechat(fake_wechat):
    """The fake WeChat, reset for this test."""
    fake_wechat.reset()
    return fake_wechat


@pytest.fixture
def client(app, wechat):
    contract = app.test_client_class.contract
    seen = len(contract.violations)
    with app.app_context():
        yield app.test_client()
        empty_tables()
    # a violation raised where nobody looked (a thread, a broad except) still fails the test
    assert contract.violations[seen:] == [], "answers the published OpenAPI does not allow"


@pytest.fixture
def world(app, client, wechat):
    """Factories for users, communities and registries, working through the real API."""
    return World(app, client, wechat)
