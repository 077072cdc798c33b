"""Device management (Client-Server API §Device management, device_management.yaml)."""

from __future__ import annotations

from typing import Any

from myelin.api.http import Request, endpoint, validate
from myelin.api.models.accounts import AuthOnlyBody, DeleteDevicesBody, UpdateDeviceBody
from myelin.services.accounts import AccountService


class DeviceEndpoints:
    def __init__(self, *, accounts: AccountService) -> None:
        self._accounts = accounts

    @endpoint("GET", "/devices", rate_limit="client", allow_guest=True)
    async def list_devices(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/devices"""
        return {"devices": await self._accounts.list_devices(req.user.user_id)}

    @endpoint("GET", "/devices/{deviceId}", rate_limit="client", allow_guest=True)
    async def get_device(self, req: Request) -> dict[str, Any]:
        """GET /_matrix/client/v3/devices/{deviceId}"""
        return await self._accounts.get_device(req.user.user_id, req.param("deviceId"))

    @endpoint("PUT", "/devices/{deviceId}", rate_limit="client", allow_guest=True)
    async def update_device(self, req: Request) -> dict[str, Any]:
        """PUT /_matrix/client/v3/devices/{deviceId}: 404 for a device the user lacks."""
        body = req.model(UpdateDeviceBody)
        # An absent display_name leaves the name unchanged (device_management.yaml).
        await self._accounts.update_device(req.user.user_id, req.param("deviceId"),
                                           body.display_name,
                                           change_name="display_name" in req.json())
        return {}

    @endpoint("DELETE", "/devices/{deviceId}", rate_limit="client")
    async def delete_device(self, req: Request) -> dict[str, Any]:
        """DELETE /_matrix/client/v3/devices/{deviceId} (UIA). Deleting a device that does
        not exist succeeds: the outcome the client asked for holds."""
        req.model(AuthOnlyBody)
        device_id = req.param("deviceId")
        await self._accounts.user_interactive_auth(
            req.user, f"DELETE /devices/{device_id}", req.json())
        await self._accounts.delete_devices(req.user.user_id, [device_id])
        return {}

    @endpoint("POST", "/delete_devices", rate_limit="client")
    async def delete_devices(self, req: Request) -> dict[str, Any]:
        """POST /_matrix/client/v3/delete_devices (UIA)"""
        if set(req.json()) - {"auth"}:  # a retry may carry only {"auth": {"session": ...}}
            req.model(DeleteDevicesBody)
        body = await self._accounts.user_interactive_auth(req.user, "POST /delete_devices",
                                                          req.json())
        await self._accounts.delete_devices(req.user.user_id,
                                            list(validate(body, DeleteDevicesBody).devices))
        return {}
