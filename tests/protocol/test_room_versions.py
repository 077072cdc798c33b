"""Table test for myelin.protocol.room_versions against rooms/v1.md ... v12.md."""

from __future__ import annotations

import dataclasses

import pytest

from myelin.protocol.errors import UnsupportedRoomVersion
from myelin.protocol.room_versions import (
    DEFAULT_ROOM_VERSION,
    KNOWN_ROOM_VERSIONS,
    AuthorizationRules,
    EventFormatRules,
    EventIdFormat,
    RedactionRules,
    RoomVersion,
    SignatureRules,
    StateResAlgorithm,
    get_room_version,
    is_valid_room_version_id,
)

VERSIONS = [str(n) for n in range(1, 13)]


def _row(**flags: str) -> dict[str, frozenset[str]]:
    """Flag name -> the set of versions where the spec says it is on."""
    out: dict[str, frozenset[str]] = {}
    for name, spec in flags.items():
        if "-" in spec:
            lo, hi = spec.split("-")
            out[name] = frozenset(str(n) for n in range(int(lo), int(hi) + 1))
        else:
            out[name] = frozenset(spec.split(",")) if spec else frozenset()
    return out


# Each range cites where the spec says so.
BOOLEAN_FLAGS = _row(
    # --- event format
    # v1-event-ids (v1, v2) vs rooms/v3.md §Event format ("plain lists of event IDs").
    **{"event_format.event_refs_with_hashes": "1-2"},
    # v1-canonical-json (v1-v5) vs v6-canonical-json (v6+).
    **{"event_format.strict_canonical_json": "6-12"},
    # rooms/v11.md §Moving the redacts property of m.room.redaction events.
    **{"event_format.redacts_in_content": "11-12"},
    # rooms/v12.md §Event format, appendices §Room IDs.
    **{"event_format.room_id_from_create_event": "12-12"},
    # --- authorisation rules
    # v1-auth-rules / v3-auth-rules rule 4; removed by rooms/v6.md.
    **{"authorization.special_case_aliases_auth": "1-5"},
    # v1-auth-rules rule 11; v3-handling-redactions.
    **{"authorization.redaction_auth_rule": "1-2"},
    # rooms/v6.md: power levels `notifications` property.
    **{"authorization.limit_notifications_power_levels": "6-12"},
    # rooms/_index.md feature matrix: Knocking v7+.
    **{"authorization.knock_join_rule": "7-12"},
    # Restricted join rules v8+.
    **{"authorization.restricted_join_rule": "8-12"},
    # knock_restricted v10+.
    **{"authorization.knock_restricted_join_rule": "10-12"},
    # rooms/v10.md: power levels must be integers.
    **{"authorization.integer_power_levels": "10-12"},
    # rooms/v11.md: creator removed, sender is the creator.
    **{"authorization.implicit_room_creator": "11-12"},
    # rooms/v12.md: room creators have infinite power level.
    **{"authorization.privileged_creators": "12-12"},
    # Feature matrix: Additional room creators v12.
    **{"authorization.additional_creators": "12-12"},
    # rooms/v12.md rules 1.2, 2, 3.2.
    **{"authorization.room_create_event_id_as_room_id": "12-12"},
    # --- redaction (fragments v1-, v6-, v9-, v11-redactions; rooms/v8.md)
    **{"redaction.keep_origin_membership_prev_state": "1-10"},
    **{"redaction.keep_room_aliases_aliases": "1-5"},
    **{"redaction.keep_join_rules_allow": "8-12"},
    **{"redaction.keep_member_join_authorised_via_users_server": "9-12"},
    **{"redaction.keep_create_content": "11-12"},
    **{"redaction.keep_power_levels_invite": "11-12"},
    **{"redaction.keep_redaction_redacts": "11-12"},
    **{"redaction.keep_member_third_party_invite_signed": "11-12"},
    # --- signatures
    # server-server §Validating hashes and signatures: "Room versions 1 and 2 also
    # require that a signature is present from the domain in the event_id".
    **{"signatures.require_event_id_domain_signature": "1-2"},
    # rooms/v5.md §Signing key validity period (and every later version).
    **{"signatures.enforce_key_validity": "5-12"},
    # v8-auth-rules rule 4.2.
    **{"signatures.check_join_authorised_via_users_server": "8-12"},
)

EVENT_ID_FORMATS = {
    "1": EventIdFormat.OPAQUE,
    "2": EventIdFormat.OPAQUE,
    "3": EventIdFormat.HASH_STD_B64,
    **{str(n): EventIdFormat.HASH_URLSAFE_B64 for n in range(4, 13)},
}

STATE_RES = {
    "1": StateResAlgorithm.V1,
    **{str(n): StateResAlgorithm.V2 for n in range(2, 12)},
    "12": StateResAlgorithm.V2_1,
}


def _get(version: RoomVersion, dotted: str) -> object:
    group, name = dotted.split(".")
    return getattr(getattr(version, group), name)


@pytest.mark.parametrize("identifier", VERSIONS)
@pytest.mark.parametrize("flag", sorted(BOOLEAN_FLAGS))
def test_flag_table(identifier: str, flag: str) -> None:
    version = get_room_version(identifier)
    assert _get(version, flag) is (identifier in BOOLEAN_FLAGS[flag]), (identifier, flag)


def test_table_covers_every_boolean_flag() -> None:
    groups = {
        "event_format": EventFormatRules,
        "authorization": AuthorizationRules,
        "redaction": RedactionRules,
        "signatures": SignatureRules,
    }
    declared = {
        f"{group}.{field.name}"
        for group, cls in groups.items()
        for field in dataclasses.fields(cls)
        if field.type in ("bool", bool)
    }
    assert declared == set(BOOLEAN_FLAGS)


@pytest.mark.parametrize("identifier", VERSIONS)
def test_event_id_format_and_state_res(identifier: str) -> None:
    version = get_room_version(identifier)
    assert version.event_format.event_id_format is EVENT_ID_FORMATS[identifier]
    assert version.state_res is STATE_RES[identifier]
    assert version.identifier == identifier
    # rooms/_index.md §Complete list of room versions: all twelve are Stable.
    assert version.stable


@pytest.mark.parametrize("identifier", VERSIONS)
def test_room_id_flags_agree(identifier: str) -> None:
    version = get_room_version(identifier)
    assert (
        version.authorization.room_create_event_id_as_room_id
        is version.event_format.room_id_from_create_event
    )


def test_known_versions_and_default() -> None:
    assert list(KNOWN_ROOM_VERSIONS) == VERSIONS
    # rooms/_index.md: "Servers SHOULD use room version 12 as the default".
    assert DEFAULT_ROOM_VERSION.identifier == "12"


def test_versions_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_room_version("1").identifier = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_room_version("1").redaction.keep_create_content = True  # type: ignore[misc]


@pytest.mark.parametrize("identifier", ["13", "0", "", "1.0", "org.matrix.msc1234", "v1"])
def test_unknown_room_version(identifier: str) -> None:
    with pytest.raises(UnsupportedRoomVersion) as exc_info:
        get_room_version(identifier)
    assert exc_info.value.errcode == "M_UNSUPPORTED_ROOM_VERSION"


def test_unhashable_room_version() -> None:
    with pytest.raises(UnsupportedRoomVersion):
        get_room_version(["1"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("identifier", "valid"),
    [
        # rooms/_index.md §Room version grammar examples.
        ("1", True),
        ("1.2", True),
        ("1.2-beta", True),
        ("com.example.version", True),
        ("", False),
        ("A", False),
        ("1_2", False),
        ("a" * 32, True),
        ("a" * 33, False),
    ],
)
def test_room_version_grammar(identifier: str, valid: bool) -> None:
    assert is_valid_room_version_id(identifier) is valid
