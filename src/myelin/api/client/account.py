"""The user's own account: whoami, password, deactivation, third-party identifiers
(whoami.yaml, password_management.yaml, account_deactivation.yaml,
administrative_contact.yaml, registration.yaml requestToken endpoints)."""

from __future__ import annotations

from typing import Any

from myelin.api.http import AUTH_NONE, AUTH_OPTIONAL, Request, endpoint, validate
from myelin.api.models.accounts import ChangePasswordBody, DeactivateBody, RequestTokenBody
from myelin.protocol.errors import (
    ThreepidAuthFailed,
    ThreepidMediumNotSupported,
    UserSuspended,
)
from myelin.services.accounts import AccountService

_NO_SENDER = ("This server has no e-mail or SMS sender configured, so it cannot validate "
              "third-party identifiers")


class AccountEndpoints:
    def __init__(self, *, accounts: AccountService) -> None:
        self._accounts = accounts

    @endpoint("GET", "/account/whoami", rate_limit="client", allow_guest=True)
    async def whoami(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/account/whoami"""
        return {"user_id": req.user.user_id, "device_id": req.user.device_id,
                "is_guest": req.user.is_guest}

    @endpoint("POST", "/account/password", auth=AUTH_OPTIONAL, rate_limit="client")
    async def change_password(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/account/password (UIA by password; the access token is
        optional: without one, the password stage's identifier names the account)."""
        if set(req.json()) - {"auth"}:  # a retry may carry only {"auth": {"session": ...}}
            req.model(ChangePasswordBody)
        user_id, body = await self._accounts.account_owner_auth(
            req.requester, "POST /account/password", req.json())
        checked = validate(body, ChangePasswordBody)
        await self._accounts.change_password(
            user_id, checked.new_password, logout_devices=checked.logout_devices,
            keep_device=req.requester.device_id if req.requester else None)
        return {}

    @endpoint("POST", "/account/deactivate", auth=AUTH_OPTIONAL, rate_limit="client")
    async def deactivate(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/account/deactivate (UIA; token optional as above)"""
        req.model(DeactivateBody)
        user_id, body = await self._accounts.account_owner_auth(
            req.requester, "POST /account/deactivate", req.json())
        await self._accounts.deactivate(user_id, erase=bool(body.get("erase", False)))
        # No third-party identifier is ever bound here, so there is nothing left bound.
        return {"id_server_unbind_result": "success"}

    # --- third-party identifiers: honest answers while no e-mail/SMS sender exists ----------

    @endpoint("GET", "/account/3pid", rate_limit="client")
    async def threepids(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/account/3pid"""
        return {"threepids": []}

    @endpoint("POST", "/register/email/requestToken", auth=AUTH_NONE, rate_limit="register")
    @endpoint("POST", "/register/msisdn/requestToken", auth=AUTH_NONE, rate_limit="register")
    @endpoint("POST", "/account/password/email/requestToken", auth=AUTH_NONE,
              rate_limit="register")
    @endpoint("POST", "/account/password/msisdn/requestToken", auth=AUTH_NONE,
              rate_limit="register")
    @endpoint("POST", "/account/3pid/email/requestToken", auth=AUTH_NONE, rate_limit="register")
    @endpoint("POST", "/account/3pid/msisdn/requestToken", auth=AUTH_NONE,
              rate_limit="register")
    async def request_token(self, req: Request) -> dict[str, Any]:
        """POST .../requestToken: refused, since no validation message can be sent."""
        req.model(RequestTokenBody)
        raise ThreepidMediumNotSupported(_NO_SENDER)

    @endpoint("POST", "/account/3pid", rate_limit="client")
    async def add_threepid_legacy(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/account/3pid (deprecated): 403, nothing can be validated."""
        req.json()
        raise ThreepidAuthFailed(_NO_SENDER)

    @endpoint("POST", "/account/3pid/add", rate_limit="client")
    async def add_threepid(self, req: Request) -> dict[str, Any]:
        """POST /account/3pid/add: UIA first (the spec requires it), then refused, since no
        validation session (``sid``) can exist without a sender."""
        await self._accounts.user_interactive_auth(req.user, "POST /account/3pid/add",
                                                   req.json())
        raise ThreepidAuthFailed(_NO_SENDER, status_hint=400)

    @endpoint("POST", "/account/3pid/bind", rate_limit="client")
    async def bind_threepid(self, req: Request) -> dict[str, Any]:
        """POST /account/3pid/bind: binding needs an identity-server validation this server
        cannot vouch for."""
        req.json()
        raise ThreepidAuthFailed(_NO_SENDER, status_hint=400)

    @endpoint("POST", "/account/3pid/delete", rate_limit="client")
    @endpoint("POST", "/account/3pid/unbind", rate_limit="client")
    async def delete_threepid(self, req: Request) -> dict[str, Any]:
        """POST /account/3pid/delete and /unbind: nothing is bound, so nothing to remove.
        §Account suspension: a suspended user may add contacts but not remove them."""
        req.json()
        if req.user.suspended:
            raise UserSuspended("You cannot perform this action while suspended.")
        return {"id_server_unbind_result": "success"}
