"""The committed JS fixtures are exactly what voting/ makes now (tests/js/make_fixtures.py)."""

from .make_fixtures import FIXTURES, build_fixtures


def test_committed_fixtures_equal_a_fresh_run():
    fresh = build_fixtures()
    committed = sorted(p.name for p in FIXTURES.glob("*.json"))
    hint = "regenerate with `.venv/bin/python tests/js/make_fixtures.py` and commit"
    assert committed == sorted(fresh), hint
    for name, text in fresh.items():
        assert (FIXTURES / name).read_text(encoding="ascii") == text, f"miniprogram/test/fixtures/{name} is stale: {hint}"


def test_fixtures_are_deterministic():
    assert build_fixtures() == build_fixtures()
