"""The composition root: every component built once with its dependencies spelled out,
and the start/stop lifecycle. No registry, no globals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from myelin.api.app import MatrixApp, Receive, Scope, Send
from myelin.api.client.account import AccountEndpoints
from myelin.api.client.admin import AdminEndpoints
from myelin.api.client.devices import DeviceEndpoints
from myelin.api.client.discovery import DiscoveryEndpoints
from myelin.api.client.fallback import FallbackEndpoints
from myelin.api.client.session import SessionEndpoints
from myelin.clock import Clock, SystemClock
from myelin.config import Config
from myelin.services.accounts import AccountService
from myelin.services.auth import Authenticator
from myelin.services.passwords import PasswordHasher
from myelin.services.ratelimit import RateLimiter
from myelin.services.uia import UiaService
from myelin.storage.database import Database, create_database
from myelin.storage.migrations import migrate

log = logging.getLogger(__name__)


class App:
    """One homeserver. ``await start()`` before serving, ``await stop()`` after."""

    LAST_SEEN_FLUSH_SECONDS = 30.0

    def __init__(self, config: Config, *, clock: Clock | None = None,
                 db: Database | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.db = db or create_database(config.database_url,
                                        sqlite_synchronous=config.sqlite_synchronous)
        self.ratelimiter = RateLimiter(clock=self.clock, limits=config.rate_limits,
                                       enabled=config.rate_limits_enabled)
        self.auth = Authenticator(db=self.db, clock=self.clock)
        self.uia = UiaService(clock=self.clock, lifetime_ms=config.auth.uia_session_lifetime_ms)
        self.hasher = PasswordHasher(config.auth)
        self.accounts = AccountService(config=config, db=self.db, clock=self.clock,
                                       auth=self.auth, uia=self.uia, hasher=self.hasher,
                                       ratelimiter=self.ratelimiter)
        self.http = MatrixApp(
            groups=[
                DiscoveryEndpoints(config=config),
                SessionEndpoints(accounts=self.accounts, ratelimiter=self.ratelimiter),
                AccountEndpoints(accounts=self.accounts),
                DeviceEndpoints(accounts=self.accounts),
                AdminEndpoints(accounts=self.accounts),
                FallbackEndpoints(config=config, accounts=self.accounts, uia=self.uia),
            ],
            auth=self.auth,
            ratelimiter=self.ratelimiter,
            max_body_bytes=config.max_request_body_bytes,
        )
        self._tasks: list[asyncio.Task[Any]] = []
        self._started = False

    async def start(self) -> None:
        await self.db.open()
        version = await migrate(self.db)
        log.info("database ready (%s, schema version %d)", self.db.dialect, version)
        self._tasks.append(asyncio.create_task(self._flush_activity_forever()))
        self._started = True

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.auth.flush_last_seen()
        await self.db.close()

    async def _flush_activity_forever(self) -> None:
        while True:
            await asyncio.sleep(self.LAST_SEEN_FLUSH_SECONDS)
            await self.auth.flush_last_seen()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point; the lifespan protocol starts and stops the server's parts."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    try:
                        await self.start()
                    except Exception as e:  # noqa: BLE001 - reported as one line, then exit
                        await send({"type": "lifespan.startup.failed", "message": str(e)})
                        return
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await self.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        else:
            await self.http(scope, receive, send)
