"""The seed scenario: /initialSync, then /events long-poll, then /messages backwards."""

from __future__ import annotations

import asyncio
import time


async def test_seed_scenario(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat", name="seed")
    await bob.join(room_id)
    for i in range(8):
        await alice.send(room_id, f"history {i}")

    r = await bob.get("/initialSync", limit=5)
    assert r.status_code == 200, r.text
    snapshot = r.json()
    assert {"end", "rooms", "presence"} <= set(snapshot)
    (room,) = [x for x in snapshot["rooms"] if x["room_id"] == room_id]
    assert room["membership"] == "join"
    chunk = room["messages"]["chunk"]
    assert [e["content"]["body"] for e in chunk] == [f"history {i}" for i in range(3, 8)]
    assert any(e["type"] == "m.room.name" for e in room["state"])

    async def send_later() -> float:
        await asyncio.sleep(0.2)
        sent_at = time.monotonic()
        await alice.send(room_id, "live")
        return sent_at

    sender = asyncio.create_task(send_later())
    r = await bob.get("/events", **{"from": snapshot["end"], "timeout": 5000})
    received_at = time.monotonic()
    sent_at = await sender
    assert r.status_code == 200, r.text
    assert [e["content"].get("body") for e in r.json()["chunk"]] == ["live"]
    assert received_at - sent_at < 0.1, "the long-poll must wake on the new event"
    assert r.json()["end"] != snapshot["end"]

    # Backwards from the snapshot's start reaches the room's creation.
    token, types = room["messages"]["start"], []
    for _ in range(20):
        r = await bob.get(f"/rooms/{room_id}/messages", dir="b", limit=10, **{"from": token})
        assert r.status_code == 200, r.text
        types += [e["type"] for e in r.json()["chunk"]]
        token = r.json().get("end")
        if token is None:
            break
    assert types[-1] == "m.room.create"


async def test_events_times_out_empty(users):
    (alice,) = await users("alice")
    await alice.create_room()
    end = (await alice.get("/initialSync", limit=1)).json()["end"]
    r = await alice.get("/events", **{"from": end, "timeout": 50})
    assert r.status_code == 200
    assert r.json()["chunk"] == [] and r.json()["end"] == end


async def test_events_bad_token(users):
    (alice,) = await users("alice")
    r = await alice.get("/events", **{"from": "garbage", "timeout": 0})
    assert r.status_code == 400


async def test_events_carry_invites(users):
    alice, bob = await users("alice", "bob")
    end = (await bob.get("/initialSync")).json()["end"]
    room_id = await alice.create_room(invite=[bob.user_id])
    r = await bob.get("/events", **{"from": end, "timeout": 1000})
    invites = [e for e in r.json()["chunk"] if e["type"] == "m.room.member"]
    assert invites and invites[0]["content"]["membership"] == "invite"
    assert invites[0]["room_id"] == room_id
    snap = (await bob.get("/initialSync")).json()
    (room,) = snap["rooms"]
    assert room["membership"] == "invite" and room["invite"]["sender"] == alice.user_id


async def test_room_initial_sync_and_event_lookup(users):
    alice, eve = await users("alice", "eve")
    room_id = await alice.create_room()
    event_id = await alice.send(room_id, "x")
    r = await alice.get(f"/rooms/{room_id}/initialSync")
    assert r.status_code == 200 and r.json()["room_id"] == room_id
    assert r.json()["messages"]["chunk"][-1]["event_id"] == event_id
    assert (await eve.get(f"/rooms/{room_id}/initialSync")).status_code == 403
    assert (await alice.get(f"/events/{event_id}")).json()["event_id"] == event_id
    assert (await eve.get(f"/events/{event_id}")).status_code == 404
