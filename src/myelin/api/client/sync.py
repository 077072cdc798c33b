"""/sync and filters (Client-Server API §Syncing, §Filtering; sync.yaml, filter.yaml)."""

from __future__ import annotations

from typing import Any

from myelin.api.http import Request, endpoint, viewer_of
from myelin.protocol.errors import InvalidParam
from myelin.services.sync import SyncService

MAX_TIMEOUT_MS = 120_000



class SyncEndpoints:
    def __init__(self, *, sync: SyncService) -> None:
        self._sync = sync

    @endpoint("GET", "/sync", allow_guest=True)
    async def sync(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/sync: long-polls when ``since`` is given."""
        timeout = req.query_int("timeout", 0, minimum=0, maximum=MAX_TIMEOUT_MS)
        assert timeout is not None
        presence = req.query_str("set_presence", "online")
        if presence not in ("online", "offline", "unavailable"):
            raise InvalidParam("set_presence must be online, offline or unavailable")
        viewer = viewer_of(req)
        sync_filter = await self._sync.resolve_filter(viewer, req.query_str("filter"))
        return await self._sync.sync(viewer, since=req.query_str("since"), timeout_ms=timeout,
                                     full_state=req.query_bool("full_state"),
                                     sync_filter=sync_filter, set_presence=presence or "online",
                                     use_state_after=req.query_bool("use_state_after"))

    @endpoint("POST", "/user/{userId}/filter", rate_limit="client", allow_guest=True)
    async def upload_filter(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/user/{userId}/filter"""
        filter_id = await self._sync.upload_filter(viewer_of(req), req.param("userId"), req.json())
        return {"filter_id": filter_id}

    @endpoint("GET", "/user/{userId}/filter/{filterId}", rate_limit="client", allow_guest=True)
    async def get_filter(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/user/{userId}/filter/{filterId}"""
        return await self._sync.get_filter(viewer_of(req), req.param("userId"),
                                           req.param("filterId"))
