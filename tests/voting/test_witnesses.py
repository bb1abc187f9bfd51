"""The witnesses' objects (docs/protocol.md §5.1, §6.4, §15.3): the definition's list and quorum,
co-signatures, signed witness requests, and which heads conflict."""

from datetime import datetime, timedelta, timezone

import pytest

from voting.entries import ProtocolError, make_definition, parse_definition
from voting.keys import generate_key, public_key_b64u
from voting.witnesses import (HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME, conflicts, cosignature_problem,
                              make_cosignature, request_problem, sign_request, validate_witnesses)

from .simulate import VoteBuilder, fast_key_factory, make_rights

KEYS = [public_key_b64u(generate_key()) for _ in range(3)]
SERVER = public_key_b64u(generate_key())


def witnesses(n=3):
    return [{"id": f"w{i}", "name": f"见证人{i}", "public_key": KEYS[i]} for i in range(n)]


def test_the_witness_list_and_quorum():
    validate_witnesses(witnesses(), 1, SERVER)
    validate_witnesses(witnesses(), 3, SERVER)
    validate_witnesses([], 0, SERVER)
    cases = [
        (witnesses(), 0, "1..len"), (witnesses(), 4, "1..len"), ([], 1, "0 without"), (witnesses(), True, "1..len"),
        (witnesses()[:1] * 2, 1, "ids repeat"),
        ([dict(witnesses()[0]), dict(witnesses()[1], public_key=KEYS[0])], 1, "keys repeat"),
        ([dict(witnesses()[0], public_key=SERVER)], 1, "server's key"),
        ([dict(witnesses()[0], id="w 0")], 1, "identifier"), ([dict(witnesses()[0], name="")], 1, "NFC"),
        ([dict(witnesses()[0], extra=1)], 1, "unexpected"), ({"w0": KEYS[0]}, 1, "list"),
    ]
    for listed, quorum, message in cases:
        with pytest.raises(ProtocolError, match=message):
            validate_witnesses(listed, quorum, SERVER)


def test_a_definition_carries_its_witnesses():
    roll = VoteBuilder(make_rights([1000]), key_factory=fast_key_factory(2)).roll
    entry = make_definition(vote_id="v1", community_id="c1", title="t", kind="resolution", matter="ordinary",
                            opens_at="2025-03-01T00:00:00Z", closes_at="2025-03-02T00:00:00Z", roll=roll,
                            server_key=SERVER, witnesses=witnesses(), witness_quorum=2)
    parsed = parse_definition(entry)
    assert parsed.witness_quorum == 2 and parsed.witness_keys == {f"w{i}": KEYS[i] for i in range(3)}
    assert make_definition(**{**dict(vote_id="v1", community_id="c1", title="t", kind="resolution",
                                     matter="ordinary", opens_at="2025-03-01T00:00:00Z",
                                     closes_at="2025-03-02T00:00:00Z", roll=roll, server_key=SERVER),
                              "witnesses": witnesses()})["witness_quorum"] == 3  # default: all


def test_cosignature_form_and_signature():
    key = generate_key()
    keys = {"w0": public_key_b64u(key)}
    good = make_cosignature(key, "v1", 5, b"\x01" * 32, "w0", "2025-03-01T00:00:00Z")
    assert set(good) == {"type", "vote_id", "size", "root", "witness", "timestamp", "signature"}
    assert cosignature_problem(good, "v1", keys) is None
    assert "for vote v1" in cosignature_problem(good, "v2", keys)
    assert "unknown witness" in cosignature_problem(good, "v1", {"w1": keys["w0"]})
    assert "forged" in cosignature_problem(dict(good, size=6), "v1", keys)
    for bad, message in ((dict(good, size=0), ">= 1"), (dict(good, type="tree_head"), "type"),
                         (dict(good, root="AB" * 32), "root"), (dict(good, timestamp="yesterday"), "timestamp"),
                         ({k: v for k, v in good.items() if k != "witness"}, "missing")):
        assert message in cosignature_problem(bad, "v1", keys)


def test_conflicting_heads():
    log = {1: "a" * 64, 2: "b" * 64, 3: "c" * 64}

    def cos(size, root, witness="w0"):
        return {"size": size, "root": root, "witness": witness, "timestamp": "2025-03-01T00:00:00Z"}

    assert conflicts([cos(1, log[1]), cos(3, log[3], "w1")], log.get) == []
    same_size = conflicts([cos(2, log[2]), cos(2, "d" * 64, "w1")], log.get)
    assert len(same_size) == 1 and {same_size[0].first["root"], same_size[0].second["root"]} == {log[2], "d" * 64}
    smaller = conflicts([cos(1, "e" * 64), cos(3, log[3], "w1")], log.get)
    assert [(c.first["size"], c.second["size"]) for c in smaller] == [(1, 3)]
    # Two heads that both disagree with the log, of different sizes, cannot be judged without a proof.
    assert conflicts([cos(1, "e" * 64), cos(2, "f" * 64, "w1")], log.get) == []
    # Beyond the log: not judged either (entries dropped: check 12 says so).
    assert conflicts([cos(9, "f" * 64), cos(3, log[3], "w1")], log.get) == []


def test_signed_witness_requests():
    key = generate_key()
    public = public_key_b64u(key)
    now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
    stamp = "2026-11-27T12:01:00Z"
    headers = sign_request(key, public, "GET", "/api/v1/witness/votes?community=3", stamp)
    assert set(headers) == {HEADER_KEY, HEADER_TIME, HEADER_SIGNATURE}
    args = (headers[HEADER_KEY], headers[HEADER_SIGNATURE])
    assert request_problem(*args, "GET", "/api/v1/witness/votes?community=3", stamp, now) is None
    assert request_problem(*args, "GET", "/api/v1/witness/votes?community=4", stamp, now) == "signature"
    assert request_problem(*args, "POST", "/api/v1/witness/votes?community=3", stamp, now) == "signature"
    assert request_problem(*args, "GET", "/api/v1/witness/votes?community=3", stamp, now + timedelta(minutes=7)) == "stale"
    assert request_problem(public, "x", "GET", "/", stamp, now) == "malformed"
    assert request_problem(*args, "GET", "/", "2026-11-27 12:01", now) == "malformed"
