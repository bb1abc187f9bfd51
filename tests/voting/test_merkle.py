"""RFC 6962 / RFC 9162 Merkle log: outside vectors, exhaustive proofs, and the appendable frontier."""

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.merkle import (
    EMPTY_ROOT,
    Frontier,
    MerkleTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

from .helpers import VECTORS


def reference_root(hashes):
    """MTH straight from RFC 6962 §2.1, recursively: the definition the fast code must agree with."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(reference_root(hashes[:k]), reference_root(hashes[k:]))


def reference_path(m, hashes):
    """PATH(m, D[n]) straight from RFC 6962 §2.1.1."""
    n = len(hashes)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return reference_path(m, hashes[:k]) + [reference_root(hashes[k:])]
    return reference_path(m - k, hashes[k:]) + [reference_root(hashes[:k])]


def leaves(n):
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def b64(value):
    return base64.b64decode(value) if value is not None else None


def vector_files(kind):
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors under {VECTORS}: they are part of the repository"
    return files


# --- outside vectors ------------------------------------------------------------------------------


def test_vectors_are_present():
    # Fail, never skip: without the vectors the log is unchecked against an outside reference.
    assert (VECTORS / "roots.json").is_file(), f"missing {VECTORS}/roots.json"


def test_roots_by_size_match_the_vectors():
    data = json.loads((VECTORS / "roots.json").read_text())
    hashes = [leaf_hash(bytes.fromhex(x)) for x in data["leaf_inputs_hex"]]
    assert len(data["root_by_size_hex"]) == 9
    for size, expected in enumerate(data["root_by_size_hex"]):
        assert root_from_leaf_hashes(hashes[:size]).hex() == expected
        assert MerkleTree(hashes).root(size).hex() == expected
        frontier = Frontier()
        for h in hashes[:size]:
            frontier.append(h)
        assert frontier.root().hex() == expected


@pytest.mark.parametrize("path", vector_files("inclusion"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_inclusion_vector(path):
    case = json.loads(path.read_text())
    ok = verify_inclusion(
        b64(case["leafHash"]), case["leafIdx"], case["treeSize"], [b64(p) for p in case["proof"] or []], b64(case["root"])
    )
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("path", vector_files("consistency"), ids=lambda p: str(p.relative_to(VECTORS)))
def test_consistency_vector(path):
    case = json.loads(path.read_text())
    ok = verify_consistency(
        case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]), [b64(p) for p in case["proof"] or []]
    )
    assert ok is (not case["wantErr"]), case["desc"]


def test_vectors_include_happy_paths_that_our_generator_reproduces():
    """Our proof generator yields exactly the reference proofs of the happy-path vectors."""
    data = json.loads((VECTORS / "roots.json").read_text())
    hashes = [leaf_hash(bytes.fromhex(x)) for x in data["leaf_inputs_hex"]]
    seen = 0
    for path in vector_files("inclusion"):
        case = json.loads(path.read_text())
        if case["desc"] == "happy path" and case["treeSize"] <= len(hashes) and b64(case["leafHash"]) == hashes[case["leafIdx"]]:
            assert inclusion_proof(hashes, case["leafIdx"], case["treeSize"]) == [b64(p) for p in case["proof"] or []]
            seen += 1
    for path in vector_files("consistency"):
        case = json.loads(path.read_text())
        if case["desc"] == "happy path" and 0 < case["size1"] < case["size2"] <= len(hashes):
            assert consistency_proof(hashes, case["size1"], case["size2"]) == [b64(p) for p in case["proof"] or []]
            seen += 1
    assert seen >= 4


# --- exhaustive properties ------------------------------------------------------------------------


def test_inclusion_proofs_verify_for_every_index_and_size_up_to_300():
    hashes = leaves(300)
    tree = MerkleTree(hashes)
    other = leaf_hash(b"not in the tree")
    for size in range(1, 301):
        root = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(hashes[index], index, size, proof, root), (index, size)
            assert not verify_inclusion(other, index, size, proof, root)
        # A proof checked against the wrong position or tree size fails.
        last = size - 1
        proof = tree.inclusion_proof(last, size)
        assert not verify_inclusion(hashes[last], last, size + 1, proof, root)
        if size > 1:
            assert not verify_inclusion(hashes[last], last - 1, size, proof, root)


def test_tree_roots_and_paths_match_the_rfc_definition():
    hashes = leaves(70)
    tree = MerkleTree(hashes)
    for size in range(0, 71):
        assert tree.root(size) == reference_root(hashes[:size])
        for index in range(size):
            expected = reference_path(index, hashes[:size])
            assert tree.inclusion_proof(index, size) == expected
            assert inclusion_proof(hashes, index, size) == expected


def test_consistency_proofs_verify_for_every_pair_of_sizes_up_to_200():
    hashes = leaves(200)
    tree = MerkleTree(hashes)
    roots = [tree.root(size) for size in range(201)]
    for n in range(1, 201):
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            assert verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
            if m < n:
                assert not verify_consistency(m, n, roots[m - 1] if m > 1 else roots[n], roots[n], proof)
                assert not verify_consistency(m, n, roots[m], roots[n - 1], proof)


def test_consistency_proofs_fail_for_a_different_history():
    hashes = leaves(40)
    forked = hashes[:17] + [leaf_hash(b"rewritten")] + hashes[18:]
    for m in range(18, 40):
        proof = consistency_proof(hashes, m, 40)
        assert not verify_consistency(m, 40, root_from_leaf_hashes(forked[:m]), root_from_leaf_hashes(hashes), proof)


def test_consistency_with_the_empty_tree_proves_nothing():
    assert consistency_proof(leaves(5), 0, 5) == []
    assert not verify_consistency(0, 5, EMPTY_ROOT, root_from_leaf_hashes(leaves(5)), [])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=140), st.data())
def test_frontier_root_equals_full_recomputation(raw, data):
    hashes = [leaf_hash(x) for x in raw]
    frontier = Frontier()
    for i, h in enumerate(hashes):
        frontier.append(h)
        if data.draw(st.booleans()):
            assert frontier.root() == reference_root(hashes[: i + 1])
    assert frontier.size == len(hashes)
    assert frontier.root() == reference_root(hashes)
    assert len(frontier.nodes()) == bin(len(hashes)).count("1")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 200), st.integers(0, 60))
def test_frontier_survives_a_json_round_trip_mid_log(first, more):
    hashes = leaves(first + more)
    frontier = Frontier()
    for h in hashes[:first]:
        frontier.append(h)
    stored = json.loads(json.dumps(frontier.to_json()))  # as the server keeps it in a table row
    restored = Frontier.from_json(stored)
    assert restored == frontier
    for h in hashes[first:]:
        restored.append(h)
    assert restored.root() == root_from_leaf_hashes(hashes)


@pytest.mark.parametrize(
    "bad",
    [
        {"size": 3, "nodes": ["00" * 32]},  # size 3 needs two nodes
        {"size": -1, "nodes": []},
        {"size": 1, "nodes": ["zz"]},
        {"size": 1, "nodes": ["00" * 31]},
        {"size": "1", "nodes": ["00" * 32]},
        {"nodes": []},
        [],
    ],
)
def test_frontier_from_json_rejects_inconsistent_state(bad):
    with pytest.raises(ValueError):
        Frontier.from_json(bad)


def test_proof_generation_rejects_out_of_range():
    hashes = leaves(4)
    with pytest.raises(ValueError):
        inclusion_proof(hashes, 4, 4)
    with pytest.raises(ValueError):
        inclusion_proof(hashes, 0, 5)
    with pytest.raises(ValueError):
        consistency_proof(hashes, 3, 2)


def test_leaf_and_node_hashes_are_domain_separated():
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert leaf_hash(b"\x01" + b"a" * 64) != node_hash(b"a" * 32, b"a" * 32)
