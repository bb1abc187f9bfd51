"""Builders and validators of the linli-vote/1 objects: roll, log entries, ballots, tree heads, receipts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import PROTOCOL, PROTOCOL_1, PROTOCOL_1_1, PROTOCOLS
from .canonical import b64u_encode, canonical, is_hash_hex, parse_time
from .delegations import KINDS as DELEGATION_KINDS
from .delegations import signed_part, validate_delegation_entry
from .forms import (ProtocolError, is_id, is_nonce, is_public_key, is_signature, is_text, require, time_field,
                    time_str)
from .forms import exact_keys as _keys
from .forms import is_int as _is_int
from .keys import sign_bytes, verify_bytes
from .merkle import leaf_hash, root_from_leaf_hashes
from .rights import Right
from .witnesses import validate_witnesses, witness_list

# Tree heads and receipts live in voting.heads; named here too, where callers have always found them.
from .heads import (RECEIPT_ENTRY, RECEIPT_KEYS, TREE_HEAD_KEYS, make_receipt, make_tree_head,  # noqa: E402,F401
                    tree_head_problem, validate_receipt_shape)

__all__ = ["ProtocolError", "is_id", "is_nonce", "is_public_key", "is_signature", "is_hash_hex"]  # re-exported

_require, _text, _time_field, _time_str = require, is_text, time_field, time_str

OPTIONS = ("approve", "reject", "abstain")
KINDS = ("resolution", "election")
MATTERS = ("ordinary", "special")

DEFINITION_KEYS_1 = frozenset(
    {"type", "protocol", "vote_id", "community_id", "title", "kind", "matter", "options", "candidates",
     "seats", "opens_at", "closes_at", "roll", "server_key"}
)  # fmt: skip
DEFINITION_KEYS_1_1 = DEFINITION_KEYS_1 | {"witnesses", "witness_quorum"}
DEFINITION_KEYS = DEFINITION_KEYS_1_1
ROLL_SUMMARY_KEYS = frozenset({"root", "size", "area", "heads"})
ROLL_ENTRY_KEYS = frozenset({"right_id", "label", "area", "heads", "keys"})
KEY_BINDING_KEYS = frozenset({"type", "vote_id", "right_id", "public_key", "bound_at"})
KEY_REVOCATION_KEYS = frozenset({"type", "vote_id", "right_id", "public_key", "revoked_at"})
PAPER_BALLOT_KEYS = frozenset({"type", "vote_id", "right_id", "choice", "evidence", "entered_by", "received_at"})
BALLOT_ENTRY_KEYS = frozenset({"type", "received_at", "envelope"})
ENVELOPE_KEYS = frozenset({"ballot", "public_key", "signature"})
BALLOT_KEYS = frozenset({"type", "vote_id", "right_id", "choice", "nonce", "signed_at"})
CLOSE_KEYS = frozenset({"type", "vote_id", "closed_at"})
CANDIDATE_KEYS = frozenset({"id", "name"})

ENTRY_TYPES = ("definition", "key_binding", "key_revocation", "paper_ballot", "ballot", "close") + DELEGATION_KINDS


# --- the definition (entry 0) ---------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """The parsed definition entry: what every later check needs from entry 0."""

    entry: dict
    vote_id: str
    kind: str
    matter: str
    candidate_ids: tuple[str, ...]
    seats: int | None
    opens_at: datetime
    closes_at: datetime
    roll_root: str
    roll_size: int
    roll_area: int
    roll_heads: int
    server_key: str
    protocol: str = PROTOCOL_1
    witnesses: tuple = ()  # [1.1] the definition's witness objects {id, name, public_key}
    witness_quorum: int = 0  # [1.1]

    @property
    def witness_keys(self) -> dict[str, str]:
        """[1.1] witness id → public key."""
        return {w["id"]: w["public_key"] for w in self.witnesses}

    @property
    def is_election(self) -> bool:
        """True for an election, False for a resolution."""
        return self.kind == "election"

    def candidate_name(self, candidate_id: str) -> str:
        """The name of a candidate by id."""
        for c in self.entry["candidates"]:
            if c["id"] == candidate_id:
                return c["name"]
        raise KeyError(candidate_id)


def parse_definition(entry) -> Definition:
    """Validate a definition entry and return its parsed form; ProtocolError if malformed."""
    _require(isinstance(entry, dict) and entry.get("protocol") in PROTOCOLS,
             f"definition.protocol must be one of {list(PROTOCOLS)}")
    protocol = entry["protocol"]
    _keys(entry, DEFINITION_KEYS_1 if protocol == PROTOCOL_1 else DEFINITION_KEYS_1_1, "definition")
    _require(entry["type"] == "definition", "definition.type must be 'definition'")
    _require(is_id(entry["vote_id"]), "definition.vote_id is not an identifier")
    _require(is_id(entry["community_id"]), "definition.community_id is not an identifier")
    _require(_text(entry["title"]), "definition.title must be a non-empty NFC string")
    _require(entry["kind"] in KINDS, "definition.kind must be 'resolution' or 'election'")
    _require(entry["matter"] in MATTERS, "definition.matter must be 'ordinary' or 'special'")
    candidate_ids: tuple[str, ...] = ()
    if entry["kind"] == "resolution":
        _require(entry["options"] == list(OPTIONS), f"definition.options must be {list(OPTIONS)}")
        _require(entry["candidates"] is None, "definition.candidates must be null for a resolution")
        _require(entry["seats"] is None, "definition.seats must be null for a resolution")
    else:
        # docs/protocol.md §8: an election is decided by majority of those voting; a special-matter election has no rule.
        _require(entry["matter"] == "ordinary", "definition.matter must be 'ordinary' for an election")
        _require(entry["options"] is None, "definition.options must be null for an election")
        candidates = entry["candidates"]
        _require(isinstance(candidates, list) and candidates, "definition.candidates must be a non-empty list")
        for i, c in enumerate(candidates):
            _keys(c, CANDIDATE_KEYS, f"definition.candidates[{i}]")
            _require(is_id(c["id"]), f"definition.candidates[{i}].id is not an identifier")
            _require(_text(c["name"]), f"definition.candidates[{i}].name must be a non-empty NFC string")
        candidate_ids = tuple(c["id"] for c in candidates)
        _require(len(set(candidate_ids)) == len(candidate_ids), "definition.candidates: ids repeat")
        seats = entry["seats"]
        _require(_is_int(seats) and 1 <= seats <= len(candidates), "definition.seats must be 1..len(candidates)")
    opens_at = _time_field(entry, "opens_at", "definition")
    closes_at = _time_field(entry, "closes_at", "definition")
    _require(opens_at < closes_at, "definition.opens_at must be before closes_at")
    roll = entry["roll"]
    _keys(roll, ROLL_SUMMARY_KEYS, "definition.roll")
    _require(is_hash_hex(roll["root"]), "definition.roll.root is not a lowercase hex SHA-256")
    # An empty roll would make 3a >= 2A hold with nobody voting; a vote always has someone to ask.
    for key in ("size", "area", "heads"):
        _require(_is_int(roll[key]) and roll[key] >= 1, f"definition.roll.{key} must be a positive integer")
    _require(is_public_key(entry["server_key"]), "definition.server_key is not a b64u Ed25519 public key")
    if protocol == PROTOCOL_1_1:
        validate_witnesses(entry["witnesses"], entry["witness_quorum"], entry["server_key"])
    return Definition(
        entry=entry,
        vote_id=entry["vote_id"],
        kind=entry["kind"],
        matter=entry["matter"],
        candidate_ids=candidate_ids,
        seats=entry["seats"],
        opens_at=opens_at,
        closes_at=closes_at,
        roll_root=roll["root"],
        roll_size=roll["size"],
        roll_area=roll["area"],
        roll_heads=roll["heads"],
        server_key=entry["server_key"],
        protocol=protocol,
        witnesses=tuple(entry.get("witnesses") or ()),
        witness_quorum=entry.get("witness_quorum") or 0,
    )


def make_definition(
    *,
    vote_id: str,
    community_id: str,
    title: str,
    kind: str,
    matter: str,
    opens_at: str | datetime,
    closes_at: str | datetime,
    roll: Sequence[dict],
    server_key: str,
    candidates: Sequence[Mapping] | None = None,
    seats: int | None = None,
    protocol: str = PROTOCOL,
    witnesses: Sequence[Mapping] = (),
    witness_quorum: int | None = None,
) -> dict:
    """Entry 0 of a vote's log; validated (ProtocolError if the arguments break the protocol).

    linli-vote/1.1 (the default) carries `witnesses` and `witness_quorum` (default: all of them must
    co-sign); linli-vote/1 has neither."""
    election = kind == "election"
    entry = {
        "type": "definition",
        "protocol": protocol,
        "vote_id": vote_id,
        "community_id": community_id,
        "title": title,
        "kind": kind,
        "matter": matter,
        "options": None if election else list(OPTIONS),
        "candidates": [{"id": c["id"], "name": c["name"]} for c in candidates] if election and candidates else None,
        "seats": seats if election else None,
        "opens_at": _time_str(opens_at, "opens_at"),
        "closes_at": _time_str(closes_at, "closes_at"),
        "roll": roll_summary(roll),
        "server_key": server_key,
    }
    if protocol != PROTOCOL_1:
        entry["witnesses"] = witness_list(witnesses)
        entry["witness_quorum"] = len(entry["witnesses"]) if witness_quorum is None else witness_quorum
    elif witnesses or witness_quorum:
        raise ProtocolError("a linli-vote/1 definition has no witnesses")
    parse_definition(entry)
    return entry


# --- the roll -------------------------------------------------------------------------------------


def validate_roll_entry(item) -> None:
    """Raise ProtocolError unless item is a well-formed roll entry."""
    _keys(item, ROLL_ENTRY_KEYS, "roll entry")
    _require(is_id(item["right_id"]), "roll entry right_id is not an identifier")
    rid = item["right_id"]
    _require(_text(item["label"]), f"roll entry {rid}: label must be a non-empty NFC string")
    _require(_is_int(item["area"]) and item["area"] > 0, f"roll entry {rid}: area must be a positive integer")
    _require(item["heads"] == 1 and _is_int(item["heads"]), f"roll entry {rid}: heads must be 1")
    keys = item["keys"]
    _require(isinstance(keys, list), f"roll entry {rid}: keys must be a list")
    _require(all(is_public_key(k) for k in keys), f"roll entry {rid}: keys must be b64u Ed25519 public keys")
    # Sorted and unique, so that the roll root does not depend on the order keys were registered in.
    _require(all(a < b for a, b in zip(keys, keys[1:])), f"roll entry {rid}: keys must be sorted and unique")


def validate_roll(roll) -> None:
    """Raise ProtocolError unless roll is a list of well-formed entries sorted strictly by right_id."""
    _require(isinstance(roll, list), "roll must be a list")
    previous = None
    for item in roll:
        validate_roll_entry(item)
        _require(previous is None or previous < item["right_id"], f"roll not sorted/unique at {item['right_id']}")
        previous = item["right_id"]


def roll_entry(right: Right, keys: Iterable[str] = ()) -> dict:
    """The roll entry of a voting right, with the public keys bound to it when the roll froze."""
    item = {"right_id": right.right_id, "label": right.label, "area": right.area, "heads": right.heads,
            "keys": sorted(set(keys))}  # fmt: skip
    validate_roll_entry(item)
    return item


def build_roll(rights: Iterable[Right], keys_by_right: Mapping[str, Iterable[str]] | None = None) -> list[dict]:
    """The frozen roll: one entry per right, sorted by right_id."""
    keys_by_right = keys_by_right or {}
    roll = [roll_entry(r, keys_by_right.get(r.right_id, ())) for r in rights]
    roll.sort(key=lambda item: item["right_id"])
    validate_roll(roll)
    return roll


def roll_root(roll: Sequence[dict]) -> str:
    """Hex Merkle root over the canonical JSON of the roll entries, in order."""
    return root_from_leaf_hashes([leaf_hash(canonical(item)) for item in roll]).hex()


def roll_summary(roll: Sequence[dict]) -> dict:
    """{"root","size","area","heads"} of a roll, as the definition carries it."""
    return {
        "root": roll_root(roll),
        "size": len(roll),
        "area": sum(item["area"] for item in roll),
        "heads": sum(item["heads"] for item in roll),
    }


# --- choices and ballots --------------------------------------------------------------------------


def choice_problem(choice, definition: Definition) -> str | None:
    """Why choice is not well-formed for this vote, or None if it is."""
    if not isinstance(choice, dict):
        return "choice must be an object"
    if not definition.is_election:
        if choice.keys() != {"option"} or choice["option"] not in OPTIONS:
            return "choice must be {'option': 'approve'|'reject'|'abstain'}"
        return None
    if choice.keys() != {"approve"} or not isinstance(choice["approve"], list):
        return "choice must be {'approve': [candidate ids]}"
    approve = choice["approve"]
    if not all(isinstance(c, str) and c in definition.candidate_ids for c in approve):
        return "choice approves an unknown candidate"
    if len(set(approve)) != len(approve):
        return "choice repeats a candidate"
    if len(approve) > definition.seats:
        return f"choice approves more than {definition.seats} candidates"
    return None


def validate_ballot(ballot, definition: Definition) -> None:
    """Raise ProtocolError unless ballot (B, the owner-signed part) is well-formed for this vote."""
    _keys(ballot, BALLOT_KEYS, "ballot")
    _require(ballot["type"] == "ballot", "ballot.type must be 'ballot'")
    _require(ballot["vote_id"] == definition.vote_id, "ballot.vote_id does not match the vote")
    _require(is_id(ballot["right_id"]), "ballot.right_id is not an identifier")
    _require(is_nonce(ballot["nonce"]), "ballot.nonce must be 16 bytes of b64u")
    _time_field(ballot, "signed_at", "ballot")
    problem = choice_problem(ballot["choice"], definition)
    _require(problem is None, f"ballot: {problem}")


def validate_envelope(envelope, definition: Definition) -> None:
    """Raise ProtocolError unless envelope is well-formed and its signature verifies."""
    _keys(envelope, ENVELOPE_KEYS, "envelope")
    _require(is_public_key(envelope["public_key"]), "envelope.public_key is not a b64u Ed25519 public key")
    _require(is_signature(envelope["signature"]), "envelope.signature is not a b64u Ed25519 signature")
    validate_ballot(envelope["ballot"], definition)
    _require(
        verify_bytes(envelope["public_key"], envelope["signature"], canonical(envelope["ballot"])),
        "envelope.signature does not verify",
    )


def new_nonce() -> str:
    """16 random bytes, b64u."""
    return b64u_encode(os.urandom(16))


def make_ballot(vote_id: str, right_id: str, choice: dict, signed_at: str | datetime, nonce: str | None = None) -> dict:
    """B, the object an owner's device signs."""
    return {"type": "ballot", "vote_id": vote_id, "right_id": right_id, "choice": choice,
            "nonce": nonce or new_nonce(), "signed_at": _time_str(signed_at, "signed_at")}  # fmt: skip


def sign_ballot(private_key: Ed25519PrivateKey, ballot: dict) -> dict:
    """The envelope {"ballot","public_key","signature"} an owner's device sends."""
    return {
        "ballot": ballot,
        "public_key": b64u_encode(private_key.public_key().public_bytes_raw()),
        "signature": sign_bytes(private_key, canonical(ballot)),
    }


# --- other entries --------------------------------------------------------------------------------


def make_key_binding(vote_id: str, right_id: str, public_key: str, bound_at: str | datetime) -> dict:
    """The server's attestation that a verified owner of right_id registered public_key."""
    return {"type": "key_binding", "vote_id": vote_id, "right_id": right_id, "public_key": public_key,
            "bound_at": _time_str(bound_at, "bound_at")}  # fmt: skip


def make_key_revocation(vote_id: str, right_id: str, public_key: str, revoked_at: str | datetime) -> dict:
    """The server's record that public_key may no longer cast for right_id."""
    return {"type": "key_revocation", "vote_id": vote_id, "right_id": right_id, "public_key": public_key,
            "revoked_at": _time_str(revoked_at, "revoked_at")}  # fmt: skip


def make_paper_ballot(
    vote_id: str, right_id: str, choice: dict, evidence: str, entered_by: str, received_at: str | datetime
) -> dict:
    """A paper ballot entered by a committee member; evidence is the hex SHA-256 of the sheet's photo."""
    return {"type": "paper_ballot", "vote_id": vote_id, "right_id": right_id, "choice": choice,
            "evidence": evidence, "entered_by": entered_by, "received_at": _time_str(received_at, "received_at")}  # fmt: skip


def make_ballot_entry(envelope: dict, received_at: str | datetime) -> dict:
    """The log entry of a signed ballot accepted at received_at."""
    return {"type": "ballot", "received_at": _time_str(received_at, "received_at"), "envelope": envelope}


def make_close(vote_id: str, closed_at: str | datetime) -> dict:
    """The last entry of a log."""
    return {"type": "close", "vote_id": vote_id, "closed_at": _time_str(closed_at, "closed_at")}


def validate_entry(entry, definition: Definition) -> None:
    """Raise ProtocolError unless a non-definition entry is well-formed for this vote (signatures not checked)."""
    _require(isinstance(entry, dict), "entry must be an object")
    kind = entry.get("type")
    if kind == "ballot":
        _keys(entry, BALLOT_ENTRY_KEYS, "ballot entry")
        _time_field(entry, "received_at", "ballot entry")
        envelope = entry["envelope"]
        _keys(envelope, ENVELOPE_KEYS, "envelope")
        _require(is_public_key(envelope["public_key"]), "envelope.public_key is not a b64u Ed25519 public key")
        _require(is_signature(envelope["signature"]), "envelope.signature is not a b64u Ed25519 signature")
        validate_ballot(envelope["ballot"], definition)
        return
    if kind in ("key_binding", "key_revocation"):
        keys, time_key = (KEY_BINDING_KEYS, "bound_at") if kind == "key_binding" else (KEY_REVOCATION_KEYS, "revoked_at")
        _keys(entry, keys, kind)
        _require(is_public_key(entry["public_key"]), f"{kind}.public_key is not a b64u Ed25519 public key")
    elif kind == "paper_ballot":
        _keys(entry, PAPER_BALLOT_KEYS, kind)
        _require(is_hash_hex(entry["evidence"]), "paper_ballot.evidence is not a lowercase hex SHA-256")
        _require(is_id(entry["entered_by"]), "paper_ballot.entered_by is not an identifier")
        problem = choice_problem(entry["choice"], definition)
        _require(problem is None, f"paper_ballot: {problem}")
        time_key = "received_at"
    elif kind == "close":
        _keys(entry, CLOSE_KEYS, kind)
        time_key = "closed_at"
    elif kind in DELEGATION_KINDS and definition.protocol != PROTOCOL_1:
        validate_delegation_entry(entry, definition.vote_id)
        return
    elif kind == "definition":
        raise ProtocolError("a definition may only be entry 0")
    else:
        raise ProtocolError(f"unknown entry type {kind!r}")
    _require(entry["vote_id"] == definition.vote_id, f"{kind}.vote_id does not match the vote")
    if kind != "close":
        _require(is_id(entry["right_id"]), f"{kind}.right_id is not an identifier")
    _time_field(entry, time_key, kind)


def entry_time(entry: dict) -> datetime:
    """The server time of a validated non-definition entry."""
    key = {"ballot": "received_at", "paper_ballot": "received_at", "key_binding": "bound_at",
           "key_revocation": "revoked_at", "close": "closed_at", "delegation": "received_at",
           "delegation_revocation": "received_at"}[entry["type"]]  # fmt: skip
    return parse_time(entry[key])


def entry_right_id(entry: dict) -> str | None:
    """The right an entry is about (None for definition and close)."""
    if entry.get("type") == "ballot":
        return entry["envelope"]["ballot"]["right_id"]
    if entry.get("type") in DELEGATION_KINDS:
        return signed_part(entry)["right_id"]
    return entry.get("right_id")
