"""GET /rooms/{roomId}/context/{eventId}: events around an event, the state at the last one
returned, tokens that continue with /messages, filters and visibility."""

from __future__ import annotations

import json
from typing import Any


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["event_id"] for e in events]


async def test_context_around_an_event(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat", topic="first topic")
    await bob.join(room_id)
    sent = [await alice.send(room_id, f"m{i}") for i in range(4)]
    middle = await alice.send(room_id, "middle")
    after = [await bob.send(room_id, f"a{i}") for i in range(2)]
    await alice.put(f"/rooms/{room_id}/state/m.room.topic", {"topic": "second topic"})
    later = [await alice.send(room_id, f"later{i}") for i in range(3)]

    r = await bob.get(f"/rooms/{room_id}/context/{middle}", limit=4)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["event"]["event_id"] == middle
    assert body["event"]["content"]["body"] == "middle"
    assert ids(body["events_before"]) == [sent[3], sent[2]]  # newest first
    assert ids(body["events_after"]) == after  # oldest first
    # The state at the last event returned: the topic change comes after it.
    state = {(e["type"], e["state_key"]): e for e in body["state"]}
    assert state[("m.room.topic", "")]["content"]["topic"] == "first topic"
    assert {k[1] for k in state if k[0] == "m.room.member"} == {alice.user_id, bob.user_id}

    # start continues backwards with /messages, end forwards.
    r = await bob.get(f"/rooms/{room_id}/messages", dir="b", limit=2,
                      **{"from": body["start"]})
    assert ids(r.json()["chunk"]) == [sent[1], sent[0]]
    r = await bob.get(f"/rooms/{room_id}/messages", dir="f", limit=10, **{"from": body["end"]})
    forward = ids(r.json()["chunk"])
    assert forward[1:] == later and len(forward) == 4  # the topic change, then the rest

    # limit=0: just the event; the tokens sit on either side of it.
    r = await bob.get(f"/rooms/{room_id}/context/{middle}", limit=0)
    body = r.json()
    assert body["event"]["event_id"] == middle
    assert body["events_before"] == [] and body["events_after"] == []
    r = await bob.get(f"/rooms/{room_id}/messages", dir="b", limit=1, **{"from": body["start"]})
    assert ids(r.json()["chunk"]) == [sent[3]]
    r = await bob.get(f"/rooms/{room_id}/messages", dir="f", limit=1, **{"from": body["end"]})
    assert ids(r.json()["chunk"]) == [after[0]]

    # The default limit is 10, split around the event; the state is at the last returned.
    r = await bob.get(f"/rooms/{room_id}/context/{middle}")
    body = r.json()
    assert len(body["events_before"]) == 5 and len(body["events_after"]) == 5
    state = {(e["type"], e["state_key"]): e for e in body["state"]}
    assert state[("m.room.topic", "")]["content"]["topic"] == "second topic"


async def test_context_carries_bundled_aggregations(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    root = await alice.send(room_id, "root")
    reply = await alice.send(room_id, content={
        "msgtype": "m.text", "body": "reply",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root}})
    r = await alice.get(f"/rooms/{room_id}/context/{root}", limit=2)
    body = r.json()
    thread = body["event"]["unsigned"]["m.relations"]["m.thread"]
    assert thread["latest_event"]["event_id"] == reply and thread["count"] == 1
    assert ids(body["events_after"]) == [reply]


async def test_context_filter_and_lazy_loading(users):
    alice, bob, carol = await users("alice", "bob", "carol")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await carol.join(room_id)
    first = await alice.send(room_id, "one")
    target = await bob.send(room_id, "two")
    await alice.send(room_id, event_type="org.example.other", content={"x": 1})
    await alice.send(room_id, "three")

    event_filter = {"lazy_load_members": True, "not_types": ["org.example.other"]}
    r = await carol.get(f"/rooms/{room_id}/context/{target}", limit=3,
                        filter=json.dumps(event_filter))
    assert r.status_code == 200, r.text
    body = r.json()
    assert ids(body["events_before"]) == [first]
    assert [e["content"]["body"] for e in body["events_after"]] == ["three"]
    members = {e["state_key"] for e in body["state"] if e["type"] == "m.room.member"}
    assert members == {alice.user_id, bob.user_id}  # the senders, not carol
    assert any(e["type"] == "m.room.create" for e in body["state"])

    r = await carol.get(f"/rooms/{room_id}/context/{target}", filter="{not json")
    assert r.status_code == 400 and r.json()["errcode"] == "M_NOT_JSON"
    r = await carol.get(f"/rooms/{room_id}/context/{target}",
                        filter=json.dumps({"types": "m.room.message"}))
    assert r.status_code == 400 and r.json()["errcode"] == "M_BAD_JSON"


async def test_context_visibility(users):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(preset="public_chat")
    await alice.put(f"/rooms/{room_id}/state/m.room.history_visibility",
                    {"history_visibility": "joined"})
    hidden = await alice.send(room_id, "before bob")
    await bob.join(room_id)
    shown = await alice.send(room_id, "after bob")

    r = await bob.get(f"/rooms/{room_id}/context/{hidden}")
    assert r.status_code == 404 and r.json()["errcode"] == "M_NOT_FOUND"
    r = await eve.get(f"/rooms/{room_id}/context/{shown}")
    assert r.status_code == 404
    r = await bob.get(f"/rooms/{room_id}/context/$nope")
    assert r.status_code == 404
    r = await bob.get(f"/rooms/{room_id}/context/{shown}", limit=40)
    assert r.status_code == 200, r.text
    body = r.json()
    # Bob's own join comes just before; the message sent under "joined" visibility before
    # it is hidden; what came before the change of visibility ("shared") is not.
    before = body["events_before"]
    assert before[0]["state_key"] == bob.user_id and before[0]["type"] == "m.room.member"
    assert hidden not in ids(before)
    assert before[1]["type"] == "m.room.history_visibility"
    assert before[-1]["type"] == "m.room.create"
    # An event of another room is not found in this one.
    other = await alice.create_room()
    r = await alice.get(f"/rooms/{other}/context/{shown}")
    assert r.status_code == 404
