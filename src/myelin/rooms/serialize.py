"""Stored events to client events, with the server-added ``unsigned`` data
(§Room event format: age, transaction_id, prev_content, redacted_because; §Aggregations of
child events: m.relations)."""

from __future__ import annotations

from typing import Any, Protocol

from myelin.protocol.events.client import client_event
from myelin.rooms.engine import RoomEngine, StoredEvent


class Aggregations(Protocol):
    """Builds the bundled aggregations (``unsigned["m.relations"]``) of a batch of events,
    keyed by event ID; events without any are left out (rooms/aggregations.py)."""

    async def bundles(self, events: list[StoredEvent], *, now: int, user_id: str | None,
                      device_id: str | None,
                      include_room_id: bool) -> dict[str, dict[str, Any]]: ...


async def to_client_events(engine: RoomEngine, events: list[StoredEvent], *, now: int,
                           user_id: str | None = None, device_id: str | None = None,
                           include_room_id: bool = True,
                           aggregations: Aggregations | None = None) -> list[dict[str, Any]]:
    wanted = {e.replaces_state for e in events if e.replaces_state} | {
        e.redacted_by for e in events if e.redacted_by}
    related = await engine.get_events([i for i in wanted if i])
    bundles = {} if aggregations is None else await aggregations.bundles(
        events, now=now, user_id=user_id, device_id=device_id, include_room_id=include_room_id)
    out = []
    for event in events:
        unsigned: dict[str, Any] = {"age": max(0, now - int(event.pdu.get("origin_server_ts", 0)))}
        if event.txn_id and event.sender == user_id and event.txn_device == device_id:
            unsigned["transaction_id"] = event.txn_id
        if event.replaces_state:
            unsigned["replaces_state"] = event.replaces_state
            previous = related.get(event.replaces_state)
            if previous is not None:
                unsigned["prev_content"] = previous.content
                unsigned["prev_sender"] = previous.sender
        if event.redacted_by:
            redaction = related.get(event.redacted_by)
            if redaction is not None:
                unsigned["redacted_because"] = client_event(
                    redaction.pdu, redaction.event_id, redaction.room_id,
                    include_room_id=include_room_id)
        if event.event_id in bundles:
            unsigned["m.relations"] = bundles[event.event_id]
        out.append(client_event(event.pdu, event.event_id, event.room_id, unsigned=unsigned,
                                include_room_id=include_room_id))
    return out
