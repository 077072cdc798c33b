"""Event relationships (Client-Server API §Forming relationships between events): child
events by parent, the rows bundled aggregations are built from, thread roots, duplicate
annotations, and events by timestamp. SQL written once for both engines.

Every event row carries ``relates_to`` and ``rel_type`` from its ``content["m.relates_to"]``
(index ``events_relates``). A relationship needs both (the m.relates_to schema requires
``rel_type`` and ``event_id``), both events in the same room, and a child that was not
redacted: redacting a child breaks the relationship (§Aggregations of child events).
"""

from __future__ import annotations

from dataclasses import dataclass

from myelin.storage.database import Connection
from myelin.storage.repos.rooms import _EVENT_COLUMNS, EventRow, _event

Position = tuple[int, int]  # (depth, stream_ordering): the topological order of a room


@dataclass(frozen=True, slots=True)
class ChildRow:
    """One child event, without its JSON unless it is an edit (whose ``m.new_content`` decides
    whether it is valid)."""

    event_id: str
    room_id: str
    relates_to: str
    rel_type: str
    type: str
    state_key: str | None
    sender: str
    stream_ordering: int
    depth: int
    origin_server_ts: int
    json: str | None


async def bundled_children(conn: Connection, parent_ids: list[str]) -> list[ChildRow]:
    """The unredacted m.replace, m.thread and m.reference children of ``parent_ids``, in
    topological order: the relationship types the server aggregates (§Aggregations of child
    events; m.annotation is not, event_annotations.md). One query per 500 parents."""
    found: list[ChildRow] = []
    for i in range(0, len(parent_ids), 500):
        chunk = parent_ids[i:i + 500]
        marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
        rows = await conn.fetch(
            "SELECT event_id, room_id, relates_to, rel_type, type, state_key, sender, "
            "stream_ordering, depth, origin_server_ts, "
            "CASE WHEN rel_type = 'm.replace' THEN json ELSE NULL END FROM events "
            f"WHERE relates_to IN ({marks}) AND rel_type IN ('m.replace', 'm.thread', "
            "'m.reference') AND redacted_by IS NULL ORDER BY depth, stream_ordering", *chunk)
        found += [ChildRow(*tuple(r)) for r in rows]
    return found


async def relations_page(conn: Connection, room_id: str, parent_id: str, *,
                         rel_type: str | None, event_type: str | None, max_depth: int,
                         backwards: bool, start: Position | None, stop: Position | None,
                         limit: int) -> list[EventRow]:
    """One page of the children of ``parent_id`` (relations.yaml): newest first when
    ``backwards``, else oldest first; strictly beyond ``start``, and not beyond ``stop``
    (inclusive). With ``max_depth`` > 1, children of children up to that many levels, where
    every event on the path matches the ``rel_type`` and ``event_type`` filters
    (§Relationships API)."""
    args: list[object] = [parent_id, room_id, max_depth]
    filters = ""
    if rel_type is not None:
        args.append(rel_type)
        filters += f" AND e.rel_type = ${len(args)}"
    if event_type is not None:
        args.append(event_type)
        filters += f" AND e.type = ${len(args)}"
    where = ""
    cmp_start, cmp_stop = ("<", ">") if backwards else (">", "<")
    if start is not None:
        args += [start[0], start[1]]
        d, s = len(args) - 1, len(args)
        where += (f" AND (depth {cmp_start} ${d} OR (depth = ${d} AND "
                  f"stream_ordering {cmp_start} ${s}))")
    if stop is not None:
        args += [stop[0], stop[1]]
        d, s = len(args) - 1, len(args)
        where += (f" AND (depth {cmp_stop} ${d} OR (depth = ${d} AND "
                  f"stream_ordering {cmp_stop}= ${s}))")
    args.append(limit)
    order = "DESC" if backwards else "ASC"
    rows = await conn.fetch(
        "WITH RECURSIVE rel(event_id, lvl) AS ("
        " SELECT e.event_id, 1 FROM events e WHERE e.relates_to = $1 AND e.room_id = $2"
        f" AND e.rel_type IS NOT NULL AND e.redacted_by IS NULL{filters}"
        " UNION"
        " SELECT e.event_id, rel.lvl + 1 FROM events e JOIN rel ON e.relates_to = rel.event_id"
        " WHERE rel.lvl < $3 AND e.room_id = $2 AND e.rel_type IS NOT NULL"
        f" AND e.redacted_by IS NULL{filters}) "
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id IN (SELECT event_id FROM rel)"
        f"{where} ORDER BY depth {order}, stream_ordering {order} LIMIT ${len(args)}", *args)
    return [_event(r) for r in rows]


async def annotation_contents(conn: Connection, room_id: str, parent_id: str, sender: str,
                              event_type: str) -> list[str]:
    """The JSON of the unredacted annotations ``sender`` sent on ``parent_id`` with events
    of ``event_type`` (event_annotations.md §Avoiding duplicate annotations)."""
    rows = await conn.fetch(
        "SELECT json FROM events WHERE relates_to = $1 AND rel_type = 'm.annotation' AND "
        "room_id = $2 AND sender = $3 AND type = $4 AND redacted_by IS NULL",
        parent_id, room_id, sender, event_type)
    return [r[0] for r in rows]


async def thread_roots_page(conn: Connection, room_id: str, *, before: Position | None,
                            participant: str | None, limit: int) -> list[tuple[str, int, int]]:
    """Thread roots of a room ordered by their latest thread event, newest first
    (threads_list.yaml): (root event ID, depth, stream of that latest event), strictly before
    ``before``. With ``participant``, only threads they took part in: they sent the root or
    an m.thread child (threading.md §Server-side aggregation of m.thread relationships)."""
    args: list[object] = [room_id]
    where = ""
    if before is not None:
        args += [before[0], before[1]]
        where += " AND (t.depth < $2 OR (t.depth = $2 AND t.stream_ordering < $3))"
    if participant is not None:
        args.append(participant)
        n = len(args)
        where += (f" AND (r.sender = ${n} OR EXISTS (SELECT 1 FROM events p WHERE "
                  "p.relates_to = t.relates_to AND p.rel_type = 'm.thread' AND "
                  f"p.room_id = t.room_id AND p.redacted_by IS NULL AND p.sender = ${n}))")
    args.append(limit)
    rows = await conn.fetch(
        "SELECT t.relates_to, t.depth, t.stream_ordering FROM ("
        " SELECT room_id, relates_to, depth, stream_ordering, ROW_NUMBER() OVER ("
        "  PARTITION BY relates_to ORDER BY depth DESC, stream_ordering DESC) AS n"
        " FROM events WHERE room_id = $1 AND rel_type = 'm.thread' AND redacted_by IS NULL"
        ") t JOIN events r ON r.event_id = t.relates_to AND r.room_id = t.room_id "
        f"WHERE t.n = 1{where} ORDER BY t.depth DESC, t.stream_ordering DESC "
        f"LIMIT ${len(args)}", *args)
    return [(r[0], r[1], r[2]) for r in rows]


async def events_by_timestamp(conn: Connection, room_id: str, ts: int, *, forwards: bool,
                              after: tuple[int, int] | None, limit: int) -> list[EventRow]:
    """Events of a room from ``ts`` on (``forwards``) or back from it, nearest first, by
    (origin_server_ts, stream_ordering); ``after`` continues past a previous batch
    (room_event_by_timestamp.yaml)."""
    op, order = (">", "ASC") if forwards else ("<", "DESC")
    args: list[object] = [room_id, ts]
    where = f" AND origin_server_ts {op}= $2"
    if after is not None:
        args += [after[0], after[1]]
        where += (f" AND (origin_server_ts {op} $3 OR (origin_server_ts = $3 AND "
                  f"stream_ordering {op} $4))")
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT {_EVENT_COLUMNS} FROM events WHERE room_id = $1{where} "
        f"ORDER BY origin_server_ts {order}, stream_ordering {order} LIMIT ${len(args)}", *args)
    return [_event(r) for r in rows]


async def position_at_stream(conn: Connection, room_id: str, stream: int) -> Position | None:
    """(depth, stream_ordering) of the room's last event at or before stream position
    ``stream``: where a /sync token falls in the room's topological order."""
    row = await conn.fetchrow(
        "SELECT depth, stream_ordering FROM events WHERE room_id = $1 AND stream_ordering <= $2 "
        "ORDER BY stream_ordering DESC LIMIT 1", room_id, stream)
    return None if row is None else (row[0], row[1])
