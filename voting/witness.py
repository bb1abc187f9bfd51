"""The witness (docs/protocol.md §15): co-signs the tree heads of the votes it witnesses, each only
after proving it consistent with the last head it co-signed, and stops with evidence when a server
shows it a log that cannot be.

    python -m voting.witness --key KEYFILE --init
    python -m voting.witness --server URL --key KEYFILE --state DIR [--community ID] [--once | --every S]
    python -m voting.witness --check-evidence FILE

Standard library and `cryptography` only, so that a street office can run it from cron on any PC.
Exit status: 0 done (or another run holds the state's lock); 1 an inconsistency — found now, or
found before and still standing (the vote is no longer co-signed; see the evidence file); 2 the run
could not do its work (no server, a refused request, a bad answer, a bad key file or arguments).
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Sequence

from . import PROTOCOL_1_1
from .canonical import CanonicalError, canonical, format_time, loads_strict
from .entries import ProtocolError, parse_definition, tree_head_problem
from .keys import generate_key, load_signing_key, public_key_b64u, save_signing_key
from .merkle import leaf_hash, verify_consistency, verify_inclusion
from .witness_state import Lock, State, evidence_problem
from .witnesses import make_cosignature, sign_request

EXIT_OK, EXIT_INCONSISTENT, EXIT_ERROR = 0, 1, 2
TIMEOUT = 30  # seconds per HTTP request


class Failure(Exception):
    """The run cannot do its work (network, a refused request, an answer that is not what the API promises)."""


def say(zh: str, en: str, err: bool = False) -> None:
    print(f"{zh} / {en}", file=sys.stderr if err else sys.stdout, flush=True)


class Server:
    """The Linli server, as a witness talks to it: signed reads, co-signatures posted as they are."""

    def __init__(self, base: str, key, public_key: str):
        self.base = base.rstrip("/")
        self.prefix = urllib.parse.urlsplit(self.base).path
        self.key, self.public_key = key, public_key

    def get(self, path: str, query: dict | None = None) -> dict:
        target = self.prefix + path + ("?" + urllib.parse.urlencode(query) if query else "")
        stamp = format_time(datetime.now(timezone.utc))
        headers = sign_request(self.key, self.public_key, "GET", target, stamp)
        return self._send(urllib.request.Request(self.base + target[len(self.prefix):], headers=headers))

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(self.base + path, data=canonical(body), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            return 201, self._send(request)
        except Failure as exc:
            if exc.args[1:] and exc.args[1] == 409:
                return 409, exc.args[2]
            raise

    def _send(self, request) -> dict:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return loads_strict(response.read())
        except urllib.error.HTTPError as exc:
            try:
                error = loads_strict(exc.read()).get("error", {})
            except (ValueError, AttributeError):
                error = {}
            raise Failure(f"{request.get_method()} {request.full_url}: HTTP {exc.code} {error.get('code', '')} "
                          f"{error.get('message', '')}".strip(), exc.code, error) from None
        except (urllib.error.URLError, OSError) as exc:
            raise Failure(f"{request.get_method()} {request.full_url}: {getattr(exc, 'reason', exc)}") from None
        except (ValueError, CanonicalError) as exc:
            raise Failure(f"{request.get_method()} {request.full_url}: the answer is not JSON ({exc})") from None


class Witness:
    """One run over the votes this witness witnesses."""

    def __init__(self, server: Server, state: State, key, public_key: str):
        self.server, self.state, self.key, self.public_key = server, state, key, public_key
        self.inconsistent = 0

    def run(self, community: int | None) -> None:
        listing = self.server.get("/api/v1/witness/votes", {"community": community} if community else None)
        votes = listing.get("votes") if isinstance(listing, dict) else None
        if not isinstance(votes, list):
            raise Failure("the list of votes is not {'votes': [...]}")
        for item in votes:
            if isinstance(item, dict) and isinstance(item.get("vote_id"), str):
                self.vote(item["vote_id"])

    def vote(self, vote_id: str) -> None:
        record = self.state.load(vote_id)
        if record and record.get("stopped"):
            return  # reported at the end of every run
        if record:
            self._post_pending(record)
        last = record["cosigned"] if record and record.get("cosigned") else None
        answer = self.server.get(f"/api/v1/witness/votes/{vote_id}/head", {"first": last["size"]} if last else None)
        head, definition = self._check_answer(vote_id, answer, record)
        if record is None:
            record = {"vote_id": vote_id, "server_key": definition.server_key, "witness": self._my_id(definition),
                      "definition_hash": leaf_hash(canonical(definition.entry)).hex(), "cosigned": None, "pending": [],
                      "stopped": None}  # fmt: skip
        if last is not None:
            reason = self._inconsistency(last, head, answer.get("consistency_proof"))
            if reason is False:
                return  # this head was co-signed already: never twice for one size
            if reason:
                self._stop(record, reason, head, answer.get("consistency_proof"))
                return
        cosignature = make_cosignature(self.key, vote_id, head["size"], head["root"], record["witness"],
                                       format_time(datetime.now(timezone.utc)))
        record["cosigned"] = {"size": head["size"], "root": head["root"], "tree_head": head}
        record["pending"].append(cosignature)
        self.state.save(vote_id, record)  # remembered before it is sent: never two roots for one size
        self._post_pending(record)
        say(f"已联署 {vote_id} 第 {head['size']} 条的树头", f"co-signed {vote_id} at size {head['size']}")

    def _my_id(self, definition) -> str:
        return next(w["id"] for w in definition.witnesses if w["public_key"] == self.public_key)

    def _check_answer(self, vote_id: str, answer, record):
        """The server-signed head and the definition, both checked (docs/protocol.md §15.1 step 2)."""
        if not isinstance(answer, dict):
            raise Failure(f"{vote_id}: the answer is not an object")
        try:
            definition = parse_definition(answer.get("definition"))
        except ProtocolError as exc:
            raise Failure(f"{vote_id}: entry 0 is not a definition: {exc}") from None
        head = answer.get("tree_head")
        if definition.vote_id != vote_id or definition.protocol != PROTOCOL_1_1:
            raise Failure(f"{vote_id}: entry 0 is the definition of {definition.vote_id} ({definition.protocol})")
        if self.public_key not in {w["public_key"] for w in definition.witnesses}:
            raise Failure(f"{vote_id}: the definition does not name this witness's key")
        problem = tree_head_problem(head, vote_id, definition.server_key)
        if problem or head["size"] < 1:
            raise Failure(f"{vote_id}: the tree head is not the server's: {problem or 'empty'}")
        if record and record["server_key"] != definition.server_key:
            raise Failure(f"{vote_id}: the server key changed since this witness first saw the vote")
        if record and record["definition_hash"] != leaf_hash(canonical(definition.entry)).hex():
            raise Failure(f"{vote_id}: entry 0 changed since this witness first saw the vote")
        proof = answer.get("definition_proof")
        try:
            hashes = [bytes.fromhex(p) for p in proof]
        except (TypeError, ValueError):
            raise Failure(f"{vote_id}: the definition's inclusion proof is not a list of hex hashes") from None
        if not verify_inclusion(leaf_hash(canonical(definition.entry)), 0, head["size"], hashes, bytes.fromhex(head["root"])):
            raise Failure(f"{vote_id}: entry 0 is not leaf 0 of the signed tree head")
        return head, definition

    @staticmethod
    def _inconsistency(last: dict, head: dict, proof) -> str | None | bool:
        """None: consistent and larger; False: the same head again; else the reason it cannot be."""
        if head["size"] == last["size"]:
            return False if head["root"] == last["root"] else "same_size_different_root"
        if head["size"] < last["size"]:
            return "rollback"
        try:
            hashes = [bytes.fromhex(p) for p in proof]
        except (TypeError, ValueError):
            return "consistency_proof_fails"
        ok = verify_consistency(last["size"], head["size"], bytes.fromhex(last["root"]), bytes.fromhex(head["root"]), hashes)
        return None if ok else "consistency_proof_fails"

    def _stop(self, record: dict, reason: str, head: dict, proof) -> None:
        proof = proof if isinstance(proof, list) else None
        path = self.state.write_evidence(record, reason, head, proof)
        record["stopped"] = {"reason": reason, "evidence": str(path), "at": format_time(datetime.now(timezone.utc))}
        self.state.save(record["vote_id"], record)
        self.inconsistent += 1
        say(f"发现不一致：表决 {record['vote_id']} 的服务器日志与本见证人已联署的不一致（{reason}），已停止联署，证据见 {path}",
            f"INCONSISTENCY: the server's log of vote {record['vote_id']} is not consistent with what this witness "
            f"co-signed ({reason}); co-signing stopped, evidence in {path}", err=True)

    def _post_pending(self, record: dict) -> None:
        while record["pending"]:
            cosignature = record["pending"][0]
            status, body = self.server.post(f"/api/v1/votes/{record['vote_id']}/cosignatures", cosignature)
            if status == 409 and body.get("code") != "cosignature_exists":
                raise Failure(f"{record['vote_id']}: the co-signature was refused: {body.get('code')}")
            record["pending"].pop(0)
            self.state.save(record["vote_id"], record)


def _init(key_path: str) -> int:
    key = generate_key()
    try:
        save_signing_key(key, key_path)
    except FileExistsError:
        say(f"{key_path} 已存在，未覆盖", f"{key_path} exists; not overwritten", err=True)
        return EXIT_ERROR
    say("已生成见证人密钥，请把以下公钥交给平台管理员或业委会登记", "witness key made; register this public key")
    print(public_key_b64u(key))
    return EXIT_OK


def _check_evidence(path: str) -> int:
    try:
        with open(path, "rb") as handle:
            evidence = loads_strict(handle.read())
    except (OSError, ValueError, CanonicalError) as exc:
        say(f"无法读取证据文件：{exc}", f"cannot read the evidence: {exc}", err=True)
        return EXIT_ERROR
    problem = evidence_problem(evidence)
    if problem:
        say(f"证据不成立：{problem}", f"the evidence does not hold: {problem}")
        return EXIT_INCONSISTENT
    say("证据成立：服务器签署了两个不能同时成立的树头", "the evidence holds: the server signed two heads that cannot both be true")
    return EXIT_OK


def run_once(args, key, public_key: str) -> int:
    state = State(args.state)
    lock = Lock(state.dir)
    if not lock.acquire():
        say("另一个见证进程正在使用该状态目录，本次跳过", "another witness run holds the state directory; skipped")
        return EXIT_OK
    try:
        witness = Witness(Server(args.server, key, public_key), state, key, public_key)
        try:
            witness.run(args.community)
        except Failure as exc:
            say(f"本次见证未完成：{exc.args[0]}", f"the run could not finish: {exc.args[0]}", err=True)
            return EXIT_ERROR
        for record in state.stopped():
            say(f"表决 {record['vote_id']} 已因不一致停止联署，证据见 {record['stopped']['evidence']}",
                f"vote {record['vote_id']} is no longer co-signed after an inconsistency; evidence in "
                f"{record['stopped']['evidence']}", err=True)
        return EXIT_INCONSISTENT if state.stopped() else EXIT_OK
    finally:
        lock.release()


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m voting.witness", description="linli-vote/1.1 见证人 / witness")
    parser.add_argument("--server", help="the Linli server, e.g. https://linli.example.cn")
    parser.add_argument("--key", help="the witness's private key file (PEM)")
    parser.add_argument("--state", help="the state directory (remembers what this witness co-signed)")
    parser.add_argument("--community", type=int, help="only the votes of this community")
    parser.add_argument("--init", action="store_true", help="make the key file and print the public key to register")
    parser.add_argument("--check-evidence", metavar="FILE", help="re-check an evidence file offline")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one run (the default)")
    mode.add_argument("--every", type=int, metavar="S", help="run every S seconds until stopped")
    args = parser.parse_args(argv)
    if args.check_evidence:
        return _check_evidence(args.check_evidence)
    if not args.key:
        parser.error("--key is required")
    if args.init:
        return _init(args.key)
    if not args.server or not args.state:
        parser.error("--server and --state are required")
    try:
        key = load_signing_key(args.key)
    except (OSError, ValueError) as exc:
        say(f"无法读取密钥文件：{exc}", f"cannot read the key file: {exc}", err=True)
        return EXIT_ERROR
    public_key = public_key_b64u(key)
    if not args.every:
        return run_once(args, key, public_key)
    while True:
        status = run_once(args, key, public_key)
        if status == EXIT_INCONSISTENT:
            return status
        time.sleep(args.every)


if __name__ == "__main__":
    sys.exit(main())
