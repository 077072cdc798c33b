"""End to end with matrix-nio against a real server process: a private room between two
users, messages, an edit, a reaction, a redaction, a state change, history both ways, and
a third user refused everything. Sync keeps both clients up to date."""

from __future__ import annotations

import asyncio

import pytest
from nio import (
    AsyncClient,
    JoinResponse,
    ReceiptEvent,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomInviteResponse,
    RoomMessagesResponse,
    RoomPutStateResponse,
    RoomRedactResponse,
    RoomSendResponse,
    SyncResponse,
    TypingNoticeEvent,
)

pytestmark = pytest.mark.e2e
PASSWORD = "a long enough password"


async def client(url: str, name: str) -> AsyncClient:
    c = AsyncClient(url, name)
    r = await c.register(name, PASSWORD, device_name=f"{name}'s laptop")
    assert r.transport_response.status == 200, r
    return c


async def test_nio_private_room_conversation(server_process):
    server = await server_process()
    alice, bob, eve = [await client(server.url, n) for n in ("alice", "bob", "eve")]
    try:
        created = await alice.room_create(name="Plans", topic="private")
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        assert isinstance(await alice.room_invite(room_id, bob.user_id), RoomInviteResponse)

        first = await bob.sync(timeout=0)
        assert isinstance(first, SyncResponse), first
        assert room_id in first.rooms.invite
        assert isinstance(await bob.join(room_id), JoinResponse)

        hello = await alice.room_send(room_id, "m.room.message",
                                      {"msgtype": "m.text", "body": "hello bob"})
        assert isinstance(hello, RoomSendResponse), hello
        edit = await alice.room_send(room_id, "m.room.message", {
            "msgtype": "m.text", "body": "* hello Bob",
            "m.new_content": {"msgtype": "m.text", "body": "hello Bob"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": hello.event_id}})
        assert isinstance(edit, RoomSendResponse), edit
        reaction = await bob.room_send(room_id, "m.reaction", {"m.relates_to": {
            "rel_type": "m.annotation", "event_id": hello.event_id, "key": "👍"}})
        assert isinstance(reaction, RoomSendResponse), reaction
        oops = await bob.room_send(room_id, "m.room.message", {"msgtype": "m.text",
                                                               "body": "oops"})
        redacted = await bob.room_redact(room_id, oops.event_id, reason="typo")
        assert isinstance(redacted, RoomRedactResponse), redacted
        topic = await alice.room_put_state(room_id, "m.room.topic", {"topic": "decided"})
        assert isinstance(topic, RoomPutStateResponse), topic

        # Bob's incremental sync sees everything since his join, in order.
        second = await bob.sync(timeout=3000, since=first.next_batch)
        assert isinstance(second, SyncResponse), second
        timeline = second.rooms.join[room_id].timeline.events
        ids = [e.event_id for e in timeline]
        assert ids.index(hello.event_id) < ids.index(edit.event_id) < ids.index(
            reaction.event_id) < ids.index(topic.event_id)

        # Typing and receipts reach the other side through /sync's ephemeral events.
        await alice.room_typing(room_id, typing_state=True, timeout=10000)
        await alice.room_read_markers(room_id, fully_read_event=topic.event_id,
                                      read_event=topic.event_id)
        third = await bob.sync(timeout=3000, since=second.next_batch)
        assert isinstance(third, SyncResponse), third
        ephemeral = third.rooms.join[room_id].ephemeral
        typing = [e for e in ephemeral if isinstance(e, TypingNoticeEvent)]
        assert typing and alice.user_id in typing[-1].users
        receipts = [r for e in ephemeral if isinstance(e, ReceiptEvent) for r in e.receipts]
        assert any(r.user_id == alice.user_id and r.event_id == topic.event_id
                   and r.receipt_type == "m.read" for r in receipts)

        current = await bob.room_get_state_event(room_id, "m.room.topic")
        assert isinstance(current, RoomGetStateEventResponse)
        assert current.content == {"topic": "decided"}

        # History backwards to the creation, then forwards again.
        backwards, token = [], None
        for _ in range(20):
            page = await bob.room_messages(room_id, start=token or "", limit=4)
            assert isinstance(page, RoomMessagesResponse), page
            backwards += page.chunk
            if not page.end:
                break
            token = page.end
        sources = [e.source for e in backwards]
        assert sources[-1]["type"] == "m.room.create"
        oops_seen = [s for s in sources if s["event_id"] == oops.event_id][0]
        assert oops_seen["content"] == {}
        forward = await bob.room_messages(room_id, start="", direction="f", limit=100)
        assert isinstance(forward, RoomMessagesResponse), forward
        assert [e.source["event_id"] for e in forward.chunk] == [
            s["event_id"] for s in reversed(sources)]

        # A third user sees nothing and can do nothing.
        assert (await eve.join(room_id)).transport_response.status == 403
        msgs = await eve.room_messages(room_id, start="", limit=10)
        assert msgs.transport_response.status == 403
        state = await eve.room_get_state_event(room_id, "m.room.topic")
        assert state.transport_response.status == 403
        sent = await eve.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "x"})
        assert sent.transport_response.status == 403
        eve_sync = await eve.sync(timeout=0)
        assert room_id not in eve_sync.rooms.join and room_id not in eve_sync.rooms.invite
    finally:
        await asyncio.gather(alice.close(), bob.close(), eve.close())
