"""The memory of the upload pipeline under a burst, against a real gunicorn (2 workers x 8 threads,
gunicorn.conf.py as in production): the adversarial test's 16 concurrent uploads of a 155 kB RGBA PNG
of 6320x6320 pixels drove each worker to 3.1 GB and left 1.8 GB behind (docs/media.md "Memory")."""
import io
import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from PIL import Image

from backend.config import Config
from tests.servers import children, serving

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


def _status_mb(pid, field):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.fixture
def gunicorn(app, tmp_path):
    """gunicorn -w 2 with 8 threads each and gunicorn.conf.py, on the test database and fake WeChat;
    the memory settings at their defaults (what is measured)."""
    defaults = dict.fromkeys(("MEDIA_DECODE_BUDGET_MB", "MEDIA_DECODE_USER_SHARE", "MEDIA_DECODE_WAIT_SECONDS",
                              "MALLOC_ARENA_MAX", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"))
    with serving(app, tmp_path, 2, 8, MEDIA_ROOT=str(tmp_path / "media"), **defaults) as (base, proc):
        yield base, proc.pid


def _small_jpeg():
    buf = io.BytesIO()
    Image.effect_noise((800, 600), 40).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def test_a_burst_of_big_pngs_stays_within_the_budget_and_memory_is_returned(world, gunicorn):
    base, master = gunicorn
    attacker, neighbour = world.login(), world.login()
    bomb = rgba_png(6320, 6320)  # 39.9 MP, just under MEDIA_MAX_PIXELS: 160 MB of RGBA once decoded
    assert len(bomb) < 200_000
    workers = children(master)
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
