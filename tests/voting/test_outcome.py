"""The outcome in words (voting.outcome), as the verifier's report and the server's result notice say it."""

from voting.counting import count_log, tally_body
from voting.entries import parse_definition
from voting.outcome import area_text, describe_outcome, percent_text

from .simulate import VoteBuilder, example_vote, fast_key_factory, make_rights


def test_areas_and_percentages_by_integer_arithmetic():
    assert [area_text(x) for x in (0, 5, 100, 123456)] == ["0.00 m²", "0.05 m²", "1.00 m²", "1234.56 m²"]
    assert percent_text(1, 3) == "33.33%" and percent_text(2, 3) == "66.66%"  # truncated, never rounded up
    assert percent_text(5, 5) == "100.00%" and percent_text(1, 0) == "—"


def test_resolution_outcome_in_both_languages():
    bundle, _, _ = example_vote()
    definition = parse_definition(bundle["entries"][0])
    zh, en = describe_outcome(definition, bundle["tally"])
    assert "参与表决：面积 785.94 m²（占总面积 100.00%），人数 6（占总人数 100.00%）。" in zh
    assert "同意：面积 468.08 m²，人数 4。" in zh and "弃权：面积 197.52 m²，人数 1。" in zh
    assert zh.endswith("结果：通过（一般事项，同意须占参与表决面积与人数各过半数）。")
    assert "approve: area 468.08 m², heads 4." in en and "Outcome: PASSED (ordinary matter;" in en
    assert "Quorum" not in en


def test_election_outcome_names_the_elected_and_the_tie():
    rights = make_rights([10000] * 4)
    builder = VoteBuilder(rights, kind="election", seats=2, key_factory=fast_key_factory(3),
                          candidates=[{"id": "c1", "name": "陈静"}, {"id": "c2", "name": "刘洋"},
                                      {"id": "c3", "name": "周杰"}])
    ids = [r.right_id for r in rights]
    for right_id, approve in zip(ids, (["c1", "c2"], ["c2", "c3"], ["c1", "c3"])):
        builder.cast(right_id, {"approve": approve})
    bundle = builder.close()
    tally = tally_body(count_log(bundle["roll"], bundle["entries"]), bundle["tally"]["size"], bundle["tally"]["root"])
    zh, en = describe_outcome(parse_definition(bundle["entries"][0]), tally)
    # every candidate has 2 of the 3 heads taking part: all three level for two seats
    assert "候选人 陈静（c1）：同意面积 200.00 m²，人数 2。" in zh and "未达到" not in zh
    assert "应选 2 名；当选：无。" in zh and "末位票数相同" in zh and "陈静（c1）、刘洋（c2）、周杰（c3）" in zh
    assert "Tie at the last seat: 陈静 (c1), 刘洋 (c2), 周杰 (c3)" in en
