"""Room operations for the client API: creation, membership, sending, state, history.

Authorization of writes is the room version's auth rules (in the engine); reads are
checked here against membership and history visibility.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import msgspec

from myelin.clock import Clock
from myelin.protocol.errors import (
    Forbidden,
    InvalidParam,
    NotFound,
    ProtocolError,
    UserSuspended,
)
from myelin.protocol.identifiers import RoomAlias, is_valid_room_alias, is_valid_user_id
from myelin.protocol.sync.filters import RoomEventFilter
from myelin.protocol.visibility import normalise_visibility
from myelin.rooms.aggregations import BundledAggregations
from myelin.rooms.create import CreateRoomRequest, create_room
from myelin.rooms.engine import Draft, RoomEngine, StoredEvent, TxnKey
from myelin.rooms.permissions import current_power_levels
from myelin.rooms.serialize import to_client_events
from myelin.rooms.visibility import filter_visible
from myelin.storage.database import Database
from myelin.storage.errors import Conflict
from myelin.storage.repos import rooms as repo

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^t(\d+)_(\d+)$")
_decode = msgspec.json.Decoder().decode


class RoomInUse(ProtocolError):
    errcode = "M_ROOM_IN_USE"
    status_hint = 400


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: str
    device_id: str | None = None
    suspended: bool = False
    is_guest: bool = False


def make_token(depth: int, stream: int) -> str:
    return f"t{depth}_{stream}"


def parse_token(token: str) -> tuple[int, int]:
    m = _TOKEN.match(token)
    if m is None:
        raise InvalidParam(f"Invalid pagination token {token!r}")
    return int(m.group(1)), int(m.group(2))


class RoomService:
    def __init__(self, *, db: Database, clock: Clock, engine: RoomEngine,
                 default_room_version: str,
                 aggregations: BundledAggregations | None = None) -> None:
        self._db = db
        self._clock = clock
        self.engine = engine
        # Bundled aggregations on every served event, and the checks on new relations.
        self._aggregations = aggregations
        self._default_version = default_room_version
        self.server_name = engine.server_name
        self._joined: dict[str, tuple[str, ...]] = {}
        engine.add_listener(self._forget_memberships)

    # --- helpers -----------------------------------------------------------------------------

    async def _require_room(self, room_id: str) -> None:
        if await self.engine.room_version(room_id) is None:
            raise NotFound("Unknown room")

    async def _membership(self, user_id: str, room_id: str) -> tuple[str, str] | None:
        async with self._db.read() as conn:
            return await repo.membership_of(conn, user_id, room_id)

    async def _world_readable(self, room_id: str) -> bool:
        event = await self.engine.current_state_event(room_id, "m.room.history_visibility")
        return event is not None and normalise_visibility(
            event.content.get("history_visibility")) == "world_readable"

    async def _state_position(self, viewer: Viewer, room_id: str) -> int | None:
        """The stream position whose state the viewer may read: None for the current state
        (joined, or a world-readable room), or the position at which they left. Raises 403
        for users who may not see the room."""
        await self._require_room(room_id)
        member = await self._membership(viewer.user_id, room_id)
        if member is not None and member[0] == "join":
            return None
        if await self._world_readable(room_id):
            return None
        if member is not None and member[0] in ("leave", "ban"):
            event = await self.engine.get_event(member[1])
            if event is not None:
                return event.stream
        raise Forbidden("You are not a member of this room")

    async def _room_of_alias(self, alias: str) -> str:
        if not is_valid_room_alias(alias):
            raise InvalidParam("Invalid room alias")
        async with self._db.read() as conn:
            found = await repo.get_alias(conn, alias)
        if found is None:
            raise NotFound("Room alias not found")
        return found[0]

    async def resolve_room(self, room_id_or_alias: str) -> str:
        if room_id_or_alias.startswith("#"):
            return await self._room_of_alias(room_id_or_alias)
        if not room_id_or_alias.startswith("!"):
            raise InvalidParam("Expected a room ID or alias")
        return room_id_or_alias

    async def serialize(self, events: list[StoredEvent], viewer: Viewer | None,
                        **kwargs: Any) -> list[dict[str, Any]]:
        return await to_client_events(
            self.engine, events, now=self._clock.time_msec(),
            user_id=viewer.user_id if viewer else None,
            device_id=viewer.device_id if viewer else None,
            aggregations=self._aggregations, **kwargs)

    # --- creation ----------------------------------------------------------------------------

    async def create(self, viewer: Viewer, req: CreateRoomRequest) -> str:
        """POST /createRoom"""
        if viewer.suspended:
            raise UserSuspended("You cannot create rooms while suspended.")
        alias = f"#{req.room_alias_name}:{self.server_name}" if req.room_alias_name else None
        if alias is not None:
            async with self._db.read() as conn:
                if await repo.get_alias(conn, alias) is not None:
                    raise RoomInUse("Room alias already taken")
        room_id, alias = await create_room(self.engine, req,
                                           default_version=self._default_version)
        async with self._db.transaction() as txn:
            if alias is not None:
                try:
                    await repo.add_alias(txn, alias, room_id, viewer.user_id,
                                         now=self._clock.time_msec())
                except Conflict:
                    log.warning("alias %s was taken while %s was created", alias, room_id)
            if req.visibility == "public":
                await repo.set_public(txn, room_id, True)
        return room_id

    # --- membership --------------------------------------------------------------------------

    async def _member_event(self, room_id: str, sender: str, target: str, membership: str,
                            reason: str | None, extra: dict[str, Any] | None = None) -> None:
        await self._require_room(room_id)
        content: dict[str, Any] = {"membership": membership}
        if membership == "join" or membership == "invite" or membership == "knock":
            profile = await self._profile_of(target) if membership != "invite" else \
                await self._profile_of(target)
            content.update({k: v for k, v in profile.items() if v is not None})
        if reason is not None:
            content["reason"] = reason
        if extra:
            content.update(extra)
        await self.engine.send(room_id, Draft(sender, "m.room.member", content, target))

    async def _profile_of(self, user_id: str) -> dict[str, Any]:
        from myelin.storage.repos import accounts

        async with self._db.read() as conn:
            profile = await accounts.get_profile(conn, user_id)
        if profile is None:
            return {}
        return {"displayname": profile[0], "avatar_url": profile[1]}

    async def join(self, viewer: Viewer, room_id_or_alias: str, reason: str | None) -> str:
        if viewer.suspended:
            raise UserSuspended("You cannot join rooms while suspended.")
        room_id = await self.resolve_room(room_id_or_alias)
        await self._require_room(room_id)
        member = await self._membership(viewer.user_id, room_id)
        if member is not None and member[0] == "join":
            return room_id  # already joined: nothing to do (Synapse does the same)
        if viewer.is_guest:
            # modules/guest_access.md: guests may join only rooms with guest_access can_join.
            guest = await self.engine.current_state_event(room_id, "m.room.guest_access")
            if guest is None or guest.content.get("guest_access") != "can_join":
                raise ProtocolError("Guests cannot join this room",
                                    errcode="M_GUEST_ACCESS_FORBIDDEN", status_hint=403)
        extra = None
        if member is None or member[0] != "invite":
            authoriser = await self._restricted_join_authoriser(viewer.user_id, room_id)
            if authoriser is not None:
                extra = {"join_authorised_via_users_server": authoriser}
        await self._member_event(room_id, viewer.user_id, viewer.user_id, "join", reason, extra)
        return room_id

    async def _restricted_join_authoriser(self, user_id: str, room_id: str) -> str | None:
        """Restricted rooms (v8+, §Restricted rooms): when the user is joined to a room the
        join rules allow, a local member with the power to invite vouches for the join
        (``join_authorised_via_users_server``). Returns None when the rule does not apply or
        no condition holds (the auth rules then refuse the join)."""
        version = await self.engine.room_version(room_id)
        rules = await self.engine.current_state_event(room_id, "m.room.join_rules")
        if version is None or rules is None or not version.authorization.restricted_join_rule:
            return None
        join_rule = rules.content.get("join_rule")
        if join_rule not in ("restricted", "knock_restricted") or (
                join_rule == "knock_restricted"
                and not version.authorization.knock_restricted_join_rule):
            return None
        allow = rules.content.get("allow")
        allowed_rooms = [a.get("room_id") for a in allow if isinstance(a, dict)
                         and a.get("type") == "m.room_membership"
                         and isinstance(a.get("room_id"), str)] if isinstance(allow, list) else []
        async with self._db.read() as conn:
            satisfied = False
            for allowed in allowed_rooms:
                found = await repo.membership_of(conn, user_id, allowed)
                if found is not None and found[0] == "join":
                    satisfied = True
                    break
            if not satisfied:
                return None
            member_ids = await repo.member_event_ids(conn, room_id, ("join",))
        levels = await current_power_levels(self.engine, room_id)
        assert levels is not None
        members = await self.engine.get_events(member_ids)
        candidates = [e.state_key for e in members.values() if e.state_key
                      and e.state_key.endswith(f":{self.server_name}")
                      and levels.user_level(e.state_key) >= levels.invite_level]
        if not candidates:
            return None
        return max(candidates, key=lambda u: (levels.user_level(u), u))

    async def invite(self, viewer: Viewer, room_id: str, target: str, reason: str | None) -> None:
        if viewer.suspended:
            raise UserSuspended("You cannot invite while suspended.")
        if not is_valid_user_id(target):
            raise InvalidParam("Invalid user ID")
        member = await self._membership(target, room_id)
        if member is not None and member[0] == "invite":
            return  # 200 even if already invited (inviting.yaml)
        await self._member_event(room_id, viewer.user_id, target, "invite", reason)

    async def leave(self, viewer: Viewer, room_id: str, reason: str | None) -> None:
        await self._require_room(room_id)
        member = await self._membership(viewer.user_id, room_id)
        if member is None or member[0] in ("leave", "ban"):
            if member is None:
                raise Forbidden("You are not a member of this room")
            return
        await self._member_event(room_id, viewer.user_id, viewer.user_id, "leave", reason)

    async def forget(self, viewer: Viewer, room_id: str) -> None:
        member = await self._membership(viewer.user_id, room_id)
        if member is None:
            raise NotFound("You were never in this room")
        if member[0] in ("join", "invite", "knock"):
            raise ProtocolError("You must leave the room before forgetting it",
                                errcode="M_UNKNOWN", status_hint=400)
        async with self._db.transaction() as txn:
            await repo.set_forgotten(txn, viewer.user_id, room_id)

    async def kick(self, viewer: Viewer, room_id: str, target: str, reason: str | None) -> None:
        member = await self._membership(target, room_id)
        if member is None or member[0] not in ("join", "invite", "knock"):
            raise Forbidden("The user is not in the room")
        await self._member_event(room_id, viewer.user_id, target, "leave", reason)

    async def ban(self, viewer: Viewer, room_id: str, target: str, reason: str | None) -> None:
        if not is_valid_user_id(target):
            raise InvalidParam("Invalid user ID")
        await self._member_event(room_id, viewer.user_id, target, "ban", reason)

    async def unban(self, viewer: Viewer, room_id: str, target: str, reason: str | None) -> None:
        member = await self._membership(target, room_id)
        if member is None or member[0] != "ban":
            raise Forbidden("The user is not banned")
        await self._member_event(room_id, viewer.user_id, target, "leave", reason)

    async def knock(self, viewer: Viewer, room_id_or_alias: str, reason: str | None) -> str:
        if viewer.suspended:
            raise UserSuspended("You cannot knock while suspended.")
        room_id = await self.resolve_room(room_id_or_alias)
        await self._member_event(room_id, viewer.user_id, viewer.user_id, "knock", reason)
        return room_id

    async def joined_rooms(self, user_id: str) -> list[str]:
        """The user's joined rooms, cached in memory and dropped whenever a membership event
        about the user is persisted (every such event goes through the engine)."""
        cached = self._joined.get(user_id)
        if cached is not None:
            return list(cached)
        async with self._db.read() as conn:
            rooms = await repo.rooms_of_user(conn, user_id, "join")
        self._joined[user_id] = tuple(rooms)
        if len(self._joined) > 100_000:
            self._joined.pop(next(iter(self._joined)))
        return rooms

    def _forget_memberships(self, events: list[StoredEvent]) -> None:
        for event in events:
            if event.type == "m.room.member" and event.state_key:
                self._joined.pop(event.state_key, None)

    # --- sending -----------------------------------------------------------------------------

    async def cached_txn(self, key: TxnKey) -> dict[str, Any] | None:
        async with self._db.read() as conn:
            found = await repo.get_txn_response(conn, key.user_id, key.device_id, key.scope,
                                                key.txn_id)
        return None if found is None else _decode(found[1])

    async def remember_txn(self, key: TxnKey, body: dict[str, Any]) -> None:
        """Store the answer of an idempotent request that made no room event."""
        async with self._db.transaction() as txn:
            await repo.put_txn_response(txn, key.user_id, key.device_id, key.scope, key.txn_id,
                                        200, msgspec.json.encode(body).decode(),
                                        now=self._clock.time_msec())

    async def send(self, viewer: Viewer, room_id: str, event_type: str,
                   content: dict[str, Any], txn: TxnKey | None) -> str:
        """PUT /rooms/{roomId}/send/{eventType}/{txnId}"""
        await self._require_room(room_id)
        redacts = None
        if event_type == "m.room.redaction":
            # S-5: redactions through /send are accepted in every room version.
            target = content.get("redacts")
            if not isinstance(target, str):
                raise ProtocolError("m.room.redaction needs content.redacts",
                                    errcode="M_BAD_JSON")
            await self._check_may_redact(viewer, room_id, target)
            version = await self.engine.room_version(room_id)
            assert version is not None
            redacts = target
            if not version.event_format.redacts_in_content:
                content = {k: v for k, v in content.items() if k != "redacts"}
        elif viewer.suspended:
            raise UserSuspended("You cannot send messages while suspended.")
        if self._aggregations is not None:
            await self._aggregations.check_new_relation(room_id, viewer.user_id, event_type,
                                                        content)
        event = await self.engine.send(room_id, Draft(viewer.user_id, event_type, content, None,
                                                      redacts=redacts, txn=txn))
        return event.event_id

    async def _check_may_redact(self, viewer: Viewer, room_id: str, target_id: str) -> None:
        """Servers apply a redaction only if its sender has the redact power level or sent
        the original event (rooms v3+ §Redactions)."""
        target = await self.engine.get_event(target_id)
        if target is None or target.room_id != room_id:
            return  # redacting an unknown event is allowed; it simply has no effect
        if target.sender == viewer.user_id:
            return
        if viewer.suspended:
            raise UserSuspended("You cannot redact others' events while suspended.")
        levels = await current_power_levels(self.engine, room_id)
        if levels is None or levels.user_level(viewer.user_id) < levels.redact_level:
            raise Forbidden("You may not redact other users' events")

    async def redact(self, viewer: Viewer, room_id: str, event_id: str, reason: str | None,
                     txn: TxnKey | None) -> str:
        """PUT /rooms/{roomId}/redact/{eventId}/{txnId}"""
        await self._require_room(room_id)
        await self._check_may_redact(viewer, room_id, event_id)
        content: dict[str, Any] = {}
        if reason is not None:
            content["reason"] = reason
        event = await self.engine.send(room_id, Draft(viewer.user_id, "m.room.redaction",
                                                      content, None, redacts=event_id, txn=txn))
        return event.event_id

    async def send_state(self, viewer: Viewer, room_id: str, event_type: str, state_key: str,
                         content: dict[str, Any]) -> str:
        """PUT /rooms/{roomId}/state/{eventType}/{stateKey}"""
        await self._require_room(room_id)
        if event_type == "m.room.member":
            membership = content.get("membership")
            if viewer.suspended and membership in ("join", "invite", "knock"):
                raise UserSuspended("You cannot do this while suspended.")
        elif viewer.suspended:
            raise UserSuspended("You cannot change room state while suspended.")
        if event_type == "m.room.canonical_alias":
            await self._check_canonical_alias(room_id, content)
        event = await self.engine.send(room_id, Draft(viewer.user_id, event_type, content,
                                                      state_key))
        return event.event_id

    async def _check_canonical_alias(self, room_id: str, content: dict[str, Any]) -> None:
        """S-6: the aliases must be valid and, if local, point to this room (M_BAD_ALIAS)."""
        aliases = []
        if content.get("alias") is not None:
            aliases.append(content["alias"])
        alt = content.get("alt_aliases", [])
        if not isinstance(alt, list):
            raise InvalidParam("alt_aliases must be a list")
        aliases += alt
        for alias in aliases:
            if not isinstance(alias, str) or not is_valid_room_alias(alias):
                raise InvalidParam(f"Invalid alias {alias!r}")
            if RoomAlias.parse(alias).server_name == self.server_name:
                async with self._db.read() as conn:
                    found = await repo.get_alias(conn, alias)
                if found is None or found[0] != room_id:
                    raise ProtocolError(f"Alias {alias} does not point to this room",
                                        errcode="M_BAD_ALIAS", status_hint=400)

    # --- reading -----------------------------------------------------------------------------

    async def get_event(self, viewer: Viewer, room_id: str, event_id: str) -> dict[str, Any]:
        """GET /rooms/{roomId}/event/{eventId}: 404 if missing or not visible."""
        event = await self.engine.get_event(event_id)
        if event is None or event.room_id != room_id:
            raise NotFound("Event not found")
        visible = await filter_visible(self._db, self.engine, viewer.user_id, room_id, [event])
        if not visible:
            raise NotFound("Event not found")
        return (await self.serialize(visible, viewer))[0]

    async def state(self, viewer: Viewer, room_id: str) -> list[dict[str, Any]]:
        position = await self._state_position(viewer, room_id)
        if position is None:
            ids = await self.engine.current_state(room_id)
        else:
            async with self._db.read() as conn:
                ids = await repo.state_ids_at(conn, room_id, position)
        events = await self.engine.get_events(ids.values())
        ordered = sorted(events.values(), key=lambda e: e.stream)
        return await self.serialize(ordered, viewer)

    async def state_event(self, viewer: Viewer, room_id: str, event_type: str,
                          state_key: str) -> StoredEvent:
        position = await self._state_position(viewer, room_id)
        if position is None:
            event = await self.engine.current_state_event(room_id, event_type, state_key)
        else:
            async with self._db.read() as conn:
                event_id = await repo.state_id_at(conn, room_id, event_type, state_key, position)
            event = None if event_id is None else await self.engine.get_event(event_id)
        if event is None:
            raise NotFound("State event not found")
        return event

    async def members(self, viewer: Viewer, room_id: str, *, membership: str | None = None,
                      not_membership: str | None = None,
                      at: str | None = None) -> list[dict[str, Any]]:
        position = await self._state_position(viewer, room_id)
        if at is not None:
            _, at_stream = parse_token(at)
            position = at_stream if position is None else min(position, at_stream)
        if position is None:
            state = await self.engine.current_state(room_id)
        else:
            async with self._db.read() as conn:
                state = await repo.state_ids_at(conn, room_id, position)
        ids = [eid for (t, _), eid in state.items() if t == "m.room.member"]
        events = await self.engine.get_events(ids)
        chosen = []
        for event in sorted(events.values(), key=lambda e: e.state_key or ""):
            m = event.content.get("membership")
            if membership is not None and m != membership:
                continue
            if not_membership is not None and m == not_membership:
                continue
            chosen.append(event)
        return await self.serialize(chosen, viewer)

    async def joined_members(self, viewer: Viewer, room_id: str) -> dict[str, Any]:
        position = await self._state_position(viewer, room_id)
        if position is not None:
            raise Forbidden("You are not a member of this room")
        async with self._db.read() as conn:
            ids = await repo.member_event_ids(conn, room_id, ("join",))
        events = await self.engine.get_events(ids)
        joined: dict[str, Any] = {}
        for event in events.values():
            entry: dict[str, Any] = {}
            for key in ("displayname", "avatar_url"):
                value = event.content.get(key)
                if isinstance(value, str):
                    entry["display_name" if key == "displayname" else key] = value
            joined[event.state_key or ""] = entry
        return {"joined": joined}

    async def messages(self, viewer: Viewer, room_id: str, *, from_token: str | None,
                       direction: str, limit: int, to_token: str | None,
                       event_filter: RoomEventFilter | None = None) -> dict[str, Any]:
        """GET /rooms/{roomId}/messages (S-4): ``end`` is omitted when there is no more.
        A RoomEventFilter narrows the chunk (types, senders, contains_url) and, with
        lazy_load_members, adds the senders' memberships in ``state``."""
        await self._require_room(room_id)
        member = await self._membership(viewer.user_id, room_id)
        if member is None and not await self._world_readable(room_id):
            raise Forbidden("You are not a member of this room")
        backwards = direction == "b"
        async with self._db.read() as conn:
            room = await repo.get_room(conn, room_id)
            assert room is not None
            if from_token is not None:
                depth, stream = await self._position(conn, room_id, from_token)
            elif backwards:
                depth, stream = room.head_depth + 1, 0
            else:
                depth, stream = 0, 0
            bound = None if to_token is None else await self._position(conn, room_id, to_token)
            chosen: list[StoredEvent] = []
            last_scanned: tuple[int, int] | None = None
            more = True
            cursor = (depth, stream)
            batch_size = limit + 1 if event_filter is None else max(limit + 1, 100)
            for _ in range(10):
                fetch = repo.room_events_before if backwards else repo.room_events_after
                rows = await fetch(conn, room_id, cursor[0], cursor[1], batch_size)
                if not rows:
                    more = False
                    break
                for event in self.engine.events_from_rows(rows):
                    position = (event.depth, event.stream)
                    if bound is not None and (position <= bound if backwards
                                              else position > bound):
                        more = False
                        break
                    if len(chosen) == limit:
                        break
                    last_scanned = position
                    if event_filter is None or event_filter.allows(
                            event.type, event.sender, room_id, event.content):
                        chosen.append(event)
                else:
                    cursor = (rows[-1].depth, rows[-1].stream_ordering)
                    if len(rows) < batch_size:
                        more = False
                        break
                    if len(chosen) < limit:
                        continue
                break
        visible = await filter_visible(self._db, self.engine, viewer.user_id, room_id, chosen)
        body: dict[str, Any] = {
            "start": from_token or make_token(depth, stream),
            "chunk": await self.serialize(visible, viewer),
        }
        if more and last_scanned is not None:
            body["end"] = make_token(*last_scanned)
        if event_filter is not None and event_filter.lazy_load_members and visible:
            newest = max(e.stream for e in visible)
            async with self._db.read() as conn:
                ids = [await repo.state_id_at(conn, room_id, "m.room.member", sender, newest)
                       for sender in sorted({e.sender for e in visible})]
            members = await self.engine.get_events([i for i in ids if i])
            body["state"] = await self.serialize(list(members.values()), viewer)
        return body

    async def _position(self, conn: Any, room_id: str, token: str) -> tuple[int, int]:
        """A /messages token: ours (t<depth>_<stream>), or a /sync ``next_batch`` (s<stream>_...),
        which means "just after the room's last event at that stream position"."""
        if token.startswith("s"):
            from myelin.protocol.sync.tokens import SyncToken

            position = SyncToken.parse(token).events
            row = await conn.fetchrow(
                "SELECT depth, stream_ordering FROM events WHERE room_id = $1 AND "
                "stream_ordering <= $2 ORDER BY stream_ordering DESC LIMIT 1", room_id, position)
            return (0, 0) if row is None else (row[0], row[1] + 1)
        return parse_token(token)

    # --- aliases -----------------------------------------------------------------------------

    async def put_alias(self, viewer: Viewer, alias: str, room_id: str) -> None:
        if not is_valid_room_alias(alias):
            raise InvalidParam("Invalid room alias")
        if RoomAlias.parse(alias).server_name != self.server_name:
            raise InvalidParam("Aliases of other servers cannot be created here")
        await self._require_room(room_id)
        try:
            async with self._db.transaction() as txn:
                await repo.add_alias(txn, alias, room_id, viewer.user_id,
                                     now=self._clock.time_msec())
        except Conflict:
            raise ProtocolError("Room alias already exists", errcode="M_UNKNOWN",
                                status_hint=409) from None

    async def get_alias(self, alias: str) -> dict[str, Any]:
        return {"room_id": await self._room_of_alias(alias), "servers": [self.server_name]}

    async def delete_alias(self, viewer: Viewer, alias: str, *, is_admin: bool) -> None:
        async with self._db.read() as conn:
            found = await repo.get_alias(conn, alias)
        if found is None:
            raise NotFound("Room alias not found")
        room_id, creator = found
        levels = await current_power_levels(self.engine, room_id)
        if creator != viewer.user_id and not is_admin and (
                levels is None or levels.user_level(viewer.user_id) < levels.content.state_default):
            raise Forbidden("You may not remove this alias")
        async with self._db.transaction() as txn:
            await repo.delete_alias(txn, alias)

    async def room_aliases(self, viewer: Viewer, room_id: str) -> list[str]:
        await self._state_position(viewer, room_id)
        async with self._db.read() as conn:
            return await repo.aliases_of(conn, room_id)
