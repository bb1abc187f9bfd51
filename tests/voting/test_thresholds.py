"""Boundary tables for Civil Code art. 278 with art. 1259 ("以上" includes the number, "过半数" does not)."""

import pytest

from voting.counting import elect, majority, quorum_reached, resolution_passes, three_quarters

from .helpers import run_vote


@pytest.mark.parametrize(
    "a, h, A, H, expected",
    [
        (200, 20, 300, 30, True),  # exactly two thirds of area and heads
        (199, 20, 300, 30, False),  # one unit (0.01 m²) of area less
        (200, 19, 300, 30, False),  # one head less
        (300, 19, 300, 30, False),  # all the area, heads short
        (199, 30, 300, 30, False),  # all the heads, area short
        (201, 2, 301, 3, True),  # 2/3 of 301 is 200.67: 201 is enough
        (200, 2, 301, 3, False),  # … and 200 is not
        (0, 0, 300, 30, False),
    ],
)
def test_quorum_table(a, h, A, H, expected):
    assert quorum_reached(a, h, A, H) is expected


@pytest.mark.parametrize(
    "ya, yh, a, h, expected",
    [
        (101, 11, 200, 20, True),
        (100, 11, 200, 20, False),  # exactly half the area is not more than half
        (101, 10, 200, 20, False),  # exactly half the heads
        (150, 9, 200, 20, False),  # area majority without heads majority
        (90, 15, 200, 20, False),  # heads majority without area majority
        (1, 1, 1, 1, True),
        (0, 0, 0, 0, False),
    ],
)
def test_majority_table(ya, yh, a, h, expected):
    assert majority(ya, yh, a, h) is expected


@pytest.mark.parametrize(
    "ya, yh, a, h, expected",
    [
        (150, 15, 200, 20, True),  # exactly three quarters of both
        (149, 15, 200, 20, False),  # one unit of area less
        (150, 14, 200, 20, False),  # one head less
        (151, 3, 201, 4, True),  # 3/4 of 201 is 150.75: 151 is enough
        (150, 3, 201, 4, False),
        (200, 14, 200, 20, False),  # all the area, heads short
    ],
)
def test_three_quarters_table(ya, yh, a, h, expected):
    assert three_quarters(ya, yh, a, h) is expected


def test_no_quorum_never_passes():
    assert not resolution_passes("ordinary", False, 10, 10, 10, 10)
    assert not resolution_passes("special", False, 10, 10, 10, 10)
    with pytest.raises(ValueError):
        resolution_passes("urgent", True, 1, 1, 1, 1)


# --- whole votes: the same boundaries through ballots, the log, the tally and the verifier ----------

A, R, X = "approve", "reject", "abstain"


@pytest.mark.parametrize(
    "areas, ballots, matter, quorum, passed",
    [
        # turnout exactly 2/3 of area and heads
        ([100, 100, 100], [(0, A), (1, A)], "ordinary", True, True),
        # heads exactly 2/3 but area one unit short of 2/3 (3·200 < 2·301)
        ([100, 100, 101], [(0, A), (1, A)], "ordinary", False, False),
        # area far above 2/3 but heads one short (3 of 6 < 4)
        ([1000, 1, 1, 1, 1, 1], [(0, A), (1, A), (2, A)], "ordinary", False, False),
        # heads exactly 2/3 (4 of 6) and area above
        ([1000, 1, 1, 1, 1, 1], [(0, A), (1, A), (2, A), (3, R)], "ordinary", True, True),
        # approval of exactly half the area (150 of 300), heads 3 of 4
        ([50, 50, 50, 150], [(0, A), (1, A), (2, A), (3, R)], "ordinary", True, False),
        # approval of exactly half the heads (2 of 4), area 200 of 300
        ([50, 50, 50, 150], [(0, A), (3, A), (1, R), (2, R)], "ordinary", True, False),
        # area majority without heads majority
        ([400, 100, 100, 100], [(0, A), (1, R), (2, R), (3, R)], "ordinary", True, False),
        # heads majority without area majority
        ([400, 100, 100, 100], [(0, R), (1, A), (2, A), (3, A)], "ordinary", True, False),
        # special: exactly 3/4 of area and heads
        ([100, 100, 100, 100], [(0, A), (1, A), (2, A), (3, R)], "special", True, True),
        # special: 3/4 of heads but one unit of area short (4·300 < 3·401)
        ([100, 100, 100, 101], [(0, A), (1, A), (2, A), (3, R)], "special", True, False),
        # special: majority is not enough
        ([100, 100, 100, 100], [(0, A), (1, A), (2, R), (3, R)], "special", True, False),
        # abstentions count in turnout but never as approval: 3 of 6 approve is not more than half
        ([100] * 6, [(0, A), (1, A), (2, A), (3, R), (4, X), (5, X)], "ordinary", True, False),
        # … without the two abstainers the same approvals pass (4 of 6 is still a quorum)
        ([100] * 6, [(0, A), (1, A), (2, A), (3, R)], "ordinary", True, True),
        # an abstention makes the quorum (4 of 6) and the approvals pass …
        ([100] * 6, [(0, A), (1, A), (2, A), (3, X)], "ordinary", True, True),
        # … while without it there is no quorum
        ([100] * 6, [(0, A), (1, A), (2, A)], "ordinary", False, False),
    ],
)
def test_resolution_boundaries_end_to_end(areas, ballots, matter, quorum, passed):
    tally, _ = run_vote(areas, ballots, matter=matter)
    assert tally["quorum"] is quorum
    assert tally["passed"] is passed
    assert tally["totals"] == {"area": sum(areas), "heads": len(areas)}


def test_a_change_of_mind_counts_only_the_last_ballot():
    tally, _ = run_vote([100, 100, 100], [(0, R), (1, A), (0, A), (1, X), (1, A)])
    assert tally["counts"] == {
        "approve": {"area": 200, "heads": 2},
        "reject": {"area": 0, "heads": 0},
        "abstain": {"area": 0, "heads": 0},
    }
    assert tally["turnout"] == {"area": 200, "heads": 2}


def test_paper_ballots_beside_signed_ones():
    # Right 0 votes on paper (reject) and also signs (approve): the signed ballot wins, whatever the order.
    # Right 1 votes only on paper, twice: the last paper ballot counts. Right 2 signs only.
    tally, _ = run_vote(
        [100, 100, 100, 100],
        [(0, A), (2, R)],
        paper=[(0, R), (1, R), (1, A)],
    )
    assert tally["paper"] == 1
    assert tally["counts"]["approve"] == {"area": 200, "heads": 2}
    assert tally["counts"]["reject"] == {"area": 100, "heads": 1}
    assert tally["turnout"] == {"area": 300, "heads": 3}
    assert tally["quorum"] is True and tally["passed"] is True


def test_paper_after_signed_does_not_override():
    from .simulate import VoteBuilder, fast_key_factory, make_rights

    from .helpers import right_ids

    ids = right_ids([100, 100, 100])
    builder = VoteBuilder(make_rights([100, 100, 100]), key_factory=fast_key_factory(2))
    builder.cast(ids[0], {"option": "approve"})
    builder.paper(ids[0], {"option": "reject"})
    builder.cast(ids[1], {"option": "approve"})
    tally = builder.close()["tally"]
    assert tally["paper"] == 0
    assert tally["counts"]["reject"] == {"area": 0, "heads": 0}


# --- elections ---------------------------------------------------------------------------------------


def counts_of(table):
    return {c: {"heads": h, "area": a} for c, (h, a) in table.items()}


@pytest.mark.parametrize(
    "seats, table, elected, tie",
    [
        # at most k qualify: all of them, in rank order
        (2, {"c1": (6, 600), "c2": (3, 300), "c3": (7, 700)}, ["c3", "c1"], []),
        # ranked by heads first, then area
        (2, {"c1": (6, 900), "c2": (7, 600), "c3": (6, 800)}, ["c2", "c1"], []),
        # equal heads, area decides the last seat: no tie
        (2, {"c1": (8, 800), "c2": (6, 700), "c3": (6, 650)}, ["c1", "c2"], []),
        # equal heads and area at the last seat: tie, only those above are elected
        (2, {"c1": (8, 800), "c2": (6, 700), "c3": (6, 700)}, ["c1"], ["c2", "c3"]),
        # a tie group that fits within the seats is elected whole
        (3, {"c1": (8, 800), "c2": (6, 700), "c3": (6, 700), "c4": (6, 600)}, ["c1", "c2", "c3"], []),
        # tie for the only seat
        (1, {"c1": (6, 700), "c2": (6, 700)}, [], ["c1", "c2"]),
        # three-way tie for the last two seats
        (3, {"c1": (9, 900), "c2": (6, 700), "c3": (6, 700), "c4": (6, 700)}, ["c1"], ["c2", "c3", "c4"]),
        # below the majority of heads (5 of 10 is not more than half): not qualified even with seats free
        (3, {"c1": (8, 800), "c2": (5, 900), "c3": (6, 400)}, ["c1"], []),
        # a candidate with more heads but without an area majority does not qualify
        (1, {"c1": (9, 400), "c2": (6, 600)}, ["c2"], []),
    ],
)
def test_election_ranking_and_tie_table(seats, table, elected, tie):
    # turnout: area 1000, heads 10
    assert elect(seats, list(table), counts_of(table), True, 1000, 10) == (elected, tie)


def test_election_without_quorum_elects_nobody():
    assert elect(1, ["c1"], counts_of({"c1": (10, 1000)}), False, 1000, 10) == ([], [])


def test_election_tie_at_the_last_seat_end_to_end():
    cands = ["c1", "c2", "c3"]
    areas = [100] * 6
    ballots = [
        (0, {"approve": ["c1", "c2"]}),
        (1, {"approve": ["c1", "c3"]}),
        (2, {"approve": ["c1", "c2"]}),
        (3, {"approve": ["c1", "c3"]}),
        (4, {"approve": ["c2", "c3"]}),
        (5, {"approve": []}),  # an empty approval: takes part, approves nobody
    ]
    tally, _ = run_vote(areas, ballots, kind="election", candidates=cands, seats=2)
    assert tally["turnout"] == {"area": 600, "heads": 6}
    assert tally["counts"] == {
        "c1": {"area": 400, "heads": 4},
        "c2": {"area": 300, "heads": 3},
        "c3": {"area": 300, "heads": 3},
    }
    # c2 and c3 have 3 of 6 heads: not more than half, so only c1 qualifies.
    assert (tally["elected"], tally["tie"]) == (["c1"], [])

    ballots[5] = (5, {"approve": ["c2", "c3"]})
    tally, _ = run_vote(areas, ballots, kind="election", candidates=cands, seats=2)
    assert tally["counts"]["c2"] == tally["counts"]["c3"] == {"area": 400, "heads": 4}
    assert tally["counts"]["c1"] == {"area": 400, "heads": 4}
    # Three qualify with identical heads and area for two seats: all tie, nobody is silently picked.
    assert (tally["elected"], tally["tie"]) == ([], ["c1", "c2", "c3"])
