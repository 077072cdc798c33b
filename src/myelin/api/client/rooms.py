"""Rooms: creation, membership, sending, state, history, aliases (Client-Server API §Rooms,
§Room membership, §Sending events to a room, §Getting events for a room, §Room aliases;
create_room.yaml, joining/inviting/leaving/kicking/banning/knocking.yaml, room_send.yaml,
room_state.yaml, redaction.yaml, message_pagination.yaml, rooms.yaml, directory.yaml)."""

from __future__ import annotations

from typing import Any

import msgspec

from myelin.api.http import Request, endpoint, viewer_of
from myelin.protocol.errors import InvalidParam, ProtocolError
from myelin.protocol.sync.filters import parse_room_event_filter
from myelin.rooms.create import CreateRoomRequest
from myelin.rooms.engine import TxnKey
from myelin.rooms.service import RoomService


class CreateRoomBody(msgspec.Struct):
    visibility: str = "private"
    room_alias_name: str | None = None
    name: str | None = None
    topic: str | None = None
    invite: list[str] = []
    invite_3pid: list[dict[str, Any]] = []
    room_version: str | None = None
    creation_content: dict[str, Any] | None = None
    initial_state: list[dict[str, Any]] = []
    preset: str | None = None
    is_direct: bool = False
    power_level_content_override: dict[str, Any] | None = None


class ReasonBody(msgspec.Struct):
    reason: str | None = None


class TargetBody(msgspec.Struct):
    user_id: str
    reason: str | None = None


class InviteBody(msgspec.Struct):
    user_id: str | None = None
    reason: str | None = None
    id_server: str | None = None
    medium: str | None = None
    address: str | None = None


class AliasBody(msgspec.Struct):
    room_id: str



class RoomEndpoints:
    def __init__(self, *, rooms: RoomService) -> None:
        self._rooms = rooms

    @endpoint("POST", "/createRoom", rate_limit="client")
    async def create_room(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/createRoom"""
        body = req.model(CreateRoomBody)
        if body.invite_3pid:
            raise ProtocolError("Third-party invites need an identity server, which this "
                                "server does not use", errcode="M_UNKNOWN", status_hint=400)
        room_id = await self._rooms.create(viewer_of(req), CreateRoomRequest(
            creator=req.user.user_id, visibility=body.visibility, preset=body.preset,
            name=body.name, topic=body.topic, room_alias_name=body.room_alias_name,
            invite=list(body.invite), initial_state=list(body.initial_state),
            power_level_content_override=body.power_level_content_override,
            creation_content=body.creation_content, is_direct=body.is_direct,
            room_version=body.room_version))
        return {"room_id": room_id}

    # --- membership ----------------------------------------------------------------------------

    @endpoint("POST", "/rooms/{roomId}/join", rate_limit="client", allow_guest=True)
    async def join_by_id(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/join"""
        body = req.model(ReasonBody)
        return {"room_id": await self._rooms.join(viewer_of(req), req.param("roomId"),
                                                  body.reason)}

    @endpoint("POST", "/join/{roomIdOrAlias}", rate_limit="client")
    async def join(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/join/{roomIdOrAlias}"""
        body = req.model(ReasonBody)
        return {"room_id": await self._rooms.join(viewer_of(req), req.param("roomIdOrAlias"),
                                                  body.reason)}

    @endpoint("POST", "/knock/{roomIdOrAlias}", rate_limit="client")
    async def knock(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/knock/{roomIdOrAlias}"""
        body = req.model(ReasonBody)
        return {"room_id": await self._rooms.knock(viewer_of(req), req.param("roomIdOrAlias"),
                                                   body.reason)}

    @endpoint("POST", "/rooms/{roomId}/invite", rate_limit="client")
    async def invite(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/invite"""
        body = req.model(InviteBody)
        if body.user_id is None:
            if body.medium is not None:
                raise ProtocolError("Third-party invites need an identity server, which this "
                                    "server does not use", errcode="M_UNKNOWN", status_hint=400)
            raise ProtocolError("Missing user_id", errcode="M_BAD_JSON")
        await self._rooms.invite(viewer_of(req), req.param("roomId"), body.user_id, body.reason)
        return {}

    @endpoint("POST", "/rooms/{roomId}/leave", rate_limit="client", allow_guest=True)
    async def leave(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/leave"""
        body = req.model(ReasonBody)
        await self._rooms.leave(viewer_of(req), req.param("roomId"), body.reason)
        return {}

    @endpoint("POST", "/rooms/{roomId}/forget", rate_limit="client", allow_guest=True)
    async def forget(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/forget"""
        await self._rooms.forget(viewer_of(req), req.param("roomId"))
        return {}

    @endpoint("POST", "/rooms/{roomId}/kick", rate_limit="client")
    async def kick(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/kick"""
        body = req.model(TargetBody)
        await self._rooms.kick(viewer_of(req), req.param("roomId"), body.user_id, body.reason)
        return {}

    @endpoint("POST", "/rooms/{roomId}/ban", rate_limit="client")
    async def ban(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/ban"""
        body = req.model(TargetBody)
        await self._rooms.ban(viewer_of(req), req.param("roomId"), body.user_id, body.reason)
        return {}

    @endpoint("POST", "/rooms/{roomId}/unban", rate_limit="client")
    async def unban(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/unban"""
        body = req.model(TargetBody)
        await self._rooms.unban(viewer_of(req), req.param("roomId"), body.user_id, body.reason)
        return {}

    @endpoint("GET", "/joined_rooms", rate_limit="client", allow_guest=True)
    async def joined_rooms(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/joined_rooms"""
        return {"joined_rooms": await self._rooms.joined_rooms(req.user.user_id)}

    @endpoint("GET", "/rooms/{roomId}/members", rate_limit="client", allow_guest=True)
    async def members(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/members"""
        chunk = await self._rooms.members(
            viewer_of(req), req.param("roomId"), membership=req.query_str("membership"),
            not_membership=req.query_str("not_membership"), at=req.query_str("at"))
        return {"chunk": chunk}

    @endpoint("GET", "/rooms/{roomId}/joined_members", rate_limit="client", allow_guest=True)
    async def joined_members(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/joined_members"""
        return await self._rooms.joined_members(viewer_of(req), req.param("roomId"))

    # --- sending -------------------------------------------------------------------------------

    async def _idempotent(self, req: Request, scope: str) -> tuple[TxnKey, dict[str, Any] | None]:
        key = TxnKey(req.user.user_id, req.user.device_id, scope, req.param("txnId"))
        return key, await self._rooms.cached_txn(key)

    @endpoint("PUT", "/rooms/{roomId}/send/{eventType}/{txnId}", rate_limit="message",
              allow_guest=True)
    async def send(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}: a retransmission
        (same device, same path) gets the first answer and creates nothing (§Transaction
        identifiers)."""
        key, cached = await self._idempotent(req, req.path)
        if cached is not None:
            return cached
        content = req.json()
        event_id = await self._rooms.send(viewer_of(req), req.param("roomId"),
                                          req.param("eventType"), content, key)
        return {"event_id": event_id}

    @endpoint("PUT", "/rooms/{roomId}/redact/{eventId}/{txnId}", rate_limit="message")
    async def redact(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}"""
        key, cached = await self._idempotent(req, req.path)
        if cached is not None:
            return cached
        body = req.model(ReasonBody)
        event_id = await self._rooms.redact(viewer_of(req), req.param("roomId"),
                                            req.param("eventId"), body.reason, key)
        return {"event_id": event_id}

    @endpoint("PUT", "/rooms/{roomId}/state/{eventType}/{stateKey}", rate_limit="message",
              allow_guest=True)
    @endpoint("PUT", "/rooms/{roomId}/state/{eventType}", rate_limit="message", allow_guest=True)
    async def put_state(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey} (the empty state
        key with or without the trailing slash)"""
        content = req.json()
        event_id = await self._rooms.send_state(
            viewer_of(req), req.param("roomId"), req.param("eventType"),
            req.path_params.get("stateKey", ""), content)
        return {"event_id": event_id}

    # --- reading -------------------------------------------------------------------------------

    @endpoint("GET", "/rooms/{roomId}/state", rate_limit="client", allow_guest=True)
    async def state(self, req: Request) -> list[dict[str, Any]]:
        """GET /_matrix/client/v3/rooms/{roomId}/state"""
        return await self._rooms.state(viewer_of(req), req.param("roomId"))

    @endpoint("GET", "/rooms/{roomId}/state/{eventType}/{stateKey}", rate_limit="client",
              allow_guest=True)
    @endpoint("GET", "/rooms/{roomId}/state/{eventType}", rate_limit="client", allow_guest=True)
    async def state_event(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/state/{eventType}/{stateKey}: the content, or
        the whole event with ?format=event"""
        event = await self._rooms.state_event(viewer_of(req), req.param("roomId"),
                                              req.param("eventType"),
                                              req.path_params.get("stateKey", ""))
        if req.query_str("format") == "event":
            return (await self._rooms.serialize([event], viewer_of(req)))[0]
        return event.content

    @endpoint("GET", "/rooms/{roomId}/event/{eventId}", rate_limit="client", allow_guest=True)
    async def event(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/event/{eventId}"""
        return await self._rooms.get_event(viewer_of(req), req.param("roomId"),
                                           req.param("eventId"))

    @endpoint("GET", "/rooms/{roomId}/messages", rate_limit="client", allow_guest=True)
    async def messages(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/messages"""
        direction = req.query_str("dir", "b")
        if direction not in ("b", "f"):
            raise InvalidParam("dir must be 'b' or 'f'")
        limit = req.query_int("limit", 10, minimum=0, maximum=1000)
        assert limit is not None
        raw_filter = req.query_str("filter")
        event_filter = None
        if raw_filter:
            try:
                event_filter = parse_room_event_filter(msgspec.json.decode(raw_filter), "filter")
            except msgspec.DecodeError:
                raise ProtocolError("filter is not valid JSON", errcode="M_NOT_JSON") from None
        return await self._rooms.messages(
            viewer_of(req), req.param("roomId"), from_token=req.query_str("from"),
            direction=direction, limit=limit, to_token=req.query_str("to"),
            event_filter=event_filter)

    # --- aliases -------------------------------------------------------------------------------

    @endpoint("PUT", "/directory/room/{roomAlias}", rate_limit="client")
    async def put_alias(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/directory/room/{roomAlias}"""
        body = req.model(AliasBody)
        await self._rooms.put_alias(viewer_of(req), req.param("roomAlias"), body.room_id)
        return {}

    @endpoint("GET", "/directory/room/{roomAlias}", rate_limit="client", allow_guest=True)
    async def get_alias(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/directory/room/{roomAlias}"""
        return await self._rooms.get_alias(req.param("roomAlias"))

    @endpoint("DELETE", "/directory/room/{roomAlias}", rate_limit="client")
    async def delete_alias(self, req: Request) -> dict[str, Any]:
        """DELETE /_matrix/client/v3/directory/room/{roomAlias}"""
        await self._rooms.delete_alias(viewer_of(req), req.param("roomAlias"),
                                       is_admin=req.user.is_admin)
        return {}

    @endpoint("GET", "/rooms/{roomId}/aliases", rate_limit="client", allow_guest=True)
    async def aliases(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/aliases"""
        return {"aliases": await self._rooms.room_aliases(viewer_of(req), req.param("roomId"))}
