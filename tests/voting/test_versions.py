"""linli-vote/1 bundles still verify (docs/protocol.md §0): the frozen linli-vote/1 example passes its
eleven checks with today's verifier, and the two versions never mix."""

import subprocess
import sys

import pytest

from voting import PROTOCOL_1, PROTOCOL_1_1
from voting.bundle import BundleError, check_bundle_shape, load_bundle
from voting.checks import verify_bundle
from voting.entries import ProtocolError, make_definition, parse_definition
from voting.keys import generate_key, public_key_b64u

from .helpers import REPO_ROOT, clone, failed, resign, verify
from .simulate import VoteBuilder, example_vote, fast_key_factory, make_rights

V1 = REPO_ROOT / "tests" / "vectors" / "linli-vote-1"


def test_the_frozen_linli_vote_1_example_still_verifies_with_eleven_checks():
    args = [sys.executable, "-m", "voting.verify", str(V1 / "example-bundle.json"),
            "--receipt", str(V1 / "example-receipt.json"), "--receipt", str(V1 / "example-receipt-close.json")]
    result = subprocess.run(args, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("通过 PASS") == 11
    assert "10. 回执" in result.stdout and "委托" not in result.stdout and "见证" not in result.stdout
    assert result.stdout.startswith("linli-vote/1 审计包校验")


def test_the_frozen_example_is_what_the_linli_vote_1_builder_still_makes():
    """The JavaScript fixtures (tests/js) are built from it: the v1 path of the builder must not move."""
    bundle, receipt, close_receipt = example_vote()
    assert load_bundle((V1 / "example-bundle.json").read_bytes()) == bundle
    assert verify(bundle, [receipt, close_receipt]).ok


def _v1_vote():
    builder = VoteBuilder(make_rights([1000, 2000, 3000]), key_factory=fast_key_factory(4))
    ids = [r["right_id"] for r in builder.roll]
    builder.cast(ids[0], {"option": "approve"})
    return builder, ids


def test_a_linli_vote_1_log_cannot_hold_a_delegation():
    builder, ids = _v1_vote()
    builder.delegate(ids[1], generate_key())
    bundle = builder.close()
    report = verify(bundle)
    assert failed(report) == {"format"}
    assert any("unknown entry type 'delegation'" in d for c in report.checks for d in c.details)


def test_bundle_and_definition_must_name_the_same_version():
    builder, _ = _v1_vote()
    bundle = builder.close()
    mutated = clone(bundle)
    mutated["protocol"] = PROTOCOL_1_1
    with pytest.raises(BundleError, match="lacks cosignatures"):
        check_bundle_shape(mutated)
    mutated["cosignatures"] = []
    assert failed(verify_bundle(mutated, workers=1)) >= {"definition"}
    with pytest.raises(BundleError, match="unexpected fields cosignatures"):
        check_bundle_shape(dict(bundle, cosignatures=[]))
    with pytest.raises(BundleError, match="not one of"):
        check_bundle_shape(dict(bundle, protocol="linli-vote/2"))


def test_an_attacker_cannot_upgrade_a_linli_vote_1_definition_without_failing():
    """Rewriting entry 0 as 1.1 (to slip a delegation in) changes leaf 0: with the server key re-signed,
    receipts catch it; without it, the tree head does."""
    builder, _ = _v1_vote()
    bundle = builder.close()
    close_receipt = builder.receipt(len(builder.entries) - 1)
    upgraded = clone(bundle)
    upgraded["entries"][0] = dict(upgraded["entries"][0], protocol=PROTOCOL_1_1, witnesses=[], witness_quorum=0)
    upgraded["protocol"], upgraded["cosignatures"] = PROTOCOL_1_1, []
    assert "tree_head" in failed(verify(upgraded))
    assert not verify(resign(upgraded, builder.server_key), [close_receipt]).ok


def test_definition_fields_depend_on_the_version():
    key = public_key_b64u(generate_key())
    roll = VoteBuilder(make_rights([1000]), key_factory=fast_key_factory(1)).roll
    common = dict(vote_id="v1", community_id="c1", title="t", kind="resolution", matter="ordinary",
                  opens_at="2025-03-01T00:00:00Z", closes_at="2025-03-02T00:00:00Z", roll=roll, server_key=key)
    v1 = make_definition(protocol=PROTOCOL_1, **common)
    assert "witnesses" not in v1 and parse_definition(v1).protocol == PROTOCOL_1
    with pytest.raises(ProtocolError, match="unexpected"):
        parse_definition(dict(v1, witnesses=[], witness_quorum=0))
    v11 = make_definition(**common)
    with pytest.raises(ProtocolError, match="missing"):
        parse_definition({k: v for k, v in v11.items() if k != "witnesses"})
    with pytest.raises(ProtocolError, match="no witnesses"):
        make_definition(protocol=PROTOCOL_1, witnesses=[{"id": "w", "name": "n", "public_key": key}], **common)
