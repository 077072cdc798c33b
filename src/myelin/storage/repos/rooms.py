"""Rooms, events, state (temporal index + current state), memberships, transaction
answers and aliases. SQL written once for both engines."""

from __future__ import annotations

from dataclasses import dataclass

from myelin.storage.database import Connection, Row, Transaction


@dataclass(frozen=True, slots=True)
class RoomRow:
    room_id: str
    room_version: str
    creator: str
    is_public: bool
    head_event_id: str | None
    head_depth: int
    head_stream: int


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: str
    room_id: str
    stream_ordering: int
    depth: int
    json: str
    redacted_by: str | None
    txn_device: str | None
    txn_id: str | None
    replaces_state: str | None


_EVENT_COLUMNS = ("event_id, room_id, stream_ordering, depth, json, redacted_by, txn_device, "
                  "txn_id, replaces_state")


def _event(row: Row) -> EventRow:
    return EventRow(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8])


# --- rooms -----------------------------------------------------------------------------------


async def create_room(txn: Transaction, room_id: str, room_version: str, creator: str, *,
                      now: int) -> None:
    await txn.execute(
        "INSERT INTO rooms (room_id, room_version, creator, created_ts) VALUES ($1, $2, $3, $4)",
        room_id, room_version, creator, now)


async def get_room(conn: Connection, room_id: str) -> RoomRow | None:
    row = await conn.fetchrow(
        "SELECT room_id, room_version, creator, is_public, head_event_id, head_depth, "
        "head_stream FROM rooms WHERE room_id = $1", room_id)
    if row is None:
        return None
    return RoomRow(row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6])


async def room_heads(conn: Connection, room_ids: list[str]) -> dict[str, int]:
    """The stream position of each room's newest event."""
    found: dict[str, int] = {}
    for i in range(0, len(room_ids), 500):
        chunk = room_ids[i:i + 500]
        if not chunk:
            continue
        marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
        for row in await conn.fetch(
                f"SELECT room_id, head_stream FROM rooms WHERE room_id IN ({marks})", *chunk):
            found[row[0]] = row[1]
    return found


async def set_head(txn: Transaction, room_id: str, event_id: str, depth: int,
                   stream: int) -> None:
    await txn.execute("UPDATE rooms SET head_event_id = $2, head_depth = $3, head_stream = $4 "
                      "WHERE room_id = $1", room_id, event_id, depth, stream)


async def set_public(txn: Transaction, room_id: str, is_public: bool) -> None:
    await txn.execute("UPDATE rooms SET is_public = $2 WHERE room_id = $1", room_id,
                      int(is_public))


async def public_room_ids(conn: Connection) -> list[str]:
    return [r[0] for r in await conn.fetch(
        "SELECT room_id FROM rooms WHERE is_public = 1 ORDER BY created_ts")]


# --- events ----------------------------------------------------------------------------------


async def insert_event(txn: Transaction, *, event_id: str, room_id: str, stream: int,
                       depth: int, event_type: str, state_key: str | None, sender: str,
                       origin_server_ts: int, json: str, relates_to: str | None,
                       rel_type: str | None, txn_device: str | None,
                       txn_id: str | None, replaces_state: str | None) -> None:
    await txn.execute(
        "INSERT INTO events (event_id, room_id, stream_ordering, depth, type, state_key, sender, "
        "origin_server_ts, json, relates_to, rel_type, txn_device, txn_id, replaces_state) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        event_id, room_id, stream, depth, event_type, state_key, sender, origin_server_ts, json,
        relates_to, rel_type, txn_device, txn_id, replaces_state)


async def get_event(conn: Connection, event_id: str) -> EventRow | None:
    row = await conn.fetchrow(f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = $1",
                              event_id)
    return None if row is None else _event(row)


async def get_events(conn: Connection, event_ids: list[str]) -> dict[str, EventRow]:
    found: dict[str, EventRow] = {}
    for i in range(0, len(event_ids), 500):
        chunk = event_ids[i:i + 500]
        marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
        for row in await conn.fetch(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id IN ({marks})", *chunk):
            found[row[0]] = _event(row)
    return found


async def set_redacted(txn: Transaction, event_id: str, redacted_by: str, json: str) -> None:
    await txn.execute("UPDATE events SET redacted_by = $2, json = $3 WHERE event_id = $1",
                      event_id, redacted_by, json)


async def room_events_before(conn: Connection, room_id: str, depth: int, stream: int,
                             limit: int) -> list[EventRow]:
    """Events strictly before (depth, stream), newest first (backwards pagination)."""
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE room_id = $1 AND "
        "(depth < $2 OR (depth = $2 AND stream_ordering < $3)) "
        "ORDER BY depth DESC, stream_ordering DESC LIMIT $4", room_id, depth, stream, limit)
    return [_event(r) for r in rows]


async def room_events_in_window(conn: Connection, room_id: str, depth: int, stream: int,
                                since: int, until: int, limit: int) -> list[EventRow]:
    """Events before (depth, stream) whose stream position is in (since, until], newest
    first: a sync timeline reads only what it can return."""
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE room_id = $1 AND "
        "(depth < $2 OR (depth = $2 AND stream_ordering < $3)) AND stream_ordering > $4 AND "
        "stream_ordering <= $5 ORDER BY depth DESC, stream_ordering DESC LIMIT $6",
        room_id, depth, stream, since, until, limit)
    return [_event(r) for r in rows]


async def room_events_after(conn: Connection, room_id: str, depth: int, stream: int,
                            limit: int) -> list[EventRow]:
    """Events strictly after (depth, stream), oldest first (forwards pagination)."""
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE room_id = $1 AND "
        "(depth > $2 OR (depth = $2 AND stream_ordering > $3)) "
        "ORDER BY depth ASC, stream_ordering ASC LIMIT $4", room_id, depth, stream, limit)
    return [_event(r) for r in rows]


async def events_in_rooms_between(conn: Connection, room_ids: list[str], since: int, until: int,
                                  limit: int) -> list[EventRow]:
    """Events of the given rooms with since < stream_ordering <= until, oldest first."""
    if not room_ids:
        return []
    marks = ", ".join(f"${n}" for n in range(4, len(room_ids) + 4))
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE stream_ordering > $1 AND "
        f"stream_ordering <= $2 AND room_id IN ({marks}) ORDER BY stream_ordering LIMIT $3",
        since, until, limit, *room_ids)
    return [_event(r) for r in rows]


async def member_events_for_user_between(conn: Connection, user_id: str, since: int,
                                         until: int) -> list[EventRow]:
    """Membership events about a user (invites, kicks...) in any room, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE type = 'm.room.member' AND state_key = $1 "
        "AND stream_ordering > $2 AND stream_ordering <= $3 ORDER BY stream_ordering",
        user_id, since, until)
    return [_event(r) for r in rows]


async def user_memberships(conn: Connection, user_id: str) -> list[Row]:
    """(room_id, membership, event_id, stream_ordering, forgotten) of every room the user
    has a membership in."""
    return await conn.fetch(
        "SELECT room_id, membership, event_id, stream_ordering, forgotten FROM memberships "
        "WHERE user_id = $1 ORDER BY stream_ordering", user_id)


# --- state -----------------------------------------------------------------------------------


async def record_state(txn: Transaction, *, room_id: str, event_type: str, state_key: str,
                       event_id: str, stream: int, membership: str | None) -> None:
    """A state event took effect: append to the temporal index, replace the current state
    and, for members, the user's membership row."""
    await txn.execute(
        "INSERT INTO room_state (room_id, type, state_key, stream_ordering, event_id, membership) "
        "VALUES ($1, $2, $3, $4, $5, $6)", room_id, event_type, state_key, stream, event_id,
        membership)
    await txn.execute(
        "INSERT INTO current_state (room_id, type, state_key, event_id, membership, "
        "stream_ordering) VALUES ($1, $2, $3, $4, $5, $6) "
        "ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id, "
        "membership = excluded.membership, stream_ordering = excluded.stream_ordering",
        room_id, event_type, state_key, event_id, membership, stream)
    if event_type == "m.room.member" and membership is not None:
        await txn.execute(
            "INSERT INTO memberships (user_id, room_id, membership, event_id, stream_ordering, "
            "forgotten) VALUES ($1, $2, $3, $4, $5, 0) ON CONFLICT (user_id, room_id) DO UPDATE "
            "SET membership = excluded.membership, event_id = excluded.event_id, "
            "stream_ordering = excluded.stream_ordering, forgotten = 0",
            state_key, room_id, membership, event_id, stream)


async def current_state_ids(conn: Connection, room_id: str) -> dict[tuple[str, str], str]:
    rows = await conn.fetch(
        "SELECT type, state_key, event_id FROM current_state WHERE room_id = $1", room_id)
    return {(r[0], r[1]): r[2] for r in rows}


async def current_state_id(conn: Connection, room_id: str, event_type: str,
                           state_key: str) -> str | None:
    return await conn.fetchval(
        "SELECT event_id FROM current_state WHERE room_id = $1 AND type = $2 AND state_key = $3",
        room_id, event_type, state_key)


async def current_state_ids_for(conn: Connection, room_id: str,
                                keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Only the given keys of the current state (what auth needs, not the whole room)."""
    found: dict[tuple[str, str], str] = {}
    for event_type, state_key in keys:
        event_id = await current_state_id(conn, room_id, event_type, state_key)
        if event_id is not None:
            found[(event_type, state_key)] = event_id
    return found


async def state_id_at(conn: Connection, room_id: str, event_type: str, state_key: str,
                      stream: int) -> str | None:
    """The event that set (type, state_key) as of stream position ``stream`` (inclusive)."""
    return await conn.fetchval(
        "SELECT event_id FROM room_state WHERE room_id = $1 AND type = $2 AND state_key = $3 "
        "AND stream_ordering <= $4 ORDER BY stream_ordering DESC LIMIT 1",
        room_id, event_type, state_key, stream)


async def membership_at(conn: Connection, room_id: str, user_id: str,
                        stream: int) -> str | None:
    """A user's membership as of ``stream`` (inclusive), None if never a member by then."""
    return await conn.fetchval(
        "SELECT membership FROM room_state WHERE room_id = $1 AND type = 'm.room.member' AND "
        "state_key = $2 AND stream_ordering <= $3 ORDER BY stream_ordering DESC LIMIT 1",
        room_id, user_id, stream)


async def joined_after(conn: Connection, room_id: str, user_id: str, stream: int) -> bool:
    """Whether the user joined the room at some position after ``stream``."""
    return await conn.fetchval(
        "SELECT 1 FROM room_state WHERE room_id = $1 AND type = 'm.room.member' AND "
        "state_key = $2 AND stream_ordering > $3 AND membership = 'join' LIMIT 1",
        room_id, user_id, stream) is not None


async def state_ids_at(conn: Connection, room_id: str,
                       stream: int) -> dict[tuple[str, str], str]:
    """The whole state as of ``stream`` (inclusive): per key, the latest row not after it."""
    rows = await conn.fetch(
        "SELECT r.type, r.state_key, r.event_id FROM room_state r WHERE r.room_id = $1 AND "
        "r.stream_ordering = (SELECT MAX(r2.stream_ordering) FROM room_state r2 WHERE "
        "r2.room_id = r.room_id AND r2.type = r.type AND r2.state_key = r.state_key AND "
        "r2.stream_ordering <= $2)", room_id, stream)
    return {(r[0], r[1]): r[2] for r in rows}


# --- memberships -----------------------------------------------------------------------------


async def membership_of(conn: Connection, user_id: str, room_id: str) -> tuple[str, str] | None:
    """(membership, event_id) of a user in a room, or None if never a member."""
    row = await conn.fetchrow(
        "SELECT membership, event_id FROM memberships WHERE user_id = $1 AND room_id = $2",
        user_id, room_id)
    return None if row is None else (row[0], row[1])


async def rooms_of_user(conn: Connection, user_id: str, membership: str) -> list[str]:
    return [r[0] for r in await conn.fetch(
        "SELECT room_id FROM memberships WHERE user_id = $1 AND membership = $2 "
        "ORDER BY stream_ordering", user_id, membership)]


async def member_event_ids(conn: Connection, room_id: str,
                           memberships: tuple[str, ...] | None = None) -> list[str]:
    if memberships is None:
        rows = await conn.fetch(
            "SELECT event_id FROM current_state WHERE room_id = $1 AND type = 'm.room.member' "
            "ORDER BY state_key", room_id)
    else:
        marks = ", ".join(f"${n}" for n in range(2, len(memberships) + 2))
        rows = await conn.fetch(
            "SELECT event_id FROM current_state WHERE room_id = $1 AND type = 'm.room.member' "
            f"AND membership IN ({marks}) ORDER BY state_key", room_id, *memberships)
    return [r[0] for r in rows]


async def joined_member_count(conn: Connection, room_id: str) -> int:
    return int(await conn.fetchval(
        "SELECT COUNT(*) FROM current_state WHERE room_id = $1 AND type = 'm.room.member' "
        "AND membership = 'join'", room_id))


async def set_forgotten(txn: Transaction, user_id: str, room_id: str) -> None:
    await txn.execute("UPDATE memberships SET forgotten = 1 WHERE user_id = $1 AND room_id = $2",
                      user_id, room_id)


# --- transaction answers ---------------------------------------------------------------------


async def get_txn_response(conn: Connection, user_id: str, device_id: str, scope: str,
                           txn_id: str) -> tuple[int, str] | None:
    row = await conn.fetchrow(
        "SELECT status, body FROM txn_responses WHERE user_id = $1 AND device_id = $2 AND "
        "scope = $3 AND txn_id = $4", user_id, device_id, scope, txn_id)
    return None if row is None else (row[0], row[1])


async def put_txn_response(txn: Transaction, user_id: str, device_id: str, scope: str,
                           txn_id: str, status: int, body: str, *, now: int) -> None:
    await txn.execute(
        "INSERT INTO txn_responses (user_id, device_id, scope, txn_id, status, body, created_ts) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id, device_id, scope, txn_id) "
        "DO NOTHING", user_id, device_id, scope, txn_id, status, body, now)


# --- aliases ---------------------------------------------------------------------------------


async def add_alias(txn: Transaction, alias: str, room_id: str, creator: str, *,
                    now: int) -> None:
    await txn.execute("INSERT INTO room_aliases (alias, room_id, creator, created_ts) "
                      "VALUES ($1, $2, $3, $4)", alias, room_id, creator, now)


async def get_alias(conn: Connection, alias: str) -> tuple[str, str] | None:
    row = await conn.fetchrow("SELECT room_id, creator FROM room_aliases WHERE alias = $1", alias)
    return None if row is None else (row[0], row[1])


async def delete_alias(txn: Transaction, alias: str) -> bool:
    return await txn.execute("DELETE FROM room_aliases WHERE alias = $1", alias) > 0


async def aliases_of(conn: Connection, room_id: str) -> list[str]:
    return [r[0] for r in await conn.fetch(
        "SELECT alias FROM room_aliases WHERE room_id = $1 ORDER BY alias", room_id)]
