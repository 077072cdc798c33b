"""Room discovery and upgrades: the published room directory (Client-Server API §Published
room directory, list_public_rooms.yaml), room upgrades (modules/room_upgrades.md,
room_upgrades.yaml), room summaries (§Room Summaries, room_summary.yaml), the space
hierarchy (modules/spaces.md, space_hierarchy.yaml) and mutual rooms
(modules/mutual_rooms.md, mutual_rooms.yaml)."""

from __future__ import annotations

from typing import Any

import msgspec

from myelin.api.http import AUTH_NONE, AUTH_OPTIONAL, V1, Request, endpoint
from myelin.protocol.errors import InvalidParam
from myelin.rooms.directory import DirectoryQuery, PublicRoomDirectory
from myelin.rooms.hierarchy import SpaceHierarchy
from myelin.rooms.mutual import MutualRooms
from myelin.rooms.service import RoomService
from myelin.rooms.summary import RoomSummaries
from myelin.rooms.upgrade import RoomUpgrader


class PublicRoomsFilter(msgspec.Struct):
    generic_search_term: str | None = None
    room_types: list[str | None] | None = None


class PublicRoomsBody(msgspec.Struct):
    limit: int | None = None
    since: str | None = None
    filter: PublicRoomsFilter | None = None
    include_all_networks: bool = False
    third_party_instance_id: str | None = None


class VisibilityBody(msgspec.Struct):
    visibility: str = "public"


class UpgradeBody(msgspec.Struct):
    new_version: str
    additional_creators: list[str] = []


class DirectoryEndpoints:
    """The published room directory."""

    def __init__(self, *, directory: PublicRoomDirectory) -> None:
        self._directory = directory

    @endpoint("GET", "/publicRooms", auth=AUTH_NONE, rate_limit="client")
    async def public_rooms(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/publicRooms (no authentication: the spec lists none)"""
        return await self._directory.list(DirectoryQuery(
            limit=req.query_int("limit"), since=req.query_str("since") or None,
            server=req.query_str("server") or None))

    @endpoint("POST", "/publicRooms", rate_limit="client")
    async def search_public_rooms(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/publicRooms"""
        body = req.model(PublicRoomsBody)
        search = body.filter.generic_search_term if body.filter else None
        types = body.filter.room_types if body.filter else None
        return await self._directory.list(DirectoryQuery(
            limit=body.limit, since=body.since or None,
            server=req.query_str("server") or None, search_term=search or None,
            room_types=tuple(types) if types is not None else None,
            include_all_networks=body.include_all_networks,
            third_party_instance_id=body.third_party_instance_id))

    @endpoint("GET", "/directory/list/room/{roomId}", auth=AUTH_NONE, rate_limit="client")
    async def get_visibility(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/directory/list/room/{roomId}"""
        return {"visibility": await self._directory.visibility(req.param("roomId"))}

    @endpoint("PUT", "/directory/list/room/{roomId}", rate_limit="client")
    async def set_visibility(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/directory/list/room/{roomId}"""
        body = req.model(VisibilityBody)
        await self._directory.set_visibility(req.user.user_id, req.param("roomId"),
                                             body.visibility, is_admin=req.user.is_admin)
        return {}


class RoomUpgradeEndpoints:
    """Room upgrades."""

    def __init__(self, *, upgrader: RoomUpgrader) -> None:
        self._upgrader = upgrader

    @endpoint("POST", "/rooms/{roomId}/upgrade", rate_limit="client")
    async def upgrade(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/rooms/{roomId}/upgrade"""
        body = req.model(UpgradeBody)
        room_id = await self._upgrader.upgrade(
            req.user.user_id, req.param("roomId"), body.new_version,
            list(body.additional_creators), suspended=req.user.suspended)
        return {"replacement_room": room_id}


class RoomDiscoveryEndpoints:
    """Room summaries, space hierarchies and mutual rooms (all /v1)."""

    def __init__(self, *, rooms: RoomService, summaries: RoomSummaries,
                 hierarchy: SpaceHierarchy, mutual_rooms: MutualRooms) -> None:
        self._rooms = rooms
        self._summaries = summaries
        self._hierarchy = hierarchy
        self._mutual = mutual_rooms

    @endpoint("GET", "/room_summary/{roomIdOrAlias}", versions=V1, auth=AUTH_OPTIONAL,
              rate_limit="client", allow_guest=True)
    async def room_summary(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/room_summary/{roomIdOrAlias}: ``via`` is accepted and
        unused, as this server has no federation to ask."""
        room_id = await self._rooms.resolve_room(req.param("roomIdOrAlias"))
        user_id = req.requester.user_id if req.requester is not None else None
        return await self._summaries.summary(user_id, room_id)

    @endpoint("GET", "/rooms/{roomId}/hierarchy", versions=V1, rate_limit="client")
    async def hierarchy(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/hierarchy"""
        suggested = req.query_bool("suggested_only") \
            if req.query_str("suggested_only") is not None else None
        return await self._hierarchy.hierarchy(
            req.user.user_id, req.param("roomId"), suggested_only=suggested,
            limit=req.query_int("limit"), max_depth=req.query_int("max_depth"),
            from_token=req.query_str("from"))

    @endpoint("GET", "/mutual_rooms", versions=V1, rate_limit="client")
    async def mutual_rooms(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/mutual_rooms?user_id="""
        other = req.query_str("user_id")
        if not other:
            raise InvalidParam("The user_id parameter is required")
        return await self._mutual.mutual_rooms(req.user.user_id, other,
                                               req.query_str("from"))
