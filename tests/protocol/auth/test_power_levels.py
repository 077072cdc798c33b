"""Power level computations (myelin.protocol.auth.power_levels)."""

from __future__ import annotations

from typing import Any

import pytest

from myelin.protocol.auth.content import PowerLevelsContent
from myelin.protocol.auth.power_levels import (
    INFINITE_POWER_LEVEL,
    InfinitePowerLevel,
    PowerLevel,
    PowerLevels,
    PowerLevelsStep,
    power_levels_change_violation,
    room_creators,
    user_power_level,
)
from myelin.protocol.room_versions import V1, V5, V6, V10, V11, V12, RoomVersion
from tests.protocol.auth.factory import ALICE, BOB, CAROL, DAVE, versions


def _create(version: RoomVersion, **content: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"room_version": version.identifier}
    if not version.authorization.implicit_room_creator:
        base["creator"] = ALICE
    base.update(content)
    return {"type": "m.room.create", "sender": ALICE, "state_key": "", "content": base}


def _pl(**content: Any) -> dict[str, Any]:
    return {"type": "m.room.power_levels", "sender": ALICE, "state_key": "", "content": content}


def test_infinite_power_level_orders_above_every_integer() -> None:
    inf = INFINITE_POWER_LEVEL
    assert InfinitePowerLevel() is inf
    for n in (-(2**53), 0, 100, 2**53 - 1, 10**100):
        assert inf > n and n < inf and inf >= n and n <= inf
        assert not inf < n and not n > inf and not n >= inf and not inf <= n
        assert inf != n
    assert inf == inf and inf >= inf and inf <= inf and not inf > inf
    mixed: list[PowerLevel] = [5, inf, 7]
    assert max(mixed) is inf
    assert sorted(mixed) == [5, 7, inf]
    assert hash(inf) == hash(InfinitePowerLevel())
    assert str(inf) == "infinite"
    with pytest.raises(TypeError):
        _ = inf < "x"  # type: ignore[operator]


@pytest.mark.parametrize("version", versions())
def test_user_levels_with_power_levels_event(version: RoomVersion) -> None:
    users = {BOB: 50} if version.authorization.privileged_creators else {ALICE: 100, BOB: 50}
    levels = PowerLevels(version, _pl(users=users, users_default=5), _create(version))
    expected_alice = INFINITE_POWER_LEVEL if version.authorization.privileged_creators else 100
    assert levels.user_level(ALICE) == expected_alice
    assert levels.user_level(BOB) == 50
    assert levels.user_level(CAROL) == 5


@pytest.mark.parametrize("version", versions())
def test_user_levels_without_power_levels_event(version: RoomVersion) -> None:
    levels = PowerLevels(version, None, _create(version))
    expected_alice = INFINITE_POWER_LEVEL if version.authorization.privileged_creators else 100
    assert levels.user_level(ALICE) == expected_alice
    assert levels.user_level(BOB) == 0
    assert user_power_level(version, BOB, None, None) == 0


@pytest.mark.parametrize("version", versions())
def test_creator_listed_in_users_before_v12_uses_the_listed_level(version: RoomVersion) -> None:
    levels = PowerLevels(version, _pl(users={ALICE: 20}), _create(version))
    if version.authorization.privileged_creators:
        assert levels.user_level(ALICE) is INFINITE_POWER_LEVEL
    else:
        assert levels.user_level(ALICE) == 20
    # And with a power levels event that omits them, the creator gets users_default.
    levels = PowerLevels(version, _pl(), _create(version))
    if not version.authorization.privileged_creators:
        assert levels.user_level(ALICE) == 0


def test_additional_creators_are_creators_only_in_v12() -> None:
    assert room_creators(V12, _create(V12, additional_creators=[BOB])) == {ALICE, BOB}
    assert room_creators(V11, _create(V11, additional_creators=[BOB])) == {ALICE}
    assert room_creators(V10, _create(V10, creator=DAVE)) == {DAVE}
    assert room_creators(V12, None) == frozenset()
    levels = PowerLevels(V12, _pl(users={CAROL: 100}), _create(V12, additional_creators=[BOB]))
    assert levels.user_level(BOB) is INFINITE_POWER_LEVEL
    assert levels.user_level(CAROL) == 100


def test_required_levels() -> None:
    levels = PowerLevels(
        V10, _pl(events={"m.room.name": 70}, events_default=1, state_default=2), None
    )
    assert levels.event_level("m.room.name", is_state=True) == 70
    assert levels.event_level("m.room.name", is_state=False) == 70
    assert levels.event_level("m.room.topic", is_state=True) == 2
    assert levels.event_level("m.room.message", is_state=False) == 1
    defaults = PowerLevels(V10, None, None)
    assert defaults.event_level("m.room.topic", is_state=True) == 50
    assert defaults.event_level("m.room.message", is_state=False) == 0
    assert (defaults.invite_level, defaults.kick_level) == (0, 50)
    assert (defaults.ban_level, defaults.redact_level) == (50, 50)
    assert defaults.notification_level() == 50


def test_levels_from_strings_before_v10_only() -> None:
    content = {"users": {BOB: "60"}, "ban": "70", "notifications": {"room": "10"}}
    old = PowerLevels(V6, _pl(**content), None)
    assert (old.user_level(BOB), old.ban_level, old.notification_level()) == (60, 70, 10)
    new = PowerLevels(V10, _pl(**content), None)
    assert (new.user_level(BOB), new.ban_level, new.notification_level()) == (0, 50, 50)
    floaty = PowerLevels(V5, _pl(users={BOB: 60.9}), None)
    assert floaty.user_level(BOB) == 60
    assert PowerLevels(V6, _pl(users={BOB: 60.9}), None).user_level(BOB) == 0


def test_change_violation_reports_step() -> None:
    current = PowerLevelsContent({"ban": 50, "users": {BOB: 50, CAROL: 50}}, V10_PARSING)
    new = PowerLevelsContent({"ban": 50, "users": {BOB: 50, CAROL: 49}}, V10_PARSING)
    violation = power_levels_change_violation(V10, BOB, 50, current, new)
    assert violation is not None and violation.step is PowerLevelsStep.USERS_CURRENT
    assert power_levels_change_violation(V10, BOB, INFINITE_POWER_LEVEL, current, new) is None
    assert power_levels_change_violation(V10, BOB, 50, current, current) is None


def test_notifications_change_only_checked_from_v6() -> None:
    current = PowerLevelsContent({"notifications": {"room": 100}}, V1_PARSING)
    new = PowerLevelsContent({"notifications": {"room": 0}}, V1_PARSING)
    assert power_levels_change_violation(V1, BOB, 50, current, new) is None
    violation = power_levels_change_violation(V6, BOB, 50, current, new)
    assert violation is not None and violation.step is PowerLevelsStep.MAP_CURRENT


V10_PARSING = PowerLevelsContent.from_event(None, V10).parsing
V1_PARSING = PowerLevelsContent.from_event(None, V1).parsing
