"""The legacy event stream (Client-Server API §Syncing, old_sync.yaml, room_initial_sync.yaml,
peeking_events.yaml): ``GET /initialSync`` for a snapshot with an ``end`` token, then
``GET /events?from=<end>`` long-polling for what follows, and ``GET /rooms/{id}/initialSync``.

Tokens: ``s<stream position>`` for the event stream, the rooms' ``t<depth>_<stream>`` for
pagination. A long-poll registers with the notifier before it samples the stream position,
so an event committed in between wakes it (streams/notifier.py).
"""

from __future__ import annotations

import re
from typing import Any

from myelin.clock import Clock
from myelin.protocol.errors import Forbidden, InvalidParam, NotFound
from myelin.rooms.engine import StoredEvent
from myelin.rooms.service import RoomService, Viewer, make_token
from myelin.rooms.visibility import filter_visible
from myelin.storage.database import Database
from myelin.storage.repos import rooms as repo
from myelin.storage.stream_ids import StreamIdGenerator
from myelin.streams.notifier import Notifier

_STREAM_TOKEN = re.compile(r"^s(\d+)$")
MAX_CHUNK = 100


def stream_token(position: int) -> str:
    return f"s{position}"


def parse_stream_token(token: str) -> int:
    m = _STREAM_TOKEN.match(token)
    if m is None:
        raise InvalidParam(f"Invalid event stream token {token!r}")
    return int(m.group(1))


class EventStream:
    def __init__(self, *, db: Database, clock: Clock, rooms: RoomService, notifier: Notifier,
                 stream: StreamIdGenerator) -> None:
        self._db = db
        self._clock = clock
        self._rooms = rooms
        self._notifier = notifier
        self._stream = stream

    async def _room_snapshot(self, viewer: Viewer, room_id: str, membership: str,
                             member_event_id: str, up_to: int, limit: int) -> dict[str, Any]:
        """One room of /initialSync: state and the last ``limit`` events as of ``up_to``
        (the current position, or where the user left)."""
        engine = self._rooms.engine
        entry: dict[str, Any] = {"room_id": room_id, "membership": membership}
        if membership == "invite":
            invite = await engine.get_event(member_event_id)
            if invite is not None:
                entry["invite"] = (await self._rooms.serialize([invite], viewer))[0]
            return entry
        async with self._db.read() as conn:
            room = await repo.get_room(conn, room_id)
            state_ids = await repo.state_ids_at(conn, room_id, up_to)
            rows = await repo.room_events_before(conn, room_id, (room.head_depth if room else 0)
                                                 + 1, 0, limit + 50)
        rows = [r for r in rows if r.stream_ordering <= up_to][:limit]
        events = engine.events_from_rows(list(reversed(rows)))
        visible = await filter_visible(self._db, engine, viewer.user_id, room_id, events)
        state = await engine.get_events(state_ids.values())
        entry["state"] = await self._rooms.serialize(
            sorted(state.values(), key=lambda e: e.stream), viewer)
        first = rows[-1] if rows else None
        last = rows[0] if rows else None
        entry["messages"] = {
            "chunk": await self._rooms.serialize(visible, viewer),
            "start": make_token(first.depth, first.stream_ordering) if first else make_token(0, 0),
            "end": make_token(last.depth, last.stream_ordering) if last else make_token(0, 0),
        }
        entry["visibility"] = "public" if room and room.is_public else "private"
        entry["account_data"] = []
        return entry

    async def initial_sync(self, viewer: Viewer, *, limit: int, archived: bool) -> dict[str, Any]:
        """GET /initialSync"""
        end = self._stream.current
        async with self._db.read() as conn:
            memberships = await repo.user_memberships(conn, viewer.user_id)
        rooms = []
        for room_id, membership, event_id, stream, forgotten in memberships:
            if membership in ("leave", "ban") and (not archived or forgotten):
                continue
            if membership == "knock":
                continue
            up_to = end if membership in ("join", "invite") else stream
            rooms.append(await self._room_snapshot(viewer, room_id, membership, event_id,
                                                   min(up_to, end), limit))
        return {"end": stream_token(end), "rooms": rooms, "presence": [], "account_data": []}

    async def room_initial_sync(self, viewer: Viewer, room_id: str) -> dict[str, Any]:
        """GET /rooms/{roomId}/initialSync: 403 unless a member once, or world-readable."""
        if await self._rooms.engine.room_version(room_id) is None:
            raise Forbidden("You are not a member of this room")
        async with self._db.read() as conn:
            member = await repo.membership_of(conn, viewer.user_id, room_id)
        end = self._stream.current
        if member is None:
            if not await self._rooms._world_readable(room_id):
                raise Forbidden("You are not a member of this room")
            return await self._room_snapshot(viewer, room_id, "leave", "", end, 20) | {
                "membership": "leave"}
        membership, event_id = member
        up_to = end
        if membership in ("leave", "ban"):
            left = await self._rooms.engine.get_event(event_id)
            up_to = left.stream if left else end
        return await self._room_snapshot(viewer, room_id, membership, event_id, up_to, 20)

    async def _new_events(self, viewer: Viewer, since: int, until: int,
                          room_filter: str | None) -> list[StoredEvent]:
        async with self._db.read() as conn:
            if room_filter is not None:
                room_ids = [room_filter]
                extra = []
            else:
                room_ids = await repo.rooms_of_user(conn, viewer.user_id, "join")
                extra = await repo.member_events_for_user_between(conn, viewer.user_id, since,
                                                                  until)
            rows = await repo.events_in_rooms_between(conn, room_ids, since, until, MAX_CHUNK)
        seen = {r.event_id for r in rows}
        rows += [r for r in extra if r.event_id not in seen]
        rows.sort(key=lambda r: r.stream_ordering)
        events = self._rooms.engine.events_from_rows(rows[:MAX_CHUNK])
        visible: list[StoredEvent] = []
        by_room: dict[str, list[StoredEvent]] = {}
        for event in events:
            by_room.setdefault(event.room_id, []).append(event)
        for room_id, room_events in by_room.items():
            allowed = await filter_visible(self._db, self._rooms.engine, viewer.user_id, room_id,
                                           room_events)
            visible += allowed
        visible.sort(key=lambda e: e.stream)
        return visible

    async def events(self, viewer: Viewer, *, from_token: str | None, timeout_ms: int,
                     room_id: str | None = None) -> dict[str, Any]:
        """GET /events: blocks until events arrive after ``from`` or the timeout passes."""
        since = parse_stream_token(from_token) if from_token else self._stream.current
        if room_id is not None:
            await self._rooms.state(viewer, room_id)  # raises unless the viewer may peek
        deadline = self._clock.monotonic() + max(0, timeout_ms) / 1000
        while True:
            keys = [room_id] if room_id else await self._rooms.joined_rooms(viewer.user_id)
            waiter = self._notifier.register([*keys, viewer.user_id])
            try:
                until = self._stream.current
                if until > since:
                    chunk = await self._new_events(viewer, since, until, room_id)
                    if chunk:
                        end = chunk[-1].stream if len(chunk) >= MAX_CHUNK else until
                        return {"start": stream_token(since), "end": stream_token(end),
                                "chunk": await self._rooms.serialize(chunk, viewer)}
                    since = until
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0 or not await waiter.wait(remaining):
                    return {"start": from_token or stream_token(since),
                            "end": stream_token(since), "chunk": []}
            finally:
                self._notifier.unregister(waiter)

    async def get_event(self, viewer: Viewer, event_id: str) -> dict[str, Any]:
        """GET /events/{eventId}: 404 when unknown or not visible."""
        event = await self._rooms.engine.get_event(event_id)
        if event is None:
            raise NotFound("Event not found")
        return await self._rooms.get_event(viewer, event.room_id, event_id)
