"""Tests for myelin.protocol.events.redaction (rooms/vN.md §Redactions)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from myelin.protocol.events.redaction import redact
from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS, RedactionRules, get_room_version

# Top-level keys of a "rich" PDU: every protected key of any version, plus junk.
TOP_LEVEL: dict[str, Any] = {
    "event_id": "$ev:example.org",
    "room_id": "!room:example.org",
    "sender": "@alice:example.org",
    "state_key": "",
    "hashes": {"sha256": "abc"},
    "signatures": {"example.org": {"ed25519:1": "sig"}},
    "depth": 7,
    "prev_events": ["$p:example.org"],
    "prev_state": [],
    "auth_events": ["$a:example.org"],
    "origin": "example.org",
    "origin_server_ts": 1234,
    "membership": "join",
    "unsigned": {"age_ts": 1},
    "age_ts": 99,
    "redacts": "$target:example.org",
    "extra": {"nested": True},
}

RICH_CONTENT: dict[str, dict[str, Any]] = {
    "m.room.member": {
        "membership": "invite",
        "displayname": "Alice",
        "avatar_url": "mxc://x/y",
        "is_direct": True,
        "reason": "because",
        "join_authorised_via_users_server": "@bob:example.org",
        "third_party_invite": {
            "display_name": "alice@example.com",
            "signed": {"mxid": "@alice:example.org", "token": "t", "signatures": {}},
        },
    },
    "m.room.create": {
        "creator": "@alice:example.org",
        "room_version": "9",
        "m.federate": False,
        "predecessor": {"room_id": "!old:example.org"},
        "type": "m.space",
        "additional_creators": ["@bob:example.org"],
    },
    "m.room.join_rules": {
        "join_rule": "restricted",
        "allow": [{"type": "m.room_membership", "room_id": "!space:example.org"}],
        "other": 1,
    },
    "m.room.power_levels": {
        "ban": 50,
        "events": {"m.room.name": 50},
        "events_default": 0,
        "invite": 0,
        "kick": 50,
        "notifications": {"room": 50},
        "redact": 50,
        "state_default": 50,
        "users": {"@alice:example.org": 100},
        "users_default": 0,
    },
    "m.room.history_visibility": {"history_visibility": "shared", "other": "x"},
    "m.room.aliases": {"aliases": ["#a:example.org"], "other": "x"},
    "m.room.redaction": {"redacts": "$target:example.org", "reason": "spam"},
    "m.room.message": {"msgtype": "m.text", "body": "hello"},
    "m.room.name": {"name": "A room"},
    "m.room.canonical_alias": {"alias": "#a:example.org", "alt_aliases": []},
    "m.room.topic": {"topic": "things"},
    "m.room.encryption": {"algorithm": "m.megolm.v1.aes-sha2"},
    "m.room.third_party_invite": {"display_name": "x", "key_validity_url": "u", "public_key": "k"},
    "org.example.custom": {"membership": "join", "join_rule": "public"},
}

TOP_V1_TO_V10 = {
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
    "prev_state",
    "auth_events",
    "origin",
    "origin_server_ts",
    "membership",
}
TOP_V11 = TOP_V1_TO_V10 - {"origin", "membership", "prev_state"}


def _event(event_type: str) -> dict[str, Any]:
    return {
        **copy.deepcopy(TOP_LEVEL),
        "type": event_type,
        "content": copy.deepcopy(RICH_CONTENT[event_type]),
    }


def _content_subset(event_type: str, *keys: str) -> dict[str, Any]:
    return {k: RICH_CONTENT[event_type][k] for k in keys}


# Expected surviving content, per version class, per event type. Types not listed
# keep nothing.
EXPECTED_CONTENT: dict[str, dict[str, dict[str, Any]]] = {
    # fragment v1-redactions (rooms v1-v5)
    "v1": {
        "m.room.member": _content_subset("m.room.member", "membership"),
        "m.room.create": _content_subset("m.room.create", "creator"),
        "m.room.join_rules": _content_subset("m.room.join_rules", "join_rule"),
        "m.room.power_levels": _content_subset(
            "m.room.power_levels",
            "ban",
            "events",
            "events_default",
            "kick",
            "redact",
            "state_default",
            "users",
            "users_default",
        ),
        "m.room.history_visibility": _content_subset(
            "m.room.history_visibility", "history_visibility"
        ),
        "m.room.aliases": _content_subset("m.room.aliases", "aliases"),
    },
}
# fragment v6-redactions (v6-v7): m.room.aliases loses its protection.
EXPECTED_CONTENT["v6"] = {k: v for k, v in EXPECTED_CONTENT["v1"].items() if k != "m.room.aliases"}
# rooms/v8.md §Redactions: join_rules keep `allow`.
EXPECTED_CONTENT["v8"] = {
    **EXPECTED_CONTENT["v6"],
    "m.room.join_rules": _content_subset("m.room.join_rules", "join_rule", "allow"),
}
# fragment v9-redactions (v9-v10): member keeps join_authorised_via_users_server.
EXPECTED_CONTENT["v9"] = {
    **EXPECTED_CONTENT["v8"],
    "m.room.member": _content_subset(
        "m.room.member", "membership", "join_authorised_via_users_server"
    ),
}
# fragment v11-redactions (v11-v12).
EXPECTED_CONTENT["v11"] = {
    **EXPECTED_CONTENT["v9"],
    "m.room.member": {
        **_content_subset("m.room.member", "membership", "join_authorised_via_users_server"),
        "third_party_invite": {
            "signed": RICH_CONTENT["m.room.member"]["third_party_invite"]["signed"]
        },
    },
    "m.room.create": RICH_CONTENT["m.room.create"],
    "m.room.power_levels": _content_subset(
        "m.room.power_levels",
        "ban",
        "events",
        "events_default",
        "invite",
        "kick",
        "redact",
        "state_default",
        "users",
        "users_default",
    ),
    "m.room.redaction": _content_subset("m.room.redaction", "redacts"),
}

VERSION_CLASS = {
    "1": "v1",
    "2": "v1",
    "3": "v1",
    "4": "v1",
    "5": "v1",
    "6": "v6",
    "7": "v6",
    "8": "v8",
    "9": "v9",
    "10": "v9",
    "11": "v11",
    "12": "v11",
}


@pytest.mark.parametrize("identifier", list(KNOWN_ROOM_VERSIONS))
@pytest.mark.parametrize("event_type", sorted(RICH_CONTENT))
def test_redaction_table(identifier: str, event_type: str) -> None:
    rules = get_room_version(identifier).redaction
    event = _event(event_type)
    original = copy.deepcopy(event)
    redacted = redact(event, rules)

    cls = VERSION_CLASS[identifier]
    top = TOP_V11 if cls == "v11" else TOP_V1_TO_V10
    expected = {k: v for k, v in original.items() if k in top}
    expected["content"] = EXPECTED_CONTENT[cls].get(event_type, {})
    assert redacted == expected
    assert event == original  # input untouched


def test_v1_spec_list_exactly() -> None:
    redacted = redact(_event("m.room.message"), get_room_version("1").redaction)
    assert set(redacted) == TOP_V1_TO_V10
    assert redacted["content"] == {}


def test_v11_drops_origin_membership_prev_state() -> None:
    # rooms/v11.md §Redactions: "The top-level origin, membership, and prev_state
    # properties are no longer protected from redaction."
    redacted = redact(_event("m.room.member"), get_room_version("11").redaction)
    assert "origin" not in redacted
    assert "membership" not in redacted
    assert "prev_state" not in redacted
    assert set(redacted) == TOP_V11


def test_top_level_redacts_never_kept() -> None:
    # `redacts` is not in any version's top-level list; from v11 it lives in content.
    for version in KNOWN_ROOM_VERSIONS.values():
        redacted = redact(_event("m.room.redaction"), version.redaction)
        assert "redacts" not in redacted


def test_result_is_independent_of_input() -> None:
    event = _event("m.room.power_levels")
    redacted = redact(event, get_room_version("10").redaction)
    redacted["content"]["users"]["@mallory:example.org"] = 100
    redacted["prev_events"].append("$x")
    assert "@mallory:example.org" not in event["content"]["users"]
    assert event["prev_events"] == ["$p:example.org"]


def test_idempotent() -> None:
    for version in KNOWN_ROOM_VERSIONS.values():
        for event_type in RICH_CONTENT:
            once = redact(_event(event_type), version.redaction)
            assert redact(once, version.redaction) == once


def test_missing_or_bad_content_becomes_empty() -> None:
    rules = get_room_version("10").redaction
    assert redact({"type": "m.room.message"}, rules) == {"type": "m.room.message", "content": {}}
    assert redact({"type": "m.room.member", "content": "x"}, rules)["content"] == {}
    assert redact({"content": {"a": 1}}, rules) == {"content": {}}


def test_v11_third_party_invite_edge_cases() -> None:
    rules = get_room_version("11").redaction
    no_signed = {
        "type": "m.room.member",
        "content": {"membership": "invite", "third_party_invite": {"display_name": "x"}},
    }
    assert redact(no_signed, rules)["content"] == {"membership": "invite", "third_party_invite": {}}
    not_object = {
        "type": "m.room.member",
        "content": {"membership": "invite", "third_party_invite": "junk"},
    }
    assert redact(not_object, rules)["content"] == {"membership": "invite"}
    # Before v11 it is dropped entirely.
    assert redact(_event("m.room.member"), get_room_version("10").redaction)["content"] == (
        _content_subset("m.room.member", "membership", "join_authorised_via_users_server")
    )


def test_rules_not_versions() -> None:
    # redact() takes only RedactionRules: a custom combination works.
    rules = RedactionRules(
        keep_origin_membership_prev_state=False,
        keep_room_aliases_aliases=True,
        keep_join_rules_allow=False,
        keep_member_join_authorised_via_users_server=False,
        keep_create_content=False,
        keep_power_levels_invite=False,
        keep_redaction_redacts=False,
        keep_member_third_party_invite_signed=False,
    )
    redacted = redact(_event("m.room.aliases"), rules)
    assert redacted["content"] == {"aliases": ["#a:example.org"]}
    assert "origin" not in redacted
