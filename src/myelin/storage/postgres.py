"""PostgreSQL engine (asyncpg): a connection pool; SQL is used as written ($1 style)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from myelin.storage.database import Database, Row, run_callbacks
from myelin.storage.errors import Conflict, InvalidText


def _status_count(status: str) -> int:
    # asyncpg returns e.g. "UPDATE 3", "INSERT 0 1", "DELETE 0".
    try:
        return int(status.rsplit(" ", 1)[-1])
    except ValueError:
        return 0


class PostgresConnection:
    dialect = "postgres"

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._after: list[Callable[[], None]] = []

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        try:
            return list(await self._conn.fetch(sql, *args))
        except asyncpg.CharacterNotInRepertoireError as e:
            raise InvalidText(str(e)) from e

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        try:
            return await self._conn.fetchrow(sql, *args)
        except asyncpg.CharacterNotInRepertoireError as e:
            raise InvalidText(str(e)) from e

    async def fetchval(self, sql: str, *args: Any) -> Any:
        try:
            return await self._conn.fetchval(sql, *args)
        except asyncpg.CharacterNotInRepertoireError as e:
            raise InvalidText(str(e)) from e

    async def execute(self, sql: str, *args: Any) -> int:
        try:
            return _status_count(await self._conn.execute(sql, *args))
        except asyncpg.UniqueViolationError as e:
            raise Conflict(str(e)) from e
        except asyncpg.CharacterNotInRepertoireError as e:
            raise InvalidText(str(e)) from e

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        try:
            await self._conn.executemany(sql, args)
        except asyncpg.UniqueViolationError as e:
            raise Conflict(str(e)) from e
        except asyncpg.CharacterNotInRepertoireError as e:
            raise InvalidText(str(e)) from e

    async def executescript(self, script: str) -> None:
        await self._conn.execute(script)

    def call_after(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)


class PostgresDatabase(Database):
    dialect = "postgres"

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 10) -> None:
        self.url = url
        self._pool: asyncpg.Pool | None = None
        self._min = min_size
        self._max = max_size

    async def open(self) -> None:
        self._pool = await asyncpg.create_pool(self.url, min_size=self._min, max_size=self._max,
                                               statement_cache_size=1024)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PostgresConnection]:
        assert self._pool is not None, "database not open"
        async with self._pool.acquire() as conn:
            yield PostgresConnection(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        assert self._pool is not None, "database not open"
        async with self._pool.acquire() as conn:
            txn = PostgresConnection(conn)
            async with conn.transaction():
                yield txn
        run_callbacks(txn._after)
