"""Benchmark: the CPU a witness spends co-signing a vote whose log grew by 10,000 entries since the head it
last co-signed, against — in the same run — a witness run after the log grew by one entry, and the
bare start of the program (`python -m voting.witness --help`).

The witness runs as its own process (`python -m voting.witness --once`, as cron starts it) against the
stand-in server of tests/voting/witness_server.py (stdlib http.server in this process, serving a log
built by tests/voting/simulate.py); the witness's CPU is the child's user + system time
(resource.getrusage(RUSAGE_CHILDREN)), so the server's work is not counted. Target: < 1 s.

Run: .venv/bin/python bench/witness_bench.py [--start N] [--grow N] [--rounds N]
Prints figures and exits 0; it is not a test and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voting import PROTOCOL_1_1  # noqa: E402
from voting.keys import generate_key, save_signing_key  # noqa: E402
from tests.voting.simulate import VoteBuilder, fast_key_factory, make_rights  # noqa: E402
from tests.voting.witness_server import WitnessServer  # noqa: E402


def child_cpu(args: list[str]) -> tuple[float, float, str]:
    """(CPU seconds of the child, wall seconds, its output) for one run of `python args`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"witness failed ({done.returncode}): {done.stdout}{done.stderr}")
    return cpu, wall, done.stdout


def grow(builder: VoteBuilder, ids: list[str], n: int) -> None:
    for i in range(n):
        builder.cast(ids[i % len(ids)], {"option": "approve"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--start", type=int, default=10_000, help="entries before the first co-signature")
    parser.add_argument("--grow", type=int, default=10_000, help="entries added before the measured co-signature")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}; load average before: {os.getloadavg()[0]:.2f}")
    startup = [child_cpu(["-m", "voting.witness", "--help"])[0] for _ in range(args.rounds)]
    grown, one = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            key = generate_key()
            key_path = Path(tmp) / f"w{r}.pem"
            save_signing_key(key, key_path)
            builder = VoteBuilder(make_rights([1000 + i for i in range(2000)]), protocol=PROTOCOL_1_1,
                                  witnesses=[("w-street", "街道办", key)], witness_quorum=1,
                                  key_factory=fast_key_factory(r), vote_id=f"v{r + 1}-0a1b2c3d")
            ids = [item["right_id"] for item in builder.roll]
            grow(builder, ids, args.start)
            run = ["-m", "voting.witness", "--server", None, "--key", str(key_path), "--state", f"{tmp}/s{r}", "--once"]
            with WitnessServer(builder) as server:
                run[3] = server.url
                server.tree()  # the server's Merkle tree is built before the witness is timed
                child_cpu(run)  # the first co-signature, taken on first sight
                grow(builder, ids, args.grow)
                server.tree()
                cpu, wall, out = child_cpu(run)
                assert f"at size {args.start + args.grow + 1}" in out, out
                grown.append((cpu, wall))
                grow(builder, ids, 1)
                server.tree()
                cpu1, wall1, out = child_cpu(run)
                assert f"at size {args.start + args.grow + 2}" in out, out
                one.append((cpu1, wall1))
                assert len(server.cosignatures) == 3 and not server.refused
    fmt = lambda xs: ", ".join(f"{x:.3f}" for x in xs)  # noqa: E731
    print(f"program start (--help): CPU {fmt(startup)} s")
    print(f"co-signing after the log grew by {args.grow:,} entries (from {args.start + 1:,}): CPU {fmt([c for c, _ in grown])} s;"
          f" wall {fmt([w for _, w in grown])} s  (target: CPU < 1 s)")
    print(f"co-signing after the log grew by 1 entry: CPU {fmt([c for c, _ in one])} s; wall {fmt([w for _, w in one])} s")
    print(f"load average now: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
