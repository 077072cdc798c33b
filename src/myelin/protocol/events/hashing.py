"""Content hashes, reference hashes, event IDs and v12 room IDs.

Spec references (Matrix v1.19): server-server §Adding hashes and signatures to
outgoing events, §Validating hashes and signatures on received events,
§Calculating the reference hash for an event, §Calculating the content hash for
an event; rooms/v3.md §Event IDs (standard Base64), fragment ``v4-event-ids``
(URL-safe Base64, v4+); appendices §Room IDs and rooms/v12.md §Event format (the
room ID is the create event's ID with sigil ``!``).

Hashes are computed over the lenient canonical encoding (see
:func:`~myelin.protocol.canonical_json.encode_canonical_json`): they must be
computable for any event we can parse, including v1-v5 events with
non-canonical numbers. Whether a v6+ event is acceptable at all is checked
separately (and, for events we mint, by :func:`add_hashes_and_signatures`).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping
from typing import Any

from myelin.protocol.canonical_json import (
    check_canonical_values,
    decode_base64,
    encode_base64,
    encode_base64_urlsafe,
    encode_canonical_json,
)
from myelin.protocol.errors import BadJson, InvalidIdentifier
from myelin.protocol.events.redaction import redact
from myelin.protocol.events.signing import SigningKey, sign_json
from myelin.protocol.identifiers import EventId
from myelin.protocol.room_versions import EventIdFormat, RoomVersion

__all__ = [
    "add_hashes_and_signatures",
    "check_content_hash",
    "compute_content_hash",
    "compute_event_id",
    "compute_reference_hash",
    "room_id_from_create_event",
]


def compute_content_hash(event: Mapping[str, Any]) -> bytes:
    """SHA-256 content hash of an event (server-server §Calculating the content hash).

    "First, any existing `unsigned`, `signatures`, and `hashes` properties are
    removed. The resulting object is then encoded as Canonical JSON, and the JSON
    is hashed using SHA-256."

    Args:
        event: The full (unredacted) event.

    Returns:
        The raw 32-byte digest; it goes into ``hashes.sha256`` as unpadded Base64.

    Raises:
        BadJson: if the event is not JSON-encodable at all.
    """
    stripped = {k: v for k, v in event.items() if k not in ("unsigned", "signatures", "hashes")}
    return hashlib.sha256(encode_canonical_json(stripped, strict=False)).digest()


def check_content_hash(event: Mapping[str, Any]) -> bool:
    """Whether ``hashes.sha256`` matches the event's content hash.

    server-server §Validating hashes and signatures on received events: on a
    mismatch the receiver should use the redacted copy of the event instead.

    Args:
        event: The received event.

    Returns:
        ``True`` if the hash is present, decodes, and matches.
    """
    hashes = event.get("hashes")
    if not isinstance(hashes, Mapping):
        return False
    expected = hashes.get("sha256")
    if not isinstance(expected, str):
        return False
    try:
        expected_bytes = decode_base64(expected)
    except ValueError:
        return False
    try:
        return compute_content_hash(event) == expected_bytes
    except BadJson:
        return False


def compute_reference_hash(event: Mapping[str, Any], room_version: RoomVersion) -> bytes:
    """SHA-256 reference hash (server-server §Calculating the reference hash).

    1. The event is put through the redaction algorithm (the room version's rules).
    2. ``signatures`` and ``unsigned`` are removed.
    3. The result is encoded as canonical JSON.
    4. SHA-256 is computed.

    Redaction also drops every other non-protected key (``age_ts``, a stray
    ``unsigned``, a top-level ``redacts`` ...), so those never affect the hash.

    Args:
        event: The event.
        room_version: Its room version.

    Returns:
        The raw 32-byte digest.
    """
    redacted = redact(event, room_version.redaction)
    redacted.pop("signatures", None)
    redacted.pop("unsigned", None)
    return hashlib.sha256(encode_canonical_json(redacted, strict=False)).digest()


def compute_event_id(event: Mapping[str, Any], room_version: RoomVersion) -> str:
    """The event ID of an event in a given room version.

    * v1-v2 (``EventIdFormat.OPAQUE``, fragment ``v1-event-ids``): IDs are chosen by
      the sender and carried in the PDU, so this returns the event's ``event_id``
      after checking it parses.
    * v3 (rooms/v3.md §Event IDs): ``$`` + unpadded standard Base64 of the
      reference hash.
    * v4+ (fragment ``v4-event-ids``): ``$`` + URL-safe unpadded Base64 of it.

    Args:
        event: The event (any ``event_id`` field is ignored for v3+: it is not part
            of those formats and redaction-then-hash would include it — callers
            must not send it, see rooms/v3.md §Event format).
        room_version: Its room version.

    Returns:
        The event ID.

    Raises:
        BadJson: for a v1-v2 event without a valid ``event_id``.
    """
    fmt = room_version.event_format.event_id_format
    if fmt == EventIdFormat.OPAQUE:
        event_id = event.get("event_id")
        if not isinstance(event_id, str):
            raise BadJson("Events in this room version must carry an event_id")
        try:
            EventId.parse(event_id)
        except InvalidIdentifier as exc:
            raise BadJson(exc.message) from None
        return event_id
    digest = compute_reference_hash(event, room_version)
    if fmt == EventIdFormat.HASH_STD_B64:
        return "$" + encode_base64(digest)
    return "$" + encode_base64_urlsafe(digest)


def room_id_from_create_event(create_event: Mapping[str, Any], room_version: RoomVersion) -> str:
    """The room ID of a room whose version derives it from the create event (v12).

    appendices §Room IDs: room IDs "are simply the event ID of the `m.room.create`
    event using `!` as the sigil instead of `$`"; in v12 that event ID is the
    URL-safe reference hash (fragment ``v4-event-ids``).

    Args:
        create_event: The ``m.room.create`` event (without ``room_id``).
        room_version: The room's version; must have
            ``event_format.room_id_from_create_event``.

    Returns:
        ``"!" + <43 characters>``.

    Raises:
        ValueError: if the room version has server-scoped room IDs.
    """
    if not room_version.event_format.room_id_from_create_event:
        raise ValueError(
            f"Room version {room_version.identifier} does not derive room IDs from the create event"
        )
    return "!" + compute_event_id(create_event, room_version)[1:]


def add_hashes_and_signatures(
    event: Mapping[str, Any],
    room_version: RoomVersion,
    server_name: str,
    signing_key: SigningKey,
) -> dict[str, Any]:
    """Hash and sign an outgoing event (server-server §Adding hashes and signatures).

    1. The content hash is computed and stored as ``hashes.sha256`` (unpadded
       Base64; other hash algorithms already present are kept).
    2. The event is redacted with the room version's rules and the redacted copy is
       signed (appendices §Signing JSON).
    3. The signatures are copied back onto the full event.

    For room versions with ``strict_canonical_json`` (v6+) the event is first
    checked to be canonical JSON, so we never emit events other servers must drop.

    Args:
        event: The unsigned event; not modified.
        room_version: Its room version.
        server_name: Our server name.
        signing_key: Our signing key.

    Returns:
        A new dict: the event with ``hashes`` and ``signatures``.

    Raises:
        BadJson: if the event is not (strictly, for v6+) canonical JSON.
    """
    strict = room_version.event_format.strict_canonical_json
    if strict:
        check_canonical_values(dict(event))
    hashed: dict[str, Any] = copy.deepcopy(dict(event))
    hashes = hashed.get("hashes")
    hashes = dict(hashes) if isinstance(hashes, Mapping) else {}
    hashes["sha256"] = encode_base64(compute_content_hash(hashed))
    hashed["hashes"] = hashes
    signed_redacted = sign_json(
        redact(hashed, room_version.redaction), server_name, signing_key, strict=strict
    )
    hashed["signatures"] = signed_redacted["signatures"]
    return hashed
