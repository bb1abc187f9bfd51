"""A real gunicorn serving the app under test, for the tests that need processes and sockets: the
production settings (gunicorn.conf.py), the test database, signing key, media folder and fake WeChat."""
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    """The pids of a process's children (gunicorn's workers, for the master's pid)."""
    with open(f"/proc/{pid}/task/{pid}/children") as fh:
        return [int(p) for p in fh.read().split()]


@contextmanager
def serving(app, tmp_path, workers, threads, **env):
    """gunicorn serving wsgi:app on the test app's database, signing key, media folder and fake WeChat,
    with `workers` workers of `threads` threads; yields (base URL, the gunicorn process) once every
    worker is up. `env` adds to its environment (None removes a variable; DATABASE_URL may be
    overridden there)."""
    cfg = app.config
    environment = {**os.environ, "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"], "INSTANCE_PATH": cfg["INSTANCE_PATH"],
                   "SIGNING_KEY_FILE": cfg["SIGNING_KEY_FILE"], "MEDIA_ROOT": cfg["MEDIA_ROOT"],
                   "WECHAT_API_BASE": cfg["WECHAT_API_BASE"], "WECHAT_APPID": cfg["WECHAT_APPID"],
                   "WECHAT_SECRET": cfg["WECHAT_SECRET"], "WECHAT_DEV_FAKE": "0", "LINLI_ENV": "testing",
                   "LINLI_THREADS": str(threads)}
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    with running(environment, tmp_path, workers) as served:
        yield served


@contextmanager
def running(environment, folder, workers):
    """gunicorn with gunicorn.conf.py serving wsgi:app on a free port in exactly `environment`, its log
    in `folder`/gunicorn.log; yields (base URL, the gunicorn process) once every worker is up."""
    port = free_port()
    log_path = Path(folder) / "gunicorn.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", str(workers),
                             "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "wsgi:app"],
                            cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if (requests.get(f"{base}/api/v1/health", timeout=2).json() == {"status": "ok"}
                        and len(children(proc.pid)) == workers):
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-5000:]
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
