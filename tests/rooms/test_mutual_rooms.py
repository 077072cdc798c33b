"""Mutual rooms: GET /_matrix/client/v1/mutual_rooms (modules/mutual_rooms.md)."""

from __future__ import annotations

from typing import Any


async def _mutual(user, **params: Any):
    return await user.hs.client.get("/_matrix/client/v1/mutual_rooms", headers=user.headers,
                                    params=params)


async def test_rooms_both_users_are_joined_to(users):
    alice, bob, carol = await users("alice", "bob", "carol")
    shared = [await alice.create_room(preset="public_chat") for _ in range(3)]
    for room_id in shared:
        assert (await bob.join(room_id)).status_code == 200
    await alice.create_room()  # alice alone
    invited = await alice.create_room(invite=[bob.user_id])  # bob only invited
    left = await alice.create_room(preset="public_chat")
    assert (await bob.join(left)).status_code == 200
    assert (await bob.post(f"/rooms/{left}/leave")).status_code == 200
    assert invited

    r = await _mutual(alice, user_id=bob.user_id)
    assert r.status_code == 200, r.text
    assert r.json() == {"joined": sorted(shared), "count": 3}
    r = await _mutual(bob, user_id=alice.user_id)
    assert r.json()["joined"] == sorted(shared)
    r = await _mutual(alice, user_id=carol.user_id)
    assert r.json() == {"joined": [], "count": 0}
    r = await _mutual(alice, user_id="@nobody:test.local")
    assert r.status_code == 200 and r.json() == {"joined": [], "count": 0}


async def test_pagination(hs, users):
    alice, bob = await users("alice", "bob")
    shared = []
    for _ in range(5):
        room_id = await alice.create_room(preset="public_chat")
        assert (await bob.join(room_id)).status_code == 200
        shared.append(room_id)
    hs.app.mutual_rooms.batch_size = 2
    seen: list[str] = []
    token = None
    while True:
        r = await _mutual(alice, user_id=bob.user_id, **({"from": token} if token else {}))
        assert r.status_code == 200, r.text
        assert r.json()["count"] == 5 and len(r.json()["joined"]) <= 2
        seen += r.json()["joined"]
        token = r.json().get("next_batch")
        if token is None:
            break
    assert seen == sorted(shared)


async def test_invalid_requests(users):
    alice, bob = await users("alice", "bob")
    for params in ({}, {"user_id": "not-a-user"}, {"user_id": alice.user_id},
                   {"user_id": bob.user_id, "from": "garbage"}):
        r = await _mutual(alice, **params)
        assert r.status_code == 400, params
        assert r.json()["errcode"] == "M_INVALID_PARAM"
    r = await alice.hs.client.get("/_matrix/client/v1/mutual_rooms",
                                  params={"user_id": bob.user_id})
    assert r.status_code == 401
