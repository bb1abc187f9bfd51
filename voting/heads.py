"""Tree heads and receipts of linli-vote/1 and 1.1 (docs/protocol.md §6): the server's signed head of
the log's first `size` entries, and the receipt handed out when an entry is accepted."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .canonical import is_hash_hex
from .forms import ProtocolError, exact_keys, is_id, is_int, is_signature, require, time_field, time_str
from .keys import sign_object, verify_object

TREE_HEAD_KEYS = frozenset({"type", "vote_id", "size", "root", "timestamp", "signature"})
RECEIPT_KEYS = frozenset({"vote_id", "leaf_index", "leaf_hash", "tree_head", "inclusion_proof"})
RECEIPT_ENTRY = "entry"  # optional: the entry as logged (receipts handed out before it existed lack it)

_keys, _require, _is_int, _time_field, _time_str = exact_keys, require, is_int, time_field, time_str


def make_tree_head(server_private_key: Ed25519PrivateKey, vote_id: str, size: int, root: str | bytes,
                   timestamp: str | datetime) -> dict:  # fmt: skip
    """A tree head signed by the server."""
    root_hex = root.hex() if isinstance(root, bytes) else root
    head = {"type": "tree_head", "vote_id": vote_id, "size": size, "root": root_hex, "timestamp": _time_str(timestamp, "timestamp")}
    return sign_object(server_private_key, head)


def tree_head_problem(head, vote_id: str, server_key: str) -> str | None:
    """Why head is not a well-formed tree head of vote_id signed by server_key, or None."""
    try:
        _keys(head, TREE_HEAD_KEYS, "tree head")
        _require(head["type"] == "tree_head", "tree head type must be 'tree_head'")
        _require(head["vote_id"] == vote_id, "tree head vote_id does not match the vote")
        _require(_is_int(head["size"]) and head["size"] >= 0, "tree head size must be a non-negative integer")
        _require(is_hash_hex(head["root"]), "tree head root is not a lowercase hex SHA-256")
        _time_field(head, "timestamp", "tree head")
        _require(is_signature(head["signature"]), "tree head signature is not b64u of 64 bytes")
    except ProtocolError as exc:
        return str(exc)
    if not verify_object(server_key, head):
        return "tree head signature does not verify with the server key"
    return None


def make_receipt(vote_id: str, leaf_index: int, leaf_hash_hex: str, tree_head: dict, proof: Sequence[bytes],
                 entry: dict | None = None) -> dict:  # fmt: skip
    """The receipt returned when an entry is accepted; with `entry`, the entry as logged (its canonical
    JSON is the leaf), so that the holder can check what the server committed to without the bundle."""
    receipt = {"vote_id": vote_id, "leaf_index": leaf_index, "leaf_hash": leaf_hash_hex, "tree_head": tree_head,
               "inclusion_proof": [p.hex() for p in proof]}  # fmt: skip
    if entry is not None:
        receipt[RECEIPT_ENTRY] = entry
    return receipt


def validate_receipt_shape(receipt) -> None:
    """Raise ProtocolError unless receipt has the receipt fields with the right types."""
    _keys(receipt, RECEIPT_KEYS | {RECEIPT_ENTRY} if isinstance(receipt, dict) and RECEIPT_ENTRY in receipt
          else RECEIPT_KEYS, "receipt")
    _require(isinstance(receipt.get(RECEIPT_ENTRY, {}), dict), "receipt.entry must be an object")
    _require(is_id(receipt["vote_id"]), "receipt.vote_id is not an identifier")
    _require(_is_int(receipt["leaf_index"]) and receipt["leaf_index"] >= 0, "receipt.leaf_index must be >= 0")
    _require(is_hash_hex(receipt["leaf_hash"]), "receipt.leaf_hash is not a lowercase hex SHA-256")
    proof = receipt["inclusion_proof"]
    _require(isinstance(proof, list) and all(is_hash_hex(p) for p in proof), "receipt.inclusion_proof must be hex hashes")
    _require(isinstance(receipt["tree_head"], dict), "receipt.tree_head must be an object")
