"""The published room directory: GET/POST /publicRooms and /directory/list/room/{roomId}
(Client-Server API §Published room directory)."""

from __future__ import annotations

SPACE = {"type": "m.space"}


async def test_published_rooms_are_listed_without_authentication(hs, users):
    alice, bob = await users("alice", "bob")
    public = await alice.create_room(visibility="public", name="Cheese", topic="Tasty",
                                     room_alias_name="cheese")
    await alice.create_room(name="Hidden")  # private: not in the directory
    await alice.create_room(preset="public_chat", name="Unlisted")  # public, not published
    assert (await bob.join(public)).status_code == 200

    r = await hs.client.get("/_matrix/client/v3/publicRooms")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total_room_count_estimate"] == 1
    assert "next_batch" not in body and "prev_batch" not in body
    assert body["chunk"] == [{
        "room_id": public, "name": "Cheese", "topic": "Tasty",
        "canonical_alias": "#cheese:test.local", "num_joined_members": 2,
        "world_readable": False, "guest_can_join": False, "join_rule": "public",
    }]


async def test_order_and_pagination_both_ways(hs, users):
    alice, bob, carol = await users("alice", "bob", "carol")
    rooms = [await alice.create_room(visibility="public", name=f"r{i}") for i in range(5)]
    for user in (bob, carol):
        assert (await user.join(rooms[3])).status_code == 200
    assert (await bob.join(rooms[1])).status_code == 200
    expected = [rooms[3], rooms[1], *sorted(r for r in rooms if r not in (rooms[1], rooms[3]))]

    seen, pages, since = [], [], None
    while True:
        params = {"limit": 2} | ({"since": since} if since else {})
        r = await hs.client.get("/_matrix/client/v3/publicRooms", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total_room_count_estimate"] == 5
        pages.append(body)
        seen += [c["room_id"] for c in body["chunk"]]
        since = body.get("next_batch")
        if since is None:
            break
    assert seen == expected
    assert [c["num_joined_members"] for c in pages[0]["chunk"]] == [3, 2]
    assert "prev_batch" not in pages[0] and "prev_batch" in pages[-1]

    # Going back from the last page gives the middle page again, then the first.
    r = await hs.client.get("/_matrix/client/v3/publicRooms",
                            params={"limit": 2, "since": pages[-1]["prev_batch"]})
    assert [c["room_id"] for c in r.json()["chunk"]] == expected[2:4]
    r = await hs.client.get("/_matrix/client/v3/publicRooms",
                            params={"limit": 2, "since": r.json()["prev_batch"]})
    assert [c["room_id"] for c in r.json()["chunk"]] == expected[:2]
    assert "prev_batch" not in r.json()

    r = await hs.client.get("/_matrix/client/v3/publicRooms", params={"since": "garbage"})
    assert r.status_code == 400 and r.json()["errcode"] == "M_INVALID_PARAM"


async def test_filter_by_search_term_and_room_type(users):
    (alice,) = await users("alice")
    cheese = await alice.create_room(visibility="public", name="Cheese lovers")
    wine = await alice.create_room(visibility="public", topic="Red WINE only")
    alias = await alice.create_room(visibility="public", room_alias_name="bread-club")
    space = await alice.create_room(visibility="public", name="Food space",
                                    creation_content=SPACE)

    async def search(**body):
        r = await alice.post("/publicRooms", body)
        assert r.status_code == 200, r.text
        return {c["room_id"] for c in r.json()["chunk"]}, r.json()

    assert (await search(filter={"generic_search_term": "cheese"}))[0] == {cheese}
    assert (await search(filter={"generic_search_term": "wine"}))[0] == {wine}
    assert (await search(filter={"generic_search_term": "BREAD"}))[0] == {alias}
    found, body = await search(filter={"generic_search_term": "o", "room_types": ["m.space"]})
    assert found == {space} and body["total_room_count_estimate"] == 1
    assert body["chunk"][0]["room_type"] == "m.space"
    assert (await search(filter={"room_types": [None]}))[0] == {cheese, wine, alias}
    assert (await search(filter={"room_types": [None, "m.space"]}))[0] == \
        {cheese, wine, alias, space}
    assert (await search(filter={"room_types": []}))[0] == {cheese, wine, alias, space}
    found, body = await search(limit=1, include_all_networks=True)
    assert len(found) == 1 and "next_batch" in body
    assert (await search(third_party_instance_id="irc"))[0] == set()
    r = await alice.post("/publicRooms", {"include_all_networks": True,
                                          "third_party_instance_id": "irc"})
    assert r.status_code == 400
    r = await alice.post("/publicRooms", {"filter": {"generic_search_term": 5}})
    assert r.status_code == 400 and r.json()["errcode"] == "M_BAD_JSON"


async def test_other_servers_directories_are_not_available(hs, users):
    (alice,) = await users("alice")
    r = await hs.client.get("/_matrix/client/v3/publicRooms", params={"server": "other.org"})
    assert r.status_code == 400
    r = await hs.client.get("/_matrix/client/v3/publicRooms", params={"server": "test.local"})
    assert r.status_code == 200
    r = await hs.client.post("/_matrix/client/v3/publicRooms", json={})
    assert r.status_code == 401  # the POST form needs an access token


async def test_visibility_get_put_and_permissions(hs, users):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(preset="public_chat", name="Toggle")
    assert (await bob.join(room_id)).status_code == 200
    path = f"/directory/list/room/{room_id}"

    r = await hs.client.get(f"/_matrix/client/v3{path}")
    assert r.status_code == 200 and r.json() == {"visibility": "private"}
    r = await hs.client.get("/_matrix/client/v3/directory/list/room/!nope:test.local")
    assert r.status_code == 404 and r.json()["errcode"] == "M_NOT_FOUND"
    r = await alice.put("/directory/list/room/!nope:test.local", {"visibility": "public"})
    assert r.status_code == 404

    # bob is a member without the power to set the canonical alias; eve is an outsider.
    for user in (bob, eve):
        r = await user.put(path, {"visibility": "public"})
        assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    r = await alice.put(path, {"visibility": "sideways"})
    assert r.status_code == 400

    r = await alice.put(path, {})  # the visibility defaults to public
    assert r.status_code == 200 and r.json() == {}
    assert (await alice.get(path)).json() == {"visibility": "public"}
    listed = await hs.client.get("/_matrix/client/v3/publicRooms")
    assert [c["room_id"] for c in listed.json()["chunk"]] == [room_id]

    # Once bob may set the canonical alias he may list and delist the room too.
    r = await alice.put(f"/rooms/{room_id}/state/m.room.power_levels", {
        **(await alice.get(f"/rooms/{room_id}/state/m.room.power_levels")).json(),
        "users": {bob.user_id: 50}})
    assert r.status_code == 200, r.text
    assert (await bob.put(path, {"visibility": "private"})).status_code == 200
    listed = await hs.client.get("/_matrix/client/v3/publicRooms")
    assert listed.json()["chunk"] == []
    assert listed.json()["total_room_count_estimate"] == 0


async def test_listing_reflects_state_changes(hs, users):
    (alice,) = await users("alice")
    room_id = await alice.create_room(visibility="public", name="Before")
    await alice.put(f"/rooms/{room_id}/state/m.room.name", {"name": "After"})
    await alice.put(f"/rooms/{room_id}/state/m.room.history_visibility",
                    {"history_visibility": "world_readable"})
    await alice.put(f"/rooms/{room_id}/state/m.room.guest_access", {"guest_access": "can_join"})
    await alice.put(f"/rooms/{room_id}/state/m.room.avatar", {"url": "mxc://test.local/a"})
    await alice.put(f"/rooms/{room_id}/state/m.room.topic", {"topic": "hi", "m.topic": {
        "m.text": [{"mimetype": "text/html", "body": "<b>hi</b>"}, {"body": "hi"}]}})
    r = await hs.client.get("/_matrix/client/v3/publicRooms")
    (chunk,) = r.json()["chunk"]
    assert chunk["name"] == "After" and chunk["world_readable"] is True
    assert chunk["guest_can_join"] is True and chunk["avatar_url"] == "mxc://test.local/a"
    assert chunk["topic"] == "hi"
    # An empty topic unsets it (§m.room.topic).
    await alice.put(f"/rooms/{room_id}/state/m.room.topic", {"topic": ""})
    r = await hs.client.get("/_matrix/client/v3/publicRooms")
    assert "topic" not in r.json()["chunk"][0]
