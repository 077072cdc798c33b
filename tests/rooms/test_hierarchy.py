"""The space hierarchy: GET /_matrix/client/v1/rooms/{roomId}/hierarchy (modules/spaces.md)."""

from __future__ import annotations

from typing import Any

SPACE = {"type": "m.space"}


async def _hierarchy(user, room_id: str, **params: Any):
    return await user.hs.client.get(f"/_matrix/client/v1/rooms/{room_id}/hierarchy",
                                    headers=user.headers, params=params)


async def _add_child(user, space: str, child: str, **content: Any) -> None:
    user.hs.clock.advance(0.001)  # children without "order" sort by their timestamps
    r = await user.put(f"/rooms/{space}/state/m.space.child/{child}",
                       {"via": ["test.local"], **content})
    assert r.status_code == 200, r.text


async def _tree(users):
    """A public space with, in order: a subspace (holding a room), a suggested public
    room, an invite-only room, a room whose link has no via, and an unknown room."""
    alice, bob = await users("alice", "bob")
    space = await alice.create_room(preset="public_chat", name="Space", creation_content=SPACE)
    sub = await alice.create_room(preset="public_chat", name="Sub", creation_content=SPACE)
    nested = await alice.create_room(preset="public_chat", name="Nested")
    lobby = await alice.create_room(preset="public_chat", name="Lobby")
    private = await alice.create_room(name="Private")
    unlinked = await alice.create_room(preset="public_chat", name="Unlinked")
    await _add_child(alice, space, sub, order="a")
    await _add_child(alice, space, lobby, order="b", suggested=True)
    await _add_child(alice, space, private)
    r = await alice.put(f"/rooms/{space}/state/m.space.child/{unlinked}", {})
    assert r.status_code == 200
    await _add_child(alice, space, "!unknown:elsewhere.org")
    await _add_child(alice, sub, nested)
    await _add_child(alice, sub, space)  # a loop back to the top
    return alice, bob, {"space": space, "sub": sub, "nested": nested, "lobby": lobby,
                        "private": private, "unlinked": unlinked}


async def test_walk_is_depth_first_and_respects_visibility(users):
    alice, bob, ids = await _tree(users)
    names = {v: k for k, v in ids.items()}

    r = await _hierarchy(alice, ids["space"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert "next_batch" not in body
    assert [names[room["room_id"]] for room in body["rooms"]] == [
        "space", "sub", "nested", "lobby", "private"]
    top = body["rooms"][0]
    assert top["room_type"] == "m.space" and top["name"] == "Space"
    assert top["join_rule"] == "public" and top["num_joined_members"] == 1
    assert top["room_version"] == "12"
    children = top["children_state"]
    # Valid links only (the one without via is no child), in the spec's order.
    assert [c["state_key"] for c in children] == [
        ids["sub"], ids["lobby"], ids["private"], "!unknown:elsewhere.org"]
    assert children[1] == {
        "type": "m.space.child", "state_key": ids["lobby"], "sender": alice.user_id,
        "content": {"via": ["test.local"], "order": "b", "suggested": True},
        "origin_server_ts": children[1]["origin_server_ts"]}
    assert isinstance(children[1]["origin_server_ts"], int)
    lobby = body["rooms"][3]
    assert lobby["children_state"] == [] and "room_type" not in lobby

    # bob may see the public rooms but not the invite-only one.
    r = await _hierarchy(bob, ids["space"])
    assert [names[room["room_id"]] for room in r.json()["rooms"]] == [
        "space", "sub", "nested", "lobby"]


async def test_suggested_only_and_max_depth(users):
    alice, _, ids = await _tree(users)
    names = {v: k for k, v in ids.items()}
    r = await _hierarchy(alice, ids["space"], suggested_only="true")
    assert [names[room["room_id"]] for room in r.json()["rooms"]] == ["space", "lobby"]
    assert [c["state_key"] for c in r.json()["rooms"][0]["children_state"]] == [ids["lobby"]]
    r = await _hierarchy(alice, ids["space"], max_depth=1)
    assert [names[room["room_id"]] for room in r.json()["rooms"]] == [
        "space", "sub", "lobby", "private"]
    r = await _hierarchy(alice, ids["space"], max_depth=0)
    assert [names[room["room_id"]] for room in r.json()["rooms"]] == ["space"]
    r = await _hierarchy(alice, ids["sub"])
    assert [names[room["room_id"]] for room in r.json()["rooms"]] == [
        "sub", "nested", "space", "lobby", "private"]


async def test_pagination(users):
    alice, _, ids = await _tree(users)
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"from": token} if token else {})
        r = await _hierarchy(alice, ids["space"], **params)
        assert r.status_code == 200, r.text
        assert len(r.json()["rooms"]) <= 2
        seen += [room["room_id"] for room in r.json()["rooms"]]
        token = r.json().get("next_batch")
        if token is None:
            break
    assert seen == [ids[k] for k in ("space", "sub", "nested", "lobby", "private")]

    r = await _hierarchy(alice, ids["space"], limit=2)
    token = r.json()["next_batch"]
    r = await _hierarchy(alice, ids["space"], limit=2, **{"from": token},
                         suggested_only="true")
    assert r.status_code == 400 and r.json()["errcode"] == "M_INVALID_PARAM"
    r = await _hierarchy(alice, ids["space"], **{"from": token}, max_depth=1)
    assert r.status_code == 400
    r = await _hierarchy(alice, ids["sub"], **{"from": token})
    assert r.status_code == 400
    r = await _hierarchy(alice, ids["space"], **{"from": "nonsense"})
    assert r.status_code == 400
    for bad in ({"limit": 0}, {"max_depth": -1}, {"limit": "x"}):
        assert (await _hierarchy(alice, ids["space"], **bad)).status_code == 400


async def test_forbidden_for_invisible_or_unknown_rooms(users):
    alice, bob = await users("alice", "bob")
    space = await alice.create_room(name="Private space", creation_content=SPACE)
    r = await _hierarchy(bob, space)
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    r = await _hierarchy(bob, "!unknown:test.local")
    assert r.status_code == 403
    # A room that is no space is its own, childless hierarchy.
    room = await alice.create_room()
    await _add_child(alice, room, space)
    r = await _hierarchy(alice, room)
    assert [x["room_id"] for x in r.json()["rooms"]] == [room]
    assert r.json()["rooms"][0]["children_state"] == []
