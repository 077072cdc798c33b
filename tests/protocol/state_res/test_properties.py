"""Property tests: random room histories (forks, merges, power races) resolved with v2/v2.1.

Histories are built with the test double authorising every event against its
branch's state, so they are the kind of DAG honest servers produce; merges use
:func:`resolve` itself, as a server would.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from myelin.protocol.errors import Forbidden
from myelin.protocol.room_versions import V2, V11, V12, RoomVersion
from myelin.protocol.state_res import split_state
from tests.protocol.state_res.dag import (
    ALICE,
    BOB,
    CHARLIE,
    ELLA,
    ZARA,
    Branch,
    RoomDag,
    naive_auth_chain,
)

USERS = [ALICE, BOB, CHARLIE, ELLA, ZARA]
ACTIONS = ["fork", "merge", "topic", "name", "power", "ban", "kick", "leave", "join", "rules"]


@st.composite
def histories(draw: st.DrawFn, version: RoomVersion) -> tuple[RoomDag, list[dict]]:
    """A room DAG and 2-4 state sets taken from its branches."""
    dag = RoomDag(version)
    base = dag.create_room(members=(BOB, CHARLIE, ELLA), users={BOB: 50, CHARLIE: 25})
    branches: list[Branch] = [base, base.fork()]
    privileged = version.authorization.privileged_creators
    for _ in range(draw(st.integers(1, 30), label="steps")):
        action = draw(st.sampled_from(ACTIONS))
        branch = draw(st.sampled_from(branches))
        sender = draw(st.sampled_from(USERS))
        target = draw(st.sampled_from(USERS))
        # A small timestamp range makes ties (and event ID tie-breaks) common.
        ts = draw(st.one_of(st.none(), st.integers(1, 4)))
        try:
            if action == "fork":
                branches.append(branch.fork())
            elif action == "merge":
                other = draw(st.sampled_from(branches))
                merged = Branch(dag, dag.resolve(branch.state, other.state), [])
                merged.heads = list(dict.fromkeys(branch.heads + other.heads))
                branches.append(merged)
            elif action == "topic":
                branch.topic(None, sender, "t", ts=ts)
            elif action == "name":
                branch.send(None, "m.room.name", sender, {"name": "n"}, state_key="", ts=ts)
            elif action == "power":
                levels = {
                    user: draw(st.sampled_from([0, 25, 50, 75, 100]))
                    for user in (BOB, CHARLIE, ELLA)
                }
                if not privileged:
                    levels[ALICE] = 100
                branch.power_levels(None, sender, levels, ts=ts)
            elif action in ("ban", "kick"):
                membership = "ban" if action == "ban" else "leave"
                branch.membership(None, sender, target, membership, ts=ts)
            elif action == "leave":
                branch.membership(None, sender, sender, "leave", ts=ts)
            elif action == "join":
                branch.join(sender, ts=ts)
            elif action == "rules":
                rule = draw(st.sampled_from(["public", "invite"]))
                branch.join_rules(None, sender, rule, ts=ts)
        except Forbidden:
            pass  # not allowed on that branch: skip it
    chosen = draw(
        st.lists(st.sampled_from(range(len(branches))), min_size=2, max_size=4, unique=True)
    )
    return dag, [dict(branches[i].state) for i in chosen]


VERSIONS = pytest.mark.parametrize("version", [V11, V12, V2], ids=["v11", "v12", "v2"])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@VERSIONS
@SETTINGS
@given(data=st.data())
def test_order_of_state_sets_does_not_matter(version: RoomVersion, data: st.DataObject) -> None:
    dag, states = data.draw(histories(version))
    expected = dag.resolve(*states)
    for perm in itertools.permutations(states):
        assert dag.resolve(*perm) == expected


@VERSIONS
@SETTINGS
@given(data=st.data())
def test_idempotence(version: RoomVersion, data: st.DataObject) -> None:
    dag, states = data.draw(histories(version))
    resolved = dag.resolve(*states)
    # Resolving a state with itself changes nothing; repeating an input neither.
    assert dag.resolve(resolved) == resolved
    assert dag.resolve(resolved, dict(resolved)) == resolved
    assert dag.resolve(*states, states[0]) == resolved


@VERSIONS
@SETTINGS
@given(data=st.data())
def test_result_is_well_formed(version: RoomVersion, data: st.DataObject) -> None:
    dag, states = data.draw(histories(version))
    resolved = dag.resolve(*states)
    unconflicted, _ = split_state(states)
    # Step 5: the unconflicted state map wins.
    assert unconflicted.items() <= resolved.items()
    # Every entry is a known event stored under its own key.
    for key, event_id in resolved.items():
        event: dict[str, Any] = dag.events[event_id]
        assert (event["type"], event["state_key"]) == key


@VERSIONS
@SETTINGS
@given(data=st.data())
def test_precomputed_auth_chains_agree_with_walking(
    version: RoomVersion, data: st.DataObject
) -> None:
    dag, states = data.draw(histories(version))
    chains = [naive_auth_chain(dag, state.values()) for state in states]
    assert dag.resolve(*states, auth_chains=chains) == dag.resolve(*states)
