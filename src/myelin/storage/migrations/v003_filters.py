"""Sync filters uploaded by clients (POST /user/{userId}/filter)."""

from __future__ import annotations

from typing import Any


async def upgrade(conn: Any, dialect: str) -> None:
    await conn.execute("""CREATE TABLE user_filters (
        user_id TEXT NOT NULL,
        filter_id BIGINT NOT NULL,
        filter_json TEXT NOT NULL,
        PRIMARY KEY (user_id, filter_id)
    )""")
