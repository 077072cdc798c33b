"""The authorisation rules for every room version, 1 to 12.

Spec references (Matrix v1.19): rooms/vN.md §Authorisation rules, i.e. fragments
``v1-auth-rules`` (v1-v2), ``v3-auth-rules`` (v3-v5) and ``v8-auth-rules`` (v8-v9),
and the inline rules of rooms/v6.md, v7.md, v10.md, v11.md and v12.md;
server-server §Checks performed on receipt of a PDU, §Definitions, §Auth events
selection, §Rejection, §Verifying the invite (third-party invites).

Every check names its rule as numbered *in the room version at hand* and the first
room version it applies to, e.g. ``rule 4.3.5.2 (v8+)`` in a v10 room is
``rule 5.3.5.2`` in v12 — the numbering shifts when v6 drops the aliases rule and
v12 adds the room-ID rule. Version differences are taken from the named flags of
:class:`~myelin.protocol.room_versions.AuthorizationRules`, never from version
numbers (ARCHITECTURE.md style rule 3).

Entry points:

* :func:`check_auth` — the whole algorithm against a map of auth events (either
  an event's own auth events, or the room state before it, or the current state:
  server-server §Checks performed on receipt of a PDU, checks 4-6).
* :func:`check_state_independent` — rule 1 for ``m.room.create``, and, given the
  event's own auth events as a list, the ``auth_events`` rules (2.1, 2.2, 2.4,
  2.5; v12: 3.x) that a keyed map cannot express (duplicates, unexpected entries).
* :func:`check_state_dependent` — everything else, against a map.

What the caller owns: whether auth events were themselves rejected (rule 2.3;
v12: 3.3), and the signature checks of server-server §Validating hashes and
signatures — including, from v8, the signature of the
``join_authorised_via_users_server`` user's server (rule 4.2), which
:func:`check_auth` only performs when given ``verify_signed_by``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, NoReturn

import nacl.exceptions
import nacl.signing

from myelin.protocol.auth.auth_types import StateKey, auth_types_for_event
from myelin.protocol.auth.content import (
    CreateContent,
    JoinRulesContent,
    MemberContent,
    PowerLevelsContent,
    ThirdPartyInviteContent,
    content_of,
    membership_of,
)
from myelin.protocol.auth.power_levels import (
    PowerLevel,
    PowerLevels,
    PowerLevelsStep,
    PowerLevelsViolation,
    power_levels_change_violation,
    power_levels_content_violation,
)
from myelin.protocol.canonical_json import decode_base64, decode_base64_urlsafe
from myelin.protocol.errors import BadJson, Forbidden, InvalidIdentifier, SignatureError
from myelin.protocol.events.hashing import compute_event_id, room_id_from_create_event
from myelin.protocol.events.signing import ED25519, verify_json
from myelin.protocol.identifiers import UserId
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS, RoomVersion

__all__ = [
    "AuthEvents",
    "SignatureVerifier",
    "check_auth",
    "check_state_dependent",
    "check_state_independent",
]

#: Auth events (or state) keyed by ``(type, state_key)``.
AuthEvents = Mapping[StateKey, Mapping[str, Any]]

#: ``verify_signed_by(event, server_name)``: whether ``event`` carries a valid
#: signature from ``server_name`` (with key lookup and validity as the caller sees
#: fit). Used for the v8+ ``join_authorised_via_users_server`` rule.
SignatureVerifier = Callable[[Mapping[str, Any], str], bool]

_CREATE = "m.room.create"
_MEMBER = "m.room.member"
_POWER_LEVELS = "m.room.power_levels"
_JOIN_RULES = "m.room.join_rules"
_THIRD_PARTY_INVITE = "m.room.third_party_invite"
_ALIASES = "m.room.aliases"
_REDACTION = "m.room.redaction"


# ------------------------------------------------------------------ rule numbering
#
# The top-level rules in the order the spec lists them; groups absent from a room
# version are skipped, which reproduces each version's numbering.


@cache
def _top_level(version: RoomVersion) -> dict[str, int]:
    auth = version.authorization
    groups = ["create"]
    if auth.room_create_event_id_as_room_id:
        groups.append("room_id")  # v12 rule 2
    groups += ["auth_events", "federate"]
    if auth.special_case_aliases_auth:
        groups.append("aliases")  # v1-v5 rule 4
    groups += [
        "member",
        "sender_joined",
        "third_party_invite",
        "required_level",
        "state_key",
        "power_levels",
    ]
    if auth.redaction_auth_rule:
        groups.append("redaction")  # v1-v2 rule 11
    groups.append("allow")
    return {group: index + 1 for index, group in enumerate(groups)}


@cache
def _member_sub(version: RoomVersion) -> dict[str, int]:
    auth = version.authorization
    subs = ["shape"]
    if auth.restricted_join_rule:
        subs.append("authoriser_signature")  # v8 rule 4.2
    subs += ["join", "invite", "leave", "ban"]
    if auth.knock_join_rule:
        subs.append("knock")  # v7 rule 4.6
    subs.append("unknown")
    return {sub: index + 1 for index, sub in enumerate(subs)}


@cache
def _join_sub(version: RoomVersion) -> dict[str, int]:
    subs = ["creator", "sender", "banned", "invite"]
    if version.authorization.restricted_join_rule:
        subs.append("restricted")  # v8 rule 4.3.5
    subs += ["public", "reject"]
    return {sub: index + 1 for index, sub in enumerate(subs)}


@cache
def _power_levels_sub(version: RoomVersion) -> dict[PowerLevelsStep | str, str]:
    auth = version.authorization
    steps: list[PowerLevelsStep | str] = []
    if auth.integer_power_levels:
        steps += [PowerLevelsStep.SCALAR_TYPES, PowerLevelsStep.MAP_TYPES]  # v10 9.1, 9.2
    steps.append(PowerLevelsStep.USERS_TYPES)
    if auth.privileged_creators:
        steps.append(PowerLevelsStep.CREATOR_IN_USERS)  # v12 10.4
    steps += ["no_previous", "scalars", "map_current", "map_new", "users_current", "users_new"]
    numbers = {step: str(index + 1) for index, step in enumerate(steps)}
    numbers[PowerLevelsStep.SCALAR_CURRENT] = numbers["scalars"] + ".1"
    numbers[PowerLevelsStep.SCALAR_NEW] = numbers["scalars"] + ".2"
    numbers[PowerLevelsStep.MAP_CURRENT] = numbers["map_current"] + ".1"
    numbers[PowerLevelsStep.MAP_NEW] = numbers["map_new"] + ".1"
    numbers[PowerLevelsStep.USERS_CURRENT] = numbers["users_current"] + ".1"
    numbers[PowerLevelsStep.USERS_NEW] = numbers["users_new"] + ".1"
    return numbers


def _rule(version: RoomVersion, group: str, *subs: int | str) -> str:
    return ".".join([str(_top_level(version)[group]), *(str(sub) for sub in subs)])


def _reject(number: str, since: str, message: str) -> NoReturn:
    raise Forbidden(f"rule {number} ({since}): {message}")


# ------------------------------------------------------------------------ helpers


def _domain(identifier: object) -> str | None:
    """The server name of a user, room (v1-v11) or event (v1-v2) ID.

    None of these sigils' opaque parts may contain ``:`` (appendices §Identifier
    Grammar, including historical user IDs), so the domain is everything after the
    first ``:``.
    """
    if not isinstance(identifier, str):
        return None
    _, sep, domain = identifier.partition(":")
    return domain if sep and domain else None


def _is_state_event(event: Mapping[str, Any]) -> bool:
    return isinstance(event.get("state_key"), str)


def _prev_event_ids(version: RoomVersion, event: Mapping[str, Any]) -> list[object]:
    """``prev_events`` as IDs: v1-v2 entries are ``[event_id, hashes]`` pairs."""
    raw = event.get("prev_events")
    if not isinstance(raw, list):
        return []
    if not version.event_format.event_refs_with_hashes:
        return list(raw)
    return [entry[0] if isinstance(entry, list) and entry else None for entry in raw]


def _event_id(version: RoomVersion, event: Mapping[str, Any]) -> str | None:
    try:
        return compute_event_id(event, version)
    except BadJson:
        return None


class _AuthState:
    """Read access to the auth events, enforcing rule 2.5 (v12: 3.5) on each one used.

    "If any event in ``auth_events`` has a ``room_id`` which does not match that of
    the event being authorised, reject." Checked lazily, for the entries the rules
    actually consult; the v12 create event has no ``room_id`` and is tied to the
    room by rule 2 instead.
    """

    def __init__(self, version: RoomVersion, event: Mapping[str, Any], events: AuthEvents):
        self.version = version
        self.room_id = event.get("room_id")
        self.events = events

    def get(self, event_type: str, state_key: str) -> Mapping[str, Any] | None:
        found = self.events.get((event_type, state_key))
        if found is None:
            return None
        v12_create = (
            event_type == _CREATE and self.version.authorization.room_create_event_id_as_room_id
        )
        if not v12_create and found.get("room_id") != self.room_id:
            _reject(
                _rule(self.version, "auth_events", 5),
                "v1+",
                f"auth event ({event_type!r}, {state_key!r}) is in room "
                f"{found.get('room_id')!r}, not {self.room_id!r}",
            )
        return found


# ----------------------------------------------------------------- entry points


def check_auth(
    version: RoomVersion,
    event: Mapping[str, Any],
    auth_events: AuthEvents,
    *,
    verify_signed_by: SignatureVerifier | None = None,
) -> None:
    """Authorise an event (rooms/vN.md §Authorisation rules).

    Runs rule 1 for ``m.room.create`` and otherwise every rule that a keyed map of
    auth events can decide. The duplicate/unexpected ``auth_events`` checks (rules
    2.1-2.2; v12: 3.1-3.2) need the event's auth events as a list: use
    :func:`check_state_independent` for those.

    Args:
        version: The room version.
        event: The PDU (v1-v2: with its ``event_id``).
        auth_events: The state to authorise against, keyed by ``(type, state_key)``:
            the event's own auth events, or the state before the event, or the
            current state. Only the relevant keys are read (see
            :func:`~myelin.protocol.auth.auth_types.auth_types_for_event`). In v12
            the ``m.room.create`` event must be included even though events do not
            list it (its ID is the room ID).
        verify_signed_by: Signature check for rule 4.2 (v8+): called as
            ``verify_signed_by(event, server)`` for the server of
            ``join_authorised_via_users_server``. ``None`` means the caller has
            already checked that signature with the other signatures
            (``SignatureRules.check_join_authorised_via_users_server``).

    Raises:
        Forbidden: naming the rule that rejected the event.
    """
    check_state_independent(version, event)
    check_state_dependent(version, event, auth_events, verify_signed_by=verify_signed_by)


def check_state_independent(
    version: RoomVersion,
    event: Mapping[str, Any],
    auth_event_list: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """The checks that need no room state.

    * ``m.room.create``: rule 1, which fully decides such events.
    * Other events, when ``auth_event_list`` is given (the events the PDU's
      ``auth_events`` reference, fetched by the caller): rule 2 (v12: 3) — no
      duplicate ``(type, state_key)``; nothing outside the auth events selection;
      v1-v11: an ``m.room.create`` among them (v12: none, via the selection);
      every ``room_id`` equal to the event's.

    Args:
        version: The room version.
        event: The PDU.
        auth_event_list: The event's auth events, or ``None`` to skip rule 2.

    Raises:
        Forbidden: naming the rule that rejected the event.
    """
    if event.get("type") == _CREATE:
        _check_create(version, event)
        return
    if auth_event_list is not None:
        _check_auth_event_list(version, event, auth_event_list)


def check_state_dependent(
    version: RoomVersion,
    event: Mapping[str, Any],
    auth_events: AuthEvents,
    *,
    verify_signed_by: SignatureVerifier | None = None,
) -> None:
    """The rules that read room state: all but rule 1 (v12: and 3.1-3.2).

    ``m.room.create`` events pass (rule 1, in :func:`check_state_independent`,
    decides them). Arguments as for :func:`check_auth`.

    Raises:
        Forbidden: naming the rule that rejected the event.
    """
    event_type = event.get("type")
    if event_type == _CREATE:
        return
    state = _AuthState(version, event, auth_events)
    create = _check_room_and_create(version, event, state)
    _check_federate(version, event, create)

    if version.authorization.special_case_aliases_auth and event_type == _ALIASES:
        _check_aliases(version, event)
        return

    power = PowerLevels(version, state.get(_POWER_LEVELS, ""), create)
    if event_type == _MEMBER:
        _check_member(version, event, state, create, power, verify_signed_by)
        return

    sender = event.get("sender")
    sender_id = sender if isinstance(sender, str) else ""
    _check_sender_joined(version, sender_id, state)
    sender_level = power.user_level(sender_id)

    if event_type == _THIRD_PARTY_INVITE:
        _check_third_party_invite_event(version, sender_level, power)
        return

    _check_required_level(version, event, sender_level, power)
    _check_user_state_key(version, event, sender_id)

    if event_type == _POWER_LEVELS:
        _check_power_levels(version, event, sender_id, sender_level, state, power)
        return
    if version.authorization.redaction_auth_rule and event_type == _REDACTION:
        _check_redaction(version, event, sender_level, power)
        return
    # Final rule (v1-v2: 12; v3-v5: 11; v6-v11: 10; v12: 11): "Otherwise, allow."


# ------------------------------------------------------------ rule 1: m.room.create


def _check_create(version: RoomVersion, event: Mapping[str, Any]) -> None:
    """Rule 1 (v1+): ``m.room.create``."""
    auth = version.authorization
    # 1.1 (v1+): "If it has any prev_events, reject."
    if event.get("prev_events"):
        _reject(_rule(version, "create", 1), "v1+", "m.room.create has prev_events")
    if auth.room_create_event_id_as_room_id:
        # 1.2 (v12+): "If the event has a room_id, reject."
        if "room_id" in event:
            _reject(_rule(version, "create", 2), "v12+", "m.room.create has a room_id")
    else:
        # 1.2 (v1-v11): "If the domain of the room_id does not match the domain of the
        # sender, reject."
        room_domain = _domain(event.get("room_id"))
        if room_domain is None or room_domain != _domain(event.get("sender")):
            _reject(
                _rule(version, "create", 2),
                "v1-v11",
                f"room ID {event.get('room_id')!r} is not on the sender's server",
            )
    content = content_of(event)
    # 1.3 (v1+): "If content.room_version is present and is not a recognised
    # version, reject."
    if "room_version" in content:
        room_version = content["room_version"]
        if not isinstance(room_version, str) or room_version not in KNOWN_ROOM_VERSIONS:
            _reject(
                _rule(version, "create", 3),
                "v1+",
                f"unrecognised room_version {room_version!r}",
            )
    # 1.4 (v1-v10): "If content has no creator property, reject." (v11 drops it.)
    if not auth.implicit_room_creator and "creator" not in content:
        _reject(_rule(version, "create", 4), "v1-v10", "content has no creator")
    # 1.4 (v12+): additional_creators must be an array of valid user IDs.
    if auth.additional_creators and "additional_creators" in content:
        extra = content["additional_creators"]
        if not isinstance(extra, list) or not all(_is_user_id(user) for user in extra):
            _reject(
                _rule(version, "create", 4),
                "v12+",
                "additional_creators is not an array of valid user IDs",
            )
    # 1.5 (v1-v10, v12; 1.4 in v11): "Otherwise, allow."


def _is_user_id(value: object) -> bool:
    # The lenient grammar (appendices §Historical User IDs), as applied to `sender`.
    if not isinstance(value, str):
        return False
    try:
        UserId.parse(value)
    except InvalidIdentifier:
        return False
    return True


# ------------------------------------------------- rule 2 (v12: 3): auth_events


def _check_auth_event_list(
    version: RoomVersion, event: Mapping[str, Any], auth_event_list: Sequence[Mapping[str, Any]]
) -> None:
    """Rule 2 (v1-v11) / 3 (v12+): considering the event's ``auth_events``."""
    sender = event.get("sender")
    state_key = event.get("state_key")
    expected = set(
        auth_types_for_event(
            version,
            str(event.get("type")),
            sender if isinstance(sender, str) else "",
            state_key if isinstance(state_key, str) else None,
            content_of(event),
        )
    )
    seen: set[tuple[object, object]] = set()
    has_create = False
    for auth_event in auth_event_list:
        key = (auth_event.get("type"), auth_event.get("state_key"))
        # 2.1 (v1+): duplicate entries for a (type, state_key) pair.
        if key in seen:
            _reject(
                _rule(version, "auth_events", 1),
                "v1+",
                f"auth_events has more than one {key!r}",
            )
        seen.add(key)
        # 2.2 (v1+; v12: m.room.create must not be selected): only the auth events
        # selection.
        if key not in expected:
            _reject(
                _rule(version, "auth_events", 2),
                "v1+",
                f"auth event {key!r} is not selected by the auth events selection",
            )
        has_create = has_create or key == (_CREATE, "")
        # 2.5 (v1+; 3.5 in v12): every room_id matches.
        if auth_event.get("room_id") != event.get("room_id"):
            _reject(
                _rule(version, "auth_events", 5),
                "v1+",
                f"auth event {key!r} is in room {auth_event.get('room_id')!r}",
            )
    # 2.3 (v1+): rejected auth events — the caller's knowledge.
    # 2.4 (v1-v11): "If there is no m.room.create event among the entries, reject."
    if not version.authorization.room_create_event_id_as_room_id and not has_create:
        _reject(_rule(version, "auth_events", 4), "v1-v11", "no m.room.create among auth_events")


def _check_room_and_create(
    version: RoomVersion, event: Mapping[str, Any], state: _AuthState
) -> Mapping[str, Any]:
    """v12 rule 2, or v1-v11 rule 2.4 applied to the supplied auth events.

    Returns:
        The create event.
    """
    create = state.get(_CREATE, "")
    if version.authorization.room_create_event_id_as_room_id:
        # 2 (v12+): "If the event's room_id is not an event ID for an accepted (not
        # rejected) m.room.create event, with the sigil ! instead of $, reject."
        room_id = event.get("room_id")
        if create is None:
            _reject(
                _rule(version, "room_id"),
                "v12+",
                f"the m.room.create event of {room_id!r} was not supplied",
            )
        try:
            expected = room_id_from_create_event(create, version)
        except BadJson:
            expected = None
        if room_id != expected:
            _reject(
                _rule(version, "room_id"),
                "v12+",
                f"room ID {room_id!r} is not the ID of the room's m.room.create event",
            )
        return create
    if create is None:
        _reject(_rule(version, "auth_events", 4), "v1-v11", "no m.room.create event")
    return create


# --------------------------------------------------- rule 3 (v12: 4): m.federate


def _check_federate(
    version: RoomVersion, event: Mapping[str, Any], create: Mapping[str, Any]
) -> None:
    """Rule 3 (v1-v11) / 4 (v12+): ``m.federate``."""
    reader = CreateContent(create)
    if not reader.federate and _domain(event.get("sender")) != _domain(reader.sender):
        _reject(
            _rule(version, "federate"),
            "v1+",
            "the room does not federate (m.federate is false) and the sender is on "
            "another server than the creator",
        )


# --------------------------------------------------- rule 4 (v1-v5): m.room.aliases


def _check_aliases(version: RoomVersion, event: Mapping[str, Any]) -> None:
    """Rule 4 (v1-v5, ``special_case_aliases_auth``): ``m.room.aliases``."""
    state_key = event.get("state_key")
    # 4.1: "If event has no state_key, reject."
    if not isinstance(state_key, str):
        _reject(_rule(version, "aliases", 1), "v1-v5", "m.room.aliases without a state_key")
    # 4.2: "If sender's domain doesn't match state_key, reject."
    if _domain(event.get("sender")) != state_key:
        _reject(
            _rule(version, "aliases", 2),
            "v1-v5",
            f"m.room.aliases state_key {state_key!r} is not the sender's server",
        )
    # 4.3: "Otherwise, allow."


# ------------------------------------------ rule 5 (v6-v11: 4): m.room.member


def _check_member(
    version: RoomVersion,
    event: Mapping[str, Any],
    state: _AuthState,
    create: Mapping[str, Any],
    power: PowerLevels,
    verify_signed_by: SignatureVerifier | None,
) -> None:
    """The ``m.room.member`` rule (v1-v5 and v12: 5; v6-v11: 4)."""
    subs = _member_sub(version)
    content = MemberContent(content_of(event))
    state_key = event.get("state_key")
    # .1 (v1+): "If there is no state_key property, or no membership property in
    # content, reject."
    if not isinstance(state_key, str) or not content.has_membership:
        _reject(
            _rule(version, "member", subs["shape"]),
            "v1+",
            "m.room.member needs a state_key and content.membership",
        )
    # .2 (v8+): join_authorised_via_users_server must be signed by that user's server.
    if (
        version.authorization.restricted_join_rule
        and content.has_join_authorised_via_users_server
        and verify_signed_by is not None
    ):
        server = _domain(content.join_authorised_via_users_server)
        if server is None or not verify_signed_by(event, server):
            _reject(
                _rule(version, "member", subs["authoriser_signature"]),
                "v8+",
                "the event is not signed by the server of join_authorised_via_users_server",
            )

    sender = event.get("sender")
    sender_id = sender if isinstance(sender, str) else ""
    membership = content.membership
    sender_membership = membership_of(state.get(_MEMBER, sender_id))
    if membership == "join":
        _check_join(version, event, state, create, power, content, sender_id, sender_membership)
        return

    target_membership = membership_of(state.get(_MEMBER, state_key))
    if membership == "invite":
        _check_invite(
            version, event, state, power, content, sender_id, sender_membership, target_membership
        )
        return
    if membership == "leave":
        _check_leave(version, state_key, power, sender_id, sender_membership, target_membership)
        return
    if membership == "ban":
        _check_ban(version, state_key, power, sender_id, sender_membership)
        return
    if membership == "knock" and version.authorization.knock_join_rule:
        _check_knock(version, state, state_key, sender_id, sender_membership)
        return
    # Last sub-rule (v1+): "Otherwise, the membership is unknown. Reject."
    _reject(
        _rule(version, "member", subs["unknown"]),
        "v1+",
        f"unknown membership {membership!r}",
    )


def _join_rule(state: _AuthState) -> str | None:
    """The room's join rule.

    Decision: with no ``m.room.join_rules`` event the rules have no ``join_rule`` to
    compare; we read that as ``invite`` (the conservative choice that still honours
    invites). A join rules event without a string ``join_rule`` reads as ``None``,
    matching no rule.
    """
    event = state.get(_JOIN_RULES, "")
    if event is None:
        return "invite"
    return JoinRulesContent.from_event(event).join_rule


def _check_join(
    version: RoomVersion,
    event: Mapping[str, Any],
    state: _AuthState,
    create: Mapping[str, Any],
    power: PowerLevels,
    content: MemberContent,
    sender: str,
    sender_membership: str,
) -> None:
    """Member sub-rule "If membership is join" (v1-v7: .2; v8+: .3)."""
    auth = version.authorization
    subs = _join_sub(version)
    join = _member_sub(version)["join"]
    state_key = event["state_key"]

    def number(sub: str, *more: int) -> str:
        return _rule(version, "member", join, subs[sub], *more)

    # .1 (v1+; v11+: the create event's sender): "If the only previous event is an
    # m.room.create and the state_key is the creator, allow."
    if state_key == CreateContent(create).creator(version):
        prev_ids = _prev_event_ids(version, event)
        if len(prev_ids) == 1 and prev_ids[0] == _event_id(version, create):
            return
    # .2 (v1+): "If the sender does not match state_key, reject."
    if sender != state_key:
        _reject(number("sender"), "v1+", f"{sender} cannot join on behalf of {state_key}")
    # .3 (v1+): "If the sender is banned, reject."
    if sender_membership == "ban":
        _reject(number("banned"), "v1+", f"{sender} is banned")
    join_rule = _join_rule(state)
    # .4 (v1+; knock from v7): "If the join_rule is invite (or knock) then allow if
    # membership state is invite or join."
    if join_rule == "invite" or (auth.knock_join_rule and join_rule == "knock"):
        if sender_membership in ("invite", "join"):
            return
    # .5 (v8+; knock_restricted from v10): restricted joins.
    elif (auth.restricted_join_rule and join_rule == "restricted") or (
        auth.knock_restricted_join_rule and join_rule == "knock_restricted"
    ):
        # .5.1: "If membership state is join or invite, allow."
        if sender_membership in ("join", "invite"):
            return
        # .5.2: the authorising user must be joined and able to invite.
        authoriser = content.join_authorised_via_users_server
        if authoriser is None:
            _reject(
                number("restricted", 2),
                "v8+",
                f"join rule {join_rule!r} needs join_authorised_via_users_server",
            )
        if membership_of(state.get(_MEMBER, authoriser)) != "join":
            _reject(number("restricted", 2), "v8+", f"authorising user {authoriser} is not joined")
        authoriser_level = power.user_level(authoriser)
        if authoriser_level < power.invite_level:
            _reject(
                number("restricted", 2),
                "v8+",
                f"authorising user {authoriser} has level {authoriser_level}, below the invite "
                f"level {power.invite_level}",
            )
        # .5.3: "Otherwise, allow."
        return
    # .5 (v1-v7) / .6 (v8+): "If the join_rule is public, allow."
    elif join_rule == "public":
        return
    # .6 (v1-v7) / .7 (v8+): "Otherwise, reject."
    _reject(
        number("reject"),
        "v1+",
        f"join rule {join_rule!r} does not let {sender} (membership {sender_membership!r}) join",
    )


def _check_invite(
    version: RoomVersion,
    event: Mapping[str, Any],
    state: _AuthState,
    power: PowerLevels,
    content: MemberContent,
    sender: str,
    sender_membership: str,
    target_membership: str,
) -> None:
    """Member sub-rule "If membership is invite" (v1-v7: .3; v8+: .4)."""
    invite = _member_sub(version)["invite"]
    state_key = event["state_key"]

    def number(*more: int) -> str:
        return _rule(version, "member", invite, *more)

    # .1 (v1+): third-party invites.
    if content.has_third_party_invite:
        _check_third_party_invite_member(version, event, state, content, target_membership)
        return
    # .2 (v1+): "If the sender's current membership state is not join, reject."
    if sender_membership != "join":
        _reject(number(2), "v1+", f"{sender} is not joined (membership {sender_membership!r})")
    # .3 (v1+): "If target user's current membership state is join or ban, reject."
    if target_membership in ("join", "ban"):
        _reject(
            number(3), "v1+", f"{state_key} cannot be invited: membership is {target_membership}"
        )
    # .4 (v1+): "If the sender's power level is greater than or equal to the invite
    # level, allow."
    sender_level = power.user_level(sender)
    if sender_level >= power.invite_level:
        return
    # .5 (v1+): "Otherwise, reject."
    _reject(
        number(5),
        "v1+",
        f"{sender} has level {sender_level}, below the invite level {power.invite_level}",
    )


def _check_third_party_invite_member(
    version: RoomVersion,
    event: Mapping[str, Any],
    state: _AuthState,
    content: MemberContent,
    target_membership: str,
) -> None:
    """Invite sub-rule .1 (v1+): ``content.third_party_invite``."""
    invite = _member_sub(version)["invite"]

    def number(sub: int) -> str:
        return _rule(version, "member", invite, 1, sub)

    state_key = event["state_key"]
    # .1.1: "If target user is banned, reject."
    if target_membership == "ban":
        _reject(number(1), "v1+", f"{state_key} is banned")
    # .1.2: "If content.third_party_invite does not have a signed property, reject."
    signed = content.signed
    if signed is None:
        _reject(number(2), "v1+", "third_party_invite has no signed object")
    # .1.3: "If signed does not have mxid and token properties, reject."
    mxid, token = content.mxid, content.token
    if mxid is None or token is None:
        _reject(number(3), "v1+", "third_party_invite.signed needs mxid and token")
    # .1.4: "If mxid does not match state_key, reject."
    if mxid != state_key:
        _reject(number(4), "v1+", f"signed mxid {mxid} is not the invitee {state_key}")
    # .1.5: the m.room.third_party_invite event for the token must be in the state.
    invite_event = state.get(_THIRD_PARTY_INVITE, token)
    if invite_event is None:
        _reject(number(5), "v1+", f"no m.room.third_party_invite with token {token!r}")
    # .1.6: "If sender does not match sender of the m.room.third_party_invite, reject."
    if event.get("sender") != invite_event.get("sender"):
        _reject(number(6), "v1+", "the sender did not send the matching m.room.third_party_invite")
    # .1.7: "If any signature in signed matches any public key in the
    # m.room.third_party_invite event, allow."
    if _signed_matches_any_key(
        signed, ThirdPartyInviteContent.from_event(invite_event).public_keys
    ):
        return
    # .1.8: "Otherwise, reject."
    _reject(number(8), "v1+", "no signature in signed matches the invite's public keys")


def _verify_key_from_base64(public_key: str) -> nacl.signing.VerifyKey | None:
    """An ed25519 key in unpadded Base64, standard or URL-safe alphabet."""
    for decode in (decode_base64, decode_base64_urlsafe):
        try:
            raw = decode(public_key)
        except ValueError:
            continue
        try:
            return nacl.signing.VerifyKey(raw)
        except (nacl.exceptions.ValueError, nacl.exceptions.TypeError, ValueError, TypeError):
            return None
    return None


def _signed_matches_any_key(signed: Mapping[str, Any], public_keys: Sequence[str]) -> bool:
    """server-server §Verifying the invite: the ``signed`` object (appendices §Signing
    JSON) must carry an ed25519 signature, from any entity, that verifies with one of
    the invite event's public keys."""
    verify_keys = [key for key in map(_verify_key_from_base64, public_keys) if key is not None]
    signatures = signed.get("signatures")
    if not verify_keys or not isinstance(signatures, Mapping):
        return False
    for entity, by_key in signatures.items():
        if not isinstance(entity, str) or not isinstance(by_key, Mapping):
            continue
        for key_id in by_key:
            if not isinstance(key_id, str) or not key_id.startswith(ED25519 + ":"):
                continue
            for verify_key in verify_keys:
                try:
                    verify_json(signed, entity, key_id, verify_key)
                except SignatureError:
                    continue
                return True
    return False


def _check_leave(
    version: RoomVersion,
    state_key: str,
    power: PowerLevels,
    sender: str,
    sender_membership: str,
    target_membership: str,
) -> None:
    """Member sub-rule "If membership is leave" (v1-v7: .4; v8+: .5)."""
    leave = _member_sub(version)["leave"]

    def number(sub: int) -> str:
        return _rule(version, "member", leave, sub)

    # .1 (v1+; knock from v7): leaving oneself is allowed iff invited or joined (or
    # knocking).
    if sender == state_key:
        allowed = {"invite", "join"}
        if version.authorization.knock_join_rule:
            allowed.add("knock")
        if sender_membership in allowed:
            return
        _reject(number(1), "v1+", f"{sender} cannot leave from membership {sender_membership!r}")
    # .2: "If the sender's current membership state is not join, reject."
    if sender_membership != "join":
        _reject(number(2), "v1+", f"{sender} is not joined (membership {sender_membership!r})")
    sender_level = power.user_level(sender)
    # .3: unbanning needs the ban level.
    if target_membership == "ban" and sender_level < power.ban_level:
        _reject(
            number(3),
            "v1+",
            f"{sender} has level {sender_level}, below the ban level {power.ban_level}, and "
            f"{state_key} is banned",
        )
    # .4: kick level, and the target strictly below the sender.
    target_level = power.user_level(state_key)
    if sender_level >= power.kick_level and target_level < sender_level:
        return
    # .5: "Otherwise, reject."
    _reject(
        number(5),
        "v1+",
        f"{sender} (level {sender_level}, kick level {power.kick_level}) cannot remove "
        f"{state_key} (level {target_level})",
    )


def _check_ban(
    version: RoomVersion,
    state_key: str,
    power: PowerLevels,
    sender: str,
    sender_membership: str,
) -> None:
    """Member sub-rule "If membership is ban" (v1-v7: .5; v8+: .6)."""
    ban = _member_sub(version)["ban"]
    # .1: "If the sender's current membership state is not join, reject."
    if sender_membership != "join":
        _reject(
            _rule(version, "member", ban, 1),
            "v1+",
            f"{sender} is not joined (membership {sender_membership!r})",
        )
    # .2: ban level, and the target strictly below the sender.
    sender_level = power.user_level(sender)
    target_level = power.user_level(state_key)
    if sender_level >= power.ban_level and target_level < sender_level:
        return
    # .3: "Otherwise, reject."
    _reject(
        _rule(version, "member", ban, 3),
        "v1+",
        f"{sender} (level {sender_level}, ban level {power.ban_level}) cannot ban "
        f"{state_key} (level {target_level})",
    )


def _check_knock(
    version: RoomVersion,
    state: _AuthState,
    state_key: str,
    sender: str,
    sender_membership: str,
) -> None:
    """Member sub-rule "If membership is knock" (v7+, ``knock_join_rule``: .6; v8+: .7)."""
    knock = _member_sub(version)["knock"]

    def number(sub: int) -> str:
        return _rule(version, "member", knock, sub)

    # .1 (v7+; knock_restricted from v10): the join rule must allow knocking.
    join_rule = _join_rule(state)
    allowed = {"knock"}
    if version.authorization.knock_restricted_join_rule:
        allowed.add("knock_restricted")
    if join_rule not in allowed:
        _reject(number(1), "v7+", f"join rule {join_rule!r} does not allow knocking")
    # .2: "If sender does not match state_key, reject."
    if sender != state_key:
        _reject(number(2), "v7+", f"{sender} cannot knock on behalf of {state_key}")
    # .3: "If the sender's current membership is not ban, invite, or join, allow."
    if sender_membership not in ("ban", "invite", "join"):
        return
    # .4: "Otherwise, reject."
    _reject(number(4), "v7+", f"{sender} cannot knock from membership {sender_membership!r}")


# ------------------------------------------------ rules 6-9 (v6-v11: 5-8; v12: 6-9)


def _check_sender_joined(version: RoomVersion, sender: str, state: _AuthState) -> None:
    """Sender joined (v1+): "If the sender's current membership state is not join, reject"."""
    membership = membership_of(state.get(_MEMBER, sender))
    if membership != "join":
        _reject(
            _rule(version, "sender_joined"),
            "v1+",
            f"{sender or 'the sender'} is not joined (membership {membership!r})",
        )


def _check_third_party_invite_event(
    version: RoomVersion, sender_level: PowerLevel, power: PowerLevels
) -> None:
    """``m.room.third_party_invite`` (v1+): allowed iff the sender can invite."""
    if sender_level >= power.invite_level:
        return
    _reject(
        _rule(version, "third_party_invite", 1),
        "v1+",
        f"sender has level {sender_level}, below the invite level {power.invite_level}",
    )


def _check_required_level(
    version: RoomVersion, event: Mapping[str, Any], sender_level: PowerLevel, power: PowerLevels
) -> None:
    """Required level (v1+): "If the event type's required power level is greater than the
    sender's power level, reject"."""
    event_type = event.get("type")
    required = power.event_level(str(event_type), _is_state_event(event))
    if required > sender_level:
        _reject(
            _rule(version, "required_level"),
            "v1+",
            f"{event_type!r} needs level {required}, the sender has {sender_level}",
        )


def _check_user_state_key(version: RoomVersion, event: Mapping[str, Any], sender: str) -> None:
    """User state keys (v1+): "If the event has a state_key that starts with an @ and does
    not match the sender, reject"."""
    state_key = event.get("state_key")
    if isinstance(state_key, str) and state_key.startswith("@") and state_key != sender:
        _reject(
            _rule(version, "state_key"),
            "v1+",
            f"state_key {state_key!r} names another user than the sender",
        )


# ------------------------------------ rule 10 (v6-v11: 9): m.room.power_levels


_POWER_LEVELS_SINCE: dict[PowerLevelsStep, str] = {
    PowerLevelsStep.SCALAR_TYPES: "v10+",
    PowerLevelsStep.MAP_TYPES: "v10+",
    PowerLevelsStep.CREATOR_IN_USERS: "v12+",
}


def _reject_power_levels(version: RoomVersion, violation: PowerLevelsViolation) -> NoReturn:
    if violation.step is PowerLevelsStep.NON_FINITE_FLOAT:
        # Not an auth rule: rooms/v1.md §Deprecated event content schemas.
        raise Forbidden(
            f"fragment v1-floaty-power-levels (v1-v5): non-finite power level: {violation.detail}"
        )
    number = _rule(version, "power_levels", _power_levels_sub(version)[violation.step])
    _reject(number, _POWER_LEVELS_SINCE.get(violation.step, "v1+"), violation.detail)


def _check_power_levels(
    version: RoomVersion,
    event: Mapping[str, Any],
    sender: str,
    sender_level: PowerLevel,
    state: _AuthState,
    power: PowerLevels,
) -> None:
    """The ``m.room.power_levels`` rule (v1-v5 and v12: 10; v6-v11: 9)."""
    content = content_of(event)
    # .1-.3 (v10+: types; v1+: users), .4 (v12+: no creators in users).
    violation = power_levels_content_violation(version, content, power.creators)
    if violation is not None:
        _reject_power_levels(version, violation)
    # "If there is no previous m.room.power_levels event in the room, allow."
    if state.get(_POWER_LEVELS, "") is None:
        return
    # The change checks.
    new = PowerLevelsContent.from_event(event, version)
    violation = power_levels_change_violation(version, sender, sender_level, power.content, new)
    if violation is not None:
        _reject_power_levels(version, violation)
    # "Otherwise, allow."


# ----------------------------------------------- rule 11 (v1-v2): m.room.redaction


def _check_redaction(
    version: RoomVersion, event: Mapping[str, Any], sender_level: PowerLevel, power: PowerLevels
) -> None:
    """Rule 11 (v1-v2, ``redaction_auth_rule``): ``m.room.redaction``."""
    # 11.1: "If the sender's power level is greater than or equal to the redact
    # level, allow."
    if sender_level >= power.redact_level:
        return
    # 11.2: "If the domain of the event_id of the event being redacted is the same as
    # the domain of the event_id of the m.room.redaction, allow."
    redacted_domain = _domain(event.get("redacts"))
    if redacted_domain is not None and redacted_domain == _domain(event.get("event_id")):
        return
    # 11.3: "Otherwise, reject."
    _reject(
        _rule(version, "redaction", 3),
        "v1-v2",
        f"sender has level {sender_level}, below the redact level {power.redact_level}, and "
        f"{event.get('redacts')!r} is from another server than {event.get('event_id')!r}",
    )
