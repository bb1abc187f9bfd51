"""The memory of the upload pipeline under a burst, against a real gunicorn (2 workers x 8 threads,
gunicorn.conf.py as in production): the adversarial test's 16 concurrent uploads of a 155 kB RGBA PNG
of 6320x6320 pixels drove each worker to 3.1 GB and left 1.8 GB behind (docs/media.md "Memory")."""
import io
import os
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from backend.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUDGET_MB = Config({}).MEDIA_DECODE_BUDGET_MB
# What a worker may grow by at its peak: the decode budget, plus what does not belong to any one
# decode (request bodies, Python objects, encoders' buffers) — docs/media.md "Memory".
GROWTH_CEILING_MB = BUDGET_MB + 64
# What a worker may keep after the burst, over its resident size before it.
KEPT_CEILING_MB = 48


def _chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def rgba_png(width, height):
    """A valid 8-bit RGBA PNG of width x height, all transparent: compressed about 1000:1."""
    row = b"\x00" * (1 + 4 * width)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _workers(master):
    with open(f"/proc/{master}/task/{master}/children") as fh:
        return [int(p) for p in fh.read().split()]


def _status_mb(pid, field):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.fixture
def gunicorn(app, tmp_path):
    """gunicorn -w 2 with 8 threads each and gunicorn.conf.py, on the test database and fake WeChat."""
    port = _free_port()
    cfg = app.config
    env = dict(os.environ, DATABASE_URL=cfg["SQLALCHEMY_DATABASE_URI"], INSTANCE_PATH=cfg["INSTANCE_PATH"],
               SIGNING_KEY_FILE=cfg["SIGNING_KEY_FILE"], MEDIA_ROOT=str(tmp_path / "media"),
               WECHAT_API_BASE=cfg["WECHAT_API_BASE"], WECHAT_APPID=cfg["WECHAT_APPID"],
               WECHAT_SECRET=cfg["WECHAT_SECRET"], WECHAT_DEV_FAKE="0", LINLI_ENV="testing", LINLI_THREADS="8")
    for name in ("MEDIA_DECODE_BUDGET_MB", "MEDIA_DECODE_USER_SHARE", "MEDIA_DECODE_WAIT_SECONDS", "MALLOC_ARENA_MAX",
                 "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        env.pop(name, None)  # the defaults are what is measured
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "2",
                             "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=2).json() == {"status": "ok"} \
                        and len(_workers(proc.pid)) == 2:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _small_jpeg():
    buf = io.BytesIO()
    Image.effect_noise((800, 600), 40).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_a_burst_of_big_pngs_stays_within_the_budget_and_memory_is_returned(world, gunicorn):
    base, master = gunicorn
    attacker, neighbour = world.login(), world.login()
    bomb = rgba_png(6320, 6320)  # 39.9 MP, just under MEDIA_MAX_PIXELS: 160 MB of RGBA once decoded
    assert len(bomb) < 200_000
    workers = _workers(master)
    for _ in range(4):  # every worker has imported everything and served a request
        requests.get(f"{base}/api/v1/health", timeout=5)
    baseline = {pid: _status_mb(pid, "VmRSS") for pid in workers}
    barrier = threading.Barrier(17)

    def post(job):
        user, data, name = job
        barrier.wait()
        if user is neighbour:
            time.sleep(1.0)  # arrives while the burst is being decoded
        return requests.post(f"{base}/api/v1/media", headers=user["headers"],
                             files={"file": (name, data, "application/octet-stream")}, timeout=120)

    jobs = [(attacker, bomb, "a.png")] * 16 + [(neighbour, _small_jpeg(), "b.jpg")]
    with ThreadPoolExecutor(len(jobs)) as pool:
        answers = list(pool.map(post, jobs))
    time.sleep(1.0)
    peaks = {pid: _status_mb(pid, "VmHWM") for pid in workers}
    after = {pid: _status_mb(pid, "VmRSS") for pid in workers}
    figures = {pid: f"baseline {baseline[pid]:.0f} MB, peak {peaks[pid]:.0f} MB, after {after[pid]:.0f} MB"
               for pid in workers}
    print("\nburst:", sorted(r.status_code for r in answers[:16]), figures)

    # the attacker's uploads are decoded a few at a time; those that waited too long are told to retry
    statuses = [r.status_code for r in answers[:16]]
    assert set(statuses) <= {201, 503} and statuses.count(201) >= 1, statuses
    for refused in (r for r in answers[:16] if r.status_code == 503):
        body = refused.json()["error"]
        assert body["code"] == "media_busy" and body["message"] == "服务器繁忙，请稍后再试"
        assert int(refused.headers["Retry-After"]) >= 1 and body["details"]["retry_after"] >= 1
    # one user cannot take the whole budget: the neighbour's photo is not queued behind the burst
    assert answers[16].status_code == 201, answers[16].text
    for pid in workers:
        assert peaks[pid] - baseline[pid] <= GROWTH_CEILING_MB, figures
        assert after[pid] - baseline[pid] <= KEPT_CEILING_MB, figures
