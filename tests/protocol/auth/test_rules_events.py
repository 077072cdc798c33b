"""m.federate, m.room.aliases (v1-v5), sender membership, m.room.third_party_invite,
required power levels, user state keys, m.room.redaction (v1-v2) and v12 creators."""

from __future__ import annotations

import pytest

from myelin.protocol.room_versions import RoomVersion
from tests.protocol.auth.factory import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    EVE,
    RoomBuilder,
    assert_rejected,
    member_sub,
    rule,
    versions,
)

ALL = versions()
ALIASES = versions(lambda v: v.authorization.special_case_aliases_auth)
NO_ALIASES = versions(lambda v: not v.authorization.special_case_aliases_auth)
REDACTION_RULE = versions(lambda v: v.authorization.redaction_auth_rule)
NO_REDACTION_RULE = versions(lambda v: not v.authorization.redaction_auth_rule)
V12 = versions(lambda v: v.authorization.privileged_creators)
PRE_V12 = versions(lambda v: not v.authorization.privileged_creators)


# ------------------------------------------------------------------- m.federate


@pytest.mark.parametrize("version", ALL)
def test_non_federating_room_rejects_other_servers(version: RoomVersion) -> None:
    room = RoomBuilder(version, create_content={"m.federate": False})
    room.join(BOB)  # same server as the creator
    assert_rejected(room, room.member(DAVE, DAVE, "join"), rule(version, "federate"))
    room.force_member(DAVE, "join")
    assert_rejected(
        room, room.build("m.room.message", DAVE, {"body": "x"}), rule(version, "federate")
    )


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("federate", [True, "false", 0, None])
def test_only_literal_false_disables_federation(version: RoomVersion, federate: object) -> None:
    room = RoomBuilder(version, create_content={"m.federate": federate})
    room.check(room.member(DAVE, DAVE, "join"))


# ----------------------------------------------------------- m.room.aliases (v1-v5)


@pytest.mark.parametrize("version", ALIASES)
def test_aliases_allowed_for_senders_server_even_without_membership(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.check(
        room.build("m.room.aliases", DAVE, {"aliases": ["#a:other.example"]}, "other.example")
    )


@pytest.mark.parametrize("version", ALIASES)
def test_aliases_state_key_must_be_senders_server(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.build("m.room.aliases", ALICE, {"aliases": []}, "other.example")
    assert_rejected(room, event, rule(version, "aliases", 2))


@pytest.mark.parametrize("version", ALIASES)
def test_aliases_without_state_key_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    assert_rejected(room, room.build("m.room.aliases", ALICE, {}), rule(version, "aliases", 1))


@pytest.mark.parametrize("version", NO_ALIASES)
def test_aliases_are_ordinary_state_from_v6(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.build("m.room.aliases", DAVE, {"aliases": []}, "other.example")
    assert_rejected(room, event, rule(version, "sender_joined"))
    room.join(DAVE)
    event = room.build("m.room.aliases", DAVE, {"aliases": []}, "other.example")
    assert_rejected(room, event, rule(version, "required_level"))
    # With enough power any state key goes, the sender's server or not.
    room.check(room.build("m.room.aliases", ALICE, {"aliases": []}, "other.example"))


# ------------------------------------------------------------ sender must be joined


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("membership", [None, "invite", "leave", "ban", "knock"])
def test_sender_must_be_joined(version: RoomVersion, membership: str | None) -> None:
    room = RoomBuilder(version)
    if membership is not None:
        room.force_member(BOB, membership, sender=ALICE)
    event = room.build("m.room.message", BOB, {"body": "hi"})
    assert_rejected(room, event, rule(version, "sender_joined"))
    room.join(CAROL)
    room.check(room.build("m.room.message", CAROL, {"body": "hi"}))


# -------------------------------------------------------- m.room.third_party_invite


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_event_needs_invite_level(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    content = {"display_name": "x", "key_validity_url": "https://i/v", "public_key": "AAAA"}
    room.check(room.build("m.room.third_party_invite", BOB, content, "tok"))
    room.set_power_levels(invite=10)
    event = room.build("m.room.third_party_invite", BOB, content, "tok")
    assert_rejected(room, event, rule(version, "third_party_invite", 1))
    # The invite level governs, not state_default (50) nor events entries.
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    room.set_power_levels(
        invite=10, users={**users, BOB: 10}, events={"m.room.third_party_invite": 100}
    )
    room.check(room.build("m.room.third_party_invite", BOB, content, "tok"))


# ----------------------------------------------------------- required power level


@pytest.mark.parametrize("version", ALL)
def test_required_level_for_messages_and_state(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    room.check(room.build("m.room.message", BOB, {"body": "x"}))
    assert_rejected(
        room, room.build("m.room.topic", BOB, {"topic": "x"}, ""), rule(version, "required_level")
    )
    assert_rejected(
        room, room.build("m.room.name", BOB, {"name": "x"}, ""), rule(version, "required_level")
    )
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    room.set_power_levels(
        users={**users, BOB: 20},
        events_default=30,
        state_default=10,
        events={"m.room.name": 20, "m.custom": 25},
    )
    assert_rejected(
        room, room.build("m.room.message", BOB, {"body": "x"}), rule(version, "required_level")
    )
    room.check(room.build("m.room.topic", BOB, {"topic": "x"}, ""))
    room.check(room.build("m.room.name", BOB, {"name": "x"}, ""))
    assert_rejected(room, room.build("m.custom", BOB, {}), rule(version, "required_level"))
    # `events` applies to state and non-state events of the type alike.
    assert_rejected(room, room.build("m.custom", BOB, {}, ""), rule(version, "required_level"))


@pytest.mark.parametrize("version", ALL)
def test_defaults_without_power_levels_event(version: RoomVersion) -> None:
    room = RoomBuilder(version, power_levels=False)
    room.join(BOB)
    room.check(room.build("m.room.message", BOB, {"body": "x"}))
    # state_default is 50 without the event; the creator has 100 (v12: infinite).
    assert_rejected(
        room, room.build("m.room.topic", BOB, {"topic": "x"}, ""), rule(version, "required_level")
    )
    room.check(room.build("m.room.topic", ALICE, {"topic": "x"}, ""))


# --------------------------------------------------------------- user state keys


@pytest.mark.parametrize("version", ALL)
def test_state_key_naming_another_user_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.check(room.build("m.custom.state", ALICE, {}, ALICE))
    room.check(room.build("m.custom.state", ALICE, {}, "not-a-user"))
    assert_rejected(room, room.build("m.custom.state", ALICE, {}, BOB), rule(version, "state_key"))
    assert_rejected(
        room, room.build("m.custom.state", ALICE, {}, ALICE + "_x"), rule(version, "state_key")
    )


# ------------------------------------------------------- m.room.redaction (v1-v2)


@pytest.mark.parametrize("version", REDACTION_RULE)
def test_redaction_needs_redact_level_or_same_domain(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    room.join(DAVE)
    own = room.send("m.room.message", BOB, {"body": "mine"})
    theirs = room.send("m.room.message", DAVE, {"body": "theirs"})
    room.check(room.build("m.room.redaction", BOB, {}, redacts=own["event_id"]))
    event = room.build("m.room.redaction", BOB, {}, redacts=theirs["event_id"])
    assert_rejected(room, event, rule(version, "redaction", 3))
    assert_rejected(room, room.build("m.room.redaction", BOB, {}), rule(version, "redaction", 3))
    room.check(room.build("m.room.redaction", ALICE, {}, redacts=theirs["event_id"]))


@pytest.mark.parametrize("version", NO_REDACTION_RULE)
def test_redaction_is_an_ordinary_event_from_v3(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    room.join(DAVE)
    theirs = room.send("m.room.message", DAVE, {"body": "theirs"})
    target = room.event_id(theirs)
    if version.event_format.redacts_in_content:
        event = room.build("m.room.redaction", BOB, {"redacts": target})
    else:
        event = room.build("m.room.redaction", BOB, {}, redacts=target)
    room.check(event)  # the redact level is not an auth rule
    room.set_power_levels(events={"m.room.redaction": 10})
    assert_rejected(room, event, rule(version, "required_level"))


# ------------------------------------------------------------- v12 room creators


@pytest.mark.parametrize("version", V12)
def test_v12_creators_have_unlimited_power(version: RoomVersion) -> None:
    room = RoomBuilder(version, create_content={"additional_creators": [BOB]})
    room.join(BOB)
    room.join(CAROL)
    # No entry in users, yet both creators pass every level, however high.
    room.set_power_levels(users={CAROL: 10**15}, events={"m.room.topic": 2**53 - 1}, ban=2**53 - 1)
    room.check(room.build("m.room.topic", BOB, {"topic": "x"}, ""))
    room.check(room.member(BOB, CAROL, "ban"))
    room.check(room.member(ALICE, CAROL, "leave"))


@pytest.mark.parametrize("version", V12)
def test_v12_creators_cannot_be_kicked_or_banned(version: RoomVersion) -> None:
    room = RoomBuilder(version, create_content={"additional_creators": [BOB]})
    room.join(BOB)
    room.join(CAROL)
    room.set_power_levels(users={CAROL: 100})
    assert_rejected(
        room, room.member(CAROL, BOB, "ban"), rule(version, "member", member_sub(version, "ban"), 3)
    )
    assert_rejected(
        room,
        room.member(CAROL, ALICE, "leave"),
        rule(version, "member", member_sub(version, "leave"), 5),
    )
    # Creators are equal: neither is below the other.
    assert_rejected(
        room, room.member(ALICE, BOB, "ban"), rule(version, "member", member_sub(version, "ban"), 3)
    )


@pytest.mark.parametrize("version", V12)
def test_v12_creators_without_power_levels_event(version: RoomVersion) -> None:
    room = RoomBuilder(version, create_content={"additional_creators": [DAVE]}, power_levels=False)
    room.join(DAVE)
    room.join(BOB)
    room.check(room.build("m.room.topic", DAVE, {"topic": "x"}, ""))
    room.check(room.member(DAVE, BOB, "ban"))
    assert_rejected(
        room, room.build("m.room.topic", BOB, {"topic": "x"}, ""), rule(version, "required_level")
    )


@pytest.mark.parametrize("version", PRE_V12)
def test_creator_is_an_ordinary_user_once_power_levels_exist(version: RoomVersion) -> None:
    room = RoomBuilder(version, create_content={"additional_creators": [BOB]})
    room.join(BOB)
    room.join(CAROL)
    room.set_power_levels(users={ALICE: 100, CAROL: 100})
    # ALICE has 100 like CAROL: neither can ban the other; BOB is no creator.
    number = rule(version, "member", member_sub(version, "ban"), 3)
    assert_rejected(room, room.member(CAROL, ALICE, "ban"), number)
    assert_rejected(room, room.member(BOB, CAROL, "ban"), number)
    room.check(room.member(CAROL, BOB, "ban"))


@pytest.mark.parametrize("version", [*versions(lambda v: v.identifier == "1"), *V12])
def test_unrelated_remote_users_follow_the_same_rules(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(EVE)
    room.check(room.build("m.room.message", EVE, {"body": "x"}))
