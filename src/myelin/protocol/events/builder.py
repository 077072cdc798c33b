"""Building new events (PDUs) for a room version: the wire shape, hashes, signature and
event ID. Server-server §PDUs; rooms/vN.md §Event format; appendices §Signing JSON.

The caller supplies everything that needs state: prev events, auth events and depth.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from myelin.protocol.events.hashing import (
    add_hashes_and_signatures,
    compute_event_id,
    room_id_from_create_event,
)
from myelin.protocol.events.signing import SigningKey
from myelin.protocol.room_versions import EventIdFormat, RoomVersion


@dataclass(frozen=True, slots=True)
class EventRef:
    """A reference to an earlier event: its ID and, for v1-v2, its hashes."""

    event_id: str
    hashes: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class BuiltEvent:
    event_id: str
    room_id: str
    pdu: dict[str, Any]


def _refs(version: RoomVersion, refs: Sequence[EventRef]) -> list[Any]:
    # v1-v2 reference events as [event_id, {"sha256": ...}] pairs; v3+ by ID alone.
    if version.event_format.event_refs_with_hashes:
        return [[r.event_id, dict(r.hashes)] for r in refs]
    return [r.event_id for r in refs]


def build_event(
    version: RoomVersion,
    *,
    server_name: str,
    signing_key: SigningKey,
    room_id: str | None,
    sender: str,
    event_type: str,
    content: Mapping[str, Any],
    state_key: str | None,
    prev_events: Sequence[EventRef],
    auth_events: Sequence[EventRef],
    depth: int,
    origin_server_ts: int,
    opaque_event_id: str | None = None,
    redacts: str | None = None,
) -> BuiltEvent:
    """Build, hash and sign an event.

    Args:
        room_id: None only for the create event of a room version whose room ID is derived
            from the create event (v12).
        opaque_event_id: for v1-v2, the ``$local:server`` ID the caller chose.
        redacts: for m.room.redaction: placed at the top level (v1-v10) or in ``content``
            (v11+, ``redacts_in_content``).

    Raises:
        BadJson: if the content is not (strictly, for v6+) canonical JSON.
    """
    pdu: dict[str, Any] = {
        "type": event_type,
        "content": dict(content),
        "sender": sender,
        "origin_server_ts": origin_server_ts,
        "depth": depth,
        "prev_events": _refs(version, prev_events),
        "auth_events": _refs(version, auth_events),
    }
    if room_id is not None:
        pdu["room_id"] = room_id
    if state_key is not None:
        pdu["state_key"] = state_key
    if redacts is not None:
        if version.event_format.redacts_in_content:
            pdu["content"]["redacts"] = redacts
        else:
            pdu["redacts"] = redacts
    if version.event_format.event_id_format is EventIdFormat.OPAQUE:
        if opaque_event_id is None:
            raise ValueError("room versions 1-2 need an opaque event ID from the caller")
        pdu["event_id"] = opaque_event_id
        pdu["origin"] = server_name
    signed = add_hashes_and_signatures(pdu, version, server_name, signing_key)
    event_id = compute_event_id(signed, version)
    if room_id is None:
        room_id = room_id_from_create_event(signed, version)
    return BuiltEvent(event_id=event_id, room_id=room_id, pdu=signed)
