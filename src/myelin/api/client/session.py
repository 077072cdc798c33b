"""Registration, login, refresh and logout (Client-Server API §Account registration,
§Login, §Refreshing access tokens; registration.yaml, login.yaml, login_token.yaml,
refresh.yaml, logout.yaml, registration_tokens.yaml)."""

from __future__ import annotations

from typing import Any

from myelin.api.http import AUTH_NONE, V1, Request, endpoint
from myelin.api.models.accounts import AuthOnlyBody, LoginBody, RefreshBody, RegisterBody
from myelin.protocol.errors import Forbidden, ProtocolError
from myelin.services.accounts import AccountService
from myelin.services.ratelimit import RateLimiter


class SessionEndpoints:
    def __init__(self, *, accounts: AccountService, ratelimiter: RateLimiter) -> None:
        self._accounts = accounts
        self._ratelimiter = ratelimiter

    @endpoint("POST", "/register", auth=AUTH_NONE, rate_limit="register")
    async def register(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/register"""
        req.model(RegisterBody)  # type check only; the dict is what UIA binds to
        kind = req.query_str("kind", "user") or "user"
        if kind not in ("user", "guest"):
            raise ProtocolError("kind must be 'user' or 'guest'", errcode="M_INVALID_PARAM")
        return await self._accounts.register(req.json(), kind=kind, client_ip=req.client_ip)

    @endpoint("GET", "/register/available", auth=AUTH_NONE, rate_limit="register")
    async def available(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/register/available"""
        await self._accounts.check_username_available(req.require_query("username"))
        return {"available": True}

    @endpoint("GET", "/register/m.login.registration_token/validity", versions=V1,
              auth=AUTH_NONE, rate_limit="registration_token_validity")
    async def registration_token_validity(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v1/register/m.login.registration_token/validity"""
        token = req.require_query("token")
        if not self._accounts.registration_enabled:
            raise Forbidden("Registration is not enabled on this server")
        return {"valid": await self._accounts.registration_token_valid(token)}

    @endpoint("GET", "/login", auth=AUTH_NONE, rate_limit="client")
    async def login_flows(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/login"""
        return {"flows": self._accounts.login_flows()}

    @endpoint("POST", "/login", auth=AUTH_NONE, rate_limit="login")
    async def login(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/login"""
        req.model(LoginBody)
        return await self._accounts.login(req.json(), client_ip=req.client_ip)

    @endpoint("POST", "/login/get_token", versions=V1, rate_limit="get_login_token")
    async def get_login_token(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v1/login/get_token: UIA every time (login_token.yaml)."""
        req.model(AuthOnlyBody)
        await self._accounts.user_interactive_auth(req.user, "POST /login/get_token", req.json())
        return await self._accounts.create_login_token(req.user)

    @endpoint("POST", "/refresh", versions=("v3", "v1"), auth=AUTH_NONE, rate_limit="refresh")
    async def refresh(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/refresh"""
        body = req.model(RefreshBody)
        return await self._accounts.refresh(body.refresh_token)

    @endpoint("POST", "/logout", allow_locked=True, allow_guest=True)
    async def logout(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/logout"""
        await self._accounts.logout(req.user)
        return {}

    @endpoint("POST", "/logout/all", allow_locked=True, allow_guest=True)
    async def logout_all(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/logout/all"""
        await self._accounts.logout_all(req.user)
        return {}
