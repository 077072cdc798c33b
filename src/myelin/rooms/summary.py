"""What a room looks like from outside: the facts behind a published room directory
entry, a room summary and a space hierarchy entry, and who may see them.

Spec (v1.19): definitions/public_rooms_chunk.yaml (PublishedRoomsChunk),
definitions/room_summary.yaml (RoomSummary), room_summary.yaml
(``GET /_matrix/client/v1/room_summary/{roomIdOrAlias}``) and the list of rooms a
user may be shown in space_hierarchy.yaml (``rooms``), which this module applies to
summaries as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from myelin.protocol.auth.content import JoinRulesContent
from myelin.protocol.errors import NotFound
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS
from myelin.protocol.visibility import normalise_visibility
from myelin.rooms.engine import RoomEngine, StoredEvent
from myelin.storage.database import Database
from myelin.storage.repos import directory as repo
from myelin.storage.repos import rooms as rooms_repo

#: The state (all with the empty state key) a summary is made of.
SUMMARY_STATE_TYPES = (
    "m.room.create", "m.room.name", "m.room.topic", "m.room.canonical_alias",
    "m.room.avatar", "m.room.join_rules", "m.room.history_visibility",
    "m.room.guest_access", "m.room.encryption",
)


def _plain_topic(content: dict[str, Any]) -> str | None:
    """The plain-text topic: ``topic`` (§m.room.topic: "The topic in plain text", which
    duplicates the ``text/plain`` representation in ``m.topic``); absent, null or empty
    means the room has no topic, whatever ``m.topic`` holds."""
    topic = content.get("topic")
    return topic if isinstance(topic, str) and topic else None


def _str(content: dict[str, Any], key: str) -> str | None:
    value = content.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class RoomFacts:
    """One room's public face, read from its current state."""

    room_id: str
    room_version: str
    num_joined_members: int
    room_type: str | None = None
    name: str | None = None
    topic: str | None = None
    canonical_alias: str | None = None
    alt_aliases: tuple[str, ...] = ()
    avatar_url: str | None = None
    join_rule: str | None = None
    world_readable: bool = False
    guest_can_join: bool = False
    encryption: str | None = None
    allowed_room_ids: tuple[str, ...] = ()

    @classmethod
    def from_state(cls, room_id: str, joined: int,
                   state: dict[str, StoredEvent]) -> RoomFacts:
        """Build from the summary state events, keyed by type."""

        def content(event_type: str) -> dict[str, Any]:
            event = state.get(event_type)
            return event.content if event is not None else {}

        create = content("m.room.create")
        alias_content = content("m.room.canonical_alias")
        alt = alias_content.get("alt_aliases")
        join_rules = JoinRulesContent(content("m.room.join_rules"))
        join_rule = join_rules.join_rule if "m.room.join_rules" in state else None
        allowed: tuple[str, ...] = ()
        if join_rule in ("restricted", "knock_restricted"):
            allowed = tuple(join_rules.allowed_room_ids)
        history = content("m.room.history_visibility").get("history_visibility")
        return cls(
            room_id=room_id,
            room_version=_str(create, "room_version") or "1",
            num_joined_members=joined,
            room_type=_str(create, "type"),
            name=_str(content("m.room.name"), "name"),
            topic=_plain_topic(content("m.room.topic")),
            canonical_alias=_str(alias_content, "alias"),
            alt_aliases=tuple(a for a in alt if isinstance(a, str)) if isinstance(alt, list)
            else (),
            avatar_url=_str(content("m.room.avatar"), "url"),
            join_rule=join_rule,
            world_readable=normalise_visibility(history) == "world_readable",
            guest_can_join=content("m.room.guest_access").get("guest_access") == "can_join",
            encryption=_str(content("m.room.encryption"), "algorithm"),
            allowed_room_ids=allowed,
        )

    def chunk(self) -> dict[str, Any]:
        """A PublishedRoomsChunk (public_rooms_chunk.yaml): optional fields omitted."""
        out: dict[str, Any] = {
            "room_id": self.room_id,
            "num_joined_members": self.num_joined_members,
            "world_readable": self.world_readable,
            "guest_can_join": self.guest_can_join,
        }
        for key in ("name", "topic", "canonical_alias", "avatar_url", "join_rule",
                    "room_type"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def summary(self) -> dict[str, Any]:
        """A RoomSummary (room_summary.yaml): the chunk plus version, encryption and, for
        restricted rooms, the rooms whose members may join."""
        out = self.chunk()
        out["room_version"] = self.room_version
        if self.encryption is not None:
            out["encryption"] = self.encryption
        if self.allowed_room_ids:
            out["allowed_room_ids"] = list(self.allowed_room_ids)
        return out

    def matches(self, term: str) -> bool:
        """``generic_search_term`` (list_public_rooms.yaml): a case-insensitive substring
        of the name, topic, canonical alias or alternative aliases."""
        needle = term.casefold()
        haystack = [self.name, self.topic, self.canonical_alias, *self.alt_aliases]
        return any(needle in value.casefold() for value in haystack if value)


class RoomSummaries:
    """Loads :class:`RoomFacts` and decides who may see a room from outside."""

    def __init__(self, *, db: Database, engine: RoomEngine) -> None:
        self._db = db
        self._engine = engine

    async def facts(self, room_ids: Sequence[str],
                    joined: dict[str, int] | None = None) -> dict[str, RoomFacts]:
        """Facts of the known rooms among ``room_ids`` (unknown ones are absent);
        ``joined`` holds member counts the caller already has."""
        if not room_ids:
            return {}
        async with self._db.read() as conn:
            state_ids = await repo.state_ids_of_types(conn, room_ids, SUMMARY_STATE_TYPES)
            missing = [r for r in room_ids if joined is None or r not in joined]
            counts = dict(joined or {})
            if missing:
                found = await repo.joined_counts(conn, missing)
                counts.update({r: found.get(r, 0) for r in missing})
        events = await self._engine.get_events(
            [eid for ids in state_ids.values() for (_, key), eid in ids.items() if key == ""])
        out: dict[str, RoomFacts] = {}
        for room_id in room_ids:
            ids = state_ids.get(room_id)
            if not ids or ("m.room.create", "") not in ids:
                continue  # not a room this server knows
            state = {t: events[eid] for (t, key), eid in ids.items()
                     if key == "" and eid in events}
            out[room_id] = RoomFacts.from_state(room_id, counts.get(room_id, 0), state)
        return out

    async def facts_of(self, room_id: str) -> RoomFacts | None:
        return (await self.facts([room_id])).get(room_id)

    async def membership(self, user_id: str, room_id: str) -> str | None:
        async with self._db.read() as conn:
            found = await rooms_repo.membership_of(conn, user_id, room_id)
        return None if found is None else found[0]

    async def may_preview(self, user_id: str | None, facts: RoomFacts,
                          membership: str | None) -> bool:
        """Whether a user (None: unauthenticated) may be shown the room.

        The conditions of space_hierarchy.yaml (``rooms``): the user is joined or
        invited; the join rule is ``public``; it is ``restricted`` (or
        ``knock_restricted``) and the user is joined to one of the allowed rooms; the
        room is knockable (``knock``/``knock_restricted`` in a version that has them);
        or its history is ``world_readable``. Unauthenticated requests (room_summary.yaml)
        only get rooms with a public or knock join rule or world-readable history.
        """
        if facts.world_readable or facts.join_rule == "public":
            return True
        version = KNOWN_ROOM_VERSIONS.get(facts.room_version)
        rules = version.authorization if version is not None else None
        if rules is not None and (
                (facts.join_rule == "knock" and rules.knock_join_rule) or
                (facts.join_rule == "knock_restricted" and rules.knock_restricted_join_rule)):
            return True
        if user_id is None:
            return False
        if membership in ("join", "invite"):
            return True
        restricted = (facts.join_rule == "restricted" and rules is not None and
                      rules.restricted_join_rule)
        if restricted and facts.allowed_room_ids:
            async with self._db.read() as conn:
                for allowed in facts.allowed_room_ids:
                    found = await rooms_repo.membership_of(conn, user_id, allowed)
                    if found is not None and found[0] == "join":
                        return True
        return False

    async def summary(self, user_id: str | None, room_id: str) -> dict[str, Any]:
        """GET /_matrix/client/v1/room_summary/{roomIdOrAlias} (room_summary.yaml), once the
        alias is resolved: 404 for unknown rooms and for rooms the user may not see.

        ``membership`` is present for every authenticated request (``leave`` when the
        user never had one) and absent otherwise."""
        facts = await self.facts_of(room_id)
        if facts is None:
            raise NotFound("Room not found")
        membership = None if user_id is None else await self.membership(user_id, room_id)
        if not await self.may_preview(user_id, facts, membership):
            raise NotFound("Room not found")
        out = facts.summary()
        if user_id is not None:
            out["membership"] = membership or "leave"
        return out
