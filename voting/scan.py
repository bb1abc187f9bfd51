"""The per-item scan of a bundle — each roll entry and log entry parsed, canonicalised, hashed and
checked on its own — in forked worker processes when the bundle is large enough to pay for them."""

from __future__ import annotations

import gc
import multiprocessing
import os
from typing import Callable

from .canonical import dumps
from .counting import SignatureChecker, scan_entry
from .entries import ProtocolError, validate_roll_entry
from .merkle import leaf_hash

PARALLEL_MIN = 4000  # below this many roll entries + log entries one process is faster than forking
CHUNK = 2000  # items per task: small enough to balance two cores and report progress

_SCAN: tuple | None = None  # (roll, entries, definition, rights) inherited by forked workers


def _scan_roll(lo: int, hi: int) -> tuple[str, int, bytes, list]:
    roll = _SCAN[0]
    hashes, problems = [], []
    for i in range(lo, hi):
        item = roll[i]
        try:
            validate_roll_entry(item)
        except ProtocolError as exc:
            problems.append((i, str(exc)))
        hashes.append(leaf_hash(dumps(item)))
    return "roll", lo, b"".join(hashes), problems


def _scan_entries(lo: int, hi: int) -> tuple[str, int, bytes, list]:
    _, entries, definition, rights = _SCAN
    signatures = SignatureChecker()
    hashes, problems = [], []
    for i in range(lo, hi):
        if i == 0:
            hashes.append(leaf_hash(dumps(entries[0])))  # the definition, checked on its own
            continue
        leaf, problem = scan_entry(entries[i], definition, rights, signatures)
        hashes.append(leaf_hash(leaf))
        if problem is not None:
            problems.append((i, problem))
    return "entries", lo, b"".join(hashes), problems


def _scan_task(task: tuple[str, int, int]):
    kind, lo, hi = task
    return _scan_roll(lo, hi) if kind == "roll" else _scan_entries(lo, hi)


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def scan(roll, entries, definition, rights, workers: int | None, progress: Callable[[int, int], None] | None):
    """Leaf hashes and per-item problems of roll and entries, using forked workers when it pays."""
    global _SCAN
    tasks = [("roll", lo, min(lo + CHUNK, len(roll))) for lo in range(0, len(roll), CHUNK)]
    tasks += [("entries", lo, min(lo + CHUNK, len(entries))) for lo in range(0, len(entries), CHUNK)]
    total = len(roll) + len(entries)
    workers = _default_workers() if workers is None else workers
    parallel = workers > 1 and total >= PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods()
    _SCAN = (roll, entries, definition, rights)
    try:
        if parallel:
            # fork: the workers inherit the parsed bundle instead of receiving it through pickles;
            # gc.freeze keeps their collector from touching (and so copying) the parent's objects.
            gc.freeze()
            try:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    results = _collect(pool.imap_unordered(_scan_task, tasks), total, progress)
            finally:
                gc.unfreeze()
        else:
            results = _collect(map(_scan_task, tasks), total, progress)
    finally:
        _SCAN = None
    roll_hashes: list[bytes] = [b""] * len(roll)
    entry_hashes: list[bytes] = [b""] * len(entries)
    roll_problems: dict[int, str] = {}
    entry_problems: dict[int, tuple[str, str]] = {}
    for kind, lo, joined, problems in results:
        target = roll_hashes if kind == "roll" else entry_hashes
        for k in range(len(joined) // 32):
            target[lo + k] = joined[32 * k : 32 * k + 32]
        (roll_problems if kind == "roll" else entry_problems).update(problems)
    return roll_hashes, roll_problems, entry_hashes, entry_problems


def _collect(iterator, total: int, progress):
    results, done = [], 0
    for result in iterator:
        results.append(result)
        done += len(result[2]) // 32
        if progress:
            progress(done, total)
    return results
