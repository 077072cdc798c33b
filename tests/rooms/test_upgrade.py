"""Room upgrades: POST /rooms/{roomId}/upgrade (modules/room_upgrades.md)."""

from __future__ import annotations

from typing import Any


async def _state(user, room_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    r = await user.get(f"/rooms/{room_id}/state")
    assert r.status_code == 200, r.text
    return {(e["type"], e["state_key"]): e for e in r.json()}


async def _upgrade(user, room_id: str, **body: Any):
    return await user.post(f"/rooms/{room_id}/upgrade", body)


async def test_upgrade_replaces_the_room(hs, users):
    alice, bob, eve = await users("alice", "bob", "eve")
    old = await alice.create_room(
        room_version="11", visibility="public", preset="public_chat", name="Lab",
        topic="experiments", room_alias_name="lab",
        creation_content={"type": "org.example.lab", "m.federate": False},
        power_level_content_override={"users": {"@alice:test.local": 100,
                                                "@bob:test.local": 50}},
        initial_state=[
            {"type": "m.room.encryption", "content": {"algorithm": "m.megolm.v1.aes-sha2"}},
            {"type": "m.room.server_acl", "content": {"allow": ["*"], "deny": []}},
            {"type": "m.room.avatar", "content": {"url": "mxc://test.local/av"}},
            {"type": "m.space.parent", "state_key": "!space:test.local",
             "content": {"via": ["test.local"]}},
            {"type": "org.example.custom", "content": {"not": "copied"}},
        ])
    assert (await bob.join(old)).status_code == 200
    assert (await eve.join(old)).status_code == 200
    assert (await alice.post(f"/rooms/{old}/ban", {"user_id": eve.user_id,
                                                   "reason": "spam"})).status_code == 200
    r = await alice.put("/directory/room/%23lab2:test.local", {"room_id": old})
    assert r.status_code == 200
    last = (await alice.get(f"/rooms/{old}/messages", dir="b", limit=1)).json()["chunk"][0]

    r = await _upgrade(alice, old, new_version="12")
    assert r.status_code == 200, r.text
    new = r.json()["replacement_room"]
    assert new != old

    # The new room: predecessor, version, type, copied state, no other memberships.
    state = await _state(alice, new)
    create = state[("m.room.create", "")]["content"]
    assert create["room_version"] == "12" and create["type"] == "org.example.lab"
    assert create["m.federate"] is False
    assert create["predecessor"] == {"room_id": old, "event_id": last["event_id"]}
    assert state[("m.room.name", "")]["content"] == {"name": "Lab"}
    assert state[("m.room.topic", "")]["content"]["topic"] == "experiments"
    assert state[("m.room.join_rules", "")]["content"] == {"join_rule": "public"}
    assert state[("m.room.encryption", "")]["content"]["algorithm"] == "m.megolm.v1.aes-sha2"
    assert state[("m.room.server_acl", "")]["content"]["allow"] == ["*"]
    assert state[("m.room.avatar", "")]["content"] == {"url": "mxc://test.local/av"}
    assert state[("m.room.history_visibility", "")]["content"] == {
        "history_visibility": "shared"}
    assert ("m.space.parent", "!space:test.local") in state
    assert ("org.example.custom", "") not in state
    assert state[("m.room.canonical_alias", "")]["content"] == {"alias": "#lab:test.local"}
    members = {k[1]: e["content"]["membership"] for k, e in state.items()
               if k[0] == "m.room.member"}
    assert members == {alice.user_id: "join", eve.user_id: "ban"}
    power = state[("m.room.power_levels", "")]["content"]
    # v12: the creator is infinitely powerful and may not be listed.
    assert power["users"] == {bob.user_id: 50}
    assert power["events_default"] == 0

    # The old room: tombstone, restricted power levels, no canonical alias.
    state = await _state(alice, old)
    tombstone = state[("m.room.tombstone", "")]
    assert tombstone["content"]["replacement_room"] == new and tombstone["content"]["body"]
    old_power = state[("m.room.power_levels", "")]["content"]
    assert old_power["events_default"] == 50 and old_power["invite"] == 50
    assert state[("m.room.canonical_alias", "")]["content"] == {}
    r = await bob.put(f"/rooms/{old}/send/m.room.message/late",
                      {"msgtype": "m.text", "body": "late"})
    assert r.status_code == 200  # bob has 50, enough for the new events_default
    r = await eve.post(f"/rooms/{old}/join")
    assert r.status_code == 403

    # Aliases and the directory listing moved.
    for alias in ("%23lab:test.local", "%23lab2:test.local"):
        assert (await alice.get(f"/directory/room/{alias}")).json()["room_id"] == new
    assert (await alice.get(f"/rooms/{new}/aliases")).json()["aliases"] == [
        "#lab2:test.local", "#lab:test.local"]
    listed = await hs.client.get("/_matrix/client/v3/publicRooms")
    assert [c["room_id"] for c in listed.json()["chunk"]] == [new]

    # Others follow the tombstone.
    assert (await bob.join(new)).status_code == 200
    assert (await eve.join(new)).status_code == 403


async def test_upgrade_permissions_and_errors(users):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(preset="public_chat")
    assert (await bob.join(room_id)).status_code == 200
    r = await _upgrade(bob, room_id, new_version="12")
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    r = await _upgrade(eve, room_id, new_version="12")
    assert r.status_code == 403
    r = await _upgrade(alice, room_id, new_version="999")
    assert r.status_code == 400 and r.json()["errcode"] == "M_UNSUPPORTED_ROOM_VERSION"
    r = await _upgrade(alice, "!unknown:test.local", new_version="12")
    assert r.status_code == 404
    r = await _upgrade(alice, room_id)
    assert r.status_code == 400 and r.json()["errcode"] == "M_BAD_JSON"
    r = await _upgrade(alice, room_id, new_version="12", additional_creators=["nobody"])
    assert r.status_code == 400 and r.json()["errcode"] == "M_INVALID_PARAM"
    # Nothing happened to the room.
    assert ("m.room.tombstone", "") not in await _state(alice, room_id)
    assert (await alice.get("/joined_rooms")).json()["joined_rooms"] == [room_id]


async def test_v12_upgrade_with_additional_creators(users):
    alice, bob, carol = await users("alice", "bob", "carol")
    old = await alice.create_room(preset="trusted_private_chat", invite=[bob.user_id],
                                  power_level_content_override={
                                      "users": {"@carol:test.local": 50}})
    state = await _state(alice, old)
    assert state[("m.room.create", "")]["content"]["additional_creators"] == [bob.user_id]
    assert (await bob.join(old)).status_code == 200

    # bob, an additional creator of the old room, upgrades and names carol as a creator;
    # alice is not carried over by herself.
    r = await _upgrade(bob, old, new_version="12", additional_creators=[carol.user_id])
    assert r.status_code == 200, r.text
    new = r.json()["replacement_room"]
    state = await _state(bob, new)
    create = state[("m.room.create", "")]
    assert create["sender"] == bob.user_id
    assert create["content"]["additional_creators"] == [carol.user_id]
    assert "event_id" in create["content"]["predecessor"]
    assert state[("m.room.power_levels", "")]["content"]["users"] == {}
    assert state[("m.room.join_rules", "")]["content"] == {"join_rule": "invite"}


async def test_upgrade_to_an_older_version_keeps_the_creators_in_charge(users):
    alice, bob = await users("alice", "bob")
    old = await alice.create_room(power_level_content_override={
        "users": {"@bob:test.local": 50}, "events": {"m.room.name": 75}})
    r = await _upgrade(alice, old, new_version="10")
    assert r.status_code == 200, r.text
    new = r.json()["replacement_room"]
    state = await _state(alice, new)
    create = state[("m.room.create", "")]["content"]
    assert create["room_version"] == "10" and create["creator"] == alice.user_id
    power = state[("m.room.power_levels", "")]["content"]
    assert power["users"] == {alice.user_id: 100, bob.user_id: 50}
    assert power["events"]["m.room.name"] == 75
    # The new room works for its creator.
    await alice.send(new, "hello v10")
    r = await alice.put(f"/rooms/{new}/state/m.room.name", {"name": "renamed"})
    assert r.status_code == 200


async def test_upgrade_with_low_own_level_raises_it_while_copying(users):
    """alice may send the tombstone (level 60) but not the server ACL (level 100): the new
    room starts with her level raised, then gets the old power levels exactly."""
    alice, bob = await users("alice", "bob")
    old = await bob.create_room(room_version="11", preset="public_chat",
                                power_level_content_override={
                                    "users": {"@bob:test.local": 100,
                                              "@alice:test.local": 60},
                                    "events": {"m.room.tombstone": 60,
                                               "m.room.server_acl": 100,
                                               "m.room.power_levels": 100}},
                                initial_state=[{"type": "m.room.server_acl",
                                                "content": {"allow": ["*"]}}])
    assert (await alice.join(old)).status_code == 200
    r = await _upgrade(alice, old, new_version="11")
    assert r.status_code == 200, r.text
    new = r.json()["replacement_room"]
    state = await _state(alice, new)
    assert state[("m.room.server_acl", "")]["content"] == {"allow": ["*"]}
    power = state[("m.room.power_levels", "")]["content"]
    assert power["users"] == {bob.user_id: 100, alice.user_id: 60}
    # alice could not restrict the old room's power levels (that needs 100): best effort.
    old_power = (await _state(alice, old))[("m.room.power_levels", "")]["content"]
    assert old_power.get("events_default", 0) == 0
