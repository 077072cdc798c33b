"""Server administration: account locking and suspension (Client-Server API §Account
moderation, admin.yaml). Only server admins may call these; the check comes before any
lookup, so the endpoints cannot be used to discover accounts."""

from __future__ import annotations

from typing import Any

from myelin.api.http import V1, Request, endpoint
from myelin.api.models.accounts import LockBody, SuspendBody
from myelin.services.accounts import AccountService


class AdminEndpoints:
    def __init__(self, *, accounts: AccountService) -> None:
        self._accounts = accounts

    @endpoint("GET", "/admin/lock/{userId}", versions=V1, rate_limit="client")
    async def get_lock(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/admin/lock/{userId}"""
        return {"locked": await self._accounts.get_account_flag(req.user, req.param("userId"),
                                                                "locked")}

    @endpoint("PUT", "/admin/lock/{userId}", versions=V1, rate_limit="client")
    async def set_lock(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v1/admin/lock/{userId}"""
        body = req.model(LockBody)
        await self._accounts.set_account_flag(req.user, req.param("userId"), "locked",
                                              body.locked)
        return {"locked": body.locked}

    @endpoint("GET", "/admin/suspend/{userId}", versions=V1, rate_limit="client")
    async def get_suspend(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/admin/suspend/{userId}"""
        return {"suspended": await self._accounts.get_account_flag(
            req.user, req.param("userId"), "suspended")}

    @endpoint("PUT", "/admin/suspend/{userId}", versions=V1, rate_limit="client")
    async def set_suspend(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v1/admin/suspend/{userId}"""
        body = req.model(SuspendBody)
        await self._accounts.set_account_flag(req.user, req.param("userId"), "suspended",
                                              body.suspended)
        return {"suspended": body.suspended}
