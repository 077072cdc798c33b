"""Account data, receipts, to-device inboxes and device-list changes."""

from __future__ import annotations

from myelin.storage.database import Connection, Row, Transaction


async def max_stream(conn: Connection, table: str) -> int:
    assert table in ("account_data", "receipts", "device_inbox", "device_list_changes")
    return int(await conn.fetchval(f"SELECT COALESCE(MAX(stream_id), 0) FROM {table}"))


# --- account data ----------------------------------------------------------------------------


async def put_account_data(txn: Transaction, user_id: str, room_id: str, data_type: str,
                           content: str, stream_id: int) -> None:
    await txn.execute(
        "INSERT INTO account_data (user_id, room_id, type, content, stream_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, room_id, type) DO UPDATE SET "
        "content = excluded.content, stream_id = excluded.stream_id",
        user_id, room_id, data_type, content, stream_id)


async def get_account_data(conn: Connection, user_id: str, room_id: str,
                           data_type: str) -> str | None:
    return await conn.fetchval(
        "SELECT content FROM account_data WHERE user_id = $1 AND room_id = $2 AND type = $3",
        user_id, room_id, data_type)


async def account_data_since(conn: Connection, user_id: str, since: int,
                             until: int) -> list[Row]:
    """(room_id, type, content) changed in (since, until]."""
    return await conn.fetch(
        "SELECT room_id, type, content FROM account_data WHERE user_id = $1 AND "
        "stream_id > $2 AND stream_id <= $3 ORDER BY stream_id", user_id, since, until)


# --- receipts --------------------------------------------------------------------------------


async def put_receipt(txn: Transaction, room_id: str, receipt_type: str, user_id: str,
                      thread_id: str, event_id: str, ts: int, stream_id: int) -> None:
    await txn.execute(
        "INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id, ts, "
        "stream_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (room_id, receipt_type, "
        "user_id, thread_id) DO UPDATE SET event_id = excluded.event_id, ts = excluded.ts, "
        "stream_id = excluded.stream_id",
        room_id, receipt_type, user_id, thread_id, event_id, ts, stream_id)


async def receipts_since(conn: Connection, room_ids: list[str], since: int,
                         until: int) -> list[Row]:
    """(room_id, receipt_type, user_id, thread_id, event_id, ts) in (since, until]."""
    if not room_ids:
        return []
    marks = ", ".join(f"${n}" for n in range(3, len(room_ids) + 3))
    return await conn.fetch(
        "SELECT room_id, receipt_type, user_id, thread_id, event_id, ts FROM receipts WHERE "
        f"stream_id > $1 AND stream_id <= $2 AND room_id IN ({marks}) ORDER BY stream_id",
        since, until, *room_ids)


# --- to-device -------------------------------------------------------------------------------


async def add_to_device(txn: Transaction, user_id: str, device_id: str, stream_id: int,
                        sender: str, message_type: str, content: str) -> None:
    await txn.execute(
        "INSERT INTO device_inbox (user_id, device_id, stream_id, sender, type, content) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        user_id, device_id, stream_id, sender, message_type, content)


async def to_device_since(conn: Connection, user_id: str, device_id: str, since: int,
                          until: int, limit: int) -> list[Row]:
    """(stream_id, sender, type, content), oldest first."""
    return await conn.fetch(
        "SELECT stream_id, sender, type, content FROM device_inbox WHERE user_id = $1 AND "
        "device_id = $2 AND stream_id > $3 AND stream_id <= $4 ORDER BY stream_id LIMIT $5",
        user_id, device_id, since, until, limit)


async def delete_to_device_up_to(txn: Transaction, user_id: str, device_id: str,
                                 up_to: int) -> None:
    """Messages up to a position the device has acknowledged (by syncing past it)."""
    await txn.execute(
        "DELETE FROM device_inbox WHERE user_id = $1 AND device_id = $2 AND stream_id <= $3",
        user_id, device_id, up_to)


# --- device lists ----------------------------------------------------------------------------


async def add_device_list_change(txn: Transaction, user_id: str, stream_id: int) -> None:
    await txn.execute("INSERT INTO device_list_changes (user_id, stream_id) VALUES ($1, $2)",
                      user_id, stream_id)


async def device_list_changes_since(conn: Connection, since: int, until: int) -> list[str]:
    return [r[0] for r in await conn.fetch(
        "SELECT DISTINCT user_id FROM device_list_changes WHERE stream_id > $1 AND "
        "stream_id <= $2", since, until)]
