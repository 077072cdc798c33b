"""The redaction algorithm.

Spec references (Matrix v1.19): rooms/vN.md §Redactions, i.e. the fragments
rooms/fragments/v1-redactions.md (v1-v5), v6-redactions.md (v6-v7),
rooms/v8.md §Redactions (v8), v9-redactions.md (v9-v10) and v11-redactions.md
(v11+). The version differences are carried by
:class:`~myelin.protocol.room_versions.RedactionRules`; this module never looks at
a version number.

Redaction is used both when applying an ``m.room.redaction`` and, crucially, before
signing and before computing reference hashes (server-server §Signing Events,
§Calculating the reference hash for an event), so it must be bit-exact with every
other server: unknown keys go, nothing is ever added except an empty ``content``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from myelin.protocol.room_versions import RedactionRules

__all__ = ["redact", "top_level_keys_kept", "content_keys_kept"]

# "The server must strip off any keys not in the following list": this set is the
# v11-redactions list; v1-redactions (used through v10) adds origin, membership and
# prev_state.
_TOP_LEVEL_ALWAYS: frozenset[str] = frozenset(
    {
        "event_id",
        "type",
        "room_id",
        "sender",
        "state_key",
        "content",
        "hashes",
        "signatures",
        "depth",
        "prev_events",
        "auth_events",
        "origin_server_ts",
    }
)
_TOP_LEVEL_UNTIL_V11: frozenset[str] = frozenset({"origin", "membership", "prev_state"})

_POWER_LEVELS_KEYS: frozenset[str] = frozenset(
    {"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}
)


def top_level_keys_kept(rules: RedactionRules) -> frozenset[str]:
    """The top-level event keys that survive redaction.

    Args:
        rules: The room version's redaction rules.

    Returns:
        The protected keys (fragment ``v1-redactions`` list for v1-v10, the shorter
        ``v11-redactions`` list for v11+).
    """
    if rules.keep_origin_membership_prev_state:
        return _TOP_LEVEL_ALWAYS | _TOP_LEVEL_UNTIL_V11
    return _TOP_LEVEL_ALWAYS


def content_keys_kept(event_type: str, rules: RedactionRules) -> frozenset[str] | None:
    """The ``content`` keys of an event type that survive redaction.

    Args:
        event_type: The event's ``type``.
        rules: The room version's redaction rules.

    Returns:
        The set of kept keys, or ``None`` meaning "all keys" (``m.room.create``
        from v11). ``m.room.member``'s ``third_party_invite`` (v11+) is listed here
        and additionally trimmed to ``signed`` by :func:`redact`.
    """
    if event_type == "m.room.member":
        keys = {"membership"}
        if rules.keep_member_join_authorised_via_users_server:  # v9+
            keys.add("join_authorised_via_users_server")
        if rules.keep_member_third_party_invite_signed:  # v11+
            keys.add("third_party_invite")
        return frozenset(keys)
    if event_type == "m.room.create":
        # v1-v10: `creator`; v11+: "allows all keys".
        return None if rules.keep_create_content else frozenset({"creator"})
    if event_type == "m.room.join_rules":
        # v8+ (rooms/v8.md §Redactions): also `allow`.
        return frozenset({"join_rule", "allow"} if rules.keep_join_rules_allow else {"join_rule"})
    if event_type == "m.room.power_levels":
        # v11+: also `invite`.
        if rules.keep_power_levels_invite:
            return _POWER_LEVELS_KEYS | {"invite"}
        return _POWER_LEVELS_KEYS
    if event_type == "m.room.history_visibility":
        return frozenset({"history_visibility"})
    if event_type == "m.room.aliases" and rules.keep_room_aliases_aliases:  # v1-v5
        return frozenset({"aliases"})
    if event_type == "m.room.redaction" and rules.keep_redaction_redacts:  # v11+
        return frozenset({"redacts"})
    return frozenset()


def redact(event: Mapping[str, Any], rules: RedactionRules) -> dict[str, Any]:
    """Return the redacted form of an event; the input is not modified.

    Keeps the protected top-level keys (see :func:`top_level_keys_kept`) and, inside
    ``content``, the protected keys for the event's ``type`` (see
    :func:`content_keys_kept`). Values are deep-copied, so the result shares no
    mutable state with ``event``.

    Decisions where the spec is silent: a missing or non-object ``content`` becomes
    ``{}`` (``content`` is required in every PDU format, so this only affects
    malformed events); in v11+ a ``third_party_invite`` that is an object keeps only
    its ``signed`` key (an object without ``signed`` becomes ``{}``, per "will only
    contain the `signed` key after redaction", rooms/v11.md §Event format), and one
    that is not an object is dropped.

    Args:
        event: The event as a JSON object (PDU or client format).
        rules: The room version's redaction rules.

    Returns:
        A new dict with the redacted event.
    """
    keep_top = top_level_keys_kept(rules)
    redacted: dict[str, Any] = {
        key: copy.deepcopy(value) for key, value in event.items() if key in keep_top
    }

    content = event.get("content")
    if not isinstance(content, Mapping):
        content = {}
    event_type = event.get("type")
    kept = content_keys_kept(event_type, rules) if isinstance(event_type, str) else frozenset()
    if kept is None:
        new_content = {key: copy.deepcopy(value) for key, value in content.items()}
    else:
        new_content = {key: copy.deepcopy(value) for key, value in content.items() if key in kept}

    if event_type == "m.room.member" and "third_party_invite" in new_content:
        # rooms/v11.md: "it allows the `signed` key of the `third_party_invite` key".
        tpi = new_content["third_party_invite"]
        if isinstance(tpi, Mapping):
            new_content["third_party_invite"] = {"signed": tpi["signed"]} if "signed" in tpi else {}
        else:
            del new_content["third_party_invite"]

    redacted["content"] = new_content
    return redacted
