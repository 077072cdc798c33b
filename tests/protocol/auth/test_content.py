"""Lenient content readers (myelin.protocol.auth.content)."""

from __future__ import annotations

import pytest

from myelin.protocol.auth.content import (
    CreateContent,
    JoinRulesContent,
    MemberContent,
    PowerLevelParsing,
    PowerLevelsContent,
    ThirdPartyInviteContent,
    content_of,
    membership_of,
    parse_power_level,
)
from myelin.protocol.room_versions import V1, V5, V6, V9, V10, V11, V12, RoomVersion
from tests.protocol.auth.factory import ALICE, BOB, CAROL, versions

V1_TO_5 = PowerLevelParsing(strings=True, floats=True)
V6_TO_9 = PowerLevelParsing(strings=True, floats=False)
V10_PLUS = PowerLevelParsing(strings=False, floats=False)


@pytest.mark.parametrize(
    ("version", "expected"),
    [(V1, V1_TO_5), (V5, V1_TO_5), (V6, V6_TO_9), (V9, V6_TO_9), (V10, V10_PLUS), (V12, V10_PLUS)],
)
def test_parsing_per_version(version: RoomVersion, expected: PowerLevelParsing) -> None:
    assert PowerLevelParsing.for_version(version) == expected


@pytest.mark.parametrize(
    ("value", "v1", "v6", "v10"),
    [
        (50, 50, 50, 50),
        (-7, -7, -7, -7),
        (True, None, None, None),
        ("50", 50, 50, None),
        ("000100", 100, 100, None),
        ("+100", 100, 100, None),
        (" -100 ", -100, -100, None),
        ("1.5", None, None, None),
        ("1_000", None, None, None),
        ("١٢", None, None, None),
        ("\u2003" + "5", None, None, None),
        ("", None, None, None),
        (50.57, 50, None, None),
        (-1.9, -1, None, None),
        (5.114698e4, 51146, None, None),
        (float("inf"), None, None, None),
        (float("nan"), None, None, None),
        (None, None, None, None),
        ([1], None, None, None),
    ],
)
def test_parse_power_level(value: object, v1: int | None, v6: int | None, v10: int | None) -> None:
    assert parse_power_level(value, V1_TO_5) == v1
    assert parse_power_level(value, V6_TO_9) == v6
    assert parse_power_level(value, V10_PLUS) == v10


def test_power_levels_defaults() -> None:
    empty = PowerLevelsContent(None, V10_PLUS)
    assert (empty.users_default, empty.events_default, empty.state_default) == (0, 0, 50)
    assert (empty.ban, empty.kick, empty.redact, empty.invite) == (50, 50, 50, 0)
    assert empty.notification() == 50
    assert empty.users == {} and empty.events == {} and empty.notifications == {}


def test_power_levels_invalid_values_read_as_absent() -> None:
    content = {
        "ban": "junk",
        "kick": 7,
        "users": {ALICE: "100", BOB: [], CAROL: 5},
        "events": "not an object",
        "notifications": {"room": "20"},
    }
    pl = PowerLevelsContent(content, V6_TO_9)
    assert pl.ban == 50 and pl.kick == 7
    assert pl.users == {ALICE: 100, CAROL: 5}
    assert pl.events == {}
    assert pl.notification("room") == 20
    assert sorted(pl.invalid_values()) == ["ban", f"users.{BOB}"]
    strict = PowerLevelsContent(content, V10_PLUS)
    assert strict.users == {CAROL: 5} and strict.notification() == 50


def test_content_of_is_lenient() -> None:
    assert content_of(None) == {}
    assert content_of({"content": "x"}) == {}
    assert content_of({"content": {"a": 1}}) == {"a": 1}


@pytest.mark.parametrize("version", versions())
def test_create_content(version: RoomVersion) -> None:
    event = {
        "sender": ALICE,
        "content": {"creator": BOB, "room_version": "9", "additional_creators": [CAROL, 3]},
    }
    reader = CreateContent(event)
    expected_creator = ALICE if version.authorization.implicit_room_creator else BOB
    assert reader.creator(version) == expected_creator
    assert reader.room_version == "9"
    assert reader.additional_creators == [CAROL]
    if version.authorization.additional_creators:
        assert reader.creators(version) == {ALICE, CAROL}
    else:
        assert reader.creators(version) == {expected_creator}


def test_create_content_defaults() -> None:
    reader = CreateContent({"sender": 5, "content": {"m.federate": "no", "room_version": 3}})
    assert reader.sender is None
    assert reader.federate is True
    assert reader.room_version is None
    assert CreateContent({"content": {}}).room_version == "1"
    assert CreateContent({"content": {"m.federate": False}}).federate is False
    assert CreateContent({"content": {}}).creators(V11) == frozenset()
    assert CreateContent({"content": {"additional_creators": "x"}}).additional_creators == []


def test_member_content() -> None:
    member = MemberContent(
        {
            "membership": "invite",
            "join_authorised_via_users_server": ALICE,
            "third_party_invite": {"signed": {"mxid": BOB, "token": "t"}},
        }
    )
    assert member.membership == "invite"
    assert member.join_authorised_via_users_server == ALICE
    assert (member.mxid, member.token) == (BOB, "t")
    odd = MemberContent({"membership": 1, "third_party_invite": {"signed": "x"}})
    assert odd.membership is None and odd.has_membership
    assert odd.signed is None and odd.token is None and odd.mxid is None
    assert odd.has_third_party_invite
    assert MemberContent(None).has_membership is False


def test_membership_of_defaults_to_leave() -> None:
    assert membership_of(None) == "leave"
    assert membership_of({"content": {"membership": 5}}) == "leave"
    assert membership_of({"content": {"membership": "ban"}}) == "ban"


def test_join_rules_content() -> None:
    reader = JoinRulesContent(
        {
            "join_rule": "restricted",
            "allow": [
                {"type": "m.room_membership", "room_id": "!a:b"},
                {"type": "m.room_membership"},
                {"type": "m.other", "room_id": "!c:d"},
                "junk",
            ],
        }
    )
    assert reader.join_rule == "restricted"
    assert len(reader.allow) == 3
    assert reader.allowed_room_ids == ["!a:b"]
    assert JoinRulesContent({"join_rule": 1, "allow": {}}).join_rule is None
    assert JoinRulesContent.from_event(None).allow == []


def test_third_party_invite_content() -> None:
    reader = ThirdPartyInviteContent(
        {
            "display_name": "x",
            "public_key": "k1",
            "public_keys": [{"public_key": "k2"}, {"public_key": 3}, "k4", {}],
        }
    )
    assert reader.public_keys == ["k1", "k2"]
    assert reader.display_name == "x"
    assert ThirdPartyInviteContent({"public_keys": "x"}).public_keys == []
