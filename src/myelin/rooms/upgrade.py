"""Room upgrades: POST /_matrix/client/v3/rooms/{roomId}/upgrade (modules/room_upgrades.md
§Server behaviour; room_upgrades.yaml).

The steps, in the module's order:

1. the user must be joined and able to send ``m.room.tombstone`` in the old room;
2. the replacement room is created with ``predecessor`` (the old room's ID and, though
   deprecated since v1.16, the ID of its last event before the upgrade: "SHOULD still be
   populated where possible"), the new ``room_version``, the old ``type`` and
   ``m.federate``, and (v12+) the requested ``additional_creators`` only: creators are
   never carried over by themselves;
3. the recommended state is replicated (server ACL, encryption, name, avatar, topic,
   guest access, history visibility, join rules, power levels), plus the canonical alias,
   the space links (``m.space.child``/``m.space.parent``) and the bans, all sent by the
   upgrading user, so nothing sensitive to its sender is copied. Power levels are
   normalised for the new version (integers only); in a v12+ room the creators are
   removed from ``users`` (rooms/v12.md rule 10.4), and going from v12+ to an older
   version gives the old creators the room's highest level. When the upgrading user
   needs more power to send the copied state than the copied power levels give, the
   room starts with their level raised and the copied power levels are sent last;
4. every local alias is moved to the new room, and the directory listing with them;
5. the tombstone is sent to the old room;
6. where the user may, the moved aliases leave the old room's canonical alias and the
   old room's ``events_default`` and ``invite`` rise to at least
   ``max(50, users_default + 1)``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from myelin.protocol.auth.content import (
    POWER_LEVEL_SCALAR_KEYS,
    PowerLevelParsing,
    PowerLevelsContent,
)
from myelin.protocol.auth.power_levels import room_creators
from myelin.protocol.errors import (
    Forbidden,
    InvalidParam,
    NotFound,
    UnsupportedRoomVersion,
    UserSuspended,
)
from myelin.protocol.identifiers import is_valid_user_id
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion
from myelin.rooms.create import default_power_levels
from myelin.rooms.engine import Draft, RoomEngine, StateKey, StoredEvent
from myelin.rooms.permissions import may_send_state
from myelin.storage.database import Database
from myelin.storage.repos import accounts as accounts_repo
from myelin.storage.repos import directory as repo
from myelin.storage.repos import rooms as rooms_repo

log = logging.getLogger(__name__)

#: Copied first, as they decide who may join and see the new room.
ACCESS_STATE = ("m.room.join_rules", "m.room.history_visibility", "m.room.guest_access")
#: The rest of the module's recommended list, plus the canonical alias.
DESCRIPTIVE_STATE = ("m.room.server_acl", "m.room.encryption", "m.room.name",
                     "m.room.avatar", "m.room.topic", "m.room.canonical_alias")
#: Copied under every state key.
KEYED_STATE = ("m.space.child", "m.space.parent")

TOMBSTONE_BODY = "This room has been replaced"

_TYPED_PL_KEYS = frozenset(POWER_LEVEL_SCALAR_KEYS) | {"users", "events", "notifications"}


@dataclass(frozen=True, slots=True)
class UpgradePlan:
    """The replacement room: its version, its ID (None when the version derives it from
    the create event) and its initial events."""

    version: RoomVersion
    room_id: str | None
    drafts: list[Draft]


def normalise_power_levels(version: RoomVersion, content: Mapping[str, Any]) -> dict[str, Any]:
    """Power levels content read the way ``version`` reads it, written with integers only
    (valid in every room version): unparseable values are dropped, so their defaults
    apply as they did in the old room."""
    reader = PowerLevelsContent(content, PowerLevelParsing.for_version(version))
    out: dict[str, Any] = {k: v for k, v in content.items() if k not in _TYPED_PL_KEYS}
    for key in POWER_LEVEL_SCALAR_KEYS:
        value = reader.scalar(key)
        if value is not None:
            out[key] = value
    for key, parsed in (("users", reader.users), ("events", reader.events),
                        ("notifications", reader.notifications)):
        if key in content:
            out[key] = dict(parsed)
    return out


def _highest_level(content: Mapping[str, Any]) -> int:
    """The highest level named anywhere in (normalised) power levels, at least 100."""
    values = [v for k, v in content.items() if k in POWER_LEVEL_SCALAR_KEYS]
    for key in ("users", "events", "notifications"):
        sub = content.get(key)
        if isinstance(sub, dict):
            values += list(sub.values())
    return max([100, *[v for v in values if isinstance(v, int)]])


def _new_room_id(version: RoomVersion, server_name: str) -> str | None:
    if version.event_format.room_id_from_create_event:
        return None
    return f"!{secrets.token_urlsafe(12).replace('-', 'a').replace('_', 'b')}:{server_name}"


def plan_upgrade(*, old_room_id: str, old_version: RoomVersion, new_version: RoomVersion,
                 upgrader: str, old_state: Mapping[StateKey, StoredEvent],
                 last_event_id: str | None, additional_creators: list[str],
                 member_content: dict[str, Any], server_name: str) -> UpgradePlan:
    """Lay out the replacement room's initial events (steps 2 and 3 of the module)."""
    old_create = old_state.get(("m.room.create", ""))
    old_create_content = old_create.content if old_create is not None else {}
    predecessor: dict[str, Any] = {"room_id": old_room_id}
    if last_event_id is not None:
        predecessor["event_id"] = last_event_id
    create: dict[str, Any] = {"room_version": new_version.identifier,
                              "predecessor": predecessor}
    if not new_version.authorization.implicit_room_creator:
        create["creator"] = upgrader
    for key in ("type", "m.federate"):
        if key in old_create_content:
            create[key] = old_create_content[key]
    extra: list[str] = []
    if new_version.authorization.additional_creators:
        extra = [u for u in dict.fromkeys(additional_creators) if u != upgrader]
        if extra:
            create["additional_creators"] = extra
    new_creators = {upgrader, *extra}

    old_pl = old_state.get(("m.room.power_levels", ""))
    if old_pl is not None:
        power = normalise_power_levels(old_version, old_pl.content)
    else:
        power = default_power_levels(new_version, upgrader, [])
    users: dict[str, int] = dict(power.get("users") or {})
    privileged = new_version.authorization.privileged_creators
    if privileged:
        users = {u: v for u, v in users.items() if u not in new_creators}
    elif old_version.authorization.privileged_creators and old_create is not None:
        top = _highest_level(power)
        for creator in room_creators(old_version, old_create.pdu):
            users[creator] = top
    power["users"] = users
    initial_power = power
    upgrader_level: int | None = None  # None: infinite (a v12+ creator)
    if not privileged:
        upgrader_level = users.get(upgrader, int(power.get("users_default", 0)))
        top = _highest_level(power)
        if upgrader_level < top:
            initial_power = {**power, "users": {**users, upgrader: top}}
            upgrader_level = top

    drafts = [
        Draft(upgrader, "m.room.create", create, ""),
        Draft(upgrader, "m.room.member", {**member_content, "membership": "join"}, upgrader),
        Draft(upgrader, "m.room.power_levels", initial_power, ""),
    ]
    for event_type in (*ACCESS_STATE, *DESCRIPTIVE_STATE):
        event = old_state.get((event_type, ""))
        if event is not None and event.content:
            drafts.append(Draft(upgrader, event_type, dict(event.content), ""))
    for (event_type, state_key), event in sorted(old_state.items()):
        if event_type in KEYED_STATE and event.content:
            drafts.append(Draft(upgrader, event_type, dict(event.content), state_key))
    users_default = int(power.get("users_default", 0))
    for (event_type, target), event in sorted(old_state.items()):
        if event_type != "m.room.member" or event.content.get("membership") != "ban":
            continue
        if target in new_creators:
            continue
        # The ban rule needs the target below the sender (rooms/v1.md rule 5.5.2).
        if upgrader_level is not None and \
                users.get(target, users_default) >= upgrader_level:
            continue
        content: dict[str, Any] = {"membership": "ban"}
        reason = event.content.get("reason")
        if isinstance(reason, str):
            content["reason"] = reason
        drafts.append(Draft(upgrader, "m.room.member", content, target))
    if initial_power is not power:
        drafts.append(Draft(upgrader, "m.room.power_levels", power, ""))
    return UpgradePlan(new_version, _new_room_id(new_version, server_name), drafts)


def restricted_power_levels(version: RoomVersion,
                            content: Mapping[str, Any]) -> dict[str, Any] | None:
    """Step 6: the old room's power levels with ``events_default`` and ``invite`` raised to
    ``max(50, users_default + 1)`` (never lowered); None when nothing changes."""
    reader = PowerLevelsContent(content, PowerLevelParsing.for_version(version))
    floor = max(50, reader.users_default + 1)
    out = dict(content)
    changed = False
    for key, current in (("events_default", reader.events_default),
                         ("invite", reader.invite)):
        if current < floor:
            out[key] = floor
            changed = True
    return out if changed else None


class RoomUpgrader:
    """POST /rooms/{roomId}/upgrade."""

    def __init__(self, *, db: Database, engine: RoomEngine) -> None:
        self._db = db
        self._engine = engine
        # Upgrades are rare: one at a time keeps two upgrades of a room from racing.
        self._lock = asyncio.Lock()

    async def upgrade(self, user_id: str, room_id: str, new_version: str,
                      additional_creators: list[str], *, suspended: bool = False) -> str:
        """POST /_matrix/client/v3/rooms/{roomId}/upgrade: returns the replacement room's
        ID. 400 M_UNSUPPORTED_ROOM_VERSION for unknown versions, 404 for unknown rooms,
        403 without the power to send ``m.room.tombstone``."""
        if suspended:
            raise UserSuspended("You cannot upgrade rooms while suspended.")
        version = KNOWN_ROOM_VERSIONS.get(new_version)
        if version is None:
            raise UnsupportedRoomVersion(f"Room version {new_version!r} is not supported")
        for user in additional_creators:
            if not is_valid_user_id(user):
                raise InvalidParam(f"Invalid user ID in additional_creators: {user!r}")
        old_version = await self._engine.room_version(room_id)
        if old_version is None:
            raise NotFound("Unknown room")
        async with self._lock:
            if not await may_send_state(self._engine, room_id, user_id, "m.room.tombstone"):
                raise Forbidden("You cannot upgrade this room")
            state_ids = await self._engine.current_state(room_id)
            async with self._db.read() as conn:
                room = await rooms_repo.get_room(conn, room_id)
                profile = await accounts_repo.get_profile(conn, user_id)
                bans = await rooms_repo.member_event_ids(conn, room_id, ("ban",))
            wanted = [eid for (t, _), eid in state_ids.items()
                      if t in ("m.room.create", "m.room.power_levels", *ACCESS_STATE,
                               *DESCRIPTIVE_STATE, *KEYED_STATE)]
            events = await self._engine.get_events([*wanted, *bans])
            old_state = {key: events[eid] for key, eid in state_ids.items() if eid in events}
            assert room is not None
            member_content: dict[str, Any] = {}
            if profile is not None:
                for key, value in zip(("displayname", "avatar_url"), profile, strict=True):
                    if value is not None:
                        member_content[key] = value
            plan = plan_upgrade(
                old_room_id=room_id, old_version=old_version, new_version=version,
                upgrader=user_id, old_state=old_state, last_event_id=room.head_event_id,
                additional_creators=additional_creators, member_content=member_content,
                server_name=self._engine.server_name)
            new_room_id, _ = await self._engine.create(plan.version, plan.room_id,
                                                       plan.drafts, creator=user_id)
            async with self._db.transaction() as txn:
                moved = await repo.move_aliases(txn, room_id, new_room_id)
                if room.is_public:
                    await rooms_repo.set_public(txn, new_room_id, True)
                    await rooms_repo.set_public(txn, room_id, False)
            await self._engine.send(room_id, Draft(user_id, "m.room.tombstone", {
                "body": TOMBSTONE_BODY, "replacement_room": new_room_id}, ""))
            await self._tidy_old_room(user_id, room_id, old_version, old_state, moved)
        return new_room_id

    async def _tidy_old_room(self, user_id: str, room_id: str, version: RoomVersion,
                             old_state: Mapping[StateKey, StoredEvent],
                             moved: list[str]) -> None:
        """Step 6 and the canonical alias, each only if the user's power allows it."""
        alias_event = old_state.get(("m.room.canonical_alias", ""))
        if alias_event is not None and moved:
            content = alias_event.content
            alias = content.get("alias")
            alt = content.get("alt_aliases")
            kept: dict[str, Any] = {}
            if isinstance(alias, str) and alias not in moved:
                kept["alias"] = alias
            if isinstance(alt, list) and [a for a in alt if a not in moved]:
                kept["alt_aliases"] = [a for a in alt if a not in moved]
            if kept != content:
                await self._try_send(room_id, Draft(user_id, "m.room.canonical_alias", kept, ""))
        pl = old_state.get(("m.room.power_levels", ""))
        # Without a power levels event a new one would also take the creator's default 100
        # away (§m.room.power_levels), so such a room is left as it is.
        restricted = None if pl is None else restricted_power_levels(version, pl.content)
        if restricted is not None:
            await self._try_send(room_id, Draft(user_id, "m.room.power_levels", restricted, ""))

    async def _try_send(self, room_id: str, draft: Draft) -> None:
        try:
            await self._engine.send(room_id, draft)
        except Forbidden as e:
            log.info("upgrade of %s: could not send %s: %s", room_id, draft.event_type,
                     e.message)
