"""SQLite engine: WAL, one writer, readers on their own connections.

Design (measured against aiosqlite, see docs/architecture.md): queries run
directly on the event-loop thread. SQLite answers from its page cache in
microseconds, so a thread hop per query (what aiosqlite does) costs more than
the query. The one slow operation, the commit's fsync, runs in a worker thread
while the writer lock is held, so the loop keeps serving reads meanwhile.

Writes are serialized by an asyncio lock around the single writer connection
(SQLite allows one writer; queueing here avoids "database is locked"). Readers
use a separate connection; in WAL mode they never block on the writer and see
only committed data.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from myelin.storage.database import Database, Row, run_callbacks
from myelin.storage.errors import Conflict

_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=4096)
def convert_sql(sql: str) -> str:
    """Rewrite ``$1`` placeholders to SQLite's ``?1``."""
    return _PLACEHOLDER.sub(r"?\1", sql)


class SqliteConnection:
    dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._after: list[Callable[[], None]] = []

    def _run(self, sql: str, args: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._conn.execute(convert_sql(sql), args)
        except sqlite3.IntegrityError as e:
            raise Conflict(str(e)) from e

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return self._run(sql, args).fetchall()

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        return self._run(sql, args).fetchone()

    async def fetchval(self, sql: str, *args: Any) -> Any:
        row = self._run(sql, args).fetchone()
        return None if row is None else row[0]

    async def execute(self, sql: str, *args: Any) -> int:
        return self._run(sql, args).rowcount

    async def executemany(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        try:
            self._conn.executemany(convert_sql(sql), args)
        except sqlite3.IntegrityError as e:
            raise Conflict(str(e)) from e

    async def executescript(self, script: str) -> None:
        """Run DDL; only for migrations (inside the writer transaction)."""
        for statement in (s.strip() for s in script.split(";")):
            if statement:
                self._conn.execute(statement)

    def call_after(self, callback: Callable[[], None]) -> None:
        self._after.append(callback)


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str, *, synchronous: str = "FULL") -> None:
        self.path = path
        self.synchronous = synchronous
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._write_lock = asyncio.Lock()

    def _connect(self) -> sqlite3.Connection:
        uri = self.path == ":memory:"
        target = "file:myelin-memdb?mode=memory&cache=shared" if uri else self.path
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, uri=uri,
                               timeout=30.0, cached_statements=512)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -65536")
        return conn

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._connect()
        if self.path != ":memory:":
            mode = self._writer.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise RuntimeError(f"SQLite refused WAL mode (got {mode}) for {self.path}")
        self._reader = self._connect()
        self._reader.execute("PRAGMA query_only = ON")

    async def close(self) -> None:
        async with self._write_lock:
            for c in (self._reader, self._writer):
                if c is not None:
                    c.close()
            self._reader = self._writer = None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteConnection]:
        assert self._reader is not None, "database not open"
        # Each statement sees the latest committed state (autocommit reader). Reads that
        # need one snapshot across several statements will get a reader pool with BEGIN.
        yield SqliteConnection(self._reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteConnection]:
        assert self._writer is not None, "database not open"
        async with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            txn = SqliteConnection(conn)
            try:
                yield txn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            # The commit (and its fsync) runs off the loop; the writer lock is still held
            # until it has finished, even if the waiting task is cancelled meanwhile.
            await _uninterruptible(asyncio.get_running_loop().run_in_executor(
                None, _commit, conn))
        run_callbacks(txn._after)


def _commit(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


async def _uninterruptible(fut: asyncio.Future[Any]) -> Any:
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(fut)
            break
        except asyncio.CancelledError:
            if fut.done():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    return result
