"""GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event: the closest event in each
direction, 404 when there is none, history visibility respected."""

from __future__ import annotations

from typing import Any

import httpx


async def lookup(user, room_id: str, **params: Any) -> httpx.Response:
    return await user.hs.client.get(f"/_matrix/client/v1/rooms/{room_id}/timestamp_to_event",
                                    headers=user.headers, params=params)


async def test_closest_event_both_directions(users, hs):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    hs.clock.advance(60)
    t1 = hs.clock.time_msec()
    e1 = await alice.send(room_id, "one")
    hs.clock.advance(60)
    t2 = hs.clock.time_msec()
    e2 = await alice.send(room_id, "two")
    e2b = await alice.send(room_id, "two, same millisecond")
    hs.clock.advance(60)
    t3 = hs.clock.time_msec()
    e3 = await alice.send(room_id, "three")

    between = (t1 + t2) // 2
    r = await lookup(alice, room_id, ts=between, dir="f")
    assert r.status_code == 200, r.text
    assert r.json() == {"event_id": e2, "origin_server_ts": t2}
    r = await lookup(alice, room_id, ts=between, dir="b")
    assert r.json() == {"event_id": e1, "origin_server_ts": t1}
    # At an exact timestamp both directions find events with it; ties go to the nearer one
    # in stream order for the direction.
    assert (await lookup(alice, room_id, ts=t2, dir="f")).json()["event_id"] == e2
    assert (await lookup(alice, room_id, ts=t2, dir="b")).json()["event_id"] == e2b
    assert (await lookup(alice, room_id, ts=t3 + 1, dir="b")).json()["event_id"] == e3

    r = await lookup(alice, room_id, ts=t3 + 1, dir="f")
    assert r.status_code == 404 and r.json()["errcode"] == "M_NOT_FOUND"
    r = await lookup(alice, room_id, ts=0, dir="b")
    assert r.status_code == 404
    # Before the room existed, forwards: its first event, the m.room.create.
    r = await lookup(alice, room_id, ts=0, dir="f")
    found = r.json()["event_id"]
    r = await alice.get(f"/rooms/{room_id}/event/{found}")
    assert r.json()["type"] == "m.room.create"

    assert (await lookup(alice, room_id, ts=t1)).status_code == 400  # dir is required
    assert (await lookup(alice, room_id, dir="f")).status_code == 400  # ts is required
    assert (await lookup(alice, room_id, ts=t1, dir="x")).status_code == 400
    assert (await lookup(alice, room_id, ts="soon", dir="f")).status_code == 400


async def test_timestamp_lookup_respects_visibility(users, hs):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(preset="public_chat")
    r = await alice.put(f"/rooms/{room_id}/state/m.room.history_visibility",
                        {"history_visibility": "joined"})
    change = r.json()["event_id"]
    hs.clock.advance(60)
    before_join = hs.clock.time_msec()
    hidden = await alice.send(room_id, "bob must not see this")
    hs.clock.advance(60)
    await bob.join(room_id)
    hs.clock.advance(60)
    shown = await alice.send(room_id, "bob sees this")

    # Backwards, bob skips the hidden message to the change of visibility (which he may see:
    # the history before it was "shared").
    r = await lookup(bob, room_id, ts=before_join, dir="b")
    assert r.json()["event_id"] == change
    r = await lookup(alice, room_id, ts=before_join, dir="b")
    assert r.json()["event_id"] == hidden
    # Forwards, he finds his own join.
    r = await lookup(bob, room_id, ts=before_join, dir="f")
    found = r.json()["event_id"]
    event = (await bob.get(f"/rooms/{room_id}/event/{found}")).json()
    assert event["type"] == "m.room.member" and event["state_key"] == bob.user_id
    r = await lookup(bob, room_id, ts=hs.clock.time_msec(), dir="b")
    assert r.json()["event_id"] == shown

    r = await lookup(eve, room_id, ts=before_join, dir="f")
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    r = await lookup(alice, "!unknown:test.local", ts=before_join, dir="f")
    assert r.status_code == 404
