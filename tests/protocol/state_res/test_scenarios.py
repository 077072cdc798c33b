"""State resolution scenarios as small DAGs (rooms/v2.md, rooms/v12.md §State resolution).

The spec has no worked examples for state resolution, so these are the classic
races, built with :mod:`tests.protocol.state_res.dag` and authorised by the test
double in :mod:`tests.protocol.state_res.auth_double`. Unless a test is about the
v2/v2.1 difference it runs on room version 11 (v2), 12 (v2.1) and 2 (v2 with
``[event_id, hashes]`` references).
"""

from __future__ import annotations

import itertools

import pytest

from myelin.protocol.errors import Forbidden
from myelin.protocol.room_versions import V1, V2, V11, V12, RoomVersion
from myelin.protocol.state_res import resolve
from tests.protocol.state_res.auth_double import check_auth_double
from tests.protocol.state_res.dag import (
    ALICE,
    BOB,
    CHARLIE,
    ELLA,
    JR,
    PL,
    TOPIC,
    Branch,
    RoomDag,
    member,
    naive_auth_chain,
)

ALL = pytest.mark.parametrize("version", [V11, V12, V2], ids=["v11", "v12", "v2"])


def _room(version: RoomVersion, **kw: object) -> tuple[RoomDag, Branch]:
    dag = RoomDag(version)
    return dag, dag.create_room(**kw)  # type: ignore[arg-type]


def _admins(version: RoomVersion, **users: int) -> dict[str, int]:
    """A users map; Alice (the creator) is listed only where creators are not privileged."""
    out = {} if version.authorization.privileged_creators else {ALICE: 100}
    out.update({f"@{name}:example.org": level for name, level in users.items()})
    return out


# --- Trivial inputs ---------------------------------------------------------------------------


@ALL
def test_identical_state_sets_resolve_to_themselves(version: RoomVersion) -> None:
    dag, base = _room(version)
    base.topic("$T", ALICE, "hello")
    assert dag.resolve(base.state) == base.state
    assert dag.resolve(base.state, dict(base.state), dict(base.state)) == base.state


def test_no_state_sets() -> None:
    assert resolve(V11, [], lambda _: None, check_auth_double) == {}


def test_state_sets_without_conflicts_never_fetch() -> None:
    def fetch(event_id: str) -> None:
        raise AssertionError("no fetch needed")

    state = {("m.room.create", ""): "$c", ("m.room.topic", ""): "$t"}
    assert resolve(V12, [state, dict(state)], fetch, check_auth_double) == state


def test_room_version_1_is_refused() -> None:
    with pytest.raises(ValueError, match="state resolution v1"):
        resolve(V1, [{}], lambda _: None, check_auth_double)


def test_auth_chains_must_match_state_sets() -> None:
    with pytest.raises(ValueError, match="one entry per state set"):
        resolve(V11, [{}, {}], lambda _: None, check_auth_double, auth_chains=[set()])


# --- Ban versus power levels -------------------------------------------------------------------


@ALL
def test_ban_loses_against_concurrent_demotion(version: RoomVersion) -> None:
    dag, base = _room(version)
    base.power_levels("$PA", ALICE, _admins(version, bob=50))
    demote = base.fork()
    demote.power_levels("$PB", ALICE, _admins(version, bob=0))
    ban = base.fork()
    ban.membership("$MB", BOB, CHARLIE, "ban")  # allowed on this branch: Bob has 50

    for states in (demote.state, ban.state), (ban.state, demote.state):
        resolved = dag.resolve(*states)
        assert resolved[PL] == "$PB"
        # Alice's demotion sorts first (greater power), so Bob's ban is no longer allowed.
        assert resolved[member(CHARLIE)] == "$IMC"


@ALL
def test_ban_stands_when_concurrent_power_change_keeps_the_banner(version: RoomVersion) -> None:
    dag, base = _room(version)
    base.power_levels("$PA", ALICE, _admins(version, bob=50))
    other = base.fork()
    other.power_levels("$PB", ALICE, _admins(version, bob=50, ella=10))
    ban = base.fork()
    ban.membership("$MB", BOB, CHARLIE, "ban")

    resolved = dag.resolve(other.state, ban.state)
    assert resolved[PL] == "$PB"
    assert resolved[member(CHARLIE)] == "$MB"


@ALL
def test_kick_of_the_demoter_by_a_lesser_user_fails(version: RoomVersion) -> None:
    # Bob (50) kicks Charlie (0) while Charlie is made 75 by Alice: the promotion wins.
    dag, base = _room(version)
    base.power_levels("$PA", ALICE, _admins(version, bob=50))
    promote = base.fork()
    promote.power_levels("$PB", ALICE, _admins(version, bob=50, charlie=75))
    kick = base.fork()
    kick.membership("$KICK", BOB, CHARLIE, "leave")

    resolved = dag.resolve(promote.state, kick.state)
    assert resolved[PL] == "$PB"
    assert resolved[member(CHARLIE)] == "$IMC"


# --- Topics: mainline ordering -----------------------------------------------------------------


@ALL
def test_topic_on_the_newer_mainline_event_wins_despite_its_timestamp(version: RoomVersion) -> None:
    dag, base = _room(version)
    base.power_levels("$PA", ALICE, _admins(version, bob=50))
    base.topic("$T1", BOB, "one")
    x = base.fork()
    x.power_levels("$PB", ALICE, _admins(version, bob=50, charlie=50))
    x.topic("$T3", CHARLIE, "three", ts=10_000)
    y = base.fork()
    y.topic("$T2", BOB, "two", ts=20_000)  # later, but based on an older mainline event

    resolved = dag.resolve(x.state, y.state)
    assert resolved[PL] == "$PB"
    assert resolved[TOPIC] == "$T3"


@ALL
def test_topic_by_a_demoted_user_is_dropped(version: RoomVersion) -> None:
    dag, base = _room(version)
    base.topic("$T0", ALICE, "zero")
    base.power_levels("$PA", ALICE, _admins(version, bob=50))
    demote = base.fork()
    demote.power_levels("$PB", ALICE, _admins(version, bob=0))
    topic = base.fork()
    topic.topic("$T2", BOB, "two")

    resolved = dag.resolve(demote.state, topic.state)
    assert resolved[PL] == "$PB"
    assert resolved[TOPIC] == "$T0"


@ALL
@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        (("$TA", 5_000), ("$TB", 6_000), "$TB"),  # later timestamp is applied last
        (("$TA", 6_000), ("$TB", 5_000), "$TA"),
        (("$TA", 5_000), ("$TB", 5_000), "$TB"),  # same timestamp: greater event ID last
        (("$TZ", 5_000), ("$TB", 5_000), "$TZ"),
    ],
)
def test_mainline_ties_break_by_timestamp_then_event_id(
    version: RoomVersion, first: tuple[str, int], second: tuple[str, int], winner: str
) -> None:
    dag, base = _room(version)
    x = base.fork()
    x.topic(first[0], ALICE, "x", ts=first[1])
    y = base.fork()
    y.topic(second[0], ALICE, "y", ts=second[1])
    assert dag.resolve(x.state, y.state)[TOPIC] == winner
    assert dag.resolve(y.state, x.state)[TOPIC] == winner


# --- Join rules versus join --------------------------------------------------------------------


@ALL
def test_join_rules_change_beats_concurrent_join(version: RoomVersion) -> None:
    dag, base = _room(version)
    private = base.fork()
    private.join_rules("$JR2", ALICE, "invite")
    joiner = base.fork()
    joiner.join(ELLA, "$MELLA")  # the room was public on this branch

    resolved = dag.resolve(private.state, joiner.state)
    assert resolved[JR] == "$JR2"
    assert member(ELLA) not in resolved


@ALL
def test_invited_join_survives_join_rules_change(version: RoomVersion) -> None:
    dag, base = _room(version)
    base.membership("$INV", ALICE, ELLA, "invite")
    private = base.fork()
    private.join_rules("$JR2", ALICE, "invite")
    joiner = base.fork()
    joiner.join(ELLA, "$MELLA")

    resolved = dag.resolve(private.state, joiner.state)
    assert resolved[JR] == "$JR2"
    assert resolved[member(ELLA)] == "$MELLA"


# --- Events failing auth -----------------------------------------------------------------------


@ALL
def test_event_failing_auth_is_excluded(version: RoomVersion) -> None:
    dag, base = _room(version)
    good = base.fork()
    good.topic("$TA", ALICE, "legit")
    bad = base.fork()
    # Charlie (power 0) could not set the topic; a broken server accepted it anyway.
    with pytest.raises(Forbidden):
        bad.fork().topic("$NOPE", CHARLIE, "x")
    bad.topic("$TC", CHARLIE, "rogue", ts=99_999, check=False)

    resolved = dag.resolve(good.state, bad.state)
    assert resolved[TOPIC] == "$TA"


@ALL
def test_failing_power_event_is_excluded_and_later_events_use_the_surviving_one(
    version: RoomVersion,
) -> None:
    dag, base = _room(version)
    good = base.fork()
    good.power_levels("$PA", ALICE, _admins(version, bob=50))
    bad = base.fork()
    # Charlie grants himself 100: planted, would be refused.
    bad.power_levels("$PC", CHARLIE, _admins(version, charlie=100), check=False)
    bad.topic("$TC", CHARLIE, "mine", check=False)

    resolved = dag.resolve(good.state, bad.state)
    assert resolved[PL] == "$PA"
    assert TOPIC not in resolved


@pytest.mark.parametrize("version", [V11, V12], ids=["v11", "v12"])
def test_rejected_auth_events_are_not_used(version: RoomVersion) -> None:
    dag, base = _room(version, users={BOB: 50})
    # Bob's name event keeps his join in every auth chain, so only the two topics
    # are in the full conflicted set (no auth difference, no subgraph beyond them).
    base.send("$NAME", "m.room.name", BOB, {"name": "n"}, state_key="")
    x = base.fork()
    x.topic("$TA", ALICE, "a", ts=5_000)
    y = base.fork()
    y.topic("$TB", BOB, "b", ts=6_000)

    assert dag.resolve(x.state, y.state)[TOPIC] == "$TB"
    # Now say Bob's join was rejected on receipt. In v2 the unconflicted state still
    # holds it (state takes precedence over auth events); in v2.1 the partial state
    # starts empty, so $TB's own auth events are used, minus the rejected one.
    dag.rejected.add("$IMB")
    resolved = dag.resolve(x.state, y.state, is_rejected=dag.is_rejected)
    expected = "$TB" if version is V11 else "$TA"
    assert resolved[TOPIC] == expected


def test_rejected_event_on_a_conflicted_path_is_replayed_as_usual() -> None:
    # rooms/v2.md §Rejected events: events rejected on receipt are "handled as usual"
    # when they are part of the full conflicted set; only as *auth events* are they
    # skipped. Here $IMB lies on the auth path $TB -> $IMB -> $IPOWER between two
    # conflicted events, so v2.1 replays it and Bob's topic stands.
    dag, base = _room(V12)
    x = base.fork()
    x.topic("$TA", ALICE, "a", ts=5_000)
    y = base.fork()
    y.power_levels("$PA", ALICE, _admins(V12, bob=50), ts=5_001)
    y.topic("$TB", BOB, "b", ts=6_000)
    dag.rejected.add("$IMB")
    assert dag.resolve(x.state, y.state, is_rejected=dag.is_rejected)[TOPIC] == "$TB"


# --- Unconflicted state ------------------------------------------------------------------------


@ALL
def test_unconflicted_state_is_preserved(version: RoomVersion) -> None:
    dag, base = _room(version)
    # A planted topic both sides agree on stays, even though it would fail auth.
    base.topic("$TU", CHARLIE, "agreed", check=False)
    base.send("$NAME", "m.room.name", ALICE, {"name": "n"}, state_key="")
    x = base.fork()
    x.power_levels("$PX", ALICE, _admins(version, bob=10))
    y = base.fork()
    y.power_levels("$PY", ALICE, _admins(version, bob=20))

    resolved = dag.resolve(x.state, y.state)
    assert resolved[TOPIC] == "$TU"
    assert resolved[("m.room.name", "")] == "$NAME"
    assert resolved[member(CHARLIE)] == "$IMC"
    assert resolved[PL] in ("$PX", "$PY")


@ALL
def test_key_missing_from_one_state_set_is_conflicted(version: RoomVersion) -> None:
    dag, base = _room(version)
    x = base.fork()
    x.send("$NAME", "m.room.name", ALICE, {"name": "n"}, state_key="")
    assert dag.resolve(base.state, x.state)[("m.room.name", "")] == "$NAME"
    # Conflicted, so re-authorised: a name nobody could set does not survive.
    y = base.fork()
    y.send("$BADNAME", "m.room.name", CHARLIE, {"name": "n"}, state_key="", check=False)
    assert ("m.room.name", "") not in dag.resolve(base.state, y.state)


# --- Order independence and precomputed auth chains -------------------------------------------


def _three_way(version: RoomVersion) -> tuple[RoomDag, list[dict]]:
    dag, base = _room(version, members=(BOB, CHARLIE, ELLA))
    base.power_levels("$PA", ALICE, _admins(version, bob=50, charlie=60))
    a = base.fork()
    a.power_levels("$PB", ALICE, _admins(version, bob=0, charlie=60))
    a.topic("$TA", CHARLIE, "a")
    b = base.fork()
    b.membership("$BAN", BOB, ELLA, "ban")
    b.topic("$TB", BOB, "b")
    c = base.fork()
    c.join_rules("$JRC", CHARLIE, "invite")
    c.membership("$KICK", CHARLIE, BOB, "leave")
    return dag, [a.state, b.state, c.state]


@ALL
def test_resolution_is_order_independent(version: RoomVersion) -> None:
    dag, states = _three_way(version)
    results = [dag.resolve(*perm) for perm in itertools.permutations(states)]
    assert all(result == results[0] for result in results)
    assert results[0][PL] == "$PB"


@ALL
def test_precomputed_auth_chains_give_the_same_result(version: RoomVersion) -> None:
    dag, states = _three_way(version)
    chains = [naive_auth_chain(dag, state.values()) for state in states]
    assert dag.resolve(*states, auth_chains=chains) == dag.resolve(*states)


@ALL
def test_unfetchable_conflicted_event_is_ignored(version: RoomVersion) -> None:
    dag, base = _room(version)
    x = base.fork()
    x.topic("$TA", ALICE, "a")
    y = base.fork()
    y.topic("$TB", ALICE, "b")
    del dag.events["$TB"]
    assert dag.resolve(x.state, y.state)[TOPIC] == "$TA"


# --- v2 versus v2.1 (rooms/v12.md §State resolution) -------------------------------------------


def _outdated_join_rules(version: RoomVersion) -> tuple[RoomDag, dict, dict]:
    """Both sides agree Alice left after changing the join rules; one side has the
    older join rules (e.g. from a stale /state answer)."""
    dag, base = _room(version)
    base.join_rules("$JR2", ALICE, "invite")
    base.membership("$LEAVE", ALICE, ALICE, "leave")
    correct = dict(base.state)
    stale = dict(base.state)
    stale[JR] = "$IJR"
    return dag, correct, stale


def test_v2_starts_from_unconflicted_state_and_loses_the_join_rules() -> None:
    dag, correct, stale = _outdated_join_rules(V11)
    # Both join rules events are re-checked against a state where Alice has left.
    assert JR not in dag.resolve(correct, stale)


def test_v2_1_starts_from_empty_state_and_keeps_the_join_rules() -> None:
    dag, correct, stale = _outdated_join_rules(V12)
    # Each is checked against its own auth events: Alice was joined then.
    resolved = dag.resolve(correct, stale)
    assert resolved[JR] == "$JR2"
    assert resolved[member(ALICE)] == "$LEAVE"


def _outdated_power_levels(version: RoomVersion) -> tuple[RoomDag, dict, dict]:
    """Alice promotes Bob ($P1), Bob promotes Charlie ($P2), Charlie sets the topic.
    One side has the room's first power levels instead of $P2."""
    dag, base = _room(version)
    base.power_levels("$P1", ALICE, _admins(version, bob=50))
    base.power_levels("$P2", BOB, _admins(version, bob=50, charlie=50))
    base.topic("$TC", CHARLIE, "charlie's")
    correct = dict(base.state)
    stale = dict(base.state)
    stale[PL] = "$IPOWER"
    return dag, correct, stale


def test_v2_misses_the_intermediate_power_levels() -> None:
    dag, correct, stale = _outdated_power_levels(V11)
    # $P1 is in every auth chain, so not in the auth difference: $P2 is checked
    # against $IPOWER, where Bob has no power. A state reset.
    assert dag.resolve(correct, stale)[PL] == "$IPOWER"


def test_v2_1_replays_the_conflicted_state_subgraph() -> None:
    dag, correct, stale = _outdated_power_levels(V12)
    # $P1 lies on the auth path from $P2 to $IPOWER, so it is replayed in between.
    assert dag.resolve(correct, stale)[PL] == "$P2"
    assert dag.resolve(stale, correct)[PL] == "$P2"
