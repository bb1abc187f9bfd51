"""Any single altered, dropped, duplicated, reordered or injected entry, tally, tree head or [1.1]
co-signature is caught (docs/protocol.md §11, §12), for linli-vote/1 and linli-vote/1.1 votes.
The named cases of the witnesses and proxies are in test_witness_mutations.py."""

import pytest

from voting import PROTOCOL_1, PROTOCOL_1_1
from voting.delegations import make_delegation, make_delegation_entry, sign_delegation
from voting.entries import make_ballot, make_ballot_entry, make_close, make_key_binding, make_paper_ballot, sign_ballot
from voting.keys import public_key_b64u

from .helpers import ATTACKER_KEY, clone, failed, field_mutations, log_mutations, resign, verify
from .simulate import fast_key_factory, simulate_vote


@pytest.fixture(scope="module", params=["resolution", "election", "resolution-1.1"])
def honest(request):
    """A small honest vote: late key bindings, paper ballots, re-votes, a revoked key; all receipts.
    linli-vote/1.1: also three witnesses co-signing every five entries and the close, two proxies
    (one revoked, one overridden by its owner)."""
    kind, _, version = request.param.partition("-")
    bundle, receipts, builder = simulate_vote(
        8, 11, seed=5, kind=kind, candidates=3, seats=2, paper=2, bindings=1, revocations=1,
        key_factory=fast_key_factory(21), protocol=PROTOCOL_1_1 if version else PROTOCOL_1,
    )  # fmt: skip
    # The committee keeps the receipt of the close entry (returned by the close request).
    close_receipt = builder.receipt(len(builder.entries) - 1)
    return bundle, receipts, close_receipt, builder


def attacker_entries(bundle):
    """Entries an attacker might inject into the log."""
    definition = bundle["entries"][0]
    right = bundle["roll"][0]["right_id"]
    choice = {"approve": ["c1"]} if definition["kind"] == "election" else {"option": "reject"}
    forged = make_ballot(definition["vote_id"], right, choice, "2025-03-01T00:30:00Z")
    extra = []
    if definition["protocol"] == PROTOCOL_1_1:  # a proxy the owner never signed
        delegation = make_delegation(definition["vote_id"], right, public_key_b64u(ATTACKER_KEY), "2025-03-01T00:30:00Z")
        extra.append(make_delegation_entry(sign_delegation(ATTACKER_KEY, delegation), "2025-03-01T00:30:00Z"))
    return extra + [
        make_ballot_entry(sign_ballot(ATTACKER_KEY, forged), "2025-03-01T00:30:00Z"),
        make_key_binding(definition["vote_id"], right, public_key_b64u(ATTACKER_KEY), "2025-03-01T00:30:00Z"),
        make_paper_ballot(definition["vote_id"], bundle["roll"][-1]["right_id"], choice, "ab" * 32,
                          "staff-9", "2025-03-01T00:30:00Z"),  # fmt: skip
        make_close(definition["vote_id"], "2025-03-15T00:00:00Z"),
        clone(definition),
    ]


def test_honest_bundle_passes_with_every_receipt(honest):
    bundle, receipts, close_receipt, _ = honest
    report = verify(bundle, receipts + [close_receipt])
    assert report.ok, [(c.key, c.details) for c in report.checks if not c.ok]
    assert len(receipts) >= 13


def test_every_log_mutation_is_caught_without_the_server_key(honest):
    bundle, _, _, _ = honest
    mutations = list(log_mutations(bundle, attacker_entries(bundle)))
    assert len(mutations) > 300
    for desc, mutated in mutations:
        report = verify(mutated)
        assert not report.ok, desc
        assert failed(report) - {"tally", "tally_signature"}, desc  # the log itself is found wrong, not just the tally


def test_every_log_mutation_is_caught_with_the_server_key_and_the_receipts(honest):
    bundle, receipts, close_receipt, builder = honest
    for desc, mutated in log_mutations(bundle, attacker_entries(bundle)):
        forged = resign(mutated, builder.server_key)
        assert not verify(forged, receipts + [close_receipt]).ok, desc


def test_signed_content_changes_are_caught_with_the_server_key_and_no_receipt(honest):
    bundle, _, _, builder = honest
    entries = bundle["entries"]
    roll_ids = [r["right_id"] for r in bundle["roll"]]
    checked = 0
    cands = [c["id"] for c in entries[0]["candidates"] or []]
    for i, entry in enumerate(entries):
        if entry["type"] != "ballot":
            continue
        for desc, altered in field_mutations(entry["envelope"], roll_ids, cands):
            mutated = clone(bundle)
            mutated["entries"][i]["envelope"] = altered
            report = verify(resign(mutated, builder.server_key))
            assert BALLOTS_CHECK in failed(report), f"entry {i}: {desc}"
            checked += 1
    assert checked > 100


BALLOTS_CHECK = "ballots"


def test_replayed_ballot_is_caught_with_the_server_key_and_no_receipt(honest):
    bundle, _, _, builder = honest
    entries = bundle["entries"]
    for i, entry in enumerate(entries):
        if entry["type"] != "ballot":
            continue
        mutated = clone(bundle)
        mutated["entries"] = entries[:-1] + [entry, entries[-1]]  # replayed just before close
        report = verify(resign(mutated, builder.server_key))
        assert "ballots" in failed(report), i


def test_forged_ballot_with_an_unbound_key_is_caught_without_receipts(honest):
    bundle, _, _, builder = honest
    forged_entry = next(e for e in attacker_entries(bundle) if e["type"] == "ballot")
    mutated = clone(bundle)
    mutated["entries"].insert(len(mutated["entries"]) - 1, forged_entry)
    report = verify(resign(mutated, builder.server_key))
    assert "ballots" in failed(report)


def test_ballot_moved_before_its_key_binding_is_caught_without_receipts(honest):
    bundle, _, _, builder = honest
    entries = bundle["entries"]
    binding = next(i for i, e in enumerate(entries) if e["type"] == "key_binding")
    key = entries[binding]["public_key"]
    user = next(i for i, e in enumerate(entries) if e["type"] == "ballot" and e["envelope"]["public_key"] == key)
    moved = entries[:binding] + [entries[user]] + [e for k, e in enumerate(entries[binding:], binding) if k != user]
    mutated = clone(bundle)
    mutated["entries"] = moved
    assert "ballots" in failed(verify(resign(mutated, builder.server_key)))


def test_dropped_ballot_is_caught_only_through_the_voters_receipt_or_the_witnesses(honest):
    """With the server key an attacker can drop a ballot and re-sign; in linli-vote/1 only the voter's
    receipt exposes it; in linli-vote/1.1 the witnesses' co-signatures of the final head do as well."""
    bundle, receipts, _, builder = honest
    by_index = {r["leaf_index"]: r for r in receipts}
    witnessed = bundle["protocol"] == PROTOCOL_1_1
    dropped = 0
    for i, entry in enumerate(bundle["entries"]):
        if entry["type"] != "ballot":
            continue
        mutated = clone(bundle)
        del mutated["entries"][i]
        forged = resign(mutated, builder.server_key)
        if witnessed:
            # The witnesses co-signed the real final head: the forged log is not what they saw.
            assert {"cosigned_prefix", "witness_quorum"} <= failed(verify(forged)), i
            assert "receipt:r0" in failed(verify(forged, [by_index[i]])), i
        else:
            assert verify(forged).ok, i  # consistent on its own: this is why receipts exist
            assert failed(verify(forged, [by_index[i]])) == {"receipt:r0"}, i
        dropped += 1
    assert dropped >= 10


def test_every_cosignature_change_is_caught():
    bundle, _, _ = simulate_vote(8, 11, seed=5, paper=2, bindings=1, key_factory=fast_key_factory(21),
                                 protocol=PROTOCOL_1_1)
    assert verify(bundle).ok and len(bundle["cosignatures"]) >= 5
    checked = 0
    for i, cosignature in enumerate(bundle["cosignatures"]):
        for desc, altered in field_mutations(cosignature, [], []):
            mutated = clone(bundle)
            mutated["cosignatures"][i] = altered
            assert "cosignatures" in failed(verify(mutated)), f"cosignature {i}: {desc}"
            checked += 1
    assert checked > 50


def test_every_tally_change_is_caught(honest):
    bundle, _, _, builder = honest
    roll_ids = [r["right_id"] for r in bundle["roll"]]
    count = 0
    cands = [c["id"] for c in bundle["entries"][0]["candidates"] or []]
    for desc, tally in field_mutations(bundle["tally"], roll_ids, cands):
        mutated = clone(bundle)
        mutated["tally"] = tally
        assert not verify(mutated).ok, desc
        if "signature" not in desc:
            # The attacker re-signs the changed tally: the recomputation still disagrees.
            from voting.keys import sign_object

            body = {k: v for k, v in tally.items() if k != "signature"}
            mutated["tally"] = sign_object(builder.server_key, body)
            assert "tally" in failed(verify(mutated)), desc
        count += 1
    assert count > 30


def test_every_tree_head_change_is_caught(honest):
    bundle, _, _, builder = honest
    from voting.keys import sign_object

    for desc, head in field_mutations(bundle["tree_head"], [], []):
        mutated = clone(bundle)
        mutated["tree_head"] = head
        assert "tree_head" in failed(verify(mutated)), desc
        if any(f in desc for f in ("size", "root", "vote_id", "type", "extra", "remove")) and "signature" not in desc:
            mutated["tree_head"] = sign_object(builder.server_key, {k: v for k, v in head.items() if k != "signature"})
            assert "tree_head" in failed(verify(mutated)), desc


def roll_mutations(bundle):
    roll = bundle["roll"]
    roll_ids = [r["right_id"] for r in roll]
    for desc, altered in field_mutations(roll, roll_ids, []):
        yield f"roll {desc}", altered
    for i in range(len(roll)):
        yield f"drop roll {i}", roll[:i] + roll[i + 1 :]
        yield f"duplicate roll {i}", roll[: i + 1] + [roll[i]] + roll[i + 1 :]
        if i + 1 < len(roll):
            yield f"swap roll {i}", roll[:i] + [roll[i + 1], roll[i]] + roll[i + 2 :]
    yield "inject roll entry", roll + [dict(roll[0], right_id="rzzzzzzzzzzzzzzzz")]


def test_every_roll_change_is_caught(honest):
    bundle, receipts, close_receipt, builder = honest
    from voting.entries import roll_summary

    for desc, roll in roll_mutations(bundle):
        mutated = clone(bundle)
        mutated["roll"] = roll
        assert "roll" in failed(verify(resign(mutated, builder.server_key))), desc
        # A server-key attacker who also rewrites the definition's roll summary is caught by the receipts.
        try:
            mutated["entries"][0]["roll"] = roll_summary(roll)
        except Exception:
            continue  # a roll so broken it has no summary stays caught above
        assert not verify(resign(mutated, builder.server_key), receipts + [close_receipt]).ok, desc


def test_election_tally_changes_are_caught():
    bundle, _, builder = simulate_vote(
        12, 16, seed=9, kind="election", candidates=4, seats=2, key_factory=fast_key_factory(5)
    )
    assert verify(bundle).ok
    from voting.keys import sign_object

    for desc, tally in field_mutations(bundle["tally"], [], [f"c{i}" for i in range(1, 5)]):
        if "signature" in desc:
            continue
        mutated = clone(bundle)
        mutated["tally"] = sign_object(builder.server_key, {k: v for k, v in tally.items() if k != "signature"})
        assert "tally" in failed(verify(mutated)), desc
