"""gunicorn settings for the embedded run (`bash scripts/serve.sh`)."""
import os

from backend.config import Config

bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LINLI_WORKERS", "2"))
# Threads per worker: LINLI_THREADS, 8 by default (backend/config.py).
threads = Config().WORKER_THREADS
timeout = 30
accesslog = "-"


def on_starting(server):
    """In development, start the one fake WeChat in the master so that every worker shares it."""
    config = Config()
    if config.WECHAT_DEV_FAKE and not os.environ.get("LINLI_DEV_FAKE_BASE"):
        from backend.fake_wechat import ensure_dev_fake

        os.environ["LINLI_DEV_FAKE_BASE"] = ensure_dev_fake(config.WECHAT_APPID, config.WECHAT_SECRET)
        server.log.info("built-in fake WeChat at %s", os.environ["LINLI_DEV_FAKE_BASE"])
