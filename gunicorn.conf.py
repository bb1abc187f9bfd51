"""gunicorn settings for the embedded run (`bash scripts/serve.sh`)."""
import os

bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LINLI_WORKERS", "2"))


def _threads():
    """Threads per worker (gunicorn's gthread worker when more than 1), LINLI_THREADS or by database.

    SQLite: 8. Casts into one vote that reach a worker together then share one transaction and one
    durable commit (votes._GroupCommit); bench/cast_bench.py measured casting at 35–40 % of the bare
    endpoint's throughput this way, against about 30 % with one thread per worker.
    PostgreSQL: 1 (sync workers). There the threads' many database round trips cost more CPU than
    the shared commit saves: casting fell from about 25 % to 18 % of bare with 4 or 8 threads.
    """
    if os.environ.get("LINLI_THREADS"):
        return int(os.environ["LINLI_THREADS"])
    return 1 if os.environ.get("DATABASE_URL", "").startswith("postgresql") else 8


threads = _threads()
timeout = 30
accesslog = "-"


def on_starting(server):
    """In development, start the one fake WeChat in the master so that every worker shares it."""
    from backend.config import Config

    config = Config()
    if config.WECHAT_DEV_FAKE and not os.environ.get("LINLI_DEV_FAKE_BASE"):
        from backend.fake_wechat import ensure_dev_fake

        os.environ["LINLI_DEV_FAKE_BASE"] = ensure_dev_fake(config.WECHAT_APPID, config.WECHAT_SECRET)
        server.log.info("built-in fake WeChat at %s", os.environ["LINLI_DEV_FAKE_BASE"])
