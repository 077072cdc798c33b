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
from myelin.api.client.directory import (
    DirectoryEndpoints,
    RoomDiscoveryEndpoints,
    RoomUpgradeEndpoints,
)
from myelin.api.client.discovery import DiscoveryEndpoints
from myelin.api.client.events import EventStreamEndpoints
from myelin.api.client.fallback import FallbackEndpoints
from myelin.api.client.push import PushRuleEndpoints
from myelin.api.client.relations import RelationsEndpoints
from myelin.api.client.rooms import RoomEndpoints
from myelin.api.client.session import SessionEndpoints
from myelin.api.client.sync import SyncEndpoints
from myelin.api.client.user_data import UserDataEndpoints
from myelin.clock import Clock, SystemClock
from myelin.config import Config, ConfigError
from myelin.protocol.events.signing import SigningKey, read_signing_keys
from myelin.rooms.aggregations import BundledAggregations
from myelin.rooms.context import EventContextService
from myelin.rooms.directory import PublicRoomDirectory
from myelin.rooms.engine import RoomEngine
from myelin.rooms.hierarchy import SpaceHierarchy
from myelin.rooms.mutual import MutualRooms
from myelin.rooms.relations import RelationsService
from myelin.rooms.service import RoomService
from myelin.rooms.summary import RoomSummaries
from myelin.rooms.upgrade import RoomUpgrader
from myelin.services.accounts import AccountService
from myelin.services.auth import Authenticator
from myelin.services.events_stream import EventStream
from myelin.services.passwords import PasswordHasher
from myelin.services.ratelimit import RateLimiter
from myelin.services.sync import SyncService
from myelin.services.uia import UiaService
from myelin.services.user_streams import (
    AccountDataService,
    DeviceListTracker,
    PresenceService,
    ReceiptService,
    ToDeviceService,
    TypingService,
)
from myelin.storage.database import Database, create_database
from myelin.storage.migrations import migrate
from myelin.storage.repos import streams as streams_repo
from myelin.storage.stream_ids import StreamIdGenerator
from myelin.streams.notifier import Notifier

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
        self.signing_key = load_signing_key(config)
        self.events_stream = StreamIdGenerator("events")
        self.engine = RoomEngine(db=self.db, clock=self.clock, server_name=config.server_name,
                                 signing_key=self.signing_key, stream=self.events_stream)
        self.aggregations = BundledAggregations(db=self.db, engine=self.engine)
        self.rooms = RoomService(db=self.db, clock=self.clock, engine=self.engine,
                                 default_room_version=config.default_room_version,
                                 aggregations=self.aggregations)
        self.relations = RelationsService(db=self.db, rooms=self.rooms)
        self.event_context = EventContextService(db=self.db, rooms=self.rooms)
        self.room_summaries = RoomSummaries(db=self.db, engine=self.engine)
        self.directory = PublicRoomDirectory(db=self.db, engine=self.engine,
                                             summaries=self.room_summaries)
        self.upgrader = RoomUpgrader(db=self.db, engine=self.engine)
        self.hierarchy = SpaceHierarchy(db=self.db, engine=self.engine,
                                        summaries=self.room_summaries)
        self.mutual_rooms = MutualRooms(db=self.db)
        self.notifier = Notifier()
        # The notifier learns of new events from the engine: positions and keys, no data.
        self.engine.add_listener(lambda events: self.notifier.notify(
            {e.room_id for e in events} | {e.state_key for e in events
                                           if e.type == "m.room.member" and e.state_key}))
        self.event_stream = EventStream(db=self.db, clock=self.clock, rooms=self.rooms,
                                        notifier=self.notifier, stream=self.events_stream)
        self.account_data = AccountDataService(
            db=self.db, notifier=self.notifier, stream=StreamIdGenerator("account_data"))
        self.receipts = ReceiptService(db=self.db, clock=self.clock, engine=self.engine,
                                       notifier=self.notifier,
                                       stream=StreamIdGenerator("receipts"),
                                       account_data=self.account_data)
        self.typing = TypingService(clock=self.clock, notifier=self.notifier, db=self.db)
        self.presence = PresenceService(clock=self.clock, notifier=self.notifier, db=self.db)
        self.to_device = ToDeviceService(db=self.db, notifier=self.notifier,
                                         stream=StreamIdGenerator("to_device"),
                                         server_name=config.server_name)
        self.device_lists = DeviceListTracker(db=self.db, notifier=self.notifier,
                                              stream=StreamIdGenerator("device_lists"))
        self.accounts.on_devices_changed = self.device_lists.changed
        self.sync = SyncService(db=self.db, clock=self.clock, rooms=self.rooms,
                                notifier=self.notifier, stream=self.events_stream,
                                account_data=self.account_data, receipts=self.receipts,
                                typing=self.typing, presence=self.presence,
                                to_device=self.to_device, device_lists=self.device_lists)
        self.http = MatrixApp(
            groups=[
                DiscoveryEndpoints(config=config),
                SessionEndpoints(accounts=self.accounts, ratelimiter=self.ratelimiter),
                AccountEndpoints(accounts=self.accounts),
                DeviceEndpoints(accounts=self.accounts),
                AdminEndpoints(accounts=self.accounts),
                FallbackEndpoints(config=config, accounts=self.accounts, uia=self.uia),
                RoomEndpoints(rooms=self.rooms),
                DirectoryEndpoints(directory=self.directory),
                RoomUpgradeEndpoints(upgrader=self.upgrader),
                RoomDiscoveryEndpoints(rooms=self.rooms, summaries=self.room_summaries,
                                       hierarchy=self.hierarchy,
                                       mutual_rooms=self.mutual_rooms),
                RelationsEndpoints(relations=self.relations, context=self.event_context),
                EventStreamEndpoints(stream=self.event_stream),
                SyncEndpoints(sync=self.sync),
                PushRuleEndpoints(),
                UserDataEndpoints(account_data=self.account_data, receipts=self.receipts,
                                  typing=self.typing, presence=self.presence,
                                  to_device=self.to_device, rooms=self.rooms),
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
        async with self.db.read() as conn:
            self.events_stream.set_current(
                int(await conn.fetchval("SELECT COALESCE(MAX(stream_ordering), 0) FROM events")))
            for generator, table in ((self.account_data.stream, "account_data"),
                                     (self.receipts.stream, "receipts"),
                                     (self.to_device.stream, "device_inbox"),
                                     (self.device_lists.stream, "device_list_changes")):
                generator.set_current(await streams_repo.max_stream(conn, table))
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
            await self.presence.sweep()

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


def load_signing_key(config: Config) -> SigningKey:
    """The server's Ed25519 key (the first in the file)."""
    try:
        with open(config.signing_key_path, encoding="utf-8") as f:
            keys = read_signing_keys(f.read())
    except FileNotFoundError:
        raise ConfigError(f"signing_key_path: {config.signing_key_path} does not exist "
                          "('myelin generate-config' creates one)") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"signing_key_path: {config.signing_key_path} is not a signing key: "
                          f"{e}") from None
    if not keys:
        raise ConfigError(f"signing_key_path: {config.signing_key_path} holds no key")
    return keys[0]
