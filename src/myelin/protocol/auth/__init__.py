"""Event authorisation: the auth rules of room versions 1-12 as pure functions.

Spec references (Matrix v1.19): rooms/vN.md §Authorisation rules; server-server
§Checks performed on receipt of a PDU, §Auth events selection.

* :func:`auth_types_for_event` — which state an event's ``auth_events`` reference.
* :func:`check_auth` — the authorisation algorithm, raising
  :class:`~myelin.protocol.errors.Forbidden` naming the failed rule; split into
  :func:`check_state_independent` and :func:`check_state_dependent`.
* :class:`PowerLevels` — users' levels (v12 creators: :data:`INFINITE_POWER_LEVEL`)
  and required levels.
"""

from myelin.protocol.auth.auth_types import StateKey, auth_types_for_event
from myelin.protocol.auth.power_levels import (
    INFINITE_POWER_LEVEL,
    InfinitePowerLevel,
    PowerLevel,
    PowerLevels,
    room_creators,
    user_power_level,
)
from myelin.protocol.auth.rules import (
    AuthEvents,
    SignatureVerifier,
    check_auth,
    check_state_dependent,
    check_state_independent,
)

__all__ = [
    "INFINITE_POWER_LEVEL",
    "AuthEvents",
    "InfinitePowerLevel",
    "PowerLevel",
    "PowerLevels",
    "SignatureVerifier",
    "StateKey",
    "auth_types_for_event",
    "check_auth",
    "check_state_dependent",
    "check_state_independent",
    "room_creators",
    "user_power_level",
]
