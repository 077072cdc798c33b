"""Mutual rooms: GET /_matrix/client/v1/mutual_rooms (modules/mutual_rooms.md,
mutual_rooms.yaml): the rooms both the requester and another user are joined to.

Rooms are listed by room ID (code point order); ``next_batch`` names the last room ID
returned, so a token never expires (the spec asks for at least 10 minutes) and a room
joined meanwhile appears if it sorts after it. ``count`` is the total, every page.
"""

from __future__ import annotations

import base64
import binascii
from bisect import bisect_right
from typing import Any

from myelin.protocol.errors import InvalidParam
from myelin.protocol.identifiers import is_valid_user_id
from myelin.storage.database import Database
from myelin.storage.repos import directory as repo

_PREFIX = "mr1."


def _encode(room_id: str) -> str:
    return _PREFIX + base64.urlsafe_b64encode(room_id.encode()).decode().rstrip("=")


def _decode(token: str) -> str:
    if not token.startswith(_PREFIX):
        raise InvalidParam("Invalid or expired pagination token")
    body = token[len(_PREFIX):]
    try:
        room_id = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    except (binascii.Error, ValueError):
        raise InvalidParam("Invalid or expired pagination token") from None
    if not room_id.startswith("!"):
        raise InvalidParam("Invalid or expired pagination token")
    return room_id


class MutualRooms:
    """GET /mutual_rooms."""

    def __init__(self, *, db: Database, batch_size: int = 100) -> None:
        self._db = db
        self.batch_size = batch_size

    async def mutual_rooms(self, user_id: str, other: str,
                           from_token: str | None) -> dict[str, Any]:
        """GET /_matrix/client/v1/mutual_rooms?user_id=: 400 M_INVALID_PARAM for an
        invalid user ID, the requester's own ID or a bad token; an unknown user shares no
        rooms (an empty list, as the spec requires)."""
        if not is_valid_user_id(other):
            raise InvalidParam("The user ID provided was invalid")
        if other == user_id:
            raise InvalidParam("You cannot ask for the rooms you share with yourself")
        after = None if from_token is None else _decode(from_token)
        async with self._db.read() as conn:
            rooms = sorted(await repo.mutual_joined_rooms(conn, user_id, other))
        start = 0 if after is None else bisect_right(rooms, after)
        page = rooms[start:start + self.batch_size]
        body: dict[str, Any] = {"joined": page, "count": len(rooms)}
        if start + self.batch_size < len(rooms):
            body["next_batch"] = _encode(page[-1])
        return body
