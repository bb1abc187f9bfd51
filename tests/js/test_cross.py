"""Cross-implementation: ballots signed by the mini-program's JavaScript verify and count in voting/, and the
JavaScript HeadMemory catches a log forked with voting/'s Merkle tree (fresh keys each run, no fixtures)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from voting.canonical import canonical, format_time
from voting.counting import SignatureChecker, count_log, intrinsic_problem
from voting.entries import make_ballot_entry, make_tree_head, parse_definition, sign_ballot, tree_head_problem, validate_envelope
from voting.keys import generate_key, public_key_b64u, verify_bytes
from voting.merkle import MerkleTree, verify_consistency
from tests.voting.simulate import VoteBuilder, b64u_nonce, fast_key_factory, make_rights, pub
from voting.checks import verify_bundle

from voting import PROTOCOL_1_1
from voting.delegations import REVOCATION, make_delegation_entry, sign_delegation, validate_envelope_form
from voting.witnesses import conflicts, cosignature_problem, make_cosignature

from .support import run_js

CLIENT = Path(__file__).with_name("js_client.js")


def _election_and_resolution_requests(builder: VoteBuilder, seeds: list[bytes], rng: random.Random, choices) -> list[dict]:
    requests = []
    for i, item in enumerate(builder.roll):
        requests.append({
            "seed_hex": seeds[i].hex(), "vote_id": builder.vote_id, "right_id": item["right_id"],
            "choice": choices[i % len(choices)], "nonce_hex": rng.randbytes(16).hex(),
            "signed_at": format_time(builder.now),
        })
    # The first owner changes their mind with a second ballot: it supersedes the first.
    requests.append(dict(requests[0], choice=choices[-1], nonce_hex=rng.randbytes(16).hex()))
    return requests


def _vote(kind: str, seeds: list[bytes]) -> VoteBuilder:
    rights = make_rights([7000 + 131 * i for i in range(len(seeds))])
    keys = {r.right_id: [Ed25519PrivateKey.from_private_bytes(s)] for r, s in zip(sorted(rights, key=lambda r: r.right_id), seeds)}
    candidates = [{"id": f"c{i}", "name": f"候选人{i}"} for i in range(1, 4)] if kind == "election" else None
    return VoteBuilder(rights, kind=kind, candidates=candidates, seats=2 if kind == "election" else None,
                       vote_id=f"v-cross-{kind}", roll_keys=keys)  # fmt: skip


def _check_js_ballots(kind: str, choices) -> None:
    rng = random.Random(os.urandom(8))  # fresh keys and nonces every run; printed on failure via the values
    seeds = [rng.randbytes(32) for _ in range(7)]
    builder = _vote(kind, seeds)
    requests = _election_and_resolution_requests(builder, seeds, rng, choices)
    answers = run_js(CLIENT, {"sign": requests})["sign"]
    assert len(answers) == len(requests)
    definition = parse_definition(builder.definition)
    rights = {item["right_id"]: item for item in builder.roll}
    seed_of = {public_key_b64u(Ed25519PrivateKey.from_private_bytes(s)): s for s in seeds}
    indexes = []
    for request, answer in zip(requests, answers):
        envelope = answer["envelope"]
        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(request["seed_hex"]))
        assert answer["public_key"] == envelope["public_key"] == public_key_b64u(key)
        assert seed_of[envelope["public_key"]] == bytes.fromhex(request["seed_hex"])
        validate_envelope(envelope, definition)  # shape, vote, choice and signature, as the server's cast route
        assert verify_bytes(envelope["public_key"], envelope["signature"], canonical(envelope["ballot"]))
        assert sign_ballot(key, envelope["ballot"]) == envelope  # Ed25519 is deterministic: the same bytes
        entry = make_ballot_entry(envelope, builder.tick())
        assert intrinsic_problem(entry, definition, rights, SignatureChecker()) is None
        indexes.append(builder.append(entry))
        # A changed choice no longer verifies.
        forged = dict(envelope, ballot=dict(envelope["ballot"], choice=choices[(choices.index(request["choice"]) + 1) % len(choices)]))
        assert not verify_bytes(forged["public_key"], forged["signature"], canonical(forged["ballot"]))
    bundle = builder.close(verify_signatures=True)
    result = count_log(builder.roll, builder.entries, verify_signatures=True)
    assert not result.problems, result.problems
    assert [result.status[i] for i in indexes] == ["superseded"] + ["counted"] * (len(indexes) - 1)
    report = verify_bundle(bundle, [], workers=1)
    assert report.ok, [(c.key, c.details) for c in report.checks if not c.ok]


def test_resolution_ballots_signed_in_javascript_verify_and_count_in_python():
    _check_js_ballots("resolution", [{"option": "approve"}, {"option": "reject"}, {"option": "abstain"}])


def test_election_ballots_signed_in_javascript_verify_and_count_in_python():
    _check_js_ballots("election", [{"approve": ["c2", "c1"]}, {"approve": []}, {"approve": ["c3"]}])


def test_javascript_head_memory_catches_a_log_forked_with_the_python_tree():
    server = generate_key()
    rng_seed = os.urandom(8)

    def build(divergent: str) -> VoteBuilder:
        rng = random.Random(rng_seed)
        builder = VoteBuilder(make_rights([9000 + i for i in range(12)]), vote_id="v-cross-fork", server_key=server,
                              key_factory=fast_key_factory(int.from_bytes(rng_seed[:4], "big")))  # fmt: skip
        for i, item in enumerate(builder.roll):
            option = "approve" if len(builder.entries) < 6 else divergent
            builder.cast(item["right_id"], {"option": option}, nonce=b64u_nonce(rng))
        return builder

    a, b = build("approve"), build("reject")
    trees = {"A": MerkleTree(a.hashes), "B": MerkleTree(b.hashes)}
    assert a.hashes[:6] == b.hashes[:6] and a.hashes[6] != b.hashes[6]  # a shared prefix of 6 entries

    def head(log: str, size: int) -> dict:
        return make_tree_head(server, "v-cross-fork", size, trees[log].root(size), "2025-03-02T00:00:00Z")

    def proof(log: str, m: int, n: int) -> list[str]:
        return [p.hex() for p in trees[log].consistency_proof(m, n)]

    steps = [
        {"head": head("A", 4), "proof": None},  # first sight
        {"head": head("A", 8), "proof": proof("A", 4, 8)},  # newer
        {"head": head("B", 8), "proof": None},  # same size, other root: split
        {"head": head("B", 13), "proof": proof("B", 8, 13)},  # the other log's proof from its own 8: split
        {"head": head("A", 13), "proof": proof("A", 8, 13)},  # the honest log goes on: newer
    ]
    answers = run_js(CLIENT, {"heads": {"server_key": pub(server), "steps": steps}})["heads"]
    assert [x["status"] for x in answers] == ["first", "newer", "split", "split", "newer"], answers
    for answer in answers[2:4]:
        evidence = answer["evidence"]
        first, second = evidence["first_tree_head"], evidence["second_tree_head"]
        # Both heads verify with voting/, and voting/ agrees they cannot both be true.
        assert tree_head_problem(first, "v-cross-fork", pub(server)) is None
        assert tree_head_problem(second, "v-cross-fork", pub(server)) is None
        if evidence["reason"] == "same_size_different_root":
            assert first["size"] == second["size"] and first["root"] != second["root"]
        else:
            assert not verify_consistency(first["size"], second["size"], bytes.fromhex(first["root"]),
                                          bytes.fromhex(second["root"]), [bytes.fromhex(p) for p in evidence["consistency_proof"]])
        assert {first["root"], second["root"]} & {trees["A"].root(8).hex()}


# --- linli-vote/1.1 -------------------------------------------------------------------------------


def _witnessed(rng: random.Random, owner_seeds: list[bytes], witness_keys: list[Ed25519PrivateKey]) -> VoteBuilder:
    rights = make_rights([7000 + 131 * i for i in range(len(owner_seeds))])
    keys = {r.right_id: [Ed25519PrivateKey.from_private_bytes(s)]
            for r, s in zip(sorted(rights, key=lambda r: r.right_id), owner_seeds)}
    return VoteBuilder(rights, vote_id="v-cross-11", roll_keys=keys, protocol=PROTOCOL_1_1,
                       witnesses=[(f"w-{i}", f"见证人{i}", k) for i, k in enumerate(witness_keys)], witness_quorum=2)


def test_delegations_signed_in_javascript_pass_the_python_per_entry_check_and_count():
    rng = random.Random(os.urandom(8))
    owner_seeds = [rng.randbytes(32) for _ in range(4)]
    builder = _witnessed(rng, owner_seeds, [generate_key() for _ in range(3)])
    definition = parse_definition(builder.definition)
    rights = {item["right_id"]: item for item in builder.roll}
    owner_of = {public_key_b64u(Ed25519PrivateKey.from_private_bytes(s)): s for s in owner_seeds}
    right = builder.roll[1]["right_id"]
    owner_seed = owner_of[builder.roll[1]["keys"][0]]
    delegate = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32))
    requests = [{"kind": kind, "seed_hex": owner_seed.hex(), "vote_id": builder.vote_id, "right_id": right,
                 "delegate_key": public_key_b64u(delegate), "nonce_hex": rng.randbytes(16).hex(),
                 "signed_at": format_time(builder.now)} for kind in ("delegation", REVOCATION)]
    envelopes = run_js(CLIENT, {"delegate": requests})["delegate"]
    owner_key = Ed25519PrivateKey.from_private_bytes(owner_seed)
    for request, envelope in zip(requests, envelopes):
        kind = request["kind"]
        validate_envelope_form(envelope, kind, builder.vote_id)
        assert sign_delegation(owner_key, envelope[kind]) == envelope  # Ed25519 is deterministic: the same bytes
        entry = make_delegation_entry(envelope, builder.tick())
        assert intrinsic_problem(entry, definition, rights, SignatureChecker()) is None
        forged = dict(envelope, **{kind: dict(envelope[kind], delegate_key=public_key_b64u(generate_key()))})
        assert intrinsic_problem(make_delegation_entry(forged, builder.now), definition, rights, SignatureChecker()) is not None
    # In a log: the delegation, the proxy's ballot (counted for the right), the revocation, then the
    # proxy's second ballot is invalid (its delegation ended).
    builder.append(make_delegation_entry(envelopes[0], builder.tick()))
    proxy_index = builder.cast(right, {"option": "reject"}, key=delegate, nonce=b64u_nonce(rng))
    builder.append(make_delegation_entry(envelopes[1], builder.tick()))
    result = count_log(builder.roll, builder.entries, verify_signatures=True)
    assert result.status[proxy_index] == "counted", result.status
    bundle = builder.close(verify_signatures=True)
    report = verify_bundle(bundle, [], workers=1)
    assert report.ok, [(c.key, c.details) for c in report.checks if not c.ok]


def test_cosignatures_made_in_python_verify_in_javascript():
    rng = random.Random(os.urandom(8))
    witness_keys = [generate_key() for _ in range(3)]
    builder = _witnessed(rng, [rng.randbytes(32) for _ in range(3)], witness_keys)
    for item in builder.roll:
        builder.cast(item["right_id"], {"option": "approve"}, nonce=b64u_nonce(rng))
    size = len(builder.entries)
    head = builder.receipt(size - 1)["tree_head"]
    good = [builder.cosign("w-0"), builder.cosign("w-2")]
    stranger = make_cosignature(generate_key(), builder.vote_id, size, head["root"], "w-1", builder.now)
    checks = [{"head": head, "cosignatures": good}, {"head": head, "cosignatures": good[:1]},
              {"head": head, "cosignatures": good + [stranger]}]
    answers = run_js(CLIENT, {"cosigned": {"definition": builder.definition, "checks": checks}})["cosigned"]
    assert answers[0] == {"ok": True, "cosigned": ["w-0", "w-2"], "missing": ["w-1"], "problems": [], "each": [True, True]}
    assert answers[1]["ok"] is False and answers[1]["problems"] == ["quorum_missing"]
    assert answers[2]["ok"] is False and answers[2]["each"] == [True, True, False]
    assert answers[2]["problems"] == ["cosignature_forged"]


def test_javascript_head_memory_catches_co_signed_heads_of_two_logs_and_voting_agrees():
    rng_seed = os.urandom(8)
    server = generate_key()
    witness_keys = [generate_key() for _ in range(4)]

    def build(divergent: str) -> VoteBuilder:
        rng = random.Random(rng_seed)
        builder = VoteBuilder(make_rights([9000 + i for i in range(10)]), vote_id="v-cross-cosplit", server_key=server,
                              key_factory=fast_key_factory(int.from_bytes(rng_seed[:4], "big")), protocol=PROTOCOL_1_1,
                              witnesses=[(f"w-{i}", f"见证人{i}", k) for i, k in enumerate(witness_keys)], witness_quorum=2)
        for item in builder.roll:
            option = "approve" if len(builder.entries) < 5 else divergent
            builder.cast(item["right_id"], {"option": option}, nonce=b64u_nonce(rng))
        return builder

    a, b = build("approve"), build("reject")
    trees = {"A": MerkleTree(a.hashes), "B": MerkleTree(b.hashes)}
    who = {"A": ("w-0", "w-1"), "B": ("w-2", "w-3")}

    def view(log: str, size: int) -> dict:
        root = trees[log].root(size)
        head = make_tree_head(server, "v-cross-cosplit", size, root, "2025-03-02T00:00:00Z")
        cosigs = [make_cosignature(witness_keys[int(w[-1])], "v-cross-cosplit", size, root, w, "2025-03-02T00:01:00Z")
                  for w in who[log]]
        return {"tree_head": head, "cosignatures": cosigs, "witness_quorum": 2, "cosigned": True}

    steps = [{"head": view("A", 6), "proof": None},
             {"head": view("A", 8), "proof": [p.hex() for p in trees["A"].consistency_proof(6, 8)]},
             {"head": view("B", 8), "proof": None}]
    answers = run_js(CLIENT, {"heads": {"server_key": pub(server), "definition": a.definition, "steps": steps}})["heads"]
    assert [x["status"] for x in answers] == ["first", "newer", "split"], answers
    evidence = answers[2]["evidence"]
    assert evidence["type"] == "linli-vote/1.1 split view" and evidence["reason"] == "same_size_different_root"
    keys = parse_definition(a.definition).witness_keys
    cosigs = evidence["first_cosignatures"] + evidence["second_cosignatures"]
    assert sorted(c["witness"] for c in cosigs) == ["w-0", "w-1", "w-2", "w-3"]
    for c in cosigs:
        assert cosignature_problem(c, "v-cross-cosplit", keys) is None  # every co-signature in the evidence is valid
    # voting/'s own check 13 finds the equivocation among them, whichever log is the real one.
    for log in ("A", "B"):
        assert conflicts(cosigs, lambda m, log=log: trees[log].root(m).hex()), log
