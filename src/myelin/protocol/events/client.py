"""PDUs in the client format (Client-Server API §Room event format, "ClientEvent")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def client_event(pdu: Mapping[str, Any], event_id: str, room_id: str, *,
                 unsigned: Mapping[str, Any] | None = None,
                 include_room_id: bool = True) -> dict[str, Any]:
    """The client view of a PDU: federation-only keys (hashes, signatures, auth/prev
    events, depth, origin) are dropped. For v11+ redactions, whose ``redacts`` lives in
    ``content``, it is also copied to the top level, where older clients look for it."""
    event: dict[str, Any] = {
        "type": pdu["type"],
        "content": pdu.get("content", {}),
        "sender": pdu["sender"],
        "origin_server_ts": pdu.get("origin_server_ts", 0),
        "event_id": event_id,
    }
    if include_room_id:
        event["room_id"] = room_id
    if "state_key" in pdu:
        event["state_key"] = pdu["state_key"]
    if pdu["type"] == "m.room.redaction":
        redacts = pdu.get("redacts")
        content = event["content"]
        if redacts is None and isinstance(content, Mapping):
            redacts = content.get("redacts")
        if isinstance(redacts, str):
            event["redacts"] = redacts
    if unsigned:
        event["unsigned"] = dict(unsigned)
    return event
