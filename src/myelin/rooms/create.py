"""POST /createRoom: the initial events of a new room, in the order the spec requires
(create_room.yaml): create, creator's join, power levels, canonical alias, preset events,
initial_state, name and topic, invites."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from myelin.protocol.errors import InvalidParam, ProtocolError, UnsupportedRoomVersion
from myelin.protocol.identifiers import is_valid_user_id
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion
from myelin.rooms.engine import Draft, RoomEngine

PRESETS = {
    # preset: (join_rule, history_visibility, guest_access)
    "private_chat": ("invite", "shared", "can_join"),
    "trusted_private_chat": ("invite", "shared", "can_join"),
    "public_chat": ("public", "shared", "forbidden"),
}


class InvalidRoomState(ProtocolError):
    errcode = "M_INVALID_ROOM_STATE"
    status_hint = 400


@dataclass
class CreateRoomRequest:
    creator: str
    visibility: str = "private"
    preset: str | None = None
    name: str | None = None
    topic: str | None = None
    room_alias_name: str | None = None
    invite: list[str] = field(default_factory=list)
    initial_state: list[dict[str, Any]] = field(default_factory=list)
    power_level_content_override: dict[str, Any] | None = None
    creation_content: dict[str, Any] | None = None
    is_direct: bool = False
    room_version: str | None = None


def default_power_levels(version: RoomVersion, creator: str, trusted: list[str]) -> dict[str, Any]:
    """The power levels a new room starts with (create_room.yaml step 3)."""
    privileged = version.authorization.privileged_creators
    users: dict[str, int] = {}
    if not privileged:
        users[creator] = 100
        for user in trusted:
            users[user] = 100
    return {
        "users": users,
        "users_default": 0,
        "events": {
            "m.room.name": 50,
            "m.room.power_levels": 100,
            "m.room.history_visibility": 100,
            "m.room.canonical_alias": 50,
            "m.room.avatar": 50,
            # v12: tombstones need more than state_default (create_room.yaml step 3).
            "m.room.tombstone": 150 if privileged else 100,
            "m.room.server_acl": 100,
            "m.room.encryption": 100,
        },
        "events_default": 0,
        "state_default": 50,
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 0,
        "historical": 100,
        "notifications": {"room": 50},
    }


def plan_room(req: CreateRoomRequest, *, server_name: str,
              default_version: str) -> tuple[RoomVersion, str | None, list[Draft], str | None]:
    """Validate the request and lay out the initial events.

    Returns (room version, room ID or None when derived from the create event, drafts,
    full alias or None)."""
    version_id = req.room_version or default_version
    version = KNOWN_ROOM_VERSIONS.get(version_id)
    if version is None:
        raise UnsupportedRoomVersion(f"Room version {version_id!r} is not supported")
    preset = req.preset or ("public_chat" if req.visibility == "public" else "private_chat")
    if preset not in PRESETS:
        raise InvalidParam(f"Unknown preset {preset!r}")
    if req.visibility not in ("public", "private"):
        raise InvalidParam("visibility must be 'public' or 'private'")
    for user in req.invite:
        if not is_valid_user_id(user):
            raise InvalidParam(f"Invalid user ID to invite: {user!r}")
    creator = req.creator
    trusted = list(req.invite) if preset == "trusted_private_chat" else []

    create_content: dict[str, Any] = dict(req.creation_content or {})
    create_content.pop("creator", None)
    create_content["room_version"] = version.identifier
    if not version.authorization.implicit_room_creator:
        create_content["creator"] = creator  # v1-v10
    if version.authorization.additional_creators and trusted:
        extra = create_content.get("additional_creators")
        merged = list(extra) if isinstance(extra, list) else []
        create_content["additional_creators"] = merged + [u for u in trusted if u not in merged]

    room_id = None
    if not version.event_format.room_id_from_create_event:
        room_id = f"!{secrets.token_urlsafe(12).replace('-', 'a').replace('_', 'b')}:{server_name}"

    drafts: list[Draft] = [
        Draft(creator, "m.room.create", create_content, ""),
        Draft(creator, "m.room.member", {"membership": "join"}, creator),
    ]
    power = default_power_levels(version, creator, trusted)
    for key, value in (req.power_level_content_override or {}).items():
        power[key] = value
    drafts.append(Draft(creator, "m.room.power_levels", power, ""))

    alias = None
    if req.room_alias_name is not None:
        local = req.room_alias_name
        if not local or ":" in local or any(c.isspace() for c in local) or "#" in local:
            raise InvalidParam("room_alias_name must be a non-empty localpart without ':', '#' "
                               "or spaces")
        alias = f"#{local}:{server_name}"
        if len(alias.encode()) > 255:
            raise InvalidParam("Alias is too long")
        drafts.append(Draft(creator, "m.room.canonical_alias", {"alias": alias}, ""))

    initial: dict[tuple[str, str], dict[str, Any]] = {}
    for i, item in enumerate(req.initial_state):
        if not isinstance(item, dict) or not isinstance(item.get("type"), str) or \
                not isinstance(item.get("content"), dict):
            raise InvalidRoomState(f"initial_state[{i}] needs a type and a content object")
        state_key = item.get("state_key", "")
        if not isinstance(state_key, str):
            raise InvalidRoomState(f"initial_state[{i}].state_key must be a string")
        if item["type"] in ("m.room.create", "m.room.member", "m.room.power_levels"):
            raise InvalidRoomState(f"initial_state cannot set {item['type']}")
        initial[(item["type"], state_key)] = item["content"]

    join_rule, history, guest = PRESETS[preset]
    for event_type, content in (("m.room.join_rules", {"join_rule": join_rule}),
                                ("m.room.history_visibility", {"history_visibility": history}),
                                ("m.room.guest_access", {"guest_access": guest})):
        if (event_type, "") not in initial:
            drafts.append(Draft(creator, event_type, content, ""))
    for (event_type, state_key), content in initial.items():
        if (event_type, state_key) in (("m.room.name", ""), ("m.room.topic", "")) and (
                (event_type == "m.room.name" and req.name is not None) or
                (event_type == "m.room.topic" and req.topic is not None)):
            continue  # name and topic override initial_state (step 7)
        drafts.append(Draft(creator, event_type, content, state_key))
    if req.name is not None:
        drafts.append(Draft(creator, "m.room.name", {"name": req.name}, ""))
    if req.topic is not None:
        drafts.append(Draft(creator, "m.room.topic", {
            "topic": req.topic, "m.topic": {"m.text": [{"body": req.topic}]}}, ""))
    for user in req.invite:
        content: dict[str, Any] = {"membership": "invite"}
        if req.is_direct:
            content["is_direct"] = True
        drafts.append(Draft(creator, "m.room.member", content, user))
    return version, room_id, drafts, alias


async def create_room(engine: RoomEngine, req: CreateRoomRequest, *,
                      default_version: str) -> tuple[str, str | None]:
    """Create the room; returns (room ID, alias or None). The alias row is the caller's."""
    version, room_id, drafts, alias = plan_room(req, server_name=engine.server_name,
                                                default_version=default_version)
    new_room_id, _ = await engine.create(version, room_id, drafts, creator=req.creator)
    return new_room_id, alias
