"""Extension instances of the core, created once and bound to the app in create_app (backend/__init__.py).

The HTTP layer's Api (flask-smorest) is made per app by the factory: see miniprogram_api/api.py."""
import sqlite3

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

# Stable constraint names so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate(render_as_batch=True, compare_type=True)


SQLITE_BUSY_TIMEOUT_MS = 5000  # a writer waits this long for SQLite's write lock, then fails (503)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """The one place where SQLite (the embedded default) is configured, for every connection any
    engine opens: write-ahead logging, so readers never wait for a writer and a commit costs one
    fsync; synchronous=FULL, so that every acknowledged commit is durable (a cast's receipt exists
    only after its commit); and how long a writer waits for the write lock before it gives up (the
    request then answers 503, docs/votes.md "When the database is unavailable")."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()
