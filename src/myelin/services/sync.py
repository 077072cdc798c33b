"""GET /sync (Client-Server API §Syncing, sync.yaml) and the filter endpoints' storage.

The loop follows the token contract: register with the notifier, then sample the stream
positions, then build from `since` to those positions (never past a reserved but
uncommitted position: StreamIdGenerator.current), else wait for a wake-up or the
timeout. Rooms are read per user from the memberships table; each joined room's
timeline is the newest visible events after `since`, with `limited` and `prev_batch`
when there are more, and `state` is the state at the start of the timeline (full on an
initial sync or a newly joined room, a delta over the gap on a limited incremental one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from myelin.clock import Clock
from myelin.protocol.errors import Forbidden, NotFound
from myelin.protocol.sync.filters import Filter, parse_filter, project_fields
from myelin.protocol.sync.tokens import SyncToken
from myelin.rooms.engine import StoredEvent
from myelin.rooms.service import RoomService, Viewer, make_token
from myelin.rooms.visibility import filter_visible
from myelin.services.user_streams import (
    AccountDataService,
    DeviceListTracker,
    PresenceService,
    ReceiptService,
    ToDeviceService,
    TypingService,
    device_key,
)
from myelin.storage.database import Database
from myelin.storage.repos import rooms as rooms_repo
from myelin.storage.repos import sync as sync_repo
from myelin.storage.stream_ids import StreamIdGenerator
from myelin.streams.notifier import Notifier

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode

# Stripped state shown for invites and knocks (§Stripped state).
STRIPPED_TYPES = ("m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar",
                  "m.room.canonical_alias", "m.room.encryption", "m.room.topic")
MAX_HEROES = 5
TOP_DEPTH = 2**62
SCAN_BATCH = 100
MAX_SCAN_BATCHES = 10


@dataclass
class _Timeline:
    events: list[StoredEvent]
    limited: bool


def _token_fields(token: SyncToken) -> dict[str, int]:
    return {name: getattr(token, name) for name in SyncToken.__dataclass_fields__}


def _strip(event: StoredEvent) -> dict[str, Any]:
    return {"type": event.type, "state_key": event.state_key or "", "content": event.content,
            "sender": event.sender}


class SyncService:
    def __init__(self, *, db: Database, clock: Clock, rooms: RoomService, notifier: Notifier,
                 stream: StreamIdGenerator, account_data: AccountDataService,
                 receipts: ReceiptService, typing: TypingService, presence: PresenceService,
                 to_device: ToDeviceService, device_lists: DeviceListTracker) -> None:
        self._db = db
        self._clock = clock
        self._rooms = rooms
        self._engine = rooms.engine
        self._notifier = notifier
        self._stream = stream
        self._account_data = account_data
        self._receipts = receipts
        self._typing = typing
        self._presence = presence
        self._to_device = to_device
        self._device_lists = device_lists

    def current_token(self) -> SyncToken:
        """Every stream's position; only completed positions (never past an in-flight
        write)."""
        return SyncToken(events=self._stream.current, typing=self._typing.position,
                         receipts=self._receipts.stream.current,
                         account_data=self._account_data.stream.current,
                         to_device=self._to_device.stream.current,
                         device_lists=self._device_lists.stream.current,
                         presence=self._presence.position)

    # --- filters -----------------------------------------------------------------------------

    async def upload_filter(self, viewer: Viewer, user_id: str, body: dict[str, Any]) -> str:
        """POST /user/{userId}/filter"""
        if user_id != viewer.user_id:
            raise Forbidden("You can only upload filters for yourself")
        parse_filter(body)  # validate before storing
        async with self._db.transaction() as txn:
            filter_id = await sync_repo.add_filter(txn, user_id, _encode(body).decode())
        return str(filter_id)

    async def get_filter(self, viewer: Viewer, user_id: str, filter_id: str) -> dict[str, Any]:
        """GET /user/{userId}/filter/{filterId}"""
        if user_id != viewer.user_id:
            raise Forbidden("You can only read your own filters")
        if not (filter_id.isascii() and filter_id.isdigit()) or len(filter_id) > 18:
            raise NotFound("No such filter")
        async with self._db.read() as conn:
            found = await sync_repo.get_filter(conn, user_id, int(filter_id))
        if found is None:
            raise NotFound("No such filter")
        return dict(_decode(found))

    async def resolve_filter(self, viewer: Viewer, param: str | None) -> Filter:
        """The ``filter`` query parameter: a filter ID, or inline JSON starting with '{'."""
        if param is None:
            return Filter()
        if param.lstrip().startswith("{"):
            try:
                raw = _decode(param)
            except msgspec.DecodeError:
                from myelin.protocol.errors import NotJson

                raise NotJson("The filter parameter is not valid JSON") from None
            return parse_filter(raw)
        from myelin.protocol.errors import InvalidParam

        try:
            return parse_filter(await self.get_filter(viewer, viewer.user_id, param))
        except NotFound:
            raise InvalidParam(f"Unknown filter {param!r}") from None

    # --- the long-poll -----------------------------------------------------------------------

    async def sync(self, viewer: Viewer, *, since: str | None, timeout_ms: int,
                   full_state: bool, sync_filter: Filter,
                   set_presence: str = "online",
                   use_state_after: bool = False) -> dict[str, Any]:
        since_token = SyncToken.parse(since) if since else None
        await self._presence.syncing(viewer.user_id, set_presence)
        wait = since_token is not None and not full_state and timeout_ms > 0
        deadline = self._clock.monotonic() + timeout_ms / 1000
        while True:
            keys = await self._rooms.joined_rooms(viewer.user_id)
            # Register before sampling: a commit after this point wakes us.
            waiter = self._notifier.register(
                [*keys, viewer.user_id, device_key(viewer.user_id, viewer.device_id or "")])
            try:
                now = self.current_token()
                if since_token is None or full_state or now.advanced_past(since_token):
                    response = await self._build(viewer, since_token, now, sync_filter,
                                                 full_state, use_state_after)
                    if not wait or self._has_news(response):
                        return response
                    since_token = now
                remaining = deadline - self._clock.monotonic()
                if not wait or remaining <= 0 or not await waiter.wait(remaining):
                    return self._empty(since_token or now)
            finally:
                self._notifier.unregister(waiter)

    @staticmethod
    def _has_news(response: dict[str, Any]) -> bool:
        rooms = response["rooms"]
        return bool(rooms["join"] or rooms["invite"] or rooms["leave"] or rooms["knock"]
                    or response["presence"]["events"] or response["account_data"]["events"]
                    or response["to_device"]["events"] or response["device_lists"]["changed"])

    @staticmethod
    def _empty(token: SyncToken) -> dict[str, Any]:
        return {"next_batch": token.encode(),
                "rooms": {"join": {}, "invite": {}, "leave": {}, "knock": {}},
                "presence": {"events": []}, "account_data": {"events": []},
                "to_device": {"events": []}, "device_lists": {"changed": [], "left": []},
                "device_one_time_keys_count": {}}

    # --- building ----------------------------------------------------------------------------

    async def _build(self, viewer: Viewer, since: SyncToken | None, now: SyncToken,
                     f: Filter, full_state: bool, use_state_after: bool) -> dict[str, Any]:
        response = self._empty(now)
        rooms = response["rooms"]
        user_id = viewer.user_id
        async with self._db.read() as conn:
            memberships = await rooms_repo.user_memberships(conn, user_id)
            heads = await rooms_repo.room_heads(conn, [m[0] for m in memberships])
        since_pos = since.events if since else None
        initial = since is None or full_state
        base = since or SyncToken()
        ignored = await self._account_data.ignored_users(user_id)

        # Per-user streams (§Syncing: account_data, presence, to_device, device_lists).
        # Each stream is read only if its position moved (most wake-ups concern one stream).
        if initial or now.account_data > base.account_data:
            global_data, room_data = await self._account_data.changes(
                user_id, 0 if initial else base.account_data, now.account_data)
        else:
            global_data, room_data = [], {}
        response["account_data"]["events"] = [
            e for e in global_data if f.account_data.allows(e["type"], user_id)]
        response["presence"]["events"] = [
            e for e in await self._presence.changes(user_id, None if initial else base.presence,
                                                    now.presence)
            if f.presence.allows(e["type"], e["sender"]) and e["sender"] not in ignored]
        if since is None or now.to_device > base.to_device or base.to_device > 0:
            to_device, reached = await self._to_device.pending(
                user_id, viewer.device_id or "", base.to_device if since else None,
                now.to_device)
        else:
            to_device, reached = [], now.to_device
        response["to_device"]["events"] = to_device
        if since is not None and now.device_lists > base.device_lists:
            response["device_lists"]["changed"] = await self._device_lists.changes(
                user_id, base.device_lists, now.device_lists)
        if reached != now.to_device:
            response["next_batch"] = SyncToken(**{**_token_fields(now),
                                                  "to_device": reached}).encode()

        joined = [m[0] for m in memberships if m[1] == "join" and f.room.allows_room(m[0])]
        typing = self._typing.changes(joined, None if initial else base.typing)
        receipts = await self._receipts.changes(
            user_id, joined, 0 if initial else base.receipts, now.receipts) if (
            initial or now.receipts > base.receipts) else {}

        for room_id, membership, event_id, position, forgotten in memberships:
            if not f.room.allows_room(room_id) or position > now.events:
                continue
            changed = since_pos is None or position > since_pos
            if membership == "join":
                ephemeral = [e for e in (typing.get(room_id), receipts.get(room_id))
                             if e is not None and f.room.ephemeral.allows(
                                 e["type"], "", room_id)]
                account = [e for e in room_data.get(room_id, [])
                           if f.room.account_data.allows(e["type"], user_id, room_id)]
                quiet = (not changed and not full_state and since_pos is not None
                         and heads.get(room_id, 0) <= since_pos)
                entry = None if quiet else await self._joined_room(
                    viewer, room_id, since_pos, now.events, f,
                    full_state=full_state or changed, ignored=ignored,
                    use_state_after=use_state_after)
                if entry is None and (ephemeral or account):
                    entry = self._bare_joined_room()
                if entry is not None:
                    entry["ephemeral"]["events"] = ephemeral
                    entry["account_data"]["events"] = account
                    rooms["join"][room_id] = entry
            elif membership == "invite" and (changed or full_state):
                invite = await self._engine.get_event(event_id)
                if invite is not None and invite.sender in ignored:
                    continue  # §Ignoring users: invites from them are not shown
                rooms["invite"][room_id] = {"invite_state": {
                    "events": await self._stripped_state(room_id, event_id)}}
            elif membership == "knock" and (changed or full_state):
                rooms["knock"][room_id] = {"knock_state": {
                    "events": await self._stripped_state(room_id, event_id)}}
            elif membership in ("leave", "ban") and not forgotten:
                if since_pos is None and not f.room.include_leave:
                    continue
                if since_pos is not None and not changed and not full_state:
                    continue
                if since_pos is not None and not changed and not f.room.include_leave:
                    continue
                entry = await self._left_room(viewer, room_id, since_pos, position, f,
                                              use_state_after)
                if entry is not None:
                    rooms["leave"][room_id] = entry
        return response

    @staticmethod
    def _bare_joined_room() -> dict[str, Any]:
        return {"timeline": {"events": [], "limited": False}, "state": {"events": []},
                "ephemeral": {"events": []}, "account_data": {"events": []},
                "unread_notifications": {"highlight_count": 0, "notification_count": 0}}

    async def _stripped_state(self, room_id: str, member_event_id: str) -> list[dict[str, Any]]:
        state = await self._engine.current_state(room_id)
        ids = [state[(t, "")] for t in STRIPPED_TYPES if (t, "") in state]
        events = await self._engine.get_events([*ids, member_event_id])
        return [_strip(events[i]) for i in [*ids, member_event_id] if i in events]

    async def _timeline(self, viewer: Viewer, room_id: str, since_pos: int | None,
                        until: int, f: Filter,
                        ignored: frozenset[str] = frozenset()) -> _Timeline:
        """The newest visible, filter-passing events in (since, until], oldest first. Reads
        only that window, in batches of limit + 1 (larger when a filter may drop events)."""
        limit = f.timeline_limit
        tl = f.room.timeline
        narrowing = bool(ignored or tl.events.types is not None or tl.events.not_types
                         or tl.events.senders is not None or tl.events.not_senders
                         or tl.contains_url is not None)
        batch = max(limit + 1, SCAN_BATCH) if narrowing else limit + 1
        chosen: list[StoredEvent] = []
        more = False
        # Start above any depth: the window bounds the query by stream position anyway.
        cursor = (TOP_DEPTH, 0)
        lower = -1 if since_pos is None else since_pos
        for _ in range(MAX_SCAN_BATCHES):
            async with self._db.read() as conn:
                rows = await rooms_repo.room_events_in_window(
                    conn, room_id, cursor[0], cursor[1], lower, until, batch)
            if not rows:
                break
            cursor = (rows[-1].depth, rows[-1].stream_ordering)
            events = self._engine.events_from_rows(rows)
            events = [e for e in events if tl.allows(e.type, e.sender, room_id, e.content)
                      and (e.sender not in ignored or e.is_state)]
            events = await filter_visible(self._db, self._engine, viewer.user_id, room_id,
                                          events)
            for event in events:
                if len(chosen) == limit:
                    more = True
                    break
                chosen.append(event)
            if more or len(rows) < batch:
                break
        chosen.reverse()
        return _Timeline(chosen, more)

    async def _state_before(self, room_id: str, timeline: list[StoredEvent],
                            at_end: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
        """State at the start of the timeline, by undoing its state events (each knows the
        event it replaced) from the state at its end: no history replay, no extra query."""
        state = dict(at_end)
        for event in reversed(timeline):
            if event.state_key is None:
                continue
            key = (event.type, event.state_key)
            if event.replaces_state:
                state[key] = event.replaces_state
            else:
                state.pop(key, None)
        return state

    async def _joined_room(self, viewer: Viewer, room_id: str, since_pos: int | None,
                           until: int, f: Filter, *, full_state: bool,
                           ignored: frozenset[str] = frozenset(),
                           use_state_after: bool = False) -> dict[str, Any] | None:
        timeline = await self._timeline(viewer, room_id, since_pos, until, f, ignored)
        if not timeline.events and not full_state:
            return None
        at_end = await self._state_at(room_id, until)
        key, state = await self._state_section(viewer, room_id, timeline, at_end,
                                               None if full_state else since_pos, f,
                                               use_state_after)
        first = timeline.events[0] if timeline.events else None
        entry: dict[str, Any] = {
            "timeline": {
                "events": await self._serialize(timeline.events, viewer, f),
                "limited": timeline.limited,
            },
            key: {"events": state},
            "ephemeral": {"events": []},
            "account_data": {"events": []},
            "summary": await self._summary(viewer, room_id, at_end),
            "unread_notifications": {"highlight_count": 0, "notification_count": 0},
        }
        if first is not None:
            entry["timeline"]["prev_batch"] = make_token(first.depth, first.stream)
        return entry

    async def _state_at(self, room_id: str, position: int) -> dict[tuple[str, str], str]:
        """The state as of ``position``: the engine's current state (memory) when nothing
        happened in the room since, else one query on the temporal state index."""
        async with self._db.read() as conn:
            heads = await rooms_repo.room_heads(conn, [room_id])
            if heads.get(room_id, 0) <= position:
                return await self._engine.current_state(room_id)
            return await rooms_repo.state_ids_at(conn, room_id, position)

    async def _state_section(self, viewer: Viewer, room_id: str, timeline: _Timeline,
                             at_end: dict[tuple[str, str], str], since_pos: int | None,
                             f: Filter, use_state_after: bool
                             ) -> tuple[str, list[dict[str, Any]]]:
        """``state`` (sync.yaml: from `since` to the **start** of the timeline; everything at
        the start on an initial or full-state sync) or, with use_state_after, ``state_after``
        (from `since` to the **end** of the timeline, timeline events included)."""
        events = timeline.events
        if use_state_after:
            target = at_end
        else:
            target = await self._state_before(room_id, events, at_end)
        if since_pos is None:
            ids = target
        elif use_state_after or timeline.limited:
            if not use_state_after and not timeline.limited:
                ids = {}
            else:
                async with self._db.read() as conn:
                    at_since = await rooms_repo.state_ids_at(conn, room_id, since_pos)
                ids = {k: v for k, v in target.items() if at_since.get(k) != v}
        else:
            ids = {}
        if f.room.state.lazy_load_members:
            # §Lazy-loading room members: the senders' memberships come with their events,
            # also when they did not change (the client may never have been sent them).
            for sender in {e.sender for e in events}:
                member = target.get(("m.room.member", sender))
                if member is not None:
                    ids[("m.room.member", sender)] = member
        loaded = await self._engine.get_events(ids.values())
        kept = self._filter_state(viewer, list(loaded.values()), events, f)
        if not use_state_after:
            in_timeline = {e.event_id for e in events}
            kept = [e for e in kept if e.event_id not in in_timeline]
        kept.sort(key=lambda e: e.stream)
        return ("state_after" if use_state_after else "state",
                await self._serialize(kept, viewer, f))

    @staticmethod
    def _filter_state(viewer: Viewer, events: list[StoredEvent], timeline: list[StoredEvent],
                      f: Filter) -> list[StoredEvent]:
        """Apply the state filter; with lazy-loading, only the members who sent timeline
        events and the syncing user's own membership (§Lazy-loading room members)."""
        state_filter = f.room.state
        senders = {e.sender for e in timeline} | {viewer.user_id}
        kept = []
        for event in events:
            if not state_filter.allows(event.type, event.sender, event.room_id, event.content):
                continue
            if (state_filter.lazy_load_members and event.type == "m.room.member"
                    and event.state_key not in senders):
                continue
            kept.append(event)
        return kept

    async def _summary(self, viewer: Viewer, room_id: str,
                       state: dict[tuple[str, str], str]) -> dict[str, Any]:
        member_ids = [eid for (t, _), eid in state.items() if t == "m.room.member"]
        members = await self._engine.get_events(member_ids)
        joined = sorted(e.state_key or "" for e in members.values()
                        if e.content.get("membership") == "join")
        invited = sorted(e.state_key or "" for e in members.values()
                         if e.content.get("membership") == "invite")
        summary: dict[str, Any] = {"m.joined_member_count": len(joined),
                                   "m.invited_member_count": len(invited)}
        if ("m.room.name", "") not in state and ("m.room.canonical_alias", "") not in state:
            summary["m.heroes"] = [u for u in joined + invited if u != viewer.user_id][:MAX_HEROES]
        return summary

    async def _left_room(self, viewer: Viewer, room_id: str, since_pos: int | None,
                         left_at: int, f: Filter,
                         use_state_after: bool = False) -> dict[str, Any] | None:
        timeline = await self._timeline(viewer, room_id, since_pos, left_at, f)
        async with self._db.read() as conn:
            at_end = await rooms_repo.state_ids_at(conn, room_id, left_at)
        key, state = await self._state_section(viewer, room_id, timeline, at_end, None, f,
                                               use_state_after)
        entry: dict[str, Any] = {
            "timeline": {"events": await self._serialize(timeline.events, viewer, f),
                         "limited": timeline.limited},
            key: {"events": state},
            "account_data": {"events": []},
        }
        if timeline.events:
            first = timeline.events[0]
            entry["timeline"]["prev_batch"] = make_token(first.depth, first.stream)
        return entry

    async def _serialize(self, events: list[StoredEvent], viewer: Viewer,
                         f: Filter) -> list[dict[str, Any]]:
        if f.event_format == "federation":
            # filter.yaml event_format: "federation" is the PDU as servers exchange it.
            out = [dict(e.pdu) for e in events]
        else:
            out = await self._rooms.serialize(events, viewer, include_room_id=False)
        if f.event_fields is not None:
            out = [project_fields(e, f.event_fields) for e in out]
        return out
