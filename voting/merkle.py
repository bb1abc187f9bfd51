"""RFC 6962 / RFC 9162 Merkle tree over SHA-256: hashing, proofs and the appendable frontier."""

from __future__ import annotations

import hashlib
from typing import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """H(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """H(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """All perfect-subtree nodes over a list of leaf hashes: O(n) to build, then O(log n) roots and proofs."""

    def __init__(self, hashes: Sequence[bytes]):
        levels = [list(hashes)]
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
        self._levels = levels
        self.size = len(hashes)

    def _range_root(self, lo: int, hi: int) -> bytes:
        # RFC 6962 subtrees start at a multiple of their largest power-of-two part, so [lo, hi) is
        # the perfect aligned blocks of the binary digits of hi - lo, largest first, folded from the right.
        nodes = []
        while lo < hi:
            k = (hi - lo).bit_length() - 1
            nodes.append(self._levels[k][lo >> k])
            lo += 1 << k
        r = nodes[-1]
        for x in reversed(nodes[:-1]):
            r = node_hash(x, r)
        return r

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first size leaves (default all)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"no tree of size {size} among {self.size} leaves")
        return self._range_root(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.3.1 audit path of leaf index in the tree of the first size leaves."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of size {size}")
        proof: list[bytes] = []
        lo, hi = 0, size
        # Walk down from the root, collecting the sibling subtree at each level (then bottom-up order).
        while hi - lo > 1:
            k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two smaller than hi - lo
            if index < lo + k:
                proof.append(self._range_root(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._range_root(lo, lo + k))
                lo = lo + k
        proof.reverse()
        return proof

    def consistency_proof(self, m: int, n: int | None = None) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof that the tree of size m is a prefix of the tree of size n."""
        n = self.size if n is None else n
        if not 0 <= m <= n <= self.size:
            raise ValueError(f"no consistency proof from size {m} to size {n}")
        if m == 0 or m == n:
            return []
        proof: list[bytes] = []
        lo, hi, whole = 0, n, True  # SUBPROOF(m, D[lo:hi], whole) of RFC 6962 §2.1.2
        while True:
            if m == hi - lo:
                if not whole:
                    proof.append(self._range_root(lo, hi))
                break
            k = 1 << ((hi - lo - 1).bit_length() - 1)
            if m <= k:
                proof.append(self._range_root(lo + k, hi))
                hi = lo + k
            else:
                proof.append(self._range_root(lo, lo + k))
                lo, m, whole = lo + k, m - k, False
        proof.reverse()
        return proof


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """The tree root over the given leaf hashes (EMPTY_ROOT for none)."""
    frontier = Frontier()
    for h in hashes:
        frontier.append(h)
    return frontier.root()


def inclusion_proof(hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """RFC 9162 §2.1.3.1 audit path of leaf index in the tree of the first size leaf hashes."""
    size = len(hashes) if size is None else size
    if not 0 <= index < size <= len(hashes):
        raise ValueError(f"no leaf {index} in a tree of size {size}")
    return MerkleTree(hashes[:size]).inclusion_proof(index)


def consistency_proof(hashes: Sequence[bytes], m: int, n: int | None = None) -> list[bytes]:
    """RFC 9162 §2.1.4.1 proof that the tree of size m is a prefix of the tree of size n."""
    n = len(hashes) if n is None else n
    if not 0 <= m <= n <= len(hashes):
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    return MerkleTree(hashes[:n]).consistency_proof(m)


def _hashes_ok(*hashes) -> bool:
    return all(isinstance(h, bytes) and len(h) == 32 for h in hashes)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: True iff proof shows leaf hash `leaf` at index in the tree (size, root)."""
    if not (isinstance(index, int) and isinstance(size, int)) or not 0 <= index < size:
        return False
    if not _hashes_ok(leaf, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: True iff proof shows the tree (m, root_m) is a prefix of (n, root_n)."""
    if not (isinstance(m, int) and isinstance(n, int)) or not 0 < m <= n:
        return False  # nothing is proved about the empty tree (the reference vectors reject m = 0)
    if m == n:
        return not proof and root_m == root_n
    if not _hashes_ok(root_m, root_n, *proof):
        return False
    if not proof:
        return False
    proof = list(proof)
    if m & (m - 1) == 0:  # m is a power of two: root_m is itself a node of the big tree
        proof.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root_m and sr == root_n


class Frontier:
    """The roots of the perfect subtrees of a log (largest first): O(log n) state, O(1) amortised append."""

    __slots__ = ("size", "_nodes")

    def __init__(self, size: int = 0, nodes: Sequence[bytes] = ()):
        if size < 0 or len(nodes) != bin(size).count("1"):
            raise ValueError("a frontier of size n holds one node per 1-bit of n")
        if any(not isinstance(x, bytes) or len(x) != 32 for x in nodes):
            raise ValueError("frontier nodes are 32-byte hashes")
        self.size = size
        self._nodes = list(nodes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash; merges equal-sized subtrees like a binary counter carry."""
        node = leaf
        n = self.size
        while n & 1:
            node = node_hash(self._nodes.pop(), node)
            n >>= 1
        self._nodes.append(node)
        self.size += 1

    def root(self) -> bytes:
        """The root of the tree of all leaves appended so far."""
        if not self._nodes:
            return EMPTY_ROOT
        nodes = self._nodes
        r = nodes[-1]
        for i in range(len(nodes) - 2, -1, -1):
            r = node_hash(nodes[i], r)
        return r

    def nodes(self) -> list[bytes]:
        """The perfect-subtree roots, largest (leftmost) first."""
        return list(self._nodes)

    def to_json(self) -> dict:
        """A JSON-serialisable form: {"size": n, "nodes": [hex, ...]}."""
        return {"size": self.size, "nodes": [x.hex() for x in self._nodes]}

    @classmethod
    def from_json(cls, data: dict) -> "Frontier":
        """Rebuild a frontier from to_json() output; ValueError if inconsistent."""
        try:
            size, nodes = data["size"], data["nodes"]
            if not isinstance(size, int) or isinstance(size, bool) or not isinstance(nodes, list):
                raise TypeError
            raw = [bytes.fromhex(x) for x in nodes]
        except (KeyError, TypeError, ValueError):
            raise ValueError("not a frontier: expected {'size': int, 'nodes': [hex, ...]}") from None
        return cls(size, raw)

    def copy(self) -> "Frontier":
        """An independent copy."""
        return Frontier(self.size, self._nodes)

    def __eq__(self, other) -> bool:
        return isinstance(other, Frontier) and self.size == other.size and self._nodes == other._nodes

    def __repr__(self) -> str:
        return f"Frontier(size={self.size}, root={self.root().hex()[:16]}…)"
