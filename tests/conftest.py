"""Shared fixtures: databases on both engines, and an in-process homeserver.

Storage tests take the ``database`` fixture and run on SQLite and PostgreSQL.
API tests take ``client`` (an httpx client bound to an in-process App); they run on
SQLite unless MYELIN_TEST_DATABASE=postgres.

PostgreSQL is expected on 127.0.0.1:5432 with trust auth (override with
MYELIN_TEST_POSTGRES_URL). When it cannot be reached, tests that need it fail under
CI (CI=true) and are skipped with a visible reason elsewhere.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from myelin.app import App
from myelin.clock import FakeClock
from myelin.config import AuthConfig, Config, RegistrationConfig
from myelin.storage.database import Database, create_database
from myelin.storage.migrations import migrate

POSTGRES_ADMIN_URL = os.environ.get("MYELIN_TEST_POSTGRES_URL",
                                    "postgresql://postgres@127.0.0.1:5432/postgres")
API_ENGINE = os.environ.get("MYELIN_TEST_DATABASE", "sqlite")
_counter = itertools.count()


def _pg_base(url: str) -> str:
    return url.rsplit("/", 1)[0]


_base_database: str | None = None


def _drop_base_database() -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{_base_database}" WITH (FORCE)')
        finally:
            await conn.close()

    if _base_database is not None:
        asyncio.run(drop())


async def create_postgres_database() -> str:
    """A fresh, empty schema in this test process's own database; returns a URL whose
    search_path selects it (asyncpg passes unknown URL parameters on as server settings).
    A schema costs a few milliseconds where a database costs a few hundred. Fails loudly
    in CI when PostgreSQL cannot be reached."""
    import asyncpg

    global _base_database
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as e:
        message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {e}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        if _base_database is None:
            name = f"myelin_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            await admin.execute(f'CREATE DATABASE "{name}"')
            _base_database = name
            atexit.register(_drop_base_database)
    finally:
        await admin.close()
    schema = f"t{next(_counter)}_{uuid.uuid4().hex[:8]}"
    base_url = f"{_pg_base(POSTGRES_ADMIN_URL)}/{_base_database}"
    conn = await asyncpg.connect(base_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    return f"{base_url}?search_path={schema}"


async def drop_postgres_database(url: str) -> None:
    import asyncpg

    base_url, _, query = url.partition("?search_path=")
    conn = await asyncpg.connect(base_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{query}" CASCADE')
    finally:
        await conn.close()


async def database_url_for(engine: str, tmp_path: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{tmp_path / 'myelin.db'}"
    if engine == "postgres":
        return await create_postgres_database()
    raise ValueError(engine)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database(engine: str, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database on each engine."""
    url = await database_url_for(engine, tmp_path)
    db = create_database(url)
    await db.open()
    await migrate(db)
    try:
        yield db
    finally:
        await db.close()
        if engine == "postgres":
            await drop_postgres_database(url)


def make_config(tmp_path: Path, database_url: str, **overrides: Any) -> Config:
    """A config for tests: open registration, cheap password hashing, no rate limits."""
    key_path = tmp_path / "signing.key"
    if not key_path.exists():
        from myelin.protocol.events.signing import generate_signing_key, write_signing_keys

        key_path.write_text(write_signing_keys([generate_signing_key("a_test")]))
    config = Config(
        server_name="test.local",
        data_dir=tmp_path,
        public_baseurl="http://test.local/",
        database_url=database_url,
        signing_key_path=tmp_path / "signing.key",
        registration=RegistrationConfig(enabled=True),
        auth=AuthConfig(argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1),
        rate_limits_enabled=False,
    )
    return replace(config, **overrides)


class Homeserver:
    """An in-process App plus helpers for the common client steps."""

    def __init__(self, app: App, client: httpx.AsyncClient, clock: FakeClock) -> None:
        self.app = app
        self.client = client
        self.clock = clock

    async def register(self, username: str, password: str = "correct horse battery",
                       **extra: Any) -> dict[str, Any]:
        body = {"username": username, "password": password,
                "auth": {"type": "m.login.dummy"}, **extra}
        r = await self.client.post("/_matrix/client/v3/register", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    async def login(self, username: str, password: str = "correct horse battery",
                    **extra: Any) -> dict[str, Any]:
        r = await self.client.post("/_matrix/client/v3/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": username},
            "password": password, **extra})
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def server_factory(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Build in-process homeservers with config overrides: ``await server_factory(...)``."""
    started: list[tuple[Homeserver, str]] = []

    async def factory(**overrides: Any) -> Homeserver:
        sub = tmp_path / f"hs{len(started)}"
        sub.mkdir()
        url = await database_url_for(API_ENGINE, sub)
        clock = FakeClock()
        app = App(make_config(sub, url, **overrides), clock=clock)
        await app.start()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app.http),
                                   base_url="http://test.local")
        server = Homeserver(app, client, clock)
        started.append((server, url))
        return server

    yield factory
    for server, url in started:
        await server.client.aclose()
        await server.app.stop()
        if url.startswith("postgresql"):
            await drop_postgres_database(url)


@pytest.fixture
async def hs(server_factory: Callable[..., Any]) -> Homeserver:
    """A homeserver with open registration and no rate limits."""
    return await server_factory()
