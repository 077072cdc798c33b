"""Sync tokens and the filter language."""

from __future__ import annotations

import pytest

from myelin.protocol.errors import BadJson, InvalidParam
from myelin.protocol.sync.filters import parse_filter, project_fields
from myelin.protocol.sync.tokens import SyncToken


def test_token_round_trip_and_old_tokens():
    t = SyncToken(events=5, typing=2, presence=9)
    assert SyncToken.parse(t.encode()) == t
    assert SyncToken.parse("s42") == SyncToken(events=42)
    assert SyncToken(events=3).advanced_past(SyncToken(events=2))
    assert not SyncToken(events=3).advanced_past(SyncToken(events=3))
    for bad in ("", "42", "s", "s1_x", "t1_2", "s" + "_".join(["1"] * 20)):
        with pytest.raises(InvalidParam):
            SyncToken.parse(bad)


def test_filter_types_wildcards_and_senders():
    f = parse_filter({"room": {"timeline": {"types": ["m.room.*"], "not_types": ["m.room.member"],
                                            "not_senders": ["@spam:x"], "limit": 3}}})
    tl = f.room.timeline
    assert f.timeline_limit == 3
    assert tl.allows("m.room.message", "@a:x", "!r")
    assert not tl.allows("m.room.member", "@a:x", "!r")
    assert not tl.allows("m.reaction", "@a:x", "!r")
    assert not tl.allows("m.room.message", "@spam:x", "!r")
    assert parse_filter({}).timeline_limit == 10


def test_wildcard_is_the_only_special_character():
    f = parse_filter({"room": {"timeline": {"types": ["m.?oom"]}}})
    assert not f.room.timeline.allows("m.room", "@a:x", "!r")
    assert f.room.timeline.allows("m.?oom", "@a:x", "!r")


def test_rooms_and_contains_url():
    f = parse_filter({"room": {"rooms": ["!a"], "timeline": {"contains_url": True}}})
    assert f.room.allows_room("!a") and not f.room.allows_room("!b")
    assert f.room.timeline.allows("m.room.message", "@a:x", "!a", {"url": "mxc://x/y"})
    assert not f.room.timeline.allows("m.room.message", "@a:x", "!a", {"body": "no"})


@pytest.mark.parametrize("raw", [
    [], {"room": []}, {"room": {"timeline": {"limit": "5"}}}, {"event_format": "xml"},
    {"room": {"timeline": {"types": "m.room.message"}}}, {"room": {"include_leave": 1}},
])
def test_bad_filters(raw):
    with pytest.raises(BadJson):
        parse_filter(raw)


def test_event_fields_projection():
    event = {"type": "m.room.message", "content": {"body": "x", "a.b": 1}, "sender": "@a:x"}
    assert project_fields(event, ["type", "content.body", r"content.a\.b", "nope.x"]) == {
        "type": "m.room.message", "content": {"body": "x", "a.b": 1}}
