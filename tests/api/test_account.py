"""The user's own account: whoami, password change, deactivation, third-party identifiers
(whoami.yaml, password_management.yaml, account_deactivation.yaml,
administrative_contact.yaml; CHECKLIST AU-9, P-1, P-2, P-3, G-5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from myelin.config import RegistrationConfig
from tests.api.helpers import (
    PASSWORD,
    V3,
    assert_error,
    assert_uia_challenge,
    bearer,
    password_auth,
    uid,
)
from tests.conftest import Homeserver

WHOAMI = f"{V3}/account/whoami"
PASSWORD_URL = f"{V3}/account/password"
DEACTIVATE = f"{V3}/account/deactivate"
NEW_PASSWORD = "a brand new password"


async def status_of(hs: Homeserver, token: str) -> int:
    return (await hs.client.get(WHOAMI, headers=bearer(token))).status_code


async def login_status(hs: Homeserver, user: str, password: str) -> tuple[int, dict[str, Any]]:
    r = await hs.client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
        "password": password})
    return r.status_code, r.json()


# --- whoami ---------------------------------------------------------------------------------


async def test_whoami(hs: Homeserver) -> None:
    reg = await hs.register("alice")
    r = await hs.client.get(WHOAMI, headers=bearer(reg["access_token"]))
    assert r.status_code == 200
    assert r.json() == {"user_id": uid("alice"), "device_id": reg["device_id"],
                        "is_guest": False}


async def test_whoami_for_second_device(hs: Homeserver) -> None:
    await hs.register("alice")
    login = await hs.login("alice", device_id="SECOND")
    r = await hs.client.get(WHOAMI, headers=bearer(login["access_token"]))
    assert r.json()["device_id"] == "SECOND"


async def test_whoami_guest(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(
        registration=RegistrationConfig(enabled=True, allow_guests=True))
    r = await hs.client.post(f"{V3}/register", params={"kind": "guest"}, json={})
    guest = r.json()
    r = await hs.client.get(WHOAMI, headers=bearer(guest["access_token"]))
    assert r.status_code == 200
    assert r.json() == {"user_id": guest["user_id"], "device_id": guest["device_id"],
                        "is_guest": True}


# --- password change (P-1) ------------------------------------------------------------------


@pytest.fixture
async def sessions(hs: Homeserver) -> list[dict[str, Any]]:
    a = await hs.register("pat", device_id="MAIN")
    b = await hs.login("pat", device_id="OTHER1")
    c = await hs.login("pat", device_id="OTHER2")
    return [a, b, c]


async def change_password(hs: Homeserver, token: str, body: dict[str, Any],
                          password: str = PASSWORD) -> Any:
    r = await hs.client.post(PASSWORD_URL, headers=bearer(token), json=body)
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]
    return await hs.client.post(PASSWORD_URL, headers=bearer(token), json={
        **body, "auth": password_auth("pat", password, session)})


async def test_change_password_logs_out_other_devices(hs: Homeserver,
                                                      sessions: list[dict[str, Any]]) -> None:
    main = sessions[0]["access_token"]
    r = await change_password(hs, main, {"new_password": NEW_PASSWORD, "logout_devices": True})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert await status_of(hs, main) == 200
    for other in sessions[1:]:
        assert_error(await hs.client.get(WHOAMI, headers=bearer(other["access_token"])), 401,
                     "M_UNKNOWN_TOKEN")
    r = await hs.client.get(f"{V3}/devices", headers=bearer(main))
    assert [d["device_id"] for d in r.json()["devices"]] == ["MAIN"]
    status, body = await login_status(hs, "pat", PASSWORD)
    assert status == 403 and body["errcode"] == "M_FORBIDDEN"
    status, _ = await login_status(hs, "pat", NEW_PASSWORD)
    assert status == 200


async def test_change_password_logout_devices_defaults_to_true(
        hs: Homeserver, sessions: list[dict[str, Any]]) -> None:
    r = await change_password(hs, sessions[0]["access_token"], {"new_password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    assert await status_of(hs, sessions[0]["access_token"]) == 200
    assert await status_of(hs, sessions[1]["access_token"]) == 401


async def test_change_password_keeping_devices(hs: Homeserver,
                                               sessions: list[dict[str, Any]]) -> None:
    r = await change_password(hs, sessions[1]["access_token"],
                              {"new_password": NEW_PASSWORD, "logout_devices": False})
    assert r.status_code == 200, r.text
    for s in sessions:
        assert await status_of(hs, s["access_token"]) == 200
    assert (await login_status(hs, "pat", PASSWORD))[0] == 403
    assert (await login_status(hs, "pat", NEW_PASSWORD))[0] == 200


async def test_change_password_wrong_current_password(hs: Homeserver,
                                                      sessions: list[dict[str, Any]]) -> None:
    r = await change_password(hs, sessions[0]["access_token"], {"new_password": NEW_PASSWORD},
                              password="not my password")
    body = assert_uia_challenge(r, stages=["m.login.password"])
    assert body["errcode"] == "M_FORBIDDEN"
    assert (await login_status(hs, "pat", PASSWORD))[0] == 200
    assert await status_of(hs, sessions[1]["access_token"]) == 200


async def test_change_password_weak(hs: Homeserver, sessions: list[dict[str, Any]]) -> None:
    r = await change_password(hs, sessions[0]["access_token"], {"new_password": "short"})
    assert_error(r, 400, "M_WEAK_PASSWORD")
    assert (await login_status(hs, "pat", PASSWORD))[0] == 200
    assert await status_of(hs, sessions[1]["access_token"]) == 200


async def test_change_password_requires_new_password(hs: Homeserver,
                                                     sessions: list[dict[str, Any]]) -> None:
    r = await hs.client.post(PASSWORD_URL, headers=bearer(sessions[0]["access_token"]),
                             json={"auth": password_auth("pat")})
    body = assert_error(r, 400)
    assert body["errcode"] in ("M_BAD_JSON", "M_MISSING_PARAM")
    assert (await login_status(hs, "pat", PASSWORD))[0] == 200


async def test_change_password_without_access_token(hs: Homeserver,
                                                    sessions: list[dict[str, Any]]) -> None:
    """P-1: the access token is optional; the password stage names the account."""
    r = await hs.client.post(PASSWORD_URL, json={"new_password": NEW_PASSWORD})
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]
    r = await hs.client.post(PASSWORD_URL, json={"new_password": NEW_PASSWORD,
                                                 "auth": password_auth("pat", session=session)})
    assert r.status_code == 200, r.text
    assert (await login_status(hs, "pat", NEW_PASSWORD))[0] == 200
    # No requesting device to keep: every session is signed out.
    for s in sessions:
        assert await status_of(hs, s["access_token"]) == 401


async def test_change_password_without_token_wrong_password(
        hs: Homeserver, sessions: list[dict[str, Any]]) -> None:
    r = await hs.client.post(PASSWORD_URL, json={
        "new_password": NEW_PASSWORD, "auth": password_auth("pat", "guess")})
    body = assert_uia_challenge(r)
    assert body["errcode"] == "M_FORBIDDEN"
    assert (await login_status(hs, "pat", PASSWORD))[0] == 200


async def test_change_password_other_users_credentials(hs: Homeserver,
                                                       sessions: list[dict[str, Any]]) -> None:
    """With a token, the password stage must prove the token's user, not someone else."""
    await hs.register("eve", password="eve password 1")
    r = await hs.client.post(PASSWORD_URL, headers=bearer(sessions[0]["access_token"]), json={
        "new_password": NEW_PASSWORD, "auth": password_auth("eve", "eve password 1")})
    body = assert_uia_challenge(r)
    assert body["errcode"] == "M_FORBIDDEN"
    assert (await login_status(hs, "pat", PASSWORD))[0] == 200
    assert (await login_status(hs, "eve", "eve password 1"))[0] == 200


# --- deactivation (P-3) ---------------------------------------------------------------------


async def test_deactivate(hs: Homeserver, sessions: list[dict[str, Any]]) -> None:
    token = sessions[0]["access_token"]
    r = await hs.client.post(DEACTIVATE, headers=bearer(token), json={})
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]
    assert await status_of(hs, token) == 200
    r = await hs.client.post(DEACTIVATE, headers=bearer(token),
                             json={"auth": password_auth("pat", session=session)})
    assert r.status_code == 200, r.text
    assert r.json()["id_server_unbind_result"] in ("success", "no-support")
    for s in sessions:
        assert_error(await hs.client.get(WHOAMI, headers=bearer(s["access_token"])), 401,
                     "M_UNKNOWN_TOKEN")
    status, body = await login_status(hs, "pat", PASSWORD)
    assert status == 403
    assert body["errcode"] in ("M_USER_DEACTIVATED", "M_FORBIDDEN")


async def test_deactivated_username_stays_taken(hs: Homeserver,
                                                sessions: list[dict[str, Any]]) -> None:
    r = await hs.client.post(DEACTIVATE, headers=bearer(sessions[0]["access_token"]),
                             json={"auth": password_auth("pat"), "erase": True})
    assert r.status_code == 200, r.text
    r = await hs.client.get(f"{V3}/register/available", params={"username": "pat"})
    assert_error(r, 400, "M_USER_IN_USE")
    r = await hs.client.post(f"{V3}/register", json={"username": "pat", "password": PASSWORD,
                                                     "auth": {"type": "m.login.dummy"}})
    assert_error(r, 400, "M_USER_IN_USE")


async def test_deactivate_wrong_password(hs: Homeserver, sessions: list[dict[str, Any]]) -> None:
    token = sessions[0]["access_token"]
    r = await hs.client.post(DEACTIVATE, headers=bearer(token),
                             json={"auth": password_auth("pat", "wrong")})
    body = assert_uia_challenge(r)
    assert body["errcode"] == "M_FORBIDDEN"
    assert await status_of(hs, token) == 200


async def test_deactivate_without_access_token(hs: Homeserver,
                                               sessions: list[dict[str, Any]]) -> None:
    r = await hs.client.post(DEACTIVATE, json={})
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]
    r = await hs.client.post(DEACTIVATE, json={"auth": password_auth("pat", session=session)})
    assert r.status_code == 200, r.text
    assert r.json()["id_server_unbind_result"] in ("success", "no-support")
    assert await status_of(hs, sessions[0]["access_token"]) == 401
    assert (await login_status(hs, "pat", PASSWORD))[0] == 403


async def test_deactivated_user_cannot_pass_uia_again(hs: Homeserver,
                                                      sessions: list[dict[str, Any]]) -> None:
    r = await hs.client.post(DEACTIVATE, json={"auth": password_auth("pat")})
    assert r.status_code == 200
    r = await hs.client.post(DEACTIVATE, json={"auth": password_auth("pat")})
    body = assert_uia_challenge(r)
    assert body["errcode"] == "M_FORBIDDEN"


# --- third-party identifiers ----------------------------------------------------------------


async def test_get_threepids_is_empty(hs: Homeserver) -> None:
    reg = await hs.register("tp")
    r = await hs.client.get(f"{V3}/account/3pid", headers=bearer(reg["access_token"]))
    assert r.status_code == 200
    assert r.json() == {"threepids": []}


async def test_get_threepids_needs_auth(hs: Homeserver) -> None:
    assert_error(await hs.client.get(f"{V3}/account/3pid"), 401, "M_MISSING_TOKEN")


@pytest.mark.parametrize(("path", "body"), [
    ("/register/email/requestToken",
     {"client_secret": "secret", "email": "a@example.org", "send_attempt": 1}),
    ("/register/msisdn/requestToken",
     {"client_secret": "secret", "country": "GB", "phone_number": "07700900000",
      "send_attempt": 1}),
    ("/account/password/email/requestToken",
     {"client_secret": "secret", "email": "a@example.org", "send_attempt": 1}),
    ("/account/password/msisdn/requestToken",
     {"client_secret": "secret", "country": "GB", "phone_number": "07700900000",
      "send_attempt": 1}),
    ("/account/3pid/email/requestToken",
     {"client_secret": "secret", "email": "a@example.org", "send_attempt": 1}),
    ("/account/3pid/msisdn/requestToken",
     {"client_secret": "secret", "country": "GB", "phone_number": "07700900000",
      "send_attempt": 1}),
])
async def test_request_token_is_refused_honestly(hs: Homeserver, path: str,
                                                 body: dict[str, Any]) -> None:
    """No e-mail/SMS sender: the server says so rather than pretending to send."""
    r = await hs.client.post(f"{V3}{path}", json=body)
    err = assert_error(r, r.status_code)
    assert 400 <= r.status_code < 500
    assert err["errcode"] in ("M_THREEPID_MEDIUM_NOT_SUPPORTED", "M_THREEPID_DENIED",
                              "M_UNRECOGNIZED", "M_FORBIDDEN")
    assert "sid" not in err


async def test_request_token_validates_body(hs: Homeserver) -> None:
    r = await hs.client.post(f"{V3}/register/email/requestToken", json={"email": "a@b.c"})
    assert_error(r, 400, "M_BAD_JSON")


async def test_legacy_add_threepid_is_refused(hs: Homeserver) -> None:
    reg = await hs.register("tp")
    r = await hs.client.post(f"{V3}/account/3pid", headers=bearer(reg["access_token"]),
                             json={"three_pid_creds": {"client_secret": "s", "sid": "1"}})
    err = assert_error(r, r.status_code)
    assert r.status_code in (400, 403)
    assert err["errcode"] == "M_THREEPID_AUTH_FAILED"


async def test_add_threepid_requires_uia_then_refuses(hs: Homeserver) -> None:
    reg = await hs.register("tp")
    token = reg["access_token"]
    body = {"client_secret": "secret", "sid": "nosuchsid"}
    r = await hs.client.post(f"{V3}/account/3pid/add", headers=bearer(token), json=body)
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]
    r = await hs.client.post(f"{V3}/account/3pid/add", headers=bearer(token),
                             json={**body, "auth": password_auth("tp", session=session)})
    err = assert_error(r, r.status_code)
    assert r.status_code in (400, 403)
    assert err["errcode"] == "M_THREEPID_AUTH_FAILED"
    r = await hs.client.get(f"{V3}/account/3pid", headers=bearer(token))
    assert r.json() == {"threepids": []}


async def test_bind_threepid_is_refused(hs: Homeserver) -> None:
    reg = await hs.register("tp")
    r = await hs.client.post(f"{V3}/account/3pid/bind", headers=bearer(reg["access_token"]),
                             json={"client_secret": "s", "sid": "1", "id_server": "id.example",
                                   "id_access_token": "x"})
    err = assert_error(r, r.status_code)
    assert r.status_code in (400, 403)
    assert err["errcode"] == "M_THREEPID_AUTH_FAILED"


@pytest.mark.parametrize("path", ["/account/3pid/delete", "/account/3pid/unbind"])
async def test_delete_threepid_nothing_bound(hs: Homeserver, path: str) -> None:
    reg = await hs.register("tp")
    r = await hs.client.post(f"{V3}{path}", headers=bearer(reg["access_token"]),
                             json={"medium": "email", "address": "a@example.org"})
    assert r.status_code == 200, r.text
    assert r.json()["id_server_unbind_result"] in ("success", "no-support")
