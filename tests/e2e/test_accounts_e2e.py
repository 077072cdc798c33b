"""End to end: a real ``myelin run`` process driven by matrix-nio and plain HTTP."""

from __future__ import annotations

import httpx
import pytest
from nio import (
    AsyncClient,
    DevicesResponse,
    LoginResponse,
    LogoutResponse,
    RegisterResponse,
    WhoamiResponse,
)

pytestmark = pytest.mark.e2e

PASSWORD = "a long enough password"


async def test_nio_register_login_refresh_logout(server_process):
    server = await server_process()
    alice = AsyncClient(server.url, "alice")
    try:
        reg = await alice.register("alice", PASSWORD, device_name="nio test")
        assert isinstance(reg, RegisterResponse), reg
        assert reg.user_id == "@alice:localhost"

        phone = AsyncClient(server.url, "@alice:localhost")
        login = await phone.login(PASSWORD, device_name="phone")
        assert isinstance(login, LoginResponse), login
        assert login.device_id != reg.device_id

        who = await phone.whoami()
        assert isinstance(who, WhoamiResponse) and who.user_id == "@alice:localhost"
        assert who.device_id == login.device_id

        devices = await alice.devices()
        assert isinstance(devices, DevicesResponse)
        assert {d.id for d in devices.devices} == {reg.device_id, login.device_id}
        names = {d.id: d.display_name for d in devices.devices}
        assert names[login.device_id] == "phone"

        # Refresh tokens (§Refreshing access tokens) over plain HTTP: nio has no refresh API.
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.post("/_matrix/client/v3/login", json={
                "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
                "password": PASSWORD, "refresh_token": True})
            assert r.status_code == 200, r.text
            first = r.json()
            assert first["expires_in_ms"] > 0
            r = await http.post("/_matrix/client/v3/refresh",
                                json={"refresh_token": first["refresh_token"]})
            assert r.status_code == 200, r.text
            second = r.json()
            r = await http.get("/_matrix/client/v3/account/whoami",
                               headers={"Authorization": f"Bearer {second['access_token']}"})
            assert r.json()["device_id"] == first["device_id"]
            # The new token has been used, so the old refresh token is now revoked.
            r = await http.post("/_matrix/client/v3/refresh",
                                json={"refresh_token": first["refresh_token"]})
            assert r.status_code == 401 and r.json()["errcode"] == "M_UNKNOWN_TOKEN"

        out = await phone.logout()
        assert isinstance(out, LogoutResponse), out
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.get("/_matrix/client/v3/account/whoami",
                               headers={"Authorization": f"Bearer {login.access_token}"})
            assert r.status_code == 401 and r.json()["errcode"] == "M_UNKNOWN_TOKEN"
        devices = await alice.devices()
        assert isinstance(devices, DevicesResponse)
        assert login.device_id not in {d.id for d in devices.devices}
        await phone.close()
    finally:
        await alice.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_account_survives_sigkill_after_200(server_process, engine):
    """No acknowledged write is lost: SIGKILL right after /register answered 200."""
    server = await server_process(engine=engine)
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post("/_matrix/client/v3/register", json={
            "username": "durable", "password": PASSWORD, "auth": {"type": "m.login.dummy"}})
        assert r.status_code == 200, r.text
    server.kill()
    server.start()
    async with httpx.AsyncClient(base_url=server.url) as http:
        r = await http.post("/_matrix/client/v3/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "durable"},
            "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["user_id"] == "@durable:localhost"


async def test_malformed_requests_never_break_the_server(server_process):
    """Bad JSON, wrong types, huge bodies, unknown paths, wrong methods, invalid UTF-8: each
    gets a standard error and the server keeps serving."""
    server = await server_process()
    async with httpx.AsyncClient(base_url=server.url) as http:
        cases = [
            ("POST", "/_matrix/client/v3/login", b"{not json", 400, "M_NOT_JSON"),
            ("POST", "/_matrix/client/v3/login", b'{"type": 5}', 400, "M_BAD_JSON"),
            ("POST", "/_matrix/client/v3/login", b"[1, 2]", 400, "M_BAD_JSON"),
            ("POST", "/_matrix/client/v3/login", b'{"type": "\xff\xfe"}', 400, "M_NOT_JSON"),
            ("POST", "/_matrix/client/v3/register", b"x" * (2 << 20), 413, "M_TOO_LARGE"),
            ("GET", "/_matrix/client/v3/no/such/endpoint", b"", 404, "M_UNRECOGNIZED"),
            ("DELETE", "/_matrix/client/v3/login", b"", 405, "M_UNRECOGNIZED"),
            ("GET", "/_matrix/client/v3/devices/%ff%fe", b"", 400, "M_INVALID_PARAM"),
        ]
        for method, path, body, status, errcode in cases:
            r = await http.request(method, path, content=body)
            assert r.status_code == status, (method, path, r.text)
            assert r.headers["content-type"] == "application/json"
            assert r.json()["errcode"] == errcode
            assert isinstance(r.json()["error"], str)
            assert r.headers["access-control-allow-origin"] == "*"
        r = await http.get("/_matrix/client/versions")
        assert r.status_code == 200
