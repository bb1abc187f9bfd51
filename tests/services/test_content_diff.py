"""The field-by-field difference between two versions of published content."""
from backend.services.content_diff import diff


def test_equal_documents_have_no_changes():
    doc = {"a": [1, {"b": "x"}], "c": None, "d": True}
    assert diff(doc, doc) == []


def test_members_added_removed_changed_with_json_pointer_paths():
    old = {"grade": "二级", "reference": "DB11", "a/b": 1, "clauses": [{"title": "客服", "text": "8:00"}]}
    new = {"grade": "一级", "a/b": 2, "clauses": [{"title": "客服", "text": "7:30"}], "extra": [1]}
    assert diff(old, new) == [
        {"path": "/a~1b", "op": "changed", "old": 1, "new": 2},
        {"path": "/clauses/0/text", "op": "changed", "old": "8:00", "new": "7:30"},
        {"path": "/extra", "op": "added", "old": None, "new": [1]},
        {"path": "/grade", "op": "changed", "old": "二级", "new": "一级"},
        {"path": "/reference", "op": "removed", "old": "DB11", "new": None},
    ]


def test_list_insertions_do_not_shift_every_later_element():
    old = {"items": [{"code": "a"}, {"code": "b"}, {"code": "c"}]}
    new = {"items": [{"code": "z"}, {"code": "a"}, {"code": "b"}, {"code": "c"}]}
    assert diff(old, new) == [{"path": "/items/0", "op": "added", "old": None, "new": {"code": "z"}}]
    assert diff(new, old) == [{"path": "/items/0", "op": "removed", "old": {"code": "z"}, "new": None}]


def test_type_changes_and_booleans_are_not_integers():
    assert diff({"x": 1}, {"x": True}) == [{"path": "/x", "op": "changed", "old": 1, "new": True}]
    assert diff({"x": "1"}, {"x": [1]}) == [{"path": "/x", "op": "changed", "old": "1", "new": [1]}]
    assert diff([1], {"a": 1}) == [{"path": "/", "op": "changed", "old": [1], "new": {"a": 1}}]


def test_applying_the_changes_rebuilds_the_new_document():
    old = {"shares": [{"part_id": i, "amount_fen": 10 * i} for i in range(1, 8)], "total_fen": 280}
    new = {"shares": [{"part_id": i, "amount_fen": 10 * i + (i == 3)} for i in range(2, 9)], "total_fen": 351}
    changes = diff(old, new)
    ops = {(c["path"], c["op"]) for c in changes}
    assert ("/shares/0", "removed") in ops and ("/shares/6", "added") in ops
    assert ("/shares/1/amount_fen", "changed") in ops and ("/total_fen", "changed") in ops
    assert len(changes) == 4
