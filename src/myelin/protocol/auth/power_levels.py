"""Power levels: users' levels, required levels, and the power-levels change rules.

Spec references (Matrix v1.19): server-server §Checks performed on receipt of a PDU
§Definitions (*required power level*, *invite/kick/ban/redact level*);
client-server §m.room.power_levels (defaults; creator at 100 without the event);
rooms/v1.md … rooms/v12.md §Authorisation rules, the ``m.room.power_levels`` rule
(10 in v1-v5, 9 in v6-v11, 10 in v12); rooms/v12.md note "The power level of room
creators is infinitely high".

Room creators in v12 (``privileged_creators``) have a level above every integer,
modelled by the :data:`INFINITE_POWER_LEVEL` sentinel, so comparisons such as
``level >= required`` read exactly as in the spec text. The power-levels change
checks return a :class:`PowerLevelsViolation` naming the step that failed; the
rule numbering per room version lives in :mod:`myelin.protocol.auth.rules`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import total_ordering
from typing import Any, Final

from myelin.protocol.auth.content import (
    POWER_LEVEL_SCALAR_KEYS,
    CreateContent,
    PowerLevelParsing,
    PowerLevelsContent,
    parse_power_level,
)
from myelin.protocol.errors import InvalidIdentifier
from myelin.protocol.identifiers import UserId
from myelin.protocol.room_versions import RoomVersion

__all__ = [
    "CREATOR_DEFAULT_POWER_LEVEL",
    "INFINITE_POWER_LEVEL",
    "InfinitePowerLevel",
    "PowerLevel",
    "PowerLevels",
    "PowerLevelsStep",
    "PowerLevelsViolation",
    "power_levels_change_violation",
    "power_levels_content_violation",
    "room_creators",
    "user_power_level",
]

#: client-server §m.room.power_levels ``users_default`` note: in v1-v11, "when there
#: is no `m.room.power_levels` event in the room, the room creator has a power level
#: of 100, and all other users have a power level of 0".
CREATOR_DEFAULT_POWER_LEVEL: Final = 100


@total_ordering
class InfinitePowerLevel:
    """The power level of v12 room creators: greater than any integer.

    There is one instance, :data:`INFINITE_POWER_LEVEL`. It compares equal only to
    itself and greater than every ``int``, so ``creator_level > 10**100`` and
    ``50 < creator_level`` both hold.
    """

    _instance: InfinitePowerLevel | None = None

    def __new__(cls) -> InfinitePowerLevel:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return hash("myelin.INFINITE_POWER_LEVEL")

    def __lt__(self, other: object) -> bool:
        if isinstance(other, int | InfinitePowerLevel):
            return False
        return NotImplemented

    def __gt__(self, other: object) -> bool:
        if isinstance(other, int):
            return True
        if isinstance(other, InfinitePowerLevel):
            return False
        return NotImplemented

    def __repr__(self) -> str:
        return "INFINITE_POWER_LEVEL"

    def __str__(self) -> str:
        return "infinite"


INFINITE_POWER_LEVEL: Final = InfinitePowerLevel()

#: A user's power level: an integer, or infinite for v12 room creators.
PowerLevel = int | InfinitePowerLevel


def room_creators(version: RoomVersion, create_event: Mapping[str, Any] | None) -> frozenset[str]:
    """The room creators (see :meth:`CreateContent.creators`).

    Args:
        version: The room version.
        create_event: The ``m.room.create`` event, or ``None`` (no creators).

    Returns:
        The creators' user IDs.
    """
    if create_event is None:
        return frozenset()
    return CreateContent(create_event).creators(version)


class PowerLevels:
    """The power levels of a room at some point, built from its create and power
    levels events.

    Attributes:
        version: The room version.
        content: Reader of the ``m.room.power_levels`` content (empty if none).
        has_event: Whether there is an ``m.room.power_levels`` event.
        creators: The room creators.
    """

    def __init__(
        self,
        version: RoomVersion,
        power_levels_event: Mapping[str, Any] | None,
        create_event: Mapping[str, Any] | None,
    ) -> None:
        """Build from the current state.

        Args:
            version: The room version.
            power_levels_event: The current ``m.room.power_levels`` event, if any.
            create_event: The ``m.room.create`` event, if known.
        """
        self.version = version
        self.content = PowerLevelsContent.from_event(power_levels_event, version)
        self.has_event = power_levels_event is not None
        self.creators = room_creators(version, create_event)

    def user_level(self, user_id: str) -> PowerLevel:
        """A user's power level.

        * v12 (``privileged_creators``, rooms/v12.md §Authorisation rules note): room
          creators are infinitely powerful, with or without a power levels event.
        * With a power levels event: ``users[user_id]``, else ``users_default``
          (default 0).
        * Without one (client-server §m.room.power_levels): the creator has 100
          (v1-v11), everybody else 0.

        Args:
            user_id: The user.

        Returns:
            The level.
        """
        if self.version.authorization.privileged_creators and user_id in self.creators:
            return INFINITE_POWER_LEVEL
        if self.has_event:
            return self.content.users.get(user_id, self.content.users_default)
        if user_id in self.creators:
            return CREATOR_DEFAULT_POWER_LEVEL
        return self.content.users_default

    def event_level(self, event_type: str, is_state: bool) -> int:
        """The *required power level* of an event type (server-server §Definitions).

        ``events[event_type]`` if listed, else ``state_default`` (50) for state
        events or ``events_default`` (0) for the rest.

        Args:
            event_type: The event's ``type``.
            is_state: Whether the event has a ``state_key``.

        Returns:
            The required level.
        """
        level = self.content.events.get(event_type)
        if level is not None:
            return level
        return self.content.state_default if is_state else self.content.events_default

    @property
    def invite_level(self) -> int:
        """The *invite level* (default 0)."""
        return self.content.invite

    @property
    def kick_level(self) -> int:
        """The *kick level* (default 50)."""
        return self.content.kick

    @property
    def ban_level(self) -> int:
        """The *ban level* (default 50)."""
        return self.content.ban

    @property
    def redact_level(self) -> int:
        """The *redact level* (default 50)."""
        return self.content.redact

    def notification_level(self, key: str = "room") -> int:
        """The level to trigger a notification key (``room``: ``@room``, default 50)."""
        return self.content.notification(key)


def user_power_level(
    version: RoomVersion,
    user_id: str,
    power_levels_event: Mapping[str, Any] | None,
    create_event: Mapping[str, Any] | None,
) -> PowerLevel:
    """Shorthand for ``PowerLevels(version, power_levels_event, create_event).user_level(user_id)``."""
    return PowerLevels(version, power_levels_event, create_event).user_level(user_id)


# ----------------------------------------------------- the m.room.power_levels rule


class PowerLevelsStep(StrEnum):
    """The steps of the ``m.room.power_levels`` auth rule that can reject.

    Sub-rule numbers differ per room version; :mod:`myelin.protocol.auth.rules`
    maps each step to its number.
    """

    #: v10+ (rooms/v10.md rule 9.1): a scalar property is present and not an integer.
    SCALAR_TYPES = "scalar_types"
    #: v10+ (rooms/v10.md rule 9.2): ``events``/``notifications`` not an object of integers.
    MAP_TYPES = "map_types"
    #: v1+ (rooms/v1.md rule 10.1): ``users`` not an object of user IDs to integers.
    USERS_TYPES = "users_types"
    #: v1-v5 (fragment ``v1-floaty-power-levels``): a non-finite float value.
    NON_FINITE_FLOAT = "non_finite_float"
    #: v12 (rooms/v12.md rule 10.4): a room creator is listed in ``users``.
    CREATOR_IN_USERS = "creator_in_users"
    #: v1+ (rooms/v1.md rule 10.3.1): an altered scalar's current value is too high.
    SCALAR_CURRENT = "scalar_current"
    #: v1+ (rooms/v1.md rule 10.3.2): an altered scalar's new value is too high.
    SCALAR_NEW = "scalar_new"
    #: v1+ (rooms/v1.md rule 10.4; ``notifications`` from v6): a changed or removed
    #: ``events`` entry's current value is too high.
    MAP_CURRENT = "map_current"
    #: v1+ (rooms/v1.md rule 10.5; ``notifications`` from v6): an added or changed
    #: entry's new value is too high.
    MAP_NEW = "map_new"
    #: v1+ (rooms/v1.md rule 10.6): another user's changed or removed entry is not
    #: below the sender's level.
    USERS_CURRENT = "users_current"
    #: v1+ (rooms/v1.md rule 10.7): an added or changed ``users`` value is too high.
    USERS_NEW = "users_new"


@dataclass(frozen=True, slots=True)
class PowerLevelsViolation:
    """Why an ``m.room.power_levels`` event is rejected.

    Attributes:
        step: The failed step.
        detail: Human-readable detail (property, values).
    """

    step: PowerLevelsStep
    detail: str


def _is_strict_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_user_id(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        UserId.parse(value)
    except InvalidIdentifier:
        return False
    return True


def power_levels_content_violation(
    version: RoomVersion, content: Mapping[str, Any], creators: frozenset[str]
) -> PowerLevelsViolation | None:
    """The shape checks of a new ``m.room.power_levels`` event.

    In order: v10+ scalar and ``events``/``notifications`` types (rooms/v10.md rules
    9.1, 9.2); ``users`` shape (rooms/v1.md rule 10.1: "an object with keys that are
    valid user IDs with values that are integers (or a string that is an integer)",
    integers only from v10); v1-v5 non-finite floats (fragment
    ``v1-floaty-power-levels``); v12 creators in ``users`` (rooms/v12.md rule 10.4).

    Decision: an absent ``users`` property passes (the spec's "is not an object"
    reads as "is present and not an object", like rules 9.1/9.2 of v10).

    Args:
        version: The room version.
        content: The new event's ``content``.
        creators: The room creators (only used with ``privileged_creators``).

    Returns:
        The first violation, or ``None``.
    """
    parsing = PowerLevelParsing.for_version(version)
    if version.authorization.integer_power_levels:
        for key in POWER_LEVEL_SCALAR_KEYS:
            if key in content and not _is_strict_int(content[key]):
                return PowerLevelsViolation(
                    PowerLevelsStep.SCALAR_TYPES, f"{key!r} is {content[key]!r}, not an integer"
                )
        for key in ("events", "notifications"):
            if key not in content:
                continue
            raw = content[key]
            if not isinstance(raw, Mapping):
                return PowerLevelsViolation(PowerLevelsStep.MAP_TYPES, f"{key!r} is not an object")
            for sub, value in raw.items():
                if not _is_strict_int(value):
                    return PowerLevelsViolation(
                        PowerLevelsStep.MAP_TYPES, f"{key}[{sub!r}] is {value!r}, not an integer"
                    )
    if "users" in content:
        users = content["users"]
        if not isinstance(users, Mapping):
            return PowerLevelsViolation(PowerLevelsStep.USERS_TYPES, "'users' is not an object")
        for user_id, value in users.items():
            if not _is_user_id(user_id):
                return PowerLevelsViolation(
                    PowerLevelsStep.USERS_TYPES, f"users key {user_id!r} is not a valid user ID"
                )
            if parse_power_level(value, parsing) is None:
                return PowerLevelsViolation(
                    PowerLevelsStep.USERS_TYPES,
                    f"users[{user_id!r}] is {value!r}, not an integer power level",
                )
    if parsing.floats:
        reader = PowerLevelsContent(content, parsing)
        for path in reader.invalid_values():
            raw_value = _lookup_path(content, path)
            if isinstance(raw_value, float) and not math.isfinite(raw_value):
                return PowerLevelsViolation(
                    PowerLevelsStep.NON_FINITE_FLOAT, f"{path} is {raw_value!r}"
                )
    if version.authorization.privileged_creators:
        users = content.get("users")
        if isinstance(users, Mapping):
            listed = sorted(user for user in users if user in creators)
            if listed:
                return PowerLevelsViolation(
                    PowerLevelsStep.CREATOR_IN_USERS,
                    f"room creators may not be listed in 'users': {', '.join(listed)}",
                )
    return None


def _lookup_path(content: Mapping[str, Any], path: str) -> object:
    head, sep, tail = path.partition(".")
    value = content.get(head)
    if sep and isinstance(value, Mapping):
        return value.get(tail)
    return value


def _map_keys(old: Mapping[str, int], new: Mapping[str, int]) -> list[str]:
    return sorted(old.keys() | new.keys())


def power_levels_change_violation(
    version: RoomVersion,
    sender: str,
    sender_level: PowerLevel,
    current: PowerLevelsContent,
    new: PowerLevelsContent,
) -> PowerLevelsViolation | None:
    """The change checks of the ``m.room.power_levels`` rule, given a previous event.

    rooms/v1.md rules 10.3-10.7 (v10: 9.5-9.9; v12: 10.6-10.10):

    * scalars added, changed or removed: neither the current nor the new value may
      exceed the sender's level;
    * ``events`` (and from v6, ``limit_notifications_power_levels``,
      ``notifications``) entries changed or removed: the current value may not
      exceed the sender's level; added or changed: nor may the new value;
    * ``users`` entries changed or removed, other than the sender's own: the current
      value must be *below* the sender's level; added or changed: the new value may
      not exceed it.

    Values are compared after parsing (so ``"50"`` → ``50`` is no change in v1-v9);
    values that do not parse read as absent.

    Args:
        version: The room version.
        sender: The new event's sender.
        sender_level: The sender's *current* power level.
        current: The current power levels.
        new: The proposed power levels.

    Returns:
        The first violation, or ``None``.
    """
    for key in POWER_LEVEL_SCALAR_KEYS:
        old_value, new_value = current.scalar(key), new.scalar(key)
        if old_value == new_value:
            continue
        if old_value is not None and old_value > sender_level:
            return PowerLevelsViolation(
                PowerLevelsStep.SCALAR_CURRENT,
                f"{key!r} is currently {old_value}, above the sender's level {sender_level}",
            )
        if new_value is not None and new_value > sender_level:
            return PowerLevelsViolation(
                PowerLevelsStep.SCALAR_NEW,
                f"{key!r} would become {new_value}, above the sender's level {sender_level}",
            )

    maps: list[tuple[str, dict[str, int], dict[str, int]]] = [
        ("events", current.events, new.events)
    ]
    if version.authorization.limit_notifications_power_levels:
        maps.append(("notifications", current.notifications, new.notifications))
    for name, old_map, new_map in maps:
        for key in _map_keys(old_map, new_map):
            old_value = old_map.get(key)
            if old_value is not None and old_value != new_map.get(key) and old_value > sender_level:
                return PowerLevelsViolation(
                    PowerLevelsStep.MAP_CURRENT,
                    f"{name}[{key!r}] is currently {old_value}, above the sender's level "
                    f"{sender_level}",
                )
    for name, old_map, new_map in maps:
        for key in _map_keys(old_map, new_map):
            new_value = new_map.get(key)
            if new_value is not None and new_value != old_map.get(key) and new_value > sender_level:
                return PowerLevelsViolation(
                    PowerLevelsStep.MAP_NEW,
                    f"{name}[{key!r}] would become {new_value}, above the sender's level "
                    f"{sender_level}",
                )

    old_users, new_users = current.users, new.users
    for user_id in _map_keys(old_users, new_users):
        old_value = old_users.get(user_id)
        if user_id == sender or old_value is None or old_value == new_users.get(user_id):
            continue
        if old_value >= sender_level:
            return PowerLevelsViolation(
                PowerLevelsStep.USERS_CURRENT,
                f"users[{user_id!r}] is currently {old_value}, not below the sender's level "
                f"{sender_level}",
            )
    for user_id in _map_keys(old_users, new_users):
        new_value = new_users.get(user_id)
        if new_value is not None and new_value != old_users.get(user_id):
            if new_value > sender_level:
                return PowerLevelsViolation(
                    PowerLevelsStep.USERS_NEW,
                    f"users[{user_id!r}] would become {new_value}, above the sender's level "
                    f"{sender_level}",
                )
    return None
