"""The decode budget: how much memory a worker's uploads may take at once, shared fairly between users,
and the per-format estimates it is charged with (checked against measured peaks)."""
import io
import json
import struct
import subprocess
import sys
import threading
import time
import zlib

import pytest
from PIL import Image

from backend.services import media
from backend.services.media import DecodeBudget, Refused, sanitise

MB = 1 << 20


class Holder(threading.Thread):
    """A thread that holds `cost` of `budget` for `user` until released (or until it gives up)."""

    def __init__(self, budget, user, cost):
        super().__init__(daemon=True)
        self.budget, self.user, self.cost = budget, user, cost
        self.started_at = self.error = None
        self.entered, self.release = threading.Event(), threading.Event()

    def run(self):
        try:
            with self.budget.admit(self.user, self.cost):
                self.started_at = time.monotonic()
                self.entered.set()
                self.release.wait(10)
        except Refused as exc:
            self.error = exc
            self.entered.set()


def hold(budget, user, cost):
    holder = Holder(budget, user, cost)
    holder.start()
    return holder


def test_requests_within_the_budget_run_together_and_the_rest_wait():
    budget = DecodeBudget(100 * MB, user_share=1.0, wait_seconds=5)
    first, second = hold(budget, "a", 60 * MB), hold(budget, "b", 40 * MB)
    assert first.entered.wait(2) and second.entered.wait(2) and budget.used == 100 * MB
    third = hold(budget, "c", 10 * MB)
    assert not third.entered.wait(0.3)  # no room: it waits
    first.release.set()
    assert third.entered.wait(2) and third.error is None
    for h in (second, third):
        h.release.set()
        h.join(2)
    assert budget.used == 0 and budget.by_user == {} and budget.peak == 100 * MB


def test_waiting_too_long_is_503_with_retry_after_and_leaves_no_trace():
    budget = DecodeBudget(100 * MB, wait_seconds=0.2, retry_after=7)
    holder = hold(budget, "a", 100 * MB)
    assert holder.entered.wait(2)
    started = time.monotonic()
    with pytest.raises(Refused) as info:
        with budget.admit("b", 10 * MB):
            pass
    assert 0.15 < time.monotonic() - started < 2
    assert (info.value.code, info.value.status, info.value.details) == ("media_busy", 503, {"retry_after": 7})
    assert info.value.message == "服务器繁忙，请稍后再试"
    holder.release.set()
    holder.join(2)
    assert budget.used == 0 and budget._queue == []


def test_one_user_cannot_take_the_whole_budget():
    """The attacker's second decode waits for their own first one (their share is half the budget),
    and the neighbour who arrives later is not queued behind it."""
    budget = DecodeBudget(100 * MB, user_share=0.5, wait_seconds=5)
    first = hold(budget, "attacker", 40 * MB)
    assert first.entered.wait(2)
    second = hold(budget, "attacker", 40 * MB)
    assert not second.entered.wait(0.3)  # 40 + 40 > 50: over the attacker's share
    neighbour = hold(budget, "neighbour", 40 * MB)
    assert neighbour.entered.wait(2) and neighbour.error is None  # passes the attacker's queued request
    first.release.set()
    assert second.entered.wait(2) and second.error is None
    for h in (second, neighbour):
        h.release.set()
        h.join(2)
    assert budget.used == 0


def test_a_user_may_keep_only_two_requests_waiting_so_a_burst_cannot_hold_every_thread():
    budget = DecodeBudget(100 * MB, user_share=0.5, wait_seconds=5, retry_after=4)
    running = hold(budget, "attacker", 40 * MB)
    assert running.entered.wait(2)
    waiting = [hold(budget, "attacker", 40 * MB) for _ in range(2)]
    time.sleep(0.2)
    assert not any(h.entered.is_set() for h in waiting)
    started = time.monotonic()
    with pytest.raises(Refused) as info:
        with budget.admit("attacker", 40 * MB):
            pass
    assert time.monotonic() - started < 0.5  # refused at once, without taking a thread for 5 s
    assert (info.value.status, info.value.details) == (503, {"retry_after": 4})
    other = hold(budget, "neighbour", 10 * MB)
    assert other.entered.wait(2) and other.error is None
    for h in [running, other, *waiting]:
        h.release.set()
    for h in [running, other, *waiting]:
        h.join(5)
    assert all(h.error is None for h in waiting) and budget.used == 0


def test_a_decode_larger_than_a_share_runs_alone_and_one_larger_than_the_budget_takes_all_of_it():
    budget = DecodeBudget(100 * MB, user_share=0.5, wait_seconds=5)
    big = hold(budget, "a", 70 * MB)  # more than the user's share: allowed while they hold nothing
    assert big.entered.wait(2) and budget.used == 70 * MB
    big.release.set()
    big.join(2)
    huge = hold(budget, "b", 500 * MB)  # clamped to the whole budget
    assert huge.entered.wait(2) and budget.used == 100 * MB
    small = hold(budget, "c", 1 * MB)
    assert not small.entered.wait(0.3)
    huge.release.set()
    assert small.entered.wait(2)
    small.release.set()
    small.join(2)


def test_large_requests_are_not_starved_by_a_stream_of_small_ones():
    budget = DecodeBudget(100 * MB, user_share=1.0, wait_seconds=5)
    first = hold(budget, "a", 50 * MB)
    assert first.entered.wait(2)
    large = hold(budget, "b", 80 * MB)  # waits for room
    time.sleep(0.1)
    small = hold(budget, "c", 10 * MB)  # would fit now, but the large one came first
    assert not small.entered.wait(0.3) and not large.entered.is_set()
    first.release.set()
    assert large.entered.wait(2) and small.entered.wait(2)
    assert small.started_at >= large.started_at
    for h in (large, small):
        h.release.set()
        h.join(2)


def test_memory_is_handed_back_when_the_budget_goes_idle_after_a_large_decode(monkeypatch):
    calls = []
    monkeypatch.setattr(media, "release_free_memory", lambda: calls.append(1))
    budget = DecodeBudget(100 * MB)
    with budget.admit("a", 1 * MB):
        pass
    assert calls == []  # small: not worth a trim
    with budget.admit("a", 64 * MB):
        with budget.admit("b", 1 * MB):
            pass
        assert calls == []  # something is still being decoded
    assert calls == [1]


def test_an_image_whose_decoding_alone_exceeds_the_budget_is_refused_before_decoding(monkeypatch):
    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded")

    monkeypatch.setattr(media, "_decode_and_fit", no_decoding)
    buf = io.BytesIO()
    Image.new("RGBA", (3000, 3000)).save(buf, "WEBP", lossless=True)  # 9 MP of WebP: about 150 MB
    with pytest.raises(Refused) as info:
        sanitise(buf.getvalue(), max_cost=64 * MB)
    assert info.value.code == "image_too_large" and info.value.details["budget_mb"] == 64


def test_every_decode_is_charged_to_the_budget():
    budget = DecodeBudget(512 * MB)
    charged = []

    def admit(cost):
        charged.append(cost)
        return budget.admit("a", cost)

    buf = io.BytesIO()
    Image.new("RGB", (3000, 2000), (9, 9, 9)).save(buf, "JPEG")
    sanitise(buf.getvalue(), admit=admit)
    assert len(charged) == 1 and charged[0] > 3000 * 2000 * 4 * 3 // 4 and budget.used == 0


# ---------------------------------------------------------------- the estimates against measured peaks


def _png(width, height, colour, depth=8):
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = b"\x00" + b"\x07" * ((width * channels * depth + 7) // 8)
    packer = zlib.compressobj(6)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    palette = chunk(b"PLTE", bytes(range(256)) * 3) if colour == 3 else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
            + palette + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _jpeg(width, height, **save):
    grey = Image.effect_noise((width, height), 40).convert("L")
    img = Image.merge("RGB", [grey, grey.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grey])
    buf = io.BytesIO()
    img.save(buf, "JPEG", **save)
    return buf.getvalue()


def _webp(width, height):
    buf = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 0, 0, 0)).save(buf, "WEBP", lossless=True)
    return buf.getvalue()


SAMPLES = {
    "png-rgba-16mp": lambda: _png(4000, 4000, 6),
    "png-palette-16mp": lambda: _png(4000, 4000, 3),
    "png-grey16-16mp": lambda: _png(4000, 4000, 0, depth=16),
    "jpeg-12mp": lambda: _jpeg(4000, 3000, quality=90),
    "jpeg-progressive-444-16mp": lambda: _jpeg(4000, 4000, quality=80, progressive=True, subsampling=0),
    "webp-8mp": lambda: _webp(3200, 2500),
}

CHILD = """
import io, json, sys
from PIL import Image
from backend.services.media import decode_cost, sanitise
data = sys.stdin.buffer.read()
from tests.media.support import image_bytes
for fmt in ("JPEG", "PNG", "WEBP"):  # imports and first allocations out of the way
    sanitise(image_bytes(fmt))
img = Image.open(io.BytesIO(data))
cost = decode_cost(img, "JPEG" if img.format == "MPO" else img.format, 2560)
img.close()
def field(name):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith(name + ":"))
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
before = field("VmRSS")
sanitise(data)
print(json.dumps({"cost": cost, "growth": field("VmHWM") - before}))
"""


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_decode_cost_is_an_upper_estimate_of_the_measured_peak(name):
    """Each sample is sanitised in a fresh interpreter that reports its high-water mark of resident
    memory (VmHWM, reset just before); the estimate must cover it and not exceed it by more than half."""
    from tests.servers import ROOT

    out = subprocess.run([sys.executable, "-c", CHILD], input=SAMPLES[name](), cwd=ROOT, capture_output=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    figures = json.loads(out.stdout.decode().strip().splitlines()[-1])
    cost, growth = figures["cost"] / MB, figures["growth"] / MB
    assert growth <= cost <= 1.5 * growth + 16, f"{name}: estimated {cost:.0f} MB, measured {growth:.0f} MB"
