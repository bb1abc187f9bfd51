"""Voting rights from parts and owners (docs/protocol.md §3, 司法解释 art. 8–9)."""

import hashlib
import random

import pytest

from voting.rights import PartInput, Right, compute_rights, natural_key, right_id_for


def part(pid, label, area, *owners):
    return PartInput(part_id=pid, label=label, area=area, owners=frozenset(owners))


def test_one_person_three_flats_is_one_right_with_summed_area():
    rights = compute_rights(
        [part("p1", "10-1-101", 9000, "alice"), part("p2", "3-2-201", 8000, "alice"), part("p3", "3-1-1101", 12050, "alice")]
    )
    assert len(rights) == 1
    r = rights[0]
    assert r.area == 29050
    assert r.heads == 1
    assert r.label == "3-1-1101,3-2-201,10-1-101"
    assert r.part_ids == ("p3", "p2", "p1")
    assert r.owners == frozenset({"alice"})


def test_co_owners_share_one_right():
    rights = compute_rights([part("p1", "1-1-101", 10000, "alice", "bob")])
    assert len(rights) == 1
    assert rights[0].owners == frozenset({"alice", "bob"})
    assert rights[0].heads == 1


def test_alone_and_co_owned_are_two_rights():
    rights = compute_rights([part("p1", "1-1-101", 10000, "alice"), part("p2", "1-1-102", 9000, "alice", "bob")])
    assert len(rights) == 2
    by_owners = {r.owners: r for r in rights}
    assert by_owners[frozenset({"alice"})].area == 10000
    assert by_owners[frozenset({"alice", "bob"})].area == 9000
    assert by_owners[frozenset({"alice"})].right_id != by_owners[frozenset({"alice", "bob"})].right_id


def test_developer_unsold_parts_are_one_right():
    parts = [part(f"d{i}", f"5-1-{i + 1}01", 10000 + i, "developer") for i in range(12)]
    parts.append(part("x", "5-1-1301", 9999, "carol"))
    rights = compute_rights(parts)
    dev = [r for r in rights if r.owners == frozenset({"developer"})]
    assert len(dev) == 1
    assert dev[0].area == sum(10000 + i for i in range(12))
    assert dev[0].heads == 1
    assert len(dev[0].part_ids) == 12
    assert sum(r.heads for r in rights) == 2


def test_right_id_formula():
    owners = {"b", "a"}
    expected = "r" + hashlib.sha256("a\nb".encode("utf-8")).hexdigest()[:16]
    assert right_id_for(owners) == expected
    assert compute_rights([part("p", "1-1-1", 1, "a", "b")])[0].right_id == expected


def test_deterministic_regardless_of_input_order():
    parts = [part(f"p{i}", f"{i % 7}-{i % 3}-{i}", 100 + i, f"o{i % 5}", f"o{i % 4}") for i in range(60)]
    first = compute_rights(parts)
    for seed in range(5):
        shuffled = parts[:]
        random.Random(seed).shuffle(shuffled)
        assert compute_rights(shuffled) == first
    assert [r.right_id for r in first] == sorted(r.right_id for r in first)
    assert sum(r.area for r in first) == sum(p.area for p in parts)


def test_natural_sort_of_labels():
    labels = ["10-1-101", "3-2-201", "3-2-1101", "3-10-101", "3-2-202"]
    assert sorted(labels, key=natural_key) == ["3-2-201", "3-2-202", "3-2-1101", "3-10-101", "10-1-101"]


def test_empty_input_gives_no_rights():
    assert compute_rights([]) == []


def test_result_types():
    r = compute_rights([part("p", "1-1-1", 5, "a")])[0]
    assert isinstance(r, Right)
    assert isinstance(r.part_ids, tuple)


@pytest.mark.parametrize(
    "bad",
    [
        part("p", "1-1-1", 100),  # no owners
        part("p", "1-1-1", 0, "a"),
        part("p", "1-1-1", -5, "a"),
        PartInput("p", "1-1-1", 100.0, frozenset({"a"})),  # float area
        PartInput("p", "1-1-1", True, frozenset({"a"})),  # bool is not an area
        PartInput("p", "1-1-1", "100", frozenset({"a"})),
        part("p", "1-1-1", 100, "a\nb"),  # would collide with {"a","b"}
        part("p", "1-1-1", 100, ""),
    ],
)
def test_invalid_part_raises(bad):
    with pytest.raises(ValueError):
        compute_rights([bad])


def test_duplicate_part_id_raises():
    with pytest.raises(ValueError, match="duplicate"):
        compute_rights([part("p", "1-1-1", 100, "a"), part("p", "1-1-2", 100, "b")])
