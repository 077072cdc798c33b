"""The published room directory (Client-Server API §Published room directory,
list_public_rooms.yaml): which rooms are listed, the listing with its filter and
pagination, and changing a room's visibility in it.

Ordering (changed in v1.19: the server's choice, largest first recommended): joined
member count descending, then room ID by code point. Pagination tokens are keysets
(the last or first entry's count and room ID, plus the direction), so a page never
repeats or skips a room that stays put while others come and go.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any

import msgspec

from myelin.protocol.errors import Forbidden, InvalidParam, NotFound, ProtocolError
from myelin.rooms.engine import RoomEngine
from myelin.rooms.permissions import may_send_state
from myelin.rooms.summary import RoomFacts, RoomSummaries
from myelin.storage.database import Database
from myelin.storage.repos import directory as repo
from myelin.storage.repos import rooms as rooms_repo

_Key = tuple[int, str]  # (-joined members, room ID): ascending is the listing order


@dataclass(frozen=True, slots=True)
class DirectoryQuery:
    """The options of GET and POST /publicRooms."""

    limit: int | None = None
    since: str | None = None
    server: str | None = None
    search_term: str | None = None
    room_types: tuple[str | None, ...] | None = None
    include_all_networks: bool = False
    third_party_instance_id: str | None = None


def _encode_token(direction: str, key: _Key) -> str:
    raw = msgspec.json.encode([direction, -key[0], key[1]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[str, _Key]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        direction, joined, room_id = msgspec.json.decode(raw, type=tuple[str, int, str])
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise InvalidParam("Invalid pagination token") from None
    if direction not in ("n", "p"):
        raise InvalidParam("Invalid pagination token")
    return direction, (-joined, room_id)


class PublicRoomDirectory:
    """GET/POST /publicRooms and GET/PUT /directory/list/room/{roomId}."""

    #: The most rooms one page may hold (and the page size when no limit is given).
    MAX_LIMIT = 500

    def __init__(self, *, db: Database, engine: RoomEngine, summaries: RoomSummaries) -> None:
        self._db = db
        self._engine = engine
        self._summaries = summaries
        self.server_name = engine.server_name

    # --- visibility ----------------------------------------------------------------------------

    async def visibility(self, room_id: str) -> str:
        """GET /_matrix/client/v3/directory/list/room/{roomId}: 404 for unknown rooms."""
        async with self._db.read() as conn:
            public = await repo.is_public(conn, room_id)
        if public is None:
            raise NotFound("Room not found")
        return "public" if public else "private"

    async def set_visibility(self, user_id: str, room_id: str, visibility: str, *,
                             is_admin: bool = False) -> None:
        """PUT /_matrix/client/v3/directory/list/room/{roomId}.

        The spec lets servers add access checks; here a room may be listed or delisted by
        server administrators and by members with the power to set its canonical alias
        (``events["m.room.canonical_alias"]``, else ``state_default``), the state that
        also decides how the room is advertised."""
        if visibility not in ("public", "private"):
            raise InvalidParam("visibility must be 'public' or 'private'")
        await self.visibility(room_id)  # 404 for an unknown room
        if not is_admin and not await may_send_state(self._engine, room_id, user_id,
                                                     "m.room.canonical_alias"):
            raise Forbidden("You may not change this room's visibility in the directory")
        async with self._db.transaction() as txn:
            await rooms_repo.set_public(txn, room_id, visibility == "public")

    # --- listing -------------------------------------------------------------------------------

    async def list(self, query: DirectoryQuery) -> dict[str, Any]:
        """GET/POST /_matrix/client/v3/publicRooms (list_public_rooms.yaml).

        * ``server`` other than this one: this server does not federate, so 400.
        * ``third_party_instance_id``: no application service publishes networks here,
          so a specific network lists nothing; ``include_all_networks`` lists the
          server's own rooms (it has no others). Both together are contradictory: 400.
        * ``room_types``: ``null`` selects rooms without a type; an empty list is no
          filter, like an absent one.
        * ``total_room_count_estimate`` counts the rooms that match the filter.
        """
        if query.server is not None and query.server != self.server_name:
            raise ProtocolError("This server cannot query other servers' room directories",
                                errcode="M_UNKNOWN", status_hint=400)
        if query.include_all_networks and query.third_party_instance_id is not None:
            raise InvalidParam("third_party_instance_id cannot be used with "
                               "include_all_networks")
        limit = self.MAX_LIMIT if query.limit is None else query.limit
        if limit < 0:
            raise InvalidParam("limit must not be negative")
        limit = min(limit, self.MAX_LIMIT)
        position = None if query.since is None else _decode_token(query.since)
        if query.third_party_instance_id is not None:
            return {"chunk": [], "total_room_count_estimate": 0}

        async with self._db.read() as conn:
            counts = dict(await repo.public_rooms_with_counts(conn))
        keys: list[_Key] = sorted((-joined, room_id) for room_id, joined in counts.items())
        facts: dict[str, RoomFacts] | None = None
        if query.search_term or query.room_types:
            facts = await self._summaries.facts([k[1] for k in keys], counts)
            keys = [k for k in keys if k[1] in facts and self._wanted(facts[k[1]], query)]

        start, end = 0, min(limit, len(keys))
        if position is not None:
            direction, key = position
            if direction == "n":
                start = bisect_right(keys, key)
                end = min(start + limit, len(keys))
            else:
                end = bisect_left(keys, key)
                start = max(0, end - limit)
        page = keys[start:end]
        if facts is None:
            facts = await self._summaries.facts([k[1] for k in page], counts)
        body: dict[str, Any] = {
            "chunk": [facts[k[1]].chunk() for k in page if k[1] in facts],
            "total_room_count_estimate": len(keys),
        }
        if page and end < len(keys):
            body["next_batch"] = _encode_token("n", page[-1])
        if page and start > 0:
            body["prev_batch"] = _encode_token("p", page[0])
        return body

    @staticmethod
    def _wanted(facts: RoomFacts, query: DirectoryQuery) -> bool:
        if query.room_types and facts.room_type not in query.room_types:
            return False
        return not query.search_term or facts.matches(query.search_term)
