"""RoomBuilder: a hashed and signed in-memory room for the auth-rule tests.

Events are real PDUs for their room version: v1-v2 carry an opaque ``event_id``
and ``[event_id, hashes]`` references, v3+ are identified by their reference hash
(:func:`~myelin.protocol.events.hashing.compute_event_id`), and v12 rooms take
their ID from the create event
(:func:`~myelin.protocol.events.hashing.room_id_from_create_event`). Every event
gets a content hash and a signature from its sender's server (one test key).
``auth_events`` are chosen by :func:`auth_types_for_event` over the builder's
current state.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from myelin.protocol.auth import StateKey, auth_types_for_event, check_auth
from myelin.protocol.errors import Forbidden
from myelin.protocol.events.hashing import (
    add_hashes_and_signatures,
    compute_event_id,
    room_id_from_create_event,
)
from myelin.protocol.events.signing import decode_signing_key_base64
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

ALICE = "@alice:example.org"
BOB = "@bob:example.org"
CAROL = "@carol:example.org"
DAVE = "@dave:other.example"
EVE = "@eve:other.example"

ALL_VERSIONS: list[RoomVersion] = list(KNOWN_ROOM_VERSIONS.values())

SIGNING_KEY = decode_signing_key_base64(
    "ed25519", "test", "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0"
)

_counter = itertools.count(1)
# Shared, so two rooms built alike still get distinct create events (and v12 room IDs).
_timestamps = itertools.count(1_700_000_000_000)


def versions(predicate: Any = None) -> list[Any]:
    """Room versions as pytest params (id = version string), optionally filtered.

    Args:
        predicate: ``RoomVersion -> bool``; ``None`` keeps all.
    """
    return [
        pytest.param(v, id=f"v{v.identifier}")
        for v in ALL_VERSIONS
        if predicate is None or predicate(v)
    ]


def domain(user_id: str) -> str:
    """The server part of an ID."""
    return user_id.partition(":")[2]


def default_power_levels(version: RoomVersion, creator: str) -> dict[str, Any]:
    """Power levels like a fresh private-chat room's; v12 creators are not listed."""
    users = {} if version.authorization.privileged_creators else {creator: 100}
    return {
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 0,
        "events_default": 0,
        "state_default": 50,
        "users_default": 0,
        "events": {"m.room.name": 50, "m.room.power_levels": 100},
        "users": users,
    }


class RoomBuilder:
    """An in-memory room: the create event, the creator's join, power levels and
    join rules, then whatever the test adds.

    Attributes:
        version: The room version.
        creator: The create event's sender.
        state: Current state, keyed by ``(type, state_key)``.
        events: Every event applied, oldest first.
        by_id: Events by event ID.
        room_id: The room ID.
    """

    def __init__(
        self,
        version: RoomVersion,
        creator: str = ALICE,
        *,
        create_content: Mapping[str, Any] | None = None,
        power_levels: Mapping[str, Any] | None | bool = True,
        join_rule: str | None = "public",
        join_creator: bool = True,
    ) -> None:
        """Create the room.

        Args:
            version: The room version.
            creator: The creator's user ID.
            create_content: Extra ``m.room.create`` content (merged over the default:
                ``room_version``, plus ``creator`` for v1-v10).
            power_levels: ``True`` for :func:`default_power_levels`, a mapping for
                that content, or ``False``/``None`` for no power levels event.
            join_rule: The initial join rule, or ``None`` for no join rules event.
            join_creator: Whether the creator joins.
        """
        self.version = version
        self.creator = creator
        self.state: dict[StateKey, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        content: dict[str, Any] = {"room_version": version.identifier}
        if not version.authorization.implicit_room_creator:
            content["creator"] = creator
        content.update(create_content or {})
        if version.event_format.room_id_from_create_event:
            self.room_id = ""
        else:
            self.room_id = f"!room{next(_counter)}:{domain(creator)}"
        self.create = self.send("m.room.create", creator, content, state_key="")
        if version.event_format.room_id_from_create_event:
            self.room_id = room_id_from_create_event(self.create, version)
        if join_creator:
            self.join(creator)
        if power_levels is True:
            self.send("m.room.power_levels", creator, default_power_levels(version, creator), "")
        elif power_levels:
            self.send("m.room.power_levels", creator, dict(power_levels), "")
        if join_rule is not None:
            self.send("m.room.join_rules", creator, {"join_rule": join_rule}, "")

    # ------------------------------------------------------------------ building

    def event_id(self, event: Mapping[str, Any]) -> str:
        """The event's ID in this room version."""
        return compute_event_id(event, self.version)

    def ref(self, event: Mapping[str, Any]) -> Any:
        """How ``prev_events``/``auth_events`` reference ``event`` in this version."""
        event_id = self.event_id(event)
        if self.version.event_format.event_refs_with_hashes:
            return [event_id, {"sha256": event["hashes"]["sha256"]}]
        return event_id

    def build(
        self,
        event_type: str,
        sender: str,
        content: Mapping[str, Any],
        state_key: str | None = None,
        *,
        prev_events: Iterable[Mapping[str, Any]] | None = None,
        auth_events: Iterable[Mapping[str, Any]] | None = None,
        sign: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Build (but do not apply) an event on top of the current state.

        Args:
            event_type: ``type``.
            sender: ``sender``.
            content: ``content``.
            state_key: ``state_key`` for state events.
            prev_events: Override of the previous events (default: the last event).
            auth_events: Override of the auth events (default: the selection over
                the current state).
            sign: Whether to hash and sign (off for content canonical JSON refuses).
            **extra: More top-level keys (e.g. ``redacts``), set last.

        Returns:
            The PDU.
        """
        event: dict[str, Any] = {
            "type": event_type,
            "sender": sender,
            "content": copy.deepcopy(dict(content)),
            "origin_server_ts": next(_timestamps),
            "depth": len(self.events) + 1,
        }
        is_v12_create = (
            event_type == "m.room.create" and self.version.event_format.room_id_from_create_event
        )
        if not is_v12_create:
            event["room_id"] = self.room_id
        if state_key is not None:
            event["state_key"] = state_key
        if prev_events is None:
            prev_events = self.events[-1:]
        event["prev_events"] = [self.ref(prev) for prev in prev_events]
        if auth_events is None:
            keys = auth_types_for_event(self.version, event_type, sender, state_key, content)
            auth_events = [self.state[key] for key in keys if key in self.state]
        event["auth_events"] = [self.ref(auth) for auth in auth_events]
        if self.version.event_format.event_refs_with_hashes:
            event["event_id"] = f"$ev{next(_counter)}:{domain(sender)}"
        event.update(extra)
        if sign:
            event = add_hashes_and_signatures(event, self.version, domain(sender), SIGNING_KEY)
        return event

    def apply(self, event: dict[str, Any]) -> dict[str, Any]:
        """Append an event to the room and its state, without checks."""
        self.events.append(event)
        self.by_id[self.event_id(event)] = event
        if "state_key" in event:
            self.state[(event["type"], event["state_key"])] = event
        return event

    def check(self, event: Mapping[str, Any], **kwargs: Any) -> None:
        """:func:`check_auth` against the current state."""
        check_auth(self.version, event, self.state, **kwargs)

    def send(
        self,
        event_type: str,
        sender: str,
        content: Mapping[str, Any],
        state_key: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Build, authorise against the current state (must pass) and apply."""
        event = self.build(event_type, sender, content, state_key, **kwargs)
        self.check(event)
        return self.apply(event)

    def auth_event_list(self, event: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The events ``event``'s ``auth_events`` reference."""
        refs = event.get("auth_events", [])
        ids = [ref[0] if isinstance(ref, list) else ref for ref in refs]
        return [self.by_id[event_id] for event_id in ids]

    # ------------------------------------------------------------- conveniences

    def member(self, sender: str, target: str, membership: str, **content: Any) -> dict[str, Any]:
        """Build an ``m.room.member`` event (not applied)."""
        return self.build("m.room.member", sender, {"membership": membership, **content}, target)

    def set_member(self, sender: str, target: str, membership: str, **content: Any) -> None:
        """Send an ``m.room.member`` event (must be allowed)."""
        self.send("m.room.member", sender, {"membership": membership, **content}, target)

    def force_member(self, target: str, membership: str, sender: str | None = None) -> None:
        """Put a membership into the state without authorising it."""
        self.apply(
            self.build("m.room.member", sender or target, {"membership": membership}, target)
        )

    def join(self, user: str) -> None:
        """``user`` joins (must be allowed)."""
        self.set_member(user, user, "join")

    def set_power_levels(self, **changes: Any) -> None:
        """Send power levels: the defaults with ``changes`` (by the creator)."""
        content = default_power_levels(self.version, self.creator)
        content.update(changes)
        self.send("m.room.power_levels", self.creator, content, "")

    def force_power_levels(self, **changes: Any) -> None:
        """Put power levels (defaults with ``changes``) into the state unchecked."""
        content = default_power_levels(self.version, self.creator)
        content.update(changes)
        self.apply(self.build("m.room.power_levels", self.creator, content, ""))

    def set_join_rule(self, join_rule: str, **content: Any) -> None:
        """Put a join rule into the state unchecked (it may be unknown to the version)."""
        self.apply(
            self.build("m.room.join_rules", self.creator, {"join_rule": join_rule, **content}, "")
        )


# ----------------------------------------------------------------- rule numbers
#
# Written out by hand from rooms/v1.md ... v12.md, independently of the numbering
# code in myelin.protocol.auth.rules, so the tests check it.


def _n(version: RoomVersion) -> int:
    return int(version.identifier)


def top(version: RoomVersion, name: str) -> int:
    """The top-level rule number of a rule group in a room version."""
    n = _n(version)
    fixed = {
        "create": 1,
        "room_id": 2,
        "auth_events": 3 if n == 12 else 2,
        "federate": 4 if n == 12 else 3,
        "aliases": 4,
    }
    if name in fixed:
        return fixed[name]
    member = 5 if n <= 5 or n == 12 else 4
    order = [
        "member",
        "sender_joined",
        "third_party_invite",
        "required_level",
        "state_key",
        "power_levels",
        "redaction",
    ]
    return member + order.index(name)


def member_sub(version: RoomVersion, name: str) -> int:
    """Sub-rule number under the m.room.member rule."""
    n = _n(version)
    shift = 1 if n >= 8 else 0  # v8 inserts join_authorised_via_users_server as .2
    table = {"shape": 1, "signature": 2, "join": 2, "invite": 3, "leave": 4, "ban": 5, "knock": 6}
    if name == "unknown":
        return 6 + (1 if n >= 7 else 0) + shift
    if name in ("shape", "signature"):
        return table[name]
    return table[name] + shift


def join_sub(version: RoomVersion, name: str) -> int:
    """Sub-rule number under "If membership is join"."""
    restricted = _n(version) >= 8
    table = {"creator": 1, "sender": 2, "banned": 3, "invite": 4, "restricted": 5}
    if name == "public":
        return 6 if restricted else 5
    if name == "reject":
        return 7 if restricted else 6
    return table[name]


def power_levels_sub(version: RoomVersion, name: str) -> str:
    """Sub-rule number under the m.room.power_levels rule."""
    n = _n(version)
    if n < 10:
        table = {
            "users_types": "1",
            "scalar_current": "3.1",
            "scalar_new": "3.2",
            "map_current": "4.1",
            "map_new": "5.1",
            "users_current": "6.1",
            "users_new": "7.1",
        }
    else:
        shift = 1 if n >= 12 else 0
        table = {
            "scalar_types": "1",
            "map_types": "2",
            "users_types": "3",
            "creator_in_users": "4",
            "scalar_current": f"{5 + shift}.1",
            "scalar_new": f"{5 + shift}.2",
            "map_current": f"{6 + shift}.1",
            "map_new": f"{7 + shift}.1",
            "users_current": f"{8 + shift}.1",
            "users_new": f"{9 + shift}.1",
        }
    return table[name]


def rule(version: RoomVersion, name: str, *subs: int | str) -> str:
    """A full rule number such as ``"4.3.5.2"``."""
    return ".".join([str(top(version, name)), *(str(s) for s in subs)])


def assert_rejected(room: RoomBuilder, event: Mapping[str, Any], number: str, **kw: Any) -> None:
    """check_auth against ``room``'s state raises Forbidden naming rule ``number``."""
    with pytest.raises(Forbidden, match=rf"^rule {re.escape(number)} \("):
        room.check(event, **kw)
