"""State resolution for room versions 2-12 (rooms/v2.md and rooms/v12.md §State resolution).

:func:`resolve` is the entry point; the orderings live in
:mod:`myelin.protocol.state_res.sort`.
"""

from myelin.protocol.state_res.sort import (
    INFINITE_POSITION,
    MainlineOrder,
    lexicographic_topological_sort,
    mainline,
    mainline_sort,
    reverse_topological_power_sort,
)
from myelin.protocol.state_res.v2 import (
    CheckAuth,
    Event,
    FetchEvent,
    IsRejected,
    StateKey,
    StateMap,
    auth_difference,
    conflicted_state_subgraph,
    is_power_event,
    iterative_auth_checks,
    required_auth_keys,
    resolve,
    select_auth_events,
    sender_power_level,
    split_state,
)

__all__ = [
    "INFINITE_POSITION",
    "CheckAuth",
    "Event",
    "FetchEvent",
    "IsRejected",
    "MainlineOrder",
    "StateKey",
    "StateMap",
    "auth_difference",
    "conflicted_state_subgraph",
    "is_power_event",
    "iterative_auth_checks",
    "lexicographic_topological_sort",
    "mainline",
    "mainline_sort",
    "required_auth_keys",
    "resolve",
    "reverse_topological_power_sort",
    "select_auth_events",
    "sender_power_level",
    "split_state",
]
