"""The worked example of docs/protocol.md (linli-vote/1.1) is current and verifies as the document says."""

import json
import re
import subprocess
import sys

from voting.bundle import load_bundle
from voting.canonical import canonical
from voting.checks import verify_bundle
from voting.merkle import leaf_hash

from .helpers import REPO_ROOT
from .simulate import example_vote_1_1

DOCS = REPO_ROOT / "docs"
COMMAND = "python -m voting.verify docs/example-bundle.json --receipt docs/example-receipt.json --receipt docs/example-receipt-close.json"


def test_checked_in_example_is_what_example_vote_builds():
    bundle, receipt, close_receipt = example_vote_1_1()
    assert json.loads((DOCS / "example-bundle.json").read_text(encoding="utf-8")) == bundle
    assert json.loads((DOCS / "example-receipt.json").read_text(encoding="utf-8")) == receipt
    assert json.loads((DOCS / "example-receipt-close.json").read_text(encoding="utf-8")) == close_receipt
    assert bundle["protocol"] == bundle["entries"][0]["protocol"] == "linli-vote/1.1"


def test_example_verifies_with_the_documented_command():
    doc = (DOCS / "protocol.md").read_text(encoding="utf-8")
    assert COMMAND in doc
    result = subprocess.run([sys.executable, *COMMAND.split()[1:]], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("通过 PASS") == 16
    assert "14. 见证法定数 / witness quorum … 通过 PASS" in result.stdout
    assert "电子签名选票 / signed ballots: 7" in result.stdout
    assert "计入的表决权 / rights counted: 6 (电子 / signed 5, 纸质 / paper 1)" in result.stdout
    assert "被替代的选票 / superseded ballots: 2" in result.stdout
    assert "委托 / delegations: 1; 撤销委托 / revocations: 0" in result.stdout
    assert "代理人投出的有效选票 / valid proxy ballots: 1 (计入 / counted 1)" in result.stdout
    assert "联署最终树头 / co-signed the final head: 幸福街道办事处（w-street）、幸福社区居民委员会（w-rc）、业委会委员 刘洋（w-liu）" \
        in result.stdout
    assert "回执 / receipt docs/example-receipt.json: 条目 / entry 6, 计入 / counted" in result.stdout
    assert "结果：通过" in result.stdout and "Outcome: PASSED" in result.stdout


def test_figures_quoted_in_the_document_match_the_example():
    doc = (DOCS / "protocol.md").read_text(encoding="utf-8")
    bundle = load_bundle((DOCS / "example-bundle.json").read_bytes())
    report = verify_bundle(bundle)
    assert report.ok
    tally = bundle["tally"]
    assert tally["root"] in doc and f"size {tally['size']}" in doc
    assert tally["totals"] == {"area": 78594, "heads": 6}
    assert tally["counts"]["approve"] == {"area": 46808, "heads": 4} and tally["paper"] == 1
    first = canonical(bundle["roll"][0]).decode()
    assert first in doc and leaf_hash(first.encode()).hex() in doc
    close = canonical(bundle["entries"][-1]).decode()
    assert close in doc and leaf_hash(close.encode()).hex() in doc
    ballot = canonical(bundle["entries"][2]["envelope"]["ballot"]).decode()
    assert ballot in doc
    delegation = bundle["entries"][7]
    assert delegation["type"] == "delegation"
    assert canonical(delegation["envelope"]["delegation"]).decode() in doc
    final = [c for c in bundle["cosignatures"] if c["size"] == tally["size"] and c["witness"] == "w-street"]
    assert canonical({k: v for k, v in final[0].items() if k != "signature"}).decode() in doc
    assert bundle["entries"][0]["witness_quorum"] == 2 and len(bundle["entries"][0]["witnesses"]) == 3
    for right in bundle["roll"]:
        assert re.search(rf"`{right['right_id']}` \| .* \| `{right['label']}` \|", doc), right["right_id"]
    receipt = json.loads((DOCS / "example-receipt.json").read_text(encoding="utf-8"))
    assert receipt["tree_head"]["root"] in doc
    assert {(c["size"], c["root"]) for c in bundle["cosignatures"] if c["size"] == 7} == {(7, receipt["tree_head"]["root"])}
