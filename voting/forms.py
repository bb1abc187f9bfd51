"""The small shape checks every linli-vote object is built from (docs/protocol.md §1): identifiers,
keys, signatures, nonces, integers, texts, times, and exact field sets."""

from __future__ import annotations

import re
from datetime import datetime

from .canonical import MAX_SAFE_INT, CanonicalError, b64u_last_char_ok, check_canonical, format_time, parse_time


class ProtocolError(ValueError):
    """An object that does not follow linli-vote/1 or linli-vote/1.1."""


# Identifiers (vote, community, right, candidate, staff, witness) are short ASCII tokens, so that
# sorting by them is the same byte order in every language and they never need escaping.
_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_B64U_32 = re.compile(r"[A-Za-z0-9_-]{43}")
_B64U_64 = re.compile(r"[A-Za-z0-9_-]{86}")
_B64U_16 = re.compile(r"[A-Za-z0-9_-]{22}")


def is_id(value) -> bool:
    """True iff value is a protocol identifier: 1–64 of A-Z a-z 0-9 . _ : -."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def is_int(value) -> bool:
    """True iff value is an integer (not a bool) within ±(2^53 − 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_SAFE_INT <= value <= MAX_SAFE_INT


def _b64u_fixed(value, pattern: re.Pattern) -> bool:
    # The pattern fixes alphabet and length; the last character must leave no stray bits.
    return isinstance(value, str) and pattern.fullmatch(value) is not None and b64u_last_char_ok(value)


def is_public_key(value) -> bool:
    """True iff value is the b64u of 32 bytes (an Ed25519 public key)."""
    return _b64u_fixed(value, _B64U_32)


def is_signature(value) -> bool:
    """True iff value is the b64u of 64 bytes (an Ed25519 signature)."""
    return _b64u_fixed(value, _B64U_64)


def is_nonce(value) -> bool:
    """True iff value is the b64u of 16 bytes."""
    return _b64u_fixed(value, _B64U_16)


def is_text(value) -> bool:
    """A non-empty human-readable string with a canonical form (NFC, no lone surrogates)."""
    if not isinstance(value, str) or not value:
        return False
    try:
        check_canonical(value)
    except CanonicalError:
        return False
    return True


def require(ok: bool, message: str) -> None:
    """Raise ProtocolError(message) unless ok."""
    if not ok:
        raise ProtocolError(message)


def exact_keys(obj, expected: frozenset, what: str) -> None:
    """Raise ProtocolError unless obj is an object with exactly the fields `expected`."""
    if not isinstance(obj, dict):
        raise ProtocolError(f"{what} must be an object")
    if obj.keys() != expected:
        missing = sorted(expected - obj.keys())
        extra = sorted(obj.keys() - expected)
        detail = "; ".join(x for x in (missing and f"missing {missing}", extra and f"unexpected {extra}") if x)
        raise ProtocolError(f"{what}: {detail}")


def time_field(obj: dict, key: str, what: str) -> datetime:
    """obj[key] parsed as a protocol time; ProtocolError otherwise."""
    try:
        return parse_time(obj[key])
    except ValueError:
        raise ProtocolError(f"{what}.{key} is not a UTC time YYYY-MM-DDTHH:MM:SS[.ffffff]Z") from None


def time_str(value: str | datetime, name: str) -> str:
    """A protocol time from a datetime (truncated to whole seconds) or a checked string."""
    if isinstance(value, datetime):
        return format_time(value)
    try:
        parse_time(value)
    except ValueError as exc:
        raise ProtocolError(f"{name}: {exc}") from None
    return value
