"""Events around an event, and the event nearest a timestamp: Client-Server API
modules/event_context.md (event_context.yaml) and room_event_by_timestamp.yaml.

Both only return what the viewer may see (event_context.md §Security considerations):
the history-visibility rules are applied to every event.
"""

from __future__ import annotations

from typing import Any

import msgspec

from myelin.protocol.errors import Forbidden, NotFound, NotJson
from myelin.protocol.sync.filters import RoomEventFilter, parse_room_event_filter
from myelin.rooms.engine import StoredEvent
from myelin.rooms.service import RoomService, Viewer, make_token
from myelin.rooms.visibility import filter_visible
from myelin.storage.database import Database
from myelin.storage.repos import relations as relations_repo
from myelin.storage.repos import rooms as repo


def parse_context_filter(raw_filter: str | None) -> RoomEventFilter | None:
    """The ``filter`` query parameter: a JSON RoomEventFilter (event_context.yaml). Anything
    that is not a JSON object (a filter ID, which this endpoint does not take) is ignored;
    an object that is not a valid filter is 400 M_BAD_JSON, invalid JSON 400 M_NOT_JSON."""
    if not raw_filter or not raw_filter.lstrip().startswith("{"):
        return None
    try:
        value = msgspec.json.decode(raw_filter)
    except msgspec.DecodeError:
        raise NotJson("The filter parameter is not valid JSON") from None
    return parse_room_event_filter(value, "filter")


class EventContextService:
    # room_event_by_timestamp: how many events, nearest first, to look through for one the
    # viewer may see before answering 404.
    MAX_TIMESTAMP_SCAN = 2000
    _TIMESTAMP_BATCH = 100

    def __init__(self, *, db: Database, rooms: RoomService) -> None:
        self._db = db
        self._rooms = rooms
        self._engine = rooms.engine

    async def context(self, viewer: Viewer, room_id: str, event_id: str, *, limit: int,
                      event_filter: RoomEventFilter | None = None) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/context/{eventId}

        ``limit`` is shared by ``events_before`` (half, rounded down, newest first) and
        ``events_after`` (the rest, oldest first); the event itself always comes back, or
        404 when it is missing, in another room or hidden from the viewer. ``start`` and
        ``end`` are /messages tokens: backwards from ``start`` continues before the
        earliest event looked at, forwards from ``end`` after the latest. ``state`` is the
        room state at the last event returned. ``event_filter`` applies to
        ``events_before``, ``events_after`` and ``state``, not to the event; with
        ``lazy_load_members``, the state's member events are those of the returned events'
        senders (§Lazy-loading room members)."""
        if await self._engine.room_version(room_id) is None:
            raise NotFound("Event not found")
        event = await self._engine.get_event(event_id)
        if event is None or event.room_id != room_id or not await filter_visible(
                self._db, self._engine, viewer.user_id, room_id, [event]):
            raise NotFound("Event not found")
        n_before = limit // 2
        n_after = limit - n_before
        async with self._db.read() as conn:
            rows_before = await repo.room_events_before(
                conn, room_id, event.depth, event.stream, n_before) if n_before else []
            rows_after = await repo.room_events_after(
                conn, room_id, event.depth, event.stream, n_after) if n_after else []
        before = await filter_visible(self._db, self._engine, viewer.user_id, room_id,
                                      self._engine.events_from_rows(rows_before))
        after = await filter_visible(self._db, self._engine, viewer.user_id, room_id,
                                     self._engine.events_from_rows(rows_after))
        last = after[-1] if after else event
        if event_filter is not None:
            before = [e for e in before if _allowed(event_filter, e)]
            after = [e for e in after if _allowed(event_filter, e)]
        async with self._db.read() as conn:
            state_ids = await repo.state_ids_at(conn, room_id, last.stream)
        if event_filter is not None and event_filter.lazy_load_members:
            senders = {e.sender for e in [event, *before, *after]}
            state_ids = {k: v for k, v in state_ids.items()
                         if k[0] != "m.room.member" or k[1] in senders}
        found = await self._engine.get_events(state_ids.values())
        state = [e for e in found.values()
                 if event_filter is None or _allowed(event_filter, e)]
        # One serialization for the timeline events: one batch of bundled aggregations.
        served = await self._rooms.serialize([event, *before, *after], viewer)
        first_row = rows_before[-1] if rows_before else None
        last_row = rows_after[-1] if rows_after else None
        return {
            "event": served[0],
            "events_before": served[1:1 + len(before)],
            "events_after": served[1 + len(before):],
            "state": await self._rooms.serialize(
                sorted(state, key=lambda e: e.stream), viewer),
            "start": make_token(first_row.depth, first_row.stream_ordering) if first_row
            else make_token(event.depth, event.stream),
            "end": make_token(last_row.depth, last_row.stream_ordering) if last_row
            else make_token(event.depth, event.stream),
        }

    async def timestamp_to_event(self, viewer: Viewer, room_id: str, ts: int,
                                 direction: str) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event

        The visible event closest to ``ts`` at or after it (``dir=f``) or at or before it
        (``dir=b``), by ``origin_server_ts`` (ties: the earlier in the stream going forwards,
        the later going backwards). 404 M_NOT_FOUND when there is none; 404 for an unknown
        room and 403 for users who have never been in the room (unless it is world-readable),
        as for /messages."""
        if await self._engine.room_version(room_id) is None:
            raise NotFound("Unknown room")
        async with self._db.read() as conn:
            member = await repo.membership_of(conn, viewer.user_id, room_id)
        if member is None and not await self._rooms._world_readable(room_id):
            raise Forbidden("You are not a member of this room")
        forwards = direction == "f"
        after: tuple[int, int] | None = None
        scanned = 0
        while scanned < self.MAX_TIMESTAMP_SCAN:
            async with self._db.read() as conn:
                rows = await relations_repo.events_by_timestamp(
                    conn, room_id, ts, forwards=forwards, after=after,
                    limit=self._TIMESTAMP_BATCH)
            scanned += len(rows)
            events: list[StoredEvent] = self._engine.events_from_rows(rows)
            visible = await filter_visible(self._db, self._engine, viewer.user_id, room_id,
                                           events)
            if visible:
                # filter_visible keeps the order it was given: nearest first.
                found = visible[0]
                return {"event_id": found.event_id,
                        "origin_server_ts": int(found.pdu.get("origin_server_ts", 0))}
            if len(rows) < self._TIMESTAMP_BATCH:
                break
            tail = events[-1]
            after = (int(tail.pdu.get("origin_server_ts", 0)), tail.stream)
        raise NotFound(f"Unable to find event from {ts} in "
                       f"{'forward' if forwards else 'backward'} direction")


def _allowed(event_filter: RoomEventFilter, event: StoredEvent) -> bool:
    return event_filter.allows(event.type, event.sender, event.room_id, event.content)
