"""The checks of a bundle (docs/protocol.md §11): the definition, the roll, the tree head, every entry
replayed by the counting rules, the tally and its signature, [1.1] the delegations and the witnesses'
co-signatures (voting.witness_checks), and each receipt. Pure: the report is data; voting.report puts
it in words and voting.verify is the command line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Sequence

from . import PROTOCOL_1
from .bundle import check_bundle_shape, without_cycle_collection
from .canonical import CanonicalError, canonical
from .counting import BALLOTS, CLOSE, DELEGATIONS, FORMAT, KEYS, CountResult, Replay, tally_body
from .delegations import KINDS as DELEGATION_KINDS
from .entries import Definition, ProtocolError, parse_definition, tree_head_problem, validate_receipt_shape
from .keys import verify_object
from .merkle import Frontier, leaf_hash, root_from_leaf_hashes, verify_inclusion
from .scan import scan
from .witness_checks import WitnessFindings, check_cosignatures

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
    DELEGATIONS: ("委托与撤销", "delegations and revocations"),
    "cosignatures": ("见证人联署签名", "witness co-signatures"),
    "cosigned_prefix": ("联署树头为最终日志前缀", "co-signed heads are prefixes of the final log"),
    "equivocation": ("无分叉", "no equivocation"),
    "witness_quorum": ("见证法定数", "witness quorum"),
}
CHECK_ORDER_1 = ["definition", "roll", "tree_head", FORMAT, KEYS, BALLOTS, CLOSE, "tally", "tally_signature"]
# linli-vote/1.1 keeps the numbers of linli-vote/1 and adds five (docs/protocol.md §11).
CHECK_ORDER_1_1 = CHECK_ORDER_1 + [DELEGATIONS, "cosignatures", "cosigned_prefix", "equivocation", "witness_quorum"]
CHECK_ORDER = CHECK_ORDER_1_1


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
    status: str | None = None  # the entry's fate: counted / superseded / invalid / delegation / not a ballot


@dataclass
class Report:
    """Everything the verifier found about one bundle."""

    checks: list[Check]
    definition: Definition | None = None
    result: CountResult | None = None
    tally: dict | None = None  # recomputed, unsigned
    receipts: list[ReceiptResult] = field(default_factory=list)
    witnesses: WitnessFindings | None = None  # [1.1]

    @property
    def ok(self) -> bool:
        """True iff every check ran and passed."""
        return all(c.ok is True for c in self.checks)


def verify_bundle(
    bundle: dict,
    receipts: Sequence[tuple[str, object]] = (),
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Run every check of docs/protocol.md §11 on a bundle and (name, parsed receipt) pairs; BundleError if it is no bundle at all."""
    with without_cycle_collection():
        return _verify_bundle(bundle, receipts, workers, progress)


def _verify_bundle(bundle, receipts, workers, progress) -> Report:
    check_bundle_shape(bundle)
    order = CHECK_ORDER_1 if bundle["protocol"] == PROTOCOL_1 else CHECK_ORDER_1_1
    checks = {key: Check(key, *CHECK_NAMES[key]) for key in order}
    receipt_checks = [Check(f"receipt:{name}", f"回执 {name}", f"receipt {name}") for name, _ in receipts]
    report = Report(checks=[checks[k] for k in order] + receipt_checks)
    report.receipts = [ReceiptResult(name) for name, _ in receipts]
    roll, entries, tree_head, tally = bundle["roll"], bundle["entries"], bundle["tree_head"], bundle["tally"]
    cosignatures = bundle.get("cosignatures", [])

    try:
        definition = parse_definition(entries[0])
        if definition.protocol != bundle["protocol"]:
            raise ProtocolError(f"the definition follows {definition.protocol}, the bundle says {bundle['protocol']}")
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
    roll_hashes, roll_problems, entry_hashes, entry_problems = scan(
        roll, entries, definition, rights, workers, progress
    )

    _check_roll(checks["roll"], roll, roll_hashes, roll_problems, definition)
    # The roots of every prefix a receipt or a co-signature names, and the final root, in one pass.
    prefix_roots = _prefix_roots(entry_hashes, _named_sizes(receipts, cosignatures, len(entry_hashes)))
    root = prefix_roots[len(entries)]
    _check_tree_head(checks["tree_head"], tree_head, len(entries), root, definition)

    # A malformed roll already fails check 2; replay against its usable entries to report the rest.
    replay = Replay(definition, [rights[k] for k in sorted(rights)])
    for index in range(1, len(entries)):
        replay.feed(index, entries[index], entry_problems.get(index))
    result = replay.finish(len(entries))
    report.result = result
    for key in (FORMAT, KEYS, BALLOTS, CLOSE, DELEGATIONS):
        if key in checks:
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

    if "cosignatures" in checks:
        report.witnesses = check_cosignatures(checks, definition, cosignatures, len(entries), root, prefix_roots.get)
    if receipts:
        _check_receipts(receipt_checks, report.receipts, receipts, entry_hashes, entries, definition, result,
                        prefix_roots)
    return report


def _named_sizes(receipts, cosignatures, n: int) -> set[int]:
    """The tree sizes (1..n) that receipts' heads and co-signatures name."""
    sizes = {n}
    for _, receipt in receipts:
        head = receipt.get("tree_head") if isinstance(receipt, dict) else None
        size = head.get("size") if isinstance(head, dict) else None
        if isinstance(size, int) and 0 < size <= n:
            sizes.add(size)
    for cosignature in cosignatures:
        size = cosignature.get("size") if isinstance(cosignature, dict) else None
        if isinstance(size, int) and not isinstance(size, bool) and 0 < size <= n:
            sizes.add(size)
    return sizes


def _prefix_roots(entry_hashes, sizes: set[int]) -> dict[int, str]:
    """{m: hex root of the first m leaves} for each m in sizes, from one pass over the leaf hashes."""
    roots, frontier = {}, Frontier()
    for i, h in enumerate(entry_hashes):
        frontier.append(h)
        if i + 1 in sizes:
            roots[i + 1] = frontier.root().hex()
    return roots


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


def _check_receipts(checks, results, receipts, entry_hashes, entries, definition, result: CountResult,
                    prefix_roots: dict[int, str]) -> None:  # fmt: skip
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
        if "entry" in receipt:
            _check_receipt_entry(check, receipt, entry_hashes[index])
        proof = [bytes.fromhex(p) for p in receipt["inclusion_proof"]]
        if not verify_inclusion(bytes.fromhex(receipt["leaf_hash"]), index, size, proof, bytes.fromhex(head["root"])):
            check.fail("the inclusion proof does not verify against the receipt's tree head")
        if prefix_roots[size] != head["root"]:
            check.fail(f"the root of the bundle's first {size} entries differs from the receipt's tree head")
        kind = entries[index].get("type") if isinstance(entries[index], dict) else None
        if kind in ("ballot", "paper_ballot"):
            outcome.status = result.status.get(index)
        elif kind in DELEGATION_KINDS and definition.protocol != PROTOCOL_1:
            valid = result.delegation_status.get(index) == "valid"
            outcome.status = ("delegation" if kind == "delegation" else "delegation revocation") if valid else "invalid"
        else:
            outcome.status = "not a ballot"


def _check_receipt_entry(check: Check, receipt: dict, bundle_leaf_hash: bytes) -> None:
    """A receipt that carries its entry: the entry hashes to the receipt's leaf_hash and is the entry
    at leaf_index of the bundle (same leaf hash, so the same canonical bytes)."""
    try:
        digest = leaf_hash(canonical(receipt["entry"]))
    except CanonicalError as exc:
        check.fail(f"the receipt's entry is not canonical JSON: {exc}")
        return
    if digest.hex() != receipt["leaf_hash"]:
        check.fail("the receipt's entry does not hash to its leaf_hash")
    if digest != bundle_leaf_hash:
        check.fail(f"the receipt's entry is not entry {receipt['leaf_index']} of the bundle")
