"""The checks of one log entry that need nothing but the entry, the definition and the roll — shape,
vote, right in the roll, window, signature — and its canonical leaf (docs/protocol.md §7). What
depends on the log before the entry is applied by voting.counting.Replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import PROTOCOL_1
from .canonical import b64u_decode, dumps, parse_time
from .delegations import KINDS as DELEGATION_KINDS
from .delegations import signed_part
from .entries import Definition, ProtocolError, validate_entry

# The verifier's numbered checks that a problem found while replaying the log belongs to.
FORMAT = "format"  # an entry that is not well-formed for its type
KEYS = "keys"  # an inconsistent key binding or revocation
BALLOTS = "ballots"  # a signed or paper ballot that is not valid
CLOSE = "close"  # the close entry missing, misplaced or early
DELEGATIONS = "delegations"  # [1.1] a delegation or delegation revocation that is not valid


@dataclass(frozen=True)
class Problem:
    """Something wrong with one entry (index) or the log as a whole (index None)."""

    index: int | None
    check: str
    message: str


class SignatureChecker:
    """Verifies Ed25519 signatures, caching decoded public keys (one device key signs many ballots)."""

    def __init__(self):
        self._keys: dict[str, Ed25519PublicKey] = {}

    def verify(self, public_key: str, signature: str, message: bytes) -> bool:
        """True iff the signature verifies; inputs are already shape-checked b64u."""
        key = self._keys.get(public_key)
        if key is None:
            key = self._keys[public_key] = Ed25519PublicKey.from_public_bytes(b64u_decode(public_key))
        try:
            key.verify(b64u_decode(signature), message)
        except InvalidSignature:
            return False
        return True


def intrinsic_problem(
    entry, definition: Definition, rights: Mapping[str, dict], signatures: SignatureChecker | None
) -> tuple[str, str] | None:
    """(check, message) for what is wrong with entry on its own — shape, vote, roll, window, signature — or None.

    The remaining rules depend on the log before the entry (bound keys, used nonces) and are
    applied by Replay. With signatures=None the signature of a ballot is not checked.
    """
    return scan_entry(entry, definition, rights, signatures, want_leaf=False)[1]


def _ballot_bytes(ballot: dict) -> bytes:
    # canonical(B) for a validated B: every value is an identifier, base64url, a time or an
    # option/candidate id, none of which JSON escapes, so plain formatting in sorted-key order is
    # byte-identical and several times faster than the general encoder. Tests hold it equal.
    choice = ballot["choice"]
    if "option" in choice:
        choice_json = f'{{"option":"{choice["option"]}"}}'
    else:
        choice_json = '{"approve":[' + ",".join(f'"{c}"' for c in choice["approve"]) + "]}"
    return (
        f'{{"choice":{choice_json},"nonce":"{ballot["nonce"]}","right_id":"{ballot["right_id"]}",'
        f'"signed_at":"{ballot["signed_at"]}","type":"ballot","vote_id":"{ballot["vote_id"]}"}}'
    ).encode("ascii")


def _ballot_leaf(entry: dict, ballot_bytes: bytes) -> bytes:
    # canonical(entry) for a validated ballot entry, reusing canonical(B) (same reasoning as above).
    envelope = entry["envelope"]
    return b"".join((
        b'{"envelope":{"ballot":', ballot_bytes,
        b',"public_key":"', envelope["public_key"].encode("ascii"),
        b'","signature":"', envelope["signature"].encode("ascii"),
        b'"},"received_at":"', entry["received_at"].encode("ascii"),
        b'","type":"ballot"}',
    ))  # fmt: skip


def scan_entry(
    entry, definition: Definition, rights: Mapping[str, dict], signatures: SignatureChecker | None, want_leaf=True
) -> tuple[bytes | None, tuple[str, str] | None]:
    """(canonical leaf bytes, intrinsic problem) of one entry, canonicalising a ballot only once."""
    kind = entry.get("type") if isinstance(entry, dict) else None
    try:
        validate_entry(entry, definition)
    except ProtocolError as exc:
        return (dumps(entry) if want_leaf else None), (_check_of(kind, definition), str(exc))
    if kind in DELEGATION_KINDS:
        return (dumps(entry) if want_leaf else None), _delegation_problem(entry, kind, definition, rights, signatures)
    if kind != "ballot":
        return (dumps(entry) if want_leaf else None), _other_problem(entry, kind, definition, rights)
    envelope = entry["envelope"]
    ballot = envelope["ballot"]
    ballot_bytes = _ballot_bytes(ballot)
    leaf = _ballot_leaf(entry, ballot_bytes) if want_leaf else None
    if ballot["right_id"] not in rights:
        return leaf, (BALLOTS, f"ballot for right {ballot['right_id']} which is not in the roll")
    if not definition.opens_at <= parse_time(entry["received_at"]) < definition.closes_at:
        return leaf, (BALLOTS, f"ballot received at {entry['received_at']}, outside [opens_at, closes_at)")
    if signatures is not None and not signatures.verify(envelope["public_key"], envelope["signature"], ballot_bytes):
        return leaf, (BALLOTS, "ballot signature does not verify with its public key")
    return leaf, None


def _check_of(kind, definition: Definition) -> str:
    """The check a malformed entry of this type fails: ballots and [1.1] delegations have their own."""
    if kind in ("ballot", "paper_ballot"):
        return BALLOTS
    if kind in DELEGATION_KINDS and definition.protocol != PROTOCOL_1:
        return DELEGATIONS
    return FORMAT  # including a delegation in a linli-vote/1 log: an unknown type there


def _delegation_problem(entry: dict, kind: str, definition: Definition, rights: Mapping[str, dict],
                        signatures: SignatureChecker | None):  # fmt: skip
    signed = signed_part(entry)
    if signed["right_id"] not in rights:
        return DELEGATIONS, f"{kind} for right {signed['right_id']} which is not in the roll"
    if not definition.opens_at <= parse_time(entry["received_at"]) < definition.closes_at:
        return DELEGATIONS, f"{kind} received at {entry['received_at']}, outside [opens_at, closes_at)"
    envelope = entry["envelope"]
    if signatures is not None and not signatures.verify(envelope["public_key"], envelope["signature"], dumps(signed)):
        return DELEGATIONS, f"{kind} signature does not verify with its public key"
    return None


def _other_problem(entry: dict, kind: str, definition: Definition, rights: Mapping[str, dict]):
    if kind == "close":
        if parse_time(entry["closed_at"]) < definition.closes_at:
            return CLOSE, "closed_at is before the definition's closes_at"
        return None
    if kind in ("key_binding", "key_revocation"):
        if entry["right_id"] not in rights:
            return KEYS, f"{kind} for right {entry['right_id']} which is not in the roll"
        return None
    # paper_ballot
    if entry["right_id"] not in rights:
        return BALLOTS, f"paper_ballot for right {entry['right_id']} which is not in the roll"
    if not definition.opens_at <= parse_time(entry["received_at"]) < definition.closes_at:
        return BALLOTS, f"paper_ballot received at {entry['received_at']}, outside [opens_at, closes_at)"
    return None


