"""History visibility (Client-Server API modules/history_visibility.md §Server behaviour).

Pure rule evaluation: the caller looks up the room's state *at the event* (before it,
and after it for the special cases) and passes the values in.
"""

from __future__ import annotations

from dataclasses import dataclass

KNOWN_VISIBILITIES = frozenset({"world_readable", "shared", "invited", "joined"})


def normalise_visibility(value: object) -> str:
    """Absent or not understood means ``shared``."""
    return value if isinstance(value, str) and value in KNOWN_VISIBILITIES else "shared"


@dataclass(frozen=True, slots=True)
class VisibilityFacts:
    visibility: str  # history_visibility in force at the event
    membership: str | None  # the viewer's membership at the event
    joined_later: bool  # the viewer joined at some point after the event


def allowed(facts: VisibilityFacts) -> bool:
    """§Server behaviour, rules 1-5."""
    if facts.visibility == "world_readable":  # 1
        return True
    if facts.membership == "join":  # 2
        return True
    if facts.visibility == "shared" and facts.joined_later:  # 3
        return True
    return facts.membership == "invite" and facts.visibility == "invited"  # 4 (5: deny)


def event_visible(before: VisibilityFacts, after: VisibilityFacts | None) -> bool:
    """An event is visible if the state before it allows; for history-visibility events
    and the viewer's own membership events, the state after it counts too."""
    return allowed(before) or (after is not None and allowed(after))
