"""Canonical JSON, strict base64url, strict JSON parsing and protocol times (docs/protocol.md §1)."""

import json
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting.canonical import (
    MAX_SAFE_INT,
    CanonicalError,
    b64u_decode,
    b64u_encode,
    canonical,
    format_time,
    format_time_micro,
    loads_strict,
    parse_time,
)

nfc_text = st.text(max_size=20).map(lambda s: unicodedata.normalize("NFC", s)).filter(
    lambda s: all(not 0xD800 <= ord(c) <= 0xDFFF for c in s)
)
ascii_keys = st.text(alphabet=st.characters(max_codepoint=127), max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INT, MAX_SAFE_INT) | nfc_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(ascii_keys, children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_equals_the_normative_python_expression(value):
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(value) == expected
    assert canonical(json.loads(expected)) == expected  # stable under a round trip


def test_known_bytes_for_chinese_emoji_escapes_and_line_separator():
    value = {"b": "中文😀\u2028", "a": "\n\"\\\x1f\x7f", "10": 1, "9": [True, None, -3]}
    assert canonical(value) == (
        b'{"10":1,"9":[true,null,-3],"a":"\\n\\"\\\\\\u001f\x7f","b":"\xe4\xb8\xad\xe6\x96\x87\xf0\x9f\x98\x80\xe2\x80\xa8"}'
    )


@pytest.mark.parametrize("value", [MAX_SAFE_INT, -MAX_SAFE_INT, 0, True, False, None, "", [], {}])
def test_accepted_edge_values(value):
    assert canonical(value) == json.dumps(value, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "value, reason",
    [
        (1.0, "float"),
        (float("nan"), "float"),
        ({"a": [0.5]}, "float"),
        (MAX_SAFE_INT + 1, "outside"),
        (-MAX_SAFE_INT - 1, "outside"),
        ({"é": 1}, "not ASCII"),
        ({1: "a"}, "not a string"),
        ("e\u0301", "NFC"),  # e + combining acute: NFD, not NFC
        ({"k": ["x", "A\u030a"]}, "NFC"),  # A + combining ring above
        ("\ud800", "surrogate"),
        (b"bytes", "type bytes"),
        ({1, 2}, "type set"),
        (datetime(2025, 1, 1, tzinfo=timezone.utc), "type datetime"),
    ],
)
def test_refused_values(value, reason):
    with pytest.raises(CanonicalError, match=reason):
        canonical(value)


def test_canonical_error_is_a_value_error_and_names_the_path():
    with pytest.raises(ValueError, match=r"\$\.a\[1\]\.b"):
        canonical({"a": [1, {"b": 2.5}]})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_b64u_round_trip_without_padding(raw):
    text = b64u_encode(raw)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64u_decode(text) == raw


@pytest.mark.parametrize(
    "text",
    ["AA==", "AAA=", "A", "AAAAA", "a+bc", "a/bc", "ab cd", "ab\ncd", "ÄÄÄÄ", "AB", "AAB", "AAAAAB", None, 12],
)
def test_b64u_strictness(text):
    # "AB"/"AAB"/"AAAAAB" carry non-zero unused bits: another spelling of bytes that have a canonical one.
    with pytest.raises(ValueError):
        b64u_decode(text)


def test_b64u_trailing_bits_canonical_forms_accepted():
    assert b64u_decode("AA") == b"\x00"
    assert b64u_decode("AAA") == b"\x00\x00"
    assert b64u_decode("") == b""


@pytest.mark.parametrize(
    "text, reason",
    [
        ('{"a": 1.5}', "not an integer"),
        ('{"a": 1e3}', "not an integer"),
        ('{"a": 1.0}', "not an integer"),
        ('{"a": NaN}', "not JSON"),
        ('{"a": -Infinity}', "not JSON"),
        ('{"a": 1, "a": 2}', "duplicate"),
        ('{"x": {"b": 1, "b": 1}}', "duplicate"),
    ],
)
def test_loads_strict_refuses(text, reason):
    with pytest.raises(CanonicalError, match=reason):
        loads_strict(text)


def test_loads_strict_accepts_plain_json():
    assert loads_strict(b'{"a":[1,-2,"\\u4e2d",true,null]}') == {"a": [1, -2, "中", True, None]}


def test_format_time_is_utc_seconds_and_truncates():
    shanghai = timezone(timedelta(hours=8))
    moment = datetime(2025, 3, 1, 8, 0, 5, 999999, tzinfo=shanghai)
    assert format_time(moment) == "2025-03-01T00:00:05Z"
    assert format_time_micro(moment) == "2025-03-01T00:00:05.999999Z"
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2025, 1, 1))


def test_parse_time_accepts_optional_microseconds():
    assert parse_time("2025-03-01T00:00:05Z") == datetime(2025, 3, 1, 0, 0, 5, tzinfo=timezone.utc)
    assert parse_time("2025-03-01T00:00:05.000001Z") == datetime(2025, 3, 1, 0, 0, 5, 1, tzinfo=timezone.utc)
    assert parse_time("2025-03-01T00:00:05.5Z".replace(".5", ".500000")).microsecond == 500000


@pytest.mark.parametrize(
    "text",
    ["2025-03-01T00:00:05", "2025-03-01T00:00:05z", "2025-03-01T00:00:05+00:00", "2025-03-01 00:00:05Z",
     "2025-03-01T00:00:05.5Z", "2025-02-30T00:00:00Z", "2025-03-01T24:00:00Z", "20250301T000005Z", "", None, 5,
     "２０２５-03-01T00:00:05Z", "2025-03-01T00:00:0٥Z", "2025-03-01T00:00:05.00000٥Z"],  # non-ASCII digits
)  # fmt: skip
def test_parse_time_refuses(text):
    with pytest.raises(ValueError):
        parse_time(text)


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(timezone.utc)))
def test_time_round_trip(moment):
    assert parse_time(format_time_micro(moment)) == moment
    assert parse_time(format_time(moment)) == moment.replace(microsecond=0)
