"""Account data, tags, ignored users, typing, receipts, read markers, presence, to-device
and device-list changes, as the endpoints answer and as /sync delivers them."""

from __future__ import annotations

import asyncio
import json


async def sync(user, **params):
    r = await user.get("/sync", **params)
    assert r.status_code == 200, r.text
    return r.json()


async def test_account_data_global_and_room(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    base = f"/user/{alice.user_id}"
    assert (await alice.put(f"{base}/account_data/org.example.x", {"a": 1})).status_code == 200
    assert (await alice.get(f"{base}/account_data/org.example.x")).json() == {"a": 1}
    assert (await alice.get(f"{base}/account_data/org.example.none")).status_code == 404
    r = await alice.put(f"{base}/account_data/m.fully_read", {"event_id": "$x"})
    assert r.status_code == 405 and r.json()["errcode"] == "M_BAD_JSON"
    r = await alice.put(f"{base}/account_data/m.push_rules", {})
    assert r.status_code == 405
    assert (await alice.put(f"{base}/rooms/{room_id}/account_data/org.example.y",
                            {"b": 2})).status_code == 200
    body = await sync(alice)
    assert {"type": "org.example.x", "content": {"a": 1}} in body["account_data"]["events"]
    room_data = body["rooms"]["join"][room_id]["account_data"]["events"]
    assert {"type": "org.example.y", "content": {"b": 2}} in room_data
    token = body["next_batch"]
    await alice.put(f"{base}/account_data/org.example.x", {"a": 2})
    body = await sync(alice, since=token, timeout=5000)
    assert body["account_data"]["events"] == [{"type": "org.example.x", "content": {"a": 2}}]
    other, = await users("other")
    r = await other.get(f"{base}/account_data/org.example.x")
    assert r.status_code == 403


async def test_tags(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    base = f"/user/{alice.user_id}/rooms/{room_id}/tags"
    assert (await alice.put(f"{base}/m.favourite", {"order": 0.5})).status_code == 200
    assert (await alice.put(f"{base}/u.work", {})).status_code == 200
    assert (await alice.get(base)).json() == {"tags": {"m.favourite": {"order": 0.5},
                                                       "u.work": {}}}
    r = await alice.hs.client.delete(f"/_matrix/client/v3{base}/u.work", headers=alice.headers)
    assert r.status_code == 200
    assert (await alice.get(base)).json() == {"tags": {"m.favourite": {"order": 0.5}}}
    room = (await sync(alice))["rooms"]["join"][room_id]
    assert {"type": "m.tag", "content": {"tags": {"m.favourite": {"order": 0.5}}}} in \
        room["account_data"]["events"]


async def test_ignored_users_are_filtered(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await alice.put(f"/user/{alice.user_id}/account_data/m.ignored_user_list",
                    {"ignored_users": {bob.user_id: {}}})
    await bob.send(room_id, "you cannot see me")
    await alice.send(room_id, "visible")
    timeline = (await sync(alice))["rooms"]["join"][room_id]["timeline"]["events"]
    bodies = [e["content"].get("body") for e in timeline]
    assert "visible" in bodies and "you cannot see me" not in bodies
    other_room = await bob.create_room(invite=[alice.user_id])
    assert other_room not in (await sync(alice))["rooms"]["invite"]


async def test_typing_appears_and_stops(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    token = (await sync(bob))["next_batch"]
    r = await alice.put(f"/rooms/{room_id}/typing/{alice.user_id}",
                        {"typing": True, "timeout": 30000})
    assert r.status_code == 200
    body = await sync(bob, since=token, timeout=5000)
    ephemeral = body["rooms"]["join"][room_id]["ephemeral"]["events"]
    assert {"type": "m.typing", "content": {"user_ids": [alice.user_id]}} in ephemeral
    await alice.put(f"/rooms/{room_id}/typing/{alice.user_id}", {"typing": False})
    body = await sync(bob, since=body["next_batch"], timeout=5000)
    ephemeral = body["rooms"]["join"][room_id]["ephemeral"]["events"]
    assert {"type": "m.typing", "content": {"user_ids": []}} in ephemeral
    r = await bob.put(f"/rooms/{room_id}/typing/{alice.user_id}", {"typing": True})
    assert r.status_code == 403


async def test_typing_times_out(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await alice.put(f"/rooms/{room_id}/typing/{alice.user_id}", {"typing": True, "timeout": 100})
    token = (await sync(bob))["next_batch"]
    await asyncio.sleep(0.3)
    body = await sync(bob, since=token, timeout=2000)
    ephemeral = body["rooms"]["join"][room_id]["ephemeral"]["events"]
    assert {"type": "m.typing", "content": {"user_ids": []}} in ephemeral


async def test_receipts_public_and_private(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    event_id = await alice.send(room_id, "read me")
    token = (await sync(alice))["next_batch"]
    r = await bob.post(f"/rooms/{room_id}/receipt/m.read/{event_id}", {})
    assert r.status_code == 200, r.text
    body = await sync(alice, since=token, timeout=5000)
    receipt = [e for e in body["rooms"]["join"][room_id]["ephemeral"]["events"]
               if e["type"] == "m.receipt"][0]
    assert bob.user_id in receipt["content"][event_id]["m.read"]
    await bob.post(f"/rooms/{room_id}/receipt/m.read.private/{event_id}", {})
    mine = (await sync(bob))["rooms"]["join"][room_id]["ephemeral"]["events"]
    assert any("m.read.private" in e["content"].get(event_id, {}) for e in mine)
    theirs = (await sync(alice))["rooms"]["join"][room_id]["ephemeral"]["events"]
    assert not any("m.read.private" in e["content"].get(event_id, {}) for e in theirs)
    assert (await bob.post(f"/rooms/{room_id}/receipt/m.read/$nope", {})).status_code == 404


async def test_read_markers_set_fully_read(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    event_id = await alice.send(room_id, "x")
    r = await alice.post(f"/rooms/{room_id}/read_markers", {"m.fully_read": event_id,
                                                            "m.read": event_id})
    assert r.status_code == 200, r.text
    r = await alice.get(f"/user/{alice.user_id}/rooms/{room_id}/account_data/m.fully_read")
    assert r.json() == {"event_id": event_id}


async def test_presence(users):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    r = await alice.put(f"/presence/{alice.user_id}/status",
                        {"presence": "unavailable", "status_msg": "lunch"})
    assert r.status_code == 200
    r = await bob.get(f"/presence/{alice.user_id}/status")
    assert r.json()["presence"] == "unavailable" and r.json()["status_msg"] == "lunch"
    assert (await eve.get(f"/presence/{alice.user_id}/status")).status_code == 403
    events = (await sync(bob))["presence"]["events"]
    assert any(e["sender"] == alice.user_id and e["content"]["presence"] == "unavailable"
               for e in events)
    r = await alice.put(f"/presence/{alice.user_id}/status", {"presence": "sleepy"})
    assert r.status_code == 400


async def test_send_to_device_delivered_once_and_acknowledged(users):
    alice, bob = await users("alice", "bob")
    token = (await sync(bob))["next_batch"]
    body = {"messages": {bob.user_id: {bob.device_id: {"secret": 1}}}}
    assert (await alice.put("/sendToDevice/m.test/t1", body)).status_code == 200
    assert (await alice.put("/sendToDevice/m.test/t1", body)).status_code == 200  # retry
    first = await sync(bob, since=token, timeout=5000)
    assert first["to_device"]["events"] == [
        {"sender": alice.user_id, "type": "m.test", "content": {"secret": 1}}]
    again = await sync(bob, since=token)  # not acknowledged yet: delivered again
    assert len(again["to_device"]["events"]) == 1
    after = await sync(bob, since=first["next_batch"])
    assert after["to_device"]["events"] == []
    r = await alice.put("/sendToDevice/m.test/t2",
                        {"messages": {bob.user_id: {"*": {"to": "all"}}}})
    assert r.status_code == 200
    got = await sync(bob, since=after["next_batch"], timeout=5000)
    assert got["to_device"]["events"][0]["content"] == {"to": "all"}


async def test_device_list_changes(users, hs):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    token = (await sync(alice))["next_batch"]
    await hs.login("bob")  # a new device for bob
    body = await sync(alice, since=token, timeout=5000)
    assert bob.user_id in body["device_lists"]["changed"]


async def test_long_poll_wakes_on_to_device(users):
    alice, bob = await users("alice", "bob")
    token = (await sync(bob))["next_batch"]

    async def later():
        await asyncio.sleep(0.1)
        await alice.put("/sendToDevice/m.test/x",
                        {"messages": {bob.user_id: {bob.device_id: {"n": 1}}}})

    task = asyncio.create_task(later())
    body = await sync(bob, since=token, timeout=5000)
    await task
    assert body["to_device"]["events"][0]["content"] == {"n": 1}
    assert json.dumps(body)  # serialisable


async def test_presence_goes_idle_and_offline_with_time(users, hs):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await sync(alice)  # alice is online
    token = (await sync(bob))["next_batch"]
    hs.clock.advance(6 * 60)  # no activity for six minutes
    await hs.app.presence.sweep()
    body = await sync(bob, since=token, timeout=1000)
    states = [e["content"]["presence"] for e in body["presence"]["events"]
              if e["sender"] == alice.user_id]
    assert states and states[-1] in ("unavailable", "offline")
    assert (await bob.get(f"/presence/{alice.user_id}/status")).json()["presence"] in (
        "unavailable", "offline")
