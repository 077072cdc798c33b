"""The m.room.power_levels rule (v1-v5: 10; v6-v11: 9; v12: 10) and power level
value formats (fragments v1-stringy/floaty-power-levels, rooms/v10.md integers)."""

from __future__ import annotations

from typing import Any

import pytest

from myelin.protocol.errors import Forbidden
from myelin.protocol.room_versions import RoomVersion
from tests.protocol.auth.factory import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    RoomBuilder,
    assert_rejected,
    default_power_levels,
    power_levels_sub,
    rule,
    versions,
)

ALL = versions()
STRINGY = versions(lambda v: not v.authorization.integer_power_levels)
INTEGERS = versions(lambda v: v.authorization.integer_power_levels)
FLOATY = versions(lambda v: not v.event_format.strict_canonical_json)
STRINGY_NOT_FLOATY = versions(
    lambda v: not v.authorization.integer_power_levels and v.event_format.strict_canonical_json
)
NOTIFICATIONS = versions(lambda v: v.authorization.limit_notifications_power_levels)
NO_NOTIFICATIONS = versions(lambda v: not v.authorization.limit_notifications_power_levels)
V12 = versions(lambda v: v.authorization.privileged_creators)


def pl_rule(version: RoomVersion, step: str) -> str:
    return rule(version, "power_levels", power_levels_sub(version, step))


def _room(version: RoomVersion, **changes: Any) -> RoomBuilder:
    """Alice (creator, 100), Bob at 50, Carol at 50, Dave at 0; all joined."""
    room = RoomBuilder(version)
    for user in (BOB, CAROL, DAVE):
        room.join(user)
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    room.set_power_levels(users={**users, BOB: 50, CAROL: 50}, **changes)
    return room


def _pl(room: RoomBuilder, sender: str, *, sign: bool = True, **changes: Any) -> dict[str, Any]:
    """A power levels event: the current content with ``changes`` (None deletes)."""
    content = dict(room.state[("m.room.power_levels", "")]["content"])
    for key, value in changes.items():
        if value is None:
            content.pop(key, None)
        else:
            content[key] = value
    return room.build("m.room.power_levels", sender, content, "", sign=sign)


def _users(room: RoomBuilder, **overrides: Any) -> dict[str, Any]:
    users = dict(room.state[("m.room.power_levels", "")]["content"]["users"])
    names = {"bob": BOB, "carol": CAROL, "dave": DAVE, "alice": ALICE}
    for name, value in overrides.items():
        if value is None:
            users.pop(names[name], None)
        else:
            users[names[name]] = value
    return users


# ---------------------------------------------------------------- first event


@pytest.mark.parametrize("version", ALL)
def test_first_power_levels_event_is_allowed(version: RoomVersion) -> None:
    room = RoomBuilder(version, power_levels=False)
    content = default_power_levels(version, ALICE)
    content["ban"] = 1000  # far above the creator's 100: no previous event to compare
    room.check(room.build("m.room.power_levels", ALICE, content, ""))


@pytest.mark.parametrize("version", V12)
def test_v12_first_power_levels_may_not_list_creators(version: RoomVersion) -> None:
    room = RoomBuilder(version, power_levels=False, create_content={"additional_creators": [BOB]})
    for users in ({ALICE: 100}, {BOB: 0}):
        event = room.build("m.room.power_levels", ALICE, {"users": users}, "")
        assert_rejected(room, event, pl_rule(version, "creator_in_users"))


@pytest.mark.parametrize("version", V12)
def test_v12_cannot_add_creators_later(version: RoomVersion) -> None:
    room = _room(version)
    assert_rejected(room, _pl(room, ALICE, users=_users(room, alice=100)), "10.4")
    room.check(_pl(room, ALICE, users=_users(room, bob=100)))


@pytest.mark.parametrize("version", versions(lambda v: not v.authorization.privileged_creators))
def test_creator_may_be_listed_before_v12(version: RoomVersion) -> None:
    room = _room(version)
    room.check(_pl(room, ALICE, users=_users(room, alice=99)))


# ------------------------------------------------------------- value formats


@pytest.mark.parametrize("version", ALL)
@pytest.mark.parametrize(
    "users",
    ["not an object", {"not-a-user": 1}, {"@nodomain": 1}, {BOB: "abc"}, {BOB: True}, {BOB: None}],
    ids=["string", "bad-key", "no-domain", "junk-string", "bool", "null"],
)
def test_users_must_map_user_ids_to_integers(version: RoomVersion, users: object) -> None:
    room = _room(version)
    assert_rejected(room, _pl(room, ALICE, users=users), pl_rule(version, "users_types"))


@pytest.mark.parametrize("version", STRINGY)
@pytest.mark.parametrize("value", ["50", " +050 ", "-5", "\t7\n"])
def test_stringy_power_levels_accepted_before_v10(version: RoomVersion, value: str) -> None:
    room = _room(version)
    event = _pl(room, ALICE, users=_users(room, dave=value), ban=value, events={"m.x": value})
    room.check(event)


@pytest.mark.parametrize("version", STRINGY)
@pytest.mark.parametrize("value", ["5.0", "1_0", "١٢", "", "+-1", "0x10", "5 0"])
def test_malformed_stringy_user_levels_rejected_before_v10(
    version: RoomVersion, value: str
) -> None:
    room = _room(version)
    event = _pl(room, ALICE, users=_users(room, dave=value))
    assert_rejected(room, event, pl_rule(version, "users_types"))


@pytest.mark.parametrize("version", STRINGY)
def test_stringy_equal_value_is_no_change(version: RoomVersion) -> None:
    # Bob (50) may rewrite kick=50 as "50": the parsed value does not change.
    room = _room(version, kick=50, events={"m.room.power_levels": 50})
    room.check(_pl(room, BOB, kick="50"))


@pytest.mark.parametrize("version", STRINGY)
def test_malformed_scalars_read_as_absent_before_v10(version: RoomVersion) -> None:
    # Decision: v1-v9 only check `users`; a junk scalar reads as absent, so here it
    # is a removal of ban=50, which Bob (50) may make.
    room = _room(version, events={"m.room.power_levels": 50})
    room.check(_pl(room, BOB, ban="junk"))
    room.check(_pl(room, BOB, events="junk"))


@pytest.mark.parametrize("version", INTEGERS)
@pytest.mark.parametrize(
    "key", ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]
)
@pytest.mark.parametrize("value", ["50", True, None, [50]])
def test_v10_scalars_must_be_integers(version: RoomVersion, key: str, value: object) -> None:
    room = _room(version)
    content = dict(room.state[("m.room.power_levels", "")]["content"])
    content[key] = value
    event = room.build("m.room.power_levels", ALICE, content, "")
    assert_rejected(room, event, pl_rule(version, "scalar_types"))


@pytest.mark.parametrize("version", INTEGERS)
@pytest.mark.parametrize("key", ["events", "notifications"])
@pytest.mark.parametrize(
    "value", [[], "x", {"m.a": "50"}, {"m.a": False}], ids=["list", "str", "stringy", "bool"]
)
def test_v10_events_and_notifications_must_be_integer_maps(
    version: RoomVersion, key: str, value: Any
) -> None:
    room = _room(version)
    assert_rejected(room, _pl(room, ALICE, **{key: value}), pl_rule(version, "map_types"))


@pytest.mark.parametrize("version", INTEGERS)
def test_v10_stringy_users_rejected(version: RoomVersion) -> None:
    room = _room(version)
    assert_rejected(
        room, _pl(room, ALICE, users=_users(room, dave="0")), pl_rule(version, "users_types")
    )


@pytest.mark.parametrize("version", FLOATY)
def test_float_levels_truncate_in_v1_to_v5(version: RoomVersion) -> None:
    room = _room(version)
    room.check(_pl(room, ALICE, users=_users(room, dave=49.9), ban=50.57))
    # Bob (50) may set Dave to 50.9: it truncates to 50, not above Bob.
    room.force_power_levels(users=_users(room), events={"m.room.power_levels": 50})
    room.check(_pl(room, BOB, users=_users(room, dave=50.9)))
    assert_rejected(
        room, _pl(room, BOB, users=_users(room, dave=51.0)), pl_rule(version, "users_new")
    )


@pytest.mark.parametrize("version", FLOATY)
@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_floats_reject_in_v1_to_v5(version: RoomVersion, value: float) -> None:
    room = _room(version)
    with pytest.raises(Forbidden, match="^fragment v1-floaty-power-levels"):
        room.check(_pl(room, ALICE, sign=False, ban=value))
    assert_rejected(
        room,
        _pl(room, ALICE, sign=False, users=_users(room, dave=value)),
        pl_rule(version, "users_types"),
    )


@pytest.mark.parametrize("version", STRINGY_NOT_FLOATY)
def test_floats_are_not_power_levels_in_v6_to_v9(version: RoomVersion) -> None:
    room = _room(version)
    event = _pl(room, ALICE, sign=False, users=_users(room, dave=5.0))
    assert_rejected(room, event, pl_rule(version, "users_types"))


# ---------------------------------------------------------------- change checks


@pytest.mark.parametrize("version", ALL)
def test_cannot_raise_a_scalar_above_own_level(version: RoomVersion) -> None:
    room = _room(version, events={"m.room.power_levels": 50})
    room.check(_pl(room, BOB, ban=50))
    room.check(_pl(room, BOB, ban=10))
    assert_rejected(room, _pl(room, BOB, ban=51), pl_rule(version, "scalar_new"))
    assert_rejected(room, _pl(room, BOB, invite=60), pl_rule(version, "scalar_new"))


@pytest.mark.parametrize("version", ALL)
def test_cannot_change_or_remove_a_scalar_above_own_level(version: RoomVersion) -> None:
    room = _room(version, events={"m.room.power_levels": 50}, kick=75)
    assert_rejected(room, _pl(room, BOB, kick=10), pl_rule(version, "scalar_current"))
    assert_rejected(room, _pl(room, BOB, kick=None), pl_rule(version, "scalar_current"))
    # Unchanged high values are fine.
    room.check(_pl(room, BOB, ban=20))


@pytest.mark.parametrize("version", ALL)
def test_events_entries(version: RoomVersion) -> None:
    room = _room(version, events={"m.room.power_levels": 50, "m.high": 80, "m.low": 10})
    room.check(_pl(room, BOB, events={"m.room.power_levels": 50, "m.high": 80, "m.low": 50}))
    room.check(_pl(room, BOB, events={"m.room.power_levels": 50, "m.high": 80}))
    room.check(
        _pl(room, BOB, events={"m.room.power_levels": 50, "m.high": 80, "m.low": 10, "m.new": 5})
    )
    assert_rejected(
        room,
        _pl(room, BOB, events={"m.room.power_levels": 50, "m.high": 10, "m.low": 10}),
        pl_rule(version, "map_current"),
    )
    assert_rejected(
        room,
        _pl(room, BOB, events={"m.room.power_levels": 50, "m.low": 10}),
        pl_rule(version, "map_current"),
    )
    assert_rejected(
        room,
        _pl(room, BOB, events={"m.room.power_levels": 50, "m.high": 80, "m.low": 51}),
        pl_rule(version, "map_new"),
    )


@pytest.mark.parametrize("version", NOTIFICATIONS)
def test_notifications_are_checked_from_v6(version: RoomVersion) -> None:
    room = _room(version, events={"m.room.power_levels": 50}, notifications={"room": 80})
    assert_rejected(
        room, _pl(room, BOB, notifications={"room": 10}), pl_rule(version, "map_current")
    )
    assert_rejected(room, _pl(room, BOB, notifications=None), pl_rule(version, "map_current"))
    assert_rejected(
        room, _pl(room, BOB, notifications={"room": 80, "x": 60}), pl_rule(version, "map_new")
    )
    room.check(_pl(room, BOB, notifications={"room": 80, "x": 50}))


@pytest.mark.parametrize("version", NO_NOTIFICATIONS)
def test_notifications_are_not_checked_before_v6(version: RoomVersion) -> None:
    room = _room(version, events={"m.room.power_levels": 50}, notifications={"room": 80})
    room.check(_pl(room, BOB, notifications={"room": 10}))
    room.check(_pl(room, BOB, notifications={"room": 100, "x": 100}))


@pytest.mark.parametrize("version", ALL)
def test_users_entries(version: RoomVersion) -> None:
    room = _room(version, events={"m.room.power_levels": 50})
    # Promote Dave up to, not above, own level.
    room.check(_pl(room, BOB, users=_users(room, dave=50)))
    assert_rejected(
        room, _pl(room, BOB, users=_users(room, dave=51)), pl_rule(version, "users_new")
    )
    # Carol has the same level as Bob: Bob can neither demote nor remove her.
    assert_rejected(
        room, _pl(room, BOB, users=_users(room, carol=0)), pl_rule(version, "users_current")
    )
    assert_rejected(
        room, _pl(room, BOB, users=_users(room, carol=None)), pl_rule(version, "users_current")
    )
    # Bob may demote himself, but not promote himself.
    room.check(_pl(room, BOB, users=_users(room, bob=10)))
    room.check(_pl(room, BOB, users=_users(room, bob=None)))
    assert_rejected(room, _pl(room, BOB, users=_users(room, bob=60)), pl_rule(version, "users_new"))
    # users_default is a scalar: limited by the sender's level only.
    room.check(_pl(room, BOB, users_default=50))
    assert_rejected(room, _pl(room, BOB, users_default=51), pl_rule(version, "scalar_new"))


@pytest.mark.parametrize("version", ALL)
def test_power_levels_needs_its_required_level_first(version: RoomVersion) -> None:
    room = _room(version)  # m.room.power_levels needs 100 in the defaults
    assert_rejected(room, _pl(room, BOB, ban=10), rule(version, "required_level"))


@pytest.mark.parametrize("version", V12)
def test_v12_creator_may_change_anything(version: RoomVersion) -> None:
    room = _room(version, ban=2**53 - 1, events={"m.room.power_levels": 2**53 - 1})
    room.check(
        _pl(room, ALICE, ban=0, events={"m.x": 2**53 - 1}, users=_users(room, bob=2**53 - 1))
    )
