"""Request bodies of the authentication and account endpoints (registration.yaml,
login.yaml, refresh.yaml, device_management.yaml, password_management.yaml,
account_deactivation.yaml, admin.yaml). Decoding validates types only; the
services check meaning."""

from __future__ import annotations

from typing import Any

import msgspec


class RegisterBody(msgspec.Struct):
    username: str | None = None
    password: str | None = None
    device_id: str | None = None
    initial_device_display_name: str | None = None
    inhibit_login: bool = False
    refresh_token: bool = False
    auth: dict[str, Any] | None = None


class LoginBody(msgspec.Struct):
    type: str
    identifier: dict[str, Any] | None = None
    user: str | None = None
    medium: str | None = None
    address: str | None = None
    password: str | None = None
    token: str | None = None
    device_id: str | None = None
    initial_device_display_name: str | None = None
    refresh_token: bool = False


class RefreshBody(msgspec.Struct):
    refresh_token: str


class AuthOnlyBody(msgspec.Struct):
    auth: dict[str, Any] | None = None


class DeleteDevicesBody(msgspec.Struct):
    devices: list[str]
    auth: dict[str, Any] | None = None


class UpdateDeviceBody(msgspec.Struct):
    display_name: str | None = None


class ChangePasswordBody(msgspec.Struct):
    new_password: str
    logout_devices: bool = True
    auth: dict[str, Any] | None = None


class DeactivateBody(msgspec.Struct):
    auth: dict[str, Any] | None = None
    id_server: str | None = None
    erase: bool = False


class LockBody(msgspec.Struct):
    locked: bool


class SuspendBody(msgspec.Struct):
    suspended: bool


class RequestTokenBody(msgspec.Struct):
    client_secret: str
    send_attempt: int
    email: str | None = None
    country: str | None = None
    phone_number: str | None = None
    next_link: str | None = None
    id_server: str | None = None
    id_access_token: str | None = None
