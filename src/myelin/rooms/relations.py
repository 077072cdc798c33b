"""Child events and threads: Client-Server API §Relationships API (relations.yaml) and
threading.md §Querying threads in a room (threads_list.yaml).

Pagination tokens are the ``t<depth>_<stream>`` tokens of ``/messages`` (a position in the
room's topological order, between two events): a ``next_batch`` is the position of the
last event returned, and the next page starts strictly beyond it. As relations.yaml asks,
``from`` and ``to`` also accept ``/messages`` tokens and ``/sync`` ``next_batch`` tokens
(``s<events>_...``: the boundary just after the room's last event at that stream position).
"""

from __future__ import annotations

from typing import Any

from myelin.protocol.errors import Forbidden, NotFound
from myelin.protocol.sync.tokens import SyncToken
from myelin.rooms.engine import StoredEvent
from myelin.rooms.service import RoomService, Viewer, make_token, parse_token
from myelin.rooms.visibility import filter_visible
from myelin.storage.database import Connection, Database
from myelin.storage.repos import relations as repo
from myelin.storage.repos import rooms as rooms_repo


class RelationsService:
    # relations.yaml (recurse): "Homeservers SHOULD traverse at least 3 levels".
    MAX_RECURSION = 3

    def __init__(self, *, db: Database, rooms: RoomService) -> None:
        self._db = db
        self._rooms = rooms
        self._engine = rooms.engine

    async def visible_event(self, viewer: Viewer, room_id: str, event_id: str) -> StoredEvent:
        """The event, if it is in the room and the viewer may see it; otherwise 404, which
        does not tell a missing event from a hidden one (relations.yaml 404)."""
        event = await self._engine.get_event(event_id)
        if event is None or event.room_id != room_id:
            raise NotFound("Event not found")
        if not await filter_visible(self._db, self._engine, viewer.user_id, room_id, [event]):
            raise NotFound("Event not found")
        return event

    async def relations(self, viewer: Viewer, room_id: str, event_id: str, *,
                        rel_type: str | None, event_type: str | None, from_token: str | None,
                        to_token: str | None, limit: int, direction: str,
                        recurse: bool | None) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]

        The children of a visible parent (404 otherwise), each filtered by history
        visibility, newest first (``dir=b``, the default) or oldest first (``dir=f``), from
        ``from`` (exclusive) up to ``to`` (inclusive). ``recurse`` follows children of
        children up to ``MAX_RECURSION`` levels through events matching the filters
        (§Relationships API), and ``recursion_depth`` is present exactly when the client gave
        ``recurse``."""
        await self.visible_event(viewer, room_id, event_id)
        backwards = direction == "b"
        async with self._db.read() as conn:
            start = await self._position(conn, room_id, from_token, backwards)
            stop = await self._position(conn, room_id, to_token, backwards)
            rows = await repo.relations_page(
                conn, room_id, event_id, rel_type=rel_type, event_type=event_type,
                max_depth=self.MAX_RECURSION if recurse else 1, backwards=backwards,
                start=start, stop=stop, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        events = self._engine.events_from_rows(rows)
        visible = await filter_visible(self._db, self._engine, viewer.user_id, room_id, events)
        body: dict[str, Any] = {"chunk": await self._rooms.serialize(visible, viewer)}
        if more and rows:
            body["next_batch"] = make_token(rows[-1].depth, rows[-1].stream_ordering)
        if from_token is not None:
            body["prev_batch"] = from_token
        if recurse is not None:
            body["recursion_depth"] = self.MAX_RECURSION if recurse else 1
        return body

    @staticmethod
    async def _position(conn: Connection, room_id: str, token: str | None,
                        backwards: bool) -> repo.Position | None:
        """A ``from``/``to`` token as a position between events. A /sync token P falls just
        after the room's last event E at or before P: backwards, strictly before P is up to
        and including E; forwards, strictly after P is strictly after E."""
        if token is None:
            return None
        if not token.startswith("s"):
            return parse_token(token)
        at = await repo.position_at_stream(conn, room_id, SyncToken.parse(token).events)
        if at is None:
            return (0, 0)
        return (at[0], at[1] + 1) if backwards else at

    async def threads(self, viewer: Viewer, room_id: str, *, include: str,
                      from_token: str | None, limit: int) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/threads

        The thread roots of the room, most recently active first (by their latest thread
        event, topologically), with bundled aggregations; ``include=participated`` keeps the
        threads the viewer started or replied in. 403 for users who cannot view or peek the
        room, including when it does not exist (threads_list.yaml)."""
        await self._check_can_read(viewer, room_id)
        before = parse_token(from_token) if from_token is not None else None
        async with self._db.read() as conn:
            rows = await repo.thread_roots_page(
                conn, room_id, before=before,
                participant=viewer.user_id if include == "participated" else None,
                limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        found = await self._engine.get_events([root_id for root_id, _, _ in rows])
        roots = [found[root_id] for root_id, _, _ in rows if root_id in found]
        visible = await filter_visible(self._db, self._engine, viewer.user_id, room_id, roots)
        body: dict[str, Any] = {"chunk": await self._rooms.serialize(visible, viewer)}
        if more and rows:
            body["next_batch"] = make_token(rows[-1][1], rows[-1][2])
        return body

    async def _check_can_read(self, viewer: Viewer, room_id: str) -> None:
        """As /messages: anyone who has a membership in the room (what they see is then
        filtered per event), or anyone at all in a world-readable room."""
        if await self._engine.room_version(room_id) is None:
            raise Forbidden("You are not allowed to view this room")
        async with self._db.read() as conn:
            member = await rooms_repo.membership_of(conn, viewer.user_id, room_id)
        if member is None and not await self._rooms._world_readable(room_id):
            raise Forbidden("You are not allowed to view this room")
