"""What a witness remembers between runs (docs/protocol.md §15): per vote, the last head it co-signed
and the co-signatures not yet acknowledged, in a state directory written atomically; the evidence of
an inconsistency; and the lock that keeps two runs (cron overlapping itself) apart."""

from __future__ import annotations

import json
import os
from pathlib import Path

from . import PROTOCOL_1_1
from .canonical import loads_strict
from .entries import tree_head_problem
from .merkle import verify_consistency

EXPLANATIONS = {
    "same_size_different_root": (
        "服务器签署了两个条目数相同而根哈希不同的树头：只追加的日志不会这样，它给不同的人看了不同的日志（分叉视图）或改写了记录。",
        "The server signed two tree heads of the same size with different roots: an append-only log cannot do "
        "that; it showed different logs to different people (a split view) or rewrote its records."),
    "consistency_proof_fails": (
        "服务器签署了一个更大的树头，却证明不了见证人此前联署的日志是它的前缀：它可能改写或删除了记录，或给不同的人看了不同的日志。",
        "The server signed a larger tree head but could not prove that the log this witness co-signed before is "
        "a prefix of it: it may have rewritten or dropped records, or shown different logs to different people."),
    "rollback": (
        "服务器把一个比见证人已联署的树头更小的树头作为最新树头：它丢失或删除了已签署的记录，或在给见证人看另一份日志。",
        "The server presented as its newest a tree head smaller than one this witness already co-signed: it lost "
        "or deleted records it had signed, or it is showing this witness another log."),
}
TAIL = ("两个树头都有服务器的签名，任何人都可以用表决定义中的服务器公钥核验。请把本文件交给街道办和业主委员会。",
        "Both heads carry the server's signature; anyone can check them with the server key in the vote's "
        "definition. Hand this file to the street office and the owners' committee.")


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class State:
    """The state directory: votes/<vote_id>.json per vote, evidence-<vote_id>.json per inconsistency."""

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        (self.dir / "votes").mkdir(parents=True, exist_ok=True)

    def _path(self, vote_id: str) -> Path:
        return self.dir / "votes" / f"{vote_id}.json"

    def load(self, vote_id: str) -> dict | None:
        """The remembered state of a vote, or None the first time."""
        try:
            return loads_strict(self._path(vote_id).read_bytes())
        except FileNotFoundError:
            return None

    def save(self, vote_id: str, record: dict) -> None:
        write_atomically(self._path(vote_id), json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))

    def stopped(self) -> list[dict]:
        """Every vote this witness stopped co-signing because of an inconsistency."""
        out = []
        for path in sorted((self.dir / "votes").glob("*.json")):
            record = loads_strict(path.read_bytes())
            if record.get("stopped"):
                out.append(record)
        return out

    def write_evidence(self, record: dict, reason: str, new_head: dict, proof: list[str] | None) -> Path:
        """The evidence file of an inconsistency (docs/protocol.md §15.2); returns its path."""
        zh, en = EXPLANATIONS[reason]
        evidence = {
            "type": "witness_evidence", "protocol": PROTOCOL_1_1, "vote_id": record["vote_id"],
            "server_key": record["server_key"], "witness": record["witness"], "reason": reason,
            "cosigned_tree_head": record["cosigned"]["tree_head"], "tree_head": new_head,
            "consistency_proof": proof, "explanation": {"zh": zh + TAIL[0], "en": en + " " + TAIL[1]},
        }  # fmt: skip
        path = self.dir / f"evidence-{record['vote_id']}.json"
        write_atomically(path, json.dumps(evidence, ensure_ascii=False, indent=1).encode("utf-8"))
        return path


def evidence_problem(evidence) -> str | None:
    """Why an evidence file does not prove what it says, or None when both heads are the server's and
    cannot both be prefixes of one log (or, for a rollback, the newer claim is smaller)."""
    if not isinstance(evidence, dict) or evidence.get("type") != "witness_evidence":
        return "not a witness evidence file"
    old, new = evidence.get("cosigned_tree_head"), evidence.get("tree_head")
    for name, head in (("cosigned_tree_head", old), ("tree_head", new)):
        problem = tree_head_problem(head, evidence.get("vote_id"), evidence.get("server_key"))
        if problem:
            return f"{name}: {problem}"
    reason = evidence.get("reason")
    if reason == "same_size_different_root":
        return None if old["size"] == new["size"] and old["root"] != new["root"] else "the heads do not conflict"
    if reason == "rollback":
        return None if new["size"] < old["size"] else "the newer head is not smaller"
    if reason == "consistency_proof_fails":
        proof = evidence.get("consistency_proof")
        if not isinstance(proof, list) or not all(isinstance(p, str) and len(p) == 64 for p in proof):
            return "no consistency proof" if proof is None else "the consistency proof is not a list of hex hashes"
        if not old["size"] < new["size"]:
            return "the newer head is not larger"
        try:
            hashes = [bytes.fromhex(p) for p in proof]
        except ValueError:
            return "the consistency proof is not hex"
        if verify_consistency(old["size"], new["size"], bytes.fromhex(old["root"]), bytes.fromhex(new["root"]), hashes):
            return "the consistency proof verifies: no inconsistency"
        return None
    return f"unknown reason {reason!r}"


class Lock:
    """An exclusive lock on <state>/.lock for one run (fcntl on POSIX, msvcrt on Windows)."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / ".lock"
        self.handle = None

    def acquire(self) -> bool:
        """True if this run holds the lock; False if another run does."""
        self.handle = open(self.path, "a+b")
        try:
            try:
                import fcntl

                fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # Windows
                import msvcrt

                msvcrt.locking(self.handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            self.handle.close()
            self.handle = None
            return False
        return True

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing drops the lock on both systems
            self.handle = None
