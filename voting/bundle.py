"""The audit bundle of a closed vote: assembly, serialisation and top-level shape (docs/protocol.md §10)."""

from __future__ import annotations

import json
from typing import Sequence

from . import PROTOCOL
from .canonical import CanonicalError, loads_strict

BUNDLE_KEYS = frozenset({"protocol", "roll", "entries", "tree_head", "tally"})


class BundleError(ValueError):
    """A file that is not a linli-vote/1 bundle (or receipt) at all."""


def build_bundle(roll: Sequence[dict], entries: Sequence[dict], tree_head: dict, tally: dict) -> dict:
    """The bundle object: roll, all log entries in order, the final tree head and the signed tally."""
    return {"protocol": PROTOCOL, "roll": list(roll), "entries": list(entries), "tree_head": tree_head, "tally": tally}


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
    """Raise BundleError unless bundle has the five top-level fields with the right JSON types."""
    if not isinstance(bundle, dict):
        raise BundleError("the bundle must be a JSON object")
    missing = sorted(BUNDLE_KEYS - bundle.keys())
    if missing:
        raise BundleError(f"the bundle lacks {', '.join(missing)}")
    extra = sorted(bundle.keys() - BUNDLE_KEYS)
    if extra:
        raise BundleError(f"the bundle has unexpected fields {', '.join(extra)}")
    if bundle["protocol"] != PROTOCOL:
        raise BundleError(f"the bundle's protocol is {bundle['protocol']!r}, not {PROTOCOL!r}")
    if not isinstance(bundle["roll"], list):
        raise BundleError("the bundle's roll must be a list")
    if not isinstance(bundle["entries"], list) or not bundle["entries"]:
        raise BundleError("the bundle's entries must be a non-empty list")
    for key in ("tree_head", "tally"):
        if not isinstance(bundle[key], dict):
            raise BundleError(f"the bundle's {key} must be an object")


def load_bundle(data: bytes) -> dict:
    """Parse and shape-check bundle bytes; BundleError if it is not a bundle."""
    bundle = parse_json_file(data, "the bundle")
    check_bundle_shape(bundle)
    return bundle
