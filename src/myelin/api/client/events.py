"""The legacy event stream (old_sync.yaml, room_initial_sync.yaml, peeking_events.yaml)."""

from __future__ import annotations

from typing import Any

from myelin.api.http import Request, endpoint, viewer_of
from myelin.services.events_stream import EventStream

MAX_TIMEOUT_MS = 120_000



class EventStreamEndpoints:
    def __init__(self, *, stream: EventStream) -> None:
        self._stream = stream

    @endpoint("GET", "/initialSync", rate_limit="client", allow_guest=True)
    async def initial_sync(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/initialSync (deprecated)"""
        limit = req.query_int("limit", 10, minimum=0, maximum=1000)
        assert limit is not None
        return await self._stream.initial_sync(viewer_of(req), limit=limit,
                                               archived=req.query_bool("archived"))

    @endpoint("GET", "/events", rate_limit="client", allow_guest=True)
    async def events(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/events (deprecated): long-polls for new events."""
        timeout = req.query_int("timeout", 30_000, minimum=0, maximum=MAX_TIMEOUT_MS)
        assert timeout is not None
        return await self._stream.events(viewer_of(req), from_token=req.query_str("from"),
                                         timeout_ms=timeout, room_id=req.query_str("room_id"))

    @endpoint("GET", "/events/{eventId}", rate_limit="client", allow_guest=True)
    async def event(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/events/{eventId} (deprecated)"""
        return await self._stream.get_event(viewer_of(req), req.param("eventId"))

    @endpoint("GET", "/rooms/{roomId}/initialSync", rate_limit="client", allow_guest=True)
    async def room_initial_sync(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/rooms/{roomId}/initialSync (deprecated)"""
        return await self._stream.room_initial_sync(viewer_of(req), req.param("roomId"))
