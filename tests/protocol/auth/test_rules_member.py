"""The m.room.member authorisation rule (v1-v5, v12: rule 5; v6-v11: rule 4)."""

from __future__ import annotations

from typing import Any

import pytest

from myelin.protocol.canonical_json import encode_base64
from myelin.protocol.events.signing import (
    decode_signing_key_base64,
    encode_verify_key_base64,
    get_verify_key,
    sign_json,
)
from myelin.protocol.room_versions import RoomVersion
from tests.protocol.auth.factory import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    RoomBuilder,
    assert_rejected,
    join_sub,
    member_sub,
    rule,
    versions,
)

ALL = versions()
KNOCK = versions(lambda v: v.authorization.knock_join_rule)
NO_KNOCK = versions(lambda v: not v.authorization.knock_join_rule)
RESTRICTED = versions(lambda v: v.authorization.restricted_join_rule)
NO_RESTRICTED = versions(lambda v: not v.authorization.restricted_join_rule)
KNOCK_RESTRICTED = versions(lambda v: v.authorization.knock_restricted_join_rule)
NO_KNOCK_RESTRICTED = versions(lambda v: not v.authorization.knock_restricted_join_rule)
EXPLICIT_CREATOR = versions(lambda v: not v.authorization.implicit_room_creator)
IMPLICIT_CREATOR = versions(lambda v: v.authorization.implicit_room_creator)


def member_rule(version: RoomVersion, name: str, *subs: int) -> str:
    return rule(version, "member", member_sub(version, name), *subs)


def join_rule_no(version: RoomVersion, name: str, *subs: int) -> str:
    return member_rule(version, "join", join_sub(version, name), *subs)


# ------------------------------------------------------------------------ .1 shape


@pytest.mark.parametrize("version", ALL)
def test_member_without_membership_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.build("m.room.member", BOB, {"displayname": "Bob"}, BOB)
    assert_rejected(room, event, member_rule(version, "shape"))


@pytest.mark.parametrize("version", ALL)
def test_member_without_state_key_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.build("m.room.member", BOB, {"membership": "join"})
    assert_rejected(room, event, member_rule(version, "shape"))


@pytest.mark.parametrize("version", ALL)
def test_unknown_membership_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    assert_rejected(room, room.member(BOB, BOB, "wander"), member_rule(version, "unknown"))
    assert_rejected(room, room.member(BOB, BOB, None), member_rule(version, "unknown"))  # type: ignore[arg-type]


# ------------------------------------------------------------------------ joins


@pytest.mark.parametrize("version", ALL)
def test_creator_first_join_is_allowed_without_join_rules(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_creator=False, power_levels=False, join_rule=None)
    room.check(room.member(ALICE, ALICE, "join"))


@pytest.mark.parametrize("version", ALL)
def test_first_join_special_case_needs_create_as_only_prev_event(version: RoomVersion) -> None:
    # Only the create event counts: with another prev event, the join falls through
    # to the join rule (none, read as invite) and is rejected.
    room = RoomBuilder(version, join_creator=False, power_levels=False, join_rule=None)
    topic = room.build("m.room.topic", ALICE, {"topic": "x"}, "")
    event = room.build(
        "m.room.member", ALICE, {"membership": "join"}, ALICE, prev_events=[room.create, topic]
    )
    assert_rejected(room, event, join_rule_no(version, "reject"))
    event = room.build("m.room.member", ALICE, {"membership": "join"}, ALICE, prev_events=[topic])
    assert_rejected(room, event, join_rule_no(version, "reject"))


@pytest.mark.parametrize("version", ALL)
def test_non_creator_first_join_is_not_special(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_creator=False, power_levels=False, join_rule=None)
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))


@pytest.mark.parametrize("version", EXPLICIT_CREATOR)
def test_creator_is_content_creator_before_v11(version: RoomVersion) -> None:
    # v1-v10: "the creator" is content.creator, which may differ from the sender.
    room = RoomBuilder(
        version,
        create_content={"creator": BOB},
        join_creator=False,
        power_levels=False,
        join_rule=None,
    )
    room.check(room.member(BOB, BOB, "join"))
    assert_rejected(room, room.member(ALICE, ALICE, "join"), join_rule_no(version, "reject"))


@pytest.mark.parametrize("version", IMPLICIT_CREATOR)
def test_creator_is_create_sender_from_v11(version: RoomVersion) -> None:
    room = RoomBuilder(
        version,
        create_content={"creator": BOB},
        join_creator=False,
        power_levels=False,
        join_rule=None,
    )
    room.check(room.member(ALICE, ALICE, "join"))
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))


@pytest.mark.parametrize("version", ALL)
def test_join_for_someone_else_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    assert_rejected(room, room.member(ALICE, BOB, "join"), join_rule_no(version, "sender"))


@pytest.mark.parametrize("version", ALL)
def test_banned_user_cannot_join(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.set_member(ALICE, BOB, "ban")
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "banned"))


@pytest.mark.parametrize("version", ALL)
def test_public_room_join(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule="public")
    room.check(room.member(BOB, BOB, "join"))
    room.check(room.member(DAVE, DAVE, "join"))


@pytest.mark.parametrize("version", ALL)
def test_invite_only_join(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule="invite")
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))
    room.set_member(ALICE, BOB, "invite")
    room.join(BOB)
    # Already joined: a profile change is a join → join.
    room.check(room.member(BOB, BOB, "join", displayname="Bob"))


@pytest.mark.parametrize("version", ALL)
def test_missing_join_rules_reads_as_invite(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule=None)
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))
    room.set_member(ALICE, BOB, "invite")
    room.check(room.member(BOB, BOB, "join"))


@pytest.mark.parametrize("version", ALL)
def test_private_and_malformed_join_rules_reject(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.set_member(ALICE, BOB, "invite")
    room.set_join_rule("private")
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))
    room.apply(room.build("m.room.join_rules", ALICE, {"join_rule": 5}, ""))
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))


@pytest.mark.parametrize("version", KNOCK)
def test_knock_join_rule_lets_invited_users_join(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule="knock")
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))
    room.set_member(ALICE, BOB, "invite")
    room.check(room.member(BOB, BOB, "join"))


@pytest.mark.parametrize("version", NO_KNOCK)
def test_knock_join_rule_is_unknown_before_v7(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.set_member(ALICE, BOB, "invite")
    room.set_join_rule("knock")
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "reject"))


# ----------------------------------------------------------------- restricted joins


def _restricted_room(version: RoomVersion, join_rule: str = "restricted") -> RoomBuilder:
    room = RoomBuilder(version)
    room.join(CAROL)  # level 0
    room.set_join_rule(join_rule, allow=[{"type": "m.room_membership", "room_id": "!space:x.y"}])
    return room


@pytest.mark.parametrize("version", RESTRICTED)
def test_restricted_join_authorised_by_joined_user_who_can_invite(version: RoomVersion) -> None:
    room = _restricted_room(version)
    room.check(room.member(BOB, BOB, "join", join_authorised_via_users_server=ALICE))


@pytest.mark.parametrize("version", RESTRICTED)
def test_restricted_join_of_invited_user_needs_no_authoriser(version: RoomVersion) -> None:
    room = _restricted_room(version)
    room.set_member(ALICE, BOB, "invite")
    room.check(room.member(BOB, BOB, "join"))


@pytest.mark.parametrize("version", RESTRICTED)
def test_restricted_join_without_authoriser_is_rejected(version: RoomVersion) -> None:
    room = _restricted_room(version)
    event = room.member(BOB, BOB, "join")
    assert_rejected(room, event, join_rule_no(version, "restricted", 2))


@pytest.mark.parametrize("version", RESTRICTED)
def test_restricted_join_authoriser_must_be_joined(version: RoomVersion) -> None:
    room = _restricted_room(version)
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=DAVE)
    assert_rejected(room, event, join_rule_no(version, "restricted", 2))


@pytest.mark.parametrize("version", RESTRICTED)
def test_restricted_join_authoriser_needs_invite_level(version: RoomVersion) -> None:
    room = _restricted_room(version)
    room.force_power_levels(invite=50)
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=CAROL)
    assert_rejected(room, event, join_rule_no(version, "restricted", 2))
    room.check(room.member(BOB, BOB, "join", join_authorised_via_users_server=ALICE))
    # The boundary: exactly the invite level is enough, one below is not.
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    room.force_power_levels(invite=50, users={**users, CAROL: 49})
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=CAROL)
    assert_rejected(room, event, join_rule_no(version, "restricted", 2))
    room.force_power_levels(invite=50, users={**users, CAROL: 50})
    room.check(room.member(BOB, BOB, "join", join_authorised_via_users_server=CAROL))


@pytest.mark.parametrize("version", RESTRICTED)
def test_restricted_join_banned_user_is_rejected(version: RoomVersion) -> None:
    room = _restricted_room(version)
    room.set_member(ALICE, BOB, "ban")
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=ALICE)
    assert_rejected(room, event, join_rule_no(version, "banned"))


@pytest.mark.parametrize("version", NO_RESTRICTED)
def test_restricted_join_rule_is_unknown_before_v8(version: RoomVersion) -> None:
    room = _restricted_room(version)
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=ALICE)
    assert_rejected(room, event, join_rule_no(version, "reject"))


@pytest.mark.parametrize("version", KNOCK_RESTRICTED)
def test_knock_restricted_join_from_v10(version: RoomVersion) -> None:
    room = _restricted_room(version, "knock_restricted")
    room.check(room.member(BOB, BOB, "join", join_authorised_via_users_server=ALICE))
    assert_rejected(room, room.member(BOB, BOB, "join"), join_rule_no(version, "restricted", 2))


@pytest.mark.parametrize("version", NO_KNOCK_RESTRICTED)
def test_knock_restricted_join_rule_is_unknown_before_v10(version: RoomVersion) -> None:
    room = _restricted_room(version, "knock_restricted")
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=ALICE)
    assert_rejected(room, event, join_rule_no(version, "reject"))


@pytest.mark.parametrize("version", RESTRICTED)
def test_authoriser_signature_is_checked_when_a_verifier_is_given(version: RoomVersion) -> None:
    room = _restricted_room(version)
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=DAVE)
    calls: list[str] = []

    def refuse(_event: Any, server: str) -> bool:
        calls.append(server)
        return False

    assert_rejected(room, event, member_rule(version, "signature"), verify_signed_by=refuse)
    assert calls == ["other.example"]
    ok = room.member(BOB, BOB, "join", join_authorised_via_users_server=ALICE)
    room.check(ok, verify_signed_by=lambda _e, server: server == "example.org")


@pytest.mark.parametrize("version", NO_RESTRICTED)
def test_authoriser_signature_is_not_a_rule_before_v8(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.member(BOB, BOB, "join", join_authorised_via_users_server=DAVE)
    room.check(event, verify_signed_by=lambda _e, _s: False)


# ------------------------------------------------------------------------ invites


@pytest.mark.parametrize("version", ALL)
def test_invite_by_joined_member(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule="invite")
    room.check(room.member(ALICE, BOB, "invite"))


@pytest.mark.parametrize("version", ALL)
def test_invite_by_non_member_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule="invite")
    assert_rejected(room, room.member(CAROL, BOB, "invite"), member_rule(version, "invite", 2))


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("membership", ["join", "ban"])
def test_invite_of_joined_or_banned_user_is_rejected(version: RoomVersion, membership: str) -> None:
    room = RoomBuilder(version)
    room.force_member(BOB, membership, sender=ALICE)
    assert_rejected(room, room.member(ALICE, BOB, "invite"), member_rule(version, "invite", 3))


@pytest.mark.parametrize("version", ALL)
def test_invite_needs_invite_level(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(CAROL)
    room.set_power_levels(invite=10)
    assert_rejected(room, room.member(CAROL, BOB, "invite"), member_rule(version, "invite", 5))
    room.set_power_levels(
        invite=10, users={**room.state[("m.room.power_levels", "")]["content"]["users"], CAROL: 10}
    )
    room.check(room.member(CAROL, BOB, "invite"))


@pytest.mark.parametrize("version", ALL)
def test_reinvite_of_invited_or_left_user(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.set_member(ALICE, BOB, "invite")
    room.check(room.member(ALICE, BOB, "invite"))
    room.set_member(BOB, BOB, "leave")
    room.check(room.member(ALICE, BOB, "invite"))


# ------------------------------------------------------------- third-party invites

IS_KEY = decode_signing_key_base64(
    "ed25519", "0", encode_base64(b"identity-server-key-seed-32bytes")
)
OTHER_KEY = decode_signing_key_base64(
    "ed25519", "0", encode_base64(b"another-identity-server-seed-32b")
)
IS_PUBLIC = encode_verify_key_base64(get_verify_key(IS_KEY))
TOKEN = "tok123"


def _signed(mxid: str = BOB, token: str = TOKEN, key: Any = IS_KEY) -> dict[str, Any]:
    return sign_json({"mxid": mxid, "token": token}, "id.example", key)


def _tpi_room(version: RoomVersion, **invite_content: Any) -> RoomBuilder:
    room = RoomBuilder(version, join_rule="invite")
    content = {"display_name": "b...@example.com", "key_validity_url": "https://id.example/v"}
    content.update(invite_content or {"public_key": IS_PUBLIC})
    room.send("m.room.third_party_invite", ALICE, content, TOKEN)
    return room


def _tpi_member(room: RoomBuilder, sender: str = ALICE, **tpi: Any) -> dict[str, Any]:
    third_party_invite = {"display_name": "b...@example.com", "signed": _signed()}
    third_party_invite.update(tpi)
    return room.member(sender, BOB, "invite", third_party_invite=third_party_invite)


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_with_valid_signature(version: RoomVersion) -> None:
    room = _tpi_room(version)
    event = _tpi_member(room)
    assert ("m.room.third_party_invite", TOKEN) in {
        (e["type"], e["state_key"]) for e in room.auth_event_list(event)
    }
    room.check(event)


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_key_from_public_keys_list_and_urlsafe(version: RoomVersion) -> None:
    urlsafe = IS_PUBLIC.replace("+", "-").replace("/", "_")
    room = _tpi_room(
        version,
        public_key=encode_verify_key_base64(get_verify_key(OTHER_KEY)),
        public_keys=[{"public_key": "not base64!"}, {"public_key": urlsafe}],
    )
    room.check(_tpi_member(room))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_of_banned_user_is_rejected(version: RoomVersion) -> None:
    room = _tpi_room(version)
    room.force_member(BOB, "ban", sender=ALICE)
    assert_rejected(room, _tpi_member(room), member_rule(version, "invite", 1, 1))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_without_signed_is_rejected(version: RoomVersion) -> None:
    room = _tpi_room(version)
    event = room.member(ALICE, BOB, "invite", third_party_invite={"display_name": "b"})
    assert_rejected(room, event, member_rule(version, "invite", 1, 2))
    event = room.member(ALICE, BOB, "invite", third_party_invite="nope")
    assert_rejected(room, event, member_rule(version, "invite", 1, 2))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_signed_needs_mxid_and_token(version: RoomVersion) -> None:
    room = _tpi_room(version)
    signed = sign_json({"mxid": BOB}, "id.example", IS_KEY)
    assert_rejected(room, _tpi_member(room, signed=signed), member_rule(version, "invite", 1, 3))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_mxid_must_be_target(version: RoomVersion) -> None:
    room = _tpi_room(version)
    event = _tpi_member(room, signed=_signed(mxid=CAROL))
    assert_rejected(room, event, member_rule(version, "invite", 1, 4))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_needs_matching_invite_event(version: RoomVersion) -> None:
    room = _tpi_room(version)
    event = _tpi_member(room, signed=_signed(token="other"))
    assert_rejected(room, event, member_rule(version, "invite", 1, 5))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_sender_must_match_invite_event_sender(version: RoomVersion) -> None:
    room = _tpi_room(version)
    room.force_member(CAROL, "join")
    assert_rejected(room, _tpi_member(room, sender=CAROL), member_rule(version, "invite", 1, 6))


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_bad_signature_is_rejected(version: RoomVersion) -> None:
    room = _tpi_room(version)
    event = _tpi_member(room, signed=_signed(key=OTHER_KEY))
    assert_rejected(room, event, member_rule(version, "invite", 1, 8))
    tampered = _signed()
    tampered["token"] = TOKEN  # unchanged token, but add a field after signing
    tampered["extra"] = 1
    assert_rejected(room, _tpi_member(room, signed=tampered), member_rule(version, "invite", 1, 8))


# ------------------------------------------------------------------------- leave


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("membership", ["join", "invite"])
def test_leave_self_from_join_or_invite(version: RoomVersion, membership: str) -> None:
    room = RoomBuilder(version)
    room.force_member(BOB, membership, sender=ALICE)
    room.check(room.member(BOB, BOB, "leave"))


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("membership", [None, "leave", "ban"])
def test_leave_self_from_other_states_is_rejected(
    version: RoomVersion, membership: str | None
) -> None:
    room = RoomBuilder(version)
    if membership is not None:
        room.force_member(BOB, membership, sender=ALICE)
    assert_rejected(room, room.member(BOB, BOB, "leave"), member_rule(version, "leave", 1))


@pytest.mark.parametrize("version", KNOCK)
def test_leave_self_from_knock_from_v7(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.force_member(BOB, "knock")
    room.check(room.member(BOB, BOB, "leave"))


@pytest.mark.parametrize("version", NO_KNOCK)
def test_leave_self_from_knock_before_v7(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.force_member(BOB, "knock")
    assert_rejected(room, room.member(BOB, BOB, "leave"), member_rule(version, "leave", 1))


@pytest.mark.parametrize("version", ALL)
def test_kick_by_non_member_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    assert_rejected(room, room.member(CAROL, BOB, "leave"), member_rule(version, "leave", 2))


@pytest.mark.parametrize("version", ALL)
def test_kick_needs_kick_level_and_higher_level_than_target(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    room.join(CAROL)
    room.check(room.member(ALICE, BOB, "leave"))
    assert_rejected(room, room.member(CAROL, BOB, "leave"), member_rule(version, "leave", 5))
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    room.set_power_levels(users={**users, BOB: 50, CAROL: 50})
    # Equal levels: not below the sender.
    assert_rejected(room, room.member(CAROL, BOB, "leave"), member_rule(version, "leave", 5))
    room.set_power_levels(users={**users, BOB: 40, CAROL: 50}, kick=60)
    assert_rejected(room, room.member(CAROL, BOB, "leave"), member_rule(version, "leave", 5))
    room.set_power_levels(users={**users, BOB: 40, CAROL: 50}, kick=50)
    room.check(room.member(CAROL, BOB, "leave"))


@pytest.mark.parametrize("version", ALL)
def test_unban_needs_ban_level(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(CAROL)
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    room.set_power_levels(users={**users, CAROL: 60}, kick=50, ban=70)
    room.set_member(ALICE, BOB, "ban")
    assert_rejected(room, room.member(CAROL, BOB, "leave"), member_rule(version, "leave", 3))
    room.check(room.member(ALICE, BOB, "leave"))


# --------------------------------------------------------------------------- ban


@pytest.mark.parametrize("version", ALL)
def test_ban(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    room.join(CAROL)
    room.check(room.member(ALICE, BOB, "ban"))
    room.check(room.member(ALICE, DAVE, "ban"))  # never in the room
    assert_rejected(room, room.member(CAROL, BOB, "ban"), member_rule(version, "ban", 3))
    assert_rejected(room, room.member(DAVE, BOB, "ban"), member_rule(version, "ban", 1))
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    room.set_power_levels(users={**users, BOB: 50, CAROL: 50})
    assert_rejected(room, room.member(CAROL, BOB, "ban"), member_rule(version, "ban", 3))
    room.set_power_levels(users={**users, BOB: 10, CAROL: 50}, ban=51)
    assert_rejected(room, room.member(CAROL, BOB, "ban"), member_rule(version, "ban", 3))


# ------------------------------------------------------------------------- knock


@pytest.mark.parametrize("version", KNOCK)
def test_knock(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule="knock")
    event = room.member(BOB, BOB, "knock")
    assert ("m.room.join_rules", "") in {
        (e["type"], e["state_key"]) for e in room.auth_event_list(event)
    }
    room.check(event)
    room.check(room.member(DAVE, DAVE, "knock"))


@pytest.mark.parametrize("version", KNOCK)
@pytest.mark.parametrize("join_rule", ["public", "invite", "restricted", "private"])
def test_knock_needs_knock_join_rule(version: RoomVersion, join_rule: str) -> None:
    room = RoomBuilder(version)
    room.set_join_rule(join_rule)
    assert_rejected(room, room.member(BOB, BOB, "knock"), member_rule(version, "knock", 1))


@pytest.mark.parametrize("version", KNOCK_RESTRICTED)
def test_knock_on_knock_restricted_from_v10(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.set_join_rule("knock_restricted", allow=[])
    room.check(room.member(BOB, BOB, "knock"))


@pytest.mark.parametrize(
    "version",
    versions(
        lambda v: v.authorization.knock_join_rule and not v.authorization.knock_restricted_join_rule
    ),
)
def test_knock_on_knock_restricted_before_v10(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.set_join_rule("knock_restricted", allow=[])
    assert_rejected(room, room.member(BOB, BOB, "knock"), member_rule(version, "knock", 1))


@pytest.mark.parametrize("version", KNOCK)
def test_knock_for_someone_else_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version, join_rule="knock")
    assert_rejected(room, room.member(ALICE, BOB, "knock"), member_rule(version, "knock", 2))


@pytest.mark.parametrize("version", KNOCK)
@pytest.mark.parametrize("membership", ["ban", "invite", "join"])
def test_knock_from_ban_invite_join_is_rejected(version: RoomVersion, membership: str) -> None:
    room = RoomBuilder(version, join_rule="knock")
    room.force_member(BOB, membership, sender=ALICE)
    assert_rejected(room, room.member(BOB, BOB, "knock"), member_rule(version, "knock", 4))


@pytest.mark.parametrize("version", KNOCK)
@pytest.mark.parametrize("membership", ["leave", "knock"])
def test_knock_again_after_leave_or_knock(version: RoomVersion, membership: str) -> None:
    room = RoomBuilder(version, join_rule="knock")
    room.force_member(BOB, membership)
    room.check(room.member(BOB, BOB, "knock"))


@pytest.mark.parametrize("version", NO_KNOCK)
def test_knock_membership_is_unknown_before_v7(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.set_join_rule("knock")
    assert_rejected(room, room.member(BOB, BOB, "knock"), member_rule(version, "unknown"))
