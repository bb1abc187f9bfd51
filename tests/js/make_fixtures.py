"""Golden fixtures for the mini-program's JavaScript linli-vote/1 library, made by the Python voting/ package.

Run with the project's venv: `.venv/bin/python tests/js/make_fixtures.py` writes
miniprogram/test/fixtures/*.json; tests/js/test_fixtures.py checks the committed files equal a
fresh run. Everything is deterministic: fixed seeds, fixed times, seeded RNGs (never os.urandom).
The files are written with ensure_ascii=True so that any string (lone surrogates in the refusal
cases included) survives as JSON text; JSON.parse in JavaScript rebuilds exactly the same values.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from voting.canonical import CanonicalError, b64u_decode, b64u_encode, canonical  # noqa: E402
from voting.entries import make_receipt, make_tree_head, tree_head_problem  # noqa: E402
from voting.keys import public_key_b64u, sign_bytes, verify_object  # noqa: E402
from voting.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion  # noqa: E402
from tests.voting.simulate import (VoteBuilder, b64u_nonce, example_vote, example_vote_1_1, fast_key_factory,  # noqa: E402
                                   make_rights, pub)
from voting import PROTOCOL_1_1  # noqa: E402
from voting.counting import count_log  # noqa: E402
from voting.delegations import REVOCATION, make_delegation, sign_delegation  # noqa: E402
from voting.entries import parse_definition  # noqa: E402
from voting.witnesses import conflicts, cosignature_problem, make_cosignature  # noqa: E402

FIXTURES = REPO / "miniprogram" / "test" / "fixtures"
VECTORS = REPO / "tests" / "vectors" / "merkle"
MAX_SAFE = 2**53 - 1


def seed(label: str) -> bytes:
    """32 fixed bytes named by a label."""
    return hashlib.sha256(f"linli js fixture {label}".encode()).digest()


def key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed(label))


SERVER = key("server")


def dump(data, indent: int | None = 1) -> str:
    return json.dumps(data, ensure_ascii=True, indent=indent, sort_keys=True) + "\n"


# --- canonical JSON -------------------------------------------------------------------------------


def _random_string(rng: random.Random) -> str:
    pools = [
        (0x20, 0x7E),  # printable ASCII
        (0x00, 0x1F),  # controls
        (0x7F, 0xA0),  # DEL, C1 controls, NBSP
        (0x4E00, 0x9FFF),  # CJK
        (0x2028, 0x2029),  # line/paragraph separators
        (0xE000, 0xF8FF),  # private use
        (0xFFF0, 0xFFFF),  # specials, non-characters
        (0x1F300, 0x1F64F),  # emoji (astral: surrogate pairs in JavaScript)
        (0x20000, 0x2A6DF),  # CJK extension B (astral)
    ]
    # Only characters assigned long ago: Python's and the JavaScript engine's Unicode versions differ,
    # and a combining mark added in between would be NFC for one and not for the other.
    chars = []
    for _ in range(rng.randint(0, 12)):
        lo, hi = rng.choice(pools)
        chars.append(chr(rng.randint(lo, hi)))
    chars += rng.choice(["", '"', "\\", "/", "\b\f\n\r\t", "é", "\ufeff"])
    import unicodedata

    return unicodedata.normalize("NFC", "".join(chars))


def _random_value(rng: random.Random, depth: int = 0):
    kind = rng.randint(0, 9 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, -1, MAX_SAFE, -MAX_SAFE, rng.randint(-MAX_SAFE, MAX_SAFE), rng.randint(-1000, 1000)])
    if kind in (3, 4, 5):
        return _random_string(rng)
    if kind in (6, 7):
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["".join(chr(rng.randint(0, 127)) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(0, 5))]
    return {k: _random_value(rng, depth + 1) for k in keys}


def canonical_fixture() -> dict:
    named = [
        ("empty object", {}),
        ("empty array", []),
        ("constants", [None, True, False]),
        ("key order: code points, '10' before '9', upper case before '_' before lower case",
         {"9": 1, "10": 2, "b": 3, "B": 4, "_": 5, "a": 6, "": 7, "~": 8, "A1": 9, "A": 10}),
        ("nested", {"z": {"y": [1, {"x": [], "w": {}}]}, "a": [[[]]]}),
        ("Chinese", {"title": "使用住宅专项维修资金更换3号楼1单元电梯", "name": "林晓梅"}),
        ("emoji and astral characters", ["😀", "👨‍👩‍👧", "𠀀", "\U0010ffff", "a😀b"]),
        ("escapes", ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t", 'say "hi"\\n']),
        ("every control character", "".join(chr(c) for c in range(0x20))),
        ("DEL, C1 controls and U+2028/U+2029 are written raw", ["\x7f", "\x80\x9f", "\u2028", "\u2029", "a\u2028b\u2029c"]),
        ("BOM and non-characters inside strings", ["\ufeff", "\ufffe", "\uffff"]),
        ("NFC strings (precomposed)", ["é", "Å", "한국어", "ﬁ"]),
        ("integers at the bounds", [MAX_SAFE, -MAX_SAFE, 0, -1, 1, 2**31, -(2**31), 2**32]),
        ("integers", {"area": 8950, "size": 13, "heads": 1, "neg": -42}),
        ("keys with escapes", {'"': 1, "\\": 2, "\n": 3, "\x00": 4, "\x7f": 5}),
        ("long string", "长" * 500 + "x" * 500),
    ]
    bundle, receipt, close_receipt = example_vote()
    for i, entry in enumerate(bundle["entries"]):
        named.append((f"example vote entry {i} ({entry['type']})", entry))
    named.append(("example roll entry 0", bundle["roll"][0]))
    named.append(("example tally", bundle["tally"]))
    rng = random.Random(20261127)
    for i in range(200):
        named.append((f"random value {i}", _random_value(rng)))

    accepts = []
    for name, value in named:
        data = canonical(value)
        accepts.append({"name": name, "value": value, "canonical_hex": data.hex(), "leaf_hash": leaf_hash(data).hex()})

    refusal_texts = [
        ("float", "1.5"),
        ("small float", "1e-7"),
        ("float 0.1", "0.1"),
        ("huge float (an integer in JavaScript, beyond 2^53-1)", "1e300"),
        ("2^53", "9007199254740992"),
        ("-2^53", "-9007199254740992"),
        ("2^64", "18446744073709551616"),
        ("float inside an object", '{"a": [{"b": 2.5}]}'),
        ("non-NFC: e + combining acute", '"e\\u0301"'),
        ("non-NFC: Angstrom sign", '"\\u212b"'),
        ("non-NFC: decomposed Hangul", '"\\u1100\\u1161"'),
        ("non-NFC inside an object value", '{"title": "Cafe\\u0301"}'),
        ("lone high surrogate", '"\\ud800"'),
        ("lone low surrogate", '"\\udc00"'),
        ("reversed surrogate pair", '"\\udc00\\ud800"'),
        ("high surrogate at the end", '"abc\\ud83d"'),
        ("lone surrogate in a key", '{"\\ud800": 1}'),
        ("non-ASCII key", '{"\\u00e9": 1}'),
        ("Chinese key", '{"\\u540d": 1}'),
        ("emoji key", '{"\\ud83d\\ude00": 1}'),
        ("deep refusal", '[[[[{"a": 1}, 0.5]]]]'),
    ]
    refuses = []
    for name, text in refusal_texts:
        value = json.loads(text)
        try:
            canonical(value)
        except CanonicalError as exc:
            refuses.append({"name": name, "json": text, "python_error": str(exc)})
        else:
            raise AssertionError(f"Python accepts refusal case {name!r}")
    return {"about": "canonical(value) bytes (hex) and leaf hashes by voting.canonical; refusals as JSON text", "accepts": accepts, "refuses": refuses}


# --- base64url ------------------------------------------------------------------------------------


def b64u_fixture() -> dict:
    rng = random.Random(64)
    encodes = []
    for n in list(range(0, 70)) + [128, 255]:
        raw = bytes(rng.randrange(256) for _ in range(n))
        for data in (raw, b"\xff" * n, b"\x00" * n):
            text = b64u_encode(data)
            assert b64u_decode(text) == data
            encodes.append({"hex": data.hex(), "b64u": text})
    refusals = ["A", "AAAAA", "AA==", "AAA=", "AA=", "A===", "AB", "AAB", "AAC", "AAD", "A+", "A/", "+/+/", "AR",
                "AA AA", " AAA", "AAA ", "AAAA\n", "\u00c0AAA", "A.AA", "A*", "AAAAAAB", "AAAAA_", "_x",
                "vNjIjoH4KxWCF1alo4do1h", "z-NC1yISpZ9pCyQ1Go3QcfBpFSFNP5PwXKSPjsNCtAV"]
    refuses = []
    for text in refusals:
        try:
            b64u_decode(text)
        except ValueError:
            refuses.append(text)
        else:
            raise AssertionError(f"Python accepts {text!r}")
    accepted_odd = ["", "AA", "AAA", "Ag", "AAE", "_w", "__8", "vNjIjoH4KxWCF1alo4do1g"]
    accepts = [{"b64u": t, "hex": b64u_decode(t).hex()} for t in accepted_odd if _decodes(t)]
    return {"about": "voting.canonical.b64u_encode/b64u_decode", "encode": encodes, "refuse": refuses, "decode": accepts}


def _decodes(text: str) -> bool:
    try:
        b64u_decode(text)
    except ValueError:
        return False
    return True


# --- Merkle proofs --------------------------------------------------------------------------------


def merkle_fixture(n: int = 64) -> dict:
    inputs = [i.to_bytes(4, "big") for i in range(n)]
    hashes = [leaf_hash(x) for x in inputs]
    tree = MerkleTree(hashes)
    table: dict[bytes, int] = {}

    def ref(h: bytes) -> int:
        if h not in table:
            table[h] = len(table)
        return table[h]

    roots = [tree.root(size).hex() for size in range(n + 1)]
    inclusion = []
    for size in range(1, n + 1):
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(hashes[index], index, size, proof, tree.root(size))
            inclusion.append([size, index, [ref(p) for p in proof]])
    consistency = []
    for second in range(1, n + 1):
        for first in range(1, second + 1):
            proof = tree.consistency_proof(first, second)
            assert verify_consistency(first, second, tree.root(first), tree.root(second), proof)
            consistency.append([first, second, [ref(p) for p in proof]])
    return {
        "about": "leaf i is the 4-byte big-endian i; proofs by voting.merkle.MerkleTree as [size, index, [node refs]] and "
                 "[first, second, [node refs]], each ref an index into nodes (hex)",
        "leaf_inputs_hex": [x.hex() for x in inputs],
        "leaf_hashes": [h.hex() for h in hashes],
        "roots": roots,
        "nodes": [h.hex() for h, _ in sorted(table.items(), key=lambda item: item[1])],
        "inclusion": inclusion,
        "consistency": consistency,
    }


def vectors_fixture() -> dict:
    def b64(value):
        return base64.b64decode(value) if value is not None else None

    verdicts = []
    for path in sorted(VECTORS.rglob("*.json")):
        rel = path.relative_to(VECTORS).as_posix()
        if rel == "roots.json":
            continue
        case = json.loads(path.read_text())
        if rel.startswith("inclusion/"):
            ok = verify_inclusion(b64(case["leafHash"]), case["leafIdx"], case["treeSize"],
                                  [b64(p) for p in case["proof"] or []], b64(case["root"]))
        else:
            ok = verify_consistency(case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]),
                                    [b64(p) for p in case["proof"] or []])
        assert ok is (not case["wantErr"]), rel
        verdicts.append({"file": rel, "python_ok": ok})
    assert len(verdicts) > 150
    return {"about": "voting.merkle's verdict on every vector under tests/vectors/merkle", "verdicts": verdicts}


# --- keys and ballots -----------------------------------------------------------------------------


def keys_fixture() -> dict:
    messages = [b"", b"linli", "林晓梅 投票 😀".encode(), bytes(range(256))]
    out = []
    seeds = [bytes(32), b"\xff" * 32] + [seed(f"owner {i}") for i in range(8)]
    for raw in seeds:
        sk = Ed25519PrivateKey.from_private_bytes(raw)
        out.append({
            "seed_hex": raw.hex(),
            "public_key": public_key_b64u(sk),
            "signatures": [{"message_hex": m.hex(), "signature": sign_bytes(sk, m)} for m in messages],
        })
    return {"about": "Ed25519 (RFC 8032) by cryptography: public keys of seeds, deterministic signatures", "keys": out}


def _vote(vote_id: str, kind: str = "resolution", n_rights: int = 6, seed_label: str = "owners"):
    areas = [8950 + 37 * i for i in range(n_rights)]
    candidates = [{"id": f"c{i}", "name": f"候选人{i}"} for i in range(1, 5)] if kind == "election" else None
    builder = VoteBuilder(
        make_rights(areas), kind=kind, vote_id=vote_id, community_id="c-js", title="前端库测试表决 😀",
        candidates=candidates, seats=2 if kind == "election" else None,
        server_key=SERVER, key_factory=fast_key_factory(int.from_bytes(seed(seed_label)[:4], "big")),
    )
    return builder


def ballots_fixture() -> dict:
    builder = _vote("v-js-ballots", kind="election")
    rng = random.Random(7)
    cases = []
    choices = [{"approve": []}, {"approve": ["c1"]}, {"approve": ["c3", "c1"]}, {"approve": ["c2"]}, {"approve": ["c4", "c2"]},
               {"approve": ["c1", "c2"]}]
    for i in range(6):
        raw = seed(f"ballot owner {i}")
        sk = Ed25519PrivateKey.from_private_bytes(raw)
        nonce_bytes = rng.randbytes(16)
        choice = choices[i]
        signed_at = (datetime(2025, 3, 1, tzinfo=timezone.utc) + timedelta(seconds=3607 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ballot = {"type": "ballot", "vote_id": builder.vote_id, "right_id": builder.roll[i % len(builder.roll)]["right_id"],
                  "choice": choice, "nonce": b64u_encode(nonce_bytes), "signed_at": signed_at}  # fmt: skip
        from voting.entries import sign_ballot

        envelope = sign_ballot(sk, ballot)
        cases.append({
            "seed_hex": raw.hex(), "nonce_hex": nonce_bytes.hex(), "signed_at": signed_at,
            "vote_id": ballot["vote_id"], "right_id": ballot["right_id"], "choice": choice,
            "canonical_ballot_hex": canonical(ballot).hex(), "envelope": envelope,
        })
    return {"about": "ballots B and envelopes signed by voting.entries.sign_ballot with seeded keys",
            "definition": builder.definition, "cases": cases}


def _cast_all(builder: VoteBuilder, rng: random.Random, choices) -> list[int]:
    indexes = []
    for i, item in enumerate(builder.roll):
        indexes.append(builder.cast(item["right_id"], choices[i % len(choices)], nonce=b64u_nonce(rng)))
    return indexes


def receipts_fixture() -> dict:
    rng = random.Random(11)
    builder = _vote("v-js-receipts", n_rights=9)
    builder.paper(builder.roll[0]["right_id"], {"option": "abstain"})
    indexes = _cast_all(builder, rng, [{"option": "approve"}, {"option": "reject"}, {"option": "abstain"}])
    indexes.append(builder.cast(builder.roll[1]["right_id"], {"option": "approve"}, nonce=b64u_nonce(rng)))  # a re-vote
    server_key = pub(SERVER)
    good = []
    for index in indexes:
        entry = builder.entries[index]
        for size in sorted({index + 1, len(builder.entries)}):
            receipt = builder.receipt(index, size)
            receipt["entry"] = entry
            assert tree_head_problem(receipt["tree_head"], builder.vote_id, server_key) is None
            good.append({"name": f"ballot {index} in tree of {size}", "receipt": receipt, "envelope": entry["envelope"]})
    bad = []
    # A receipt for another owner's ballot, shown with this phone's envelope.
    first, second = good[0], good[2]
    bad.append({"name": "someone else's receipt", "receipt": first["receipt"], "envelope": second["envelope"],
                "codes": ["entry_not_this_ballot"]})
    # The paper ballot's receipt: its entry is not a signed ballot.
    paper = builder.receipt(1, len(builder.entries))
    paper["entry"] = builder.entries[1]
    bad.append({"name": "paper ballot receipt", "receipt": paper, "envelope": first["envelope"], "codes": ["entry_not_ballot"]})
    # A receipt of the kind the server gave before receipts carried their entry.
    plain = {k: v for k, v in builder.receipt(indexes[0]).items() if k != "entry"}
    bad.append({"name": "receipt without entry", "receipt": plain, "envelope": builder.entries[indexes[0]]["envelope"],
                "codes": ["receipt_lacks_entry"]})
    # A head signed by another key (a stranger's server).
    stranger = key("stranger")
    forged = builder.receipt(indexes[0])
    forged["tree_head"] = make_tree_head(stranger, builder.vote_id, forged["tree_head"]["size"], forged["tree_head"]["root"],
                                         forged["tree_head"]["timestamp"])
    forged["entry"] = builder.entries[indexes[0]]
    assert not verify_object(server_key, forged["tree_head"])
    bad.append({"name": "head signed by another key", "receipt": forged, "envelope": forged["entry"]["envelope"],
                "codes": ["head_signature_invalid"]})
    # An entry that is not in the tree the head names: a correct receipt for a log the server later rewrote.
    other = _vote("v-js-receipts", n_rights=9)
    other.paper(other.roll[0]["right_id"], {"option": "approve"})  # differs from the first log at entry 1
    _cast_all(other, random.Random(11), [{"option": "approve"}, {"option": "reject"}, {"option": "abstain"}])
    swapped = builder.receipt(indexes[3], len(builder.entries))
    swapped["entry"] = builder.entries[indexes[3]]
    swapped["tree_head"] = make_tree_head(SERVER, other.vote_id, len(other.entries), other.frontier.root(), "2025-03-02T00:00:00Z")
    bad.append({"name": "proof against another log's head", "receipt": swapped, "envelope": swapped["entry"]["envelope"],
                "codes": ["inclusion_failed"]})

    bundle, voter_receipt, _ = example_vote()
    example = dict(voter_receipt, entry=bundle["entries"][voter_receipt["leaf_index"]])
    example_server_key = bundle["entries"][0]["server_key"]
    return {
        "about": "receipts made by tests.voting.simulate.VoteBuilder, with the logged entry as `entry`",
        "server_key": server_key,
        "good": good,
        "bad": bad,
        "example": {"server_key": example_server_key, "receipt": example, "envelope": example["entry"]["envelope"],
                    "leaf_hash": voter_receipt["leaf_hash"]},
    }


def heads_fixture() -> dict:
    rng = random.Random(5)
    builder = _vote("v-js-heads")
    _cast_all(builder, rng, [{"option": "approve"}])
    heads = []
    for size in range(0, len(builder.entries) + 1):
        root = MerkleTree(builder.hashes).root(size).hex()
        heads.append(make_tree_head(SERVER, builder.vote_id, size, root, f"2025-03-01T00:{size:02d}:00Z"))
    micro = make_tree_head(SERVER, builder.vote_id, 1, heads[1]["root"], "2025-03-01T00:00:00.123456Z")
    heads.append(micro)
    for head in heads:
        assert verify_object(pub(SERVER), head)
    return {"about": "tree heads signed by voting.entries.make_tree_head", "server_key": pub(SERVER),
            "vote_id": builder.vote_id, "heads": heads}


# --- a forked log ---------------------------------------------------------------------------------


def fork_fixture() -> dict:
    """Two logs of one vote sharing their first 7 entries, every head signed by the same server key."""
    prefix = 7

    def build(divergent_choice):
        rng = random.Random(3)
        builder = _vote("v-js-fork", n_rights=14)
        for i, item in enumerate(builder.roll):
            choice = {"option": "approve"} if len(builder.entries) < prefix else divergent_choice
            builder.cast(item["right_id"], choice, nonce=b64u_nonce(rng))
        return builder

    a = build({"option": "approve"})
    b = build({"option": "reject"})
    assert a.hashes[:prefix] == b.hashes[:prefix] and a.hashes[prefix] != b.hashes[prefix]
    trees = {"A": MerkleTree(a.hashes), "B": MerkleTree(b.hashes)}

    def head(log, size):
        return make_tree_head(SERVER, "v-js-fork", size, trees[log].root(size), f"2025-03-0{1 if log == 'A' else 2}T00:00:{size:02d}Z")

    def proof(log, first, second):
        return [p.hex() for p in trees[log].consistency_proof(first, second)]

    def step(log, size, proof_from=None, expect="newer", proof_log=None):
        out = {"log": log, "head": head(log, size), "expect": expect, "proof": None}
        if proof_from is not None:
            small, large = sorted((proof_from, size))
            out["proof"] = proof(proof_log or log, small, large)
        return out

    scenarios = [
        {"name": "honest log seen over time", "steps": [
            step("A", 5, expect="first"), step("A", 9, 5), step("A", 12, 9), step("A", 9, 12, expect="older"),
            step("A", 12, expect="same"), step("A", 15, 12)]},
        {"name": "same size, different root", "steps": [step("A", 9, expect="first"), step("B", 9, expect="split")]},
        {"name": "larger head of the other log, its own proof", "steps": [step("A", 9, expect="first"), step("B", 14, 9, expect="split")]},
        {"name": "larger head of the other log, the honest log's proof", "steps": [step("A", 9, expect="first"), step("B", 14, 9, expect="split")]},
        {"name": "smaller head of the other log", "steps": [step("B", 14, expect="first"), step("A", 9, 14, expect="split")]},
        {"name": "both logs agree on the shared prefix", "steps": [step("A", 5, expect="first"), step("B", 14, 5, expect="newer"),
                                                                     step("A", 7, 14, expect="older", proof_log="B")]},
        {"name": "the fork shows once the phone has seen past the prefix", "steps": [
            step("A", 7, expect="first"), step("A", 10, 7), step("B", 10, expect="split")]},
    ]
    # The fourth scenario shows the honest log's proof to the forked head: it fails too.
    scenarios[3]["steps"][1]["proof"] = proof("A", 9, 14)
    server_key = pub(SERVER)
    for scenario in scenarios:
        _check_scenario(scenario, server_key)
    return {"about": "two logs of one vote sharing a 7-entry prefix (tests.voting.simulate, voting.merkle); every head signed "
                     "by the same key. Steps show heads to a HeadMemory in order; expect is its status.",
            "server_key": server_key, "prefix": prefix, "scenarios": scenarios}


def _check_scenario(scenario: dict, server_key: str) -> None:
    """The expected statuses follow from voting.merkle's own verdicts."""
    remembered = None
    for step in scenario["steps"]:
        head = step["head"]
        assert tree_head_problem(head, "v-js-fork", server_key) is None
        if remembered is None:
            status = "first"
        elif remembered["size"] == head["size"]:
            status = "same" if remembered["root"] == head["root"] else "split"
        else:
            small, large = sorted((remembered, head), key=lambda h: h["size"])
            ok = verify_consistency(small["size"], large["size"], bytes.fromhex(small["root"]), bytes.fromhex(large["root"]),
                                    [bytes.fromhex(p) for p in step["proof"]])
            status = "split" if not ok else ("newer" if large is head else "older")
        assert status == step["expect"], (scenario["name"], step["expect"], status)
        if status in ("first", "newer"):
            remembered = head


# --- linli-vote/1.1: witnesses and proxies --------------------------------------------------------


def _witnessed_vote(vote_id: str, n_witnesses: int = 3, quorum: int = 2, n_rights: int = 8) -> VoteBuilder:
    names = ["幸福街道办事处", "幸福社区居民委员会", "业委会委员 刘洋", "业委会委员 王芳"]
    witnesses = [(f"w-{i}", names[i], key(f"witness {i}")) for i in range(n_witnesses)]
    areas = [8950 + 37 * i for i in range(n_rights)]
    return VoteBuilder(
        make_rights(areas), vote_id=vote_id, community_id="c-js", title="见证人与委托投票测试 😀", server_key=SERVER,
        key_factory=fast_key_factory(int.from_bytes(seed(vote_id)[:4], "big")), protocol=PROTOCOL_1_1,
        witnesses=witnesses, witness_quorum=quorum,
    )


def witness_fixture() -> dict:
    """A linli-vote/1.1 vote with three witnesses (quorum 2): co-signatures good and bad, made by voting.witnesses."""
    rng = random.Random(21)
    builder = _witnessed_vote("v-js-witness")
    _cast_all(builder, rng, [{"option": "approve"}, {"option": "reject"}])
    definition = builder.definition
    keys = parse_definition(definition).witness_keys
    size = len(builder.entries)
    head = builder.receipt(size - 1)["tree_head"]
    quorum_pair = [builder.cosign("w-0", at=builder.now), builder.cosign("w-1", at=builder.now)]
    all_three = quorum_pair + [builder.cosign("w-2", at=builder.now)]
    smaller = builder.receipt(3)["tree_head"]
    smaller_cosig = builder.cosign("w-0", size=4, at=builder.now)
    for c in all_three + [smaller_cosig]:
        assert cosignature_problem(c, builder.vote_id, keys) is None
    stranger = key("stranger witness")
    bad = [
        {"name": "a witness the definition does not name",
         "cosignature": make_cosignature(stranger, builder.vote_id, size, head["root"], "w-9", builder.now),
         "code": "cosignature_unknown_witness"},
        {"name": "w-1's id, signed with another key",
         "cosignature": make_cosignature(stranger, builder.vote_id, size, head["root"], "w-1", builder.now),
         "code": "cosignature_forged"},
        {"name": "w-0's key, signed as w-1",
         "cosignature": make_cosignature(key("witness 0"), builder.vote_id, size, head["root"], "w-1", builder.now),
         "code": "cosignature_forged"},
        {"name": "another vote",
         "cosignature": make_cosignature(key("witness 0"), "v-js-other", size, head["root"], "w-0", builder.now),
         "code": "cosignature_other_vote"},
    ]
    for b in bad:
        assert cosignature_problem(b["cosignature"], builder.vote_id, keys) is not None, b["name"]
    linli_1 = _vote("v-js-witness-1").definition
    return {
        "about": "a linli-vote/1.1 vote with three witnesses, quorum 2 (tests.voting.simulate.VoteBuilder); co-signatures "
                 "by voting.witnesses.make_cosignature; bad ones refused by voting.witnesses.cosignature_problem",
        "definition": definition, "server_key": pub(SERVER), "linli_1_definition": linli_1,
        "head": head, "quorum_cosignatures": quorum_pair, "all_cosignatures": all_three,
        "smaller_head": smaller, "smaller_cosignature": smaller_cosig, "bad": bad,
    }


def delegation_fixture() -> dict:
    """Delegations, a proxy ballot and a revocation as voting/ makes and counts them, with their receipts."""
    rng = random.Random(31)
    builder = _witnessed_vote("v-js-proxy")
    owner_right = builder.roll[2]["right_id"]
    owner_key = builder.keys[owner_right][-1]
    delegate_seed = seed("delegate")
    delegate = Ed25519PrivateKey.from_private_bytes(delegate_seed)
    cases = []
    for kind, signed_at in (("delegation", "2025-03-01T00:00:05Z"), (REVOCATION, "2025-03-01T00:00:09Z")):
        nonce_bytes = rng.randbytes(16)
        signed = make_delegation(builder.vote_id, owner_right, pub(delegate), signed_at, b64u_encode(nonce_bytes), kind)
        envelope = sign_delegation(owner_key, signed)
        cases.append({"kind": kind, "owner_seed_hex": owner_key.private_bytes_raw().hex(), "vote_id": builder.vote_id,
                      "right_id": owner_right, "delegate_key": pub(delegate), "nonce_hex": nonce_bytes.hex(),
                      "signed_at": signed_at, "canonical_hex": canonical(signed).hex(), "envelope": envelope})
    _cast_all(builder, rng, [{"option": "approve"}])
    from voting.delegations import make_delegation_entry

    d_index = builder.append(make_delegation_entry(cases[0]["envelope"], builder.tick()))
    p_index = builder.cast(owner_right, {"option": "reject"}, key=delegate, nonce=b64u_nonce(rng))
    r_index = builder.append(make_delegation_entry(cases[1]["envelope"], builder.tick()))
    result = count_log(builder.roll, builder.entries, verify_signatures=True)
    assert [p for p in result.problems if p.check != "close"] == [], result.problems  # still open: no close entry yet
    assert result.status[p_index] == "counted", result.status
    receipts = {}
    for name, index in (("delegation", d_index), ("proxy_ballot", p_index), ("revocation", r_index)):
        receipt = builder.receipt(index, len(builder.entries))
        receipt["entry"] = builder.entries[index]
        receipts[name] = {"receipt": receipt, "envelope": builder.entries[index]["envelope"]}
    return {
        "about": "delegation and revocation envelopes by voting.delegations.sign_delegation (owner's seeded key), entries "
                 "counted by voting.counting.count_log with a proxy ballot between them; receipts of the three entries",
        "definition": builder.definition, "server_key": pub(SERVER), "delegate_seed_hex": delegate_seed.hex(),
        "cases": cases, "receipts": receipts,
    }


def cosigned_split_fixture() -> dict:
    """Two logs of one vote sharing a prefix, each shown to a disjoint pair of witnesses (four, quorum 2)."""
    prefix = 6

    def build(divergent):
        rng = random.Random(41)
        builder = _witnessed_vote("v-js-cosplit", n_witnesses=4, quorum=2, n_rights=12)
        for item in builder.roll:
            choice = {"option": "approve"} if len(builder.entries) < prefix else divergent
            builder.cast(item["right_id"], choice, nonce=b64u_nonce(rng))
        return builder

    a, b = build({"option": "approve"}), build({"option": "reject"})
    assert a.hashes[:prefix] == b.hashes[:prefix] and a.hashes[prefix] != b.hashes[prefix]
    trees = {"A": MerkleTree(a.hashes), "B": MerkleTree(b.hashes)}
    witnesses = {"A": ("w-0", "w-1"), "B": ("w-2", "w-3")}

    def view(log, size):
        root = trees[log].root(size).hex()
        head = make_tree_head(SERVER, "v-js-cosplit", size, root, f"2025-03-0{1 if log == 'A' else 2}T00:00:{size:02d}Z")
        cosigs = [make_cosignature(key(f"witness {w[-1]}"), "v-js-cosplit", size, root, w, head["timestamp"])
                  for w in witnesses[log]]
        return {"tree_head": head, "cosignatures": cosigs, "witness_quorum": 2, "cosigned": True}

    def proof(log, first, second):
        return [p.hex() for p in trees[log].consistency_proof(first, second)]

    steps_same = [{"view": view("A", 9), "proof": None, "expect": "first"},
                  {"view": view("B", 9), "proof": None, "expect": "split"}]
    steps_larger = [{"view": view("A", 9), "proof": None, "expect": "first"},
                    {"view": view("B", 12), "proof": proof("B", 9, 12), "expect": "split"}]
    steps_honest = [{"view": view("A", 7), "proof": None, "expect": "first"},
                    {"view": view("A", 12), "proof": proof("A", 7, 12), "expect": "newer"}]
    # voting/'s own verdict (check 13): each pair of co-signed heads conflicts, judged against the log B really is.
    def prefix_root(m):
        return trees["B"].root(m).hex() if m <= len(b.hashes) else None

    for pair in (steps_same, steps_larger):
        assert conflicts(pair[0]["view"]["cosignatures"] + pair[1]["view"]["cosignatures"], prefix_root), pair
    assert not conflicts(steps_honest[0]["view"]["cosignatures"] + steps_honest[1]["view"]["cosignatures"],
                         lambda m: trees["A"].root(m).hex())
    return {"about": "two logs sharing a 6-entry prefix, log A co-signed by w-0 and w-1, log B by w-2 and w-3 "
                     "(voting.witnesses.conflicts finds the equivocation)",
            "definition": a.definition, "server_key": pub(SERVER),
            "scenarios": [{"name": "same size, different root, both co-signed", "steps": steps_same},
                          {"name": "a larger co-signed head of the other log", "steps": steps_larger},
                          {"name": "the honest log, co-signed as it grows", "steps": steps_honest}]}


# --- all ------------------------------------------------------------------------------------------


def build_fixtures() -> dict[str, str]:
    """File name → text of every fixture."""
    return {
        "canonical.json": dump(canonical_fixture()),
        "b64u.json": dump(b64u_fixture()),
        "merkle.json": dump(merkle_fixture(), indent=None),  # thousands of small proofs: one line
        "merkle_vectors.json": dump(vectors_fixture()),
        "keys.json": dump(keys_fixture()),
        "ballots.json": dump(ballots_fixture()),
        "heads.json": dump(heads_fixture()),
        "receipts.json": dump(receipts_fixture()),
        "fork.json": dump(fork_fixture()),
        "witness.json": dump(witness_fixture()),
        "delegation.json": dump(delegation_fixture()),
        "cosigned_split.json": dump(cosigned_split_fixture()),
    }


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    files = build_fixtures()
    for name, text in files.items():
        (FIXTURES / name).write_text(text, encoding="ascii")
    for stale in FIXTURES.glob("*.json"):
        if stale.name not in files:
            stale.unlink()
    print(f"wrote {len(files)} fixtures to {FIXTURES.relative_to(REPO)}")


if __name__ == "__main__":
    main()
