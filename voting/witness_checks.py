"""The verifier's checks of co-signatures [1.1] (docs/protocol.md §11, checks 11–14): each co-signature
valid, every co-signed head a prefix of the final log, no two co-signed heads in conflict
(equivocation), and the quorum of the final head. Pure: the findings are data for voting.report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from .entries import Definition
from .witnesses import Conflict, conflicts, cosignature_problem


@dataclass
class WitnessFindings:
    """What the co-signatures of a bundle showed."""

    valid: list[dict] = field(default_factory=list)
    cosigned_final: list[str] = field(default_factory=list)  # witness ids, definition order
    missing: list[str] = field(default_factory=list)
    equivocations: list[Conflict] = field(default_factory=list)


def check_cosignatures(checks: dict, definition: Definition, cosignatures: Sequence, size: int, root: str,
                       prefix_root: Callable[[int], str | None]) -> WitnessFindings:  # fmt: skip
    """Run checks 11–14 (`checks` maps their keys to voting.checks.Check) on the bundle's co-signatures,
    against the final log of `size` entries with Merkle root `root`."""
    found = WitnessFindings()
    names = {w["id"]: w["name"] for w in definition.witnesses}
    for key in ("cosignatures", "cosigned_prefix", "equivocation", "witness_quorum"):
        checks[key].ok = True
    keys = definition.witness_keys
    for i, cosignature in enumerate(cosignatures):
        problem = cosignature_problem(cosignature, definition.vote_id, keys)
        if problem:
            checks["cosignatures"].fail(f"cosignatures[{i}]: {problem}")
        else:
            found.valid.append(cosignature)

    for c in found.valid:
        who = f"witness {c['witness']} ({names[c['witness']]})"
        if c["size"] > size:
            checks["cosigned_prefix"].fail(
                f"{who} co-signed a head of size {c['size']}, but the log has only {size} entries: entries were "
                f"dropped after the witness saw them")
        elif c["root"] != prefix_root(c["size"]):
            checks["cosigned_prefix"].fail(
                f"{who} co-signed size {c['size']} root {c['root']}, but the root of the bundle's first {c['size']} "
                f"entries is {prefix_root(c['size'])}")

    found.equivocations = conflicts(found.valid, prefix_root)
    for conflict in found.equivocations:
        checks["equivocation"].fail(conflict.text())

    final = {c["witness"] for c in found.valid if c["size"] == size and c["root"] == root}
    found.cosigned_final = [w["id"] for w in definition.witnesses if w["id"] in final]
    found.missing = [w["id"] for w in definition.witnesses if w["id"] not in final]
    if len(final) < definition.witness_quorum:
        def listed(ids):
            return ", ".join(f"{i} ({names[i]})" for i in ids) or "nobody"

        checks["witness_quorum"].fail(
            f"the final tree head (size {size}) has {len(final)} of the {definition.witness_quorum} co-signatures "
            f"it needs: co-signed by {listed(found.cosigned_final)}; missing {listed(found.missing)}")
    return found
