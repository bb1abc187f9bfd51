"""The linli-vote/1 and 1.1 objects: normative field names, builders and validators (docs/protocol.md §5)."""

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting import PROTOCOL, PROTOCOL_1
from voting.canonical import canonical
from voting.intrinsic import SignatureChecker, _ballot_bytes, scan_entry
from voting.entries import (
    ProtocolError,
    build_roll,
    make_ballot,
    make_ballot_entry,
    make_close,
    make_definition,
    make_key_binding,
    make_key_revocation,
    make_paper_ballot,
    make_receipt,
    make_tree_head,
    parse_definition,
    roll_root,
    roll_summary,
    sign_ballot,
    tree_head_problem,
    validate_entry,
    validate_envelope,
    validate_roll,
    validate_roll_entry,
)
from voting.keys import generate_key, public_key_b64u
from voting.merkle import leaf_hash, root_from_leaf_hashes
from voting.rights import PartInput, compute_rights

from .simulate import make_rights

KEY = generate_key()
PUB = public_key_b64u(KEY)
ROLL = build_roll(make_rights([1000, 2000, 3000]), {})


def definition(**overrides):
    args = dict(
        vote_id="v1", community_id="c1", title="更换物业服务企业", kind="resolution", matter="ordinary",
        opens_at="2025-03-01T00:00:00Z", closes_at="2025-03-15T00:00:00Z", roll=ROLL, server_key=PUB,
    )  # fmt: skip
    args.update(overrides)
    return make_definition(**args)


def test_field_names_are_exactly_those_of_the_protocol():
    """The names are normative: these literal lists are copied from docs/protocol.md §5, not from the code."""
    d = definition()
    assert set(d) == {"type", "protocol", "vote_id", "community_id", "title", "kind", "matter", "options",
                      "candidates", "seats", "opens_at", "closes_at", "roll", "server_key", "witnesses",
                      "witness_quorum"}  # fmt: skip
    assert d["protocol"] == PROTOCOL == "linli-vote/1.1" and d["witnesses"] == [] and d["witness_quorum"] == 0
    d1 = definition(protocol=PROTOCOL_1)
    assert set(d1) == {"type", "protocol", "vote_id", "community_id", "title", "kind", "matter", "options",
                       "candidates", "seats", "opens_at", "closes_at", "roll", "server_key"}  # fmt: skip
    assert d1["protocol"] == "linli-vote/1"
    assert set(d["roll"]) == {"root", "size", "area", "heads"}
    assert d["options"] == ["approve", "reject", "abstain"]
    assert set(ROLL[0]) == {"right_id", "label", "area", "heads", "keys"}
    rid = ROLL[0]["right_id"]
    assert set(make_key_binding("v1", rid, PUB, "2025-03-01T00:00:00Z")) == {"type", "vote_id", "right_id", "public_key", "bound_at"}
    assert set(make_key_revocation("v1", rid, PUB, "2025-03-01T00:00:00Z")) == {"type", "vote_id", "right_id", "public_key", "revoked_at"}
    paper = make_paper_ballot("v1", rid, {"option": "approve"}, "ab" * 32, "staff-1", "2025-03-01T00:00:00Z")
    assert set(paper) == {"type", "vote_id", "right_id", "choice", "evidence", "entered_by", "received_at"}
    ballot = make_ballot("v1", rid, {"option": "approve"}, "2025-03-01T00:00:00Z")
    assert set(ballot) == {"type", "vote_id", "right_id", "choice", "nonce", "signed_at"}
    envelope = sign_ballot(KEY, ballot)
    assert set(envelope) == {"ballot", "public_key", "signature"}
    assert set(make_ballot_entry(envelope, "2025-03-01T00:00:01Z")) == {"type", "received_at", "envelope"}
    assert set(make_close("v1", "2025-03-15T00:00:00Z")) == {"type", "vote_id", "closed_at"}
    head = make_tree_head(KEY, "v1", 3, b"\x00" * 32, "2025-03-01T00:00:00Z")
    assert set(head) == {"type", "vote_id", "size", "root", "timestamp", "signature"}
    receipt = make_receipt("v1", 2, "ab" * 32, head, [b"\x01" * 32])
    assert set(receipt) == {"vote_id", "leaf_index", "leaf_hash", "tree_head", "inclusion_proof"}


def test_roll_root_is_the_merkle_root_of_canonical_roll_entries():
    expected = root_from_leaf_hashes([leaf_hash(canonical(item)) for item in ROLL]).hex()
    assert roll_root(ROLL) == expected
    assert roll_summary(ROLL) == {"root": expected, "size": 3, "area": 6000, "heads": 3}


def test_build_roll_sorts_by_right_id_and_keys():
    rights = compute_rights(
        [PartInput("a", "2-1-101", 100, frozenset({"x"})), PartInput("b", "1-1-101", 200, frozenset({"y"}))]
    )
    keys = [public_key_b64u(generate_key()) for _ in range(3)]
    roll = build_roll(reversed(rights), {rights[0].right_id: keys})
    assert [r["right_id"] for r in roll] == sorted(r.right_id for r in rights)
    assert roll[0]["keys"] == sorted(keys)
    validate_roll(roll)


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(heads=2),
        lambda r: r.update(area=0),
        lambda r: r.update(area=1.5),
        lambda r: r.update(label=""),
        lambda r: r.update(keys=[PUB, PUB]),
        lambda r: r.update(keys=["short"]),
        lambda r: r.update(right_id="has space"),
        lambda r: r.update(name="张三"),  # no names in the roll
        lambda r: r.pop("keys"),
    ],
)
def test_roll_entry_validation(change):
    item = copy.deepcopy(ROLL[0])
    change(item)
    with pytest.raises(ProtocolError):
        validate_roll_entry(item)


def test_roll_must_be_sorted_and_unique():
    with pytest.raises(ProtocolError):
        validate_roll(list(reversed(ROLL)))
    with pytest.raises(ProtocolError):
        validate_roll(ROLL + ROLL[-1:])


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(kind="poll"), "kind"),
        (dict(matter="urgent"), "matter"),
        (dict(opens_at="2025-03-15T00:00:00Z"), "before"),
        (dict(closes_at="2025-03-15T00:00:00+08:00"), "closes_at"),
        (dict(vote_id=""), "vote_id"),
        (dict(vote_id=17), "vote_id"),
        (dict(title=""), "title"),
        (dict(title="Cafe\u0301"), "title"),
        (dict(server_key="AAAA"), "server_key"),
        (dict(roll=[]), "roll"),
        (dict(kind="election", candidates=[{"id": "c1", "name": "甲"}], seats=2), "seats"),
        (dict(kind="election", candidates=[{"id": "c1", "name": "甲"}, {"id": "c1", "name": "乙"}], seats=1), "repeat"),
        (dict(kind="election", candidates=[], seats=1), "candidates"),
        (dict(kind="election", matter="special", candidates=[{"id": "c1", "name": "甲"}], seats=1), "ordinary"),
    ],
)
def test_definition_validation(overrides, message):
    with pytest.raises(ProtocolError, match=message):
        definition(**overrides)


def test_definition_rejects_unknown_and_missing_fields():
    d = definition()
    with pytest.raises(ProtocolError, match="unexpected"):
        parse_definition({**d, "description": "extra"})
    missing = dict(d)
    del missing["server_key"]
    with pytest.raises(ProtocolError, match="missing"):
        parse_definition(missing)
    with pytest.raises(ProtocolError):
        parse_definition({**d, "protocol": "linli-vote/2"})


def test_election_definition():
    d = definition(kind="election", candidates=[{"id": "c1", "name": "甲"}, {"id": "c2", "name": "乙"}], seats=1)
    parsed = parse_definition(d)
    assert parsed.is_election and parsed.candidate_ids == ("c1", "c2") and d["options"] is None
    assert parsed.candidate_name("c2") == "乙"


def test_envelope_validation_checks_the_signature():
    d = parse_definition(definition())
    ballot = make_ballot("v1", ROLL[0]["right_id"], {"option": "approve"}, "2025-03-02T00:00:00Z")
    envelope = sign_ballot(KEY, ballot)
    validate_envelope(envelope, d)
    tampered = copy.deepcopy(envelope)
    tampered["ballot"]["choice"] = {"option": "reject"}
    with pytest.raises(ProtocolError, match="signature"):
        validate_envelope(tampered, d)
    with pytest.raises(ProtocolError, match="vote_id"):
        validate_envelope(sign_ballot(KEY, {**ballot, "vote_id": "v2"}), d)
    with pytest.raises(ProtocolError, match="nonce"):
        validate_envelope(sign_ballot(KEY, {**ballot, "nonce": "AAAA"}), d)


def test_entry_validation_refuses_other_types_and_a_second_definition():
    d = parse_definition(definition())
    with pytest.raises(ProtocolError, match="unknown entry type"):
        validate_entry({"type": "note", "vote_id": "v1"}, d)
    with pytest.raises(ProtocolError, match="entry 0"):
        validate_entry(definition(), d)
    with pytest.raises(ProtocolError):
        validate_entry(make_paper_ballot("v1", ROLL[0]["right_id"], {"option": "approve"}, "AB" * 32, "s", "2025-03-02T00:00:00Z"), d)


def test_tree_head_problem():
    head = make_tree_head(KEY, "v1", 5, b"\x07" * 32, "2025-03-01T00:00:00Z")
    assert tree_head_problem(head, "v1", PUB) is None
    assert "vote_id" in tree_head_problem(head, "v2", PUB)
    assert "signature" in tree_head_problem(head, "v1", public_key_b64u(generate_key()))
    assert "size" in tree_head_problem({**head, "size": -1}, "v1", PUB)
    assert tree_head_problem({**head, "size": 6}, "v1", PUB) is not None


ELECTION = definition(kind="election", candidates=[{"id": f"c{i}", "name": f"候选人{i}"} for i in range(5)], seats=3)


@settings(max_examples=80, deadline=None)
@given(
    choice=st.one_of(
        st.sampled_from(["approve", "reject", "abstain"]).map(lambda o: {"option": o}),
        st.lists(st.sampled_from([f"c{i}" for i in range(5)]), unique=True, max_size=3).map(lambda a: {"approve": a}),
    ),
    micro=st.booleans(),
    second=st.integers(0, 59),
    right=st.sampled_from([r["right_id"] for r in ROLL]),
    vote_id=st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
)
def test_ballot_shortcuts_equal_canonical(choice, micro, second, right, vote_id):
    """The verifier formats canonical(B) and the entry's leaf directly; both must equal canonical()."""
    when = f"2025-03-02T00:00:{second:02d}" + (".123456Z" if micro else "Z")
    election = "approve" in choice
    d = dict(ELECTION if election else definition(), vote_id=vote_id)
    ballot = make_ballot(vote_id, right, choice, when)
    entry = make_ballot_entry(sign_ballot(KEY, ballot), when)
    leaf, problem = scan_entry(entry, parse_definition(d), {r["right_id"]: r for r in ROLL}, SignatureChecker())
    assert problem is None  # so the signature over the shortcut bytes verified
    assert leaf == canonical(entry)
    assert _ballot_bytes(ballot) == canonical(ballot)
