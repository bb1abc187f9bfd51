"""Field-by-field difference between two JSON documents (two versions of a published record).

The result is a list of changes `{"path", "op", "old", "new"}`:
- `path` is a JSON Pointer (RFC 6901) to the field, e.g. `/prices/2/price_fen`;
- `op` is `added` (only `new`), `removed` (only `old`) or `changed` (both);
- object members are matched by key; list elements are aligned like lines in a text diff
  (difflib on their canonical JSON), so inserting one fee item reports one `added` element, not
  every later element `changed`. Paths of `removed` elements index the old list; paths of `added`
  and `changed` elements index the new list.
A value whose type changes (e.g. a string becomes a list) is one `changed` entry with both values.
"""
from difflib import SequenceMatcher

from voting.canonical import dumps


def _pointer(path, key):
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def diff(old, new, path=""):
    """The changes that turn `old` into `new`."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new)):
            if key not in new:
                changes.append({"path": _pointer(path, key), "op": "removed", "old": old[key], "new": None})
            elif key not in old:
                changes.append({"path": _pointer(path, key), "op": "added", "old": None, "new": new[key]})
            else:
                changes.extend(diff(old[key], new[key], _pointer(path, key)))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        return _diff_lists(old, new, path)
    if old == new and type(old) is type(new):
        return []
    return [{"path": path or "/", "op": "changed", "old": old, "new": new}]


def _diff_lists(old, new, path):
    matcher = SequenceMatcher(None, [dumps(x) for x in old], [dumps(x) for x in new], autojunk=False)
    changes = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            changes.extend(diff(old[i1 + k], new[j1 + k], _pointer(path, j1 + k)))
        for i in range(i1 + paired, i2):
            changes.append({"path": _pointer(path, i), "op": "removed", "old": old[i], "new": None})
        for j in range(j1 + paired, j2):
            changes.append({"path": _pointer(path, j), "op": "added", "old": None, "new": new[j]})
    return changes
