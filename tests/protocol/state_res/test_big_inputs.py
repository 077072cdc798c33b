"""Big inputs: long auth chains (no recursion limits), many conflicts, one fetch per event."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

import pytest

from myelin.protocol.room_versions import V11, V12, RoomVersion
from myelin.protocol.state_res import resolve
from tests.protocol.state_res.auth_double import check_auth_double
from tests.protocol.state_res.dag import ALICE, BOB, PL, TOPIC, Branch, RoomDag, member

VERSIONS = pytest.mark.parametrize("version", [V11, V12], ids=["v11", "v12"])


def _admins(version: RoomVersion) -> dict[str, int]:
    return {} if version.authorization.privileged_creators else {ALICE: 100}


def _long_room(version: RoomVersion, depth: int) -> tuple[RoomDag, Branch]:
    dag = RoomDag(version)
    base = dag.create_room(users={BOB: 50})
    for i in range(depth):
        base.power_levels(None, ALICE, _admins(version) | {BOB: 50, f"@u{i % 7}:x": i % 3})
    return dag, base


@VERSIONS
def test_deep_power_levels_chain_and_many_conflicts(version: RoomVersion) -> None:
    depth = sys.getrecursionlimit() * 10  # far deeper than any recursive walk could go
    dag, base = _long_room(version, depth)
    x, y = base.fork(), base.fork()
    for i in range(1_000):
        x.power_levels(None, ALICE, _admins(version) | {BOB: 50, f"@v{i % 5}:x": 1})
        y.power_levels(None, BOB, _admins(version) | {BOB: 50, f"@w{i % 5}:x": 1})
        x.join(f"@x{i}:x")
        y.topic(None, BOB, f"t{i}")

    started = time.perf_counter()
    resolved = dag.resolve(x.state, y.state)
    elapsed = time.perf_counter() - started

    # Alice sorts before Bob, so Bob's power-levels chain is applied last and wins
    # (each of his events is authorised by the previous one).
    assert resolved[PL] == y.state[PL]
    assert resolved[TOPIC] == y.state[TOPIC]
    assert all(resolved[member(f"@x{i}:x")] == x.state[member(f"@x{i}:x")] for i in range(1_000))
    assert elapsed < 20, f"resolution took {elapsed:.1f}s"


@VERSIONS
def test_each_event_is_fetched_at_most_once(version: RoomVersion) -> None:
    dag, base = _long_room(version, 200)
    x, y = base.fork(), base.fork()
    for i in range(50):
        x.power_levels(None, ALICE, _admins(version) | {BOB: 50, f"@v{i}:x": 1})
        y.topic(None, BOB, f"t{i}")
        y.join(f"@y{i}:x")
    fetched: Counter[str] = Counter()

    def fetch(event_id: str) -> dict[str, Any] | None:
        fetched[event_id] += 1
        return dag.fetch(event_id)

    resolve(version, [x.state, y.state], fetch, check_auth_double)
    assert fetched
    assert max(fetched.values()) == 1
