"""Legacy login, refresh and login tokens (Client-Server API §Login, §Refreshing access
tokens, login.yaml, refresh.yaml, login_token.yaml; CHECKLIST L-1, L-2, L-3, AU-4, AU-5)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from myelin.config import AuthConfig
from tests.api.helpers import (
    PASSWORD,
    V1,
    V3,
    assert_error,
    assert_uia_challenge,
    bearer,
    password_auth,
    uid,
)
from tests.conftest import Homeserver

LOGIN = f"{V3}/login"
REFRESH = f"{V3}/refresh"
GET_TOKEN = f"{V1}/login/get_token"
WHOAMI = f"{V3}/account/whoami"


async def status_of(hs: Homeserver, token: str) -> int:
    return (await hs.client.get(WHOAMI, headers=bearer(token))).status_code


def password_login(user: str, password: str = PASSWORD, **extra: Any) -> dict[str, Any]:
    return {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password, **extra}


# --- GET /login -----------------------------------------------------------------------------


async def test_login_flows(hs: Homeserver) -> None:
    r = await hs.client.get(LOGIN)
    assert r.status_code == 200
    flows = r.json()["flows"]
    types = [f["type"] for f in flows]
    assert "m.login.password" in types
    token_flow = next(f for f in flows if f["type"] == "m.login.token")
    assert token_flow.get("get_login_token") is True


# --- password login -------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["alice", "@alice:test.local", "ALICE", "@Alice:test.local"])
async def test_password_login_by_identifier(hs: Homeserver, user: str) -> None:
    await hs.register("alice")
    r = await hs.client.post(LOGIN, json=password_login(user))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == uid("alice")
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["device_id"], str) and body["device_id"]
    assert body["home_server"] == "test.local"
    assert body["well_known"]["m.homeserver"]["base_url"] == "http://test.local/"
    assert "refresh_token" not in body
    me = (await hs.client.get(WHOAMI, headers=bearer(body["access_token"]))).json()
    assert me["user_id"] == uid("alice")
    assert me["device_id"] == body["device_id"]


@pytest.mark.parametrize("user", ["bob", "@bob:test.local"])
async def test_password_login_by_deprecated_user(hs: Homeserver, user: str) -> None:
    await hs.register("bob")
    r = await hs.client.post(LOGIN, json={"type": "m.login.password", "user": user,
                                          "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == uid("bob")


async def test_each_login_makes_a_new_device(hs: Homeserver) -> None:
    reg = await hs.register("multi")
    a = await hs.login("multi")
    b = await hs.login("multi")
    assert len({reg["device_id"], a["device_id"], b["device_id"]}) == 3
    for token in (reg["access_token"], a["access_token"], b["access_token"]):
        assert await status_of(hs, token) == 200


async def test_initial_device_display_name(hs: Homeserver) -> None:
    await hs.register("named")
    login = await hs.login("named", initial_device_display_name="Laptop")
    r = await hs.client.get(f"{V3}/devices/{login['device_id']}",
                            headers=bearer(login["access_token"]))
    assert r.json()["display_name"] == "Laptop"


async def test_wrong_password(hs: Homeserver) -> None:
    await hs.register("carol")
    r = await hs.client.post(LOGIN, json=password_login("carol", "not the password"))
    assert_error(r, 403, "M_FORBIDDEN")


@pytest.mark.parametrize("user", ["nobody", "@nobody:test.local", "@carol:other.server",
                                  "@:test.local", "@bad id:test.local"])
async def test_unknown_user(hs: Homeserver, user: str) -> None:
    await hs.register("carol")
    r = await hs.client.post(LOGIN, json=password_login(user, PASSWORD))
    assert_error(r, 403, "M_FORBIDDEN")


async def test_unknown_user_and_wrong_password_look_alike(hs: Homeserver) -> None:
    await hs.register("dave")
    a = await hs.client.post(LOGIN, json=password_login("dave", "wrong password"))
    b = await hs.client.post(LOGIN, json=password_login("nosuchuser", "wrong password"))
    assert a.status_code == b.status_code == 403
    assert a.json() == b.json()


@pytest.mark.parametrize("body", [
    {"type": "m.login.password", "password": PASSWORD,
     "identifier": {"type": "m.id.thirdparty", "medium": "email", "address": "a@example.org"}},
    {"type": "m.login.password", "password": PASSWORD,
     "identifier": {"type": "m.id.phone", "country": "GB", "phone": "07700900000"}},
    {"type": "m.login.password", "password": PASSWORD, "medium": "email",
     "address": "a@example.org"},
])
async def test_third_party_identifier_is_403(hs: Homeserver, body: dict[str, Any]) -> None:
    """U-5 / L-2: an unknown 3PID must get 403."""
    r = await hs.client.post(LOGIN, json=body)
    assert_error(r, 403, "M_FORBIDDEN")


@pytest.mark.parametrize("login_type", ["m.login.bogus", "m.login.sso", "m.login.dummy",
                                        "m.login.application_service"])
async def test_unknown_login_type_is_400(hs: Homeserver, login_type: str) -> None:
    r = await hs.client.post(LOGIN, json={"type": login_type, "user": "x", "password": "y"})
    body = assert_error(r, 400)
    assert body["errcode"] in ("M_UNKNOWN", "M_UNRECOGNIZED", "M_INVALID_PARAM",
                               "M_APPSERVICE_LOGIN_UNSUPPORTED")


async def test_missing_type_is_400(hs: Homeserver) -> None:
    r = await hs.client.post(LOGIN, json={"user": "x", "password": "y"})
    body = assert_error(r, 400)
    assert body["errcode"] in ("M_BAD_JSON", "M_MISSING_PARAM")


async def test_missing_identifier_is_400(hs: Homeserver) -> None:
    r = await hs.client.post(LOGIN, json={"type": "m.login.password", "password": "y"})
    assert_error(r, 400, "M_MISSING_PARAM")


async def test_unknown_identifier_type_is_400(hs: Homeserver) -> None:
    r = await hs.client.post(LOGIN, json={"type": "m.login.password", "password": "y",
                                          "identifier": {"type": "m.id.weird"}})
    body = assert_error(r, 400)
    assert body["errcode"] in ("M_INVALID_PARAM", "M_UNKNOWN", "M_UNRECOGNIZED")


async def test_login_is_not_uia(hs: Homeserver) -> None:
    """L-2: POST /login never answers with a UIA challenge."""
    r = await hs.client.post(LOGIN, json={"type": "m.login.password"})
    assert r.status_code == 400
    assert "flows" not in r.json()


# --- device_id reuse (AU-4) -----------------------------------------------------------------


async def test_device_id_reuse_revokes_older_token(hs: Homeserver) -> None:
    await hs.register("erin")
    first = await hs.login("erin", device_id="PHONE")
    other = await hs.login("erin", device_id="TABLET")
    assert first["device_id"] == "PHONE"
    second = await hs.login("erin", device_id="PHONE")
    assert second["device_id"] == "PHONE"
    assert second["access_token"] != first["access_token"]
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(first["access_token"])), 401,
                        "M_UNKNOWN_TOKEN")
    assert body.get("soft_logout", False) is False
    assert await status_of(hs, second["access_token"]) == 200
    assert await status_of(hs, other["access_token"]) == 200
    r = await hs.client.get(f"{V3}/devices", headers=bearer(second["access_token"]))
    ids = sorted(d["device_id"] for d in r.json()["devices"])
    assert ids.count("PHONE") == 1


async def test_device_id_reuse_revokes_older_refresh_token(hs: Homeserver) -> None:
    await hs.register("frank")
    first = await hs.login("frank", device_id="DEV", refresh_token=True)
    await hs.login("frank", device_id="DEV")
    r = await hs.client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_error(r, 401, "M_UNKNOWN_TOKEN")


async def test_device_id_reuse_keeps_display_name(hs: Homeserver) -> None:
    await hs.register("gina")
    first = await hs.login("gina", device_id="KEEP", initial_device_display_name="Old name")
    second = await hs.login("gina", device_id="KEEP")
    r = await hs.client.get(f"{V3}/devices/KEEP", headers=bearer(second["access_token"]))
    assert r.json()["display_name"] == "Old name"
    assert first["device_id"] == second["device_id"]


async def test_same_device_id_for_different_users(hs: Homeserver) -> None:
    await hs.register("hank")
    await hs.register("iris")
    a = await hs.login("hank", device_id="SHARED")
    b = await hs.login("iris", device_id="SHARED")
    assert await status_of(hs, a["access_token"]) == 200
    assert await status_of(hs, b["access_token"]) == 200


@pytest.mark.parametrize("device_id", ["", "d" * 256])
async def test_bad_device_id_lengths(hs: Homeserver, device_id: str) -> None:
    await hs.register("jack")
    r = await hs.client.post(LOGIN, json=password_login("jack", device_id=device_id))
    assert_error(r, 400, "M_INVALID_PARAM")


# --- refresh tokens (AU-5) ------------------------------------------------------------------


async def test_refresh_token_on_login(hs: Homeserver) -> None:
    await hs.register("kate")
    login = await hs.login("kate", refresh_token=True)
    assert isinstance(login["refresh_token"], str) and login["refresh_token"]
    assert login["refresh_token"] != login["access_token"]
    assert isinstance(login["expires_in_ms"], int) and login["expires_in_ms"] > 0


async def test_refresh_returns_new_tokens_bound_to_the_same_device(hs: Homeserver) -> None:
    await hs.register("liam")
    login = await hs.login("liam", refresh_token=True)
    r = await hs.client.post(REFRESH, json={"refresh_token": login["refresh_token"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["access_token"] not in (login["access_token"], login["refresh_token"])
    assert isinstance(body["expires_in_ms"], int) and body["expires_in_ms"] > 0
    assert body.get("refresh_token") not in (None, login["refresh_token"])
    me = (await hs.client.get(WHOAMI, headers=bearer(body["access_token"]))).json()
    assert me == {"user_id": uid("liam"), "device_id": login["device_id"], "is_guest": False}


async def test_refresh_needs_no_access_token(hs: Homeserver) -> None:
    await hs.register("mona")
    login = await hs.login("mona", refresh_token=True)
    r = await hs.client.post(REFRESH, json={"refresh_token": login["refresh_token"]},
                             headers=bearer("garbage"))
    assert r.status_code == 200, r.text


async def test_old_refresh_token_valid_until_new_access_token_used(hs: Homeserver) -> None:
    await hs.register("nina")
    login = await hs.login("nina", refresh_token=True)
    old_rt = login["refresh_token"]
    # The client "loses" the first answer and repeats the refresh with the old token.
    r1 = await hs.client.post(REFRESH, json={"refresh_token": old_rt})
    assert r1.status_code == 200
    r2 = await hs.client.post(REFRESH, json={"refresh_token": old_rt})
    assert r2.status_code == 200, r2.text
    new = r2.json()
    # Using the new access token revokes the old refresh token.
    assert await status_of(hs, new["access_token"]) == 200
    assert_error(await hs.client.post(REFRESH, json={"refresh_token": old_rt}), 401,
                 "M_UNKNOWN_TOKEN")
    # The new refresh token is the one that works now.
    r = await hs.client.post(REFRESH, json={"refresh_token": new["refresh_token"]})
    assert r.status_code == 200, r.text


async def test_old_refresh_token_valid_until_new_refresh_token_used(hs: Homeserver) -> None:
    await hs.register("omar")
    login = await hs.login("omar", refresh_token=True)
    old_rt = login["refresh_token"]
    r = await hs.client.post(REFRESH, json={"refresh_token": old_rt})
    assert r.status_code == 200
    new_rt = r.json()["refresh_token"]
    r = await hs.client.post(REFRESH, json={"refresh_token": new_rt})
    assert r.status_code == 200, r.text
    assert_error(await hs.client.post(REFRESH, json={"refresh_token": old_rt}), 401,
                 "M_UNKNOWN_TOKEN")


async def test_old_access_token_revoked_with_old_refresh_token(hs: Homeserver) -> None:
    """Once the old refresh token is revoked, the access token issued with it goes too."""
    await hs.register("pia")
    login = await hs.login("pia", refresh_token=True)
    r = await hs.client.post(REFRESH, json={"refresh_token": login["refresh_token"]})
    new = r.json()
    assert await status_of(hs, new["access_token"]) == 200
    assert_error(await hs.client.get(WHOAMI, headers=bearer(login["access_token"])), 401,
                 "M_UNKNOWN_TOKEN")


async def test_refreshed_access_token_expires(hs: Homeserver) -> None:
    await hs.register("quinn")
    login = await hs.login("quinn", refresh_token=True)
    new = (await hs.client.post(REFRESH, json={"refresh_token": login["refresh_token"]})).json()
    hs.clock.advance(new["expires_in_ms"] / 1000 + 1)
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(new["access_token"])), 401,
                        "M_UNKNOWN_TOKEN")
    assert body["soft_logout"] is True


@pytest.mark.parametrize("token", ["unknown", "", "syr_" + "a" * 40])
async def test_unknown_refresh_token(hs: Homeserver, token: str) -> None:
    r = await hs.client.post(REFRESH, json={"refresh_token": token})
    assert_error(r, 401, "M_UNKNOWN_TOKEN")


async def test_refresh_token_is_not_an_access_token(hs: Homeserver) -> None:
    await hs.register("rita")
    login = await hs.login("rita", refresh_token=True)
    assert_error(await hs.client.get(WHOAMI, headers=bearer(login["refresh_token"])), 401,
                 "M_UNKNOWN_TOKEN")
    r = await hs.client.post(REFRESH, json={"refresh_token": login["access_token"]})
    assert_error(r, 401, "M_UNKNOWN_TOKEN")


async def test_refresh_without_token_field(hs: Homeserver) -> None:
    body = assert_error(await hs.client.post(REFRESH, json={}), 400)
    assert body["errcode"] in ("M_BAD_JSON", "M_MISSING_PARAM")


async def test_logout_revokes_refresh_token(hs: Homeserver) -> None:
    await hs.register("sam")
    login = await hs.login("sam", refresh_token=True)
    r = await hs.client.post(f"{V3}/logout", headers=bearer(login["access_token"]))
    assert r.status_code == 200
    assert_error(await hs.client.post(REFRESH, json={"refresh_token": login["refresh_token"]}),
                 401, "M_UNKNOWN_TOKEN")


async def test_refresh_v1_path(hs: Homeserver) -> None:
    await hs.register("tess")
    login = await hs.login("tess", refresh_token=True)
    r = await hs.client.post(f"{V1}/refresh", json={"refresh_token": login["refresh_token"]})
    assert r.status_code == 200, r.text


async def test_expired_refresh_token_is_soft_logout(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(auth=AuthConfig(
        refresh_token_lifetime_ms=600_000, argon2_time_cost=1, argon2_memory_kib=64))
    await hs.register("uma")
    login = await hs.login("uma", refresh_token=True)
    hs.clock.advance(601)
    body = assert_error(await hs.client.post(REFRESH, json={"refresh_token": login["refresh_token"]}),
                        401, "M_UNKNOWN_TOKEN")
    assert body["soft_logout"] is True


# --- m.login.token via /login/get_token (L-3) -----------------------------------------------


async def get_login_token(hs: Homeserver, user: str, token: str) -> dict[str, Any]:
    r = await hs.client.post(GET_TOKEN, headers=bearer(token), json={})
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]
    r = await hs.client.post(GET_TOKEN, headers=bearer(token),
                             json={"auth": password_auth(user, session=session)})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_get_token_and_login_once(hs: Homeserver) -> None:
    reg = await hs.register("vera")
    body = await get_login_token(hs, "vera", reg["access_token"])
    assert isinstance(body["login_token"], str) and body["login_token"]
    assert isinstance(body["expires_in_ms"], int) and body["expires_in_ms"] > 0
    r = await hs.client.post(LOGIN, json={"type": "m.login.token", "token": body["login_token"]})
    assert r.status_code == 200, r.text
    login = r.json()
    assert login["user_id"] == uid("vera")
    assert login["device_id"] != reg["device_id"]
    assert await status_of(hs, login["access_token"]) == 200
    # Single use.
    r = await hs.client.post(LOGIN, json={"type": "m.login.token", "token": body["login_token"]})
    assert_error(r, 403, "M_FORBIDDEN")


async def test_get_token_requires_uia_every_time(hs: Homeserver) -> None:
    reg = await hs.register("walt")
    await get_login_token(hs, "walt", reg["access_token"])
    r = await hs.client.post(GET_TOKEN, headers=bearer(reg["access_token"]), json={})
    assert_uia_challenge(r, stages=["m.login.password"])


async def test_get_token_wrong_password(hs: Homeserver) -> None:
    reg = await hs.register("xena")
    r = await hs.client.post(GET_TOKEN, headers=bearer(reg["access_token"]), json={})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(GET_TOKEN, headers=bearer(reg["access_token"]), json={
        "auth": password_auth("xena", "wrong password", session)})
    body = assert_uia_challenge(r, stages=["m.login.password"])
    assert body["errcode"] == "M_FORBIDDEN"


async def test_get_token_needs_access_token(hs: Homeserver) -> None:
    assert_error(await hs.client.post(GET_TOKEN, json={}), 401, "M_MISSING_TOKEN")


async def test_login_token_expires(hs: Homeserver) -> None:
    reg = await hs.register("yuri")
    body = await get_login_token(hs, "yuri", reg["access_token"])
    hs.clock.advance(body["expires_in_ms"] / 1000 + 1)
    r = await hs.client.post(LOGIN, json={"type": "m.login.token", "token": body["login_token"]})
    assert_error(r, 403, "M_FORBIDDEN")


async def test_login_token_valid_just_before_expiry(hs: Homeserver) -> None:
    reg = await hs.register("zoe")
    body = await get_login_token(hs, "zoe", reg["access_token"])
    hs.clock.advance(body["expires_in_ms"] / 1000 - 1)
    r = await hs.client.post(LOGIN, json={"type": "m.login.token", "token": body["login_token"],
                                          "device_id": "FROMTOKEN"})
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == "FROMTOKEN"


@pytest.mark.parametrize("token", ["nonsense", ""])
async def test_invalid_login_token(hs: Homeserver, token: str) -> None:
    r = await hs.client.post(LOGIN, json={"type": "m.login.token", "token": token})
    assert_error(r, 403, "M_FORBIDDEN")


async def test_login_token_of_deactivated_user(hs: Homeserver) -> None:
    reg = await hs.register("abe")
    body = await get_login_token(hs, "abe", reg["access_token"])
    login2 = await hs.login("abe")
    r = await hs.client.post(f"{V3}/account/deactivate", headers=bearer(login2["access_token"]),
                             json={"auth": password_auth("abe")})
    assert r.status_code == 200, r.text
    r = await hs.client.post(LOGIN, json={"type": "m.login.token", "token": body["login_token"]})
    body = assert_error(r, 403)
    assert body["errcode"] in ("M_USER_DEACTIVATED", "M_FORBIDDEN")


class _SlowReads:
    """A transaction whose reads pause afterwards, to widen a read-then-write window."""

    def __init__(self, txn: Any) -> None:
        self._txn = txn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._txn, name)

    async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
        row = await self._txn.fetchrow(*args, **kwargs)
        await asyncio.sleep(0.05)
        return row


async def test_login_token_single_use_under_concurrency(hs: Homeserver,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from myelin.storage.repos import accounts as repo

    original = repo.consume_login_token

    async def slow_consume(txn: Any, token_hash: str, *, now: int) -> str | None:
        return await original(_SlowReads(txn), token_hash, now=now)

    monkeypatch.setattr(repo, "consume_login_token", slow_consume)
    reg = await hs.register("conc")
    body = await get_login_token(hs, "conc", reg["access_token"])
    attempts = await asyncio.gather(*[
        hs.client.post(LOGIN, json={"type": "m.login.token", "token": body["login_token"]})
        for _ in range(4)])
    statuses = sorted(r.status_code for r in attempts)
    assert statuses == [200, 403, 403, 403], statuses
