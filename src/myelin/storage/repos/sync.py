"""Storage for /sync: uploaded filters."""

from __future__ import annotations

from myelin.storage.database import Connection, Transaction


async def add_filter(txn: Transaction, user_id: str, filter_json: str) -> int:
    """Store a filter; returns its ID (per user, counting from 0). Identical filters reuse
    their ID, so clients that upload the same filter at every start do not pile them up."""
    existing = await txn.fetchval(
        "SELECT filter_id FROM user_filters WHERE user_id = $1 AND filter_json = $2",
        user_id, filter_json)
    if existing is not None:
        return int(existing)
    next_id = await txn.fetchval(
        "SELECT COALESCE(MAX(filter_id) + 1, 0) FROM user_filters WHERE user_id = $1", user_id)
    await txn.execute("INSERT INTO user_filters (user_id, filter_id, filter_json) "
                      "VALUES ($1, $2, $3)", user_id, int(next_id), filter_json)
    return int(next_id)


async def get_filter(conn: Connection, user_id: str, filter_id: int) -> str | None:
    return await conn.fetchval(
        "SELECT filter_json FROM user_filters WHERE user_id = $1 AND filter_id = $2",
        user_id, filter_id)
