"""The verifier's report for people (Chinese first, then English) and for programs (--json)."""

from __future__ import annotations

from .checks import Report
from .outcome import describe_outcome

MAX_DETAILS = 20  # failure lines shown per check; the rest are summarised

STATUS_WORDS = {
    "counted": "计入 / counted",
    "superseded": "被同一表决权后来的选票替代 / superseded by a later ballot of the same right",
    "invalid": "无效 / invalid",
    "not a ballot": "非选票条目 / not a ballot",
    None: "—",
}


def _status_word(ok: bool | None) -> str:
    return {True: "通过 PASS", False: "未通过 FAIL", None: "未执行 NOT RUN"}[ok]


def render_text(report: Report, bundle_name: str) -> str:
    """The human-readable report, Chinese first."""
    lines = [f"linli-vote/1 审计包校验 / bundle verification: {bundle_name}"]
    if report.definition:
        d = report.definition
        lines.append(f"表决 / vote: {d.vote_id} 「{d.entry['title']}」 ({d.kind}, {d.matter})")
    lines.append("")
    for number, check in enumerate(report.checks, 1):
        lines.append(f"{number}. {check.zh} / {check.en} … {_status_word(check.ok)}")
        for detail in check.details[:MAX_DETAILS]:
            lines.append(f"     - {detail}")
        if len(check.details) > MAX_DETAILS:
            lines.append(f"     - … 另有 / and {len(check.details) - MAX_DETAILS} more")
    if report.result:
        s = report.result.stats()
        lines += [
            "",
            "统计 / counts:",
            f"  名册表决权 / rights in roll: {s['rights']}",
            f"  电子签名选票 / signed ballots: {s['signed_ballots']}",
            f"  纸质选票 / paper ballots: {s['paper_ballots']}",
            f"  计入的表决权 / rights counted: {s['counted_signed'] + s['counted_paper']}"
            f" (电子 / signed {s['counted_signed']}, 纸质 / paper {s['counted_paper']})",
            f"  被替代的选票 / superseded ballots: {s['superseded']}",
            f"  无效选票 / invalid ballots: {s['invalid']}",
            f"  密钥绑定 / key bindings: {s['key_bindings']}",
            f"  密钥撤销 / key revocations: {s['key_revocations']}",
        ]
    for outcome in report.receipts:
        if outcome.leaf_index is not None:
            lines.append(f"  回执 / receipt {outcome.name}: 条目 / entry {outcome.leaf_index}, {STATUS_WORDS[outcome.status]}")
    if report.definition and report.tally:
        zh, en = describe_outcome(report.definition, report.tally)
        lines += ["", "重算结果 / recomputed outcome:", zh, en]
    lines.append("")
    if report.ok:
        lines.append("结论：全部检查通过 / Verdict: ALL CHECKS PASSED")
    else:
        failed = sum(1 for c in report.checks if c.ok is not True)
        lines.append(f"结论：{failed} 项检查未通过 / Verdict: {failed} check(s) FAILED")
    return "\n".join(lines) + "\n"


def render_json(report: Report, bundle_name: str) -> dict:
    """The machine-readable report (--json)."""
    out = {
        "ok": report.ok,
        "bundle": bundle_name,
        "vote_id": report.definition.vote_id if report.definition else None,
        "checks": [
            {"number": n, "name": c.en, "name_zh": c.zh, "ok": c.ok, "details": c.details}
            for n, c in enumerate(report.checks, 1)
        ],
        "counts": report.result.stats() if report.result else None,
        "tally": report.tally,
        "receipts": [{"file": r.name, "leaf_index": r.leaf_index, "status": r.status} for r in report.receipts],
    }
    if report.definition and report.tally:
        zh, en = describe_outcome(report.definition, report.tally)
        out["outcome"] = {"zh": zh, "en": en}
    return out
