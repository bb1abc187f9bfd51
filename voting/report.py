"""The verifier's report for people (Chinese first, then English) and for programs (--json)."""

from __future__ import annotations

from . import PROTOCOL_1
from .checks import Report
from .outcome import describe_outcome

MAX_DETAILS = 20  # failure lines shown per check; the rest are summarised

STATUS_WORDS = {
    "counted": "计入 / counted",
    "superseded": "被同一表决权后来的选票替代 / superseded by a later ballot of the same right",
    "invalid": "无效 / invalid",
    "not a ballot": "非选票条目 / not a ballot",
    "delegation": "有效的委托 / a valid proxy authorisation",
    "delegation revocation": "有效的委托撤销 / a valid proxy revocation",
    None: "—",
}


def _status_word(ok: bool | None) -> str:
    return {True: "通过 PASS", False: "未通过 FAIL", None: "未执行 NOT RUN"}[ok]


def render_text(report: Report, bundle_name: str) -> str:
    """The human-readable report, Chinese first."""
    protocol = report.definition.protocol if report.definition else "linli-vote"
    lines = [f"{protocol} 审计包校验 / bundle verification: {bundle_name}"]
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
        if report.definition.protocol != PROTOCOL_1:
            lines += [
                f"  委托 / delegations: {s['delegations']}; 撤销委托 / revocations: {s['delegation_revocations']}",
                f"  代理人投出的有效选票 / valid proxy ballots: {s['proxy_ballots']}"
                f" (计入 / counted {s['counted_proxy']})",
            ]
    for outcome in report.receipts:
        if outcome.leaf_index is not None:
            lines.append(f"  回执 / receipt {outcome.name}: 条目 / entry {outcome.leaf_index}, {STATUS_WORDS[outcome.status]}")
    if report.witnesses is not None:
        d, w = report.definition, report.witnesses
        names = {x["id"]: x["name"] for x in d.witnesses}
        listed = lambda ids: "、".join(f"{names[i]}（{i}）" for i in ids) or "—"  # noqa: E731
        lines += [
            "",
            f"见证人 / witnesses: {len(d.witnesses)}，法定数 / quorum {d.witness_quorum}；"
            f"联署签名 / co-signatures: {len(w.valid)} 有效 / valid",
            f"  联署最终树头 / co-signed the final head: {listed(w.cosigned_final)}",
        ]
        if w.missing:
            lines.append(f"  未联署最终树头 / did not co-sign the final head: {listed(w.missing)}")
        if w.equivocations:
            lines.append(f"  分叉 / equivocations: {len(w.equivocations)}（见第 13 项 / see check 13）")
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
    if report.witnesses is not None:
        w = report.witnesses
        out["witnesses"] = {"quorum": report.definition.witness_quorum, "cosigned_final": w.cosigned_final,
                            "missing": w.missing}
        out["equivocations"] = [{"first": c.first, "second": c.second} for c in w.equivocations]
    if report.definition and report.tally:
        zh, en = describe_outcome(report.definition, report.tally)
        out["outcome"] = {"zh": zh, "en": en}
    return out
