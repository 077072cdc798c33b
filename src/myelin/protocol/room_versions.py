"""Room versions as compositions of named rule sets.

Spec references (Matrix v1.19): rooms/_index.md (§Complete list of room versions,
§Room version grammar) and rooms/v1.md ... rooms/v12.md with their fragments under
rooms/fragments/.

Every version is written as a delta of the previous one (``V5 = replace(V4, ...)``)
and code elsewhere branches on the *named* flags below, never on version numbers
(ARCHITECTURE.md style rule 3). Each flag's comment names the spec section that
introduced it and the first version it applies to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from enum import StrEnum

from myelin.protocol.errors import UnsupportedRoomVersion

__all__ = [
    "DEFAULT_ROOM_VERSION",
    "KNOWN_ROOM_VERSIONS",
    "V1",
    "V10",
    "V11",
    "V12",
    "V2",
    "V3",
    "V4",
    "V5",
    "V6",
    "V7",
    "V8",
    "V9",
    "AuthorizationRules",
    "EventFormatRules",
    "EventIdFormat",
    "RedactionRules",
    "RoomVersion",
    "SignatureRules",
    "StateResAlgorithm",
    "get_room_version",
    "is_valid_room_version_id",
]


class EventIdFormat(StrEnum):
    """How event IDs are obtained (rooms/vN.md §Event IDs)."""

    #: v1-v2 (fragment ``v1-event-ids``): ``$opaque_id:domain``, chosen by the sender
    #: and carried in the PDU's ``event_id`` field.
    OPAQUE = "opaque"
    #: v3 (rooms/v3.md §Event IDs): ``$`` + reference hash in unpadded standard Base64.
    HASH_STD_B64 = "hash_std_b64"
    #: v4+ (fragment ``v4-event-ids``): ``$`` + reference hash in URL-safe unpadded Base64.
    HASH_URLSAFE_B64 = "hash_urlsafe_b64"


class StateResAlgorithm(StrEnum):
    """Which state resolution algorithm a room uses."""

    #: rooms/v1.md §State resolution.
    V1 = "v1"
    #: rooms/v2.md §State resolution (fragment ``v2-state-res``), v2-v11.
    V2 = "v2"
    #: rooms/v12.md §State resolution: v2 with the iterative auth checks starting from
    #: an empty state map and the conflicted state subgraph in the full conflicted set.
    V2_1 = "v2.1"


@dataclass(frozen=True, slots=True)
class EventFormatRules:
    """The wire shape of PDUs (rooms/vN.md §Event format, §Event IDs).

    Attributes:
        event_id_format: Where the event ID comes from (see :class:`EventIdFormat`).
        event_refs_with_hashes: v1-v2: ``prev_events``/``auth_events`` are lists of
            ``[event_id, {"sha256": ...}]`` pairs; v3+ (rooms/v3.md §Event format)
            they are plain lists of event IDs.
        strict_canonical_json: v6+ (rooms/v6.md §Event format, fragment
            ``v6-canonical-json``): events must be canonical JSON — no floats,
            integers (including ``depth``) within ``[-(2**53)+1, (2**53)-1]``.
            Rooms v1-v5 (fragment ``v1-canonical-json``) must not enforce this.
        redacts_in_content: v11+ (rooms/v11.md §Event format, "Moving the redacts
            property ..."): ``m.room.redaction`` carries ``redacts`` in ``content``
            instead of at the top level.
        room_id_from_create_event: v12+ (rooms/v12.md §Event format, appendices
            §Room IDs): the room ID is the create event's event ID with sigil ``!``;
            ``m.room.create`` events carry no ``room_id``.
    """

    event_id_format: EventIdFormat
    event_refs_with_hashes: bool
    strict_canonical_json: bool
    redacts_in_content: bool
    room_id_from_create_event: bool


@dataclass(frozen=True, slots=True)
class AuthorizationRules:
    """Switches for the authorisation rules (rooms/vN.md §Authorisation rules).

    ``m.federate`` (rule 3 in v1-v11, rule 4 in v12) applies to every version and so
    has no flag.

    Attributes:
        special_case_aliases_auth: v1-v5 (fragments ``v1-auth-rules``,
            ``v3-auth-rules`` rule 4): ``m.room.aliases`` is allowed iff the sender's
            domain matches ``state_key``. Removed in v6 (rooms/v6.md §Authorisation
            rules).
        redaction_auth_rule: v1-v2 (fragment ``v1-auth-rules`` rule 11):
            ``m.room.redaction`` needs the redact level or a matching event-ID
            domain. From v3 (fragment ``v3-handling-redactions``) redactions are
            checked when applied instead.
        limit_notifications_power_levels: v6+ (rooms/v6.md §Authorisation rules):
            the ``notifications`` property of ``m.room.power_levels`` is checked like
            ``events``.
        knock_join_rule: v7+ (rooms/v7.md §Authorisation rules): ``knock`` join rule
            and ``membership: knock``.
        restricted_join_rule: v8+ (fragment ``v8-auth-rules``): ``restricted`` join
            rule and ``join_authorised_via_users_server``.
        knock_restricted_join_rule: v10+ (rooms/v10.md §Authorisation rules).
        integer_power_levels: v10+ (rooms/v10.md §Values in ``m.room.power_levels``
            events must be integers): no stringy power levels, rule 10.1/10.2 type
            checks. (Floats are already excluded from v6 by strict canonical JSON.)
        implicit_room_creator: v11+ (rooms/v11.md §Remove the ``creator`` property
            of ``m.room.create`` events, auth rules 1 and 4.3.1): ``content.creator``
            is no longer required; the creator is the create event's ``sender``.
        privileged_creators: v12+ (rooms/v12.md §Authorisation rules, note "room
            creators"): creators have infinite power level and may not appear in
            ``m.room.power_levels`` ``users`` (rule 10.4).
        additional_creators: v12+ (rooms/v12.md rule 1.4):
            ``content.additional_creators`` of ``m.room.create`` names more creators.
        room_create_event_id_as_room_id: v12+ (rooms/v12.md rules 1.2, 2 and 3.2):
            the create event has no ``room_id``, every other event's ``room_id``
            must be the create event's ID, and ``m.room.create`` MUST NOT be in
            ``auth_events``. Always equal to
            ``EventFormatRules.room_id_from_create_event``.
    """

    special_case_aliases_auth: bool
    redaction_auth_rule: bool
    limit_notifications_power_levels: bool
    knock_join_rule: bool
    restricted_join_rule: bool
    knock_restricted_join_rule: bool
    integer_power_levels: bool
    implicit_room_creator: bool
    privileged_creators: bool
    additional_creators: bool
    room_create_event_id_as_room_id: bool


@dataclass(frozen=True, slots=True)
class RedactionRules:
    """What survives redaction (rooms/vN.md §Redactions; fragments ``v1-redactions``,
    ``v6-redactions``, ``v9-redactions``, ``v11-redactions``).

    Attributes:
        keep_origin_membership_prev_state: v1-v10: the top-level ``origin``,
            ``membership`` and ``prev_state`` keys are protected. v11 drops them.
        keep_room_aliases_aliases: v1-v5: ``m.room.aliases`` keeps ``aliases``.
            v6 (fragment ``v6-redactions``) removes all meaning of the type.
        keep_join_rules_allow: v8+ (rooms/v8.md §Redactions): ``m.room.join_rules``
            keeps ``allow``.
        keep_member_join_authorised_via_users_server: v9+ (rooms/v9.md
            §Redactions): ``m.room.member`` keeps ``join_authorised_via_users_server``.
        keep_create_content: v11+: ``m.room.create`` keeps all of ``content``
            (v1-v10 keep only ``creator``).
        keep_power_levels_invite: v11+: ``m.room.power_levels`` keeps ``invite``.
        keep_redaction_redacts: v11+: ``m.room.redaction`` keeps ``content.redacts``.
        keep_member_third_party_invite_signed: v11+: ``m.room.member`` keeps the
            ``signed`` key of ``third_party_invite``.
    """

    keep_origin_membership_prev_state: bool
    keep_room_aliases_aliases: bool
    keep_join_rules_allow: bool
    keep_member_join_authorised_via_users_server: bool
    keep_create_content: bool
    keep_power_levels_invite: bool
    keep_redaction_redacts: bool
    keep_member_third_party_invite_signed: bool


@dataclass(frozen=True, slots=True)
class SignatureRules:
    """Which signatures an event needs (server-server §Validating hashes and
    signatures on received events; fragment ``v5-signing-requirements``).

    Attributes:
        require_event_id_domain_signature: v1-v2: a signature from the domain in
            the ``event_id`` is required too, if it differs from the sender's.
        enforce_key_validity: v5+ (rooms/v5.md §Signing key validity period): the
            key's ``valid_until_ts`` (capped at 7 days ahead) must cover the event's
            ``origin_server_ts``.
        check_join_authorised_via_users_server: v8+ (fragment ``v8-auth-rules``
            rule 4.2): a member event with ``join_authorised_via_users_server`` must
            also be signed by that user's homeserver.
    """

    require_event_id_domain_signature: bool
    enforce_key_validity: bool
    check_join_authorised_via_users_server: bool


@dataclass(frozen=True, slots=True)
class RoomVersion:
    """One room version: its identifier plus the rule sets that define it.

    Attributes:
        identifier: The room version string, e.g. ``"10"``.
        stable: Whether the spec lists it as stable (rooms/_index.md §Complete list
            of room versions).
        event_format: See :class:`EventFormatRules`.
        authorization: See :class:`AuthorizationRules`.
        redaction: See :class:`RedactionRules`.
        signatures: See :class:`SignatureRules`.
        state_res: See :class:`StateResAlgorithm`.
    """

    identifier: str
    stable: bool
    event_format: EventFormatRules
    authorization: AuthorizationRules
    redaction: RedactionRules
    signatures: SignatureRules
    state_res: StateResAlgorithm


# rooms/v1.md: the building blocks.
V1 = RoomVersion(
    identifier="1",
    stable=True,
    event_format=EventFormatRules(
        event_id_format=EventIdFormat.OPAQUE,
        event_refs_with_hashes=True,
        strict_canonical_json=False,
        redacts_in_content=False,
        room_id_from_create_event=False,
    ),
    authorization=AuthorizationRules(
        special_case_aliases_auth=True,
        redaction_auth_rule=True,
        limit_notifications_power_levels=False,
        knock_join_rule=False,
        restricted_join_rule=False,
        knock_restricted_join_rule=False,
        integer_power_levels=False,
        implicit_room_creator=False,
        privileged_creators=False,
        additional_creators=False,
        room_create_event_id_as_room_id=False,
    ),
    redaction=RedactionRules(
        keep_origin_membership_prev_state=True,
        keep_room_aliases_aliases=True,
        keep_join_rules_allow=False,
        keep_member_join_authorised_via_users_server=False,
        keep_create_content=False,
        keep_power_levels_invite=False,
        keep_redaction_redacts=False,
        keep_member_third_party_invite_signed=False,
    ),
    signatures=SignatureRules(
        require_event_id_domain_signature=True,
        enforce_key_validity=False,
        check_join_authorised_via_users_server=False,
    ),
    state_res=StateResAlgorithm.V1,
)

# rooms/v2.md: "changing only the state resolution algorithm".
V2 = replace(V1, identifier="2", state_res=StateResAlgorithm.V2)

# rooms/v3.md: hash-based event IDs (standard Base64), plain-ID event references,
# no event_id field; redactions leave the auth rules (§Handling redactions); the
# event-ID-domain signature requirement goes with the domain (server-server
# §Validating hashes and signatures on received events: "Room versions 1 and 2 ...").
V3 = replace(
    V2,
    identifier="3",
    event_format=replace(
        V2.event_format,
        event_id_format=EventIdFormat.HASH_STD_B64,
        event_refs_with_hashes=False,
    ),
    authorization=replace(V2.authorization, redaction_auth_rule=False),
    signatures=replace(V2.signatures, require_event_id_domain_signature=False),
)

# rooms/v4.md: URL-safe Base64 event IDs.
V4 = replace(
    V3,
    identifier="4",
    event_format=replace(V3.event_format, event_id_format=EventIdFormat.HASH_URLSAFE_B64),
)

# rooms/v5.md: signing key validity periods.
V5 = replace(
    V4,
    identifier="5",
    signatures=replace(V4.signatures, enforce_key_validity=True),
)

# rooms/v6.md: strict canonical JSON, no m.room.aliases auth special case,
# `notifications` power levels checked, m.room.aliases loses redaction protection.
V6 = replace(
    V5,
    identifier="6",
    event_format=replace(V5.event_format, strict_canonical_json=True),
    authorization=replace(
        V5.authorization,
        special_case_aliases_auth=False,
        limit_notifications_power_levels=True,
    ),
    redaction=replace(V5.redaction, keep_room_aliases_aliases=False),
)

# rooms/v7.md: knocking.
V7 = replace(
    V6,
    identifier="7",
    authorization=replace(V6.authorization, knock_join_rule=True),
)

# rooms/v8.md: restricted join rule; join_rules keep `allow` on redaction.
V8 = replace(
    V7,
    identifier="8",
    authorization=replace(V7.authorization, restricted_join_rule=True),
    redaction=replace(V7.redaction, keep_join_rules_allow=True),
    signatures=replace(V7.signatures, check_join_authorised_via_users_server=True),
)

# rooms/v9.md: member events keep join_authorised_via_users_server on redaction.
V9 = replace(
    V8,
    identifier="9",
    redaction=replace(V8.redaction, keep_member_join_authorised_via_users_server=True),
)

# rooms/v10.md: knock_restricted join rule, integer-only power levels.
V10 = replace(
    V9,
    identifier="10",
    authorization=replace(
        V9.authorization,
        knock_restricted_join_rule=True,
        integer_power_levels=True,
    ),
)

# rooms/v11.md: updated redaction algorithm, no `creator`, `redacts` in content.
V11 = replace(
    V10,
    identifier="11",
    event_format=replace(V10.event_format, redacts_in_content=True),
    authorization=replace(V10.authorization, implicit_room_creator=True),
    redaction=replace(
        V10.redaction,
        keep_origin_membership_prev_state=False,
        keep_create_content=True,
        keep_power_levels_invite=True,
        keep_redaction_redacts=True,
        keep_member_third_party_invite_signed=True,
    ),
)

# rooms/v12.md: room IDs are create-event hashes, privileged (additional) creators,
# state resolution "v2.1".
V12 = replace(
    V11,
    identifier="12",
    event_format=replace(V11.event_format, room_id_from_create_event=True),
    authorization=replace(
        V11.authorization,
        privileged_creators=True,
        additional_creators=True,
        room_create_event_id_as_room_id=True,
    ),
    state_res=StateResAlgorithm.V2_1,
)

#: Every room version this server implements, keyed by identifier.
KNOWN_ROOM_VERSIONS: dict[str, RoomVersion] = {
    v.identifier: v for v in (V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12)
}

#: rooms/_index.md: "Servers SHOULD use **room version 12** as the default room
#: version when creating new rooms."
DEFAULT_ROOM_VERSION = V12

_ROOM_VERSION_RE = re.compile(r"[a-z0-9.\-]{1,32}\Z")


def is_valid_room_version_id(identifier: str) -> bool:
    """Check the room version grammar (rooms/_index.md §Room version grammar).

    Args:
        identifier: A candidate room version string.

    Returns:
        ``True`` if it is 1-32 characters of ``a-z``, ``0-9``, ``.`` and ``-``.
    """
    return isinstance(identifier, str) and _ROOM_VERSION_RE.match(identifier) is not None


def get_room_version(identifier: str) -> RoomVersion:
    """Look up a room version by identifier.

    Args:
        identifier: The room version string, e.g. from ``m.room.create``'s
            ``content.room_version`` (defaults to ``"1"`` there when absent — the
            caller's business).

    Returns:
        The :class:`RoomVersion`.

    Raises:
        UnsupportedRoomVersion: if this server does not implement it.
    """
    try:
        return KNOWN_ROOM_VERSIONS[identifier]
    except (KeyError, TypeError):
        raise UnsupportedRoomVersion(
            f"Room version {identifier!r} is not supported by this server"
        ) from None
