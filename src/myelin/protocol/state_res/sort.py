"""Orderings used by state resolution v2 / v2.1.

Spec references (Matrix v1.19): rooms/v2.md §State resolution (fragment
``v2-state-res``) and rooms/v12.md §State resolution, §Definitions:

* *Reverse topological power ordering*: the lexicographically smallest topological
  ordering of the DAG formed by auth events, found "by sorting the events using
  Kahn's algorithm for topological sorting, and at each step selecting, among all
  the candidate vertices, the smallest vertex" under (greater sender power level,
  smaller ``origin_server_ts``, smaller ``event_id``).
* *Mainline ordering*: the mainline of a power-levels event ``P`` and, for every
  other event, its *mainline position*; events sort by (greater mainline position,
  smaller ``origin_server_ts``, smaller ``event_id``).

Everything here is iterative (no recursion), so arbitrarily long auth chains are
fine, and every helper takes the narrowest callables it needs (ARCHITECTURE.md style
rule 2) instead of events or a store.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

__all__ = [
    "INFINITE_POSITION",
    "MainlineOrder",
    "lexicographic_topological_sort",
    "mainline",
    "mainline_sort",
    "reverse_topological_power_sort",
]

N = TypeVar("N", bound=Hashable)

#: The sentinel "∞" mainline position (rooms/v2.md §Mainline ordering: "a sentinel
#: value greater than any integer").
INFINITE_POSITION: float = math.inf


def lexicographic_topological_sort(
    nodes: Iterable[N],
    predecessors: Callable[[N], Iterable[N]],
    key: Callable[[N], Any],
) -> list[N]:
    """Kahn's algorithm, always emitting the smallest available node.

    Args:
        nodes: The vertices to order. Duplicates are ignored.
        predecessors: For a vertex, the vertices that must come *before* it (for
            state resolution: its ``auth_events``). Predecessors outside ``nodes``
            are ignored, so the caller may pass unfiltered edges.
        key: Sort key; among the vertices whose predecessors have all been
            emitted, the one with the smallest key comes next. Keys should be
            unique (state resolution ends them with the event ID); ties are broken
            by first appearance in ``nodes``.

    Returns:
        The vertices, earliest first.

    Raises:
        ValueError: if the edges among ``nodes`` contain a cycle.
    """
    order: dict[N, int] = {}
    for node in nodes:
        order.setdefault(node, len(order))

    # Count distinct in-set predecessors; remember the reverse edges.
    pending: dict[N, int] = {}
    successors: dict[N, list[N]] = {node: [] for node in order}
    for node in order:
        seen: set[N] = set()
        for pred in predecessors(node):
            if pred in order and pred not in seen:
                seen.add(pred)
                successors[pred].append(node)
        pending[node] = len(seen)

    heap: list[tuple[Any, int, N]] = [
        (key(node), index, node) for node, index in order.items() if pending[node] == 0
    ]
    heapq.heapify(heap)
    result: list[N] = []
    while heap:
        _, _, node = heapq.heappop(heap)
        result.append(node)
        for succ in successors[node]:
            pending[succ] -= 1
            if pending[succ] == 0:
                heapq.heappush(heap, (key(succ), order[succ], succ))

    if len(result) != len(order):
        raise ValueError("the auth-event graph among the given events contains a cycle")
    return result


def reverse_topological_power_sort(
    event_ids: Iterable[str],
    auth_event_ids: Callable[[str], Iterable[str]],
    power_level: Callable[[str], float],
    origin_server_ts: Callable[[str], int],
) -> list[str]:
    """Sort events by the *reverse topological power ordering* (rooms/v2.md §Definitions).

    The result is ordered from earliest to latest: every event comes after the
    auth events of it that are in the set, and among the candidates at each step
    the one whose sender has the *greatest* power level comes first, then the
    smallest ``origin_server_ts``, then the smallest ``event_id``.

    Args:
        event_ids: The events to sort.
        auth_event_ids: An event's ``auth_events`` IDs (edges leaving the set are
            ignored).
        power_level: The sender's power level "when looking at [the event's]
            ``auth_event``\\ s" — may be ``math.inf`` for v12 room creators. Called
            once per event.
        origin_server_ts: An event's ``origin_server_ts``.

    Returns:
        The event IDs, earliest first.

    Raises:
        ValueError: on a cycle among the events' auth edges.
    """

    def sort_key(event_id: str) -> tuple[float, int, str]:
        return (-power_level(event_id), origin_server_ts(event_id), event_id)

    return lexicographic_topological_sort(event_ids, auth_event_ids, sort_key)


def mainline(
    power_levels_event_id: str | None,
    power_levels_of: Callable[[str], str | None],
) -> list[str]:
    """The *mainline* of a power-levels event (rooms/v2.md §Mainline ordering).

    Args:
        power_levels_event_id: ``P0``, or ``None`` (no power-levels event: the
            mainline is empty).
        power_levels_of: For an event, the ID of the ``m.room.power_levels`` event
            in its ``auth_events``, or ``None``.

    Returns:
        ``[P0, P1, ..., Pn]``. A (malformed) cycle ends the walk.
    """
    chain: list[str] = []
    seen: set[str] = set()
    current = power_levels_event_id
    while current is not None and current not in seen:
        seen.add(current)
        chain.append(current)
        current = power_levels_of(current)
    return chain


class MainlineOrder:
    """Mainline positions relative to one mainline, memoised.

    Every power-levels event met while walking an event's chain of power-levels
    auth events gets its position cached, so sorting many events that share
    history costs one walk per distinct power-levels event.
    """

    def __init__(
        self,
        mainline_event_ids: Iterable[str],
        power_levels_of: Callable[[str], str | None],
    ) -> None:
        """Build the index.

        Args:
            mainline_event_ids: ``[P0, ..., Pn]`` as returned by :func:`mainline`.
            power_levels_of: As for :func:`mainline`.
        """
        self._power_levels_of = power_levels_of
        # Position of a power-levels event when met as some e_j (j >= 1).
        self._position: dict[str, float] = {}
        for index, event_id in enumerate(mainline_event_ids):
            self._position.setdefault(event_id, index)

    def position(self, event_id: str) -> float:
        """The *mainline position* of ``event_id`` (``e0``).

        ``e0`` itself is not part of its list, even when it is a power-levels event
        on the mainline: the walk starts at the power-levels event in its
        ``auth_events``.

        Args:
            event_id: The event.

        Returns:
            The index ``i`` of the first ``e_j`` (``j >= 1``) on the mainline, or
            :data:`INFINITE_POSITION`.
        """
        walked: list[str] = []
        seen: set[str] = set()
        current = self._power_levels_of(event_id)
        result = INFINITE_POSITION
        while current is not None:
            cached = self._position.get(current)
            if cached is not None:
                result = cached
                break
            if current in seen:  # malformed cycle: never reaches the mainline
                break
            seen.add(current)
            walked.append(current)
            current = self._power_levels_of(current)
        for walked_id in walked:
            self._position[walked_id] = result
        return result

    def sort(
        self,
        event_ids: Iterable[str],
        origin_server_ts: Callable[[str], int],
    ) -> list[str]:
        """Order events by the *mainline ordering* (rooms/v2.md §Mainline ordering).

        Args:
            event_ids: The events to sort.
            origin_server_ts: An event's ``origin_server_ts``.

        Returns:
            The events, smallest first: greater mainline position, then smaller
            ``origin_server_ts``, then smaller ``event_id``.
        """
        unique = list(dict.fromkeys(event_ids))
        keys = {
            event_id: (-self.position(event_id), origin_server_ts(event_id), event_id)
            for event_id in unique
        }
        return sorted(unique, key=keys.__getitem__)


def mainline_sort(
    event_ids: Iterable[str],
    power_levels_event_id: str | None,
    power_levels_of: Callable[[str], str | None],
    origin_server_ts: Callable[[str], int],
) -> list[str]:
    """Sort events by the mainline ordering based on ``power_levels_event_id``.

    Args:
        event_ids: The events to sort.
        power_levels_event_id: ``P`` (from the partially resolved state), or
            ``None``, in which case every position is ∞ and the order falls back to
            ``origin_server_ts`` then ``event_id``.
        power_levels_of: For an event, the ID of the ``m.room.power_levels`` event
            in its ``auth_events``, or ``None``.
        origin_server_ts: An event's ``origin_server_ts``.

    Returns:
        The events, earliest first.
    """
    order = MainlineOrder(mainline(power_levels_event_id, power_levels_of), power_levels_of)
    return order.sort(event_ids, origin_server_ts)
