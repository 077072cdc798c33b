"""The room engine: every write to a room goes through here.

One path for all writes (ARCHITECTURE.md §2, style rules 9-10): take the room's lock,
build the event for the room's version (prev event, auth events, depth, hashes,
signature), authorize it against the current state, then persist the event, its state
change, the room head and the transaction answer in one transaction with reserved stream
positions, and only after the commit update the in-memory view and notify listeners
(with positions, never payloads).

Rooms created here have a linear history (each event's only prev event is the room's
head, appended under the room lock), so "state at an event" is the state as of its
stream position, answered by the temporal state index (storage/repos/rooms.py).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec

from myelin.clock import Clock
from myelin.protocol.auth.auth_types import auth_types_for_event
from myelin.protocol.auth.rules import check_auth
from myelin.protocol.errors import Forbidden, NotFound, ProtocolError, TooLarge
from myelin.protocol.events.builder import EventRef, build_event
from myelin.protocol.events.redaction import redact
from myelin.protocol.events.signing import SigningKey
from myelin.protocol.room_versions import EventIdFormat, RoomVersion, get_room_version
from myelin.storage.database import Database, Transaction
from myelin.storage.repos import rooms as repo
from myelin.storage.stream_ids import StreamIdGenerator

log = logging.getLogger(__name__)

StateKey = tuple[str, str]

# Client-Server API §Size limits: the whole event as federation JSON, and type/state_key.
MAX_EVENT_BYTES = 65536
MAX_KEY_BYTES = 255

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


@dataclass(slots=True)
class StoredEvent:
    """A persisted event: the PDU and what the server knows about it."""

    event_id: str
    room_id: str
    stream: int
    depth: int
    pdu: dict[str, Any]
    redacted_by: str | None = None
    txn_device: str | None = None
    txn_id: str | None = None
    replaces_state: str | None = None

    @property
    def type(self) -> str:
        return str(self.pdu["type"])

    @property
    def sender(self) -> str:
        return str(self.pdu["sender"])

    @property
    def state_key(self) -> str | None:
        sk = self.pdu.get("state_key")
        return sk if isinstance(sk, str) else None

    @property
    def content(self) -> dict[str, Any]:
        c = self.pdu.get("content")
        return c if isinstance(c, dict) else {}

    @property
    def is_state(self) -> bool:
        return self.state_key is not None


@dataclass(slots=True)
class RoomView:
    """The in-memory view of a room the engine appends to (valid while holding its lock)."""

    room_id: str
    version: RoomVersion
    head: EventRef | None
    depth: int
    state: dict[StateKey, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TxnKey:
    """Identifies an idempotent request (§Transaction identifiers): per device and path."""

    user_id: str
    device_id: str
    scope: str
    txn_id: str


@dataclass(frozen=True, slots=True)
class Draft:
    sender: str
    event_type: str
    content: dict[str, Any]
    state_key: str | None = None
    redacts: str | None = None
    txn: TxnKey | None = None


class RoomLock:
    """Proof that the holder has the room's write lock (only made by RoomEngine)."""

    __slots__ = ("room_id",)

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id


def _ref(event: StoredEvent) -> EventRef:
    hashes = event.pdu.get("hashes")
    return EventRef(event.event_id, dict(hashes) if isinstance(hashes, dict) else {})


def _relation(content: Mapping[str, Any]) -> tuple[str | None, str | None]:
    rel = content.get("m.relates_to")
    if isinstance(rel, dict):
        target, rel_type = rel.get("event_id"), rel.get("rel_type")
        if isinstance(target, str):
            return target, rel_type if isinstance(rel_type, str) else None
    return None, None


class RoomEngine:
    EVENT_CACHE_SIZE = 100_000
    VIEW_CACHE_SIZE = 2_000

    def __init__(self, *, db: Database, clock: Clock, server_name: str,
                 signing_key: SigningKey, stream: StreamIdGenerator) -> None:
        self._db = db
        self._clock = clock
        self.server_name = server_name
        self._signing_key = signing_key
        self.stream = stream
        self._locks: dict[str, asyncio.Lock] = {}
        self._events: OrderedDict[str, StoredEvent] = OrderedDict()
        self._views: OrderedDict[str, RoomView] = OrderedDict()
        self._listeners: list[Callable[[list[StoredEvent]], None]] = []
        self._last_create_ts = 0

    def add_listener(self, listener: Callable[[list[StoredEvent]], None]) -> None:
        """Called after commit with the events just persisted."""
        self._listeners.append(listener)

    # --- locks -------------------------------------------------------------------------------

    @asynccontextmanager
    async def lock(self, room_id: str) -> AsyncIterator[RoomLock]:
        lock = self._locks.get(room_id)
        if lock is None:
            lock = self._locks[room_id] = asyncio.Lock()
        async with lock:
            yield RoomLock(room_id)
        if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
            self._locks.pop(room_id, None)

    # --- reads -------------------------------------------------------------------------------

    def _remember(self, event: StoredEvent) -> None:
        self._events[event.event_id] = event
        self._events.move_to_end(event.event_id)
        if len(self._events) > self.EVENT_CACHE_SIZE:
            self._events.popitem(last=False)

    @staticmethod
    def _from_row(row: repo.EventRow) -> StoredEvent:
        return StoredEvent(row.event_id, row.room_id, row.stream_ordering, row.depth,
                           _decode(row.json), row.redacted_by, row.txn_device, row.txn_id,
                           row.replaces_state)

    async def get_events(self, event_ids: Iterable[str]) -> dict[str, StoredEvent]:
        found: dict[str, StoredEvent] = {}
        missing: list[str] = []
        for event_id in event_ids:
            cached = self._events.get(event_id)
            if cached is not None:
                found[event_id] = cached
            else:
                missing.append(event_id)
        if missing:
            async with self._db.read() as conn:
                rows = await repo.get_events(conn, missing)
            for event_id, row in rows.items():
                event = self._from_row(row)
                self._remember(event)
                found[event_id] = event
        return found

    async def get_event(self, event_id: str) -> StoredEvent | None:
        return (await self.get_events([event_id])).get(event_id)

    def events_from_rows(self, rows: list[repo.EventRow]) -> list[StoredEvent]:
        out = []
        for row in rows:
            cached = self._events.get(row.event_id)
            if cached is None or cached.redacted_by != row.redacted_by:
                cached = self._from_row(row)
                self._remember(cached)
            out.append(cached)
        return out

    async def room_version(self, room_id: str) -> RoomVersion | None:
        view = self._views.get(room_id)
        if view is not None:
            return view.version
        async with self._db.read() as conn:
            room = await repo.get_room(conn, room_id)
        return None if room is None else get_room_version(room.room_version)

    async def _view(self, lock: RoomLock) -> RoomView:
        view = self._views.get(lock.room_id)
        if view is not None:
            self._views.move_to_end(lock.room_id)
            return view
        async with self._db.read() as conn:
            room = await repo.get_room(conn, lock.room_id)
            if room is None:
                raise NotFound("Unknown room")
            state = await repo.current_state_ids(conn, lock.room_id)
        head = None
        if room.head_event_id is not None:
            head_event = await self.get_event(room.head_event_id)
            assert head_event is not None
            head = _ref(head_event)
        view = RoomView(lock.room_id, get_room_version(room.room_version), head, room.head_depth,
                        state)
        self._views[lock.room_id] = view
        if len(self._views) > self.VIEW_CACHE_SIZE:
            self._views.popitem(last=False)
        return view

    async def current_state(self, room_id: str) -> dict[StateKey, str]:
        """The current state map (type, state_key) -> event ID."""
        view = self._views.get(room_id)
        if view is not None:
            return dict(view.state)
        async with self._db.read() as conn:
            return await repo.current_state_ids(conn, room_id)

    async def current_state_event(self, room_id: str, event_type: str,
                                  state_key: str = "") -> StoredEvent | None:
        view = self._views.get(room_id)
        if view is not None:
            event_id = view.state.get((event_type, state_key))
        else:
            async with self._db.read() as conn:
                event_id = await repo.current_state_id(conn, room_id, event_type, state_key)
        return None if event_id is None else await self.get_event(event_id)

    # --- writes ------------------------------------------------------------------------------

    async def send(self, room_id: str, draft: Draft) -> StoredEvent:
        """Build, authorize and persist one event."""
        async with self.lock(room_id) as lock:
            view = await self._view(lock)
            event = await self._build_checked(view, draft)
            await self._persist(lock, view, [event], [draft])
            return event

    async def create(self, version: RoomVersion, room_id: str | None,
                     drafts: list[Draft], *, creator: str) -> tuple[str, list[StoredEvent]]:
        """Create a room from its initial events (the first must be m.room.create), all
        persisted in one transaction. ``room_id`` is None when the version derives it from
        the create event."""
        view = RoomView(room_id or "", version, None, 0)
        built: list[StoredEvent] = []
        first = await self._build_checked(view, drafts[0])
        view.room_id = first.room_id
        first.room_id = view.room_id
        async with self.lock(view.room_id) as lock:
            self._apply_to_view(view, first)
            built.append(first)
            pending = {first.event_id: first}
            for draft in drafts[1:]:
                event = await self._build_checked(view, draft, pending)
                self._apply_to_view(view, event)
                built.append(event)
                pending[event.event_id] = event
            # _persist replays the view update for every event; start it from scratch.
            fresh = RoomView(view.room_id, version, None, 0)
            await self._persist(lock, fresh, built, drafts, create_room_by=creator)
        return view.room_id, built

    async def _build_checked(self, view: RoomView, draft: Draft,
                             pending: dict[str, StoredEvent] | None = None) -> StoredEvent:
        """Build and authorize one event on top of ``view``; ``pending`` holds events built
        earlier in the same batch (not yet persisted)."""
        version = view.version
        if len(draft.event_type.encode()) > MAX_KEY_BYTES:
            raise TooLarge("Event type is longer than 255 bytes")
        if draft.state_key is not None and len(draft.state_key.encode()) > MAX_KEY_BYTES:
            raise TooLarge("State key is longer than 255 bytes")
        keys = auth_types_for_event(version, draft.event_type, draft.sender, draft.state_key,
                                    draft.content)
        auth_ids = [view.state[k] for k in keys if k in view.state]
        create_id = view.state.get(("m.room.create", ""))
        # The auth rules read the create event in every version, though v12 events do not
        # list it (their room ID names it).
        wanted = auth_ids + ([create_id] if create_id else [])
        auth_events = {i: pending[i] for i in wanted if pending and i in pending}
        auth_events.update(await self.get_events([i for i in wanted if i not in auth_events]))
        now = self._clock.time_msec()
        if draft.event_type == "m.room.create" and draft.state_key == "":
            # v12 room IDs are the create event's hash: two identical creations in the same
            # millisecond would collide, so create events get strictly increasing times.
            now = max(now, self._last_create_ts + 1)
            self._last_create_ts = now
        opaque = None
        if version.event_format.event_id_format is EventIdFormat.OPAQUE:
            # Room versions 1-2: the sender mints "$opaque:server" (rooms/v1.md §Event IDs).
            opaque = f"${secrets.token_urlsafe(18)}:{self.server_name}"
        built = build_event(
            version, server_name=self.server_name, signing_key=self._signing_key,
            room_id=view.room_id or None, sender=draft.sender, event_type=draft.event_type,
            content=draft.content, state_key=draft.state_key,
            prev_events=[view.head] if view.head else [],
            auth_events=[_ref(auth_events[i]) for i in auth_ids if i in auth_events],
            depth=view.depth + 1, origin_server_ts=now, opaque_event_id=opaque,
            redacts=draft.redacts)
        if len(_encode(built.pdu)) > MAX_EVENT_BYTES:
            raise TooLarge("Event is larger than 65536 bytes")
        auth_map = {k: auth_events[view.state[k]].pdu for k in keys
                    if k in view.state and view.state[k] in auth_events}
        if create_id is not None and create_id in auth_events:
            auth_map[("m.room.create", "")] = auth_events[create_id].pdu
        try:
            # v1-v2 PDUs carry their event_id; later versions derive it from the content.
            check_auth(version, built.pdu, auth_map)
        except ProtocolError as e:
            raise Forbidden(e.message) from None
        return StoredEvent(built.event_id, built.room_id, 0, view.depth + 1, built.pdu,
                           txn_device=draft.txn.device_id if draft.txn else None,
                           txn_id=draft.txn.txn_id if draft.txn else None,
                           replaces_state=view.state.get((draft.event_type, draft.state_key))
                           if draft.state_key is not None else None)

    @staticmethod
    def _apply_to_view(view: RoomView, event: StoredEvent) -> None:
        view.head = _ref(event)
        view.depth = event.depth
        if event.state_key is not None:
            view.state[(event.type, event.state_key)] = event.event_id

    async def _persist(self, lock: RoomLock, view: RoomView, events: list[StoredEvent],
                       drafts: list[Draft], *, create_room_by: str | None = None) -> None:
        positions = [self.stream.reserve() for _ in events]
        redactions: list[tuple[StoredEvent, StoredEvent]] = []
        try:
            for event, pos in zip(events, positions, strict=True):
                event.stream = pos
            async with self._db.transaction() as txn:
                if create_room_by is not None:
                    await repo.create_room(txn, view.room_id, view.version.identifier,
                                           create_room_by, now=self._clock.time_msec())
                for event, draft in zip(events, drafts, strict=True):
                    await self._write_event(txn, event, draft)
                    target = await self._redaction_target(event)
                    if target is not None:
                        redactions.append((event, target))
                        await repo.set_redacted(
                            txn, target.event_id, event.event_id,
                            _encode(redact(target.pdu, view.version.redaction)).decode())
                last = events[-1]
                await repo.set_head(txn, view.room_id, last.event_id, last.depth, last.stream)
        finally:
            for pos in positions:
                self.stream.complete(pos)
        for event in events:
            self._apply_to_view(view, event)
            self._remember(event)
        self._views[view.room_id] = view
        for redaction, target in redactions:
            self._remember(replace(target, pdu=redact(target.pdu, view.version.redaction),
                                   redacted_by=redaction.event_id))
        for listener in self._listeners:
            try:
                listener(events)
            except Exception:  # noqa: BLE001 - a listener bug must not fail the write
                log.exception("room listener failed")

    async def _write_event(self, txn: Transaction, event: StoredEvent, draft: Draft) -> None:
        relates_to, rel_type = _relation(event.content)
        await repo.insert_event(
            txn, event_id=event.event_id, room_id=event.room_id, stream=event.stream,
            depth=event.depth, event_type=event.type, state_key=event.state_key,
            sender=event.sender, origin_server_ts=int(event.pdu.get("origin_server_ts", 0)),
            json=_encode(event.pdu).decode(), relates_to=relates_to, rel_type=rel_type,
            txn_device=event.txn_device, txn_id=event.txn_id,
            replaces_state=event.replaces_state)
        if event.state_key is not None:
            membership = event.content.get("membership") if event.type == "m.room.member" \
                else None
            await repo.record_state(
                txn, room_id=event.room_id, event_type=event.type, state_key=event.state_key,
                event_id=event.event_id, stream=event.stream,
                membership=membership if isinstance(membership, str) else None)
        if draft.txn is not None:
            await repo.put_txn_response(
                txn, draft.txn.user_id, draft.txn.device_id, draft.txn.scope, draft.txn.txn_id,
                200, _encode({"event_id": event.event_id}).decode(),
                now=self._clock.time_msec())

    async def _redaction_target(self, event: StoredEvent) -> StoredEvent | None:
        if event.type != "m.room.redaction":
            return None
        target_id = event.pdu.get("redacts") or event.content.get("redacts")
        if not isinstance(target_id, str):
            return None
        target = await self.get_event(target_id)
        if target is None or target.room_id != event.room_id or target.redacted_by:
            return None
        return target
