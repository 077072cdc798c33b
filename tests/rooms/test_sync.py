"""GET /sync: initial and incremental, long-poll, limited timelines, invites, leaves,
filters and lazy-loading, and the token contract under concurrency."""

from __future__ import annotations

import asyncio
import json
import time


async def sync(user, **params):
    r = await user.get("/sync", **params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_initial_sync_shape(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(name="Room", invite=[bob.user_id])
    for i in range(4):
        await alice.send(room_id, f"earlier {i}")
    await alice.send(room_id, "hi")  # 9 initial events + 5 messages: more than 10
    body = await sync(alice)
    assert body["next_batch"].startswith("s")
    room = body["rooms"]["join"][room_id]
    timeline = room["timeline"]["events"]
    assert timeline[-1]["content"]["body"] == "hi"
    assert "room_id" not in timeline[-1]
    assert room["timeline"]["limited"] is True  # the room has more than 10 events
    assert room["timeline"]["prev_batch"]
    state_types = {e["type"] for e in room["state"]["events"]}
    assert "m.room.create" in state_types
    assert room["summary"]["m.joined_member_count"] == 1
    assert room["summary"]["m.invited_member_count"] == 1
    invite = (await sync(bob))["rooms"]["invite"][room_id]["invite_state"]["events"]
    assert {e["type"] for e in invite} >= {"m.room.create", "m.room.name", "m.room.member"}


async def test_incremental_sync_long_polls(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    token = (await sync(bob))["next_batch"]
    empty = await sync(bob, since=token, timeout=0)
    assert empty["rooms"]["join"] == {} and empty["next_batch"] == token

    async def later():
        await asyncio.sleep(0.2)
        await alice.send(room_id, "ping")
        return time.monotonic()

    task = asyncio.create_task(later())
    body = await sync(bob, since=token, timeout=10000)
    got = time.monotonic()
    sent = await task
    events = body["rooms"]["join"][room_id]["timeline"]["events"]
    assert [e["content"]["body"] for e in events] == ["ping"]
    assert body["rooms"]["join"][room_id]["timeline"]["limited"] is False
    assert body["rooms"]["join"][room_id]["state"]["events"] == []
    assert got - sent < 0.1


async def test_limited_incremental_has_state_delta_and_gap_token(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    token = (await sync(bob))["next_batch"]
    await alice.put(f"/rooms/{room_id}/state/m.room.topic", {"topic": "during gap"})
    for i in range(15):
        await alice.send(room_id, f"m{i}")
    body = await sync(bob, since=token)
    room = body["rooms"]["join"][room_id]
    assert room["timeline"]["limited"] is True
    assert len(room["timeline"]["events"]) == 10
    assert [e["type"] for e in room["state"]["events"]] == ["m.room.topic"]
    # the gap can be closed with /messages from=prev_batch to=since... here: from prev_batch
    r = await bob.get(f"/rooms/{room_id}/messages", dir="b", limit=5,
                      **{"from": room["timeline"]["prev_batch"]})
    assert [e["content"].get("body") for e in r.json()["chunk"]] == [
        "m4", "m3", "m2", "m1", "m0"]


async def test_leave_appears_in_leave_section(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    token = (await sync(bob))["next_batch"]
    await alice.post(f"/rooms/{room_id}/kick", {"user_id": bob.user_id})
    body = await sync(bob, since=token)
    leave = body["rooms"]["leave"][room_id]
    assert leave["timeline"]["events"][-1]["content"]["membership"] == "leave"
    assert room_id not in body["rooms"]["join"]
    initial = await sync(bob)
    assert room_id not in initial["rooms"]["leave"]
    with_leave = await sync(bob, filter=json.dumps({"room": {"include_leave": True}}))
    assert room_id in with_leave["rooms"]["leave"]


async def test_filters_upload_get_and_lazy_loading(users):
    alice, bob, carol = await users("alice", "bob", "carol")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await carol.join(room_id)
    for _ in range(3):
        await bob.send(room_id, "from bob")
    f = {"room": {"timeline": {"limit": 2, "types": ["m.room.message"]},
                  "state": {"lazy_load_members": True}}}
    r = await alice.post(f"/user/{alice.user_id}/filter", f)
    assert r.status_code == 200, r.text
    filter_id = r.json()["filter_id"]
    assert (await alice.get(f"/user/{alice.user_id}/filter/{filter_id}")).json() == f
    assert (await alice.get(f"/user/{alice.user_id}/filter/999")).status_code == 404
    assert (await bob.get(f"/user/{alice.user_id}/filter/{filter_id}")).status_code == 403
    r = await alice.post(f"/user/{alice.user_id}/filter", {"room": {"timeline": {"limit": "x"}}})
    assert r.status_code == 400
    room = (await sync(alice, filter=filter_id))["rooms"]["join"][room_id]
    assert [e["type"] for e in room["timeline"]["events"]] == ["m.room.message"] * 2
    members = {e["state_key"] for e in room["state"]["events"] if e["type"] == "m.room.member"}
    assert members == {alice.user_id, bob.user_id}  # carol sent nothing in the timeline


async def test_bad_since_is_400(users):
    (alice,) = await users("alice")
    r = await alice.get("/sync", since="nonsense")
    assert r.status_code == 400


async def test_token_contract_every_event_exactly_once(users):
    """1,000 messages from 10 concurrent senders while 5 clients long-poll /sync: every client
    sees every message exactly once, in stream order."""
    names = [f"s{i}" for i in range(10)] + [f"r{i}" for i in range(5)]
    everyone = await users(*names)
    senders, readers = everyone[:10], everyone[10:]
    room_id = await senders[0].create_room(preset="public_chat")
    for user in everyone[1:]:
        assert (await user.join(room_id)).status_code == 200
    tokens = [(await sync(r))["next_batch"] for r in readers]
    total = 1000
    done = asyncio.Event()

    async def send_all(sender, n):
        for i in range(n):
            await sender.send(room_id, f"{sender.user_id} {i}")

    async def read_all(reader, token):
        seen: list[str] = []
        while len(seen) < total:
            body = await sync(reader, since=token, timeout=5000,
                              filter=json.dumps({"room": {"timeline": {"limit": 100000}}}))
            token = body["next_batch"]
            room = body["rooms"]["join"].get(room_id)
            if room:
                assert room["timeline"]["limited"] is False
                seen += [e["content"]["body"] for e in room["timeline"]["events"]
                         if e["type"] == "m.room.message"]
            if done.is_set() and not room and len(seen) < total:
                break
        return seen

    readers_tasks = [asyncio.create_task(read_all(r, t)) for r, t in zip(readers, tokens, strict=True)]
    await asyncio.gather(*(send_all(s, total // len(senders)) for s in senders))
    done.set()
    results = await asyncio.wait_for(asyncio.gather(*readers_tasks), 120)
    order: list[str] = []
    params = {"dir": "f", "limit": 400}
    while True:
        page = (await readers[0].get(f"/rooms/{room_id}/messages", **params)).json()
        order += [e["content"]["body"] for e in page["chunk"] if e["type"] == "m.room.message"]
        if "end" not in page:
            break
        params["from"] = page["end"]
    assert len(order) == total
    for seen in results:
        assert len(seen) == total and len(set(seen)) == total
        assert seen == order


async def test_use_state_after(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat", name="before")
    await bob.join(room_id)
    initial = await sync(bob, use_state_after="true")
    room = initial["rooms"]["join"][room_id]
    assert "state" not in room
    names = [e for e in room["state_after"]["events"] if e["type"] == "m.room.name"]
    assert names[0]["content"] == {"name": "before"}
    await alice.put(f"/rooms/{room_id}/state/m.room.name", {"name": "after"})
    body = await sync(bob, since=initial["next_batch"], use_state_after="true", timeout=5000)
    room = body["rooms"]["join"][room_id]
    assert "state" not in room
    # state_after carries the change even though the event is also in the timeline.
    assert [(e["type"], e["content"]) for e in room["state_after"]["events"]] == [
        ("m.room.name", {"name": "after"})]
    plain = await sync(bob, since=initial["next_batch"])
    assert plain["rooms"]["join"][room_id]["state"]["events"] == []
    assert "state_after" not in plain["rooms"]["join"][room_id]


async def test_lazy_loading_sends_senders_memberships_on_incremental_syncs(users):
    alice, bob, carol = await users("alice", "bob", "carol")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await carol.join(room_id)
    for _ in range(12):
        await alice.send(room_id, "filler")
    lazy = json.dumps({"room": {"state": {"lazy_load_members": True}}})
    initial = await sync(alice, filter=lazy)
    members = {e["state_key"] for e in initial["rooms"]["join"][room_id]["state"]["events"]
               if e["type"] == "m.room.member"}
    assert carol.user_id not in members  # carol sent nothing in that timeline
    await carol.send(room_id, "hello from carol")
    body = await sync(alice, since=initial["next_batch"], filter=lazy, timeout=5000)
    room = body["rooms"]["join"][room_id]
    assert room["timeline"]["limited"] is False
    state_members = {e["state_key"] for e in room["state"]["events"]
                     if e["type"] == "m.room.member"}
    assert carol.user_id in state_members


async def test_federation_event_format_and_event_fields(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    await alice.send(room_id, "pdu")
    body = await sync(alice, filter=json.dumps({"event_format": "federation"}))
    last = body["rooms"]["join"][room_id]["timeline"]["events"][-1]
    assert {"hashes", "signatures", "auth_events", "prev_events", "depth"} <= set(last)
    body = await sync(alice, filter=json.dumps({"event_fields": ["type", "content.body"]}))
    last = body["rooms"]["join"][room_id]["timeline"]["events"][-1]
    assert last == {"type": "m.room.message", "content": {"body": "pdu"}}
