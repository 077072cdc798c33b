"""Rooms and events: the event log, the temporal state index, current state and
memberships, transaction IDs, aliases and the published directory.

State is stored as deltas, never as copies: ``room_state`` has one row per state
event (the key it set and the stream position it took effect at). The state at any
position is "for each key, the row with the greatest position not after it", one
index lookup per key; the current state is kept alongside in ``current_state``. A
join in a room of 10,000 members writes the same handful of rows as in a room of 10.
"""

from __future__ import annotations

from typing import Any

STATEMENTS = [
    """CREATE TABLE rooms (
        room_id TEXT PRIMARY KEY,
        room_version TEXT NOT NULL,
        creator TEXT NOT NULL,
        created_ts BIGINT NOT NULL,
        is_public INTEGER NOT NULL DEFAULT 0,
        head_event_id TEXT,
        head_depth BIGINT NOT NULL DEFAULT 0,
        head_stream BIGINT NOT NULL DEFAULT 0
    )""",
    # The event log. stream_ordering is the global stream position (the order /sync and
    # /events deliver in); depth the position in the room's DAG (the order of /messages).
    """CREATE TABLE events (
        event_id TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        stream_ordering BIGINT NOT NULL UNIQUE,
        depth BIGINT NOT NULL,
        type TEXT NOT NULL,
        state_key TEXT,
        sender TEXT NOT NULL,
        origin_server_ts BIGINT NOT NULL,
        json TEXT NOT NULL,
        redacted_by TEXT,
        replaces_state TEXT,
        relates_to TEXT,
        rel_type TEXT,
        txn_device TEXT,
        txn_id TEXT
    )""",
    "CREATE INDEX events_room_stream ON events (room_id, stream_ordering)",
    "CREATE INDEX events_room_depth ON events (room_id, depth, stream_ordering)",
    "CREATE INDEX events_relates ON events (relates_to, rel_type)",
    "CREATE INDEX events_room_ts ON events (room_id, origin_server_ts)",
    # Temporal state index: the state in force at stream position S for a key is the row
    # with the greatest stream_ordering <= S.
    """CREATE TABLE room_state (
        room_id TEXT NOT NULL,
        type TEXT NOT NULL,
        state_key TEXT NOT NULL,
        stream_ordering BIGINT NOT NULL,
        event_id TEXT NOT NULL,
        membership TEXT,
        PRIMARY KEY (room_id, type, state_key, stream_ordering)
    )""",
    """CREATE TABLE current_state (
        room_id TEXT NOT NULL,
        type TEXT NOT NULL,
        state_key TEXT NOT NULL,
        event_id TEXT NOT NULL,
        membership TEXT,
        stream_ordering BIGINT NOT NULL,
        PRIMARY KEY (room_id, type, state_key)
    )""",
    # Memberships by user: the room list of /sync, /joined_rooms, forget.
    """CREATE TABLE memberships (
        user_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        membership TEXT NOT NULL,
        event_id TEXT NOT NULL,
        stream_ordering BIGINT NOT NULL,
        forgotten INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, room_id)
    )""",
    "CREATE INDEX memberships_room ON memberships (room_id, membership)",
    # Idempotent PUTs (§Transaction identifiers): per device and path, the stored answer.
    """CREATE TABLE txn_responses (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        txn_id TEXT NOT NULL,
        status INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_ts BIGINT NOT NULL,
        PRIMARY KEY (user_id, device_id, scope, txn_id)
    )""",
    """CREATE TABLE room_aliases (
        alias TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        creator TEXT NOT NULL,
        created_ts BIGINT NOT NULL
    )""",
    "CREATE INDEX room_aliases_room ON room_aliases (room_id)",
]


async def upgrade(conn: Any, dialect: str) -> None:
    for statement in STATEMENTS:
        await conn.execute(statement)
