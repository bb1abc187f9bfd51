"""Witnesses (docs/protocol.md §5.1, §6.4, §15): the definition's witness list, co-signatures of tree
heads, signed witness requests, and which co-signed heads conflict (equivocation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .canonical import canonical, is_hash_hex, parse_time
from .forms import (ProtocolError, exact_keys, is_id, is_int, is_public_key, is_signature, is_text, require,
                    time_field, time_str)
from .keys import sign_object, verify_bytes, verify_object

WITNESS_KEYS = frozenset({"id", "name", "public_key"})
COSIGNATURE_KEYS = frozenset({"type", "vote_id", "size", "root", "witness", "timestamp", "signature"})
REQUEST_KEYS = frozenset({"type", "method", "target", "timestamp"})
MAX_WITNESSES = 64
REQUEST_SKEW = timedelta(minutes=5)  # a signed witness request is good this long either side of its time

# The HTTP headers of a signed witness request (docs/protocol.md §15.3, docs/votes.md "Witnesses").
HEADER_KEY, HEADER_TIME, HEADER_SIGNATURE = "X-Linli-Witness-Key", "X-Linli-Witness-Time", "X-Linli-Witness-Signature"


# --- the definition's witnesses -------------------------------------------------------------------


def validate_witnesses(witnesses, quorum, server_key) -> None:
    """Raise ProtocolError unless (witnesses, witness_quorum) are as §5.1 requires."""
    require(isinstance(witnesses, list), "definition.witnesses must be a list")
    require(len(witnesses) <= MAX_WITNESSES, f"definition.witnesses: at most {MAX_WITNESSES}")
    for i, w in enumerate(witnesses):
        exact_keys(w, WITNESS_KEYS, f"definition.witnesses[{i}]")
        require(is_id(w["id"]), f"definition.witnesses[{i}].id is not an identifier")
        require(is_text(w["name"]), f"definition.witnesses[{i}].name must be a non-empty NFC string")
        require(is_public_key(w["public_key"]), f"definition.witnesses[{i}].public_key is not a b64u Ed25519 public key")
        require(w["public_key"] != server_key, f"definition.witnesses[{i}].public_key is the server's key")
    ids = [w["id"] for w in witnesses]
    keys = [w["public_key"] for w in witnesses]
    require(len(set(ids)) == len(ids), "definition.witnesses: ids repeat")
    require(len(set(keys)) == len(keys), "definition.witnesses: public keys repeat")
    if witnesses:
        require(is_int(quorum) and 1 <= quorum <= len(witnesses), "definition.witness_quorum must be 1..len(witnesses)")
    else:
        require(is_int(quorum) and quorum == 0, "definition.witness_quorum must be 0 without witnesses")


def witness_list(witnesses: Iterable[Mapping]) -> list[dict]:
    """The definition's `witnesses` from {id, name, public_key} mappings (extra fields dropped)."""
    return [{"id": w["id"], "name": w["name"], "public_key": w["public_key"]} for w in witnesses]


# --- co-signatures --------------------------------------------------------------------------------


def make_cosignature(private_key: Ed25519PrivateKey, vote_id: str, size: int, root: str | bytes, witness: str,
                     timestamp: str | datetime) -> dict:  # fmt: skip
    """A witness's co-signature of the tree head (size, root) of vote_id."""
    root_hex = root.hex() if isinstance(root, bytes) else root
    body = {"type": "cosignature", "vote_id": vote_id, "size": size, "root": root_hex, "witness": witness,
            "timestamp": time_str(timestamp, "timestamp")}  # fmt: skip
    return sign_object(private_key, body)


def cosignature_shape_problem(cosignature) -> str | None:
    """Why cosignature is not of the co-signature's form (§6.4), or None."""
    try:
        exact_keys(cosignature, COSIGNATURE_KEYS, "co-signature")
        require(cosignature["type"] == "cosignature", "co-signature type must be 'cosignature'")
        require(is_id(cosignature["vote_id"]), "co-signature vote_id is not an identifier")
        require(is_int(cosignature["size"]) and cosignature["size"] >= 1, "co-signature size must be an integer >= 1")
        require(is_hash_hex(cosignature["root"]), "co-signature root is not a lowercase hex SHA-256")
        require(is_id(cosignature["witness"]), "co-signature witness is not an identifier")
        time_field(cosignature, "timestamp", "co-signature")
        require(is_signature(cosignature["signature"]), "co-signature signature is not b64u of 64 bytes")
    except ProtocolError as exc:
        return str(exc)
    return None


def cosignature_problem(cosignature, vote_id: str, witness_keys: Mapping[str, str]) -> str | None:
    """Why cosignature is not a valid co-signature of vote_id by one of `witness_keys` (id → key), or None."""
    problem = cosignature_shape_problem(cosignature)
    if problem:
        return problem
    if cosignature["vote_id"] != vote_id:
        return f"co-signature for vote {cosignature['vote_id']}, not {vote_id}"
    key = witness_keys.get(cosignature["witness"])
    if key is None:
        return f"unknown witness {cosignature['witness']}: the definition names no such witness"
    if not verify_object(key, cosignature):
        return f"forged co-signature: the signature does not verify with witness {cosignature['witness']}'s key"
    return None


def head_text(obj: Mapping) -> str:
    """A head (or co-signature) for people: size and root, and who co-signed it when it is a co-signature."""
    who = f" co-signed by {obj['witness']} at {obj['timestamp']}" if "witness" in obj else ""
    return f"(size {obj['size']}, root {obj['root']}){who}"


@dataclass(frozen=True)
class Conflict:
    """Two valid co-signatures whose heads cannot both be prefixes of one log."""

    first: dict
    second: dict

    def text(self) -> str:
        """Both heads, for the report."""
        return f"equivocation: {head_text(self.first)} conflicts with {head_text(self.second)}"


def conflicts(cosignatures: Sequence[dict], prefix_root: Callable[[int], str | None]) -> list[Conflict]:
    """The equivocations among valid co-signatures of one vote (docs/protocol.md §11 check 13).

    prefix_root(m) is the root of the final log's first m entries (None beyond the log). Two heads
    conflict when they have the same size and different roots, or when the larger agrees with the
    final log and the smaller does not (it cannot be a prefix of it). Heads that both disagree with
    the log and differ in size cannot be judged without a proof between them (check 12 names them).
    """
    found: list[Conflict] = []
    by_size: dict[int, dict[str, dict]] = {}
    for c in cosignatures:
        by_size.setdefault(c["size"], {}).setdefault(c["root"], c)
    for size in sorted(by_size):
        roots = sorted(by_size[size])
        for i, a in enumerate(roots):
            for b in roots[i + 1:]:
                found.append(Conflict(by_size[size][a], by_size[size][b]))
    # A disagreeing head conflicts with the smallest larger co-signed head that agrees with the log.
    roots_of_log = {size: prefix_root(size) for size in by_size}
    agreeing = [size for size in sorted(by_size) if roots_of_log[size] in by_size[size]]
    for size in sorted(by_size):
        if len(by_size[size]) > 1:
            continue  # reported above, with its same-size rival
        for root, c in by_size[size].items():
            if root == roots_of_log[size]:
                continue
            larger = next((s for s in agreeing if s > size), None)
            if larger is not None:
                found.append(Conflict(c, by_size[larger][roots_of_log[larger]]))
    return found


# --- signed witness requests (§15.3) --------------------------------------------------------------


def request_body(method: str, target: str, timestamp: str) -> dict:
    """The object a witness signs to read from the server: method, path with query, time."""
    return {"type": "witness_request", "method": method.upper(), "target": target, "timestamp": timestamp}


def sign_request(private_key: Ed25519PrivateKey, public_key: str, method: str, target: str, timestamp: str) -> dict:
    """The headers of a signed witness request."""
    signed = sign_object(private_key, request_body(method, target, timestamp))
    return {HEADER_KEY: public_key, HEADER_TIME: timestamp, HEADER_SIGNATURE: signed["signature"]}


def request_problem(public_key, signature, method: str, target: str, timestamp, now: datetime) -> str | None:
    """Why the signed request headers do not hold at `now` (form, time, signature), or None."""
    if not is_public_key(public_key) or not is_signature(signature) or not isinstance(timestamp, str):
        return "malformed"
    try:
        moment = parse_time(timestamp)
    except ValueError:
        return "malformed"
    if abs(moment - now) > REQUEST_SKEW:
        return "stale"
    if not verify_bytes(public_key, signature, canonical(request_body(method, target, timestamp))):
        return "signature"
    return None
