"""The database interface shared by the SQLite and PostgreSQL engines.

Usage::

    async with db.read() as conn:            # a consistent snapshot for reads
        row = await conn.fetchrow("SELECT ... WHERE a = $1", a)
    async with db.transaction() as txn:      # one atomic, durable write
        await txn.execute("INSERT ...", x, y)
        txn.call_after(notify)               # runs only after a successful commit

When ``transaction()`` returns, the commit is durable (fsync on SQLite with
``synchronous=FULL``; PostgreSQL's own commit guarantee), so a response sent
afterwards never acknowledges a write that a crash could lose.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = Any  # sqlite3.Row or asyncpg.Record: both index by position and by column name.


class Connection(Protocol):
    """Query methods available inside ``read()`` and ``transaction()``."""

    dialect: str

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; returns the number of rows changed."""
        ...

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None: ...


class Transaction(Connection, Protocol):
    def call_after(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after the transaction commits (not if it rolls back)."""
        ...


class Database(abc.ABC):
    """An engine: opens connections, runs migrations, hands out reads and transactions."""

    dialect: str

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]: ...

    @abc.abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...


def run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    """Run post-commit callbacks; one failing does not stop the others."""
    import logging

    for cb in callbacks:
        try:
            cb()
        except Exception:  # noqa: BLE001 - a notifier bug must not undo a committed write
            logging.getLogger(__name__).exception("post-commit callback failed")


async def aiter_rows(rows: list[Row]) -> AsyncIterator[Row]:
    for r in rows:
        yield r


def create_database(url: str, *, sqlite_synchronous: str = "FULL") -> Database:
    """Pick the engine from the URL scheme: ``sqlite:///path`` or ``postgresql://...``."""
    if url.startswith("sqlite://"):
        from myelin.storage.sqlite import SqliteDatabase

        # sqlite:///relative.db, sqlite:////absolute/path.db, sqlite:///:memory:
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url[len("sqlite://"):]
        return SqliteDatabase(path or ":memory:", synchronous=sqlite_synchronous)
    if url.startswith(("postgresql://", "postgres://")):
        from myelin.storage.postgres import PostgresDatabase

        return PostgresDatabase(url)
    raise ValueError(f"unsupported database URL {url!r}")
