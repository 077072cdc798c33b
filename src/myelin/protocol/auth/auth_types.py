"""Which state an event's ``auth_events`` should reference.

Spec references (Matrix v1.19): server-server §Auth events selection;
rooms/v12.md §Authorisation rules note ("The ``m.room.create`` event MUST NOT be
selected for ``auth_events`` on events") and rule 3.2; rooms/v8.md rule 4.3.5 and
the feature matrix in rooms/_index.md (restricted rooms from v8).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from myelin.protocol.auth.content import MemberContent
from myelin.protocol.room_versions import RoomVersion

__all__ = ["auth_types_for_event", "StateKey"]

#: A state map key: ``(event_type, state_key)``.
StateKey = tuple[str, str]

_CREATE: StateKey = ("m.room.create", "")
_POWER_LEVELS: StateKey = ("m.room.power_levels", "")
_JOIN_RULES: StateKey = ("m.room.join_rules", "")


def auth_types_for_event(
    version: RoomVersion,
    event_type: str,
    sender: str,
    state_key: str | None,
    content: Mapping[str, Any],
) -> list[StateKey]:
    """The state keys whose current events belong in an event's ``auth_events``.

    server-server §Auth events selection: the ``auth_events`` of ``m.room.create``
    are empty; for any other event they are, where present in the room state:

    * the ``m.room.create`` event — except in v12 (``room_create_event_id_as_room_id``),
      where the room ID names it instead and it must not be selected;
    * the current ``m.room.power_levels`` event;
    * the sender's ``m.room.member`` event;
    * for ``m.room.member`` events: the target's (``state_key``) member event; the
      ``m.room.join_rules`` event if ``membership`` is ``join``, ``invite`` or
      ``knock``; for an ``invite`` with ``third_party_invite``, the
      ``m.room.third_party_invite`` event whose ``state_key`` is
      ``content.third_party_invite.signed.token``; for a ``join`` with
      ``join_authorised_via_users_server`` in room versions with restricted rooms
      (v8+, ``restricted_join_rule``), that user's member event.

    Values of the wrong type are skipped rather than raising (a token or user ID
    that is not a string selects nothing).

    Args:
        version: The room version.
        event_type: The event's ``type``.
        sender: The event's ``sender``.
        state_key: The event's ``state_key`` (``None`` for non-state events).
        content: The event's ``content``.

    Returns:
        The ``(type, state_key)`` pairs, without duplicates, in the order above.
    """
    if event_type == "m.room.create":
        return []
    keys: list[StateKey] = []
    if not version.authorization.room_create_event_id_as_room_id:
        keys.append(_CREATE)
    keys.append(_POWER_LEVELS)
    keys.append(("m.room.member", sender))
    if event_type == "m.room.member":
        member = MemberContent(content)
        membership = member.membership
        if isinstance(state_key, str):
            keys.append(("m.room.member", state_key))
        if membership in ("join", "invite", "knock"):
            keys.append(_JOIN_RULES)
        if membership == "invite" and member.has_third_party_invite:
            token = member.token
            if token is not None:
                keys.append(("m.room.third_party_invite", token))
        if membership == "join" and version.authorization.restricted_join_rule:
            authoriser = member.join_authorised_via_users_server
            if authoriser is not None:
                keys.append(("m.room.member", authoriser))
    return list(dict.fromkeys(keys))
