"""TEST DOUBLE — NOT the authorisation rules.

A deliberately small stand-in for ``myelin.protocol.auth`` (being written
separately), implementing only what the state resolution scenarios need: room
creators, joins against ``public``/``invite`` join rules, invites, leaves, kicks,
bans, "sender must be joined", the required power level per event type, and the
power-level change rules for the top-level levels, ``events`` and ``users``.

It ignores everything else (signatures, third-party invites, knocking, restricted
rooms, ``m.federate``, duplicate or unexpected auth events, content validation).
Never use it outside tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from myelin.protocol.errors import Forbidden
from myelin.protocol.room_versions import RoomVersion

StateKey = tuple[str, str]

_LEVEL_KEYS = (
    "users_default",
    "events_default",
    "state_default",
    "ban",
    "redact",
    "kick",
    "invite",
)


def _creators(version: RoomVersion, create: Mapping[str, Any]) -> set[str]:
    rules = version.authorization
    content = create.get("content", {})
    creators = {create["sender"] if rules.implicit_room_creator else content.get("creator")}
    if rules.additional_creators:
        creators.update(content.get("additional_creators", []))
    return {c for c in creators if isinstance(c, str)}


def check_auth_double(
    version: RoomVersion,
    event: Mapping[str, Any],
    auth_events: Mapping[StateKey, Mapping[str, Any]],
) -> None:
    """Simplified authorisation rules for tests (see module docstring).

    Args:
        version: The room version.
        event: The event to check.
        auth_events: ``(type, state_key) -> event`` as given by state resolution.

    Raises:
        Forbidden: when the simplified rules reject the event.
    """
    event_type = event["type"]
    if event_type == "m.room.create":
        return
    create = auth_events.get(("m.room.create", ""))
    if create is None:
        raise Forbidden("no create event")
    creators = _creators(version, create)
    pl_event = auth_events.get(("m.room.power_levels", ""))
    pl: Mapping[str, Any] | None = pl_event["content"] if pl_event is not None else None
    privileged = version.authorization.privileged_creators

    def level(user: str) -> float:
        if privileged and user in creators:
            return math.inf
        if pl is None:
            return 100 if user in creators else 0
        return pl.get("users", {}).get(user, pl.get("users_default", 0))

    def threshold(name: str, default: int) -> int:
        return default if pl is None else pl.get(name, default)

    def membership(user: str) -> str | None:
        member = auth_events.get(("m.room.member", user))
        return member["content"].get("membership") if member is not None else None

    sender = event["sender"]
    content = event["content"]

    if event_type == "m.room.member":
        target = event["state_key"]
        wanted = content.get("membership")
        current = membership(target)
        if wanted == "join":
            prevs = event.get("prev_events", [])
            prev_ids = [p if isinstance(p, str) else p[0] for p in prevs]
            if prev_ids == [create["event_id"]] and target in creators:
                return
            if sender != target:
                raise Forbidden("cannot join someone else")
            if current == "ban":
                raise Forbidden("banned")
            join_rules = auth_events.get(("m.room.join_rules", ""))
            rule = join_rules["content"].get("join_rule") if join_rules is not None else None
            if rule == "public":
                return
            if rule == "invite" and current in ("invite", "join"):
                return
            raise Forbidden("join not allowed")
        if wanted == "invite":
            if membership(sender) != "join":
                raise Forbidden("inviter not joined")
            if current in ("join", "ban"):
                raise Forbidden("target joined or banned")
            if level(sender) < threshold("invite", 0):
                raise Forbidden("invite level")
            return
        if wanted == "leave":
            if sender == target:
                if current in ("invite", "join", "knock"):
                    return
                raise Forbidden("not in the room")
            if membership(sender) != "join":
                raise Forbidden("kicker not joined")
            if current == "ban" and level(sender) < threshold("ban", 50):
                raise Forbidden("unban needs ban level")
            if level(sender) >= threshold("kick", 50) and level(target) < level(sender):
                return
            raise Forbidden("kick not allowed")
        if wanted == "ban":
            if membership(sender) != "join":
                raise Forbidden("banner not joined")
            if level(sender) >= threshold("ban", 50) and level(target) < level(sender):
                return
            raise Forbidden("ban not allowed")
        raise Forbidden("unknown membership")

    if membership(sender) != "join":
        raise Forbidden("sender not joined")
    is_state = "state_key" in event
    if pl is None:
        required = 0
    else:
        default = pl.get("state_default", 50) if is_state else pl.get("events_default", 0)
        required = pl.get("events", {}).get(event_type, default)
    if level(sender) < required:
        raise Forbidden("insufficient power")
    state_key = event.get("state_key")
    if isinstance(state_key, str) and state_key.startswith("@") and state_key != sender:
        raise Forbidden("cannot set someone else's state")

    if event_type == "m.room.power_levels" and pl is not None:
        mine = level(sender)
        for name in _LEVEL_KEYS:
            old, new = pl.get(name), content.get(name)
            if old != new and (
                (old is not None and old > mine) or (new is not None and new > mine)
            ):
                raise Forbidden(f"cannot change {name}")
        old_events, new_events = pl.get("events", {}), content.get("events", {})
        for name in set(old_events) | set(new_events):
            old, new = old_events.get(name), new_events.get(name)
            if old != new and (
                (old is not None and old > mine) or (new is not None and new > mine)
            ):
                raise Forbidden(f"cannot change events.{name}")
        old_users, new_users = pl.get("users", {}), content.get("users", {})
        for user in set(old_users) | set(new_users):
            old, new = old_users.get(user), new_users.get(user)
            if old == new:
                continue
            if user != sender and old is not None and old >= mine:
                raise Forbidden(f"cannot change {user}")
            if new is not None and new > mine:
                raise Forbidden(f"cannot raise {user} above yourself")
