"""Bundled aggregations and the server-side checks on new relations.

Client-Server API §Aggregations of child events: when an event is served to a client, the
server adds ``unsigned["m.relations"]``, keyed by ``rel_type``:

* ``m.replace`` (event_replacements.md §Server-side aggregation of m.replace relationships,
  changed in v1.7): the most recent *valid* replacement (§Validity of replacement events),
  as a whole client event; most recent by ``origin_server_ts``, then the lexicographically
  largest ``event_id``. Never bundled with a redacted original.
* ``m.thread`` (threading.md §Server-side aggregation of m.thread relationships):
  ``latest_event`` (topologically last, serialized as the event itself, with its own
  bundle), ``count`` and ``current_user_participated``.
* ``m.reference`` (reference_relations.md §Server-side aggregation of m.reference): a
  ``chunk`` of ``{"event_id": ...}``.

``m.annotation`` is not aggregated (event_annotations.md). State events get no bundle (the
warning in §Aggregations of child events). Redacted children no longer relate to anything,
children in another room never did, and children the viewer may not see (history
visibility) are left out, as the §Aggregations warning on history visibility describes.

A batch costs one query for the children of all its events, the two queries of
``filter_visible`` per room, and one for the bundled events not yet in the engine's cache.
"""

from __future__ import annotations

from typing import Any

import msgspec

from myelin.protocol.errors import ProtocolError
from myelin.rooms.engine import RoomEngine, StoredEvent
from myelin.rooms.serialize import Aggregations, to_client_events
from myelin.rooms.visibility import filter_visible
from myelin.storage.database import Database
from myelin.storage.repos import relations as repo

_decode = msgspec.json.Decoder().decode


class DuplicateAnnotation(ProtocolError):
    """event_annotations.md §Avoiding duplicate annotations; room_send.yaml 400."""

    errcode = "M_DUPLICATE_ANNOTATION"
    status_hint = 400


def relation_of(content: dict[str, Any]) -> tuple[str | None, str | None]:
    """(event_id, rel_type) of ``content["m.relates_to"]``, Nones when absent or malformed."""
    rel = content.get("m.relates_to")
    if not isinstance(rel, dict):
        return None, None
    target, rel_type = rel.get("event_id"), rel.get("rel_type")
    return (target if isinstance(target, str) else None,
            rel_type if isinstance(rel_type, str) else None)


def _slim(row: repo.ChildRow) -> StoredEvent:
    """Just enough of a child event for ``filter_visible`` (type, state key, position);
    never cached nor served."""
    pdu: dict[str, Any] = {"type": row.type, "sender": row.sender}
    if row.state_key is not None:
        pdu["state_key"] = row.state_key
    return StoredEvent(row.event_id, row.room_id, row.stream_ordering, row.depth, pdu)


def _valid_edit(original: StoredEvent, edit: repo.ChildRow) -> bool:
    """event_replacements.md §Validity of replacement events (the same room is checked by
    the caller)."""
    if edit.sender != original.sender or edit.type != original.type:
        return False
    if edit.state_key is not None or original.is_state:
        return False
    if relation_of(original.content)[1] == "m.replace":
        return False  # an edit of an edit
    if edit.type == "m.room.encrypted":
        return True  # m.new_content is in the encrypted payload, which the server can't read
    try:
        pdu = _decode(edit.json or "{}")
    except msgspec.DecodeError:
        return False
    content = pdu.get("content") if isinstance(pdu, dict) else None
    return isinstance(content, dict) and isinstance(content.get("m.new_content"), dict)


class BundledAggregations:
    """Implements serialize.Aggregations; also the checks ``RoomService.send`` runs on a new
    event's relation before the engine sees it."""

    # latest_event of a thread carries its own bundle; one level is all that can exist,
    # since m.thread may not target an event that has a relation (threading.md).
    MAX_NESTING = 1

    def __init__(self, *, db: Database, engine: RoomEngine) -> None:
        self._db = db
        self._engine = engine

    async def bundles(self, events: list[StoredEvent], *, now: int, user_id: str | None,
                      device_id: str | None,
                      include_room_id: bool) -> dict[str, dict[str, Any]]:
        return await self._bundles(events, now=now, user_id=user_id, device_id=device_id,
                                   include_room_id=include_room_id, nesting=0)

    async def _bundles(self, events: list[StoredEvent], *, now: int, user_id: str | None,
                       device_id: str | None, include_room_id: bool,
                       nesting: int) -> dict[str, dict[str, Any]]:
        parents = {e.event_id: e for e in events if not e.is_state}
        if not parents:
            return {}
        async with self._db.read() as conn:
            rows = await repo.bundled_children(conn, list(parents))
        rows = [r for r in rows if r.room_id == parents[r.relates_to].room_id]
        if not rows:
            return {}
        visible = await self._visible_ids(rows, user_id)

        edits: dict[str, repo.ChildRow] = {}
        threads: dict[str, list[repo.ChildRow]] = {}
        participated: set[str] = set()
        references: dict[str, list[str]] = {}
        for row in rows:
            parent = parents[row.relates_to]
            if row.rel_type == "m.thread" and row.sender == user_id:
                participated.add(parent.event_id)  # the viewer's own events, seen or not
            if row.event_id not in visible:
                continue
            if row.rel_type == "m.replace":
                if parent.redacted_by is None and _valid_edit(parent, row):
                    best = edits.get(parent.event_id)
                    if best is None or (row.origin_server_ts, row.event_id) > (
                            best.origin_server_ts, best.event_id):
                        edits[parent.event_id] = row
            elif row.rel_type == "m.thread":
                threads.setdefault(parent.event_id, []).append(row)
            elif row.rel_type == "m.reference":
                references.setdefault(parent.event_id, []).append(row.event_id)

        # Rows come in topological order, so a thread's latest event is its last row.
        latest_ids = {parent_id: children[-1].event_id for parent_id, children in threads.items()}
        loaded = await self._engine.get_events(
            [r.event_id for r in edits.values()] + list(latest_ids.values()))
        serialized = await self._serialize(
            [loaded[i] for i in latest_ids.values() if i in loaded], now=now, user_id=user_id,
            device_id=device_id, include_room_id=include_room_id,
            nested=nesting < self.MAX_NESTING, nesting=nesting + 1)
        serialized.update(await self._serialize(
            [loaded[r.event_id] for r in edits.values() if r.event_id in loaded], now=now,
            user_id=user_id, device_id=device_id, include_room_id=include_room_id,
            nested=False, nesting=nesting + 1))

        out: dict[str, dict[str, Any]] = {}
        for parent_id, parent in parents.items():
            bundle: dict[str, Any] = {}
            edit = edits.get(parent_id)
            if edit is not None and edit.event_id in serialized:
                bundle["m.replace"] = serialized[edit.event_id]
            children = threads.get(parent_id)
            if children and latest_ids[parent_id] in serialized:
                bundle["m.thread"] = {
                    "latest_event": serialized[latest_ids[parent_id]],
                    "count": len(children),
                    "current_user_participated": user_id is not None and (
                        parent.sender == user_id or parent_id in participated),
                }
            refs = references.get(parent_id)
            if refs:
                bundle["m.reference"] = {"chunk": [{"event_id": i} for i in refs]}
            if bundle:
                out[parent_id] = bundle
        return out

    async def _visible_ids(self, rows: list[repo.ChildRow], user_id: str | None) -> set[str]:
        by_room: dict[str, list[StoredEvent]] = {}
        for row in rows:
            by_room.setdefault(row.room_id, []).append(_slim(row))
        visible: set[str] = set()
        for room_id, slims in by_room.items():
            kept = await filter_visible(self._db, self._engine, user_id, room_id, slims)
            visible.update(e.event_id for e in kept)
        return visible

    async def _serialize(self, events: list[StoredEvent], *, now: int, user_id: str | None,
                         device_id: str | None, include_room_id: bool, nested: bool,
                         nesting: int) -> dict[str, dict[str, Any]]:
        if not events:
            return {}
        aggregations: Aggregations | None = _Nested(self, nesting) if nested else None
        client = await to_client_events(self._engine, events, now=now, user_id=user_id,
                                        device_id=device_id, include_room_id=include_room_id,
                                        aggregations=aggregations)
        return {e["event_id"]: e for e in client}

    # --- checks on new relations ------------------------------------------------------------

    async def check_new_relation(self, room_id: str, sender: str, event_type: str,
                                 content: dict[str, Any]) -> None:
        """Refuse, before it is built, an event whose relation the server must not accept:

        * a second annotation by the same sender on the same event with the same event type
          and key, unless the first was redacted: 400 M_DUPLICATE_ANNOTATION
          (event_annotations.md §Avoiding duplicate annotations);
        * a thread started from an event that is itself a child of a relationship (has an
          ``m.relates_to`` with a ``rel_type``): 400 M_UNKNOWN (threading.md §Validation of
          m.thread relationships).

        Not atomic with the write: two identical annotations racing through here can both
        pass, which the spec tolerates (clients deduplicate when counting).
        """
        target, rel_type = relation_of(content)
        if target is None:
            return
        if rel_type == "m.annotation":
            rel = content["m.relates_to"]
            key = rel.get("key")
            async with self._db.read() as conn:
                previous = await repo.annotation_contents(conn, room_id, target, sender,
                                                          event_type)
            for raw in previous:
                prior = _decode(raw).get("content", {})
                prior_rel = prior.get("m.relates_to") if isinstance(prior, dict) else None
                if isinstance(prior_rel, dict) and prior_rel.get("key") == key:
                    raise DuplicateAnnotation("You have already sent this annotation")
        elif rel_type == "m.thread":
            root = await self._engine.get_event(target)
            if root is not None and root.room_id == room_id and \
                    relation_of(root.content)[1] is not None:
                raise ProtocolError("Cannot start a thread from an event with a relation",
                                    errcode="M_UNKNOWN", status_hint=400)


class _Nested:
    """The bundles of events nested in a bundle (a thread's latest event), one level down."""

    def __init__(self, owner: BundledAggregations, nesting: int) -> None:
        self._owner = owner
        self._nesting = nesting

    async def bundles(self, events: list[StoredEvent], *, now: int, user_id: str | None,
                      device_id: str | None,
                      include_room_id: bool) -> dict[str, dict[str, Any]]:
        return await self._owner._bundles(events, now=now, user_id=user_id,
                                          device_id=device_id, include_room_id=include_room_id,
                                          nesting=self._nesting)

