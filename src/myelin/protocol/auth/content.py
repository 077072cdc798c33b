"""Lazy, lenient readers for the auth-relevant content of state events.

Spec references (Matrix v1.19): client-server-api §m.room.create, §m.room.member,
§m.room.join_rules, §m.room.power_levels, §m.room.third_party_invite (event schemas
under data/event-schemas/schema/); rooms/v1.md fragments ``v1-stringy-power-levels``
and ``v1-floaty-power-levels``; rooms/v10.md §Values in ``m.room.power_levels``
events must be integers; rooms/v11.md §Remove the ``creator`` property; rooms/v12.md
§Authorisation rules (room creators, ``additional_creators``).

Every reader wraps a PDU as a plain ``dict`` and reads a handful of fields on
demand (ARCHITECTURE.md style rule 5). Nothing here raises on odd shapes: a value
of the wrong type reads as absent, and the *rules* decide whether that makes the
event unacceptable. The one place where a value's exact shape matters — whether
a power level is an integer — is exposed as :func:`parse_power_level` plus the
:class:`PowerLevelParsing` of the room version.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from myelin.protocol.room_versions import RoomVersion

__all__ = [
    "DEFAULT_BAN_LEVEL",
    "DEFAULT_EVENTS_DEFAULT",
    "DEFAULT_INVITE_LEVEL",
    "DEFAULT_KICK_LEVEL",
    "DEFAULT_NOTIFICATION_LEVEL",
    "DEFAULT_REDACT_LEVEL",
    "DEFAULT_STATE_DEFAULT",
    "DEFAULT_USERS_DEFAULT",
    "POWER_LEVEL_SCALAR_KEYS",
    "CreateContent",
    "JoinRulesContent",
    "MemberContent",
    "PowerLevelParsing",
    "PowerLevelsContent",
    "ThirdPartyInviteContent",
    "content_of",
    "membership_of",
    "parse_power_level",
]

# server-server §Checks performed on receipt of a PDU, §Definitions, and
# client-server §m.room.power_levels: defaults when a key (or the whole event) is
# missing.
DEFAULT_USERS_DEFAULT = 0
DEFAULT_EVENTS_DEFAULT = 0
DEFAULT_STATE_DEFAULT = 50
DEFAULT_BAN_LEVEL = 50
DEFAULT_KICK_LEVEL = 50
DEFAULT_REDACT_LEVEL = 50
DEFAULT_INVITE_LEVEL = 0
#: client-server §m.room.power_levels ``notifications.room``: "Defaults to 50".
DEFAULT_NOTIFICATION_LEVEL = 50

#: The integer-valued top-level properties of ``m.room.power_levels`` named by the
#: power-levels auth rule (rooms/v1.md rule 10.3 … rooms/v12.md rule 10.6).
POWER_LEVEL_SCALAR_KEYS: tuple[str, ...] = (
    "users_default",
    "events_default",
    "state_default",
    "ban",
    "redact",
    "kick",
    "invite",
)

# Fragment v1-stringy-power-levels: "a single base 10 integer … optionally with any
# number of leading zeroes", "optionally prefixed with a single `-` or `+`",
# "optionally with any number of leading or trailing whitespace characters".
# Decision: "whitespace" is ASCII whitespace; Python's int() would also take
# Unicode digits, Unicode spaces and "1_000", none of which the spec allows.
_STRINGY_INT_RE = re.compile(r"[ \t\n\r\f\v]*([+-]?[0-9]+)[ \t\n\r\f\v]*\Z")


def content_of(event: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """An event's ``content``, or an empty mapping if absent or not an object.

    Args:
        event: A PDU, or ``None``.

    Returns:
        The content mapping (never copied).
    """
    if event is None:
        return {}
    content = event.get("content")
    return content if isinstance(content, Mapping) else {}


# ------------------------------------------------------------------- power levels


@dataclass(frozen=True, slots=True)
class PowerLevelParsing:
    """How a room version reads the integer values of ``m.room.power_levels``.

    Attributes:
        strings: v1-v9 (fragment ``v1-stringy-power-levels``): values may be strings
            holding an integer. Removed by v10 (``integer_power_levels``).
        floats: v1-v5 (fragment ``v1-floaty-power-levels``): values may be floats,
            truncated towards zero; non-finite values are invalid. v6+ forbid floats
            through canonical JSON (``strict_canonical_json``).
    """

    strings: bool
    floats: bool

    @classmethod
    def for_version(cls, version: RoomVersion) -> PowerLevelParsing:
        """The parsing rules of a room version.

        Args:
            version: The room version.

        Returns:
            ``strings`` unless ``integer_power_levels`` (v10+); ``floats`` only when
            canonical JSON is not enforced either (v1-v5).
        """
        integers_only = version.authorization.integer_power_levels
        return cls(
            strings=not integers_only,
            floats=not integers_only and not version.event_format.strict_canonical_json,
        )


def parse_power_level(value: object, parsing: PowerLevelParsing) -> int | None:
    """Read one power level value.

    Args:
        value: The JSON value.
        parsing: The room version's :class:`PowerLevelParsing`.

    Returns:
        The integer, or ``None`` if the value is not a power level in this room
        version. JSON booleans are never integers here (Python's ``bool`` is an
        ``int`` subclass).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and parsing.strings:
        match = _STRINGY_INT_RE.match(value)
        return int(match.group(1)) if match else None
    if isinstance(value, float) and parsing.floats:
        # Fragment v1-floaty-power-levels: exponent applied, then truncated at the
        # decimal point; Infinity, -Infinity and NaN reject the event.
        return math.trunc(value) if math.isfinite(value) else None
    return None


def _parse_level_map(raw: object, parsing: PowerLevelParsing) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, int] = {}
    for key, value in raw.items():
        level = parse_power_level(value, parsing)
        if isinstance(key, str) and level is not None:
            out[key] = level
    return out


class PowerLevelsContent:
    """Lenient reader of ``m.room.power_levels`` content.

    Values that are not power levels in the room version (see
    :func:`parse_power_level`) read as absent, so the defaults apply; whether such
    values make a *new* power levels event unacceptable is decided by the auth rules
    (:func:`myelin.protocol.auth.power_levels.check_power_levels_content`). A
    missing event reads as the empty content, i.e. all defaults.
    """

    def __init__(self, content: Mapping[str, Any] | None, parsing: PowerLevelParsing) -> None:
        """Wrap a content object.

        Args:
            content: The event's ``content`` (``None`` when there is no event).
            parsing: The room version's :class:`PowerLevelParsing`.
        """
        self.raw: Mapping[str, Any] = content if isinstance(content, Mapping) else {}
        self.parsing = parsing

    @classmethod
    def from_event(
        cls, event: Mapping[str, Any] | None, version: RoomVersion
    ) -> PowerLevelsContent:
        """Reader for a power levels event (or ``None``) in a room version."""
        return cls(content_of(event), PowerLevelParsing.for_version(version))

    def scalar(self, key: str) -> int | None:
        """A top-level integer property (``ban``, ``users_default``, ...), or ``None``."""
        return parse_power_level(self.raw.get(key), self.parsing)

    def _scalar_or(self, key: str, default: int) -> int:
        value = self.scalar(key)
        return default if value is None else value

    @cached_property
    def users(self) -> dict[str, int]:
        """``users``: user ID to level, valid entries only."""
        return _parse_level_map(self.raw.get("users"), self.parsing)

    @cached_property
    def events(self) -> dict[str, int]:
        """``events``: event type to required level, valid entries only."""
        return _parse_level_map(self.raw.get("events"), self.parsing)

    @cached_property
    def notifications(self) -> dict[str, int]:
        """``notifications``: notification key to required level, valid entries only."""
        return _parse_level_map(self.raw.get("notifications"), self.parsing)

    @property
    def users_default(self) -> int:
        """``users_default``, default 0."""
        return self._scalar_or("users_default", DEFAULT_USERS_DEFAULT)

    @property
    def events_default(self) -> int:
        """``events_default``, default 0."""
        return self._scalar_or("events_default", DEFAULT_EVENTS_DEFAULT)

    @property
    def state_default(self) -> int:
        """``state_default``, default 50."""
        return self._scalar_or("state_default", DEFAULT_STATE_DEFAULT)

    @property
    def ban(self) -> int:
        """The *ban level*, default 50."""
        return self._scalar_or("ban", DEFAULT_BAN_LEVEL)

    @property
    def kick(self) -> int:
        """The *kick level*, default 50."""
        return self._scalar_or("kick", DEFAULT_KICK_LEVEL)

    @property
    def redact(self) -> int:
        """The *redact level*, default 50."""
        return self._scalar_or("redact", DEFAULT_REDACT_LEVEL)

    @property
    def invite(self) -> int:
        """The *invite level*, default 0."""
        return self._scalar_or("invite", DEFAULT_INVITE_LEVEL)

    def notification(self, key: str = "room") -> int:
        """The level for a notification key; ``room`` (and, by our choice, any
        unlisted key) defaults to 50."""
        return self.notifications.get(key, DEFAULT_NOTIFICATION_LEVEL)

    def invalid_values(self) -> Iterator[str]:
        """Paths of integer-valued properties that are present but not power levels.

        Covers the scalar properties and the values of ``events``, ``notifications``
        and ``users``. Used by the v1-v5 float rule and for error messages.

        Yields:
            Dotted paths such as ``"ban"`` or ``"users.@a:b"``.
        """
        for key in POWER_LEVEL_SCALAR_KEYS:
            if key in self.raw and self.scalar(key) is None:
                yield key
        for key in ("events", "notifications", "users"):
            raw = self.raw.get(key)
            if isinstance(raw, Mapping):
                for sub, value in raw.items():
                    if parse_power_level(value, self.parsing) is None:
                        yield f"{key}.{sub}"


# ------------------------------------------------------------------------- create


class CreateContent:
    """Reader of an ``m.room.create`` event (the whole event: ``sender`` matters)."""

    def __init__(self, event: Mapping[str, Any]) -> None:
        """Wrap the create event.

        Args:
            event: The ``m.room.create`` PDU.
        """
        self.event = event
        self.raw = content_of(event)

    @property
    def sender(self) -> str | None:
        """The create event's ``sender``, if a string."""
        sender = self.event.get("sender")
        return sender if isinstance(sender, str) else None

    @property
    def creator_property(self) -> str | None:
        """``content.creator`` (v1-v10), if a string."""
        creator = self.raw.get("creator")
        return creator if isinstance(creator, str) else None

    def creator(self, version: RoomVersion) -> str | None:
        """The room creator as the auth rules use the word.

        v1-v10: ``content.creator`` (rooms/v1.md rule 5.2.1). v11+
        (``implicit_room_creator``, rooms/v11.md rule 4.3.1): the ``sender``.

        Args:
            version: The room version.

        Returns:
            The user ID, or ``None`` when absent or not a string.
        """
        if version.authorization.implicit_room_creator:
            return self.sender
        return self.creator_property

    @property
    def room_version(self) -> str | None:
        """``content.room_version``; ``"1"`` when absent (§m.room.create); ``None``
        when present but not a string."""
        value = self.raw.get("room_version", "1")
        return value if isinstance(value, str) else None

    @property
    def federate(self) -> bool:
        """``content["m.federate"]``: only a literal ``false`` disables federation
        (default ``true``)."""
        return self.raw.get("m.federate") is not False

    @property
    def additional_creators(self) -> list[str]:
        """``content.additional_creators`` (v12+): the string entries, in order.

        Use only in versions with ``additional_creators``; the strict shape check
        (rooms/v12.md rule 1.4) is a rule, not a reader concern.
        """
        raw = self.raw.get("additional_creators")
        if not isinstance(raw, list):
            return []
        return [user for user in raw if isinstance(user, str)]

    def creators(self, version: RoomVersion) -> frozenset[str]:
        """The room creators.

        v12 (rooms/v12.md §Authorisation rules, note): the create event's ``sender``
        plus ``additional_creators``. Earlier versions: the single creator of
        :meth:`creator`.

        Args:
            version: The room version.

        Returns:
            The creators' user IDs (possibly empty for malformed events).
        """
        if version.authorization.additional_creators:
            users = set(self.additional_creators)
            if self.sender is not None:
                users.add(self.sender)
            return frozenset(users)
        creator = self.creator(version)
        return frozenset() if creator is None else frozenset({creator})


# ------------------------------------------------------------------------- member


class MemberContent:
    """Reader of ``m.room.member`` content."""

    def __init__(self, content: Mapping[str, Any] | None) -> None:
        """Wrap a content object (``None`` reads as empty)."""
        self.raw: Mapping[str, Any] = content if isinstance(content, Mapping) else {}

    @classmethod
    def from_event(cls, event: Mapping[str, Any] | None) -> MemberContent:
        """Reader for a member event, or for "no event" (``None``)."""
        return cls(content_of(event))

    @property
    def membership(self) -> str | None:
        """``membership`` if a string, else ``None``."""
        value = self.raw.get("membership")
        return value if isinstance(value, str) else None

    @property
    def has_membership(self) -> bool:
        """Whether a ``membership`` property is present at all."""
        return "membership" in self.raw

    @property
    def join_authorised_via_users_server(self) -> str | None:
        """``join_authorised_via_users_server`` (v8+) if a string."""
        value = self.raw.get("join_authorised_via_users_server")
        return value if isinstance(value, str) else None

    @property
    def has_join_authorised_via_users_server(self) -> bool:
        """Whether the ``join_authorised_via_users_server`` key is present."""
        return "join_authorised_via_users_server" in self.raw

    @property
    def has_third_party_invite(self) -> bool:
        """Whether the ``third_party_invite`` key is present (any value)."""
        return "third_party_invite" in self.raw

    @property
    def third_party_invite(self) -> Mapping[str, Any] | None:
        """``third_party_invite`` if an object."""
        value = self.raw.get("third_party_invite")
        return value if isinstance(value, Mapping) else None

    @property
    def signed(self) -> Mapping[str, Any] | None:
        """``third_party_invite.signed`` if an object."""
        tpi = self.third_party_invite
        if tpi is None:
            return None
        signed = tpi.get("signed")
        return signed if isinstance(signed, Mapping) else None

    @property
    def token(self) -> str | None:
        """``third_party_invite.signed.token`` if a string."""
        signed = self.signed
        token = signed.get("token") if signed is not None else None
        return token if isinstance(token, str) else None

    @property
    def mxid(self) -> str | None:
        """``third_party_invite.signed.mxid`` if a string."""
        signed = self.signed
        mxid = signed.get("mxid") if signed is not None else None
        return mxid if isinstance(mxid, str) else None


def membership_of(event: Mapping[str, Any] | None) -> str:
    """A user's *current membership state* given their member event.

    The auth rules speak of "membership state"; with no member event a user has
    never been in the room, which the ``m.room.member`` schema ("If not present, the
    user's previous membership must be assumed as `leave`") treats as ``leave``. A
    present event with a non-string ``membership`` also reads as ``leave``.

    Args:
        event: The user's ``m.room.member`` event, or ``None``.

    Returns:
        The membership string.
    """
    return MemberContent.from_event(event).membership or "leave"


# --------------------------------------------------------------------- join rules


class JoinRulesContent:
    """Reader of ``m.room.join_rules`` content."""

    def __init__(self, content: Mapping[str, Any] | None) -> None:
        """Wrap a content object (``None`` reads as empty)."""
        self.raw: Mapping[str, Any] = content if isinstance(content, Mapping) else {}

    @classmethod
    def from_event(cls, event: Mapping[str, Any] | None) -> JoinRulesContent:
        """Reader for a join rules event, or for "no event" (``None``)."""
        return cls(content_of(event))

    @property
    def join_rule(self) -> str | None:
        """``join_rule`` if a string, else ``None``."""
        value = self.raw.get("join_rule")
        return value if isinstance(value, str) else None

    @property
    def allow(self) -> list[Mapping[str, Any]]:
        """``allow`` (v8+): the object entries, in order."""
        raw = self.raw.get("allow")
        if not isinstance(raw, list):
            return []
        return [entry for entry in raw if isinstance(entry, Mapping)]

    @property
    def allowed_room_ids(self) -> list[str]:
        """Room IDs of the ``m.room_membership`` allow conditions with a string
        ``room_id``; unknown condition types are ignored (§m.room.join_rules: the
        user "needs only to satisfy one of the conditions")."""
        return [
            entry["room_id"]
            for entry in self.allow
            if entry.get("type") == "m.room_membership" and isinstance(entry.get("room_id"), str)
        ]


# ----------------------------------------------------------- third-party invites


class ThirdPartyInviteContent:
    """Reader of ``m.room.third_party_invite`` content."""

    def __init__(self, content: Mapping[str, Any] | None) -> None:
        """Wrap a content object (``None`` reads as empty)."""
        self.raw: Mapping[str, Any] = content if isinstance(content, Mapping) else {}

    @classmethod
    def from_event(cls, event: Mapping[str, Any] | None) -> ThirdPartyInviteContent:
        """Reader for a third-party invite event, or ``None``."""
        return cls(content_of(event))

    @property
    def display_name(self) -> str | None:
        """``display_name`` if a string."""
        value = self.raw.get("display_name")
        return value if isinstance(value, str) else None

    @property
    def public_keys(self) -> list[str]:
        """Every public key a signature may match (rooms/v1.md rule 5.3.1.7): the
        single ``public_key`` then each ``public_keys[].public_key``, strings only.
        They are unpadded Base64, standard or URL-safe (§m.room.third_party_invite).
        """
        keys: list[str] = []
        single = self.raw.get("public_key")
        if isinstance(single, str):
            keys.append(single)
        many = self.raw.get("public_keys")
        if isinstance(many, list):
            for entry in many:
                if isinstance(entry, Mapping) and isinstance(entry.get("public_key"), str):
                    keys.append(entry["public_key"])
        return keys
