"""Counting (docs/protocol.md §7–§9): the log replayed in order — key bindings, [1.1] delegations,
ballot validity, the ballot that counts per right — thresholds, and the tally."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

from . import PROTOCOL_1
from .delegations import DELEGATION, REVOCATION, signed_part
from .entries import OPTIONS, Definition, ProtocolError, parse_definition
from .intrinsic import (BALLOTS, CLOSE, DELEGATIONS, FORMAT, KEYS, Problem, SignatureChecker, intrinsic_problem,
                        scan_entry)

__all__ = ["BALLOTS", "CLOSE", "DELEGATIONS", "FORMAT", "KEYS", "Problem", "SignatureChecker", "intrinsic_problem",
           "scan_entry", "Replay", "CountResult", "count_log", "tally_body"]


# --- thresholds (Civil Code art. 278 with art. 1259): integers only, no rounding -----------------


def quorum_reached(a: int, h: int, total_area: int, total_heads: int) -> bool:
    """Two thirds or more ("以上" includes the number) of both area and heads took part."""
    return 3 * a >= 2 * total_area and 3 * h >= 2 * total_heads


def majority(ya: int, yh: int, a: int, h: int) -> bool:
    """More than half ("过半数" excludes the number) of the area and of the heads that took part."""
    return 2 * ya > a and 2 * yh > h


def three_quarters(ya: int, yh: int, a: int, h: int) -> bool:
    """Three quarters or more of the area and of the heads that took part."""
    return 4 * ya >= 3 * a and 4 * yh >= 3 * h


def resolution_passes(matter: str, quorum: bool, ya: int, yh: int, a: int, h: int) -> bool:
    """docs/protocol.md §8: an ordinary matter needs quorum and a majority, a special one quorum and three quarters."""
    if not quorum:
        return False
    if matter == "ordinary":
        return majority(ya, yh, a, h)
    if matter == "special":
        return three_quarters(ya, yh, a, h)
    raise ValueError(f"unknown matter {matter!r}")


def elect(
    seats: int, candidate_ids: Sequence[str], counts: Mapping[str, Mapping[str, int]], quorum: bool, a: int, h: int
) -> tuple[list[str], list[str]]:
    """An election (docs/protocol.md §8): (elected, tie). Qualified = quorum and majority; rank by heads then area; no silent pick at the last seat."""
    if not quorum:
        return [], []
    order = {cid: i for i, cid in enumerate(candidate_ids)}
    qualified = [c for c in candidate_ids if majority(counts[c]["area"], counts[c]["heads"], a, h)]
    # Rank by heads, then area; equal ranks keep definition order only so the listing is stable.
    qualified.sort(key=lambda c: (-counts[c]["heads"], -counts[c]["area"], order[c]))
    if len(qualified) <= seats:
        return qualified, []
    last = qualified[seats - 1]
    rank = (counts[last]["heads"], counts[last]["area"])
    above = [c for c in qualified if (counts[c]["heads"], counts[c]["area"]) > rank]
    level = [c for c in qualified if (counts[c]["heads"], counts[c]["area"]) == rank]
    if len(above) + len(level) <= seats:
        return above + level, []
    return above, level


# --- replaying the log in order -------------------------------------------------------------------


@dataclass
class Counted:
    """The ballot that counts for one right."""

    index: int
    source: str  # "signed" | "paper"
    choice: dict
    proxy: bool = False  # [1.1] signed by the right's delegate


@dataclass
class CountResult:
    """What replaying a log yields: the counted ballot per right, statistics and problems."""

    definition: Definition
    roll: Sequence[dict]
    counted: dict[str, Counted]
    status: dict[int, str]  # ballot entry index -> "counted" | "superseded" | "invalid"
    problems: list[Problem]
    signed_entries: int = 0
    paper_entries: int = 0
    bindings: int = 0
    revocations: int = 0
    closed: bool = False
    # [1.1] delegation / delegation_revocation entry index -> "valid" | "invalid"
    delegation_status: dict[int, str] = field(default_factory=dict)
    delegations: int = 0
    delegation_revocations: int = 0
    proxy_ballots: int = 0  # valid ballots signed by a delegate

    def status_count(self, kind: str) -> int:
        """How many ballot entries have this status."""
        return sum(1 for s in self.status.values() if s == kind)

    def stats(self) -> dict:
        """Counts for people: rights, ballots by source and status, key bindings, revocations, proxies."""
        from_paper = sum(1 for c in self.counted.values() if c.source == "paper")
        return {
            "rights": len(self.roll),
            "signed_ballots": self.signed_entries,
            "paper_ballots": self.paper_entries,
            "counted_signed": len(self.counted) - from_paper,
            "counted_paper": from_paper,
            "superseded": self.status_count("superseded"),
            "invalid": self.status_count("invalid"),
            "key_bindings": self.bindings,
            "key_revocations": self.revocations,
            "delegations": self.delegations,
            "delegation_revocations": self.delegation_revocations,
            "invalid_delegations": sum(1 for s in self.delegation_status.values() if s == "invalid"),
            "proxy_ballots": self.proxy_ballots,
            "counted_proxy": sum(1 for c in self.counted.values() if c.proxy),
        }


class Replay:
    """Applies the counting of docs/protocol.md §7 to entries 1..n in log order (entry 0 is the definition)."""

    def __init__(self, definition: Definition, roll: Sequence[dict], verify_signatures: bool = True):
        self.definition = definition
        self.roll = roll
        self.rights = {item["right_id"]: item for item in roll}
        self.active: dict[str, set[str]] = {
            rid: {k for k in item["keys"] if isinstance(k, str)} for rid, item in self.rights.items()
        }
        self.revoked: dict[str, set[str]] = {}
        # [1.1] right -> (delegate key, the key that signed the delegation); keys that were delegates once
        self.delegate: dict[str, tuple[str, str]] = {}
        self.former_delegates: dict[str, set[str]] = {}
        self.proxy: set[int] = set()
        self.nonces: set[str] = set()
        self.last_signed: dict[str, int] = {}
        self.last_paper: dict[str, int] = {}
        self.choices: dict[int, dict] = {}
        self.status: dict[int, str] = {}
        self.delegation_status: dict[int, str] = {}
        self.problems: list[Problem] = []
        self.close_index: int | None = None
        self.signed_entries = self.paper_entries = self.bindings = self.revocations = 0
        self.delegations = self.delegation_revocations = 0
        self.signatures = SignatureChecker() if verify_signatures else None

    def feed(self, index: int, entry, intrinsic: tuple[str, str] | None | bool = True) -> None:
        """Apply entry `index`; intrinsic is its precomputed intrinsic_problem, or True to compute it here."""
        if intrinsic is True:
            intrinsic = intrinsic_problem(entry, self.definition, self.rights, self.signatures)
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind == "ballot":
            self.signed_entries += 1
        elif kind == "paper_ballot":
            self.paper_entries += 1
        statuses = (self.status if kind in ("ballot", "paper_ballot")
                    else self.delegation_status if kind in (DELEGATION, REVOCATION) else None)
        if self.close_index is not None:
            self.problems.append(Problem(index, CLOSE, f"entry {index} follows the close entry"))
            if statuses is not None:
                statuses[index] = "invalid"
            return
        if intrinsic is not None:
            self.problems.append(Problem(index, intrinsic[0], f"entry {index}: {intrinsic[1]}"))
            if statuses is not None:
                statuses[index] = "invalid"
            if kind == "close":
                self.close_index = index  # an early close still ends the log
            return
        if kind == "ballot":
            self._signed(index, entry)
        elif kind == "paper_ballot":
            self.status[index] = "valid"
            self.choices[index] = entry["choice"]
            self.last_paper[entry["right_id"]] = index
        elif kind == "key_binding":
            self._bind(index, entry)
        elif kind == "key_revocation":
            self._revoke(index, entry)
        elif kind in (DELEGATION, REVOCATION):
            self._delegation(index, entry, kind)
        elif kind == "close":
            self.close_index = index

    def _signed(self, index: int, entry: dict) -> None:
        envelope = entry["envelope"]
        ballot = envelope["ballot"]
        right_id, key, nonce = ballot["right_id"], envelope["public_key"], ballot["nonce"]
        delegate = self.delegate.get(right_id)
        by_delegate = delegate is not None and delegate[0] == key and key not in self.active[right_id]
        if key not in self.active[right_id] and not by_delegate:
            if key in self.former_delegates.get(right_id, ()):
                why = "is no longer the right's delegate (the delegation was revoked, replaced or its key revoked)"
            elif key in self.revoked.get(right_id, ()):
                why = "was revoked"
            elif self.definition.protocol == PROTOCOL_1:
                why = "is not bound to the right"
            else:
                why = "is neither bound to the right nor its delegate"
            self._invalid(index, f"ballot key {key[:12]}… {why} at this point of the log")
        elif nonce in self.nonces:
            self._invalid(index, f"ballot nonce {nonce} was used by an earlier valid entry")
        else:
            # Only a valid entry consumes its nonce, so an injected invalid copy cannot void the real one.
            self.nonces.add(nonce)
            self.status[index] = "valid"
            self.choices[index] = ballot["choice"]
            self.last_signed[right_id] = index
            if by_delegate:
                self.proxy.add(index)

    def _invalid(self, index: int, message: str, check: str = BALLOTS) -> None:
        (self.status if check == BALLOTS else self.delegation_status)[index] = "invalid"
        self.problems.append(Problem(index, check, f"entry {index}: {message}"))

    def _bind(self, index: int, entry: dict) -> None:
        right_id, key = entry["right_id"], entry["public_key"]
        self.bindings += 1
        if key in self.active[right_id]:
            self.problems.append(Problem(index, KEYS, f"entry {index}: key already bound to {right_id}"))
        elif key in self.revoked.get(right_id, ()):
            self.problems.append(Problem(index, KEYS, f"entry {index}: a revoked key is bound again to {right_id}"))
        else:
            self.active[right_id].add(key)

    def _revoke(self, index: int, entry: dict) -> None:
        right_id, key = entry["right_id"], entry["public_key"]
        self.revocations += 1
        if key not in self.active[right_id]:
            self.problems.append(Problem(index, KEYS, f"entry {index}: revokes a key not bound to {right_id}"))
        else:
            self.active[right_id].discard(key)
            self.revoked.setdefault(right_id, set()).add(key)
            delegate = self.delegate.get(right_id)
            if delegate is not None and delegate[1] == key:  # a proxy lives no longer than the key that made it
                self._end_delegation(right_id)

    def _end_delegation(self, right_id: str) -> None:
        delegate_key, _ = self.delegate.pop(right_id)
        self.former_delegates.setdefault(right_id, set()).add(delegate_key)

    def _delegation(self, index: int, entry: dict, kind: str) -> None:
        signed = signed_part(entry)
        right_id, signer, nonce = signed["right_id"], entry["envelope"]["public_key"], signed["nonce"]
        if kind == DELEGATION:
            self.delegations += 1
        else:
            self.delegation_revocations += 1
        if signer not in self.active[right_id]:
            why = "was revoked" if signer in self.revoked.get(right_id, ()) else "is not bound to the right"
            self._invalid(index, f"{kind} signed by key {signer[:12]}… which {why} at this point of the log",
                          DELEGATIONS)
            return
        if nonce in self.nonces:
            self._invalid(index, f"{kind} nonce {nonce} was used by an earlier valid entry", DELEGATIONS)
            return
        active = self.delegate.get(right_id)
        if kind == REVOCATION and (active is None or active[0] != signed["delegate_key"]):
            self._invalid(index, f"revokes delegate {signed['delegate_key'][:12]}…, which is not the right's "
                                 "active delegate", DELEGATIONS)
            return
        self.nonces.add(nonce)
        self.delegation_status[index] = "valid"
        if active is not None:
            self._end_delegation(right_id)  # revoked, or replaced: at most one delegate per right
        if kind == DELEGATION:
            self.delegate[right_id] = (signed["delegate_key"], signer)

    def finish(self, size: int) -> CountResult:
        """Decide which ballot counts per right and report the log-level problems."""
        problems = list(self.problems)
        if self.close_index is None:
            problems.append(Problem(None, CLOSE, "the log does not end with a close entry"))
        elif self.close_index != size - 1:
            problems.append(Problem(self.close_index, CLOSE, f"close entry {self.close_index} is not the last entry"))
        counted: dict[str, Counted] = {}
        for right_id, index in self.last_signed.items():
            counted[right_id] = Counted(index, "signed", self.choices[index], index in self.proxy)
        for right_id, index in self.last_paper.items():
            if right_id not in counted:  # docs/protocol.md §7: paper never overrides the owner's own signed ballot
                counted[right_id] = Counted(index, "paper", self.choices[index])
        status = dict(self.status)
        counted_indexes = {c.index for c in counted.values()}
        for index, s in status.items():
            if s == "valid":
                status[index] = "counted" if index in counted_indexes else "superseded"
        return CountResult(
            definition=self.definition,
            roll=self.roll,
            counted=counted,
            status=status,
            problems=problems,
            signed_entries=self.signed_entries,
            paper_entries=self.paper_entries,
            bindings=self.bindings,
            revocations=self.revocations,
            closed=self.close_index is not None,
            delegation_status=dict(self.delegation_status),
            delegations=self.delegations,
            delegation_revocations=self.delegation_revocations,
            proxy_ballots=len(self.proxy),
        )


def count_log(roll: Sequence[dict], entries: Sequence[dict], verify_signatures: bool = True) -> CountResult:
    """Replay a whole log (entry 0 the definition) against its roll; ProtocolError if entry 0 is not a definition.

    verify_signatures=False skips the Ed25519 checks, for a server that checked each ballot when it accepted it.
    """
    if not entries:
        raise ProtocolError("the log is empty")
    definition = parse_definition(entries[0])
    replay = Replay(definition, roll, verify_signatures)
    for index in range(1, len(entries)):
        replay.feed(index, entries[index])
    return replay.finish(len(entries))


# --- the tally ------------------------------------------------------------------------------------


def _zero() -> dict:
    return {"area": 0, "heads": 0}


def tally_body(result: CountResult, size: int, root: str) -> dict:
    """The unsigned tally object (docs/protocol.md §9) of a replayed log whose final tree head is (size, root)."""
    definition = result.definition
    rights = {item["right_id"]: item for item in result.roll}
    total_area = sum(item["area"] for item in result.roll)
    total_heads = sum(item["heads"] for item in result.roll)
    turnout = _zero()
    keys = definition.candidate_ids if definition.is_election else OPTIONS
    counts = {key: _zero() for key in keys}
    for right_id, counted in result.counted.items():
        right = rights[right_id]
        turnout["area"] += right["area"]
        turnout["heads"] += right["heads"]
        # An election ballot approving nobody still counts in turnout (an abstention).
        chosen = counted.choice["approve"] if definition.is_election else [counted.choice["option"]]
        for key in chosen:
            counts[key]["area"] += right["area"]
            counts[key]["heads"] += right["heads"]
    a, h = turnout["area"], turnout["heads"]
    quorum = quorum_reached(a, h, total_area, total_heads)
    tally = {
        "type": "tally",
        "vote_id": definition.vote_id,
        "size": size,
        "root": root,
        "totals": {"area": total_area, "heads": total_heads},
        "turnout": turnout,
        "quorum": quorum,
        "counts": counts,
        "paper": sum(1 for c in result.counted.values() if c.source == "paper"),
    }
    if definition.is_election:
        elected, tie = elect(definition.seats, definition.candidate_ids, counts, quorum, a, h)
        tally["elected"] = elected
        tally["tie"] = tie
    else:
        approve = counts["approve"]
        tally["passed"] = resolution_passes(definition.matter, quorum, approve["area"], approve["heads"], a, h)
    return tally
