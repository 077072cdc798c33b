"""The per-user and ephemeral streams of /sync: account data (global and per room, tags
included), receipts, to-device messages and device-list changes. Each row carries the
stream position it was written at; typing and presence live in memory."""

from __future__ import annotations

from typing import Any

STATEMENTS = [
    # room_id '' holds global account data.
    """CREATE TABLE account_data (
        user_id TEXT NOT NULL,
        room_id TEXT NOT NULL,
        type TEXT NOT NULL,
        content TEXT NOT NULL,
        stream_id BIGINT NOT NULL,
        PRIMARY KEY (user_id, room_id, type)
    )""",
    "CREATE INDEX account_data_stream ON account_data (user_id, stream_id)",
    # thread_id '' is the main timeline / an unthreaded receipt.
    """CREATE TABLE receipts (
        room_id TEXT NOT NULL,
        receipt_type TEXT NOT NULL,
        user_id TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        ts BIGINT NOT NULL,
        stream_id BIGINT NOT NULL,
        PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
    )""",
    "CREATE INDEX receipts_stream ON receipts (room_id, stream_id)",
    """CREATE TABLE device_inbox (
        user_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        stream_id BIGINT NOT NULL,
        sender TEXT NOT NULL,
        type TEXT NOT NULL,
        content TEXT NOT NULL,
        PRIMARY KEY (user_id, device_id, stream_id)
    )""",
    """CREATE TABLE device_list_changes (
        user_id TEXT NOT NULL,
        stream_id BIGINT NOT NULL,
        PRIMARY KEY (stream_id, user_id)
    )""",
    "CREATE INDEX device_list_changes_user ON device_list_changes (user_id, stream_id)",
]


async def upgrade(conn: Any, dialect: str) -> None:
    for statement in STATEMENTS:
        await conn.execute(statement)
