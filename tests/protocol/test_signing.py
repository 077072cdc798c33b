"""Tests for myelin.protocol.events.signing (appendices §Signing JSON, test vectors)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from myelin.protocol.canonical_json import decode_base64
from myelin.protocol.errors import BadJson, SignatureError
from myelin.protocol.events.signing import (
    decode_signing_key_base64,
    decode_verify_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
    key_id_of,
    read_signing_keys,
    sign_json,
    signature_key_ids,
    verify_json,
    write_signing_keys,
)

# appendices §Cryptographic Test Vectors §Signing Key.
SIGNING_KEY_SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
# The spec's seed text has non-zero trailing pad bits (final "1"); the canonical
# unpadded Base64 of the same 32 bytes ends in "0".
CANONICAL_SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0"
SERVER_NAME = "domain"
KEY_ID = "ed25519:1"


@pytest.fixture
def spec_key() -> Any:
    return decode_signing_key_base64("ed25519", "1", SIGNING_KEY_SEED)


# appendices §JSON Signing: (given, expected signed output).
JSON_SIGNING_VECTORS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {},
        {
            "signatures": {
                "domain": {
                    "ed25519:1": "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5Q"
                    "V/7Xg4ahLwYGYZzuHGZKM5ZAQ"
                }
            }
        },
    ),
    (
        {"one": 1, "two": "Two"},
        {
            "one": 1,
            "signatures": {
                "domain": {
                    "ed25519:1": "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7"
                    "vBZhG6kYdD13EIMJpvhJI+6Bw"
                }
            },
            "two": "Two",
        },
    ),
]


@pytest.mark.parametrize(("given", "expected"), JSON_SIGNING_VECTORS)
def test_spec_json_signing_vectors(
    spec_key: Any, given: dict[str, Any], expected: dict[str, Any]
) -> None:
    original = copy.deepcopy(given)
    signed = sign_json(given, SERVER_NAME, spec_key)
    assert signed == expected
    assert given == original  # not mutated
    verify_json(signed, SERVER_NAME, KEY_ID, get_verify_key(spec_key))


def test_spec_key_identity(spec_key: Any) -> None:
    assert key_id_of(spec_key) == KEY_ID
    assert encode_signing_key_base64(spec_key) == CANONICAL_SEED
    assert decode_base64(CANONICAL_SEED) == decode_base64(SIGNING_KEY_SEED)
    verify_key = get_verify_key(spec_key)
    assert key_id_of(verify_key) == KEY_ID
    # Round trip of the public key through its published form.
    again = decode_verify_key_base64("ed25519", "1", encode_verify_key_base64(verify_key))
    assert again.encode() == verify_key.encode()


def test_signing_details_example_shape(spec_key: Any) -> None:
    # appendices §Signing Details example: `unsigned` is not covered and is kept;
    # existing signatures of other entities are kept.
    obj = {
        "name": "example.org",
        "signing_keys": {"ed25519:1": "XSl0kuyvrXNj6A+7/tkrB9sxSbRi08Of5uRhxOqZtEQ"},
        "unsigned": {"age_ts": 922834800000},
        "signatures": {"other.org": {"ed25519:x": "abc"}},
    }
    signed = sign_json(obj, "example.org", spec_key)
    assert signed["unsigned"] == {"age_ts": 922834800000}
    assert signed["signatures"]["other.org"] == {"ed25519:x": "abc"}
    bare = {k: v for k, v in obj.items() if k not in ("unsigned", "signatures")}
    assert (
        signed["signatures"]["example.org"]
        == (sign_json(bare, "example.org", spec_key)["signatures"]["example.org"])
    )
    # Changing unsigned or adding signatures doesn't invalidate it.
    signed["unsigned"]["age_ts"] = 1
    signed["signatures"]["third.org"] = {"ed25519:y": "def"}
    verify_json(signed, "example.org", KEY_ID, get_verify_key(spec_key))


def test_second_key_adds_to_same_entity(spec_key: Any) -> None:
    other = generate_signing_key("2")
    signed = sign_json(sign_json({"a": 1}, "domain", spec_key), "domain", other)
    assert set(signed["signatures"]["domain"]) == {"ed25519:1", "ed25519:2"}
    verify_json(signed, "domain", "ed25519:1", get_verify_key(spec_key))
    verify_json(signed, "domain", "ed25519:2", get_verify_key(other))
    assert signature_key_ids(signed, "domain") == ["ed25519:1", "ed25519:2"]


def test_verify_failures(spec_key: Any) -> None:
    vk = get_verify_key(spec_key)
    signed = sign_json({"a": 1}, "domain", spec_key)

    with pytest.raises(SignatureError, match="no signatures"):
        verify_json({"a": 1}, "domain", KEY_ID, vk)
    with pytest.raises(SignatureError, match="not signed by other"):
        verify_json(signed, "other", KEY_ID, vk)
    with pytest.raises(SignatureError, match="no signature"):
        verify_json(signed, "domain", "ed25519:2", vk)
    with pytest.raises(SignatureError, match="Unsupported"):
        verify_json(signed, "domain", "curve25519:1", vk)

    tampered = copy.deepcopy(signed)
    tampered["a"] = 2
    with pytest.raises(SignatureError, match="does not verify"):
        verify_json(tampered, "domain", KEY_ID, vk)

    bad_b64 = copy.deepcopy(signed)
    bad_b64["signatures"]["domain"][KEY_ID] = "!!!"
    with pytest.raises(SignatureError, match="Base64"):
        verify_json(bad_b64, "domain", KEY_ID, vk)

    short = copy.deepcopy(signed)
    short["signatures"]["domain"][KEY_ID] = "AAAA"
    with pytest.raises(SignatureError):
        verify_json(short, "domain", KEY_ID, vk)

    wrong_key = get_verify_key(generate_signing_key("1"))
    with pytest.raises(SignatureError):
        verify_json(signed, "domain", KEY_ID, wrong_key)


def test_signature_error_is_forbidden() -> None:
    assert SignatureError("x").errcode == "M_FORBIDDEN"


def test_signature_key_ids_ignores_unknown_algorithms() -> None:
    obj = {"signatures": {"d": {"ed25519:a": "x", "foo:b": "y"}}}
    assert signature_key_ids(obj, "d") == ["ed25519:a"]
    assert signature_key_ids(obj, "e") == []
    assert signature_key_ids({}, "d") == []


def test_sign_json_strictness(spec_key: Any) -> None:
    with pytest.raises(BadJson):
        sign_json({"a": 1.5}, "domain", spec_key)
    signed = sign_json({"a": 1.5}, "domain", spec_key, strict=False)
    verify_json(signed, "domain", KEY_ID, get_verify_key(spec_key))


def test_key_file_round_trip(spec_key: Any) -> None:
    text = write_signing_keys([spec_key, generate_signing_key("a_bc")])
    lines = text.splitlines()
    assert lines[0] == f"ed25519 1 {CANONICAL_SEED}"
    assert lines[1].startswith("ed25519 a_bc ")
    assert text.endswith("\n")
    keys = read_signing_keys("# comment\n\n" + text)
    assert [key_id_of(k) for k in keys] == ["ed25519:1", "ed25519:a_bc"]
    assert keys[0].encode() == spec_key.encode()
    assert write_signing_keys(keys) == text


@pytest.mark.parametrize(
    "text",
    [
        "ed25519 1",
        "ed25519 1 abc def",
        f"rsa 1 {SIGNING_KEY_SEED}",
        "ed25519 1 AAAA",  # 3-byte seed
        "ed25519 1 !!!!",
    ],
)
def test_read_signing_keys_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="line 1"):
        read_signing_keys(text)


def test_generate_signing_key() -> None:
    key = generate_signing_key("v1")
    assert key_id_of(key) == "ed25519:v1"
    assert len(key.encode()) == 32
    assert len(encode_verify_key_base64(get_verify_key(key))) == 43
