"""Canonical JSON, strict base64url, hex and time encodings of linli-vote/1 (handbook §6 Encoding)."""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from datetime import datetime, timezone

MAX_SAFE_INT = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER: clients must encode ints identically


class CanonicalError(ValueError):
    """A value that has no canonical JSON form in linli-vote/1."""


def _check(value, path: str) -> None:
    # bool before int: bool is an int subclass and is allowed as itself.
    if value is None or value is True or value is False:
        return
    if isinstance(value, str):
        _check_str(value, path)
    elif isinstance(value, int):
        if not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise CanonicalError(f"{path}: integer {value} outside ±(2^53−1)")
    elif isinstance(value, float):
        raise CanonicalError(f"{path}: floats are not allowed")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object key {key!r} is not a string")
            if not key.isascii():
                raise CanonicalError(f"{path}: object key {key!r} is not ASCII")
            _check(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
    else:
        raise CanonicalError(f"{path}: type {type(value).__name__} is not allowed")


def _check_str(value: str, path: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise CanonicalError(f"{path}: string contains a lone surrogate") from None
        if not unicodedata.is_normalized("NFC", value):
            raise CanonicalError(f"{path}: string is not NFC-normalised")


def dumps(obj) -> bytes:
    """Encode an already-validated value canonically, without the validation walk (hot path)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical(obj) -> bytes:
    """The canonical JSON bytes of obj; raises CanonicalError for values outside linli-vote/1."""
    _check(obj, "$")
    return dumps(obj)


def check_canonical(obj) -> None:
    """Raise CanonicalError unless obj has a canonical JSON form."""
    _check(obj, "$")


# --- strict JSON parsing --------------------------------------------------------------------------


def _reject_float(text: str):
    raise CanonicalError(f"number {text} is not an integer")


def _reject_constant(text: str):
    raise CanonicalError(f"{text} is not JSON")


def _pairs_no_duplicates(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise CanonicalError(f"duplicate object key {key!r}")
            seen.add(key)
    return obj


def loads_strict(data: bytes | str):
    """Parse JSON refusing floats, NaN/Infinity and duplicate keys (ambiguous for other verifiers)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    return json.loads(
        data,
        parse_float=_reject_float,
        parse_constant=_reject_constant,
        object_pairs_hook=_pairs_no_duplicates,
    )


# --- base64url and hex ----------------------------------------------------------------------------

_B64U = re.compile(r"[A-Za-z0-9_-]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def b64u_encode(data: bytes) -> str:
    """Unpadded base64url of data."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Strict unpadded base64url: rejects padding, other alphabets and non-zero trailing bits."""
    if not isinstance(text, str) or not _B64U.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError(f"not unpadded base64url: {text!r:.60}")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError(f"not unpadded base64url: {text!r:.60}") from None
    # Unused low bits must be zero, otherwise two strings would name the same key or signature.
    if b64u_encode(raw) != text:
        raise ValueError(f"non-canonical base64url: {text!r:.60}")
    return raw


def is_hash_hex(text) -> bool:
    """True iff text is a lowercase hex SHA-256."""
    return isinstance(text, str) and _HEX64.fullmatch(text) is not None


def hex_to_hash(text: str) -> bytes:
    """Decode a lowercase hex SHA-256 into 32 bytes."""
    if not is_hash_hex(text):
        raise ValueError(f"not a lowercase hex SHA-256: {text!r:.80}")
    return bytes.fromhex(text)


# --- time -----------------------------------------------------------------------------------------

_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{6}))?Z")


def format_time(moment: datetime) -> str:
    """UTC 'YYYY-MM-DDTHH:MM:SSZ'; sub-seconds are truncated so a time never moves later."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: give an aware datetime (UTC)")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_time_micro(moment: datetime) -> str:
    """UTC 'YYYY-MM-DDTHH:MM:SS.ffffffZ'."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: give an aware datetime (UTC)")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Parse 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z' into an aware UTC datetime; ValueError otherwise."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a UTC time YYYY-MM-DDTHH:MM:SS[.ffffff]Z: {text!r:.60}")
    year, month, day, hour, minute, second, micro = match.groups()
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second),
        int(micro) if micro else 0, tzinfo=timezone.utc,
    )  # fmt: skip


def is_time(text) -> bool:
    """True iff text is a valid protocol time."""
    try:
        parse_time(text)
    except ValueError:
        return False
    return True
