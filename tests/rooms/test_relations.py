"""Relationships: bundled aggregations (edits, threads, references), duplicate annotations,
GET /relations (filters, pagination both ways, recursion, visibility) and GET /threads."""

from __future__ import annotations

from typing import Any

import httpx


async def v1_get(user, path: str, **params: Any) -> httpx.Response:
    return await user.hs.client.get(f"/_matrix/client/v1{path}", headers=user.headers,
                                    params=params)


def rel(rel_type: str, event_id: str, **extra: Any) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": rel_type, "event_id": event_id, **extra}}


async def edit(user, room_id: str, original: str, body: str,
               event_type: str = "m.room.message") -> str:
    return await user.send(room_id, event_type=event_type, content={
        "msgtype": "m.text", "body": f"* {body}",
        "m.new_content": {"msgtype": "m.text", "body": body}, **rel("m.replace", original)})


async def react(user, room_id: str, target: str, key: str) -> httpx.Response:
    user._txn += 1
    return await user.put(f"/rooms/{room_id}/send/m.reaction/r{user._txn}",
                          rel("m.annotation", target, key=key))


async def thread_reply(user, room_id: str, root: str, body: str) -> str:
    return await user.send(room_id, content={"msgtype": "m.text", "body": body,
                                             **rel("m.thread", root)})


async def relations_of(event: dict[str, Any]) -> dict[str, Any]:
    return event.get("unsigned", {}).get("m.relations", {})


async def get_event(user, room_id: str, event_id: str) -> dict[str, Any]:
    r = await user.get(f"/rooms/{room_id}/event/{event_id}")
    assert r.status_code == 200, r.text
    return r.json()


async def test_edits_bundle_the_latest_valid_replacement(users, hs):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    original = await alice.send(room_id, "I like cake")
    hs.clock.advance(1)
    await edit(alice, room_id, original, "I like chocolate cake")
    hs.clock.advance(1)
    latest = await edit(alice, room_id, original, "I really like chocolate cake")
    # Invalid replacements, all more recent, are ignored (§Validity of replacement events):
    hs.clock.advance(1)
    await edit(bob, room_id, original, "bob was here")  # another sender
    await edit(alice, room_id, original, "other type", event_type="m.room.other")
    await alice.send(room_id, content={"msgtype": "m.text", "body": "* no new content",
                                       **rel("m.replace", original)})
    event = await get_event(bob, room_id, original)
    assert event["content"]["body"] == "I like cake"  # the original content is left intact
    bundled = (await relations_of(event))["m.replace"]
    assert bundled["event_id"] == latest
    assert bundled["sender"] == alice.user_id and bundled["type"] == "m.room.message"
    assert bundled["content"]["m.new_content"]["body"] == "I really like chocolate cake"
    assert bundled["origin_server_ts"] == event["origin_server_ts"] + 2000
    # The same bundle on /messages.
    r = await bob.get(f"/rooms/{room_id}/messages", dir="b", limit=20)
    by_id = {e["event_id"]: e for e in r.json()["chunk"]}
    assert (await relations_of(by_id[original]))["m.replace"]["event_id"] == latest
    # An edit of an edit is not valid: the edit gets no bundle of its own.
    await edit(alice, room_id, latest, "edit of an edit")
    assert "m.replace" not in await relations_of(await get_event(alice, room_id, latest))

    # Redacting the latest edit reverts to the one before (§Redactions of edited events).
    r = await alice.put(f"/rooms/{room_id}/redact/{latest}/x1", {})
    assert r.status_code == 200, r.text
    bundled = (await relations_of(await get_event(bob, room_id, original)))["m.replace"]
    assert bundled["content"]["m.new_content"]["body"] == "I like chocolate cake"
    # Redacting the original drops the m.replace bundle altogether.
    await alice.put(f"/rooms/{room_id}/redact/{original}/x2", {})
    event = await get_event(bob, room_id, original)
    assert event["content"] == {}
    assert "m.replace" not in await relations_of(event)


async def test_edits_with_equal_timestamps_pick_the_largest_event_id(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    original = await alice.send(room_id, "v0")
    edits = [await edit(alice, room_id, original, f"v{i}") for i in range(1, 4)]
    bundled = (await relations_of(await get_event(alice, room_id, original)))["m.replace"]
    assert bundled["event_id"] == max(edits)


async def test_duplicate_annotations_are_refused(users):
    alice, bob = await users("alice", "bob")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    target = await alice.send(room_id, "react to me")
    first = await react(bob, room_id, target, "👍")
    assert first.status_code == 200, first.text
    again = await react(bob, room_id, target, "👍")
    assert again.status_code == 400
    assert again.json()["errcode"] == "M_DUPLICATE_ANNOTATION"
    assert (await react(bob, room_id, target, "👎")).status_code == 200  # another key
    assert (await react(alice, room_id, target, "👍")).status_code == 200  # another sender
    # The same key with another event type is not a duplicate.
    r = await bob.put(f"/rooms/{room_id}/send/org.example.vote/v1",
                      rel("m.annotation", target, key="👍"))
    assert r.status_code == 200, r.text
    # Once the first is redacted, the annotation can be sent again.
    await bob.put(f"/rooms/{room_id}/redact/{first.json()['event_id']}/x1", {})
    assert (await react(bob, room_id, target, "👍")).status_code == 200
    # Annotations are not aggregated by the server.
    assert "m.annotation" not in await relations_of(await get_event(alice, room_id, target))
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{target}/m.annotation/m.reaction")
    assert len(r.json()["chunk"]) == 3  # the redacted one is no longer a relation


async def test_thread_bundle_counts_participation_and_latest_event(users, hs):
    alice, bob, carol = await users("alice", "bob", "carol")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await carol.join(room_id)
    root = await alice.send(room_id, "thread root")
    await thread_reply(bob, room_id, root, "first")
    await thread_reply(alice, room_id, root, "second")
    last = await thread_reply(bob, room_id, root, "third")
    hs.clock.advance(1)
    fixed = await edit(bob, room_id, last, "third, edited")

    thread = (await relations_of(await get_event(carol, room_id, root)))["m.thread"]
    assert thread["count"] == 3
    assert thread["current_user_participated"] is False
    assert thread["latest_event"]["event_id"] == last
    assert thread["latest_event"]["content"]["body"] == "third"
    # The latest event carries its own bundle.
    assert thread["latest_event"]["unsigned"]["m.relations"]["m.replace"]["event_id"] == fixed
    for user in (alice, bob):  # the root's sender, and a thread participant
        bundle = await relations_of(await get_event(user, room_id, root))
        assert bundle["m.thread"]["current_user_participated"] is True

    # A thread cannot start from an event that has a relation (threading.md).
    r = await carol.put(f"/rooms/{room_id}/send/m.room.message/t-bad",
                        {"msgtype": "m.text", "body": "nested", **rel("m.thread", last)})
    assert r.status_code == 400 and r.json()["errcode"] == "M_UNKNOWN"
    # A redacted thread event no longer counts.
    await bob.put(f"/rooms/{room_id}/redact/{last}/x1", {})
    thread = (await relations_of(await get_event(carol, room_id, root)))["m.thread"]
    assert thread["count"] == 2
    assert thread["latest_event"]["content"]["body"] == "second"


async def test_references_are_bundled(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    target = await alice.send(room_id, "referenced")
    refs = [await alice.send(room_id, content={"body": f"ref {i}",
                                               **rel("m.reference", target)})
            for i in range(2)]
    bundle = await relations_of(await get_event(alice, room_id, target))
    assert bundle == {"m.reference": {"chunk": [{"event_id": refs[0]},
                                                {"event_id": refs[1]}]}}
    r = await alice.get(f"/rooms/{room_id}/messages", dir="b", limit=5)
    by_id = {e["event_id"]: e for e in r.json()["chunk"]}
    assert (await relations_of(by_id[target])) == bundle
    assert "m.relations" not in by_id[refs[1]].get("unsigned", {})


async def test_relations_filters_and_pagination_both_ways(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    parent = await alice.send(room_id, "parent")
    children = []
    for i in range(5):
        children.append(await alice.send(room_id, content={
            "body": f"r{i}", **rel("m.reference", parent)}))
    note = await alice.send(room_id, event_type="org.example.note",
                            content=rel("m.reference", parent))
    reaction = (await react(alice, room_id, parent, "🎉")).json()["event_id"]
    unrelated = await alice.send(room_id, "unrelated")
    del unrelated

    r = await v1_get(alice, f"/rooms/{room_id}/relations/{parent}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["event_id"] for e in body["chunk"]] == [reaction, note, *reversed(children)]
    assert "next_batch" not in body and "prev_batch" not in body
    assert "recursion_depth" not in body

    r = await v1_get(alice, f"/rooms/{room_id}/relations/{parent}/m.reference")
    assert [e["event_id"] for e in r.json()["chunk"]] == [note, *reversed(children)]
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{parent}/m.reference/m.room.message")
    assert [e["event_id"] for e in r.json()["chunk"]] == list(reversed(children))
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{parent}/m.thread")
    assert r.json() == {"chunk": []}

    # Backwards, two at a time.
    path = f"/rooms/{room_id}/relations/{parent}/m.reference/m.room.message"
    seen, token, pages = [], None, []
    while True:
        params: dict[str, Any] = {"limit": 2}
        if token:
            params["from"] = token
        body = (await v1_get(alice, path, **params)).json()
        pages.append(body)
        seen += [e["event_id"] for e in body["chunk"]]
        token = body.get("next_batch")
        if token is None:
            break
    assert seen == list(reversed(children))
    assert len(pages) == 3 and "prev_batch" not in pages[0]
    assert pages[1]["prev_batch"] == pages[0]["next_batch"]
    # from page 1 to page 2's next_batch: both pages again, and no more.
    r = await v1_get(alice, path, to=pages[1]["next_batch"], limit=10)
    assert [e["event_id"] for e in r.json()["chunk"]] == seen[:4]
    # A later page's from with an earlier page's to: the empty set (relations.yaml).
    r = await v1_get(alice, path, **{"from": pages[1]["next_batch"],
                                     "to": pages[0]["next_batch"]})
    assert r.json()["chunk"] == []

    # Forwards, oldest first.
    seen, token = [], None
    while True:
        params = {"limit": 2, "dir": "f"}
        if token:
            params["from"] = token
        body = (await v1_get(alice, path, **params)).json()
        seen += [e["event_id"] for e in body["chunk"]]
        token = body.get("next_batch")
        if token is None:
            break
    assert seen == children

    # A /messages token works as `from`: only children before it.
    r = await alice.get(f"/rooms/{room_id}/messages", dir="b", limit=4)
    messages_end = r.json()["end"]
    r = await v1_get(alice, path, **{"from": messages_end})
    assert [e["event_id"] for e in r.json()["chunk"]] == list(reversed(children))[1:]

    r = await v1_get(alice, path, dir="sideways")
    assert r.status_code == 400
    r = await v1_get(alice, path, **{"from": "garbage"})
    assert r.status_code == 400


async def test_relations_accept_a_sync_token(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    parent = await alice.send(room_id, "parent")
    early = await alice.send(room_id, content={"body": "early", **rel("m.reference", parent)})
    r = await alice.get("/sync", timeout=0)
    assert r.status_code == 200, r.text
    since = r.json()["next_batch"]
    late = await alice.send(room_id, content={"body": "late", **rel("m.reference", parent)})
    path = f"/rooms/{room_id}/relations/{parent}"
    r = await v1_get(alice, path, **{"from": since})
    assert [e["event_id"] for e in r.json()["chunk"]] == [early]
    r = await v1_get(alice, path, **{"from": since, "dir": "f"})
    assert [e["event_id"] for e in r.json()["chunk"]] == [late]


async def test_relations_recurse(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    root = await alice.send(room_id, "root")
    chain = [root]
    for i in range(4):  # root <- e1 <- e2 <- e3 <- e4, all references
        chain.append(await alice.send(room_id, content={
            "body": f"level {i + 1}", **rel("m.reference", chain[-1])}))
    side = (await react(alice, room_id, chain[1], "👀")).json()["event_id"]
    below_side = await alice.send(room_id, content={"body": "under the reaction",
                                                    **rel("m.reference", side)})

    r = await v1_get(alice, f"/rooms/{room_id}/relations/{root}")
    assert [e["event_id"] for e in r.json()["chunk"]] == [chain[1]]
    assert "recursion_depth" not in r.json()
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{root}", recurse="false")
    assert r.json()["recursion_depth"] == 1
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{root}", recurse="true")
    body = r.json()
    assert body["recursion_depth"] == 3
    # Three levels down, newest first; e4 is a fourth level.
    assert [e["event_id"] for e in body["chunk"]] == [below_side, side, chain[3], chain[2],
                                                      chain[1]]
    # Filters apply at every level: the reference under the reaction is reached only
    # through a non-matching event.
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{root}/m.reference", recurse="true")
    assert [e["event_id"] for e in r.json()["chunk"]] == [chain[3], chain[2], chain[1]]
    # Pagination with recursion.
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{root}", recurse="true", limit=2,
                     dir="f")
    first = r.json()
    assert [e["event_id"] for e in first["chunk"]] == [chain[1], chain[2]]
    r = await v1_get(alice, f"/rooms/{room_id}/relations/{root}", recurse="true", limit=10,
                     dir="f", **{"from": first["next_batch"]})
    assert [e["event_id"] for e in r.json()["chunk"]] == [chain[3], side, below_side]


async def test_relations_visibility(users):
    alice, bob, eve = await users("alice", "bob", "eve")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    root = await alice.send(room_id, "root")
    seen_reply = await thread_reply(alice, room_id, root, "bob sees this")
    assert (await bob.post(f"/rooms/{room_id}/leave")).status_code == 200
    await thread_reply(alice, room_id, root, "after bob left")

    # A non-member cannot see the parent: 404 (relations.yaml), and no thread list (403).
    r = await v1_get(eve, f"/rooms/{room_id}/relations/{root}")
    assert r.status_code == 404 and r.json()["errcode"] == "M_NOT_FOUND"
    r = await v1_get(eve, f"/rooms/{room_id}/threads")
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    r = await v1_get(eve, "/rooms/!unknown:test.local/threads")
    assert r.status_code == 403
    r = await v1_get(alice, f"/rooms/{room_id}/relations/$missing")
    assert r.status_code == 404

    # Bob left: he sees the children from before he left, in /relations and the bundle.
    r = await v1_get(bob, f"/rooms/{room_id}/relations/{root}")
    assert r.status_code == 200, r.text
    assert [e["event_id"] for e in r.json()["chunk"]] == [seen_reply]
    thread = (await relations_of(await get_event(bob, room_id, root)))["m.thread"]
    assert thread["count"] == 1 and thread["latest_event"]["event_id"] == seen_reply
    thread = (await relations_of(await get_event(alice, room_id, root)))["m.thread"]
    assert thread["count"] == 2


async def test_threads_list(users):
    alice, bob, carol = await users("alice", "bob", "carol")
    room_id = await alice.create_room(preset="public_chat")
    await bob.join(room_id)
    await carol.join(room_id)
    root_a = await alice.send(room_id, "thread A")
    root_b = await bob.send(room_id, "thread B")
    await alice.send(room_id, "not a thread")
    await thread_reply(bob, room_id, root_a, "in A")
    await thread_reply(alice, room_id, root_b, "in B")

    r = await v1_get(carol, f"/rooms/{room_id}/threads")
    assert r.status_code == 200, r.text
    chunk = r.json()["chunk"]
    assert [e["event_id"] for e in chunk] == [root_b, root_a]  # latest activity first
    assert chunk[0]["unsigned"]["m.relations"]["m.thread"]["count"] == 1
    assert "next_batch" not in r.json()

    await thread_reply(carol, room_id, root_a, "carol in A")
    r = await v1_get(carol, f"/rooms/{room_id}/threads", limit=1)
    first = r.json()
    assert [e["event_id"] for e in first["chunk"]] == [root_a]
    assert first["chunk"][0]["unsigned"]["m.relations"]["m.thread"]["count"] == 2
    r = await v1_get(carol, f"/rooms/{room_id}/threads", limit=1,
                     **{"from": first["next_batch"]})
    assert [e["event_id"] for e in r.json()["chunk"]] == [root_b]
    assert "next_batch" not in r.json()

    r = await v1_get(carol, f"/rooms/{room_id}/threads", include="participated")
    assert [e["event_id"] for e in r.json()["chunk"]] == [root_a]
    r = await v1_get(bob, f"/rooms/{room_id}/threads", include="participated")
    assert [e["event_id"] for e in r.json()["chunk"]] == [root_a, root_b]  # replied; started
    r = await v1_get(carol, f"/rooms/{room_id}/threads", include="mine")
    assert r.status_code == 400


async def test_bundles_on_initial_sync_and_sync(users):
    (alice,) = await users("alice")
    room_id = await alice.create_room()
    target = await alice.send(room_id, "referenced")
    ref = await alice.send(room_id, content={"body": "ref", **rel("m.reference", target)})
    expected = {"m.reference": {"chunk": [{"event_id": ref}]}}
    r = await alice.get(f"/rooms/{room_id}/initialSync")
    assert r.status_code == 200, r.text
    by_id = {e["event_id"]: e for e in r.json()["messages"]["chunk"]}
    assert await relations_of(by_id[target]) == expected
    assert all("m.relations" not in e.get("unsigned", {}) for e in r.json()["state"])
    r = await alice.get("/sync", timeout=0)
    timeline = r.json()["rooms"]["join"][room_id]["timeline"]["events"]
    by_id = {e["event_id"]: e for e in timeline}
    assert await relations_of(by_id[target]) == expected
