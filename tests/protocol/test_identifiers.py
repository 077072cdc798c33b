"""Tests for myelin.protocol.identifiers (appendices §Identifier Grammar)."""

from __future__ import annotations

import pytest

from myelin.protocol.errors import InvalidIdentifier
from myelin.protocol.identifiers import (
    DeviceId,
    EventId,
    RoomAlias,
    RoomId,
    ServerName,
    UserId,
    is_valid_event_id,
    is_valid_room_alias,
    is_valid_room_id,
    is_valid_server_name,
    is_valid_server_name_strict,
    is_valid_user_id,
    is_valid_user_id_strict,
    validate_event_id_for_format,
    validate_localpart_strict,
    validate_room_id_for_format,
    validate_server_name_strict,
)
from myelin.protocol.room_versions import EventIdFormat

# ------------------------------------------------------------------ server names

# appendices §Server Name: "Examples of valid server names are".
SPEC_VALID_SERVER_NAMES = [
    "matrix.org",
    "matrix.org:8888",
    "1.2.3.4",
    "1.2.3.4:1234",
    "[1234:5678::abcd]",
    "[1234:5678::abcd]:5678",
]


@pytest.mark.parametrize("name", SPEC_VALID_SERVER_NAMES)
def test_spec_server_name_examples(name: str) -> None:
    assert is_valid_server_name(name)
    assert is_valid_server_name_strict(name)
    assert str(ServerName.parse(name)) == name


@pytest.mark.parametrize(
    "name",
    [
        "localhost",
        "localhost:1",
        "localhost:65535",
        "MATRIX.ORG",  # valid, just not recommended
        "a-b.example",
        "[::1]",
        "[::ffff:1.2.3.4]:8448",
        "xn--bcher-kva.example",
    ],
)
def test_more_valid_server_names(name: str) -> None:
    assert is_valid_server_name(name)
    assert is_valid_server_name_strict(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        ":8448",
        "example.org:",
        "example.org:0",
        "example.org:65536",
        "example.org:123456",
        "example.org:80a",
        "example.org:-1",
        "exa mple.org",
        "example_org",
        "exämple.org",
        "[1234:5678::abcd",
        "[1234:5678::abcd]x",
        "[::1]:",
        "[12345::]",  # not RFC 3513
        "[::1%eth0]",
        "[]",
        "[g::1]",
        "a" * 256,
        "example.org:80:80",
    ],
)
def test_invalid_server_names(name: str) -> None:
    assert not is_valid_server_name(name)
    assert not is_valid_server_name_strict(name)
    with pytest.raises(InvalidIdentifier):
        ServerName.parse(name)


@pytest.mark.parametrize(
    "name",
    [
        "1.2.3.256",
        "999.0.0.1",
        "-example.org",
        "example-.org",
        "example..org",
        "a." * 3,
        ("a" * 64) + ".org",
    ],
)
def test_server_names_only_strict_rejects(name: str) -> None:
    # Match the ABNF dns-name, but not the prose (IPv4 octets 0-255, RFC 1123 labels).
    assert is_valid_server_name(name)
    assert not is_valid_server_name_strict(name)
    with pytest.raises(InvalidIdentifier):
        validate_server_name_strict(name)
    with pytest.raises(InvalidIdentifier):
        ServerName.parse_strict(name)


def test_server_name_parts() -> None:
    assert ServerName.parse("matrix.org").host == "matrix.org"
    assert ServerName.parse("matrix.org").port is None
    assert ServerName.parse("[::1]:8448").host == "[::1]"
    assert ServerName.parse("[::1]:8448").port == 8448
    assert ServerName.parse("1.2.3.4:1234").port == 1234


def test_server_names_are_case_sensitive() -> None:
    # appendices §Server Name: "@user:matrix.org is a different person from @user:MATRIX.ORG".
    assert ServerName.parse("matrix.org") != ServerName.parse("MATRIX.ORG")
    assert UserId.parse("@user:matrix.org") != UserId.parse("@user:MATRIX.ORG")


# ---------------------------------------------------------------------- user IDs


def test_user_id_parts() -> None:
    uid = UserId.parse("@alice:example.org:8448")
    assert uid.localpart == "alice"
    assert uid.server_name == "example.org:8448"
    assert str(uid) == "@alice:example.org:8448"
    assert uid.is_compliant and uid.is_strictly_valid


@pytest.mark.parametrize(
    "user_id",
    [
        "@a:b",
        "@john.doe:example.com",
        "@a-z0-9._=-/+:matrix.org",
        "@user:[::1]:8448",
        "@user:1.2.3.4",
    ],
)
def test_strict_user_ids(user_id: str) -> None:
    assert is_valid_user_id(user_id)
    assert is_valid_user_id_strict(user_id)
    assert str(UserId.parse_strict(user_id)) == user_id


@pytest.mark.parametrize(
    "user_id",
    [
        "@Alice:example.org",  # upper case
        "@alice!:example.org",
        "@al ice:example.org",
        "@:example.org",  # empty localpart
        "@ali\u00e7e:example.org",
        "@\U0001f600:example.org",
        "@a\x01b:example.org",  # control characters are historical too
        "@alice:1.2.3.456",  # only the strict server name check rejects this
    ],
)
def test_historical_user_ids_are_lenient_only(user_id: str) -> None:
    # appendices §Historical User IDs: servers "MUST accept user IDs with localparts
    # consisting of any legal non-surrogate Unicode code points except for `:` and
    # `NUL` (U+0000), including other control characters and the empty string".
    uid = UserId.parse(user_id)
    assert str(uid) == user_id
    assert is_valid_user_id(user_id)
    assert not is_valid_user_id_strict(user_id)
    assert not uid.is_strictly_valid
    with pytest.raises(InvalidIdentifier):
        UserId.parse_strict(user_id)


def test_user_id_compliance() -> None:
    # "User IDs with localparts containing characters outside the range U+0021 to
    # U+007E, or with an empty localpart, are considered non-compliant."
    assert UserId.parse("@Alice!:example.org").is_compliant
    assert not UserId.parse("@:example.org").is_compliant
    assert not UserId.parse("@a b:example.org").is_compliant
    assert not UserId.parse("@é:example.org").is_compliant


@pytest.mark.parametrize(
    "user_id",
    [
        "",
        "alice:example.org",
        "#alice:example.org",
        "@alice",
        "@alice:",
        "@alice:bad host",
        "@al\x00ice:example.org",
        "@al\ud800ice:example.org",
        "@alice:example.org:99999",
    ],
)
def test_invalid_user_ids(user_id: str) -> None:
    assert not is_valid_user_id(user_id)
    with pytest.raises(InvalidIdentifier):
        UserId.parse(user_id)


def test_user_id_not_a_string() -> None:
    with pytest.raises(InvalidIdentifier):
        UserId.parse(42)  # type: ignore[arg-type]


def test_user_id_length_limit_is_bytes() -> None:
    # "The length of a user ID, including the @ sigil and the domain, MUST NOT exceed
    # 255 bytes."
    server = "example.org"
    ok = "@" + "a" * (255 - 2 - len(server)) + ":" + server
    assert len(ok.encode()) == 255
    assert is_valid_user_id_strict(ok)
    assert not is_valid_user_id(ok.replace("@", "@a", 1))
    # Multi-byte characters count in bytes (historical localparts).
    multi = "@" + "é" * 121 + ":" + server  # 1 + 242 + 1 + 11 = 255 bytes
    assert is_valid_user_id(multi)
    assert not is_valid_user_id("@" + "é" * 122 + ":" + server)


def test_validate_localpart_strict() -> None:
    assert validate_localpart_strict("a.b_c=d-e/f+g0") == "a.b_c=d-e/f+g0"
    for bad in ["", "A", "a b", "a:b", "a#b", "é", "a*"]:
        with pytest.raises(InvalidIdentifier):
            validate_localpart_strict(bad)


def test_user_id_from_parts_strict() -> None:
    assert str(UserId.from_parts_strict("bob", "example.org")) == "@bob:example.org"
    with pytest.raises(InvalidIdentifier):
        UserId.from_parts_strict("Bob", "example.org")
    with pytest.raises(InvalidIdentifier):
        UserId("a:b", "example.org")  # the constructor validates too


# ---------------------------------------------------------------------- room IDs

V12_ROOM_ID = "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ"  # pdu_v12 example


def test_room_id_with_domain() -> None:
    rid = RoomId.parse("!jEsUZKDJdhlrceRyVU:example.org")
    assert rid.opaque == "jEsUZKDJdhlrceRyVU"
    assert rid.server_name == "example.org"
    assert not rid.is_create_event_hash
    assert str(rid) == "!jEsUZKDJdhlrceRyVU:example.org"
    assert validate_room_id_for_format(str(rid), from_create_event=False) == rid
    with pytest.raises(InvalidIdentifier):
        validate_room_id_for_format(str(rid), from_create_event=True)
    with pytest.raises(InvalidIdentifier):
        rid.to_create_event_id()


def test_room_id_v12_form() -> None:
    # appendices §Room IDs: domain-less room IDs are the create event's ID with `!`.
    rid = RoomId.parse(V12_ROOM_ID)
    assert rid.server_name is None
    assert rid.is_create_event_hash
    assert str(rid) == V12_ROOM_ID
    assert str(rid.to_create_event_id()) == "$" + V12_ROOM_ID[1:]
    assert validate_room_id_for_format(V12_ROOM_ID, from_create_event=True) == rid
    with pytest.raises(InvalidIdentifier):
        validate_room_id_for_format(V12_ROOM_ID, from_create_event=False)


@pytest.mark.parametrize(
    "room_id",
    [
        "!x:domain",
        "!r:domain",
        "!weird local part\x01:example.org",  # opaque localparts allow any code point
        V12_ROOM_ID,
    ],
)
def test_valid_room_ids(room_id: str) -> None:
    assert is_valid_room_id(room_id)


@pytest.mark.parametrize(
    "room_id",
    [
        "",
        "!",
        "!:example.org",
        "$abc:example.org",
        "!abc",  # no domain, not a hash
        V12_ROOM_ID + "A",  # 44 characters
        "!Nhcu5BS+UMnFX7hBVfVSoXiD7OgH6iRT/xyIuqDnpYQ",  # standard alphabet
        "!a\x00b:example.org",
        "!abc:exa mple.org",
        "!" + "a" * 250 + ":example.org",
    ],
)
def test_invalid_room_ids(room_id: str) -> None:
    assert not is_valid_room_id(room_id)
    with pytest.raises(InvalidIdentifier):
        RoomId.parse(room_id)


# --------------------------------------------------------------------- event IDs

V3_EVENT_ID = "$acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk"  # rooms/v3.md
V3_EVENT_ID_2 = "$CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o"  # rooms/v3.md
V4_EVENT_ID = "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"  # rooms/v4.md


@pytest.mark.parametrize(
    "event_id", ["$0:domain", "$randomstring:example.org", V3_EVENT_ID, V3_EVENT_ID_2, V4_EVENT_ID]
)
def test_valid_event_ids(event_id: str) -> None:
    assert is_valid_event_id(event_id)
    assert str(EventId.parse(event_id)) == event_id


def test_event_id_forms_per_room_version() -> None:
    assert EventId.parse("$0:domain").server_name == "domain"
    assert EventId.parse(V4_EVENT_ID).server_name is None
    validate_event_id_for_format("$0:domain", EventIdFormat.OPAQUE)
    validate_event_id_for_format(V3_EVENT_ID, EventIdFormat.HASH_STD_B64)
    validate_event_id_for_format(V4_EVENT_ID, EventIdFormat.HASH_URLSAFE_B64)
    # Alphabet-neutral hashes are valid in both v3 and v4.
    validate_event_id_for_format(V3_EVENT_ID_2, EventIdFormat.HASH_STD_B64)
    validate_event_id_for_format(V3_EVENT_ID_2, EventIdFormat.HASH_URLSAFE_B64)
    with pytest.raises(InvalidIdentifier):
        validate_event_id_for_format(V3_EVENT_ID, EventIdFormat.HASH_URLSAFE_B64)
    with pytest.raises(InvalidIdentifier):
        validate_event_id_for_format(V4_EVENT_ID, EventIdFormat.HASH_STD_B64)
    with pytest.raises(InvalidIdentifier):
        validate_event_id_for_format(V4_EVENT_ID, EventIdFormat.OPAQUE)
    with pytest.raises(InvalidIdentifier):
        validate_event_id_for_format("$0:domain", EventIdFormat.HASH_URLSAFE_B64)


@pytest.mark.parametrize(
    "event_id",
    [
        "",
        "$",
        "$:domain",
        "$abc",  # neither form
        V4_EVENT_ID[:-1],  # 42 characters
        V4_EVENT_ID + "=",  # padded
        "!abc:domain",
        "$abc:bad domain",
        "$" + "a" * 250 + ":example.org",
    ],
)
def test_invalid_event_ids(event_id: str) -> None:
    assert not is_valid_event_id(event_id)
    with pytest.raises(InvalidIdentifier):
        EventId.parse(event_id)


# ------------------------------------------------------------------- room aliases


def test_room_alias() -> None:
    alias = RoomAlias.parse("#room:example.org:8448")
    assert alias.localpart == "room"
    assert alias.server_name == "example.org:8448"
    assert str(alias) == "#room:example.org:8448"
    # "The localpart of a room alias may contain any valid non-surrogate Unicode
    # codepoints except `:` and `NUL`."
    assert is_valid_room_alias("#Ünïcödé room!:example.org")


@pytest.mark.parametrize(
    "alias",
    [
        "",
        "#",
        "#room",
        "#:example.org",
        "@room:example.org",
        "#ro\x00om:example.org",
        "#room:",
        "#" + "a" * 250 + ":example.org",
    ],
)
def test_invalid_room_aliases(alias: str) -> None:
    assert not is_valid_room_alias(alias)
    with pytest.raises(InvalidIdentifier):
        RoomAlias.parse(alias)


# ------------------------------------------------------------------------ devices


def test_device_id_is_opaque() -> None:
    assert str(DeviceId.parse("ABCDEFGH")) == "ABCDEFGH"
    assert str(DeviceId.parse("any: thing/at all")) == "any: thing/at all"
    for bad in ["", "a\x00b"]:
        with pytest.raises(InvalidIdentifier):
            DeviceId.parse(bad)


def test_invalid_identifier_errcode() -> None:
    with pytest.raises(InvalidIdentifier) as exc_info:
        UserId.parse("nope")
    assert exc_info.value.errcode == "M_INVALID_PARAM"
    assert "nope" in exc_info.value.message
