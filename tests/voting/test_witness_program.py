"""The witness program, `python -m voting.witness`, run as a real process against a stand-in server
(tests/voting/witness_server.py): it co-signs heads it proved consistent, never twice for one size,
remembers what it co-signed across runs, and stops with evidence — exit status 1 and a message in
Chinese and English — when the server equivocates or goes backwards. (Against the real app:
tests/api/test_witnesses.py.)"""

import json
import os
import stat
import subprocess
import sys

import pytest

from voting import PROTOCOL_1_1
from voting.keys import load_signing_key, public_key_b64u
from voting.witness_state import Lock, evidence_problem

from .helpers import REPO_ROOT, verify
from .simulate import VoteBuilder, fast_key_factory, make_rights
from .witness_server import WitnessServer

APPROVE = {"option": "approve"}


def witness(*args, timeout=60):
    done = subprocess.run([sys.executable, "-m", "voting.witness", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "witness.pem"
    code, out, _ = witness("--key", path, "--init")
    assert code == 0
    public = out.strip().splitlines()[-1]
    assert public == public_key_b64u(load_signing_key(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    return path, public


def builder_for(public_key_file, others=1, rights=6, seed=41):
    keys = fast_key_factory(seed)
    mine = load_signing_key(public_key_file)
    witnesses = [("w-street", "街道办", mine)] + [(f"w-{i}", f"委员{i}", keys()) for i in range(others)]
    builder = VoteBuilder(make_rights([1000 + i for i in range(rights)]), protocol=PROTOCOL_1_1,
                          witnesses=witnesses, witness_quorum=1, key_factory=keys, vote_id="v7-0a1b2c3d")
    return builder, [r["right_id"] for r in builder.roll]


def fork_of(builder, ids, keep):
    """A log that shares the first `keep` entries of builder's and then differs."""
    fork = VoteBuilder(make_rights([1000 + i for i in range(len(ids))]), protocol=PROTOCOL_1_1,
                       witnesses=[(w, "x", k) for w, k in builder.witness_keys.items()], witness_quorum=1,
                       server_key=builder.server_key, roll_keys=builder.keys, vote_id=builder.vote_id)
    fork.entries, fork.hashes = [], []
    from voting.merkle import Frontier
    fork.frontier = Frontier()
    for entry in builder.entries[:keep]:
        fork.append(entry)
    return fork


def run(server, key, state, *extra):
    return witness("--server", server.url, "--key", key, "--state", state, *extra)


def test_init_refuses_to_overwrite_a_key(key_file):
    path, _ = key_file
    code, _, err = witness("--key", path, "--init")
    assert code == 2 and "not overwritten" in err


def test_cosigns_consistent_heads_once_each_and_remembers(key_file, tmp_path):
    key, public = key_file
    builder, ids = builder_for(key)
    builder.cast(ids[0], APPROVE)
    state = tmp_path / "state"
    with WitnessServer(builder) as server:
        code, out, err = run(server, key, state, "--once")
        assert code == 0, out + err
        assert "co-signed v7-0a1b2c3d at size 2" in out and "已联署" in out
        [first] = server.cosignatures
        assert (first["witness"], first["size"], first["root"]) == ("w-street", 2, builder.frontier.root().hex())
        # Nothing new: nothing co-signed again.
        assert run(server, key, state)[0] == 0 and len(server.cosignatures) == 1
        # The log grows by three: the witness asks for the proof from size 2 and co-signs size 5.
        for rid in ids[1:4]:
            builder.cast(rid, APPROVE)
        code, out, _ = run(server, key, state)
        assert code == 0 and "at size 5" in out
        assert any(r.endswith("/head?first=2") for r in server.requests)
        assert [c["size"] for c in server.cosignatures] == [2, 5]
        assert not server.refused
    record = json.loads((state / "votes" / "v7-0a1b2c3d.json").read_text())
    assert record["cosigned"]["size"] == 5 and record["pending"] == [] and record["witness"] == "w-street"
    # What it co-signed verifies in the final bundle.
    builder.cosignatures = list(server.cosignatures)
    assert verify(builder.close(cosigners=["w-0"])).ok


def test_a_cosignature_the_server_did_not_take_is_posted_again_not_resigned(key_file, tmp_path):
    key, _ = key_file
    builder, ids = builder_for(key)
    builder.cast(ids[0], APPROVE)
    state = tmp_path / "state"
    with WitnessServer(builder) as server:
        server.posts_fail = True
        code, _, err = run(server, key, state)
        assert code == 2 and "HTTP 503" in err
        pending = json.loads((state / "votes" / "v7-0a1b2c3d.json").read_text())["pending"]
        assert len(pending) == 1
        server.posts_fail = False
        assert run(server, key, state)[0] == 0
        assert server.cosignatures == pending  # the very co-signature signed before, byte for byte


@pytest.mark.parametrize("how", ["same_size_different_root", "consistency_proof_fails", "rollback"])
def test_an_equivocating_server_gets_nothing_more_and_the_evidence_is_written(key_file, tmp_path, how):
    key, _ = key_file
    builder, ids = builder_for(key)
    for rid in ids[:3]:
        builder.cast(rid, APPROVE)
    state = tmp_path / "state"
    with WitnessServer(builder) as server:
        assert run(server, key, state)[0] == 0  # co-signs size 4
        if how == "same_size_different_root":
            fork = fork_of(builder, ids, 2)
            fork.cast(ids[3], {"option": "reject"})
            fork.cast(ids[4], {"option": "reject"})
            server.view = fork
        elif how == "consistency_proof_fails":
            fork = fork_of(builder, ids, 3)
            for rid in ids[2:]:
                fork.cast(rid, {"option": "reject"})
            server.view = fork
        else:
            server.view_size = 3
        code, out, err = run(server, key, state)
        assert code == 1, out + err
        assert "发现不一致" in err and "INCONSISTENCY" in err and how in err
        assert len(server.cosignatures) == 1
        evidence_path = state / "evidence-v7-0a1b2c3d.json"
        evidence = json.loads(evidence_path.read_text())
        assert evidence["reason"] == how and evidence["cosigned_tree_head"]["size"] == 4
        assert evidence["explanation"]["zh"] and evidence["explanation"]["en"]
        assert evidence_problem(evidence) is None
        assert witness("--check-evidence", evidence_path)[0] == 0
        # Back to the honest log, and it grows: the witness still co-signs nothing for this vote.
        server.view, server.view_size = builder, None
        builder.cast(ids[5], APPROVE)
        code, _, err = run(server, key, state)
        assert code == 1 and "no longer co-signed" in err and len(server.cosignatures) == 1


def test_evidence_that_does_not_hold_is_refused(key_file, tmp_path):
    key, _ = key_file
    builder, ids = builder_for(key)
    builder.cast(ids[0], APPROVE)
    state = tmp_path / "state"
    with WitnessServer(builder) as server:
        run(server, key, state)
        builder.cast(ids[1], APPROVE)
        server.view_size = 1
        assert run(server, key, state)[0] == 1
    path = state / "evidence-v7-0a1b2c3d.json"
    evidence = json.loads(path.read_text())
    evidence["tree_head"]["size"] = 5  # tampered: the server's signature no longer holds
    path.write_text(json.dumps(evidence))
    code, out, _ = witness("--check-evidence", path)
    assert code == 1 and "does not hold" in out


def test_a_vote_that_does_not_name_this_witness_is_not_cosigned(key_file, tmp_path):
    key, _ = key_file
    other = tmp_path / "other.pem"
    assert witness("--key", other, "--init")[0] == 0
    builder, ids = builder_for(other)
    builder.cast(ids[0], APPROVE)
    with WitnessServer(builder) as server:
        code, _, err = run(server, key, tmp_path / "state")
        assert code == 2 and "does not name this witness" in err and not server.cosignatures


def test_a_second_run_on_the_same_state_waits_its_turn(key_file, tmp_path):
    key, _ = key_file
    builder, ids = builder_for(key)
    state = tmp_path / "state"
    (state / "votes").mkdir(parents=True)
    lock = Lock(state)
    assert lock.acquire()
    try:
        with WitnessServer(builder) as server:
            code, out, _ = run(server, key, state)
            assert code == 0 and "skipped" in out and not server.cosignatures
    finally:
        lock.release()


def test_no_server_is_exit_status_2(key_file, tmp_path):
    key, _ = key_file
    code, _, err = witness("--server", "http://127.0.0.1:9", "--key", key, "--state", tmp_path / "s")
    assert code == 2 and "could not finish" in err
