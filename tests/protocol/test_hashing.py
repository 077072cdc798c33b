"""Tests for myelin.protocol.events.hashing (server-server §Signing Events,
§Calculating the reference/content hash; rooms/v3.md, v4.md §Event IDs;
appendices §Room IDs and §Cryptographic Test Vectors §Event Signing)."""

from __future__ import annotations

import base64
import copy
import hashlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelin.protocol.canonical_json import encode_base64
from myelin.protocol.errors import BadJson, SignatureError
from myelin.protocol.events import (
    add_hashes_and_signatures,
    check_content_hash,
    compute_content_hash,
    compute_event_id,
    compute_reference_hash,
    redact,
    room_id_from_create_event,
    verify_event_signature,
)
from myelin.protocol.events.signing import decode_signing_key_base64, get_verify_key
from myelin.protocol.identifiers import (
    EventId,
    RoomId,
    validate_event_id_for_format,
    validate_room_id_for_format,
)
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS, V1, V3, V4, V6, V10, V11, V12

SIGNING_KEY = decode_signing_key_base64(
    "ed25519", "1", "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
)
VERIFY_KEY = get_verify_key(SIGNING_KEY)

# appendices §Event Signing, first vector ("minimally-sized event").
MINIMAL_EVENT: dict[str, Any] = {
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "signatures": {},
    "hashes": {},
    "type": "X",
    "content": {},
    "prev_events": [],
    "auth_events": [],
    "depth": 3,
    "unsigned": {"age_ts": 1000000},
}
MINIMAL_EVENT_SIGNED: dict[str, Any] = {
    "auth_events": [],
    "content": {},
    "depth": 3,
    "hashes": {"sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"},
    "origin": "domain",
    "origin_server_ts": 1000000,
    "prev_events": [],
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "signatures": {
        "domain": {
            "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWb"
            "OoMszkwsQma+lYAg"
        }
    },
    "type": "X",
    "unsigned": {"age_ts": 1000000},
}

# appendices §Event Signing, second vector ("event containing redactable content").
MESSAGE_EVENT: dict[str, Any] = {
    "content": {"body": "Here is the message content"},
    "event_id": "$0:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {},
    "unsigned": {"age_ts": 1000000},
}
MESSAGE_EVENT_SIGNED: dict[str, Any] = {
    "content": {"body": "Here is the message content"},
    "event_id": "$0:domain",
    "hashes": {"sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"},
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {
        "domain": {
            "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHY"
            "MGCA5McEiVPdhzBA"
        }
    },
    "unsigned": {"age_ts": 1000000},
}

# The vectors predate v11: they include `origin`, which v11 redaction drops, so
# they hold for every version with the v1-v10 top-level key list.
PRE_V11 = [v for v in KNOWN_ROOM_VERSIONS.values() if v.redaction.keep_origin_membership_prev_state]


@pytest.mark.parametrize("version", PRE_V11, ids=lambda v: f"v{v.identifier}")
@pytest.mark.parametrize(
    ("given_event", "expected"),
    [(MINIMAL_EVENT, MINIMAL_EVENT_SIGNED), (MESSAGE_EVENT, MESSAGE_EVENT_SIGNED)],
    ids=["minimal", "message"],
)
def test_spec_event_signing_vectors(
    version: Any, given_event: dict[str, Any], expected: dict[str, Any]
) -> None:
    original = copy.deepcopy(given_event)
    signed = add_hashes_and_signatures(given_event, version, "domain", SIGNING_KEY)
    assert signed == expected
    assert given_event == original
    assert check_content_hash(signed)
    verify_event_signature(signed, version, "domain", "ed25519:1", VERIFY_KEY)
    # "this step should succeed whether we have been sent the full event or a
    # redacted copy" (server-server §Validating hashes and signatures).
    redacted = redact(signed, version.redaction)
    verify_event_signature(redacted, version, "domain", "ed25519:1", VERIFY_KEY)
    if given_event is MESSAGE_EVENT:
        # The redacted copy lost `body`, so its content hash no longer matches.
        assert not check_content_hash(redacted)


def test_v11_signature_differs_because_origin_is_not_protected() -> None:
    signed = add_hashes_and_signatures(MINIMAL_EVENT, V11, "domain", SIGNING_KEY)
    assert signed["hashes"] == MINIMAL_EVENT_SIGNED["hashes"]
    assert signed["signatures"] != MINIMAL_EVENT_SIGNED["signatures"]
    verify_event_signature(signed, V11, "domain", "ed25519:1", VERIFY_KEY)
    # Changing `origin` is therefore allowed in v11, but not before.
    moved = {**signed, "origin": "elsewhere"}
    verify_event_signature(moved, V11, "domain", "ed25519:1", VERIFY_KEY)
    moved_v10 = {
        **add_hashes_and_signatures(MINIMAL_EVENT, V10, "domain", SIGNING_KEY),
        "origin": "elsewhere",
    }
    with pytest.raises(SignatureError):
        verify_event_signature(moved_v10, V10, "domain", "ed25519:1", VERIFY_KEY)


def test_content_hash_excludes_unsigned_signatures_hashes() -> None:
    base = compute_content_hash(MINIMAL_EVENT)
    assert encode_base64(base) == "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"
    changed = {
        **MINIMAL_EVENT,
        "unsigned": {"x": 1},
        "signatures": {"a": {}},
        "hashes": {"sha256": "zzz"},
    }
    assert compute_content_hash(changed) == base
    assert compute_content_hash({**MINIMAL_EVENT, "depth": 4}) != base


def test_check_content_hash() -> None:
    signed = add_hashes_and_signatures(MESSAGE_EVENT, V1, "domain", SIGNING_KEY)
    assert check_content_hash(signed)
    assert not check_content_hash({**signed, "content": {"body": "changed"}})
    assert not check_content_hash({k: v for k, v in signed.items() if k != "hashes"})
    assert not check_content_hash({**signed, "hashes": {"sha256": "!!"}})
    assert not check_content_hash({**signed, "hashes": {"sha256": 1}})
    assert not check_content_hash({**signed, "hashes": []})


def _v4_event(**overrides: Any) -> dict[str, Any]:
    event = {
        "type": "m.room.message",
        "room_id": "!r:example.org",
        "sender": "@u:example.org",
        "origin_server_ts": 1700000000000,
        "depth": 12,
        "prev_events": ["$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"],
        "auth_events": [],
        "content": {"msgtype": "m.text", "body": "hello"},
    }
    event.update(overrides)
    return add_hashes_and_signatures(event, V10, "example.org", SIGNING_KEY)


def test_event_id_known_value() -> None:
    # Recompute by hand: redact (v4-v10 rules), drop signatures, canonical JSON
    # written out literally, SHA-256, URL-safe unpadded Base64.
    event = _v4_event()
    canonical = (
        '{"auth_events":[],"content":{},"depth":12,"hashes":{"sha256":"'
        + event["hashes"]["sha256"]
        + '"},"origin_server_ts":1700000000000,'
        '"prev_events":["$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"],'
        '"room_id":"!r:example.org","sender":"@u:example.org","type":"m.room.message"}'
    ).encode()
    digest = hashlib.sha256(canonical).digest()
    assert compute_reference_hash(event, V10) == digest
    expected = "$" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert compute_event_id(event, V10) == expected
    validate_event_id_for_format(expected, V10.event_format.event_id_format)


def test_v3_and_v4_encode_the_same_hash() -> None:
    event = _v4_event()
    v3_id = compute_event_id(event, V3)
    v4_id = compute_event_id(event, V4)
    assert v3_id.translate(str.maketrans("+/", "-_")) == v4_id
    assert len(v3_id) == len(v4_id) == 44
    validate_event_id_for_format(v3_id, V3.event_format.event_id_format)
    validate_event_id_for_format(v4_id, V4.event_format.event_id_format)


@given(
    unsigned=st.dictionaries(st.text(max_size=5), st.integers(0, 10**6), max_size=3),
    extra_sig=st.text(min_size=1, max_size=10),
)
def test_event_id_stable_under_unsigned_and_signatures(
    unsigned: dict[str, int], extra_sig: str
) -> None:
    event = _v4_event()
    event_id = compute_event_id(event, V10)
    changed = copy.deepcopy(event)
    changed["unsigned"] = unsigned
    changed["signatures"]["other.example"] = {"ed25519:k": extra_sig}
    assert compute_event_id(changed, V10) == event_id
    # Non-protected top-level keys (here Synapse's legacy `age_ts`) are removed by
    # redaction before hashing.
    assert compute_event_id({**changed, "age_ts": 5}, V10) == event_id


@pytest.mark.parametrize("version", [V3, V4, V6, V10, V11, V12], ids=lambda v: v.identifier)
def test_content_changes_change_the_event_id(version: Any) -> None:
    a = add_hashes_and_signatures(
        {**_v4_event(), "hashes": {}, "signatures": {}}, version, "example.org", SIGNING_KEY
    )
    b = add_hashes_and_signatures(
        {**a, "content": {"msgtype": "m.text", "body": "HELLO"}, "hashes": {}},
        version,
        "example.org",
        SIGNING_KEY,
    )
    assert compute_event_id(a, version) != compute_event_id(b, version)


def test_reference_hash_covers_redacted_form_only() -> None:
    event = _v4_event()
    ref = compute_reference_hash(event, V10)
    # The reference hash of an event equals that of its redacted copy...
    assert compute_reference_hash(redact(event, V10.redaction), V10) == ref
    # ...so editing a non-protected content key without re-hashing leaves it alone
    # (that edit is caught by the content hash instead)...
    edited = {**event, "content": {"msgtype": "m.text", "body": "tampered"}}
    assert compute_reference_hash(edited, V10) == ref
    assert not check_content_hash(edited)
    # ...while protected keys are covered directly.
    assert compute_reference_hash({**event, "depth": 13}, V10) != ref


def test_reference_hash_protected_content_keys() -> None:
    member = _v4_event(
        type="m.room.member",
        state_key="@u:example.org",
        content={"membership": "join", "displayname": "U"},
    )
    ref = compute_reference_hash(member, V10)
    assert (
        compute_reference_hash(
            {**member, "content": {"membership": "join", "displayname": "V"}}, V10
        )
        == ref
    )
    assert (
        compute_reference_hash(
            {**member, "content": {"membership": "leave", "displayname": "U"}}, V10
        )
        != ref
    )


def test_v1_event_id_is_carried_in_the_event() -> None:
    assert compute_event_id(MESSAGE_EVENT, V1) == "$0:domain"
    with pytest.raises(BadJson):
        compute_event_id({k: v for k, v in MESSAGE_EVENT.items() if k != "event_id"}, V1)
    with pytest.raises(BadJson):
        compute_event_id({**MESSAGE_EVENT, "event_id": "nope"}, V1)


def _v12_create_event() -> dict[str, Any]:
    # rooms/v12.md: m.room.create has no room_id.
    create = {
        "type": "m.room.create",
        "state_key": "",
        "sender": "@creator:example.org",
        "origin_server_ts": 1700000000000,
        "depth": 1,
        "prev_events": [],
        "auth_events": [],
        "content": {"room_version": "12", "additional_creators": ["@co:example.org"]},
    }
    return add_hashes_and_signatures(create, V12, "example.org", SIGNING_KEY)


def test_v12_room_id_from_create_event() -> None:
    create = _v12_create_event()
    room_id = room_id_from_create_event(create, V12)
    event_id = compute_event_id(create, V12)
    # appendices §Room IDs: "simply the event ID of the m.room.create event using !
    # as the sigil instead of $".
    assert room_id == "!" + event_id[1:]
    assert len(room_id) == 44
    parsed = validate_room_id_for_format(room_id, from_create_event=True)
    assert parsed.to_create_event_id() == EventId.parse(event_id)
    assert RoomId.parse(room_id).server_name is None
    # All of the v11+ create content is protected, so it is covered by the room ID.
    changed = {**create, "content": {**create["content"], "additional_creators": []}}
    assert room_id_from_create_event(changed, V12) != room_id


def test_room_id_from_create_event_needs_v12_rules() -> None:
    with pytest.raises(ValueError, match="does not derive"):
        room_id_from_create_event(_v12_create_event(), V11)


def test_add_hashes_and_signatures_strictness() -> None:
    event = {**MINIMAL_EVENT, "content": {"n": 1.5}}
    with pytest.raises(BadJson, match=r"\$\.content\.n"):
        add_hashes_and_signatures(event, V6, "domain", SIGNING_KEY)
    with pytest.raises(BadJson):
        add_hashes_and_signatures({**MINIMAL_EVENT, "depth": 2**53}, V6, "domain", SIGNING_KEY)
    # Rooms v1-v5 must not enforce canonical JSON (rooms/v1.md §Canonical JSON).
    signed = add_hashes_and_signatures(event, V1, "domain", SIGNING_KEY)
    assert check_content_hash(signed)
    verify_event_signature(signed, V1, "domain", "ed25519:1", VERIFY_KEY)


def test_add_hashes_and_signatures_keeps_other_signatures_and_hashes() -> None:
    event = {
        **MINIMAL_EVENT,
        "signatures": {"other": {"ed25519:z": "sig"}},
        "hashes": {"sha512": "x"},
    }
    signed = add_hashes_and_signatures(event, V10, "domain", SIGNING_KEY)
    assert signed["signatures"]["other"] == {"ed25519:z": "sig"}
    assert set(signed["signatures"]["domain"]) == {"ed25519:1"}
    assert signed["hashes"]["sha512"] == "x"
    assert signed["hashes"]["sha256"] == MINIMAL_EVENT_SIGNED["hashes"]["sha256"]


def test_tampered_event_fails_signature_check() -> None:
    signed = add_hashes_and_signatures(MINIMAL_EVENT, V10, "domain", SIGNING_KEY)
    with pytest.raises(SignatureError):
        verify_event_signature(
            {**signed, "sender": "@b:domain"}, V10, "domain", "ed25519:1", VERIFY_KEY
        )
    with pytest.raises(SignatureError):
        verify_event_signature(signed, V10, "other", "ed25519:1", VERIFY_KEY)
