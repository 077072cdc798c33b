"""The per-user and ephemeral streams that /sync carries besides room events:
account data and tags (modules/account_data.md, tags.md, ignore_users.md), receipts and
read markers (receipts.md, read_markers.md), typing (typing_notifications.md), presence
(presence.md), to-device messages (send_to_device.md) and device-list changes.

Each stream has a position; writers reserve, commit, complete and then notify keys
(user IDs, room IDs, "user|device"), never payloads. Typing and presence are kept in
memory, as the design allows: they are ephemeral by nature.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import msgspec

from myelin.clock import Clock
from myelin.protocol.errors import (
    Forbidden,
    InvalidParam,
    NotFound,
    ProtocolError,
)
from myelin.rooms.engine import RoomEngine
from myelin.storage.database import Database
from myelin.storage.repos import rooms as rooms_repo
from myelin.storage.repos import streams as repo
from myelin.storage.stream_ids import StreamIdGenerator
from myelin.streams.notifier import Notifier

log = logging.getLogger(__name__)
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

# Types only the server writes (account-data.yaml: 405 M_BAD_JSON).
SERVER_OWNED_TYPES = frozenset({"m.fully_read", "m.push_rules"})
IGNORED_USERS = "m.ignored_user_list"


class ServerOwnedType(ProtocolError):
    errcode = "M_BAD_JSON"
    status_hint = 405


def device_key(user_id: str, device_id: str) -> str:
    return f"{user_id}|{device_id}"


async def _shares_room_with(db: Database, user_id: str) -> set[str]:
    """Users who share a joined room with ``user_id`` (themself included)."""
    async with db.read() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT m2.user_id FROM memberships m1 JOIN memberships m2 ON "
            "m1.room_id = m2.room_id WHERE m1.user_id = $1 AND m1.membership = 'join' AND "
            "m2.membership = 'join'", user_id)
    return {r[0] for r in rows} | {user_id}


# --- account data ----------------------------------------------------------------------------


class AccountDataService:
    def __init__(self, *, db: Database, notifier: Notifier, stream: StreamIdGenerator) -> None:
        self._db = db
        self._notifier = notifier
        self.stream = stream
        self._ignored: dict[str, frozenset[str]] = {}

    async def put(self, user_id: str, room_id: str | None, data_type: str,
                  content: dict[str, Any], *, server: bool = False) -> None:
        """PUT /user/{userId}[/rooms/{roomId}]/account_data/{type}"""
        if not server and data_type in SERVER_OWNED_TYPES:
            raise ServerOwnedType(f"{data_type} is managed by the server; use its own API")
        async with self.stream.get_next() as position:
            async with self._db.transaction() as txn:
                await repo.put_account_data(txn, user_id, room_id or "", data_type,
                                            _encode(content).decode(), position)
        if data_type == IGNORED_USERS and room_id is None:
            self._ignored.pop(user_id, None)
        self._notifier.notify([user_id])

    async def get(self, user_id: str, room_id: str | None, data_type: str) -> dict[str, Any]:
        async with self._db.read() as conn:
            found = await repo.get_account_data(conn, user_id, room_id or "", data_type)
        if found is None:
            raise NotFound("Account data not found")
        return dict(_decode(found))

    async def changes(self, user_id: str, since: int,
                      until: int) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
        """(global events, per-room events) changed in (since, until]."""
        async with self._db.read() as conn:
            rows = await repo.account_data_since(conn, user_id, since, until)
        global_events: list[dict[str, Any]] = []
        per_room: dict[str, list[dict[str, Any]]] = {}
        for room_id, data_type, content in rows:
            event = {"type": data_type, "content": _decode(content)}
            if room_id:
                per_room.setdefault(room_id, []).append(event)
            else:
                global_events.append(event)
        return global_events, per_room

    async def ignored_users(self, user_id: str) -> frozenset[str]:
        """§Ignoring users: the users in m.ignored_user_list (cached until it changes)."""
        cached = self._ignored.get(user_id)
        if cached is not None:
            return cached
        try:
            content = await self.get(user_id, None, IGNORED_USERS)
        except NotFound:
            content = {}
        ignored = content.get("ignored_users")
        result = frozenset(ignored) if isinstance(ignored, dict) else frozenset()
        self._ignored[user_id] = result
        return result

    # Tags are room account data of type m.tag (tags.md).

    async def tags(self, user_id: str, room_id: str) -> dict[str, Any]:
        try:
            content = await self.get(user_id, room_id, "m.tag")
        except NotFound:
            return {}
        tags = content.get("tags")
        return tags if isinstance(tags, dict) else {}

    async def set_tag(self, user_id: str, room_id: str, tag: str, body: dict[str, Any]) -> None:
        if len(tag.encode()) > 255:
            raise InvalidParam("Tag names are at most 255 bytes")
        order = body.get("order")
        if order is not None and (not isinstance(order, int | float) or isinstance(order, bool)):
            raise ProtocolError("order must be a number", errcode="M_BAD_JSON")
        tags = await self.tags(user_id, room_id)
        tags[tag] = body
        await self.put(user_id, room_id, "m.tag", {"tags": tags})

    async def delete_tag(self, user_id: str, room_id: str, tag: str) -> None:
        tags = await self.tags(user_id, room_id)
        tags.pop(tag, None)
        await self.put(user_id, room_id, "m.tag", {"tags": tags})


# --- receipts --------------------------------------------------------------------------------


RECEIPT_TYPES = ("m.read", "m.read.private")


class ReceiptService:
    def __init__(self, *, db: Database, clock: Clock, engine: RoomEngine, notifier: Notifier,
                 stream: StreamIdGenerator, account_data: AccountDataService) -> None:
        self._db = db
        self._clock = clock
        self._engine = engine
        self._notifier = notifier
        self.stream = stream
        self._account_data = account_data

    async def _check(self, user_id: str, room_id: str, event_id: str) -> None:
        async with self._db.read() as conn:
            member = await rooms_repo.membership_of(conn, user_id, room_id)
        if member is None or member[0] != "join":
            raise Forbidden("You are not in this room")
        event = await self._engine.get_event(event_id)
        if event is None or event.room_id != room_id:
            raise NotFound("Unknown event")

    async def post(self, user_id: str, room_id: str, receipt_type: str, event_id: str,
                   thread_id: str | None) -> None:
        """POST /rooms/{roomId}/receipt/{receiptType}/{eventId}"""
        if receipt_type == "m.fully_read":
            await self.read_marker(user_id, room_id, fully_read=event_id)
            return
        if receipt_type not in RECEIPT_TYPES:
            raise InvalidParam(f"Unknown receipt type {receipt_type!r}")
        if thread_id is not None and not isinstance(thread_id, str):
            raise ProtocolError("thread_id must be a string", errcode="M_BAD_JSON")
        await self._check(user_id, room_id, event_id)
        async with self.stream.get_next() as position:
            async with self._db.transaction() as txn:
                await repo.put_receipt(txn, room_id, receipt_type, user_id, thread_id or "",
                                       event_id, self._clock.time_msec(), position)
        self._notifier.notify([room_id])

    async def read_marker(self, user_id: str, room_id: str, *, fully_read: str | None = None,
                          read: str | None = None, read_private: str | None = None) -> None:
        """POST /rooms/{roomId}/read_markers: m.fully_read is room account data."""
        if fully_read is not None:
            await self._check(user_id, room_id, fully_read)
            await self._account_data.put(user_id, room_id, "m.fully_read",
                                         {"event_id": fully_read}, server=True)
        if read is not None:
            await self.post(user_id, room_id, "m.read", read, None)
        if read_private is not None:
            await self.post(user_id, room_id, "m.read.private", read_private, None)

    async def changes(self, viewer: str, room_ids: list[str], since: int,
                      until: int) -> dict[str, dict[str, Any]]:
        """The m.receipt ephemeral event of each room with receipts in (since, until].
        Private receipts are shown to their owner only."""
        async with self._db.read() as conn:
            rows = await repo.receipts_since(conn, room_ids, since, until)
        events: dict[str, dict[str, Any]] = {}
        for room_id, receipt_type, user_id, thread_id, event_id, ts in rows:
            if receipt_type == "m.read.private" and user_id != viewer:
                continue
            content = events.setdefault(room_id, {"type": "m.receipt", "content": {}})["content"]
            entry: dict[str, Any] = {"ts": ts}
            if thread_id:
                entry["thread_id"] = thread_id
            content.setdefault(event_id, {}).setdefault(receipt_type, {})[user_id] = entry
        return events


# --- typing ----------------------------------------------------------------------------------


class TypingService:
    """Who is typing where, in memory; every change (including an expiry) advances the
    position and wakes the room's waiters."""

    MAX_TIMEOUT_MS = 120_000

    def __init__(self, *, clock: Clock, notifier: Notifier, db: Database) -> None:
        self._clock = clock
        self._notifier = notifier
        self._db = db
        self.position = 0
        self._typing: dict[str, dict[str, int]] = {}  # room -> user -> expiry ms
        self._changed_at: dict[str, int] = {}  # room -> position of last change
        self._timers: dict[tuple[str, str], asyncio.TimerHandle] = {}

    def _bump(self, room_id: str) -> None:
        self.position += 1
        self._changed_at[room_id] = self.position
        self._notifier.notify([room_id])

    async def set_typing(self, user_id: str, room_id: str, typing: bool,
                         timeout_ms: int | None) -> None:
        """PUT /rooms/{roomId}/typing/{userId}"""
        async with self._db.read() as conn:
            member = await rooms_repo.membership_of(conn, user_id, room_id)
        if member is None or member[0] != "join":
            raise Forbidden("You are not in this room")
        room = self._typing.setdefault(room_id, {})
        timer = self._timers.pop((room_id, user_id), None)
        if timer is not None:
            timer.cancel()
        if typing:
            timeout = min(max(timeout_ms or 30_000, 0), self.MAX_TIMEOUT_MS)
            was_typing = user_id in room
            room[user_id] = self._clock.time_msec() + timeout
            self._timers[(room_id, user_id)] = asyncio.get_running_loop().call_later(
                timeout / 1000, self._expire, room_id, user_id)
            if not was_typing:
                self._bump(room_id)
        elif room.pop(user_id, None) is not None:
            self._bump(room_id)

    def _expire(self, room_id: str, user_id: str) -> None:
        self._timers.pop((room_id, user_id), None)
        room = self._typing.get(room_id, {})
        if room.pop(user_id, None) is not None:
            self._bump(room_id)

    def changes(self, room_ids: Iterable[str], since: int | None) -> dict[str, dict[str, Any]]:
        """The m.typing event of each room whose typing set changed after ``since``."""
        out = {}
        for room_id in room_ids:
            changed = self._changed_at.get(room_id)
            if changed is None or (since is not None and changed <= since):
                continue
            users = sorted(self._typing.get(room_id, {}))
            if since is None and not users:
                continue
            out[room_id] = {"type": "m.typing", "content": {"user_ids": users}}
        return out


# --- presence --------------------------------------------------------------------------------


@dataclass
class _Presence:
    presence: str
    status_msg: str | None
    last_active_ms: int
    position: int


class PresenceService:
    """online / unavailable / offline (presence.md), in memory. A user is online while
    active; without activity for IDLE_MS they are shown unavailable; without any sync for
    OFFLINE_MS, offline."""

    IDLE_MS = 5 * 60 * 1000
    OFFLINE_MS = 60 * 1000
    STATES = ("online", "unavailable", "offline")

    def __init__(self, *, clock: Clock, notifier: Notifier, db: Database) -> None:
        self._clock = clock
        self._notifier = notifier
        self._db = db
        self.position = 0
        self._users: dict[str, _Presence] = {}
        self._last_sync: dict[str, int] = {}

    async def _set(self, user_id: str, presence: str, status_msg: str | None,
                   keep_msg: bool) -> None:
        now = self._clock.time_msec()
        current = self._users.get(user_id)
        msg = current.status_msg if keep_msg and current else status_msg
        if current and current.presence == presence and current.status_msg == msg:
            current.last_active_ms = now
            return
        self.position += 1
        self._users[user_id] = _Presence(presence, msg, now, self.position)
        async with self._db.read() as conn:
            rooms = await rooms_repo.rooms_of_user(conn, user_id, "join")
        self._notifier.notify([*rooms, user_id])

    async def set_status(self, user_id: str, presence: str, status_msg: str | None) -> None:
        """PUT /presence/{userId}/status"""
        if presence not in self.STATES:
            raise InvalidParam("presence must be online, unavailable or offline")
        await self._set(user_id, presence, status_msg, keep_msg=False)

    async def syncing(self, user_id: str, set_presence: str) -> None:
        """A /sync call is activity (and sets presence as asked)."""
        self._last_sync[user_id] = self._clock.time_msec()
        current = self._users.get(user_id)
        if set_presence == "offline":
            return
        if current is None or current.presence != set_presence:
            await self._set(user_id, set_presence, None, keep_msg=True)
        else:
            current.last_active_ms = self._clock.time_msec()

    def _effective(self, user_id: str) -> tuple[str, _Presence | None]:
        state = self._users.get(user_id)
        if state is None:
            return "offline", None
        now = self._clock.time_msec()
        if state.presence == "online":
            if now - self._last_sync.get(user_id, state.last_active_ms) > self.OFFLINE_MS and \
                    now - state.last_active_ms > self.OFFLINE_MS:
                return "offline", state
            if now - state.last_active_ms > self.IDLE_MS:
                return "unavailable", state
        return state.presence, state

    def status(self, user_id: str) -> dict[str, Any]:
        """GET /presence/{userId}/status"""
        presence, state = self._effective(user_id)
        body: dict[str, Any] = {"presence": presence}
        if state is not None:
            body["last_active_ago"] = max(0, self._clock.time_msec() - state.last_active_ms)
            body["currently_active"] = presence == "online"
            if state.status_msg is not None:
                body["status_msg"] = state.status_msg
        return body

    async def changes(self, viewer: str, since: int | None,
                      until: int) -> list[dict[str, Any]]:
        """m.presence events for users sharing a room with the viewer, changed after
        ``since`` (all known ones on an initial sync)."""
        changed = [u for u, s in self._users.items()
                   if (since is None or s.position > since) and s.position <= until]
        if not changed:
            return []
        visible = await _shares_room_with(self._db, viewer)
        return [{"type": "m.presence", "sender": u, "content": self.status(u)}
                for u in changed if u in visible]

    async def sweep(self) -> None:
        """Announce changes that come from time alone (online → unavailable → offline):
        run periodically, it advances the position for users whose effective presence
        differs from what was last announced."""
        for user_id, state in list(self._users.items()):
            effective, _ = self._effective(user_id)
            if effective != state.presence:
                self.position += 1
                state.presence = effective
                state.position = self.position
                async with self._db.read() as conn:
                    rooms = await rooms_repo.rooms_of_user(conn, user_id, "join")
                self._notifier.notify([*rooms, user_id])

    async def may_see(self, viewer: str, target: str) -> bool:
        return target in await _shares_room_with(self._db, viewer)


# --- to-device -------------------------------------------------------------------------------


class ToDeviceService:
    MAX_PER_SYNC = 100

    def __init__(self, *, db: Database, notifier: Notifier, stream: StreamIdGenerator,
                 server_name: str) -> None:
        self._db = db
        self._notifier = notifier
        self.stream = stream
        self._server_name = server_name

    async def send(self, sender: str, message_type: str,
                   messages: dict[str, dict[str, Any]]) -> None:
        """PUT /sendToDevice/{eventType}/{txnId} (idempotency is the caller's)."""
        from myelin.storage.repos import accounts as accounts_repo

        keys: list[str] = []
        writes: list[tuple[str, str, str]] = []
        async with self._db.read() as conn:
            for user_id, by_device in messages.items():
                if not isinstance(by_device, dict):
                    raise ProtocolError("messages must map users to devices", errcode="M_BAD_JSON")
                if not user_id.endswith(f":{self._server_name}"):
                    continue  # remote users need federation, which is not in yet
                devices = await accounts_repo.device_ids(conn, user_id)
                for device_id, content in by_device.items():
                    if not isinstance(content, dict):
                        raise ProtocolError("each message must be an object",
                                            errcode="M_BAD_JSON")
                    targets = devices if device_id == "*" else (
                        [device_id] if device_id in devices else [])
                    for target in targets:
                        writes.append((user_id, target, _encode(content).decode()))
                        keys.append(device_key(user_id, target))
        if not writes:
            return
        positions = [self.stream.reserve() for _ in writes]
        try:
            async with self._db.transaction() as txn:
                for (user_id, device_id, content), position in zip(writes, positions,
                                                                   strict=True):
                    await repo.add_to_device(txn, user_id, device_id, position, sender,
                                             message_type, content)
        finally:
            for position in positions:
                self.stream.complete(position)
        self._notifier.notify(keys)

    async def pending(self, user_id: str, device_id: str, since: int | None,
                      until: int) -> tuple[list[dict[str, Any]], int]:
        """Messages for this device in (since, until]; those up to ``since`` were delivered
        by the sync that returned ``since`` and are deleted now (acknowledged). Returns the
        events and the position they reach (the sync token's to_device part)."""
        if since is not None and since > 0:
            # Acknowledge with a write only when something is waiting to be deleted: most
            # syncs have nothing, and a write transaction per sync would cost an fsync.
            async with self._db.read() as conn:
                pending = await repo.to_device_since(conn, user_id, device_id, 0, since, 1)
            if pending:
                async with self._db.transaction() as txn:
                    await repo.delete_to_device_up_to(txn, user_id, device_id, since)
        async with self._db.read() as conn:
            rows = await repo.to_device_since(conn, user_id, device_id, since or 0, until,
                                              self.MAX_PER_SYNC)
        events = [{"sender": r[1], "type": r[2], "content": _decode(r[3])} for r in rows]
        reached = rows[-1][0] if len(rows) == self.MAX_PER_SYNC else until
        return events, reached


# --- device lists ----------------------------------------------------------------------------


class DeviceListTracker:
    """Records users whose device list changed (a device added or removed), for
    ``device_lists.changed`` in /sync."""

    def __init__(self, *, db: Database, notifier: Notifier, stream: StreamIdGenerator) -> None:
        self._db = db
        self._notifier = notifier
        self.stream = stream

    async def changed(self, user_id: str) -> None:
        async with self.stream.get_next() as position:
            async with self._db.transaction() as txn:
                await repo.add_device_list_change(txn, user_id, position)
        async with self._db.read() as conn:
            rooms = await rooms_repo.rooms_of_user(conn, user_id, "join")
        self._notifier.notify([*rooms, user_id])

    async def changes(self, viewer: str, since: int, until: int) -> list[str]:
        async with self._db.read() as conn:
            users = await repo.device_list_changes_since(conn, since, until)
        if not users:
            return []
        visible = await _shares_room_with(self._db, viewer)
        return sorted(u for u in users if u in visible)
