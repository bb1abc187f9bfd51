"""One append to a vote's log, as the server makes it (docs/protocol.md §4, §6): the entry's leaf and
leaf hash, the frontier moved on, the signed tree head of the new size and the receipt.

Pure: the caller keeps the frontier wherever it keeps it (the server: in its database, under the
log's lock) and stores what comes back. Nothing here reads other leaves: the audit path of the new
last leaf is the frontier before the append, reversed, so an append costs O(log n) whatever the log's
size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .canonical import canonical
from .entries import make_receipt, make_tree_head
from .merkle import Frontier, leaf_hash


@dataclass(frozen=True)
class Appended:
    """An entry appended at `index`: its canonical bytes, leaf hash, the signed head of size index + 1
    and the receipt that carries them (with the entry itself)."""

    index: int
    entry: dict
    leaf: bytes
    leaf_hash: bytes
    tree_head: dict
    receipt: dict


def append_entry(frontier: Frontier, entry: dict, server_key: Ed25519PrivateKey, vote_id: str,
                 timestamp: str | datetime, leaf: bytes | None = None) -> Appended:  # fmt: skip
    """Append `entry` (its canonical JSON `leaf`, if already made) to the log whose frontier is
    `frontier`, which moves on by one leaf; returns what to store and what to hand out."""
    leaf = leaf if leaf is not None else canonical(entry)
    digest = leaf_hash(leaf)
    proof = frontier.nodes()[::-1]  # the audit path of the new last leaf: the right edge, bottom-up
    index = frontier.size
    frontier.append(digest)
    head = make_tree_head(server_key, vote_id, index + 1, frontier.root(), timestamp)
    receipt = make_receipt(vote_id, index, digest.hex(), head, proof, entry)
    return Appended(index, entry, leaf, digest, head, receipt)
