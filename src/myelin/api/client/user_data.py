"""Per-user data and ephemeral events: account data, tags, typing, receipts, read markers,
presence, send-to-device (account-data.yaml, tags.yaml, typing.yaml, receipts.yaml,
read_markers.yaml, presence.yaml, to_device.yaml)."""

from __future__ import annotations

from typing import Any

import msgspec

from myelin.api.http import Request, endpoint
from myelin.protocol.errors import Forbidden, ProtocolError
from myelin.rooms.engine import TxnKey
from myelin.rooms.service import RoomService
from myelin.services.user_streams import (
    AccountDataService,
    PresenceService,
    ReceiptService,
    ToDeviceService,
    TypingService,
)

_decode = msgspec.json.Decoder().decode


class TypingBody(msgspec.Struct):
    typing: bool
    timeout: int | None = None


class ReceiptBody(msgspec.Struct):
    thread_id: str | None = None


class ReadMarkersBody(msgspec.Struct, rename={"fully_read": "m.fully_read", "read": "m.read",
                                              "read_private": "m.read.private"}):
    fully_read: str | None = None
    read: str | None = None
    read_private: str | None = None


class PresenceBody(msgspec.Struct):
    presence: str
    status_msg: str | None = None


class ToDeviceBody(msgspec.Struct):
    messages: dict[str, dict[str, dict[str, Any]]]


class TagBody(msgspec.Struct):
    order: float | int | None = None


def _own(req: Request) -> str:
    user_id = req.param("userId")
    if user_id != req.user.user_id:
        raise Forbidden("You can only access your own data")
    return user_id


class UserDataEndpoints:
    def __init__(self, *, account_data: AccountDataService, receipts: ReceiptService,
                 typing: TypingService, presence: PresenceService, to_device: ToDeviceService,
                 rooms: RoomService) -> None:
        self._account_data = account_data
        self._receipts = receipts
        self._typing = typing
        self._presence = presence
        self._to_device = to_device
        self._rooms = rooms

    # --- account data --------------------------------------------------------------------------

    @endpoint("PUT", "/user/{userId}/account_data/{type}", rate_limit="client")
    async def put_global(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/user/{userId}/account_data/{type}"""
        await self._account_data.put(_own(req), None, req.param("type"), req.json())
        return {}

    @endpoint("GET", "/user/{userId}/account_data/{type}", rate_limit="client")
    async def get_global(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/user/{userId}/account_data/{type}"""
        return await self._account_data.get(_own(req), None, req.param("type"))

    @endpoint("PUT", "/user/{userId}/rooms/{roomId}/account_data/{type}", rate_limit="client")
    async def put_room(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}"""
        user_id = _own(req)
        room_id = req.param("roomId")
        if not room_id.startswith("!"):
            raise ProtocolError("Invalid room ID", errcode="M_INVALID_PARAM")
        await self._account_data.put(user_id, room_id, req.param("type"), req.json())
        return {}

    @endpoint("GET", "/user/{userId}/rooms/{roomId}/account_data/{type}", rate_limit="client")
    async def get_room(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/account_data/{type}"""
        return await self._account_data.get(_own(req), req.param("roomId"), req.param("type"))

    # --- tags ----------------------------------------------------------------------------------

    @endpoint("GET", "/user/{userId}/rooms/{roomId}/tags", rate_limit="client")
    async def tags(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags"""
        return {"tags": await self._account_data.tags(_own(req), req.param("roomId"))}

    @endpoint("PUT", "/user/{userId}/rooms/{roomId}/tags/{tag}", rate_limit="client")
    async def set_tag(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}"""
        req.model(TagBody)
        await self._account_data.set_tag(_own(req), req.param("roomId"), req.param("tag"),
                                         req.json())
        return {}

    @endpoint("DELETE", "/user/{userId}/rooms/{roomId}/tags/{tag}", rate_limit="client")
    async def delete_tag(self, req: Request) -> dict[str, Any]:
        """DELETE /_matrix/client/v3/user/{userId}/rooms/{roomId}/tags/{tag}"""
        await self._account_data.delete_tag(_own(req), req.param("roomId"), req.param("tag"))
        return {}

    # --- typing, receipts, read markers --------------------------------------------------------

    @endpoint("PUT", "/rooms/{roomId}/typing/{userId}", rate_limit="client")
    async def typing(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/rooms/{roomId}/typing/{userId}"""
        body = req.model(TypingBody)
        await self._typing.set_typing(_own(req), req.param("roomId"), body.typing, body.timeout)
        return {}

    @endpoint("POST", "/rooms/{roomId}/receipt/{receiptType}/{eventId}", rate_limit="client")
    async def receipt(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/receipt/{receiptType}/{eventId}"""
        body = req.model(ReceiptBody)
        await self._receipts.post(req.user.user_id, req.param("roomId"),
                                  req.param("receiptType"), req.param("eventId"),
                                  body.thread_id)
        return {}

    @endpoint("POST", "/rooms/{roomId}/read_markers", rate_limit="client")
    async def read_markers(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/read_markers"""
        body = req.model(ReadMarkersBody)
        await self._receipts.read_marker(req.user.user_id, req.param("roomId"),
                                         fully_read=body.fully_read, read=body.read,
                                         read_private=body.read_private)
        return {}

    # --- presence ------------------------------------------------------------------------------

    @endpoint("PUT", "/presence/{userId}/status", rate_limit="client")
    async def set_presence(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/presence/{userId}/status"""
        body = req.model(PresenceBody)
        await self._presence.set_status(_own(req), body.presence, body.status_msg)
        return {}

    @endpoint("GET", "/presence/{userId}/status", rate_limit="client", allow_guest=True)
    async def get_presence(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/presence/{userId}/status: for users sharing a room."""
        target = req.param("userId")
        if target != req.user.user_id and not await self._presence.may_see(req.user.user_id,
                                                                           target):
            raise Forbidden("You do not share a room with this user")
        return self._presence.status(target)

    # --- send-to-device ------------------------------------------------------------------------

    @endpoint("PUT", "/sendToDevice/{eventType}/{txnId}", rate_limit="message", allow_guest=True)
    async def send_to_device(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/sendToDevice/{eventType}/{txnId}: idempotent per device and
        path; each target device gets the message once."""
        key = TxnKey(req.user.user_id, req.user.device_id, req.path, req.param("txnId"))
        if await self._rooms.cached_txn(key) is not None:
            return {}
        body = req.model(ToDeviceBody)
        await self._to_device.send(req.user.user_id, req.param("eventType"), body.messages)
        await self._rooms.remember_txn(key, {})
        return {}
