"""Ballot validity in log order (docs/protocol.md §7) and the edge semantics documented in docs/protocol.md."""

from datetime import timedelta

import pytest

from voting.counting import count_log, tally_body
from voting.entries import make_ballot, make_ballot_entry, make_paper_ballot, sign_ballot
from voting.keys import generate_key

from .helpers import failed, right_ids, verify
from .simulate import CLOSES_AT, OPENS_AT, VoteBuilder, fast_key_factory, make_rights

AREAS = [100, 200, 300, 400]
IDS = right_ids(AREAS)


@pytest.fixture
def builder():
    return VoteBuilder(make_rights(AREAS), key_factory=fast_key_factory(4), roll_key_rights=IDS[:3])


def statuses(builder):
    result = count_log(builder.roll, builder.entries)
    return result, result.status


def signed_entry(builder, right_id, option, key, at, nonce=None):
    ballot = make_ballot(builder.vote_id, right_id, {"option": option}, at, nonce)
    return make_ballot_entry(sign_ballot(key, ballot), at)


def test_re_vote_supersedes(builder):
    first = builder.cast(IDS[0], {"option": "reject"})
    second = builder.cast(IDS[0], {"option": "approve"})
    result, status = statuses(builder)
    assert status == {first: "superseded", second: "counted"}
    assert result.counted[IDS[0]].choice == {"option": "approve"}
    assert result.stats()["superseded"] == 1


def test_window_is_closed_open(builder):
    at_open = builder.cast(IDS[0], {"option": "approve"}, at=OPENS_AT)
    before = builder.append(signed_entry(builder, IDS[1], "approve", builder.keys[IDS[1]][0], OPENS_AT - timedelta(seconds=1)))
    at_close = builder.append(signed_entry(builder, IDS[2], "approve", builder.keys[IDS[2]][0], CLOSES_AT))
    _, status = statuses(builder)
    assert status == {at_open: "counted", before: "invalid", at_close: "invalid"}


def test_replayed_ballot_is_invalid_and_does_not_override_a_newer_choice(builder):
    old = builder.cast(IDS[0], {"option": "reject"})
    new = builder.cast(IDS[0], {"option": "approve"})
    replay = builder.append(builder.entries[old])
    result, status = statuses(builder)
    assert status[replay] == "invalid"
    assert result.counted[IDS[0]].index == new


def test_an_invalid_ballot_does_not_use_up_its_nonce(builder):
    key = builder.keys[IDS[0]][0]
    early = signed_entry(builder, IDS[0], "approve", key, OPENS_AT - timedelta(seconds=5))
    first = builder.append(early)  # invalid: before the window
    # The same signed ballot received again inside the window (a client retry) is valid.
    retry = builder.append({**early, "received_at": "2025-03-02T00:00:00Z"})
    _, status = statuses(builder)
    assert status == {first: "invalid", retry: "counted"}


def test_nonces_are_unique_across_rights(builder):
    nonce = "A" * 22
    a = builder.cast(IDS[0], {"option": "approve"}, nonce=nonce)
    b = builder.cast(IDS[1], {"option": "approve"}, nonce=nonce)
    _, status = statuses(builder)
    assert status == {a: "counted", b: "invalid"}


def test_key_must_be_bound_before_the_ballot(builder):
    late_key = fast_key_factory(99)()
    early = builder.append(signed_entry(builder, IDS[3], "approve", late_key, "2025-03-01T01:00:00Z"))
    from voting.entries import make_key_binding
    from voting.keys import public_key_b64u

    builder.append(make_key_binding(builder.vote_id, IDS[3], public_key_b64u(late_key), "2025-03-01T02:00:00Z"))
    after = builder.append(signed_entry(builder, IDS[3], "reject", late_key, "2025-03-01T03:00:00Z"))
    result, status = statuses(builder)
    assert status == {early: "invalid", after: "counted"}
    assert result.bindings == 1


def test_revoked_key_cannot_cast_but_its_earlier_ballot_stands(builder):
    key = builder.keys[IDS[0]][0]
    before = builder.cast(IDS[0], {"option": "approve"}, key=key)
    builder.revoke(IDS[0], key)
    after = builder.cast(IDS[0], {"option": "reject"}, key=key)
    result, status = statuses(builder)
    assert status == {before: "counted", after: "invalid"}
    assert result.revocations == 1
    new_key = builder.bind(IDS[0])
    third = builder.cast(IDS[0], {"option": "abstain"}, key=new_key)
    result, status = statuses(builder)
    assert status[third] == "counted" and status[before] == "superseded"


def test_a_key_bound_to_another_right_cannot_cast_for_this_one(builder):
    idx = builder.append(signed_entry(builder, IDS[1], "approve", builder.keys[IDS[0]][0], "2025-03-02T00:00:00Z"))
    _, status = statuses(builder)
    assert status[idx] == "invalid"


def test_one_key_may_serve_two_rights_of_the_same_owner(builder):
    from voting.entries import make_key_binding
    from voting.keys import public_key_b64u

    shared = builder.keys[IDS[0]][0]
    builder.append(make_key_binding(builder.vote_id, IDS[1], public_key_b64u(shared), "2025-03-01T05:00:00Z"))
    a = builder.cast(IDS[0], {"option": "approve"}, key=shared)
    b = builder.cast(IDS[1], {"option": "reject"}, key=shared)
    _, status = statuses(builder)
    assert status == {a: "counted", b: "counted"}


def test_ballot_for_a_right_outside_the_roll_is_invalid(builder):
    stranger = generate_key()
    idx = builder.append(signed_entry(builder, "r0000000000000000", "approve", stranger, "2025-03-02T00:00:00Z"))
    _, status = statuses(builder)
    assert status[idx] == "invalid"


def test_wrong_vote_id_is_invalid(builder):
    key = builder.keys[IDS[0]][0]
    ballot = make_ballot("another-vote", IDS[0], {"option": "approve"}, "2025-03-02T00:00:00Z")
    idx = builder.append(make_ballot_entry(sign_ballot(key, ballot), "2025-03-02T00:00:00Z"))
    _, status = statuses(builder)
    assert status[idx] == "invalid"


def test_paper_ballot_validity(builder):
    ok = builder.paper(IDS[3], {"option": "approve"})
    outside = builder.append(make_paper_ballot(builder.vote_id, IDS[3], {"option": "reject"}, "cd" * 32, "staff-1", CLOSES_AT))
    not_in_roll = builder.append(
        make_paper_ballot(builder.vote_id, "r0000000000000000", {"option": "reject"}, "cd" * 32, "staff-1", OPENS_AT)
    )
    bad_choice = builder.append(make_paper_ballot(builder.vote_id, IDS[2], {"option": "yes"}, "cd" * 32, "staff-1", OPENS_AT))
    result, status = statuses(builder)
    assert status == {ok: "counted", outside: "invalid", not_in_roll: "invalid", bad_choice: "invalid"}
    assert result.counted[IDS[3]].source == "paper"


@pytest.mark.parametrize(
    "choice, valid",
    [
        ({"approve": []}, True),
        ({"approve": ["c2"]}, True),
        ({"approve": ["c1", "c3"]}, True),
        ({"approve": ["c1", "c2", "c3"]}, False),  # more than the 2 seats
        ({"approve": ["c1", "c1"]}, False),
        ({"approve": ["c9"]}, False),
        ({"approve": "c1"}, False),
        ({"option": "approve"}, False),
        ({"approve": ["c1"], "extra": 1}, False),
    ],
)
def test_election_choices(choice, valid):
    cands = [{"id": f"c{i}", "name": f"候选人{i}"} for i in (1, 2, 3)]
    b = VoteBuilder(make_rights(AREAS), kind="election", candidates=cands, seats=2, key_factory=fast_key_factory(6))
    idx = b.cast(IDS[0], choice)
    result = count_log(b.roll, b.entries)
    assert result.status[idx] == ("counted" if valid else "invalid")
    if valid:
        tally = tally_body(result, len(b.entries), "00" * 32)
        assert tally["turnout"] == {"area": 100, "heads": 1}  # an empty approval still takes part


def test_invalid_ballots_fail_the_verifier_but_are_left_out_of_the_count(builder):
    builder.cast(IDS[0], {"option": "approve"})
    builder.append(builder.entries[-1])  # replay
    bundle = builder.close()
    report = verify(bundle)
    assert failed(report) == {"ballots"}
    assert report.result.stats()["invalid"] == 1
    assert bundle["tally"]["turnout"] == {"area": 100, "heads": 1}


def test_key_binding_and_revocation_consistency(builder):
    from voting.entries import make_key_binding, make_key_revocation
    from voting.keys import public_key_b64u

    existing = public_key_b64u(builder.keys[IDS[0]][0])
    stranger = public_key_b64u(generate_key())
    builder.append(make_key_binding(builder.vote_id, IDS[0], existing, "2025-03-01T05:00:00Z"))  # already bound
    builder.append(make_key_revocation(builder.vote_id, IDS[1], stranger, "2025-03-01T05:00:00Z"))  # never bound
    builder.append(make_key_binding(builder.vote_id, "r0000000000000000", stranger, "2025-03-01T05:00:00Z"))
    builder.append(make_key_revocation(builder.vote_id, IDS[0], existing, "2025-03-01T05:00:00Z"))
    builder.append(make_key_binding(builder.vote_id, IDS[0], existing, "2025-03-01T05:00:00Z"))  # re-bind revoked
    report = verify(builder.close())
    assert failed(report) == {"keys"}
    assert len(report.checks[4].details) == 4


def test_close_must_be_last_and_not_early(builder):
    from voting.entries import make_close

    builder.append(make_close(builder.vote_id, CLOSES_AT - timedelta(seconds=1)))
    report = verify(builder.bundle())
    assert failed(report) == {"close"}

    b2 = VoteBuilder(make_rights(AREAS), key_factory=fast_key_factory(4))
    b2.append(make_close(b2.vote_id, CLOSES_AT))
    b2.cast(IDS[0], {"option": "approve"})
    b2.append(make_close(b2.vote_id, CLOSES_AT))
    report = verify(b2.bundle())
    assert "close" in failed(report)
    assert report.result.counted == {}  # nothing after a close counts


def test_log_without_close_fails():
    b = VoteBuilder(make_rights(AREAS), key_factory=fast_key_factory(4))
    b.cast(IDS[0], {"option": "approve"})
    report = verify(b.bundle())
    assert failed(report) == {"close"}


def test_stats_cover_every_ballot():
    from .simulate import simulate_vote

    bundle, _, builder = simulate_vote(20, 35, seed=3, paper=3, bindings=2, revocations=1, key_factory=fast_key_factory(8))
    stats = count_log(builder.roll, builder.entries).stats()
    assert stats["signed_ballots"] == 35 and stats["paper_ballots"] == 3
    assert stats["counted_signed"] + stats["counted_paper"] + stats["superseded"] + stats["invalid"] == 38
    assert stats["key_bindings"] == 3 and stats["key_revocations"] == 1
    assert stats["counted_paper"] == bundle["tally"]["paper"] == 3
