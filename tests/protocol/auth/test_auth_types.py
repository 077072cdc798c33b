"""auth_types_for_event (server-server §Auth events selection; rooms/v12.md rule 3.2)."""

from __future__ import annotations

from typing import Any

import pytest

from myelin.protocol.auth import auth_types_for_event
from myelin.protocol.room_versions import RoomVersion
from tests.protocol.auth.factory import ALICE, BOB, CAROL, versions

ALL = versions()
CREATE = ("m.room.create", "")
PL = ("m.room.power_levels", "")
JR = ("m.room.join_rules", "")


def _base(version: RoomVersion, sender: str) -> list[tuple[str, str]]:
    create = [] if version.authorization.room_create_event_id_as_room_id else [CREATE]
    return [*create, PL, ("m.room.member", sender)]


@pytest.mark.parametrize("version", ALL)
def test_create_has_no_auth_events(version: RoomVersion) -> None:
    assert auth_types_for_event(version, "m.room.create", ALICE, "", {}) == []


@pytest.mark.parametrize("version", ALL)
def test_message_and_state(version: RoomVersion) -> None:
    assert auth_types_for_event(version, "m.room.message", BOB, None, {"body": "x"}) == _base(
        version, BOB
    )
    assert auth_types_for_event(version, "m.room.topic", BOB, "", {}) == _base(version, BOB)


@pytest.mark.parametrize("version", versions(lambda v: v.identifier == "12"))
def test_v12_never_selects_create(version: RoomVersion) -> None:
    assert CREATE not in auth_types_for_event(
        version, "m.room.member", BOB, BOB, {"membership": "join"}
    )


@pytest.mark.parametrize("version", versions(lambda v: v.identifier != "12"))
def test_create_is_selected_before_v12(version: RoomVersion) -> None:
    assert auth_types_for_event(version, "m.room.message", BOB, None, {})[0] == CREATE


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("membership", ["join", "knock"])
def test_self_membership_with_join_rules(version: RoomVersion, membership: str) -> None:
    got = auth_types_for_event(version, "m.room.member", BOB, BOB, {"membership": membership})
    assert got == [*_base(version, BOB), JR]  # the target's member event is the sender's


@pytest.mark.parametrize("version", ALL)
def test_invite_selects_target_and_join_rules(version: RoomVersion) -> None:
    got = auth_types_for_event(version, "m.room.member", ALICE, BOB, {"membership": "invite"})
    assert got == [*_base(version, ALICE), ("m.room.member", BOB), JR]


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("membership", ["leave", "ban"])
def test_leave_and_ban_do_not_select_join_rules(version: RoomVersion, membership: str) -> None:
    got = auth_types_for_event(version, "m.room.member", ALICE, BOB, {"membership": membership})
    assert got == [*_base(version, ALICE), ("m.room.member", BOB)]


@pytest.mark.parametrize("version", ALL)
def test_third_party_invite_selects_token(version: RoomVersion) -> None:
    content = {"membership": "invite", "third_party_invite": {"signed": {"token": "abc"}}}
    got = auth_types_for_event(version, "m.room.member", ALICE, BOB, content)
    assert got[-1] == ("m.room.third_party_invite", "abc")
    content = {"membership": "invite", "third_party_invite": {"signed": {"token": 5}}}
    got = auth_types_for_event(version, "m.room.member", ALICE, BOB, content)
    assert all(t != "m.room.third_party_invite" for t, _ in got)
    # Only for invites.
    content = {"membership": "join", "third_party_invite": {"signed": {"token": "abc"}}}
    got = auth_types_for_event(version, "m.room.member", BOB, BOB, content)
    assert all(t != "m.room.third_party_invite" for t, _ in got)


@pytest.mark.parametrize("version", versions(lambda v: v.authorization.restricted_join_rule))
def test_restricted_join_selects_authoriser_from_v8(version: RoomVersion) -> None:
    content = {"membership": "join", "join_authorised_via_users_server": CAROL}
    got = auth_types_for_event(version, "m.room.member", BOB, BOB, content)
    assert got == [*_base(version, BOB), JR, ("m.room.member", CAROL)]
    # Not for other memberships.
    content = {"membership": "leave", "join_authorised_via_users_server": CAROL}
    got = auth_types_for_event(version, "m.room.member", BOB, BOB, content)
    assert ("m.room.member", CAROL) not in got


@pytest.mark.parametrize("version", versions(lambda v: not v.authorization.restricted_join_rule))
def test_authoriser_not_selected_before_v8(version: RoomVersion) -> None:
    content = {"membership": "join", "join_authorised_via_users_server": CAROL}
    got = auth_types_for_event(version, "m.room.member", BOB, BOB, content)
    assert ("m.room.member", CAROL) not in got


@pytest.mark.parametrize("version", ALL)
def test_odd_member_content_does_not_raise(version: RoomVersion) -> None:
    odd: list[dict[str, Any]] = [{}, {"membership": 3}]
    for content in odd:
        got = auth_types_for_event(version, "m.room.member", BOB, BOB, content)
        assert got == _base(version, BOB)
    invite: dict[str, Any] = {"membership": "invite", "third_party_invite": "x"}
    got = auth_types_for_event(version, "m.room.member", BOB, BOB, invite)
    assert got == [*_base(version, BOB), JR]
    got = auth_types_for_event(version, "m.room.member", BOB, None, {"membership": "join"})
    assert got == [*_base(version, BOB), JR]
