"""Which events a user may see (modules/history_visibility.md), answered from the temporal
state index: two small queries per batch of events, then bisection per event."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from myelin.protocol.visibility import VisibilityFacts, event_visible, normalise_visibility
from myelin.rooms.engine import RoomEngine, StoredEvent
from myelin.storage.database import Database


class _Timeline:
    """A value that changes at stream positions: value_before(p) / value_at(p)."""

    def __init__(self, changes: list[tuple[int, str | None]]) -> None:
        self._positions = [p for p, _ in changes]
        self._values = [v for _, v in changes]

    def before(self, position: int) -> str | None:
        i = bisect_left(self._positions, position)
        return self._values[i - 1] if i else None

    def at(self, position: int) -> str | None:
        i = bisect_right(self._positions, position)
        return self._values[i - 1] if i else None

    def any_after(self, position: int, value: str) -> bool:
        i = bisect_right(self._positions, position)
        return value in self._values[i:]


async def filter_visible(db: Database, engine: RoomEngine, viewer: str | None, room_id: str,
                         events: list[StoredEvent]) -> list[StoredEvent]:
    """Keep the events ``viewer`` may see (None: an anonymous or guest peek, which sees only
    world-readable history)."""
    if not events:
        return []
    if viewer is not None:
        # Fast path: a viewer who is joined now, and whose current membership predates every
        # event, was joined at each of them (rule 2): no lookup needed.
        member = await engine.current_state_event(events[0].room_id, "m.room.member", viewer)
        if (member is not None and member.content.get("membership") == "join"
                and all(e.stream > member.stream and e.room_id == member.room_id
                        for e in events)):
            return list(events)
    async with db.read() as conn:
        hv_rows = await conn.fetch(
            "SELECT stream_ordering, event_id FROM room_state WHERE room_id = $1 AND "
            "type = 'm.room.history_visibility' AND state_key = '' ORDER BY stream_ordering",
            room_id)
        member_rows = [] if viewer is None else await conn.fetch(
            "SELECT stream_ordering, membership FROM room_state WHERE room_id = $1 AND "
            "type = 'm.room.member' AND state_key = $2 ORDER BY stream_ordering",
            room_id, viewer)
    hv_events = await engine.get_events([r[1] for r in hv_rows])
    visibility = _Timeline([
        (r[0], normalise_visibility(hv_events[r[1]].content.get("history_visibility"))
         if r[1] in hv_events else "shared") for r in hv_rows])
    membership = _Timeline([(r[0], r[1]) for r in member_rows])

    def facts(position: int, *, after: bool) -> VisibilityFacts:
        value = visibility.at(position) if after else visibility.before(position)
        member = membership.at(position) if after else membership.before(position)
        return VisibilityFacts(normalise_visibility(value), member,
                               membership.any_after(position, "join"))

    kept = []
    for event in events:
        if event.type == "m.room.member" and viewer is not None and event.state_key == viewer:
            # Events about the viewer's own membership (an invite, a kick, a ban) are always
            # theirs to see: the spec's before-or-after rule, extended to invites, which the
            # invitee must receive whatever the room's history visibility.
            kept.append(event)
            continue
        special = event.type == "m.room.history_visibility"
        before = facts(event.stream, after=False)
        if event_visible(before, facts(event.stream, after=True) if special else None):
            kept.append(event)
    return kept
