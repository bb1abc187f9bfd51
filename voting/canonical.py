"""Canonical JSON, strict base64url, hex and time encodings of linli-vote/1 (docs/protocol.md §1)."""

from __future__ import annotations

import base64
import binascii
import functools
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


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(obj) -> bytes:
    """Encode an already-validated value canonically, without the validation walk (hot path)."""
    # surrogatepass: the verifier hashes whatever it was given; validation reports lone surrogates.
    return _ENCODER.encode(obj).encode("utf-8", "surrogatepass")


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


_B64U_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Characters allowed last when the final group carries 2 (len % 4 == 2) or 3 (len % 4 == 3) bytes
# worth of bits: the unused low bits must be zero, otherwise two strings would name the same bytes.
_LAST_OK = {2: frozenset(_B64U_ALPHABET[::16]), 3: frozenset(_B64U_ALPHABET[::4])}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64u_decode(text: str) -> bytes:
    """Strict unpadded base64url: rejects padding, other alphabets and non-zero trailing bits."""
    if not isinstance(text, str) or not _B64U.fullmatch(text):
        raise ValueError(f"not unpadded base64url: {text!r:.60}")
    rem = len(text) % 4
    if rem == 1 or (rem and text[-1] not in _LAST_OK[rem]):
        raise ValueError(f"not canonical unpadded base64url: {text!r:.60}")
    return binascii.a2b_base64(text.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(text) % 4))


def b64u_last_char_ok(text: str) -> bool:
    """True iff the last character leaves no non-zero unused bits (text already matched the alphabet)."""
    rem = len(text) % 4
    return rem == 0 or (rem != 1 and text[-1] in _LAST_OK[rem])


def is_hash_hex(text) -> bool:
    """True iff text is a lowercase hex SHA-256."""
    return isinstance(text, str) and _HEX64.fullmatch(text) is not None


def hex_to_hash(text: str) -> bytes:
    """Decode a lowercase hex SHA-256 into 32 bytes."""
    if not is_hash_hex(text):
        raise ValueError(f"not a lowercase hex SHA-256: {text!r:.80}")
    return bytes.fromhex(text)


# --- time -----------------------------------------------------------------------------------------

# ASCII digits only: \d would also take full-width or Arabic-Indic digits, which a JavaScript client refuses.
_TIME = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{6}))?Z")


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
    if not isinstance(text, str):
        raise ValueError(f"not a UTC time YYYY-MM-DDTHH:MM:SS[.ffffff]Z: {text!r:.60}")
    return _parse_time(text)


@functools.lru_cache(maxsize=4096)  # a log names the same second many times (received_at, signed_at)
def _parse_time(text: str) -> datetime:
    match = _TIME.fullmatch(text)
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
