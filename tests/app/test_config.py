"""Settings that size the server: threads per gunicorn worker and the connection pool that serves them."""
from backend.config import Config


def test_each_thread_has_a_pooled_connection():
    default = Config(env={})
    assert default.WORKER_THREADS == 8
    # pool_pre_ping: a connection that died in the pool is replaced when next taken (the pool recovers)
    assert default.as_mapping()["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_size": 10, "pool_pre_ping": True}
    sync = Config(env={"LINLI_THREADS": "1", "DATABASE_URL": "postgresql+psycopg:///linli"})
    assert sync.WORKER_THREADS == 1 and sync.as_mapping()["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 5
    many = Config(env={"LINLI_THREADS": "32"})
    assert many.as_mapping()["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 34
    # an in-memory SQLite database has a single connection: no pool to size
    for memory in ("sqlite://", "sqlite:///:memory:"):
        assert "SQLALCHEMY_ENGINE_OPTIONS" not in Config(env={"DATABASE_URL": memory}).as_mapping()
