"""The named cases of linli-vote/1.1 (docs/protocol.md §7, §11): each forged co-signature, missing
quorum, unwitnessed prefix, equivocation and invalid proxy fails the bundle with the check that says
so — built by a builder playing a dishonest server that holds the server key (it appends anything
and signs every head and the tally), so that only the new rules stand between it and a passing
bundle. And an owner who votes after their proxy is counted."""

from datetime import timedelta

from voting import PROTOCOL_1_1
from voting.keys import generate_key, sign_object
from voting.merkle import root_from_leaf_hashes
from voting.report import render_json, render_text
from voting.witnesses import make_cosignature

from .helpers import clone, failed, verify
from .simulate import VoteBuilder, fast_key_factory, make_rights

APPROVE, REJECT = {"option": "approve"}, {"option": "reject"}


def vote(quorum=2):
    """A 1.1 vote of four rights with three witnesses (w1 street office, w2 residents' committee, w3 a
    committee member)."""
    keys = fast_key_factory(77)
    witnesses = [("w1", "街道办", keys()), ("w2", "居委会", keys()), ("w3", "业委会委员", keys())]
    builder = VoteBuilder(make_rights([1000, 2000, 3000, 4000]), protocol=PROTOCOL_1_1, witnesses=witnesses,
                          witness_quorum=quorum, key_factory=keys)
    return builder, [r["right_id"] for r in builder.roll]


def checks_failed(bundle):
    report = verify(bundle)
    return failed(report), report


def details(report, key):
    return next(c.details for c in report.checks if c.key == key)


# --- co-signatures ---------------------------------------------------------------------------------


def test_an_honest_witnessed_vote_passes():
    builder, ids = vote()
    builder.cast(ids[0], APPROVE)
    builder.cosign("w1")
    builder.cosign("w2")
    builder.cast(ids[1], REJECT)
    assert verify(builder.close()).ok


def test_forged_cosignature_fails_check_11():
    builder, ids = vote()
    builder.cast(ids[0], APPROVE)
    bundle = builder.close()
    forged = clone(bundle)
    forged["cosignatures"][0] = sign_object(generate_key(), {k: v for k, v in forged["cosignatures"][0].items()
                                                             if k != "signature"})
    bad, report = checks_failed(forged)
    assert "cosignatures" in bad
    assert any("forged co-signature" in d for d in details(report, "cosignatures"))


def test_cosignature_for_another_vote_fails_check_11():
    builder, ids = vote()
    builder.cast(ids[0], APPROVE)
    bundle = builder.close()
    elsewhere = make_cosignature(builder.witness_keys["w1"], "v-other", bundle["tree_head"]["size"],
                                 bundle["tree_head"]["root"], "w1", "2025-03-15T01:00:00Z")
    bundle["cosignatures"].append(elsewhere)
    bad, report = checks_failed(bundle)
    assert bad == {"cosignatures"}  # the other co-signatures still make the quorum
    assert any("for vote v-other" in d for d in details(report, "cosignatures"))


def test_cosignature_from_an_unknown_witness_fails_check_11_and_does_not_count():
    builder, ids = vote(quorum=3)
    builder.cast(ids[0], APPROVE)
    bundle = builder.close(cosigners=["w1", "w2"])
    stranger = make_cosignature(generate_key(), builder.vote_id, bundle["tree_head"]["size"],
                                bundle["tree_head"]["root"], "w9", "2025-03-15T01:00:00Z")
    bundle["cosignatures"].append(stranger)
    bad, report = checks_failed(bundle)
    assert bad == {"cosignatures", "witness_quorum"}
    assert any("unknown witness w9" in d for d in details(report, "cosignatures"))
    # A stranger signing under a real witness's id is a forgery of that witness.
    bundle["cosignatures"][-1] = make_cosignature(generate_key(), builder.vote_id, bundle["tree_head"]["size"],
                                                  bundle["tree_head"]["root"], "w3", "2025-03-15T01:00:00Z")
    bad, report = checks_failed(bundle)
    assert bad == {"cosignatures", "witness_quorum"}
    assert any("forged co-signature" in d for d in details(report, "cosignatures"))


def test_quorum_not_met_fails_check_14_naming_the_missing_witnesses():
    builder, ids = vote(quorum=2)
    builder.cast(ids[0], APPROVE)
    builder.cosign("w2")  # an earlier head co-signed by w2 does not count for the final one
    bundle = builder.close(cosigners=["w1"])
    bad, report = checks_failed(bundle)
    assert bad == {"witness_quorum"}
    [line] = details(report, "witness_quorum")
    assert "1 of the 2" in line and "co-signed by w1 (街道办)" in line and "missing w2 (居委会), w3 (业委会委员)" in line
    assert render_json(report, "b")["witnesses"] == {"quorum": 2, "cosigned_final": ["w1"], "missing": ["w2", "w3"]}
    # The same witness twice is one witness.
    bundle["cosignatures"].append(dict(bundle["cosignatures"][-1]))
    assert failed(verify(bundle)) == {"witness_quorum"}


def test_cosigned_head_that_is_not_a_prefix_of_the_final_log_fails_check_12():
    """The server showed the witnesses a log it then rewrote: entry 1 was replaced after they co-signed."""
    builder, ids = vote()
    builder.cast(ids[0], APPROVE)
    seen = builder.cosign("w3")  # the head of size 2 with Zhang's approve
    rewritten = VoteBuilder(make_rights([1000, 2000, 3000, 4000]), protocol=PROTOCOL_1_1,
                            witnesses=[(w, n, builder.witness_keys[w]) for w, n in (("w1", "街道办"), ("w2", "居委会"),
                                                                                     ("w3", "业委会委员"))],
                            witness_quorum=2, server_key=builder.server_key, roll_keys=builder.keys)
    rewritten.cast(ids[0], REJECT)
    rewritten.cosignatures.append(seen)
    bad, report = checks_failed(rewritten.close())
    # The co-signed final head extends another size-2 prefix: the two co-signed heads conflict too.
    assert bad == {"cosigned_prefix", "equivocation"}
    [line] = details(report, "cosigned_prefix")
    assert "witness w3 (业委会委员) co-signed size 2" in line and seen["root"] in line


def test_cosigned_head_larger_than_the_log_means_entries_were_dropped():
    builder, ids = vote()
    builder.cast(ids[0], APPROVE)
    builder.cast(ids[1], APPROVE)
    late = builder.cosign("w1")  # size 3
    bundle = builder.close(cosigners=["w1", "w2"])
    dropped = clone(bundle)
    del dropped["entries"][2]  # the server drops a ballot the witness saw, and re-signs everything
    from .helpers import resign
    dropped = resign(dropped, builder.server_key)
    dropped["cosignatures"] = [late]
    bad, report = checks_failed(dropped)
    assert "cosigned_prefix" in bad and "witness_quorum" in bad
    assert any("entries were dropped" in d or "co-signed size 3" in d for d in details(report, "cosigned_prefix"))


def test_equivocation_same_size_different_roots_fails_check_13_with_both_heads():
    """A split view: the server shows w1 a log where ids[0] approved and w2 one where they rejected."""
    builder, ids = vote()
    fork = VoteBuilder(make_rights([1000, 2000, 3000, 4000]), protocol=PROTOCOL_1_1, key_factory=fast_key_factory(77),
                       witnesses=[(w, n, builder.witness_keys[w]) for w, n in (("w1", "街道办"), ("w2", "居委会"),
                                                                                ("w3", "业委会委员"))],
                       witness_quorum=2, server_key=builder.server_key, roll_keys=builder.keys)
    builder.cast(ids[0], APPROVE)
    fork.cast(ids[0], REJECT, at=fork.opens_at + timedelta(seconds=1))
    true_head = builder.cosign("w1")
    forked_head = make_cosignature(builder.witness_keys["w2"], builder.vote_id, 2, fork.frontier.root(), "w2",
                                   "2025-03-01T00:00:05Z")
    builder.cosignatures.append(forked_head)
    bad, report = checks_failed(builder.close())
    assert "equivocation" in bad and "cosigned_prefix" in bad
    [line] = details(report, "equivocation")
    assert true_head["root"] in line and forked_head["root"] in line
    assert "co-signed by w1" in line and "co-signed by w2" in line
    [pair] = render_json(report, "b")["equivocations"]
    assert {pair["first"]["root"], pair["second"]["root"]} == {true_head["root"], forked_head["root"]}
    assert "分叉 / equivocations: 1" in render_text(report, "b")


def test_equivocation_a_smaller_head_the_final_log_does_not_extend():
    """w1 co-signed a size-2 head of a fork; the co-signed final head extends another size-2 prefix."""
    builder, ids = vote()
    builder.cast(ids[0], APPROVE)
    forked_root = root_from_leaf_hashes([builder.hashes[0], b"\x07" * 32])
    forked = make_cosignature(builder.witness_keys["w1"], builder.vote_id, 2, forked_root, "w1", "2025-03-01T00:00:02Z")
    builder.cast(ids[1], APPROVE)
    builder.cosignatures.append(forked)
    bundle = builder.close()
    bad, report = checks_failed(bundle)
    assert bad == {"cosigned_prefix", "equivocation"}
    [line] = details(report, "equivocation")
    assert forked_root.hex() in line and f"size {bundle['tree_head']['size']}" in line


# --- proxies ---------------------------------------------------------------------------------------


def test_delegate_ballot_without_delegation_fails_check_6():
    builder, ids = vote()
    builder.cast(ids[0], APPROVE, key=generate_key())
    bad, report = checks_failed(builder.close())
    assert bad == {"ballots"}
    assert any("neither bound to the right nor its delegate" in d for d in details(report, "ballots"))


def test_delegate_ballot_after_revocation_fails_check_6():
    builder, ids = vote()
    delegate = generate_key()
    builder.delegate(ids[0], delegate)
    builder.cast(ids[0], APPROVE, key=delegate)  # counted while the proxy stood
    builder.revoke_delegation(ids[0], delegate)
    builder.cast(ids[0], REJECT, key=delegate)
    bad, report = checks_failed(builder.close())
    assert bad == {"ballots"}
    assert any("no longer the right's delegate" in d for d in details(report, "ballots"))


def test_delegate_ballot_after_the_signing_key_was_revoked_fails_check_6():
    builder, ids = vote()
    delegate, owner_key = generate_key(), builder.keys[ids[0]][-1]
    builder.delegate(ids[0], delegate, signer=owner_key)
    builder.revoke(ids[0], owner_key)  # the owner's phone was lost: the proxy it made ends with it
    builder.cast(ids[0], APPROVE, key=delegate)
    bad, report = checks_failed(builder.close())
    assert bad == {"ballots"}


def test_delegation_signed_by_an_unbound_key_fails_check_10():
    builder, ids = vote()
    delegate = generate_key()
    builder.delegate(ids[0], delegate, signer=generate_key())  # the server invents a proxy
    builder.cast(ids[0], APPROVE, key=delegate)
    bad, report = checks_failed(builder.close())
    assert bad == {"delegations", "ballots"}
    assert any("is not bound to the right" in d for d in details(report, "delegations"))


def test_delegation_signed_by_a_revoked_key_fails_check_10():
    builder, ids = vote()
    old = builder.keys[ids[0]][-1]
    builder.revoke(ids[0], old)
    builder.delegate(ids[0], generate_key(), signer=old)
    bad, report = checks_failed(builder.close())
    assert bad == {"delegations"}
    assert any("which was revoked" in d for d in details(report, "delegations"))


def test_delegation_by_another_rights_key_or_a_delegate_fails_check_10():
    builder, ids = vote()
    delegate = generate_key()
    builder.delegate(ids[0], generate_key(), signer=builder.keys[ids[1]][-1])  # a neighbour's key
    builder.delegate(ids[2], delegate)
    builder.delegate(ids[2], generate_key(), signer=delegate)  # a proxy cannot delegate further
    bad, _ = checks_failed(builder.close())
    assert bad == {"delegations"}


def test_revoking_a_delegate_that_is_not_the_active_one_fails_check_10():
    builder, ids = vote()
    first, second = generate_key(), generate_key()
    builder.delegate(ids[0], first)
    builder.delegate(ids[0], second)  # replaces the first: at most one delegate per right
    builder.cast(ids[0], APPROVE, key=first)
    builder.revoke_delegation(ids[0], first)
    bad, report = checks_failed(builder.close())
    assert bad == {"ballots", "delegations"}
    assert any("not the right's active delegate" in d for d in details(report, "delegations"))


def test_owner_overrides_the_proxy_by_voting_later():
    builder, ids = vote()
    delegate = generate_key()
    builder.delegate(ids[0], delegate)
    proxy = builder.cast(ids[0], APPROVE, key=delegate)
    own = builder.cast(ids[0], REJECT)
    report = verify(builder.close())
    assert report.ok
    assert report.result.counted[ids[0]].index == own and not report.result.counted[ids[0]].proxy
    assert report.result.status[proxy] == "superseded"
    assert report.tally["counts"]["reject"]["heads"] == 1 and report.tally["counts"]["approve"]["heads"] == 0


def test_a_proxy_ballot_after_the_owners_counts_and_a_replayed_nonce_is_refused():
    builder, ids = vote()
    delegate = generate_key()
    builder.cast(ids[0], REJECT)
    builder.delegate(ids[0], delegate, nonce="AAAAAAAAAAAAAAAAAAAAAA")
    proxy = builder.cast(ids[0], APPROVE, key=delegate)
    report = verify(builder.close())
    assert report.ok and report.result.counted[ids[0]].proxy and report.result.counted[ids[0]].index == proxy
    # Nonces are one namespace: a ballot reusing the delegation's nonce is invalid.
    builder2, ids2 = vote()
    builder2.delegate(ids2[0], generate_key(), nonce="AAAAAAAAAAAAAAAAAAAAAA")
    builder2.cast(ids2[1], APPROVE, nonce="AAAAAAAAAAAAAAAAAAAAAA")
    bad, report2 = checks_failed(builder2.close())
    assert bad == {"ballots"} and any("nonce" in d for d in details(report2, "ballots"))
