"""The filter language (Client-Server API §Filtering, filter.yaml, definitions/
event_filter.yaml, room_event_filter.yaml, sync_filter.yaml).

Pure: parse a filter document once into frozen objects, then apply them to events given
as client-format dicts (or their type/sender/room/content).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from myelin.protocol.errors import BadJson

DEFAULT_TIMELINE_LIMIT = 10


def _strs(raw: Any, path: str) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise BadJson(f"{path} must be a list of strings")
    return tuple(raw)


def _bool(raw: Any, path: str, default: bool) -> bool:
    if raw is None:
        return default
    if not isinstance(raw, bool):
        raise BadJson(f"{path} must be a boolean")
    return raw


def _int(raw: Any, path: str) -> int | None:
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise BadJson(f"{path} must be an integer")
    return raw


@lru_cache(maxsize=1024)
def _pattern(glob: str) -> re.Pattern[str]:
    # §Filtering: '*' matches any sequence of characters; nothing else is special.
    return re.compile(re.escape(glob).replace(r"\*", ".*") + r"\Z", re.DOTALL)


def _type_matches(patterns: Sequence[str], event_type: str) -> bool:
    for p in patterns:
        if "*" in p:
            if _pattern(p).match(event_type):
                return True
        elif p == event_type:
            return True
    return False


@dataclass(frozen=True, slots=True)
class EventFilter:
    """§EventFilter: limit, types/not_types (with '*' wildcards), senders/not_senders."""

    limit: int | None = None
    types: tuple[str, ...] | None = None
    not_types: tuple[str, ...] = ()
    senders: tuple[str, ...] | None = None
    not_senders: tuple[str, ...] = ()

    def allows(self, event_type: str, sender: str) -> bool:
        if self.not_types and _type_matches(self.not_types, event_type):
            return False
        if self.types is not None and not _type_matches(self.types, event_type):
            return False
        if sender in self.not_senders:
            return False
        return self.senders is None or sender in self.senders


@dataclass(frozen=True, slots=True)
class RoomEventFilter:
    """§RoomEventFilter: EventFilter plus rooms, contains_url and member lazy-loading."""

    events: EventFilter = field(default_factory=EventFilter)
    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    contains_url: bool | None = None
    lazy_load_members: bool = False
    include_redundant_members: bool = False
    unread_thread_notifications: bool = False

    @property
    def limit(self) -> int | None:
        return self.events.limit

    def allows_room(self, room_id: str) -> bool:
        if room_id in self.not_rooms:
            return False
        return self.rooms is None or room_id in self.rooms

    def allows(self, event_type: str, sender: str, room_id: str,
               content: Mapping[str, Any] | None = None) -> bool:
        if not self.allows_room(room_id) or not self.events.allows(event_type, sender):
            return False
        if self.contains_url is not None:
            has_url = isinstance(content, Mapping) and isinstance(content.get("url"), str)
            if has_url != self.contains_url:
                return False
        return True


@dataclass(frozen=True, slots=True)
class RoomFilter:
    rooms: tuple[str, ...] | None = None
    not_rooms: tuple[str, ...] = ()
    include_leave: bool = False
    timeline: RoomEventFilter = field(default_factory=RoomEventFilter)
    state: RoomEventFilter = field(default_factory=RoomEventFilter)
    ephemeral: RoomEventFilter = field(default_factory=RoomEventFilter)
    account_data: RoomEventFilter = field(default_factory=RoomEventFilter)

    def allows_room(self, room_id: str) -> bool:
        if room_id in self.not_rooms:
            return False
        return self.rooms is None or room_id in self.rooms


@dataclass(frozen=True, slots=True)
class Filter:
    """A whole sync filter (filter.yaml "Filter")."""

    event_fields: tuple[str, ...] | None = None
    event_format: str = "client"
    presence: EventFilter = field(default_factory=EventFilter)
    account_data: EventFilter = field(default_factory=EventFilter)
    room: RoomFilter = field(default_factory=RoomFilter)

    @property
    def timeline_limit(self) -> int:
        limit = self.room.timeline.limit
        return DEFAULT_TIMELINE_LIMIT if limit is None else max(0, limit)


def parse_event_filter(raw: Any, path: str) -> EventFilter:
    if raw is None:
        return EventFilter()
    if not isinstance(raw, Mapping):
        raise BadJson(f"{path} must be an object")
    return EventFilter(
        limit=_int(raw.get("limit"), f"{path}.limit"),
        types=_strs(raw.get("types"), f"{path}.types"),
        not_types=_strs(raw.get("not_types"), f"{path}.not_types") or (),
        senders=_strs(raw.get("senders"), f"{path}.senders"),
        not_senders=_strs(raw.get("not_senders"), f"{path}.not_senders") or (),
    )


def parse_room_event_filter(raw: Any, path: str) -> RoomEventFilter:
    if raw is None:
        return RoomEventFilter()
    if not isinstance(raw, Mapping):
        raise BadJson(f"{path} must be an object")
    contains_url = raw.get("contains_url")
    if contains_url is not None and not isinstance(contains_url, bool):
        raise BadJson(f"{path}.contains_url must be a boolean")
    return RoomEventFilter(
        events=parse_event_filter(raw, path),
        rooms=_strs(raw.get("rooms"), f"{path}.rooms"),
        not_rooms=_strs(raw.get("not_rooms"), f"{path}.not_rooms") or (),
        contains_url=contains_url,
        lazy_load_members=_bool(raw.get("lazy_load_members"), f"{path}.lazy_load_members",
                                False),
        include_redundant_members=_bool(raw.get("include_redundant_members"),
                                        f"{path}.include_redundant_members", False),
        unread_thread_notifications=_bool(raw.get("unread_thread_notifications"),
                                          f"{path}.unread_thread_notifications", False),
    )


def parse_filter(raw: Any) -> Filter:
    """Validate a filter document; raises BadJson naming the offending field."""
    if not isinstance(raw, Mapping):
        raise BadJson("A filter must be a JSON object")
    fmt = raw.get("event_format", "client")
    if fmt not in ("client", "federation"):
        raise BadJson("event_format must be 'client' or 'federation'")
    room_raw = raw.get("room")
    if room_raw is not None and not isinstance(room_raw, Mapping):
        raise BadJson("room must be an object")
    room_raw = room_raw or {}
    room = RoomFilter(
        rooms=_strs(room_raw.get("rooms"), "room.rooms"),
        not_rooms=_strs(room_raw.get("not_rooms"), "room.not_rooms") or (),
        include_leave=_bool(room_raw.get("include_leave"), "room.include_leave", False),
        timeline=parse_room_event_filter(room_raw.get("timeline"), "room.timeline"),
        state=parse_room_event_filter(room_raw.get("state"), "room.state"),
        ephemeral=parse_room_event_filter(room_raw.get("ephemeral"), "room.ephemeral"),
        account_data=parse_room_event_filter(room_raw.get("account_data"),
                                             "room.account_data"),
    )
    return Filter(
        event_fields=_strs(raw.get("event_fields"), "event_fields"),
        event_format=str(fmt),
        presence=parse_event_filter(raw.get("presence"), "presence"),
        account_data=parse_event_filter(raw.get("account_data"), "account_data"),
        room=room,
    )


def _split_field(path: str) -> list[str]:
    # §Filtering event_fields: '.' separates levels; '\.' is a literal dot.
    parts, current, escaped = [], "", False
    for ch in path:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ".":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def project_fields(event: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Keep only the listed (dotted) fields of a client event."""
    out: dict[str, Any] = {}
    for path in fields:
        keys = _split_field(path)
        src: Any = event
        for key in keys:
            if not isinstance(src, Mapping) or key not in src:
                src = None
                break
            src = src[key]
        if src is None:
            continue
        dst = out
        for key in keys[:-1]:
            dst = dst.setdefault(key, {})
        dst[keys[-1]] = src
    return out
