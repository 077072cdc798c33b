"""An index for GET /rooms/{roomId}/threads: thread events by room."""

from __future__ import annotations

from typing import Any


async def upgrade(conn: Any, dialect: str) -> None:
    await conn.execute("CREATE INDEX events_room_rel_type ON events (room_id, rel_type)")
