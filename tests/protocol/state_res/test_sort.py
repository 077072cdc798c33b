"""Tests for myelin.protocol.state_res.sort (rooms/v2.md §Definitions)."""

from __future__ import annotations

import math
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from myelin.protocol.state_res.sort import (
    INFINITE_POSITION,
    MainlineOrder,
    lexicographic_topological_sort,
    mainline,
    mainline_sort,
    reverse_topological_power_sort,
)

# --- Kahn's algorithm --------------------------------------------------------------------------


def test_kahn_emits_smallest_candidate_first() -> None:
    # d depends on b and c; b and c depend on a.
    preds = {"a": [], "b": ["a"], "c": ["a"], "d": ["c", "b"]}
    assert lexicographic_topological_sort("dcba", preds.__getitem__, lambda n: n) == list("abcd")
    # Reversing the key flips only the free choice between b and c.
    assert lexicographic_topological_sort("abcd", preds.__getitem__, lambda n: -ord(n)) == list(
        "acbd"
    )


def test_kahn_edges_beat_keys() -> None:
    # "a" has the smallest key but must wait for "z".
    preds = {"a": ["z"], "z": []}
    assert lexicographic_topological_sort(["a", "z"], preds.__getitem__, lambda n: n) == ["z", "a"]


def test_kahn_ignores_edges_leaving_the_set_and_duplicates() -> None:
    preds = {"a": ["outside"], "b": ["a", "a", "elsewhere"]}
    assert lexicographic_topological_sort(["b", "a", "b"], preds.__getitem__, str) == ["a", "b"]


def test_kahn_rejects_cycles() -> None:
    preds = {"a": ["b"], "b": ["a"], "c": []}
    with pytest.raises(ValueError, match="cycle"):
        lexicographic_topological_sort("abc", preds.__getitem__, str)


def test_kahn_long_chain_has_no_recursion_limit() -> None:
    n = sys.getrecursionlimit() * 20
    nodes = [f"n{i:06d}" for i in range(n)]
    preds = {node: ([nodes[i - 1]] if i else []) for i, node in enumerate(nodes)}
    # Keys that prefer the *latest* node: only the edges keep the order.
    result = lexicographic_topological_sort(
        reversed(nodes), preds.__getitem__, lambda x: -int(x[1:])
    )
    assert result == nodes


@given(
    st.integers(min_value=1, max_value=25).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
            st.permutations(range(n)),
        )
    )
)
def test_kahn_is_a_topological_order_independent_of_input_order(data: tuple) -> None:
    n, raw_edges, perm = data
    # Only edges from higher to lower index: acyclic by construction.
    preds: dict[int, set[int]] = {i: set() for i in range(n)}
    for a, b in raw_edges:
        if a > b:
            preds[a].add(b)
    out = lexicographic_topological_sort(range(n), preds.__getitem__, lambda i: (i * 7) % 11)
    again = lexicographic_topological_sort(perm, preds.__getitem__, lambda i: (i * 7) % 11)
    # Keys collide here ((i * 7) % 11), so compare only when unique per node.
    assert sorted(out) == list(range(n))
    position = {node: index for index, node in enumerate(out)}
    assert all(position[p] < position[node] for node in preds for p in preds[node])
    if n <= 11:
        assert out == again


# --- Reverse topological power ordering --------------------------------------------------------


PowerFixture = dict[str, tuple[list[str], float, int]]


def _power_sort(events: PowerFixture) -> list[str]:
    return reverse_topological_power_sort(
        events,
        lambda e: events[e][0],
        lambda e: events[e][1],
        lambda e: events[e][2],
    )


def test_power_order_greater_power_first() -> None:
    events: PowerFixture = {"$low": ([], 0, 1), "$high": ([], 100, 2), "$mid": ([], 50, 0)}
    assert _power_sort(events) == ["$high", "$mid", "$low"]


def test_power_order_then_timestamp_then_event_id() -> None:
    events: PowerFixture = {"$b": ([], 50, 5), "$a": ([], 50, 5), "$c": ([], 50, 4)}
    assert _power_sort(events) == ["$c", "$a", "$b"]


def test_power_order_infinite_creator_power_sorts_first() -> None:
    events: PowerFixture = {"$creator": ([], math.inf, 9), "$admin": ([], 100, 1)}
    assert _power_sort(events) == ["$creator", "$admin"]


def test_power_order_respects_auth_edges() -> None:
    # $x is authorised by $y, so $y comes first although $x's sender is more powerful.
    events: PowerFixture = {"$x": (["$y"], 100, 1), "$y": ([], 0, 2), "$z": ([], 50, 3)}
    assert _power_sort(events) == ["$z", "$y", "$x"]


def test_power_level_callable_is_called_once_per_event() -> None:
    calls: list[str] = []

    def power(event_id: str) -> float:
        calls.append(event_id)
        return 0

    reverse_topological_power_sort(["$a", "$b", "$c"], lambda e: [], power, lambda e: 0)
    assert sorted(calls) == ["$a", "$b", "$c"]


# --- Mainline ordering -------------------------------------------------------------------------

# P3 -> P2 -> P1 -> P0 (each power-levels event cites the previous one).
PL_OF = {
    "$P3": "$P2",
    "$P2": "$P1",
    "$P1": "$P0",
    "$P0": None,
    "$Q": "$P1",  # a fork of the power levels off P1
    "$Q2": "$Q",
    "$R": None,  # an unrelated power-levels event
    "$e_p3": "$P3",
    "$e_p1": "$P1",
    "$e_q2": "$Q2",
    "$e_r": "$R",
    "$e_none": None,
}


def test_mainline_walks_power_levels_auth_events() -> None:
    assert mainline("$P3", PL_OF.get) == ["$P3", "$P2", "$P1", "$P0"]
    assert mainline(None, PL_OF.get) == []


def test_mainline_stops_on_a_cycle() -> None:
    cyclic = {"$a": "$b", "$b": "$a"}
    assert mainline("$a", cyclic.get) == ["$a", "$b"]


def test_mainline_positions() -> None:
    order = MainlineOrder(mainline("$P3", PL_OF.get), PL_OF.get)
    assert order.position("$e_p3") == 0
    assert order.position("$e_p1") == 2
    # e0 is not part of its own list: P2's position comes from P1.
    assert order.position("$P2") == 2
    assert order.position("$P3") == 1
    # Off-mainline power levels walk back to where they join it.
    assert order.position("$e_q2") == 2
    assert order.position("$Q") == 2
    # Never reaching the mainline, or citing no power levels at all: infinity.
    assert order.position("$e_r") == INFINITE_POSITION
    assert order.position("$e_none") == INFINITE_POSITION
    assert order.position("$P0") == INFINITE_POSITION


def test_mainline_positions_are_memoised() -> None:
    calls: list[str] = []

    def power_levels_of(event_id: str) -> str | None:
        calls.append(event_id)
        return PL_OF.get(event_id)

    order = MainlineOrder(mainline("$P3", PL_OF.get), power_levels_of)
    order.position("$e_q2")
    calls.clear()
    assert order.position("$Q2") == 2  # $Q already known
    assert calls == ["$Q2"]


def test_mainline_sort_greater_position_first_then_ts_then_id() -> None:
    ts = {"$e_p3": 1, "$e_p1": 50, "$e_q2": 10, "$e_none": 100, "$e_r": 100}
    result = mainline_sort(ts, "$P3", PL_OF.get, ts.__getitem__)
    # ∞ first (ts tie → event ID), then position 2 by ts, then position 0.
    assert result == ["$e_none", "$e_r", "$e_q2", "$e_p1", "$e_p3"]


def test_mainline_sort_without_power_levels_orders_by_ts_then_id() -> None:
    ts = {"$b": 1, "$a": 1, "$c": 0}
    assert mainline_sort(ts, None, PL_OF.get, ts.__getitem__) == ["$c", "$a", "$b"]


def test_mainline_long_chain_has_no_recursion_limit() -> None:
    n = sys.getrecursionlimit() * 20
    pl_of = {f"$P{i}": (f"$P{i - 1}" if i else None) for i in range(n)}
    pl_of["$event"] = "$P0"
    order = MainlineOrder(mainline(f"$P{n - 1}", pl_of.get), pl_of.get)
    assert order.position("$event") == n - 1
    off = {f"$Q{i}": (f"$Q{i - 1}" if i else "$P0") for i in range(n)}
    order2 = MainlineOrder(["$P0"], off.get)
    assert order2.position(f"$Q{n - 1}") == 0
