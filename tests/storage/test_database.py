"""The engine contract, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from myelin.storage import migrations
from myelin.storage.database import create_database
from myelin.storage.errors import Conflict, SchemaTooNew
from myelin.storage.migrations import LATEST_VERSION, current_version, migrate


async def test_migrations_are_applied_once(database):
    assert await current_version(database) == LATEST_VERSION
    assert await migrate(database) == LATEST_VERSION  # idempotent
    async with database.read() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM schema_version") == LATEST_VERSION


async def test_refuses_newer_schema(database):
    async with database.transaction() as txn:
        await txn.execute("INSERT INTO schema_version (version) VALUES ($1)", LATEST_VERSION + 1)
    with pytest.raises(SchemaTooNew):
        await migrate(database)


async def test_transaction_commits_and_rolls_back(database):
    async with database.transaction() as txn:
        await txn.execute("INSERT INTO users (user_id, created_ts) VALUES ($1, $2)", "@a:x", 1)
    with pytest.raises(RuntimeError):
        async with database.transaction() as txn:
            await txn.execute("INSERT INTO users (user_id, created_ts) VALUES ($1, $2)", "@b:x", 1)
            raise RuntimeError("abort")
    async with database.read() as conn:
        rows = await conn.fetch("SELECT user_id FROM users ORDER BY user_id")
    assert [r["user_id"] for r in rows] == ["@a:x"]


async def test_unique_violation_is_conflict(database):
    async with database.transaction() as txn:
        await txn.execute("INSERT INTO users (user_id, created_ts) VALUES ($1, $2)", "@a:x", 1)
    with pytest.raises(Conflict):
        async with database.transaction() as txn:
            await txn.execute("INSERT INTO users (user_id, created_ts) VALUES ($1, $2)", "@a:x", 2)


async def test_call_after_runs_only_after_commit(database):
    seen: list[str] = []
    async with database.transaction() as txn:
        txn.call_after(lambda: seen.append("committed"))
        assert seen == []
    assert seen == ["committed"]
    with pytest.raises(RuntimeError):
        async with database.transaction() as txn:
            txn.call_after(lambda: seen.append("rolled back"))
            raise RuntimeError
    assert seen == ["committed"]


async def test_rows_index_by_name_and_position(database):
    async with database.transaction() as txn:
        await txn.execute("INSERT INTO users (user_id, created_ts) VALUES ($1, $2)", "@a:x", 7)
        assert await txn.execute("UPDATE users SET created_ts = $2 WHERE user_id = $1",
                                 "@a:x", 8) == 1
    async with database.read() as conn:
        row = await conn.fetchrow("SELECT user_id, created_ts FROM users")
        assert row[0] == row["user_id"] == "@a:x"
        assert row[1] == row["created_ts"] == 8
        assert await conn.fetchrow("SELECT user_id FROM users WHERE user_id = $1", "@z:x") is None


async def test_concurrent_transactions_are_serialized_without_loss(database):
    async def add(i: int) -> None:
        async with database.transaction() as txn:
            n = await txn.fetchval("SELECT COUNT(*) FROM users")
            await txn.execute("INSERT INTO users (user_id, created_ts) VALUES ($1, $2)",
                              f"@u{i}:x", int(n))

    await asyncio.gather(*(add(i) for i in range(25)))
    async with database.read() as conn:
        assert await conn.fetchval("SELECT COUNT(*) FROM users") == 25


async def test_committed_data_survives_reopen(engine, tmp_path: Path):
    from tests.conftest import database_url_for, drop_postgres_database

    url = await database_url_for(engine, tmp_path)
    db = create_database(url)
    await db.open()
    await migrate(db)
    async with db.transaction() as txn:
        await txn.execute("INSERT INTO users (user_id, created_ts) VALUES ($1, $2)", "@a:x", 1)
    await db.close()
    db = create_database(url)
    await db.open()
    try:
        async with db.read() as conn:
            assert await conn.fetchval("SELECT user_id FROM users") == "@a:x"
    finally:
        await db.close()
        if engine == "postgres":
            await drop_postgres_database(url)


def test_migrations_are_numbered_without_gaps():
    numbers = [n for n, _ in migrations.MIGRATIONS]
    assert numbers == list(range(1, LATEST_VERSION + 1))
