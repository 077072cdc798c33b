"""State resolution v2 (rooms v2-v11) and v2.1 (room v12).

Spec references (Matrix v1.19):

* rooms/v2.md §State resolution (fragment ``v2-state-res``): §Definitions (power
  events, unconflicted state map and conflicted state set, auth chain, auth
  difference, full conflicted set, reverse topological power ordering, mainline
  ordering, iterative auth checks), §Algorithm steps 1-5, §Rejected events.
* rooms/v12.md §State resolution ("v2.1"): the *conflicted state subgraph* joins the
  full conflicted set, and the first iterative auth checks (step 2) start from an
  *empty* state map instead of the unconflicted state map.
* server-server-api.md §Auth events selection: which ``(type, state_key)`` pairs
  the authorisation rules need for an event.

The module is pure: the outside world comes in as narrow callables
(ARCHITECTURE.md style rules 1-2):

* ``fetch_event(event_id) -> event | None`` returns PDU JSON (a mapping with an
  ``event_id`` key among the usual fields). ``auth_events`` may be a list of IDs
  (v3+) or of ``[event_id, {"sha256": ...}]`` pairs (v1-v2). Events it cannot
  supply are treated as absent: they are skipped while walking auth chains, and a
  conflicted event that cannot be fetched takes no part in the resolution.
* ``check_auth(version, event, auth_events)`` applies the authorisation rules and
  raises :class:`~myelin.protocol.errors.Forbidden` (any
  :class:`~myelin.protocol.errors.ProtocolError` counts) to reject. Its
  ``auth_events`` mapping is built by :func:`select_auth_events`.
* ``is_rejected(event_id) -> bool`` (optional) tells which events were rejected
  when received; rejected events are never used as auth events during the
  iterative auth checks (§Rejected events).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence, Set
from typing import Any, TypeAlias

from myelin.protocol.auth.auth_types import auth_types_for_event
from myelin.protocol.errors import ProtocolError
from myelin.protocol.room_versions import AuthorizationRules, RoomVersion, StateResAlgorithm
from myelin.protocol.state_res.sort import mainline_sort, reverse_topological_power_sort

__all__ = [
    "CheckAuth",
    "Event",
    "FetchEvent",
    "IsRejected",
    "StateKey",
    "StateMap",
    "auth_difference",
    "conflicted_state_subgraph",
    "is_power_event",
    "iterative_auth_checks",
    "required_auth_keys",
    "resolve",
    "select_auth_events",
    "sender_power_level",
    "split_state",
]

#: ``(event_type, state_key)``.
StateKey: TypeAlias = tuple[str, str]
#: A room state: key -> event ID.
StateMap: TypeAlias = Mapping[StateKey, str]
#: PDU JSON as a mapping (an ``event_id`` key is expected).
Event: TypeAlias = Mapping[str, Any]
#: Look an event up by ID; ``None`` when it is not available.
FetchEvent: TypeAlias = Callable[[str], Event | None]
#: The authorisation rules: raise ``Forbidden`` to reject.
CheckAuth: TypeAlias = Callable[[RoomVersion, Event, Mapping[StateKey, Event]], None]
#: Whether an event was rejected on receipt.
IsRejected: TypeAlias = Callable[[str], bool]

_CREATE = "m.room.create"
_POWER_LEVELS = "m.room.power_levels"
_JOIN_RULES = "m.room.join_rules"
_MEMBER = "m.room.member"
_THIRD_PARTY_INVITE = "m.room.third_party_invite"
_CREATE_KEY: StateKey = (_CREATE, "")
_POWER_LEVELS_KEY: StateKey = (_POWER_LEVELS, "")

# rooms/v1.md fragment ``v1-stringy-power-levels``: optional whitespace, optional
# sign, base-10 digits with optional leading zeroes.
_STRINGY_INT = re.compile(r"[ \t\n\r\f\v]*[+-]?[0-9]+[ \t\n\r\f\v]*\Z", re.ASCII)


def _never_rejected(event_id: str) -> bool:
    return False


# --- Lenient readers over PDU JSON (ARCHITECTURE.md style rule 5) ----------------------------


def _ref_ids(refs: Any) -> list[str]:
    """Event IDs of ``auth_events``/``prev_events`` in either wire format.

    v3+ (rooms/v3.md §Event format): a list of IDs. v1-v2: ``[[event_id, hashes], ...]``.
    Anything else is skipped.
    """
    if not isinstance(refs, list | tuple):
        return []
    ids: list[str] = []
    for ref in refs:
        if isinstance(ref, str):
            ids.append(ref)
        elif isinstance(ref, list | tuple) and ref and isinstance(ref[0], str):
            ids.append(ref[0])
    return ids


def _state_key_of(event: Event) -> StateKey | None:
    event_type = event.get("type")
    state_key = event.get("state_key")
    if isinstance(event_type, str) and isinstance(state_key, str):
        return (event_type, state_key)
    return None


def _content(event: Event) -> Mapping[str, Any]:
    content = event.get("content")
    return content if isinstance(content, Mapping) else {}


def _origin_server_ts(event: Event | None) -> int:
    if event is None:
        return 0
    ts = event.get("origin_server_ts")
    return ts if isinstance(ts, int) and not isinstance(ts, bool) else 0


def _create_event_id_for(event: Event) -> str | None:
    """rooms/v12.md §Event format: the room ID is the create event's ID with ``!``."""
    room_id = event.get("room_id")
    if isinstance(room_id, str) and room_id.startswith("!") and len(room_id) > 1:
        return "$" + room_id[1:]
    return None


def _power_value(value: Any, rules: AuthorizationRules) -> int | None:
    """One power-level value, or ``None`` when it is not usable.

    v10+ (rooms/v10.md): integers only. Before: also integer strings (fragment
    ``v1-stringy-power-levels``) and truncated floats (fragment
    ``v1-floaty-power-levels``).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if rules.integer_power_levels:
        return None
    if isinstance(value, str) and _STRINGY_INT.match(value):
        return int(value.strip())
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return None


def _creators(rules: AuthorizationRules, create: Event | None) -> set[str]:
    """The room creators according to the create event.

    v1-v10: ``content.creator``; v11+ (``implicit_room_creator``): the ``sender``;
    v12+ (``additional_creators``): plus ``content.additional_creators``.
    """
    if create is None:
        return set()
    content = _content(create)
    creators: set[str] = set()
    creator = create.get("sender") if rules.implicit_room_creator else content.get("creator")
    if isinstance(creator, str):
        creators.add(creator)
    if rules.additional_creators:
        extra = content.get("additional_creators")
        if isinstance(extra, list):
            creators.update(user for user in extra if isinstance(user, str))
    return creators


# --- Definitions -----------------------------------------------------------------------------


def is_power_event(event: Event) -> bool:
    """Whether ``event`` is a *power event* (rooms/v2.md §Definitions, "Power events").

    A state event of type ``m.room.power_levels`` or ``m.room.join_rules``, or an
    ``m.room.member`` state event with ``membership`` ``leave`` or ``ban`` whose
    ``sender`` is not its ``state_key`` (a kick or a ban).

    Args:
        event: PDU JSON.

    Returns:
        ``True`` for power events.
    """
    key = _state_key_of(event)
    if key is None:
        return False
    event_type, state_key = key
    if event_type in (_POWER_LEVELS, _JOIN_RULES):
        return True
    if event_type == _MEMBER:
        membership = _content(event).get("membership")
        return membership in ("leave", "ban") and event.get("sender") != state_key
    return False


def split_state(
    state_sets: Sequence[StateMap],
) -> tuple[dict[StateKey, str], set[str]]:
    """Split state maps into the unconflicted state map and the conflicted state set.

    rooms/v2.md §Definitions: a pair ``(K, V)`` is unconflicted if ``K`` is in
    every ``S_i`` with the same value ``V``; otherwise each ``V`` is conflicted
    (including when ``K`` is missing from some ``S_i``).

    Args:
        state_sets: The state maps to resolve.

    Returns:
        ``(unconflicted state map, conflicted state set of event IDs)``.
    """
    unconflicted: dict[StateKey, str] = {}
    conflicted: set[str] = set()
    if not state_sets:
        return unconflicted, conflicted
    first, rest = state_sets[0], state_sets[1:]
    keys: set[StateKey] = set(first)
    for state in rest:
        keys.update(state)
    for key in keys:
        value = first.get(key)
        if value is not None and all(state.get(key) == value for state in rest):
            unconflicted[key] = value
            continue
        for state in state_sets:
            other = state.get(key)
            if other is not None:
                conflicted.add(other)
    return unconflicted, conflicted


def required_auth_keys(version: RoomVersion, event: Event) -> tuple[StateKey, ...]:
    """The state keys the authorisation rules consult for ``event``.

    This is server-server-api.md §Auth events selection (the auth module's
    :func:`~myelin.protocol.auth.auth_types.auth_types_for_event`), with the create
    event always listed, including in room versions where it is implied by the room ID
    rather than selected (rooms/v12.md: ``room_create_event_id_as_room_id``), because
    the authorisation rules still read it.

    Args:
        version: The room version.
        event: PDU JSON.

    Returns:
        The keys in a fixed order, without duplicates; empty for ``m.room.create``.
    """
    event_type = event.get("type")
    if event_type == _CREATE or not isinstance(event_type, str):
        return ()
    sender = event.get("sender")
    state_key = event.get("state_key")
    selected = auth_types_for_event(version, event_type, sender if isinstance(sender, str) else "",
                                    state_key if isinstance(state_key, str) else None,
                                    _content(event))
    return tuple(dict.fromkeys([_CREATE_KEY, *selected]))


def select_auth_events(
    version: RoomVersion,
    event: Event,
    state: StateMap,
    fetch_event: FetchEvent,
    is_rejected: IsRejected = _never_rejected,
) -> dict[StateKey, Event]:
    """The auth events to check ``event`` against during the iterative auth checks.

    rooms/v2.md §Definitions, "Iterative auth checks": for each key the
    authorisation rules need (:func:`required_auth_keys`), take the event from the
    partially resolved ``state``; if the key is not in it, take "the appropriate
    state event from the event's ``auth_events`` ... if the auth event is not
    rejected". Where the create event is implied by the room ID (v12), it is
    fetched from there when neither source has it.

    Args:
        version: The room version.
        event: PDU JSON of the event to check.
        state: The partially resolved state (key -> event ID).
        fetch_event: Look an event up by ID.
        is_rejected: Whether an event was rejected on receipt.

    Returns:
        ``(type, state_key) -> event`` for the keys that could be filled.
    """
    keys = required_auth_keys(version, event)
    if not keys:
        return {}
    wanted = set(keys)
    own: dict[StateKey, Event] = {}
    for auth_id in _ref_ids(event.get("auth_events")):
        if is_rejected(auth_id):
            continue
        auth_event = fetch_event(auth_id)
        if auth_event is None:
            continue
        key = _state_key_of(auth_event)
        if key is not None and key in wanted and key not in own:
            own[key] = auth_event
    selected: dict[StateKey, Event] = {}
    for key in keys:
        state_id = state.get(key)
        if state_id is not None:
            state_event = fetch_event(state_id)
            if state_event is not None:
                selected[key] = state_event
                continue
        if key in own:
            selected[key] = own[key]
    if _CREATE_KEY not in selected and version.authorization.room_create_event_id_as_room_id:
        create_id = _create_event_id_for(event)
        if create_id is not None and not is_rejected(create_id):
            create = fetch_event(create_id)
            if create is not None and _state_key_of(create) == _CREATE_KEY:
                selected[_CREATE_KEY] = create
    return selected


def sender_power_level(
    version: RoomVersion,
    event: Event,
    fetch_event: FetchEvent,
) -> float:
    """The sender's power level "when looking at [the event's] ``auth_event``\\ s".

    Used by the reverse topological power ordering (rooms/v2.md §Definitions).
    With an ``m.room.power_levels`` auth event: ``users[sender]``, else
    ``users_default``, else 0. Without one: 100 for the room creator, 0 for
    everyone else (``m.room.power_levels`` event schema). In v12+
    (``privileged_creators``) room creators have infinite power (``math.inf``).

    Args:
        version: The room version.
        event: PDU JSON.
        fetch_event: Look an event up by ID (for the auth events).

    Returns:
        The power level.
    """
    rules = version.authorization
    power_levels: Event | None = None
    create: Event | None = None
    for auth_id in _ref_ids(event.get("auth_events")):
        auth_event = fetch_event(auth_id)
        if auth_event is None:
            continue
        key = _state_key_of(auth_event)
        if key == _POWER_LEVELS_KEY and power_levels is None:
            power_levels = auth_event
        elif key == _CREATE_KEY and create is None:
            create = auth_event
    if create is None and rules.room_create_event_id_as_room_id:
        create_id = _create_event_id_for(event)
        candidate = fetch_event(create_id) if create_id is not None else None
        if candidate is not None and _state_key_of(candidate) == _CREATE_KEY:
            create = candidate
    sender = event.get("sender")
    if rules.privileged_creators and sender in _creators(rules, create):
        return math.inf
    if power_levels is not None:
        content = _content(power_levels)
        users = content.get("users")
        if isinstance(users, Mapping) and isinstance(sender, str) and sender in users:
            level = _power_value(users[sender], rules)
            if level is not None:
                return level
        default = _power_value(content.get("users_default", 0), rules)
        return default if default is not None else 0
    return 100 if sender in _creators(rules, create) else 0


# --- The auth DAG, walked lazily with memoisation ---------------------------------------------


class _AuthGraph:
    """Events and their auth edges, fetched once each."""

    def __init__(self, fetch_event: FetchEvent, version: RoomVersion | None = None) -> None:
        # The version is only needed for sender power levels.
        self._version = version
        self._fetch_event = fetch_event
        self._events: dict[str, Event | None] = {}
        self._auth_ids: dict[str, tuple[str, ...]] = {}
        self._power_levels_of: dict[str, str | None] = {}
        self._sender_power: dict[str, float] = {}

    def get(self, event_id: str) -> Event | None:
        try:
            return self._events[event_id]
        except KeyError:
            event = self._fetch_event(event_id)
            self._events[event_id] = event
            return event

    def auth_ids(self, event_id: str) -> tuple[str, ...]:
        ids = self._auth_ids.get(event_id)
        if ids is None:
            event = self.get(event_id)
            ids = tuple(dict.fromkeys(_ref_ids(event.get("auth_events")))) if event else ()
            self._auth_ids[event_id] = ids
        return ids

    def state_key(self, event_id: str) -> StateKey | None:
        event = self.get(event_id)
        return _state_key_of(event) if event is not None else None

    def origin_server_ts(self, event_id: str) -> int:
        return _origin_server_ts(self.get(event_id))

    def power_levels_of(self, event_id: str) -> str | None:
        """The ``m.room.power_levels`` event among ``event_id``'s auth events."""
        try:
            return self._power_levels_of[event_id]
        except KeyError:
            pass
        found: str | None = None
        for auth_id in self.auth_ids(event_id):
            if self.state_key(auth_id) == _POWER_LEVELS_KEY:
                found = auth_id
                break
        self._power_levels_of[event_id] = found
        return found

    def sender_power_level(self, event_id: str) -> float:
        level = self._sender_power.get(event_id)
        if level is None:
            assert self._version is not None, "sender power levels need a room version"
            event = self.get(event_id)
            level = sender_power_level(self._version, event, self.get) if event else 0
            self._sender_power[event_id] = level
        return level

    def closure(self, starts: Iterable[str], stop: Set[str] = frozenset()) -> set[str]:
        """Events reachable from ``starts`` by one or more auth edges.

        Nodes in ``stop`` are neither entered nor returned.
        """
        seen: set[str] = set()
        stack: list[str] = []
        for start in starts:
            stack.extend(self.auth_ids(start))
        while stack:
            event_id = stack.pop()
            if event_id in seen or event_id in stop:
                continue
            seen.add(event_id)
            stack.extend(self.auth_ids(event_id))
        return seen


def auth_difference(
    state_sets: Sequence[StateMap],
    fetch_event: FetchEvent,
    *,
    auth_chains: Sequence[Set[str]] | None = None,
) -> set[str]:
    """The *auth difference* ``∪ C_i − ∩ C_i`` (rooms/v2.md §Definitions).

    ``C_i``, the full auth chain of ``S_i``, is the union of the auth chains of its
    events (an event is in its own auth chain only if another event reaches it).

    Args:
        state_sets: The state maps.
        fetch_event: Look an event up by ID (unused when ``auth_chains`` is given).
        auth_chains: Precomputed ``C_i`` aligned with ``state_sets``, e.g. from a
            chain index in the database.

    Returns:
        The event IDs in some but not all full auth chains.

    Raises:
        ValueError: if ``auth_chains`` does not match ``state_sets`` in length.
    """
    if auth_chains is not None:
        if len(auth_chains) != len(state_sets):
            raise ValueError("auth_chains must have one entry per state set")
        if not auth_chains:
            return set()
        union: set[str] = set().union(*auth_chains)
        common = set(auth_chains[0]).intersection(*auth_chains[1:])
        return union - common
    unconflicted, _ = split_state(state_sets)
    return _auth_difference_by_walking(state_sets, unconflicted, _AuthGraph(fetch_event))


def _auth_difference_by_walking(
    state_sets: Sequence[StateMap],
    unconflicted: Mapping[StateKey, str],
    graph: _AuthGraph,
) -> set[str]:
    # Everything below the unconflicted events is in every C_i, and auth chains are
    # closed under taking auth events, so the walk from each state set's own
    # conflicted events can stop there: C_i = U ∪ D_i with D_i disjoint from U, and
    # ∪C_i − ∩C_i = ∪D_i − ∩D_i.
    common = graph.closure(unconflicted.values())
    partial_chains: list[set[str]] = []
    for state in state_sets:
        own = [event_id for key, event_id in state.items() if unconflicted.get(key) != event_id]
        partial_chains.append(graph.closure(own, stop=common))
    if not partial_chains:
        return set()
    union: set[str] = set().union(*partial_chains)
    return union - partial_chains[0].intersection(*partial_chains[1:])


def conflicted_state_subgraph(
    conflicted: Iterable[str],
    auth_event_ids: Callable[[str], Iterable[str]],
) -> set[str]:
    """The *conflicted state subgraph* (rooms/v12.md §Definitions).

    All events on an ``auth_events`` path from one conflicted event to another,
    endpoints included: the conflicted events, plus every event reachable from a
    conflicted event from which a conflicted event is reachable. One iterative
    post-order walk, so each event is visited once.

    Args:
        conflicted: The conflicted state set.
        auth_event_ids: An event's ``auth_events`` IDs.

    Returns:
        The subgraph's event IDs (a superset of ``conflicted``).
    """
    targets = set(conflicted)
    # reaches[x]: x reaches a conflicted event by one or more auth edges.
    reaches: dict[str, bool] = {}
    children: dict[str, tuple[str, ...]] = {}
    stack: list[tuple[str, bool]] = [(event_id, False) for event_id in targets]
    while stack:
        event_id, expanded = stack.pop()
        if expanded:
            reaches[event_id] = any(
                child in targets or reaches.get(child, False) for child in children[event_id]
            )
            continue
        if event_id in children:
            continue
        children[event_id] = tuple(auth_event_ids(event_id))
        stack.append((event_id, True))
        stack.extend((child, False) for child in children[event_id] if child not in children)
    return targets | {event_id for event_id, hit in reaches.items() if hit}


# --- Iterative auth checks --------------------------------------------------------------------


def iterative_auth_checks(
    version: RoomVersion,
    event_ids: Iterable[str],
    initial_state: StateMap,
    fetch_event: FetchEvent,
    check_auth: CheckAuth,
    is_rejected: IsRejected = _never_rejected,
) -> dict[StateKey, str]:
    """The *iterative auth checks algorithm* (rooms/v2.md §Definitions).

    Starting from ``initial_state``, each event in turn is checked against the
    auth events from :func:`select_auth_events`; if allowed it replaces its key in
    the state, otherwise it is ignored. Events that cannot be fetched, or that are
    not state events, are skipped.

    Args:
        version: The room version.
        event_ids: The sorted events.
        initial_state: The state to start from (not modified).
        fetch_event: Look an event up by ID.
        check_auth: The authorisation rules; raising a ``ProtocolError`` (normally
            ``Forbidden``) rejects the event.
        is_rejected: Whether an event was rejected on receipt.

    Returns:
        The new state.
    """
    graph = _AuthGraph(fetch_event, version)
    return _iterative_auth_checks(version, event_ids, initial_state, graph, check_auth, is_rejected)


def _iterative_auth_checks(
    version: RoomVersion,
    event_ids: Iterable[str],
    initial_state: StateMap,
    graph: _AuthGraph,
    check_auth: CheckAuth,
    is_rejected: IsRejected,
) -> dict[StateKey, str]:
    state = dict(initial_state)
    for event_id in event_ids:
        event = graph.get(event_id)
        if event is None:
            continue
        key = _state_key_of(event)
        if key is None:
            continue
        auth_events = select_auth_events(version, event, state, graph.get, is_rejected)
        try:
            check_auth(version, event, auth_events)
        except ProtocolError:
            continue
        state[key] = event_id
    return state


# --- The algorithm ----------------------------------------------------------------------------


def resolve(
    version: RoomVersion,
    state_sets: Sequence[StateMap],
    fetch_event: FetchEvent,
    check_auth: CheckAuth,
    *,
    auth_chains: Sequence[Set[str]] | None = None,
    is_rejected: IsRejected | None = None,
) -> dict[StateKey, str]:
    """Resolve state maps with state resolution v2 or v2.1 (rooms/v2.md, rooms/v12.md).

    1. Take the power events of the full conflicted set (v2.1: including the
       conflicted state subgraph) plus the parts of their auth chains inside it,
       sorted by the reverse topological power ordering.
    2. Apply the iterative auth checks to them, starting from the unconflicted
       state map (v2) or from an empty state map (v2.1).
    3. Sort the remaining events of the full conflicted set by the mainline
       ordering based on the power levels of the partially resolved state.
    4. Apply the iterative auth checks to them on top of the partial state.
    5. Overwrite with the unconflicted state map.

    The result does not depend on the order of ``state_sets``.

    Args:
        version: The room version; its ``state_res`` must be v2 or v2.1.
        state_sets: The state maps ``S_i`` (``(type, state_key) -> event ID``).
        fetch_event: Look an event up by ID. Must supply the conflicted events and
            their auth chains (unavailable ones are treated as absent).
        check_auth: The authorisation rules (see module docstring).
        auth_chains: Optional precomputed full auth chain of each state map,
            aligned with ``state_sets``; by default they are walked via
            ``fetch_event``.
        is_rejected: Optional: whether an event was rejected on receipt. Such
            events are never used as auth events. Defaults to "none are".

    Returns:
        The resolved state map.

    Raises:
        ValueError: for a room version that does not use v2/v2.1, for
            ``auth_chains`` of the wrong length, or for a cycle in the auth
            graph among the events being sorted.
    """
    if version.state_res not in (StateResAlgorithm.V2, StateResAlgorithm.V2_1):
        raise ValueError(
            f"room version {version.identifier} uses state resolution {version.state_res}"
        )
    if auth_chains is not None and len(auth_chains) != len(state_sets):
        raise ValueError("auth_chains must have one entry per state set")
    rejected = is_rejected or _never_rejected
    is_v2_1 = version.state_res is StateResAlgorithm.V2_1

    unconflicted, conflicted = split_state(state_sets)
    if not conflicted:
        # Identical state maps (no key differs anywhere): nothing to resolve, and the
        # auth difference is empty too.
        return unconflicted

    graph = _AuthGraph(fetch_event, version)
    if auth_chains is not None:
        difference = auth_difference(state_sets, fetch_event, auth_chains=auth_chains)
    else:
        difference = _auth_difference_by_walking(state_sets, unconflicted, graph)

    # §Definitions, "Full conflicted set" (v2.1 adds the conflicted state subgraph).
    full_conflicted = conflicted | difference
    if is_v2_1:
        full_conflicted |= conflicted_state_subgraph(conflicted, graph.auth_ids)
    # Only state events we can read take part.
    full_conflicted = {
        event_id for event_id in full_conflicted if graph.state_key(event_id) is not None
    }

    # Step 1: power events, enlarged by their auth chains within the full conflicted set.
    power_events = {
        event_id
        for event_id in full_conflicted
        if is_power_event(graph.get(event_id) or {})  # fetched above, never None here
    }
    selected = power_events | (graph.closure(power_events) & full_conflicted)
    sorted_power = reverse_topological_power_sort(
        selected, graph.auth_ids, graph.sender_power_level, graph.origin_server_ts
    )

    # Step 2.
    initial: StateMap = {} if is_v2_1 else unconflicted
    partial = _iterative_auth_checks(version, sorted_power, initial, graph, check_auth, rejected)

    # Step 3.
    remaining = full_conflicted - selected
    sorted_rest = mainline_sort(
        remaining,
        partial.get(_POWER_LEVELS_KEY),
        graph.power_levels_of,
        graph.origin_server_ts,
    )

    # Step 4.
    resolved = _iterative_auth_checks(version, sorted_rest, partial, graph, check_auth, rejected)

    # Step 5.
    resolved.update(unconflicted)
    return resolved
