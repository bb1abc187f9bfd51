"""The server's append step (voting.append) and receipts that carry their entry, without a database."""

import pytest

from voting.append import append_entry
from voting.canonical import canonical
from voting.entries import ProtocolError, make_close, make_key_binding, validate_receipt_shape
from voting.keys import generate_key, public_key_b64u, verify_object
from voting.merkle import Frontier, inclusion_proof, leaf_hash, root_from_leaf_hashes, verify_inclusion

from .helpers import clone, failed, verify
from .simulate import simulate_vote

SERVER = generate_key()


def entries(n):
    return [make_key_binding("v1", f"r{i:016x}", public_key_b64u(generate_key()), "2025-03-01T00:00:00Z")
            for i in range(n)]


def test_each_append_signs_the_head_of_its_size_and_proves_the_entry_in_it():
    frontier, hashes = Frontier(), []
    for i, entry in enumerate(entries(37)):
        done = append_entry(frontier, entry, SERVER, "v1", "2025-03-01T00:00:00Z")
        hashes.append(leaf_hash(canonical(entry)))
        assert (done.index, done.leaf, done.leaf_hash) == (i, canonical(entry), hashes[-1])
        assert frontier.size == i + 1 and frontier.root() == root_from_leaf_hashes(hashes)
        head = done.tree_head
        assert (head["size"], head["root"], head["vote_id"]) == (i + 1, frontier.root().hex(), "v1")
        assert verify_object(public_key_b64u(SERVER), head)
        receipt = done.receipt
        assert receipt["tree_head"] == head and receipt["entry"] == entry and receipt["leaf_index"] == i
        # the frontier's right edge is exactly the RFC 9162 audit path of the new last leaf
        assert receipt["inclusion_proof"] == [p.hex() for p in inclusion_proof(hashes, i, i + 1)]
        assert verify_inclusion(hashes[i], i, i + 1, [bytes.fromhex(p) for p in receipt["inclusion_proof"]],
                                frontier.root())
        validate_receipt_shape(receipt)


def test_an_append_uses_the_leaf_it_is_given():
    entry = make_close("v1", "2025-03-15T00:00:00Z")
    done = append_entry(Frontier(), entry, SERVER, "v1", "2025-03-15T00:00:00Z", leaf=canonical(entry))
    assert done.leaf_hash == leaf_hash(canonical(entry))


@pytest.fixture(scope="module")
def honest():
    bundle, receipts, builder = simulate_vote(n_rights=8, n_ballots=10, paper=1, bindings=1, revocations=0)
    return bundle, receipts


def test_receipts_with_their_entry_verify_and_older_receipts_without_it_still_do(honest):
    bundle, receipts = honest
    assert all("entry" in r for r in receipts)
    assert verify(bundle, receipts).ok
    older = [{k: v for k, v in r.items() if k != "entry"} for r in receipts]
    assert verify(bundle, older).ok


def test_a_receipts_entry_must_hash_to_its_leaf_and_be_the_bundles_entry_at_its_index(honest):
    bundle, receipts = honest
    ballot = next(r for r in receipts if r["entry"]["type"] == "ballot")
    changed = clone(ballot)
    changed["entry"]["received_at"] = "2025-03-01T00:00:01Z"
    assert failed(verify(bundle, [changed])) == {"receipt:r0"}
    other = next(r for r in receipts if r["leaf_index"] != ballot["leaf_index"])
    swapped = clone(ballot)
    swapped["entry"] = clone(other["entry"])
    report = verify(bundle, [swapped])
    assert failed(report) == {"receipt:r0"}
    assert any("not entry" in d for d in report.checks[-1].details)
    floating = clone(ballot)
    floating["entry"]["received_at"] = 1.5
    assert failed(verify(bundle, [floating])) == {"receipt:r0"}


def test_a_receipts_entry_must_be_an_object():
    receipt = append_entry(Frontier(), entries(1)[0], SERVER, "v1", "2025-03-01T00:00:00Z").receipt
    for bad in ("x", None, []):
        with pytest.raises(ProtocolError):
            validate_receipt_shape(dict(receipt, entry=bad))
    with pytest.raises(ProtocolError):
        validate_receipt_shape(dict(receipt, extra=1))
