"""The verifier's command line: report, exit codes, --json, receipts, malformed files, parallel scan."""

import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import voting.scan as scan_module
import voting.verify as verify_module
from voting.bundle import BundleError, dump_json
from voting.checks import verify_bundle
from voting.verify import main

from .helpers import REPO_ROOT, clone
from .simulate import fast_key_factory, simulate_vote


@pytest.fixture(scope="module")
def honest():
    bundle, receipts, builder = simulate_vote(10, 14, seed=2, key_factory=fast_key_factory(31))
    return bundle, receipts, builder


@pytest.fixture
def files(tmp_path, honest):
    bundle, receipts, _ = honest
    path = tmp_path / "bundle.json"
    path.write_bytes(dump_json(bundle, pretty=True))
    receipt_paths = []
    for i, receipt in enumerate(receipts[:3]):
        p = tmp_path / f"receipt{i}.json"
        p.write_bytes(dump_json(receipt))
        receipt_paths.append(str(p))
    return tmp_path, str(path), receipt_paths


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_honest_bundle_report(files, capsys):
    _, path, receipts = files
    code, out, _ = run([path, *sum((["--receipt", r] for r in receipts), [])], capsys)
    assert code == 0
    lines = out.splitlines()
    assert "1. 定义条目 / definition entry … 通过 PASS" in lines
    assert "2. 名册排序与根 / roll order and root … 通过 PASS" in lines
    numbered = [line for line in lines if line[:1].isdigit() and ". " in line]
    assert len(numbered) == 9 + 3 and all(line.endswith("通过 PASS") for line in numbered)
    assert "电子签名选票 / signed ballots: 14" in out
    assert "密钥绑定 / key bindings: 3" in out  # two late registrations and one replacement key
    assert "密钥撤销 / key revocations: 1" in out
    assert "结果：" in out and "Outcome:" in out
    assert out.index("结果：") < out.index("Outcome:")  # Chinese first
    assert "ALL CHECKS PASSED" in out
    assert out.count("回执 / receipt ") == 3


def test_failed_check_exit_1_and_names_the_check(files, capsys, honest):
    tmp, _, _ = files
    bundle = clone(honest[0])
    bundle["tally"]["counts"]["approve"]["heads"] += 1
    path = tmp / "tampered.json"
    path.write_bytes(dump_json(bundle))
    code, out, _ = run([str(path)], capsys)
    assert code == 1
    assert "8. 计票结果重算 / tally recomputed … 未通过 FAIL" in out
    assert "9. 计票签名 / tally signature … 未通过 FAIL" in out
    assert "FAILED" in out


def test_json_output(files, capsys):
    _, path, receipts = files
    code, out, _ = run([path, "--json", "--receipt", receipts[0]], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    assert [c["number"] for c in report["checks"]] == list(range(1, 11))
    assert report["checks"][0] == {"number": 1, "name": "definition entry", "name_zh": "定义条目", "ok": True, "details": []}
    assert report["counts"]["signed_ballots"] == 14
    assert report["tally"]["type"] == "tally" and "signature" not in report["tally"]
    assert report["outcome"]["zh"] and report["outcome"]["en"]
    assert report["receipts"][0]["leaf_index"] >= 1


def test_receipt_from_another_bundle_fails(files, capsys, tmp_path):
    _, path, _ = files
    other, other_receipts, _ = simulate_vote(5, 5, seed=7, key_factory=fast_key_factory(77))
    receipt = tmp_path / "foreign.json"
    receipt.write_bytes(dump_json(other_receipts[0]))
    code, out, _ = run([path, "--receipt", str(receipt)], capsys)
    assert code == 1
    assert "10. 回执" in out and "未通过 FAIL" in out


MALFORMED = {
    "empty": b"",
    "not json": b"this is not json",
    "not utf-8": b"\xff\xfe\x00{",
    "a list": b"[]",
    "missing fields": b'{"protocol": "linli-vote/1"}',
    "other protocol": b'{"protocol": "x", "roll": [], "entries": [{}], "tree_head": {}, "tally": {}}',
    "empty entries": b'{"protocol": "linli-vote/1", "roll": [], "entries": [], "tree_head": {}, "tally": {}}',
    "float": b'{"protocol": "linli-vote/1", "roll": [], "entries": [1.5], "tree_head": {}, "tally": {}}',
    "duplicate key": b'{"protocol": "linli-vote/1", "protocol": "linli-vote/1"}',
    "deep nesting": b"[" * 100000 + b"]" * 100000,
    "truncated": b'{"protocol": "linli-vote/1", "roll": [',
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_bundle_exit_2_with_a_message(name, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_bytes(MALFORMED[name])
    code, out, err = run([str(path)], capsys)
    assert code == 2
    assert "无法校验 / cannot verify:" in err
    assert "Traceback" not in out + err
    code, out, _ = run([str(path), "--json"], capsys)
    assert code == 2 and json.loads(out)["ok"] is False


def test_missing_files_exit_2(tmp_path, capsys, files):
    _, path, _ = files
    code, _, err = run([str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "cannot read" in err
    code, _, err = run([path, "--receipt", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "cannot read" in err
    (tmp_path / "r.json").write_text("{nope")
    code, _, err = run([path, "--receipt", str(tmp_path / "r.json")], capsys)
    assert code == 2 and "receipt" in err


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b.update(roll=["x", 1, None]),
        lambda b: b["entries"].__setitem__(0, "definition"),
        lambda b: b["entries"].__setitem__(0, {**b["entries"][0], "server_key": "!!bad base64!!"}),
        lambda b: b["entries"].insert(3, [1, 2]),
        lambda b: b["entries"].insert(3, 7),
        lambda b: b["entries"].__setitem__(4, {"type": "ballot", "received_at": 5, "envelope": []}),
        lambda b: b["entries"][8].__setitem__("envelope", {"ballot": "x", "public_key": 1, "signature": None}),
        lambda b: b["entries"][8]["envelope"].__setitem__("signature", "not*base64"),
        lambda b: b.update(tree_head={"size": "big"}),
        lambda b: b.update(tally={"signature": 3}),
        lambda b: b["roll"][0].__setitem__("keys", [{"k": 1}]),
        lambda b: b["roll"][0].__setitem__("area", 2**60),
    ],
)
def test_wrong_shapes_inside_the_bundle_fail_checks_without_traceback(change, honest, tmp_path, capsys):
    bundle = clone(honest[0])
    assert bundle["entries"][8]["type"] == "ballot"
    change(bundle)
    path = tmp_path / "odd.json"
    path.write_bytes(dump_json(bundle))
    code, out, err = run([str(path)], capsys)
    assert code == 1
    assert "未通过 FAIL" in out


def test_receipt_of_the_wrong_shape_fails_its_check(files, capsys, tmp_path):
    _, path, _ = files
    receipt = tmp_path / "odd.json"
    receipt.write_text('{"leaf_index": "zero"}')
    code, out, _ = run([path, "--receipt", str(receipt)], capsys)
    assert code == 1 and "10. 回执" in out


json_scalars = st.none() | st.booleans() | st.integers(-5, 2**60) | st.text(max_size=6)
json_junk = st.recursive(json_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=6)


def paths_of(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths_of(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths_of(v, prefix + (i,))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_corruption_never_crashes(honest, data):
    bundle = clone(honest[0])
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in paths_of(bundle) if p]
        path = data.draw(st.sampled_from(paths))
        target = bundle
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = data.draw(json_junk)
    try:
        report = verify_bundle(bundle, [("r", data.draw(json_junk))], workers=1)
    except BundleError:
        return  # not a bundle at all: main() reports it and exits 2
    assert not report.ok


def test_progress_goes_to_stderr_for_large_bundles(files, capsys, monkeypatch):
    _, path, _ = files
    monkeypatch.setattr(verify_module, "PROGRESS_MIN", 5)
    code, out, err = run([path], capsys)
    assert code == 0
    assert "校验中 / verifying:" in err and "(100%)" in err
    assert "校验中" not in out


def test_parallel_scan_agrees_with_one_process(honest, monkeypatch):
    """Forked workers (used for large bundles) find exactly what one process finds."""
    bundle = clone(honest[0])
    assert [e["type"] for e in bundle["entries"][6:9]] == ["ballot"] * 3
    bundle["entries"][6]["envelope"]["ballot"]["choice"] = {"option": "reject"}  # breaks its signature
    bundle["entries"].insert(8, clone(bundle["entries"][7]))  # a replay
    monkeypatch.setattr(scan_module, "PARALLEL_MIN", 1)
    monkeypatch.setattr(scan_module, "CHUNK", 3)
    seen = []
    forked = verify_bundle(bundle, workers=2, progress=lambda done, total: seen.append((done, total)))
    single = verify_bundle(bundle, workers=1)
    assert [(c.key, c.ok, c.details) for c in forked.checks] == [(c.key, c.ok, c.details) for c in single.checks]
    assert forked.tally == single.tally
    assert not forked.ok
    assert seen[-1][0] == seen[-1][1] == len(bundle["entries"]) + len(bundle["roll"])


def test_runs_as_a_module_without_traceback(files, tmp_path):
    _, path, receipts = files
    ok = subprocess.run([sys.executable, "-m", "voting.verify", path, "--receipt", receipts[0]],
                        cwd=REPO_ROOT, capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "ALL CHECKS PASSED" in ok.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    broken = subprocess.run([sys.executable, "-m", "voting.verify", str(bad)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert broken.returncode == 2
    assert "Traceback" not in broken.stderr and "cannot verify" in broken.stderr


def test_the_cyclic_collector_is_off_while_verifying_and_restored_after(honest, monkeypatch):
    """Parsing and checking a bundle run without Python's cyclic collector (it found nothing there and
    cost a fifth of a large verification), and leave it as they found it, on or off."""
    import gc

    from voting.bundle import load_bundle

    seen = []
    real = scan_module.scan

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr("voting.checks.scan", spy)
    data = dump_json(honest[0])
    for state in (True, False):
        (gc.enable if state else gc.disable)()
        try:
            assert verify_bundle(load_bundle(data), workers=1).ok
            assert gc.isenabled() is state
        finally:
            gc.enable()
    assert seen == [False, False]
