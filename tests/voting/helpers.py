"""Shared helpers for the voting tests: honest votes, an attacker holding the server key, mutations."""

from __future__ import annotations

import json
from pathlib import Path

from voting.canonical import canonical, dumps, format_time, is_time, parse_time
from voting.counting import count_log, tally_body
from voting.entries import OPTIONS, is_hash_hex, is_nonce, is_public_key, is_signature, make_tree_head
from voting.keys import generate_key, public_key_b64u, sign_object
from voting.merkle import Frontier, leaf_hash
from voting.checks import verify_bundle

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT / "tests" / "vectors" / "merkle"  # transparency-dev/merkle testdata (README there)

ATTACKER_KEY = generate_key()


def clone(obj):
    """A deep copy of a JSON value."""
    return json.loads(json.dumps(obj))


def verify(bundle, receipts=()):
    """The verifier's report on a bundle with (name, receipt) pairs built from plain receipts."""
    return verify_bundle(bundle, [(f"r{i}", r) for i, r in enumerate(receipts)], workers=1)


def failed(report) -> set[str]:
    """Keys of the checks that did not pass."""
    return {c.key for c in report.checks if c.ok is not True}


def resign(bundle, server_key):
    """What an attacker holding the server key does after changing the log: fresh tree head and tally."""
    out = clone(bundle)
    entries = out["entries"]
    frontier = Frontier()
    for entry in entries:
        frontier.append(leaf_hash(dumps(entry)))
    root = frontier.root().hex()
    vote_id = out["tree_head"].get("vote_id", "v1")
    out["tree_head"] = make_tree_head(server_key, vote_id, len(entries), root, out["tree_head"].get("timestamp", "2025-03-15T00:00:00Z"))
    try:
        body = tally_body(count_log(out["roll"], entries, verify_signatures=True), len(entries), root)
    except Exception:  # a log too broken to count: keep the old figures, still signed
        body = {k: v for k, v in out["tally"].items() if k != "signature"}
        body["size"], body["root"] = len(entries), root
    out["tally"] = sign_object(server_key, body)
    return out


# --- single-value alterations -----------------------------------------------------------------------


def alternatives(value, roll_ids, candidate_ids):
    """Plausible different values for one field: same format where possible, so only meaning changes."""
    if isinstance(value, bool):
        return [not value]
    if value is None:
        return [1]
    if isinstance(value, int):
        return [value + 1, value - 1]
    if isinstance(value, list):
        alts = [value[:-1], value + value[:1]] if value else [["x"]]
        extra = [c for c in candidate_ids if c not in value]
        if extra and all(v in candidate_ids for v in value):
            alts.append(value + extra[:1])
        return alts
    if not isinstance(value, str):
        return []
    if is_time(value):
        moment = parse_time(value)
        from datetime import timedelta

        return [format_time(moment + timedelta(seconds=1)), format_time(moment - timedelta(seconds=1))]
    if value in roll_ids:
        return [next(r for r in roll_ids if r != value)]
    if value in OPTIONS:
        return [o for o in OPTIONS if o != value]
    if value in candidate_ids:
        return [c for c in candidate_ids if c != value][:1]
    if is_public_key(value):
        return [public_key_b64u(ATTACKER_KEY)]
    if is_signature(value) or is_nonce(value):
        return [("B" if value[0] != "B" else "C") + value[1:]]
    if is_hash_hex(value):
        return [("1" if value[0] != "1" else "2") + value[1:]]
    return [value + "x"]


def field_mutations(obj, roll_ids, candidate_ids, path=()):
    """(description, mutated copy) for every field of a JSON object tree: changed, removed, and one added per object."""
    if isinstance(obj, dict):
        for key in list(obj):
            for alt in alternatives(obj[key], roll_ids, candidate_ids):
                copy = clone(obj)
                copy[key] = alt
                yield f"{'.'.join(path + (key,))}={json.dumps(alt, ensure_ascii=False)[:40]}", copy
            for desc, sub in field_mutations(obj[key], roll_ids, candidate_ids, path + (key,)):
                copy = clone(obj)
                copy[key] = sub
                yield desc, copy
            copy = clone(obj)
            del copy[key]
            yield f"remove {'.'.join(path + (key,))}", copy
        copy = clone(obj)
        copy["extra"] = 1
        yield f"add {'.'.join(path + ('extra',))}", copy
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            if isinstance(item, (dict, list)):
                for desc, sub in field_mutations(item, roll_ids, candidate_ids, path + (str(i),)):
                    copy = clone(obj)
                    copy[i] = sub
                    yield desc, copy


def log_mutations(bundle, attacker_entries):
    """(description, mutated bundle) for every single-entry alteration, deletion, duplication, reordering and injection."""
    entries = bundle["entries"]
    roll_ids = [r["right_id"] for r in bundle["roll"]]
    cands = [c["id"] for c in (entries[0].get("candidates") or [])]
    n = len(entries)

    def with_entries(new):
        out = clone(bundle)
        out["entries"] = new
        return out

    for i, entry in enumerate(entries):
        for desc, altered in field_mutations(entry, roll_ids, cands):
            yield f"alter entry {i} ({entry['type']}): {desc}", with_entries(entries[:i] + [altered] + entries[i + 1 :])
        yield f"delete entry {i} ({entry['type']})", with_entries(entries[:i] + entries[i + 1 :])
        yield f"duplicate entry {i} ({entry['type']})", with_entries(entries[: i + 1] + [entry] + entries[i + 1 :])
        if i + 1 < n and canonical(entries[i]) != canonical(entries[i + 1]):
            swapped = entries[:i] + [entries[i + 1], entries[i]] + entries[i + 2 :]
            yield f"swap entries {i} and {i + 1}", with_entries(swapped)
        if i < n - 2:
            moved = entries[:i] + entries[i + 1 : n - 1] + [entry, entries[-1]]
            yield f"move entry {i} to just before close", with_entries(moved)
    for k, injected in enumerate(attacker_entries):
        for pos in sorted({1, n // 2, n - 1, n}):
            yield f"inject attacker entry {k} ({injected['type']}) at {pos}", with_entries(entries[:pos] + [injected] + entries[pos:])


# --- small votes with chosen areas ------------------------------------------------------------------


def right_ids(areas):
    """The right_id of make_rights(areas)[i] by input position i (make_rights gives owner o{i} part i)."""
    from voting.rights import right_id_for

    return [right_id_for({f"o{i}"}) for i in range(len(areas))]


def run_vote(areas, ballots, *, matter="ordinary", kind="resolution", candidates=None, seats=None, paper=()):
    """Cast signed ballots [(position, choice)] then paper ballots; return (tally, builder). Choice may be an option name."""
    from .simulate import VoteBuilder, fast_key_factory, make_rights

    ids = right_ids(areas)
    cands = [{"id": c, "name": f"候选人 {c}"} for c in candidates] if candidates else None
    builder = VoteBuilder(
        make_rights(areas), kind=kind, matter=matter, candidates=cands, seats=seats, key_factory=fast_key_factory(1)
    )

    def as_choice(choice):
        return {"option": choice} if isinstance(choice, str) else choice

    for position, choice in paper:
        builder.paper(ids[position], as_choice(choice))
    for position, choice in ballots:
        builder.cast(ids[position], as_choice(choice))
    bundle = builder.close()
    report = verify(bundle)
    assert report.ok, [(c.key, c.details) for c in report.checks if not c.ok]
    return bundle["tally"], builder
