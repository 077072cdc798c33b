"""The space hierarchy: GET /_matrix/client/v1/rooms/{roomId}/hierarchy (modules/spaces.md
§Discovering rooms within spaces; space_hierarchy.yaml).

The walk is depth first and pre-order: a space, then each of its children in the order
of §Ordering of children within a space, a child space's own subtree before its next
sibling. Only ``m.space.child`` events with a non-empty ``via`` of server names count
(§m.space.child: "When not present or invalid, the child room is not considered to be
part of the space"); only spaces (``type: m.space``) have children; rooms this server
does not know are left out (there is no federation to ask); rooms the user may not be
shown (:meth:`RoomSummaries.may_preview`) are left out and not descended into. Each room
appears once per walk, which also breaks loops.

Pagination tokens hold the walk's parameters and how many rooms were already returned;
the next page walks again and skips those, so the parameters cannot change in between
(400 M_INVALID_PARAM, as the spec requires).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import msgspec

from myelin.protocol.errors import Forbidden, InvalidParam
from myelin.rooms.engine import RoomEngine, StoredEvent
from myelin.rooms.summary import RoomSummaries
from myelin.storage.database import Database
from myelin.storage.repos import directory as repo


def _valid_order(value: object) -> str | None:
    """§m.space.child ``order``: at most 50 characters in ``\\x20``-``\\x7E``."""
    if isinstance(value, str) and 0 < len(value) <= 50 and \
            all(0x20 <= ord(c) <= 0x7E for c in value):
        return value
    return None


def is_valid_child(event: StoredEvent) -> bool:
    via = event.content.get("via")
    return (isinstance(via, list) and bool(via) and all(isinstance(v, str) for v in via)
            and (event.state_key or "").startswith("!"))


def child_order_key(event: StoredEvent) -> tuple[int, str, int, str]:
    """§Ordering of children within a space: valid ``order`` values first, by code point;
    then the rest; ties by ``origin_server_ts``, then by room ID."""
    order = _valid_order(event.content.get("order"))
    ts = int(event.pdu.get("origin_server_ts", 0))
    return (0 if order is not None else 1, order or "", ts, event.state_key or "")


@dataclass(frozen=True, slots=True)
class _Cursor:
    room_id: str
    suggested_only: bool
    max_depth: int
    offset: int

    def encode(self) -> str:
        raw = msgspec.json.encode([self.room_id, self.suggested_only, self.max_depth,
                                   self.offset])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> _Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            room_id, suggested, depth, offset = msgspec.json.decode(
                raw, type=tuple[str, bool, int, int])
        except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
            raise InvalidParam("Unknown pagination token") from None
        return cls(room_id, suggested, depth, offset)


class SpaceHierarchy:
    """GET /rooms/{roomId}/hierarchy."""

    DEFAULT_LIMIT = 50
    MAX_LIMIT = 100
    #: Default and maximum ``max_depth``.
    MAX_DEPTH = 10
    #: The most rooms one request looks at, whatever the page.
    MAX_ROOMS_WALKED = 2000

    def __init__(self, *, db: Database, engine: RoomEngine, summaries: RoomSummaries) -> None:
        self._db = db
        self._engine = engine
        self._summaries = summaries

    async def _children(self, room_id: str, suggested_only: bool) -> list[StoredEvent]:
        async with self._db.read() as conn:
            found = await repo.state_ids_of_types(conn, [room_id], ["m.space.child"])
        ids = list(found.get(room_id, {}).values())
        events = (await self._engine.get_events(ids)).values()
        children = [e for e in events if is_valid_child(e) and
                    (not suggested_only or e.content.get("suggested") is True)]
        return sorted(children, key=child_order_key)

    async def hierarchy(self, user_id: str, room_id: str, *, suggested_only: bool | None,
                        limit: int | None, max_depth: int | None,
                        from_token: str | None) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/hierarchy: 403 when the root room is
        unknown or not visible to the user, 400 for bad parameters or tokens."""
        if limit is not None and limit <= 0:
            raise InvalidParam("limit must be greater than zero")
        if max_depth is not None and max_depth < 0:
            raise InvalidParam("max_depth must not be negative")
        page_size = min(limit or self.DEFAULT_LIMIT, self.MAX_LIMIT)
        if from_token is not None:
            cursor = _Cursor.decode(from_token)
            if cursor.room_id != room_id:
                raise InvalidParam("The pagination token is for another room")
            if (suggested_only is not None and suggested_only != cursor.suggested_only) or (
                    max_depth is not None and min(max_depth, self.MAX_DEPTH) != cursor.max_depth):
                raise InvalidParam("suggested_only and max_depth cannot change on paginated "
                                   "requests")
        else:
            cursor = _Cursor(room_id, bool(suggested_only),
                             self.MAX_DEPTH if max_depth is None else min(max_depth,
                                                                          self.MAX_DEPTH), 0)

        root = await self._summaries.facts_of(room_id)
        membership = await self._summaries.membership(user_id, room_id)
        if root is None or not await self._summaries.may_preview(user_id, root, membership):
            raise Forbidden("You are not allowed to view this room")

        wanted = cursor.offset + page_size + 1
        rooms: list[dict[str, Any]] = []
        seen: set[str] = set()
        stack: list[tuple[str, int]] = [(room_id, 0)]
        while stack and len(rooms) < wanted and len(seen) < self.MAX_ROOMS_WALKED:
            current, depth = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            facts = root if current == room_id else await self._summaries.facts_of(current)
            if facts is None:
                continue
            if current != room_id and not await self._summaries.may_preview(
                    user_id, facts, await self._summaries.membership(user_id, current)):
                continue
            children = await self._children(current, cursor.suggested_only) \
                if facts.room_type == "m.space" else []
            rooms.append({**facts.summary(), "children_state": [
                {"type": e.type, "state_key": e.state_key, "content": e.content,
                 "sender": e.sender, "origin_server_ts": int(e.pdu.get("origin_server_ts", 0))}
                for e in children]})
            if depth < cursor.max_depth:
                stack.extend((e.state_key or "", depth + 1) for e in reversed(children)
                             if e.state_key not in seen)
        page = rooms[cursor.offset:cursor.offset + page_size]
        body: dict[str, Any] = {"rooms": page}
        if len(rooms) > cursor.offset + page_size:
            body["next_batch"] = _Cursor(room_id, cursor.suggested_only, cursor.max_depth,
                                         cursor.offset + page_size).encode()
        return body
