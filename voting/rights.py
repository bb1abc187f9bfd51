"""Voting rights (表决权) from exclusive parts and their owners, per docs/protocol.md §3."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class PartInput:
    """One exclusive part (专有部分) as the registry knows it."""

    part_id: str  # opaque, stable id of the exclusive part
    label: str  # "building-unit-room", e.g. "3-2-201"
    area: int  # 0.01 m², positive integer
    owners: frozenset[str]  # opaque stable owner ids (the developer is ONE owner id per community)


@dataclass(frozen=True)
class Right:
    """One voting right: the parts whose owner set is identical; 1 head, summed area."""

    right_id: str
    label: str
    area: int
    heads: int
    part_ids: tuple[str, ...]
    owners: frozenset[str]


_DIGITS = re.compile(r"(\d+)")


def natural_key(label: str) -> tuple:
    """Sort key comparing digit runs as numbers, so "3-2-201" sorts before "10-1-101"."""
    parts = _DIGITS.split(label)
    # Even positions are text, odd positions digit runs; (0, text) / (1, int) keeps the tuple
    # comparable, and the raw label last breaks ties such as "01" vs "1" deterministically.
    key = tuple((1, int(p)) if i % 2 else (0, p) for i, p in enumerate(parts))
    return key, label


def right_id_for(owners: Iterable[str]) -> str:
    """The deterministic right id of an owner set: "r" + 16 hex of sha256 of the sorted ids."""
    digest = hashlib.sha256("\n".join(sorted(owners)).encode("utf-8")).hexdigest()
    return "r" + digest[:16]


def _check_part(part: PartInput) -> None:
    if not isinstance(part.part_id, str) or not part.part_id:
        raise ValueError(f"part {part.part_id!r}: part_id must be a non-empty string")
    # bool is an int subclass; True is not an area.
    if not isinstance(part.area, int) or isinstance(part.area, bool) or part.area <= 0:
        raise ValueError(f"part {part.part_id!r}: area must be a positive integer (0.01 m²)")
    if not part.owners:
        raise ValueError(f"part {part.part_id!r}: has no owners")
    # A newline inside an id would let {"a\nb"} and {"a", "b"} share a right_id.
    if any(not isinstance(o, str) or not o or "\n" in o for o in part.owners):
        raise ValueError(f"part {part.part_id!r}: owner ids must be non-empty strings without newlines")


def compute_rights(parts: Iterable[PartInput]) -> list[Right]:
    """Voting rights (docs/protocol.md §3): parts with an identical owner set form one right. Sorted by right_id."""
    groups: dict[frozenset[str], list[PartInput]] = {}
    seen: set[str] = set()
    for part in parts:
        _check_part(part)
        if part.part_id in seen:
            raise ValueError(f"duplicate part_id {part.part_id!r}")
        seen.add(part.part_id)
        groups.setdefault(frozenset(part.owners), []).append(part)

    rights = []
    for owners, members in groups.items():
        members.sort(key=lambda p: (natural_key(p.label), p.part_id))
        rights.append(
            Right(
                right_id=right_id_for(owners),
                label=",".join(p.label for p in members),
                area=sum(p.area for p in members),
                heads=1,
                part_ids=tuple(p.part_id for p in members),
                owners=owners,
            )
        )
    rights.sort(key=lambda r: r.right_id)
    for a, b in zip(rights, rights[1:]):
        if a.right_id == b.right_id:  # 64-bit prefix collision: refuse rather than merge two rights
            raise ValueError(f"right_id collision {a.right_id!r}")
    return rights
