"""Event relationships, threads, event context and timestamp lookup (Client-Server API
§Relationships API, relations.yaml; threading.md, threads_list.yaml; event_context.md,
event_context.yaml; room_event_by_timestamp.yaml)."""

from __future__ import annotations

from typing import Any

from myelin.api.http import LEGACY_AND_V3, V1, Request, endpoint, viewer_of
from myelin.protocol.errors import InvalidParam, MissingParam
from myelin.rooms.context import EventContextService, parse_context_filter
from myelin.rooms.relations import RelationsService

RELATIONS_DEFAULT_LIMIT = 20
THREADS_DEFAULT_LIMIT = 20
CONTEXT_DEFAULT_LIMIT = 10  # event_context.yaml
MAX_LIMIT = 100



def _direction(req: Request, default: str | None) -> str:
    direction = req.query_str("dir", default)
    if direction is None:
        raise MissingParam("Missing query parameter 'dir'")
    if direction not in ("b", "f"):
        raise InvalidParam("dir must be 'b' or 'f'")
    return direction


class RelationsEndpoints:
    def __init__(self, *, relations: RelationsService, context: EventContextService) -> None:
        self._relations = relations
        self._context = context

    # relations.yaml: "this endpoint deliberately does not support rate limiting".
    @endpoint("GET", "/rooms/{roomId}/relations/{eventId}", versions=V1)
    @endpoint("GET", "/rooms/{roomId}/relations/{eventId}/{relType}", versions=V1)
    @endpoint("GET", "/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}", versions=V1)
    async def relations(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]
        with ``from``, ``to``, ``limit``, ``dir`` (default ``b``) and ``recurse``."""
        limit = req.query_int("limit", RELATIONS_DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        assert limit is not None
        recurse = req.query_bool("recurse") if req.query_str("recurse") is not None else None
        return await self._relations.relations(
            viewer_of(req), req.param("roomId"), req.param("eventId"),
            rel_type=req.path_params.get("relType"), event_type=req.path_params.get("eventType"),
            from_token=req.query_str("from"), to_token=req.query_str("to"), limit=limit,
            direction=_direction(req, "b"), recurse=recurse)

    @endpoint("GET", "/rooms/{roomId}/threads", versions=V1, rate_limit="client")
    async def threads(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/threads with ``include`` (``all`` or
        ``participated``), ``from`` and ``limit``."""
        include = req.query_str("include", "all")
        if include not in ("all", "participated"):
            raise InvalidParam("include must be 'all' or 'participated'")
        limit = req.query_int("limit", THREADS_DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
        assert limit is not None
        return await self._relations.threads(viewer_of(req), req.param("roomId"),
                                             include=include, from_token=req.query_str("from"),
                                             limit=limit)

    @endpoint("GET", "/rooms/{roomId}/context/{eventId}", versions=LEGACY_AND_V3,
              rate_limit="client", allow_guest=True)
    async def context(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/context/{eventId} with ``limit`` and
        ``filter`` (a JSON RoomEventFilter, lazy-loading included)."""
        limit = req.query_int("limit", CONTEXT_DEFAULT_LIMIT, minimum=0, maximum=MAX_LIMIT)
        assert limit is not None
        return await self._context.context(
            viewer_of(req), req.param("roomId"), req.param("eventId"), limit=limit,
            event_filter=parse_context_filter(req.query_str("filter")))

    @endpoint("GET", "/rooms/{roomId}/timestamp_to_event", versions=V1, rate_limit="client")
    async def timestamp_to_event(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event?ts=&dir=f|b"""
        ts = req.query_int("ts")
        if ts is None:
            raise MissingParam("Missing query parameter 'ts'")
        return await self._context.timestamp_to_event(viewer_of(req), req.param("roomId"), ts,
                                                      _direction(req, None))
