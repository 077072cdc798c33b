"""Power-level questions asked before acting on a room's behalf (Client-Server API
§Permissions; §m.room.power_levels): may this user send that state event now?"""

from __future__ import annotations

from myelin.protocol.auth.power_levels import PowerLevels
from myelin.rooms.engine import RoomEngine


async def current_power_levels(engine: RoomEngine, room_id: str) -> PowerLevels | None:
    """The room's power levels as of its current state; None for an unknown room."""
    version = await engine.room_version(room_id)
    if version is None:
        return None
    pl = await engine.current_state_event(room_id, "m.room.power_levels")
    create = await engine.current_state_event(room_id, "m.room.create")
    return PowerLevels(version, pl.pdu if pl else None, create.pdu if create else None)


async def may_send_state(engine: RoomEngine, room_id: str, user_id: str,
                         event_type: str) -> bool:
    """Whether ``user_id`` is joined to the room and has the level its power levels require
    for the state event ``event_type`` (``events[type]``, else ``state_default``)."""
    member = await engine.current_state_event(room_id, "m.room.member", user_id)
    if member is None or member.content.get("membership") != "join":
        return False
    levels = await current_power_levels(engine, room_id)
    if levels is None:
        return False
    return levels.user_level(user_id) >= levels.event_level(event_type, True)
