"""The offline verifier: python -m voting.verify BUNDLE [--receipt R ...] [--json]."""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .bundle import BundleError, check_bundle_shape, parse_json_file
from .canonical import dumps
from .counting import BALLOTS, CLOSE, FORMAT, KEYS, CountResult, Replay, SignatureChecker, scan_entry, tally_body
from .entries import (
    Definition,
    ProtocolError,
    parse_definition,
    tree_head_problem,
    validate_receipt_shape,
    validate_roll_entry,
)
from .keys import verify_object
from .merkle import Frontier, leaf_hash, root_from_leaf_hashes, verify_inclusion

PARALLEL_MIN = 4000  # below this many roll entries + log entries one process is faster than forking
CHUNK = 2000  # items per task: small enough to balance two cores and report progress
PROGRESS_MIN = 10000  # report progress on stderr for bundles at least this large
MAX_DETAILS = 20  # failure lines shown per check; the rest are summarised

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2

CHECK_NAMES = {
    "definition": ("定义条目", "definition entry"),
    "roll": ("名册排序与根", "roll order and root"),
    "tree_head": ("日志根与树头签名", "log root and tree head signature"),
    FORMAT: ("条目格式", "entry format"),
    KEYS: ("密钥绑定与撤销", "key bindings and revocations"),
    BALLOTS: ("选票有效性", "ballot validity"),
    CLOSE: ("关闭条目在最后", "close entry last"),
    "tally": ("计票结果重算", "tally recomputed"),
    "tally_signature": ("计票签名", "tally signature"),
}
CHECK_ORDER = ["definition", "roll", "tree_head", FORMAT, KEYS, BALLOTS, CLOSE, "tally", "tally_signature"]


@dataclass
class Check:
    """One numbered check: passed (True), failed (False) or not run (None), with failure details."""

    key: str
    zh: str
    en: str
    ok: bool | None = None
    details: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        """Record a failure."""
        self.ok = False
        self.details.append(message)


@dataclass
class ReceiptResult:
    """What a receipt proved about its entry."""

    name: str
    leaf_index: int | None = None
    status: str | None = None  # the entry's fate: counted / superseded / invalid / not a ballot


@dataclass
class Report:
    """Everything the verifier found about one bundle."""

    checks: list[Check]
    definition: Definition | None = None
    result: CountResult | None = None
    tally: dict | None = None  # recomputed, unsigned
    receipts: list[ReceiptResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True iff every check ran and passed."""
        return all(c.ok is True for c in self.checks)


# --- the per-item scan, run in worker processes for large bundles ---------------------------------

_SCAN: tuple | None = None  # (roll, entries, definition, rights) inherited by forked workers


def _scan_roll(lo: int, hi: int) -> tuple[str, int, bytes, list]:
    roll = _SCAN[0]
    hashes, problems = [], []
    for i in range(lo, hi):
        item = roll[i]
        try:
            validate_roll_entry(item)
        except ProtocolError as exc:
            problems.append((i, str(exc)))
        hashes.append(leaf_hash(dumps(item)))
    return "roll", lo, b"".join(hashes), problems


def _scan_entries(lo: int, hi: int) -> tuple[str, int, bytes, list]:
    _, entries, definition, rights = _SCAN
    signatures = SignatureChecker()
    hashes, problems = [], []
    for i in range(lo, hi):
        if i == 0:
            hashes.append(leaf_hash(dumps(entries[0])))  # the definition, checked on its own
            continue
        leaf, problem = scan_entry(entries[i], definition, rights, signatures)
        hashes.append(leaf_hash(leaf))
        if problem is not None:
            problems.append((i, problem))
    return "entries", lo, b"".join(hashes), problems


def _scan_task(task: tuple[str, int, int]):
    kind, lo, hi = task
    return _scan_roll(lo, hi) if kind == "roll" else _scan_entries(lo, hi)


def _default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _scan(roll, entries, definition, rights, workers: int | None, progress: Callable[[int, int], None] | None):
    """Leaf hashes and per-item problems of roll and entries, using forked workers when it pays."""
    global _SCAN
    tasks = [("roll", lo, min(lo + CHUNK, len(roll))) for lo in range(0, len(roll), CHUNK)]
    tasks += [("entries", lo, min(lo + CHUNK, len(entries))) for lo in range(0, len(entries), CHUNK)]
    total = len(roll) + len(entries)
    workers = _default_workers() if workers is None else workers
    parallel = workers > 1 and total >= PARALLEL_MIN and "fork" in multiprocessing.get_all_start_methods()
    _SCAN = (roll, entries, definition, rights)
    try:
        if parallel:
            # fork: the workers inherit the parsed bundle instead of receiving it through pickles;
            # gc.freeze keeps their collector from touching (and so copying) the parent's objects.
            gc.freeze()
            try:
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    results = _collect(pool.imap_unordered(_scan_task, tasks), total, progress)
            finally:
                gc.unfreeze()
        else:
            results = _collect(map(_scan_task, tasks), total, progress)
    finally:
        _SCAN = None
    roll_hashes: list[bytes] = [b""] * len(roll)
    entry_hashes: list[bytes] = [b""] * len(entries)
    roll_problems: dict[int, str] = {}
    entry_problems: dict[int, tuple[str, str]] = {}
    for kind, lo, joined, problems in results:
        target = roll_hashes if kind == "roll" else entry_hashes
        for k in range(len(joined) // 32):
            target[lo + k] = joined[32 * k : 32 * k + 32]
        (roll_problems if kind == "roll" else entry_problems).update(problems)
    return roll_hashes, roll_problems, entry_hashes, entry_problems


def _collect(iterator, total: int, progress):
    results, done = [], 0
    for result in iterator:
        results.append(result)
        done += len(result[2]) // 32
        if progress:
            progress(done, total)
    return results


# --- the checks -----------------------------------------------------------------------------------


def verify_bundle(
    bundle: dict,
    receipts: Sequence[tuple[str, object]] = (),
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Run every §6 Verifier check on a bundle and (name, parsed receipt) pairs; BundleError if it is no bundle at all."""
    check_bundle_shape(bundle)
    checks = {key: Check(key, *CHECK_NAMES[key]) for key in CHECK_ORDER}
    receipt_checks = [Check(f"receipt:{name}", f"回执 {name}", f"receipt {name}") for name, _ in receipts]
    report = Report(checks=[checks[k] for k in CHECK_ORDER] + receipt_checks)
    report.receipts = [ReceiptResult(name) for name, _ in receipts]
    roll, entries, tree_head, tally = bundle["roll"], bundle["entries"], bundle["tree_head"], bundle["tally"]

    try:
        definition = parse_definition(entries[0])
    except ProtocolError as exc:
        checks["definition"].fail(f"entry 0: {exc}")
        return report  # without the definition nothing else can be judged; the rest stay "not run"
    checks["definition"].ok = True
    report.definition = definition

    rights = {
        item["right_id"]: item
        for item in roll
        if isinstance(item, dict) and isinstance(item.get("right_id"), str) and isinstance(item.get("keys"), list)
    }
    roll_hashes, roll_problems, entry_hashes, entry_problems = _scan(
        roll, entries, definition, rights, workers, progress
    )

    _check_roll(checks["roll"], roll, roll_hashes, roll_problems, definition)
    root = root_from_leaf_hashes(entry_hashes).hex()
    _check_tree_head(checks["tree_head"], tree_head, len(entries), root, definition)

    # A malformed roll already fails check 2; replay against its usable entries to report the rest.
    replay = Replay(definition, [rights[k] for k in sorted(rights)])
    for index in range(1, len(entries)):
        replay.feed(index, entries[index], entry_problems.get(index))
    result = replay.finish(len(entries))
    report.result = result
    for key in (FORMAT, KEYS, BALLOTS, CLOSE):
        checks[key].ok = True
    for problem in result.problems:
        checks[problem.check].fail(problem.message)

    if checks["roll"].ok:
        report.tally = tally_body(result, len(entries), root)
        _check_tally(checks["tally"], tally, report.tally)
    else:
        checks["tally"].fail("not recomputed: the roll does not match the definition")
    checks["tally_signature"].ok = True
    if not verify_object(definition.server_key, tally):
        checks["tally_signature"].fail("the tally's signature does not verify with the server key")

    if receipts:
        _check_receipts(receipt_checks, report.receipts, receipts, entry_hashes, entries, definition, result)
    return report


def _check_roll(check: Check, roll, hashes, problems, definition: Definition) -> None:
    check.ok = True
    for i in sorted(problems):
        check.fail(f"roll[{i}]: {problems[i]}")
    previous = None
    for i, item in enumerate(roll):
        right_id = item.get("right_id") if isinstance(item, dict) else None
        if isinstance(right_id, str):
            if previous is not None and not previous < right_id:
                check.fail(f"roll[{i}]: right_id {right_id} is not after {previous} (sorted, unique)")
            previous = right_id
    root = root_from_leaf_hashes(hashes).hex()
    if root != definition.roll_root:
        check.fail(f"roll root {root} differs from the definition's {definition.roll_root}")
    if len(roll) != definition.roll_size:
        check.fail(f"roll has {len(roll)} rights, the definition says {definition.roll_size}")
    if check.ok:
        area = sum(item["area"] for item in roll)
        heads = sum(item["heads"] for item in roll)
        if area != definition.roll_area:
            check.fail(f"roll area {area} differs from the definition's {definition.roll_area}")
        if heads != definition.roll_heads:
            check.fail(f"roll heads {heads} differs from the definition's {definition.roll_heads}")


def _check_tree_head(check: Check, head: dict, size: int, root: str, definition: Definition) -> None:
    check.ok = True
    problem = tree_head_problem(head, definition.vote_id, definition.server_key)
    if problem:
        check.fail(problem)
        if not isinstance(head.get("size"), int) or not isinstance(head.get("root"), str):
            return
    if head["size"] != size:
        check.fail(f"tree head size {head['size']} but the bundle has {size} entries")
    if head["root"] != root:
        check.fail(f"tree head root {head['root']} differs from the root of the entries {root}")


def _check_tally(check: Check, tally: dict, recomputed: dict) -> None:
    check.ok = True
    given = {k: v for k, v in tally.items() if k != "signature"}
    if given == recomputed and "signature" in tally:
        return
    if "signature" not in tally:
        check.fail("the tally has no signature")
    for key in sorted(given.keys() | recomputed.keys()):
        if given.get(key, "∅") != recomputed.get(key, "∅"):
            shown = json.dumps(given.get(key, "∅"), ensure_ascii=False)[:200]
            expected = json.dumps(recomputed.get(key, "∅"), ensure_ascii=False)[:200]
            check.fail(f"tally.{key} is {shown}, recomputed {expected}")


def _check_receipts(checks, results, receipts, entry_hashes, entries, definition, result: CountResult) -> None:
    # Roots of every prefix a receipt names, in one pass over the leaf hashes.
    sizes = set()
    for _, receipt in receipts:
        head = receipt.get("tree_head") if isinstance(receipt, dict) else None
        size = head.get("size") if isinstance(head, dict) else None
        if isinstance(size, int) and 0 < size <= len(entry_hashes):
            sizes.add(size)
    prefix_roots, frontier = {}, Frontier()
    for i, h in enumerate(entry_hashes):
        frontier.append(h)
        if i + 1 in sizes:
            prefix_roots[i + 1] = frontier.root().hex()

    for check, outcome, (_, receipt) in zip(checks, results, receipts):
        check.ok = True
        try:
            validate_receipt_shape(receipt)
        except ProtocolError as exc:
            check.fail(str(exc))
            continue
        index, head = receipt["leaf_index"], receipt["tree_head"]
        outcome.leaf_index = index
        if receipt["vote_id"] != definition.vote_id:
            check.fail(f"the receipt is for vote {receipt['vote_id']}, the bundle for {definition.vote_id}")
            continue
        problem = tree_head_problem(head, definition.vote_id, definition.server_key)
        if problem:
            check.fail(f"receipt tree head: {problem}")
            continue
        size = head["size"]
        if not index < size:
            check.fail(f"leaf {index} is not inside the receipt's tree of size {size}")
            continue
        if size > len(entries):
            check.fail(f"the receipt's tree has {size} entries, the bundle only {len(entries)}: entries were dropped")
            continue
        if receipt["leaf_hash"] != entry_hashes[index].hex():
            check.fail(f"entry {index} of the bundle is not the entry of the receipt (leaf hash differs)")
        proof = [bytes.fromhex(p) for p in receipt["inclusion_proof"]]
        if not verify_inclusion(bytes.fromhex(receipt["leaf_hash"]), index, size, proof, bytes.fromhex(head["root"])):
            check.fail("the inclusion proof does not verify against the receipt's tree head")
        if prefix_roots[size] != head["root"]:
            check.fail(f"the root of the bundle's first {size} entries differs from the receipt's tree head")
        kind = entries[index].get("type") if isinstance(entries[index], dict) else None
        outcome.status = result.status.get(index) if kind in ("ballot", "paper_ballot") else "not a ballot"


# --- words for people -----------------------------------------------------------------------------


def _area(value: int) -> str:
    return f"{value // 100}.{value % 100:02d} m²"


def _percent(part: int, whole: int) -> str:
    if whole <= 0:
        return "—"
    basis_points = part * 10000 // whole  # integer display only; no decision rests on it
    return f"{basis_points // 100}.{basis_points % 100:02d}%"


STATUS_WORDS = {
    "counted": "计入 / counted",
    "superseded": "被同一表决权后来的选票替代 / superseded by a later ballot of the same right",
    "invalid": "无效 / invalid",
    "not a ballot": "非选票条目 / not a ballot",
    None: "—",
}


def describe_outcome(definition: Definition, tally: dict) -> tuple[str, str]:
    """The recomputed outcome in words: (Chinese, English)."""
    totals, turnout = tally["totals"], tally["turnout"]
    a, h = turnout["area"], turnout["heads"]
    zh = [
        f"参与表决：面积 {_area(a)}（占总面积 {_percent(a, totals['area'])}），"
        f"人数 {h}（占总人数 {_percent(h, totals['heads'])}）。"
    ]
    en = [
        f"Took part: area {_area(a)} ({_percent(a, totals['area'])} of {_area(totals['area'])}), "
        f"heads {h} ({_percent(h, totals['heads'])} of {totals['heads']})."
    ]
    if not tally["quorum"]:
        zh.append("未达到法定参与比例（专有部分面积与人数均须占三分之二以上）。")
        en.append("Quorum NOT reached (two thirds or more of both area and heads must take part).")
    if not definition.is_election:
        counts = tally["counts"]
        for option, word in (("approve", "同意"), ("reject", "反对"), ("abstain", "弃权")):
            c = counts[option]
            zh.append(f"{word}：面积 {_area(c['area'])}，人数 {c['heads']}。")
            en.append(f"{option}: area {_area(c['area'])}, heads {c['heads']}.")
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
        zh.append(f"候选人 {name}（{cid}）：同意面积 {_area(c['area'])}，人数 {c['heads']}。")
        en.append(f"Candidate {name} ({cid}): approved by area {_area(c['area'])}, heads {c['heads']}.")
    names = lambda ids: "、".join(f"{definition.candidate_name(c)}（{c}）" for c in ids)  # noqa: E731
    names_en = lambda ids: ", ".join(f"{definition.candidate_name(c)} ({c})" for c in ids)  # noqa: E731
    seats = definition.seats
    zh.append(f"应选 {seats} 名；当选：{names(tally['elected']) or '无'}。")
    en.append(f"{seats} seat(s); elected: {names_en(tally['elected']) or 'nobody'}.")
    if tally["tie"]:
        zh.append(f"末位票数相同，无法在席位内全部当选：{names(tally['tie'])}，须另行决选。")
        en.append(f"Tie at the last seat: {names_en(tally['tie'])} — a run-off is needed.")
    return "\n".join(zh), "\n".join(en)


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


# --- command line ---------------------------------------------------------------------------------


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise BundleError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _progress_printer(total_hint: int):
    state = {"last": -1}

    def report(done: int, total: int) -> None:
        percent = done * 100 // total
        if percent // 10 != state["last"]:
            state["last"] = percent // 10
            print(f"校验中 / verifying: {done}/{total} ({percent}%)", file=sys.stderr, flush=True)

    return report if total_hint >= PROGRESS_MIN else None


def _unusable(message: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    print(f"无法校验 / cannot verify: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 all checks pass, 1 a check failed, 2 unusable input)."""
    parser = argparse.ArgumentParser(
        prog="python -m voting.verify",
        description="离线校验 linli-vote/1 审计包 / verify a linli-vote/1 bundle offline",
    )
    parser.add_argument("bundle", help="the bundle JSON file")
    parser.add_argument("--receipt", action="append", default=[], metavar="R", help="a receipt JSON file (repeatable)")
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout")
    parser.add_argument("--workers", type=int, default=None, help="processes for signature checks (default: all cores)")
    args = parser.parse_args(argv)
    try:
        bundle = parse_json_file(_read(args.bundle, "bundle"), "the bundle")
        check_bundle_shape(bundle)
        receipts = [(path, parse_json_file(_read(path, "receipt"), f"receipt {path}")) for path in args.receipt]
    except BundleError as exc:
        return _unusable(str(exc), args.json)
    except MemoryError:
        return _unusable("the file is too large for this machine's memory", args.json)
    progress = _progress_printer(len(bundle["entries"]) + len(bundle["roll"]))
    try:
        report = verify_bundle(bundle, receipts, workers=args.workers, progress=progress)
    except RecursionError:
        return _unusable("the bundle is nested too deeply", args.json)
    if args.json:
        print(json.dumps(render_json(report, args.bundle), ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(render_text(report, args.bundle))
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
