"""Rooms over the client API: create, membership, send, state, history, redaction."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from myelin.protocol.room_versions import KNOWN_ROOM_VERSIONS


async def test_create_room_private_chat_state(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room(name="Lab", topic="experiments")
    r = await alice.get(f"/rooms/{room_id}/state")
    assert r.status_code == 200, r.text
    state = {(e["type"], e["state_key"]): e for e in r.json()}
    assert state[("m.room.create", "")]["content"]["room_version"] == "12"
    assert state[("m.room.join_rules", "")]["content"] == {"join_rule": "invite"}
    assert state[("m.room.history_visibility", "")]["content"] == {"history_visibility": "shared"}
    assert state[("m.room.guest_access", "")]["content"] == {"guest_access": "can_join"}
    assert state[("m.room.name", "")]["content"] == {"name": "Lab"}
    assert state[("m.room.topic", "")]["content"]["topic"] == "experiments"
    assert state[("m.room.member", alice.user_id)]["content"]["membership"] == "join"
    # v12: the creator has infinite power and is not listed in users.
    assert alice.user_id not in state[("m.room.power_levels", "")]["content"]["users"]
    assert room_id.startswith("!") and ":" not in room_id  # v12 room IDs are hashes
    r = await alice.get("/joined_rooms")
    assert r.json() == {"joined_rooms": [room_id]}


@pytest.mark.parametrize("version", sorted(KNOWN_ROOM_VERSIONS, key=int))
async def test_every_room_version_can_be_created_and_used(users, version):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(room_version=version, preset="public_chat")
    assert (await bob.join(room_id)).status_code == 200
    event_id = await bob.send(room_id, "hi")
    # v3 event IDs are standard Base64 and may hold '/' or '+': clients must encode them.
    r = await alice.get(f"/rooms/{quote(room_id, safe='')}/event/{quote(event_id, safe='')}")
    assert r.status_code == 200, r.text
    assert r.json()["content"]["body"] == "hi"
    r = await alice.get(f"/rooms/{room_id}/state/m.room.create")
    assert r.json()["room_version"] == version


async def test_unsupported_room_version(users):
    (alice,) = await users("alice")
    r = await alice.post("/createRoom", {"room_version": "999"})
    assert r.status_code == 400 and r.json()["errcode"] == "M_UNSUPPORTED_ROOM_VERSION"


async def test_invite_join_and_outsider_refused(users):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(invite=[bob.user_id])
    assert (await eve.join(room_id)).status_code == 403  # invite-only
    assert (await bob.join(room_id)).status_code == 200
    await alice.send(room_id, "secret")
    r = await eve.get(f"/rooms/{room_id}/messages", dir="b")
    assert r.status_code == 403
    r = await eve.get(f"/rooms/{room_id}/state")
    assert r.status_code == 403
    r = await bob.get(f"/rooms/{room_id}/joined_members")
    assert set(r.json()["joined"]) == {alice.user_id, bob.user_id}


async def test_send_is_idempotent_per_device_and_path(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    path = f"/rooms/{room_id}/send/m.room.message/same-txn"
    first = await alice.put(path, {"msgtype": "m.text", "body": "once"})
    again = await alice.put(path, {"msgtype": "m.text", "body": "once"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other = await alice.put(f"/rooms/{room_id}/send/m.room.other/same-txn", {"x": 1})
    assert other.json()["event_id"] != first.json()["event_id"]
    r = await alice.get(f"/rooms/{room_id}/messages", dir="b", limit=50)
    bodies = [e["content"].get("body") for e in r.json()["chunk"]]
    assert bodies.count("once") == 1


async def test_messages_paginate_both_ways_to_the_creation(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    sent = [await alice.send(room_id, f"m{i}") for i in range(12)]
    seen: list[str] = []
    token = None
    while True:
        params = {"dir": "b", "limit": 5}
        if token:
            params["from"] = token
        r = await alice.get(f"/rooms/{room_id}/messages", **params)
        assert r.status_code == 200, r.text
        seen += [e["event_id"] for e in r.json()["chunk"]]
        token = r.json().get("end")
        if token is None:
            break
    assert seen[:12] == list(reversed(sent))
    assert seen[-1] != sent[0]
    r = await alice.get(f"/rooms/{room_id}/event/{seen[-1]}")
    assert r.json()["type"] == "m.room.create"
    forward = await alice.get(f"/rooms/{room_id}/messages", dir="f", limit=100)
    ids = [e["event_id"] for e in forward.json()["chunk"]]
    assert ids == list(reversed(seen))
    assert "end" not in forward.json()


async def test_state_put_get_and_trailing_slash(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room(topic="old")
    r = await alice.put(f"/rooms/{room_id}/state/m.room.topic/", {"topic": "new"})
    assert r.status_code == 200, r.text
    r = await alice.get(f"/rooms/{room_id}/state/m.room.topic")
    assert r.json() == {"topic": "new"}
    r = await alice.get(f"/rooms/{room_id}/state/m.room.topic/", format="event")
    event = r.json()
    assert event["content"] == {"topic": "new"} and event["state_key"] == ""
    assert event["unsigned"]["prev_content"]["topic"] == "old"
    assert event["unsigned"]["prev_sender"] == alice.user_id
    r = await alice.get(f"/rooms/{room_id}/state/m.room.nothing/")
    assert r.status_code == 404


async def test_power_levels_enforced(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    r = await bob.put(f"/rooms/{room_id}/state/m.room.name", {"name": "mine"})
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    r = await bob.post(f"/rooms/{room_id}/kick", {"user_id": alice.user_id})
    assert r.status_code == 403


async def test_kick_ban_unban(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    assert (await alice.post(f"/rooms/{room_id}/kick",
                             {"user_id": bob.user_id, "reason": "bye"})).status_code == 200
    r = await alice.get(f"/rooms/{room_id}/state/m.room.member/{bob.user_id}")
    assert r.json()["membership"] == "leave" and r.json()["reason"] == "bye"
    assert (await alice.post(f"/rooms/{room_id}/ban", {"user_id": bob.user_id})).status_code == 200
    assert (await bob.join(room_id)).status_code == 403
    assert (await alice.post(f"/rooms/{room_id}/unban",
                             {"user_id": bob.user_id})).status_code == 200
    assert (await bob.join(room_id)).status_code == 200


async def test_leave_and_forget(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    r = await bob.post(f"/rooms/{room_id}/forget")
    assert r.status_code == 400  # must leave first
    assert (await bob.post(f"/rooms/{room_id}/leave")).status_code == 200
    assert (await bob.post(f"/rooms/{room_id}/forget")).status_code == 200
    assert (await bob.get("/joined_rooms")).json() == {"joined_rooms": []}


async def test_redaction_by_sender_and_by_others(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    mine = await bob.send(room_id, "oops")
    theirs = await alice.send(room_id, "admin message")
    r = await bob.put(f"/rooms/{room_id}/redact/{theirs}/r1", {})
    assert r.status_code == 403
    r = await bob.put(f"/rooms/{room_id}/redact/{mine}/r2", {"reason": "typo"})
    assert r.status_code == 200, r.text
    event = (await alice.get(f"/rooms/{room_id}/event/{mine}")).json()
    assert event["content"] == {}
    assert event["unsigned"]["redacted_because"]["content"]["reason"] == "typo"
    # Redactions through /send are accepted too (S-5).
    r = await alice.put(f"/rooms/{room_id}/send/m.room.redaction/r3", {"redacts": theirs})
    assert r.status_code == 200, r.text
    assert (await alice.get(f"/rooms/{room_id}/event/{theirs}")).json()["content"] == {}


async def test_history_visibility_joined(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await alice.put(f"/rooms/{room_id}/state/m.room.history_visibility",
                    {"history_visibility": "joined"})
    before = await alice.send(room_id, "before bob")
    await bob.join(room_id)
    after = await alice.send(room_id, "after bob")
    r = await bob.get(f"/rooms/{room_id}/messages", dir="b", limit=50)
    ids = [e["event_id"] for e in r.json()["chunk"]]
    assert after in ids and before not in ids
    assert (await bob.get(f"/rooms/{room_id}/event/{before}")).status_code == 404


async def test_event_size_limits(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    r = await alice.put(f"/rooms/{room_id}/send/m.room.message/big",
                        {"body": "x" * 70000, "msgtype": "m.text"})
    assert r.status_code == 413 and r.json()["errcode"] == "M_TOO_LARGE"
    r = await alice.put(f"/rooms/{room_id}/send/{'t' * 300}/t2", {})
    assert r.status_code == 413


async def test_aliases(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(room_alias_name="lab", preset="public_chat")
    r = await bob.get("/directory/room/%23lab:test.local")
    assert r.json()["room_id"] == room_id
    r = await bob.post("/createRoom", {"room_alias_name": "lab"})
    assert r.status_code == 400 and r.json()["errcode"] == "M_ROOM_IN_USE"
    assert (await bob.join("%23lab:test.local")).status_code == 200
    r = await alice.get(f"/rooms/{room_id}/aliases")
    assert r.json() == {"aliases": ["#lab:test.local"]}
    r = await alice.put(f"/rooms/{room_id}/state/m.room.canonical_alias",
                        {"alias": "#nope:test.local"})
    assert r.status_code == 400 and r.json()["errcode"] == "M_BAD_ALIAS"


async def test_unknown_room(users):
    (alice,) = await users("alice")
    r = await alice.put("/rooms/!nope:test.local/send/m.room.message/x", {"body": "x"})
    assert r.status_code == 404


async def test_identical_rooms_in_the_same_millisecond_get_distinct_ids(users):
    """v12 room IDs hash the create event; the test clock does not move between requests."""
    (alice,) = await users("alice")
    first = await alice.create_room()
    second = await alice.create_room()
    assert first != second


@pytest.mark.parametrize("version", ["8", "10", "12"])
async def test_restricted_join(users, version):
    alice, bob, eve = await users("alice", "bob", "eve")
    space = await alice.create_room(preset="public_chat")
    await bob.join(space)
    room_id = await alice.create_room(room_version=version, initial_state=[{
        "type": "m.room.join_rules", "state_key": "",
        "content": {"join_rule": "restricted",
                    "allow": [{"type": "m.room_membership", "room_id": space}]}}])
    r = await eve.join(room_id)
    assert r.status_code == 403, r.text  # not in the allowed room
    r = await bob.join(room_id)
    assert r.status_code == 200, r.text
    member = (await alice.get(f"/rooms/{room_id}/state/m.room.member/{bob.user_id}")).json()
    assert member["join_authorised_via_users_server"] == alice.user_id


async def test_guests_join_only_can_join_rooms(users, server_factory):
    from myelin.config import RegistrationConfig

    hs = await server_factory(registration=RegistrationConfig(enabled=True, allow_guests=True))
    from tests.rooms.conftest import User

    alice = User(hs, await hs.register("alice"))
    r = await hs.client.post("/_matrix/client/v3/register?kind=guest", json={})
    guest = User(hs, r.json())
    private = await alice.create_room(preset="private_chat")  # guest_access can_join
    public = await alice.create_room(preset="public_chat")  # guest_access forbidden
    await alice.post(f"/rooms/{private}/invite", {"user_id": guest.user_id})
    assert (await guest.post(f"/rooms/{private}/join")).status_code == 200
    r = await guest.post(f"/rooms/{public}/join")
    assert r.status_code == 403 and r.json()["errcode"] == "M_GUEST_ACCESS_FORBIDDEN"


async def test_messages_filter_and_lazy_members(users):
    import json

    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    for i in range(30):
        await (alice if i % 3 else bob).send(room_id, f"m{i}")
    f = json.dumps({"types": ["m.room.message"], "senders": [bob.user_id],
                    "lazy_load_members": True})
    r = await alice.get(f"/rooms/{room_id}/messages", dir="b", limit=4, filter=f)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["content"]["body"] for e in body["chunk"]] == ["m27", "m24", "m21", "m18"]
    assert [e["state_key"] for e in body["state"]] == [bob.user_id]
    r = await alice.get(f"/rooms/{room_id}/messages", dir="b", limit=4, filter=f,
                        **{"from": body["end"]})
    assert [e["content"]["body"] for e in r.json()["chunk"]] == ["m15", "m12", "m9", "m6"]
    r = await alice.get(f"/rooms/{room_id}/messages", dir="b", filter="{not json")
    assert r.status_code == 400
