"""Room summaries: GET /_matrix/client/v1/room_summary/{roomIdOrAlias} (§Room Summaries)."""

from __future__ import annotations

from urllib.parse import quote

from myelin.config import RegistrationConfig
from tests.rooms.conftest import User

ENCRYPTION = {"type": "m.room.encryption", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


async def _summary(hs, room: str, user=None):
    headers = user.headers if user is not None else {}
    return await hs.client.get(f"/_matrix/client/v1/room_summary/{quote(room, safe='')}",
                               headers=headers, params={"via": "test.local"})


async def test_member_sees_private_room_outsider_does_not(hs, users):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(name="Secret", topic="shh", invite=[bob.user_id],
                                      initial_state=[ENCRYPTION])
    r = await _summary(hs, room_id, alice)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "room_id": room_id, "name": "Secret", "topic": "shh", "num_joined_members": 1,
        "world_readable": False, "guest_can_join": True, "join_rule": "invite",
        "room_version": "12", "encryption": "m.megolm.v1.aes-sha2", "membership": "join",
    }
    # Invited users may look before they join.
    r = await _summary(hs, room_id, bob)
    assert r.status_code == 200 and r.json()["membership"] == "invite"
    for who in (eve, None):
        r = await _summary(hs, room_id, who)
        assert r.status_code == 404 and r.json()["errcode"] == "M_NOT_FOUND"
    # Having left, bob is an outsider again.
    assert (await bob.join(room_id)).status_code == 200
    assert (await bob.post(f"/rooms/{room_id}/leave")).status_code == 200
    assert (await _summary(hs, room_id, bob)).status_code == 404


async def test_public_room_by_alias_with_and_without_authentication(hs, users):
    alice, eve = await users("alice", "eve")
    room_id = await alice.create_room(preset="public_chat", room_alias_name="square",
                                      creation_content={"type": "m.space"})
    r = await _summary(hs, "#square:test.local", eve)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["room_id"] == room_id and body["membership"] == "leave"
    assert body["room_type"] == "m.space" and body["canonical_alias"] == "#square:test.local"
    assert body["join_rule"] == "public" and "encryption" not in body
    r = await _summary(hs, "#square:test.local")
    assert r.status_code == 200 and "membership" not in r.json()
    assert (await _summary(hs, "#nowhere:test.local", eve)).status_code == 404
    assert (await _summary(hs, "!nowhere:test.local", eve)).status_code == 404
    assert (await _summary(hs, "nonsense", eve)).status_code == 400


async def test_knockable_world_readable_and_restricted_rooms(hs, users):
    alice, eve = await users("alice", "eve")
    knock = await alice.create_room(initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "knock"}}])
    readable = await alice.create_room(initial_state=[
        {"type": "m.room.history_visibility",
         "content": {"history_visibility": "world_readable"}}])
    parent = await alice.create_room(preset="public_chat")
    restricted = await alice.create_room(initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "restricted", "allow": [
            {"type": "m.room_membership", "room_id": parent}]}}])

    for room_id in (knock, readable):
        assert (await _summary(hs, room_id)).status_code == 200
        assert (await _summary(hs, room_id, eve)).status_code == 200
    assert (await _summary(hs, readable, eve)).json()["world_readable"] is True
    # Restricted: only for members of an allowed room.
    assert (await _summary(hs, restricted)).status_code == 404
    assert (await _summary(hs, restricted, eve)).status_code == 404
    assert (await eve.join(parent)).status_code == 200
    r = await _summary(hs, restricted, eve)
    assert r.status_code == 200, r.text
    assert r.json()["allowed_room_ids"] == [parent]
    assert r.json()["join_rule"] == "restricted"


async def test_guests_may_ask(server_factory):
    hs = await server_factory(registration=RegistrationConfig(enabled=True, allow_guests=True))
    alice = User(hs, await hs.register("alice"))
    room_id = await alice.create_room(preset="public_chat")
    r = await hs.client.post("/_matrix/client/v3/register", params={"kind": "guest"},
                             json={})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = await hs.client.get(f"/_matrix/client/v1/room_summary/{room_id}",
                            headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["membership"] == "leave"
