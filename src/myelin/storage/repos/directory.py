"""Room discovery queries: the published room directory, summary state of many rooms at
once, alias moves on upgrade, and the rooms two users share. SQL written once for both
engines (no ORDER BY on text columns: the callers sort by code point, which SQLite and
PostgreSQL collations would not agree on)."""

from __future__ import annotations

from collections.abc import Sequence

from myelin.storage.database import Connection, Transaction


def _marks(count: int, start: int = 1) -> str:
    return ", ".join(f"${n}" for n in range(start, start + count))


async def public_rooms_with_counts(conn: Connection) -> list[tuple[str, int]]:
    """(room ID, joined member count) of every room published in the directory."""
    rows = await conn.fetch(
        "SELECT r.room_id, (SELECT COUNT(*) FROM current_state c WHERE c.room_id = r.room_id "
        "AND c.type = 'm.room.member' AND c.membership = 'join') FROM rooms r "
        "WHERE r.is_public = 1")
    return [(r[0], int(r[1])) for r in rows]


async def is_public(conn: Connection, room_id: str) -> bool | None:
    """Whether the room is published; None for an unknown room."""
    value = await conn.fetchval("SELECT is_public FROM rooms WHERE room_id = $1", room_id)
    return None if value is None else bool(value)


async def joined_counts(conn: Connection, room_ids: Sequence[str]) -> dict[str, int]:
    """Joined member counts of the given rooms (rooms without joined members are absent)."""
    found: dict[str, int] = {}
    for i in range(0, len(room_ids), 500):
        chunk = list(room_ids[i:i + 500])
        rows = await conn.fetch(
            "SELECT room_id, COUNT(*) FROM current_state WHERE type = 'm.room.member' AND "
            f"membership = 'join' AND room_id IN ({_marks(len(chunk))}) GROUP BY room_id",
            *chunk)
        found.update({r[0]: int(r[1]) for r in rows})
    return found


async def state_ids_of_types(conn: Connection, room_ids: Sequence[str],
                             types: Sequence[str]) -> dict[str, dict[tuple[str, str], str]]:
    """Per room, the current state event IDs of the given types (every state key)."""
    found: dict[str, dict[tuple[str, str], str]] = {}
    type_marks = _marks(len(types))
    for i in range(0, len(room_ids), 400):
        chunk = list(room_ids[i:i + 400])
        rows = await conn.fetch(
            f"SELECT room_id, type, state_key, event_id FROM current_state WHERE type IN "
            f"({type_marks}) AND room_id IN ({_marks(len(chunk), len(types) + 1)})",
            *types, *chunk)
        for row in rows:
            found.setdefault(row[0], {})[(row[1], row[2])] = row[3]
    return found


async def move_aliases(txn: Transaction, old_room_id: str, new_room_id: str) -> list[str]:
    """Point every alias of ``old_room_id`` at ``new_room_id``; returns the aliases moved."""
    aliases = [r[0] for r in await txn.fetch(
        "SELECT alias FROM room_aliases WHERE room_id = $1", old_room_id)]
    if aliases:
        await txn.execute("UPDATE room_aliases SET room_id = $2 WHERE room_id = $1",
                          old_room_id, new_room_id)
    return sorted(aliases)


async def mutual_joined_rooms(conn: Connection, user_a: str, user_b: str) -> list[str]:
    """The rooms both users are joined to (unordered)."""
    return [r[0] for r in await conn.fetch(
        "SELECT a.room_id FROM memberships a JOIN memberships b ON b.room_id = a.room_id "
        "WHERE a.user_id = $1 AND b.user_id = $2 AND a.membership = 'join' AND "
        "b.membership = 'join'", user_a, user_b)]
