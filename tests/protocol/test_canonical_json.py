"""Tests for myelin.protocol.canonical_json (appendices §Canonical JSON, §Unpadded Base64)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelin.protocol.canonical_json import (
    MAX_CANONICAL_INT,
    MAX_NESTING_DEPTH,
    MIN_CANONICAL_INT,
    check_canonical_values,
    decode_base64,
    decode_base64_urlsafe,
    encode_base64,
    encode_base64_urlsafe,
    encode_canonical_json,
    format_json_path,
    parse_json_strict,
)
from myelin.protocol.errors import BadJson

# Every example of appendices §Canonical JSON "Examples", verbatim: (given, produced).
SPEC_CANONICAL_EXAMPLES: list[tuple[str, str]] = [
    ("{}", "{}"),
    (
        """{
    "one": 1,
    "two": "Two"
}""",
        '{"one":1,"two":"Two"}',
    ),
    (
        """{
    "b": "2",
    "a": "1"
}""",
        '{"a":"1","b":"2"}',
    ),
    ('{"b":"2","a":"1"}', '{"a":"1","b":"2"}'),
    (
        """{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}""",
        '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",'
        '"three_pids":[{"address":"john.doe@example.org","medium":"email"},'
        '{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ),
    (
        """{
    "a": "日本語"
}""",
        '{"a":"日本語"}',
    ),
    (
        """{
    "本": 2,
    "日": 1
}""",
        '{"日":1,"本":2}',
    ),
    (
        """{
    "a": "\\u65E5"
}""",
        '{"a":"日"}',
    ),
    (
        """{
    "a": null
}""",
        '{"a":null}',
    ),
    (
        """{
    "a": -0,
    "b": 1e10
}""",
        '{"a":0,"b":10000000000}',
    ),
]


@pytest.mark.parametrize(("given_json", "expected"), SPEC_CANONICAL_EXAMPLES)
def test_spec_canonical_examples(given_json: str, expected: str) -> None:
    value = parse_json_strict(given_json.encode("utf-8"))
    assert encode_canonical_json(value) == expected.encode("utf-8")


def test_spec_examples_all_present() -> None:
    # appendices §Canonical JSON lists ten examples.
    assert len(SPEC_CANONICAL_EXAMPLES) == 10


def _spec_reference_canonical_json(value: Any) -> bytes:
    # The Python snippet given in appendices §Canonical JSON.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "UTF-8"
    )


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=MIN_CANONICAL_INT, max_value=MAX_CANONICAL_INT)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_matches_spec_reference_encoder(value: Any) -> None:
    assert encode_canonical_json(value) == _spec_reference_canonical_json(value)


@given(json_values)
def test_round_trip(value: Any) -> None:
    encoded = encode_canonical_json(value)
    assert parse_json_strict(encoded) == value
    assert encode_canonical_json(parse_json_strict(encoded)) == encoded


def test_escapes_follow_grammar() -> None:
    # Grammar: control characters escaped (short forms where they exist, otherwise
    # lowercase \u00XX), `"` and `\` escaped; everything else, DEL and non-ASCII
    # included, emitted raw as UTF-8.
    value = {"s": '\b\t\n\f\r"\\\x00\x1f\x7fé\u2028/'}
    assert encode_canonical_json(value) == (
        '{"s":"\\b\\t\\n\\f\\r\\"\\\\\\u0000\\u001f\x7fé\u2028/"}'.encode()
    )


def test_keys_sorted_by_code_point() -> None:
    value = {"b": 1, "B": 2, "a": 3, "é": 4, "\U0001f600": 5, "ｚ": 6}
    assert encode_canonical_json(value) == '{"B":2,"a":3,"b":1,"é":4,"ｚ":6,"😀":5}'.encode()


def test_integer_range_boundaries() -> None:
    assert encode_canonical_json([MIN_CANONICAL_INT, MAX_CANONICAL_INT]) == (
        b"[-9007199254740991,9007199254740991]"
    )
    with pytest.raises(BadJson, match=r"\$\[1\]"):
        encode_canonical_json([0, MAX_CANONICAL_INT + 1])
    with pytest.raises(BadJson, match=r"\$\.a\.b"):
        encode_canonical_json({"a": {"b": MIN_CANONICAL_INT - 1}})


def test_floats_rejected_with_path() -> None:
    with pytest.raises(BadJson) as exc_info:
        check_canonical_values({"content": {"users": {"@bob:localhost": 50.57}}})
    assert '$.content.users["@bob:localhost"]' in exc_info.value.message
    assert exc_info.value.errcode == "M_BAD_JSON"


def test_booleans_are_not_integers() -> None:
    assert encode_canonical_json([True, False, None]) == b"[true,false,null]"


def test_non_json_values_rejected() -> None:
    with pytest.raises(BadJson, match="bytes"):
        encode_canonical_json({"a": b"x"})
    with pytest.raises(BadJson, match="not a string"):
        encode_canonical_json({1: "x"})
    with pytest.raises(BadJson, match="surrogate"):
        encode_canonical_json({"a": "\ud800"})


def test_lenient_mode_for_old_rooms() -> None:
    # rooms/v1.md §Canonical JSON: v1-v5 servers must not strictly enforce.
    assert encode_canonical_json({"a": 50.57, "b": 2**60}, strict=False) == (
        b'{"a":50.57,"b":1152921504606846976}'
    )
    check_canonical_values({"a": 1.5}, strict=False)
    with pytest.raises(BadJson):
        encode_canonical_json({"a": float("nan")}, strict=False)


def test_format_json_path() -> None:
    assert format_json_path([]) == "$"
    assert format_json_path(["content", "m.relates_to", 0, "a_b"]) == (
        '$.content["m.relates_to"][0].a_b'
    )


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"x": {"a": 1, "a": 1}}',
        '{"a": NaN}',
        "[Infinity]",
        "[-Infinity]",
        "{",
        '{"a": 1,}',
        "",
    ],
)
def test_parse_json_strict_rejects(text: str) -> None:
    with pytest.raises(BadJson):
        parse_json_strict(text)


def test_parse_json_strict_rejects_invalid_utf8() -> None:
    with pytest.raises(BadJson, match="UTF-8"):
        parse_json_strict(b'{"a": "\xff"}')


def test_parse_json_strict_numbers() -> None:
    parsed = parse_json_strict(b"[1e10, -0, -0.0, 2.0, 1.5, 1e400, 12345678901234567890]")
    assert parsed[:4] == [10000000000, 0, 0, 2]
    assert all(type(v) is int for v in parsed[:4])
    assert parsed[4] == 1.5 and isinstance(parsed[4], float)
    assert isinstance(parsed[5], float)  # too large for an integer: stays a float...
    with pytest.raises(BadJson):  # ...which canonical JSON rejects,
        check_canonical_values(parsed[5])
    with pytest.raises(BadJson):  # as it rejects the out-of-range integer.
        check_canonical_values(parsed[6])


def test_parse_json_strict_huge_exponent_is_cheap() -> None:
    assert isinstance(parse_json_strict("1e999999999"), float)


# appendices §Unpadded Base64, the examples verbatim.
BASE64_EXAMPLES = [
    (b"", ""),
    (b"f", "Zg"),
    (b"fo", "Zm8"),
    (b"foo", "Zm9v"),
    (b"foob", "Zm9vYg"),
    (b"fooba", "Zm9vYmE"),
    (b"foobar", "Zm9vYmFy"),
]


@pytest.mark.parametrize(("raw", "encoded"), BASE64_EXAMPLES)
def test_unpadded_base64_examples(raw: bytes, encoded: str) -> None:
    assert encode_base64(raw) == encoded
    assert decode_base64(encoded) == raw
    # "implementations SHOULD accept input with or without padding characters"
    assert decode_base64(encoded + "=" * (-len(encoded) % 4)) == raw


def test_urlsafe_base64() -> None:
    raw = bytes([0xFB, 0xFF, 0xBF])
    assert encode_base64(raw) == "+/+/"
    assert encode_base64_urlsafe(raw) == "-_-_"
    assert decode_base64_urlsafe("-_-_") == raw
    with pytest.raises(ValueError):
        decode_base64_urlsafe("+/+/")
    with pytest.raises(ValueError):
        decode_base64("-_-_")


@pytest.mark.parametrize("bad", ["Z", "Zm9vY", "Zg===", "Z g", "Zm9v!"])
def test_base64_decode_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        decode_base64(bad)


@given(st.binary(max_size=64))
def test_base64_round_trip(raw: bytes) -> None:
    assert decode_base64(encode_base64(raw)) == raw
    assert decode_base64_urlsafe(encode_base64_urlsafe(raw)) == raw
    assert "=" not in encode_base64(raw)


def test_nesting_bound_and_cycles() -> None:
    deep: list[Any] = []
    for _ in range(MAX_NESTING_DEPTH + 1):
        deep = [deep]
    with pytest.raises(BadJson, match="nested"):
        encode_canonical_json(deep)
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(BadJson, match="nested"):
        check_canonical_values(cyclic)
    ok: list[Any] = []
    for _ in range(100):
        ok = [ok]
    assert encode_canonical_json(ok) == b"[" * 100 + b"[]" + b"]" * 100
