"""The audit bundle of a closed vote: assembly, serialisation and top-level shape (docs/protocol.md §10)."""

from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from typing import Iterator, Sequence

from . import PROTOCOL_1, PROTOCOLS
from .canonical import CanonicalError, loads_strict

BUNDLE_KEYS_1 = frozenset({"protocol", "roll", "entries", "tree_head", "tally"})
BUNDLE_KEYS = BUNDLE_KEYS_1 | {"cosignatures"}  # linli-vote/1.1


class BundleError(ValueError):
    """A file that is not a linli-vote/1 bundle (or receipt) at all."""


def build_bundle(roll: Sequence[dict], entries: Sequence[dict], tree_head: dict, tally: dict,
                 cosignatures: Sequence[dict] = ()) -> dict:  # fmt: skip
    """The bundle object: roll, all log entries in order, the final tree head, the signed tally and,
    for linli-vote/1.1 (the definition's protocol), the co-signatures sorted by size then witness."""
    protocol = entries[0]["protocol"]
    bundle = {"protocol": protocol, "roll": list(roll), "entries": list(entries), "tree_head": tree_head, "tally": tally}
    if protocol != PROTOCOL_1:
        bundle["cosignatures"] = sorted(cosignatures, key=lambda c: (c["size"], c["witness"], c["root"]))
    elif cosignatures:
        raise ValueError("a linli-vote/1 bundle has no co-signatures")
    return bundle


def dump_json(obj, pretty: bool = False) -> bytes:
    """UTF-8 JSON for files people download; the verifier re-canonicalises, so layout is free."""
    if pretty:  # field order as built (type first) reads better; any order verifies the same
        return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def parse_json_file(data: bytes, what: str = "file"):
    """Strictly parse JSON bytes; BundleError with a readable reason otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    try:
        return loads_strict(text)
    except CanonicalError as exc:
        raise BundleError(f"{what} is not linli-vote/1 JSON: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BundleError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BundleError(f"{what} is nested too deeply") from None


def check_bundle_shape(bundle) -> None:
    """Raise BundleError unless bundle has the top-level fields of its protocol with the right JSON types:
    five for linli-vote/1, six (with `cosignatures`) for linli-vote/1.1."""
    if not isinstance(bundle, dict):
        raise BundleError("the bundle must be a JSON object")
    if bundle.get("protocol") not in PROTOCOLS:
        shown = repr(bundle["protocol"]) if "protocol" in bundle else "missing"
        raise BundleError(f"the bundle's protocol is {shown}, not one of {', '.join(PROTOCOLS)}")
    expected = BUNDLE_KEYS_1 if bundle["protocol"] == PROTOCOL_1 else BUNDLE_KEYS
    missing = sorted(expected - bundle.keys())
    if missing:
        raise BundleError(f"the bundle lacks {', '.join(missing)}")
    extra = sorted(bundle.keys() - expected)
    if extra:
        raise BundleError(f"the bundle has unexpected fields {', '.join(extra)}")
    if "cosignatures" in bundle and not isinstance(bundle["cosignatures"], list):
        raise BundleError("the bundle's cosignatures must be a list")
    if not isinstance(bundle["roll"], list):
        raise BundleError("the bundle's roll must be a list")
    if not isinstance(bundle["entries"], list) or not bundle["entries"]:
        raise BundleError("the bundle's entries must be a non-empty list")
    for key in ("tree_head", "tally"):
        if not isinstance(bundle[key], dict):
            raise BundleError(f"the bundle's {key} must be an object")


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Parsing and checking a large bundle makes millions of small objects and frees none of them
    until the end, and makes no reference cycles: Python's cyclic collector would walk them all
    again at random moments (a fifth of a 100,000-ballot verification, measured), finding nothing.
    Reference counting still frees everything; the collector's state is restored afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_bundle(data: bytes) -> dict:
    """Parse and shape-check bundle bytes; BundleError if it is not a bundle."""
    with without_cycle_collection():
        bundle = parse_json_file(data, "the bundle")
    check_bundle_shape(bundle)
    return bundle
