"""gunicorn settings for the embedded run (`bash scripts/serve.sh`)."""
import ctypes
import os

from backend.config import Config

bind = os.environ.get("LINLI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("LINLI_WORKERS", "2"))
# Threads per worker: LINLI_THREADS, 8 by default (backend/config.py).
threads = Config().WORKER_THREADS
timeout = 30
accesslog = "-"

# Memory (docs/media.md "Memory"): glibc serves allocations from 128 kB up with mmap only until the
# first such block is freed, then raises that threshold to the freed size (up to 32 MB), so the
# 16 MB blocks of decoded images land in the heaps of each thread's arena and stay there: a burst of
# uploads left 2.6 GB resident per worker. A fixed threshold (which also stops the raising) hands
# every block of 1 MB or more back to the system when it is freed. Set here, in the master: the
# forked workers inherit it. MALLOC_ARENA_MAX was measured too and did not help once this is set.
M_MMAP_THRESHOLD = -3
try:
    ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 1 << 20)
except (OSError, AttributeError):  # not glibc
    pass


def on_starting(server):
    """In development, start the one fake WeChat in the master so that every worker shares it."""
    config = Config()
    if config.WECHAT_DEV_FAKE and not os.environ.get("LINLI_DEV_FAKE_BASE"):
        from backend.fake_wechat import ensure_dev_fake

        os.environ["LINLI_DEV_FAKE_BASE"] = ensure_dev_fake(config.WECHAT_APPID, config.WECHAT_SECRET)
        server.log.info("built-in fake WeChat at %s", os.environ["LINLI_DEV_FAKE_BASE"])


def post_worker_init(worker):
    """Once the worker has loaded the app, move everything it made so far (the app, its schemas, the
    ORM's metadata: hundreds of thousands of long-lived objects) out of the cyclic collector's reach,
    so that a full collection during a request walks only what requests made."""
    import gc

    gc.freeze()
