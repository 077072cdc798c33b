"""Unit tests for the building blocks in myelin.protocol.state_res.v2."""

from __future__ import annotations

import math
from typing import Any

import pytest

from myelin.protocol.errors import BadJson, Forbidden
from myelin.protocol.room_versions import V1, V6, V7, V8, V10, V11, V12, RoomVersion
from myelin.protocol.state_res import (
    auth_difference,
    conflicted_state_subgraph,
    is_power_event,
    iterative_auth_checks,
    required_auth_keys,
    select_auth_events,
    sender_power_level,
    split_state,
)

A = "@a:x"
B = "@b:x"


def _ev(event_id: str, event_type: str, sender: str = A, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": event_type, "sender": sender, **fields}


# --- Power events ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (_ev("$1", "m.room.power_levels", state_key="", content={}), True),
        (_ev("$1", "m.room.join_rules", state_key="", content={"join_rule": "public"}), True),
        (_ev("$1", "m.room.member", A, state_key=B, content={"membership": "ban"}), True),
        (_ev("$1", "m.room.member", A, state_key=B, content={"membership": "leave"}), True),
        # Leaving (or being unbanned by yourself...) is not a power event.
        (_ev("$1", "m.room.member", A, state_key=A, content={"membership": "leave"}), False),
        (_ev("$1", "m.room.member", A, state_key=B, content={"membership": "invite"}), False),
        (_ev("$1", "m.room.member", A, state_key=A, content={"membership": "join"}), False),
        (_ev("$1", "m.room.topic", state_key="", content={}), False),
        (_ev("$1", "m.room.create", state_key="", content={}), False),
        # Not a state event.
        (_ev("$1", "m.room.power_levels", content={}), False),
        (_ev("$1", "m.room.member", A, state_key=B, content="nonsense"), False),
    ],
)
def test_is_power_event(event: dict[str, Any], expected: bool) -> None:
    assert is_power_event(event) is expected


# --- Unconflicted / conflicted -----------------------------------------------------------------


def test_split_state() -> None:
    s1 = {("a", ""): "$1", ("b", ""): "$2", ("c", ""): "$3"}
    s2 = {("a", ""): "$1", ("b", ""): "$4"}
    s3 = {("a", ""): "$1", ("b", ""): "$2", ("d", ""): "$5"}
    unconflicted, conflicted = split_state([s1, s2, s3])
    assert unconflicted == {("a", ""): "$1"}
    assert conflicted == {"$2", "$4", "$3", "$5"}
    assert split_state([]) == ({}, set())
    assert split_state([s1]) == (s1, set())


# --- Auth events selection ---------------------------------------------------------------------

CREATE_KEY = ("m.room.create", "")
PL_KEY = ("m.room.power_levels", "")
JR_KEY = ("m.room.join_rules", "")


def _member(sender: str, target: str, content: dict[str, Any]) -> dict[str, Any]:
    return _ev("$m", "m.room.member", sender, state_key=target, content=content)


def test_required_auth_keys_basic() -> None:
    topic = _ev("$t", "m.room.topic", A, state_key="", content={})
    assert required_auth_keys(V11, topic) == (CREATE_KEY, PL_KEY, ("m.room.member", A))
    assert required_auth_keys(V11, _ev("$c", "m.room.create", state_key="")) == ()


def test_required_auth_keys_membership() -> None:
    join = _member(B, B, {"membership": "join"})
    assert required_auth_keys(V11, join) == (CREATE_KEY, PL_KEY, ("m.room.member", B), JR_KEY)
    kick = _member(A, B, {"membership": "leave"})
    assert required_auth_keys(V11, kick) == (
        CREATE_KEY,
        PL_KEY,
        ("m.room.member", A),
        ("m.room.member", B),
    )
    invite = _member(
        A, B, {"membership": "invite", "third_party_invite": {"signed": {"token": "t"}}}
    )
    assert ("m.room.third_party_invite", "t") in required_auth_keys(V11, invite)
    assert JR_KEY in required_auth_keys(V11, invite)


def test_required_auth_keys_depend_on_room_version_features() -> None:
    # §Auth events selection lists the join rules for join, invite and knock in every
    # version (a knock before v7 is refused by the auth rules, not by the selection).
    knock = _member(B, B, {"membership": "knock"})
    assert JR_KEY in required_auth_keys(V6, knock)
    assert JR_KEY in required_auth_keys(V7, knock)
    via = _member(B, B, {"membership": "join", "join_authorised_via_users_server": A})
    assert ("m.room.member", A) not in required_auth_keys(V7, via)
    assert ("m.room.member", A) in required_auth_keys(V8, via)


def test_select_auth_events_prefers_state_then_own_auth_events() -> None:
    events = {
        "$create": _ev("$create", "m.room.create", state_key="", content={}),
        "$pl_old": _ev("$pl_old", "m.room.power_levels", state_key="", content={}),
        "$pl_new": _ev("$pl_new", "m.room.power_levels", state_key="", content={}),
        "$ma": _ev("$ma", "m.room.member", A, state_key=A, content={"membership": "join"}),
        "$topic_old": _ev("$topic_old", "m.room.topic", state_key="", content={}),
    }
    topic = _ev(
        "$t",
        "m.room.topic",
        A,
        state_key="",
        content={},
        auth_events=["$create", "$pl_old", "$ma", "$topic_old"],
    )
    state = {PL_KEY: "$pl_new", ("m.room.topic", ""): "$topic_old"}
    selected = select_auth_events(V11, topic, state, events.get)
    assert {key: ev["event_id"] for key, ev in selected.items()} == {
        CREATE_KEY: "$create",
        PL_KEY: "$pl_new",  # from the state
        ("m.room.member", A): "$ma",  # not in the state: from the event's auth events
    }  # the topic is not an auth type
    # A rejected auth event is not used.
    selected = select_auth_events(V11, topic, {}, events.get, lambda e: e == "$ma")
    assert ("m.room.member", A) not in selected
    # A state entry that cannot be fetched falls back to the auth event.
    selected = select_auth_events(V11, topic, {PL_KEY: "$gone"}, events.get)
    assert selected[PL_KEY]["event_id"] == "$pl_old"


def test_select_auth_events_accepts_v1_reference_pairs() -> None:
    events = {"$pl": _ev("$pl", "m.room.power_levels", state_key="", content={})}
    topic = _ev("$t", "m.room.topic", state_key="", auth_events=[["$pl", {"sha256": "x"}]])
    assert select_auth_events(V1, topic, {}, events.get)[PL_KEY]["event_id"] == "$pl"


def test_select_auth_events_finds_the_v12_create_event_from_the_room_id() -> None:
    create = _ev("$abc", "m.room.create", state_key="", content={})
    topic = _ev("$t", "m.room.topic", state_key="", room_id="!abc", auth_events=[])
    events = {"$abc": create}
    assert select_auth_events(V12, topic, {}, events.get)[CREATE_KEY] is create
    # Not for earlier versions, where the create event is an auth event.
    assert CREATE_KEY not in select_auth_events(V11, topic, {}, events.get)
    # And not when rejected.
    assert CREATE_KEY not in select_auth_events(V12, topic, {}, events.get, lambda _: True)


# --- Sender power level ------------------------------------------------------------------------


def _with_pl(version: RoomVersion, pl_content: dict[str, Any] | None, sender: str) -> float:
    create = _ev("$create", "m.room.create", A, state_key="", content={"creator": A})
    events: dict[str, dict[str, Any]] = {"$create": create}
    auth = ["$create"]
    if pl_content is not None:
        events["$pl"] = _ev("$pl", "m.room.power_levels", state_key="", content=pl_content)
        auth.append("$pl")
    event = _ev("$e", "m.room.topic", sender, state_key="", auth_events=auth, room_id="!create")
    return sender_power_level(version, event, events.get)


def test_sender_power_level_from_power_levels() -> None:
    content = {"users": {B: 42}, "users_default": 7}
    assert _with_pl(V11, content, B) == 42
    assert _with_pl(V11, content, "@c:x") == 7
    assert _with_pl(V11, {"users": {}}, "@c:x") == 0


def test_sender_power_level_without_power_levels_is_100_for_the_creator() -> None:
    assert _with_pl(V10, None, A) == 100  # content.creator
    assert _with_pl(V10, None, B) == 0
    assert _with_pl(V11, None, A) == 100  # the create event's sender


def test_sender_power_level_stringy_and_floaty_values_before_v10() -> None:
    content = {"users": {B: " +050 "}, "users_default": 3.9}
    assert _with_pl(V1, content, B) == 50
    assert _with_pl(V1, content, "@c:x") == 3
    # v10+: integers only; unusable values fall back to the defaults.
    assert _with_pl(V10, content, B) == 0
    assert _with_pl(V10, {"users": {B: True}, "users_default": 5}, B) == 5


def test_sender_power_level_v12_creators_are_infinite() -> None:
    create = _ev("$create", "m.room.create", A, state_key="", content={"additional_creators": [B]})
    pl = _ev("$pl", "m.room.power_levels", state_key="", content={"users": {"@c:x": 100}})
    events = {"$create": create, "$pl": pl}
    for sender, expected in ((A, math.inf), (B, math.inf), ("@c:x", 100)):
        # The create event is not an auth event in v12: it is found from the room ID.
        event = _ev("$e", "m.room.topic", sender, room_id="!create", auth_events=["$pl"])
        assert sender_power_level(V12, event, events.get) == expected
    # v11 has neither privileged nor additional creators.
    event = _ev("$e", "m.room.topic", B, auth_events=["$create", "$pl"])
    assert sender_power_level(V11, event, events.get) == 0


# --- Auth difference and conflicted state subgraph --------------------------------------------


def _chain_graph() -> dict[str, dict[str, Any]]:
    # c <- a1 <- a2 ; c <- b1 ; a2 and b1 are "tips".
    def ev(event_id: str, *auth: str) -> dict[str, Any]:
        return _ev(event_id, "t", state_key=event_id, auth_events=list(auth))

    return {
        "$c": ev("$c"),
        "$a1": ev("$a1", "$c"),
        "$a2": ev("$a2", "$a1", "$c"),
        "$b1": ev("$b1", "$c"),
    }


def test_auth_difference_walks_or_uses_precomputed_chains() -> None:
    events = _chain_graph()
    s1 = {("t", "x"): "$a2"}
    s2 = {("t", "x"): "$b1"}
    assert auth_difference([s1, s2], events.get) == {"$a1"}
    chains = [{"$a1", "$c"}, {"$c"}]
    assert auth_difference([s1, s2], events.get, auth_chains=chains) == {"$a1"}
    with pytest.raises(ValueError):
        auth_difference([s1, s2], events.get, auth_chains=chains[:1])
    # Unconflicted events' chains are in every C_i: $a2 brings $a1 into both.
    s1u = {**s1, ("t", "u"): "$a2"}
    s2u = {**s2, ("t", "u"): "$a2"}
    assert auth_difference([s1u, s2u], events.get) == set()
    # An event is in a chain only if something reaches it, not by being in the state.
    s1v = {**s1, ("t", "v"): "$a1"}
    s2v = {**s2, ("t", "v"): "$a1"}
    assert auth_difference([s1v, s2v], events.get) == {"$a1"}


def test_conflicted_state_subgraph() -> None:
    # x -> p -> q -> y, x -> r (dead end), q -> z (below y's level but unrelated).
    edges = {"x": ["p", "r"], "p": ["q"], "q": ["y", "z"], "y": ["w"], "r": [], "z": [], "w": []}
    assert conflicted_state_subgraph({"x", "y"}, edges.__getitem__) == {"x", "p", "q", "y"}
    assert conflicted_state_subgraph({"x"}, edges.__getitem__) == {"x"}
    assert conflicted_state_subgraph({"r", "z"}, edges.__getitem__) == {"r", "z"}


def test_conflicted_state_subgraph_deep_chain() -> None:
    n = 50_000
    edges = {f"e{i}": ([f"e{i - 1}"] if i else []) for i in range(n)}
    subgraph = conflicted_state_subgraph({f"e{n - 1}", "e10"}, edges.__getitem__)
    assert subgraph == {f"e{i}" for i in range(10, n)}


# --- Iterative auth checks ---------------------------------------------------------------------


def test_iterative_auth_checks_apply_allowed_and_skip_refused_events() -> None:
    events = {
        "$ok": _ev("$ok", "m.room.topic", state_key="", content={"allow": True}),
        "$no": _ev("$no", "m.room.name", state_key="", content={"allow": False}),
        "$bad": _ev("$bad", "m.room.name", state_key="", content={"allow": "malformed"}),
        "$msg": _ev("$msg", "m.room.message", content={"allow": True}),
    }
    seen: list[str] = []

    def check(version: RoomVersion, event: Any, auth_events: Any) -> None:
        seen.append(event["event_id"])
        allow = event["content"]["allow"]
        if allow is False:
            raise Forbidden("no")
        if allow == "malformed":
            raise BadJson("malformed")

    initial = {("m.room.name", ""): "$old"}
    state = iterative_auth_checks(
        V11, ["$ok", "$no", "$bad", "$msg", "$missing"], initial, events.get, check
    )
    assert state == {("m.room.name", ""): "$old", ("m.room.topic", ""): "$ok"}
    assert initial == {("m.room.name", ""): "$old"}
    # Non-state and unknown events are never checked.
    assert seen == ["$ok", "$no", "$bad"]


def test_iterative_auth_checks_see_the_growing_state() -> None:
    events = {
        "$pl": _ev("$pl", "m.room.power_levels", state_key="", content={}),
        "$t": _ev("$t", "m.room.topic", state_key="", content={}, auth_events=[]),
    }
    given: dict[str, Any] = {}

    def check(version: RoomVersion, event: Any, auth_events: Any) -> None:
        given[event["event_id"]] = {k: v["event_id"] for k, v in auth_events.items()}

    iterative_auth_checks(V11, ["$pl", "$t"], {}, events.get, check)
    assert given["$t"] == {PL_KEY: "$pl"}
