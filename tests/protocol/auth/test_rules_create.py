"""Rule 1 (m.room.create), v12 rule 2 (room ID) and the auth_events rule (2; v12: 3)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from myelin.protocol.auth import check_auth, check_state_dependent, check_state_independent
from myelin.protocol.errors import Forbidden
from myelin.protocol.room_versions import RoomVersion
from tests.protocol.auth.factory import (
    ALICE,
    BOB,
    DAVE,
    RoomBuilder,
    assert_rejected,
    rule,
    versions,
)

ALL = versions()
V1_TO_V11 = versions(lambda v: not v.authorization.room_create_event_id_as_room_id)
V12 = versions(lambda v: v.authorization.room_create_event_id_as_room_id)
EXPLICIT_CREATOR = versions(lambda v: not v.authorization.implicit_room_creator)
IMPLICIT_CREATOR = versions(lambda v: v.authorization.implicit_room_creator)


def _create(room: RoomBuilder, **changes: Any) -> dict[str, Any]:
    """A copy of the room's create event with top-level changes (None deletes)."""
    event = copy.deepcopy(room.create)
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def _rejects_create(version: RoomVersion, event: dict[str, Any], number: str) -> None:
    with pytest.raises(Forbidden, match=rf"^rule {number} \("):
        check_auth(version, event, {})


# ------------------------------------------------------------------------ rule 1


@pytest.mark.parametrize("version", ALL)
def test_create_event_is_allowed_without_auth_events(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    check_auth(version, room.create, {})
    check_state_independent(version, room.create, [])
    check_state_dependent(version, room.create, {})


@pytest.mark.parametrize("version", ALL)
def test_create_with_prev_events_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = _create(room, prev_events=[room.ref(room.events[1])])
    _rejects_create(version, event, rule(version, "create", 1))


@pytest.mark.parametrize("version", V1_TO_V11)
def test_create_room_id_domain_must_match_sender(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    _rejects_create(version, _create(room, sender=DAVE), rule(version, "create", 2))
    _rejects_create(version, _create(room, room_id="!nodomain"), rule(version, "create", 2))
    _rejects_create(version, _create(room, room_id=None), rule(version, "create", 2))


@pytest.mark.parametrize("version", V12)
def test_v12_create_must_not_have_room_id(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    _rejects_create(version, _create(room, room_id=room.room_id), rule(version, "create", 2))
    # Any server may create a v12 room: there is no domain to match.
    check_auth(version, _create(room, sender=DAVE), {})


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize("room_version", ["13", "1.0", 12, None])
def test_create_with_unknown_room_version_is_rejected(
    version: RoomVersion, room_version: object
) -> None:
    room = RoomBuilder(version)
    content = dict(room.create["content"], room_version=room_version)
    _rejects_create(version, _create(room, content=content), rule(version, "create", 3))


@pytest.mark.parametrize("version", ALL)
def test_create_without_room_version_is_fine(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    content = {k: v for k, v in room.create["content"].items() if k != "room_version"}
    check_auth(version, _create(room, content=content), {})


@pytest.mark.parametrize("version", EXPLICIT_CREATOR)
def test_create_without_creator_is_rejected_before_v11(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    _rejects_create(version, _create(room, content={"room_version": version.identifier}), "1.4")


@pytest.mark.parametrize("version", IMPLICIT_CREATOR)
def test_create_without_creator_is_fine_from_v11(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    check_auth(version, _create(room, content={"room_version": version.identifier}), {})


@pytest.mark.parametrize("version", V12)
@pytest.mark.parametrize("extra", [[BOB], [], [BOB, DAVE]], ids=["one", "empty", "two"])
def test_v12_additional_creators_valid(version: RoomVersion, extra: list[str]) -> None:
    room = RoomBuilder(version, create_content={"additional_creators": extra})
    check_auth(version, room.create, {})


@pytest.mark.parametrize("version", V12)
@pytest.mark.parametrize(
    "extra",
    [BOB, [BOB, 5], ["not-a-user"], ["@nodomain"], {"@a:b": 1}],
    ids=["string", "non-string", "no-sigil", "no-domain", "object"],
)
def test_v12_additional_creators_invalid(version: RoomVersion, extra: object) -> None:
    room = RoomBuilder(version)
    content = dict(room.create["content"], additional_creators=extra)
    _rejects_create(version, _create(room, content=content), "1.4")


@pytest.mark.parametrize("version", versions(lambda v: not v.authorization.additional_creators))
def test_additional_creators_is_ignored_before_v12(version: RoomVersion) -> None:
    room = RoomBuilder(version, create_content={"additional_creators": "junk"})
    check_auth(version, room.create, {})


# ------------------------------------------------------------ v12 rule 2: room ID


@pytest.mark.parametrize("version", V12)
def test_v12_room_id_must_be_create_event_id(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.check(room.build("m.room.message", ALICE, {"body": "x"}))
    other = RoomBuilder(version)
    # An event claiming this room, authorised with another room's create event.
    event = room.build("m.room.message", ALICE, {"body": "x"})
    state = dict(room.state)
    state[("m.room.create", "")] = other.create
    with pytest.raises(Forbidden, match=r"^rule 2 \(v12\+\)"):
        check_auth(version, event, state)


@pytest.mark.parametrize("version", V12)
def test_v12_missing_create_event_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.build("m.room.message", ALICE, {"body": "x"})
    state = {k: v for k, v in room.state.items() if k != ("m.room.create", "")}
    with pytest.raises(Forbidden, match=r"^rule 2 \(v12\+\)"):
        check_auth(version, event, state)


@pytest.mark.parametrize("version", V1_TO_V11)
def test_missing_create_event_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.build("m.room.message", ALICE, {"body": "x"})
    state = {k: v for k, v in room.state.items() if k != ("m.room.create", "")}
    with pytest.raises(Forbidden, match=r"^rule 2\.4 \(v1-v11\)"):
        check_auth(version, event, state)


@pytest.mark.parametrize("version", ALL)
def test_auth_event_from_another_room_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    other = RoomBuilder(version)
    event = room.build("m.room.message", ALICE, {"body": "x"})
    state = dict(room.state)
    state[("m.room.power_levels", "")] = other.state[("m.room.power_levels", "")]
    assert_rejected_state(version, event, state, rule(version, "auth_events", 5))


def assert_rejected_state(
    version: RoomVersion, event: dict[str, Any], state: dict[Any, Any], number: str
) -> None:
    with pytest.raises(Forbidden, match=rf"^rule {number} \("):
        check_auth(version, event, state)


# ----------------------------------------------- rule 2 (v12: 3): the auth_events list


@pytest.mark.parametrize("version", ALL)
def test_selected_auth_events_pass(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    room.join(BOB)
    for event in room.events[1:]:
        check_state_independent(version, event, room.auth_event_list(event))
    message = room.build("m.room.message", BOB, {"body": "x"})
    check_state_independent(version, message, room.auth_event_list(message))


@pytest.mark.parametrize("version", ALL)
def test_duplicate_auth_event_types_are_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    old_pl = room.state[("m.room.power_levels", "")]
    room.set_power_levels(ban=60)
    message = room.build("m.room.message", ALICE, {"body": "x"})
    auth = room.auth_event_list(message) + [old_pl]
    with pytest.raises(Forbidden, match=rf"^rule {rule(version, 'auth_events', 1)} "):
        check_state_independent(version, message, auth)


@pytest.mark.parametrize("version", ALL)
def test_unselected_auth_event_is_rejected(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    message = room.build("m.room.message", ALICE, {"body": "x"})
    auth = room.auth_event_list(message) + [room.state[("m.room.join_rules", "")]]
    with pytest.raises(Forbidden, match=rf"^rule {rule(version, 'auth_events', 2)} "):
        check_state_independent(version, message, auth)


@pytest.mark.parametrize("version", V12)
def test_v12_create_event_must_not_be_an_auth_event(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    message = room.build("m.room.message", ALICE, {"body": "x"})
    auth = room.auth_event_list(message)
    assert all(e["type"] != "m.room.create" for e in auth)
    with pytest.raises(Forbidden, match=r"^rule 3\.2 \(v1\+\)"):
        check_state_independent(version, message, [room.create, *auth])


@pytest.mark.parametrize("version", V1_TO_V11)
def test_create_event_must_be_an_auth_event(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    message = room.build("m.room.message", ALICE, {"body": "x"})
    auth = [e for e in room.auth_event_list(message) if e["type"] != "m.room.create"]
    with pytest.raises(Forbidden, match=r"^rule 2\.4 \(v1-v11\)"):
        check_state_independent(version, message, auth)


@pytest.mark.parametrize("version", ALL)
def test_auth_event_list_room_ids_must_match(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    other = RoomBuilder(version)
    message = room.build("m.room.message", ALICE, {"body": "x"})
    auth = [
        other.state[("m.room.power_levels", "")] if e["type"] == "m.room.power_levels" else e
        for e in room.auth_event_list(message)
    ]
    with pytest.raises(Forbidden, match=rf"^rule {rule(version, 'auth_events', 5)} "):
        check_state_independent(version, message, auth)


@pytest.mark.parametrize("version", ALL)
def test_check_state_independent_without_list_skips_rule_2(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    check_state_independent(version, room.build("m.room.message", ALICE, {"body": "x"}))


@pytest.mark.parametrize("version", ALL)
def test_forbidden_carries_m_forbidden(version: RoomVersion) -> None:
    room = RoomBuilder(version)
    event = room.build("m.room.message", BOB, {"body": "x"})
    with pytest.raises(Forbidden) as info:
        room.check(event)
    assert info.value.errcode == "M_FORBIDDEN"
    assert info.value.status_hint == 403
    assert_rejected(room, event, rule(version, "sender_joined"))
