"""The outcome of a vote in words, Chinese and English: the verifier's report and the server's
result notice say it the same way (pure: no I/O)."""

from __future__ import annotations

from .entries import Definition


def area_text(hundredths: int) -> str:
    """An area in 0.01 m² as people read it, '1234.56 m²', by integer arithmetic (never a float)."""
    return f"{hundredths // 100}.{hundredths % 100:02d} m²"


def percent_text(part: int, whole: int) -> str:
    """part/whole as a percentage with two decimals, for display only (no decision rests on it)."""
    if whole <= 0:
        return "—"
    basis_points = part * 10000 // whole
    return f"{basis_points // 100}.{basis_points % 100:02d}%"


def describe_outcome(definition: Definition, tally: dict) -> tuple[str, str]:
    """The recomputed outcome in words: (Chinese, English)."""
    totals, turnout = tally["totals"], tally["turnout"]
    a, h = turnout["area"], turnout["heads"]
    zh = [
        f"参与表决：面积 {area_text(a)}（占总面积 {percent_text(a, totals['area'])}），"
        f"人数 {h}（占总人数 {percent_text(h, totals['heads'])}）。"
    ]
    en = [
        f"Took part: area {area_text(a)} ({percent_text(a, totals['area'])} of {area_text(totals['area'])}), "
        f"heads {h} ({percent_text(h, totals['heads'])} of {totals['heads']})."
    ]
    if not tally["quorum"]:
        zh.append("未达到法定参与比例（专有部分面积与人数均须占三分之二以上）。")
        en.append("Quorum NOT reached (two thirds or more of both area and heads must take part).")
    if not definition.is_election:
        counts = tally["counts"]
        for option, word in (("approve", "同意"), ("reject", "反对"), ("abstain", "弃权")):
            c = counts[option]
            zh.append(f"{word}：面积 {area_text(c['area'])}，人数 {c['heads']}。")
            en.append(f"{option}: area {area_text(c['area'])}, heads {c['heads']}.")
        rule_zh = "同意须占参与表决面积与人数各过半数" if definition.matter == "ordinary" else "同意须占参与表决面积与人数各四分之三以上"
        rule_en = (
            "approval needs more than half of the area and of the heads taking part"
            if definition.matter == "ordinary"
            else "approval needs three quarters or more of the area and of the heads taking part"
        )
        matter_zh = "一般事项" if definition.matter == "ordinary" else "特别事项"
        if tally["passed"]:
            zh.append(f"结果：通过（{matter_zh}，{rule_zh}）。")
            en.append(f"Outcome: PASSED ({definition.matter} matter; {rule_en}).")
        else:
            zh.append(f"结果：未通过（{matter_zh}，{rule_zh}）。")
            en.append(f"Outcome: NOT PASSED ({definition.matter} matter; {rule_en}).")
        return "\n".join(zh), "\n".join(en)

    for cid in definition.candidate_ids:
        c = tally["counts"][cid]
        name = definition.candidate_name(cid)
        zh.append(f"候选人 {name}（{cid}）：同意面积 {area_text(c['area'])}，人数 {c['heads']}。")
        en.append(f"Candidate {name} ({cid}): approved by area {area_text(c['area'])}, heads {c['heads']}.")
    names = lambda ids: "、".join(f"{definition.candidate_name(c)}（{c}）" for c in ids)  # noqa: E731
    names_en = lambda ids: ", ".join(f"{definition.candidate_name(c)} ({c})" for c in ids)  # noqa: E731
    seats = definition.seats
    zh.append(f"应选 {seats} 名；当选：{names(tally['elected']) or '无'}。")
    en.append(f"{seats} seat(s); elected: {names_en(tally['elected']) or 'nobody'}.")
    if tally["tie"]:
        zh.append(f"末位票数相同，无法在席位内全部当选：{names(tally['tie'])}，须另行决选。")
        en.append(f"Tie at the last seat: {names_en(tally['tie'])} — a run-off is needed.")
    return "\n".join(zh), "\n".join(en)
