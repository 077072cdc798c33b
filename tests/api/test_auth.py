"""Access tokens (Client-Server API §Using access tokens, §Soft logout, §Refreshing access
tokens; CHECKLIST AU-2, AU-3, AU-5, AU-6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from myelin.config import AuthConfig
from tests.api.helpers import V3, assert_error, bearer
from tests.conftest import Homeserver

WHOAMI = f"{V3}/account/whoami"


async def test_missing_token(hs: Homeserver) -> None:
    body = assert_error(await hs.client.get(WHOAMI), 401, "M_MISSING_TOKEN")
    assert body.get("soft_logout", False) is False


async def test_unknown_token(hs: Homeserver) -> None:
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer("syt_never_issued")), 401,
                        "M_UNKNOWN_TOKEN")
    assert body.get("soft_logout", False) is False


async def test_unknown_token_in_query(hs: Homeserver) -> None:
    r = await hs.client.get(WHOAMI, params={"access_token": "nope"})
    assert_error(r, 401, "M_UNKNOWN_TOKEN")


async def test_bearer_header(hs: Homeserver) -> None:
    reg = await hs.register("bearer")
    r = await hs.client.get(WHOAMI, headers=bearer(reg["access_token"]))
    assert r.status_code == 200
    assert r.json()["user_id"] == "@bearer:test.local"
    assert r.json()["device_id"] == reg["device_id"]


async def test_bearer_scheme_is_case_insensitive(hs: Homeserver) -> None:
    reg = await hs.register("casebearer")
    r = await hs.client.get(WHOAMI, headers={"Authorization": f"bearer {reg['access_token']}"})
    assert r.status_code == 200
    assert r.json()["user_id"] == "@casebearer:test.local"


async def test_query_parameter_token(hs: Homeserver) -> None:
    """AU-2: the deprecated ?access_token= still MUST work in v1.19."""
    reg = await hs.register("querytok")
    r = await hs.client.get(WHOAMI, params={"access_token": reg["access_token"]})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == "@querytok:test.local"


async def test_query_parameter_token_on_post(hs: Homeserver) -> None:
    reg = await hs.register("querypost")
    r = await hs.client.post(f"{V3}/logout", params={"access_token": reg["access_token"]})
    assert r.status_code == 200
    assert_error(await hs.client.get(WHOAMI, headers=bearer(reg["access_token"])), 401,
                 "M_UNKNOWN_TOKEN")


@pytest.mark.parametrize("header", [
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer ",
    "Token abc",
    "",
    "Bearer\tabc",
])
async def test_malformed_authorization_header(hs: Homeserver, header: str) -> None:
    """A header that carries no Bearer token is treated as no token at all."""
    r = await hs.client.get(WHOAMI, headers={"Authorization": header})
    body = assert_error(r, 401)
    assert body["errcode"] in ("M_MISSING_TOKEN", "M_UNKNOWN_TOKEN")


async def test_malformed_header_never_authenticates(hs: Homeserver) -> None:
    reg = await hs.register("basicuser")
    r = await hs.client.get(WHOAMI, headers={"Authorization": f"Basic {reg['access_token']}"})
    assert_error(r, 401)


async def test_token_of_other_user_identifies_that_user(hs: Homeserver) -> None:
    a = await hs.register("tokena")
    b = await hs.register("tokenb")
    ra = await hs.client.get(WHOAMI, headers=bearer(a["access_token"]))
    rb = await hs.client.get(WHOAMI, headers=bearer(b["access_token"]))
    assert ra.json()["user_id"] == "@tokena:test.local"
    assert rb.json()["user_id"] == "@tokenb:test.local"


async def test_logged_out_token_is_unknown_without_soft_logout(hs: Homeserver) -> None:
    reg = await hs.register("loggedout")
    assert (await hs.client.post(f"{V3}/logout", headers=bearer(reg["access_token"]))
            ).status_code == 200
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(reg["access_token"])), 401,
                        "M_UNKNOWN_TOKEN")
    assert body.get("soft_logout", False) is False


async def test_expired_refreshable_token_is_soft_logout(hs: Homeserver) -> None:
    await hs.register("expiring")
    login = await hs.login("expiring", refresh_token=True)
    token = login["access_token"]
    assert (await hs.client.get(WHOAMI, headers=bearer(token))).status_code == 200
    hs.clock.advance(login["expires_in_ms"] / 1000 - 1)
    assert (await hs.client.get(WHOAMI, headers=bearer(token))).status_code == 200
    hs.clock.advance(2)
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(token)), 401,
                        "M_UNKNOWN_TOKEN")
    assert body["soft_logout"] is True
    # The device survives a soft logout; the refresh token still works.
    r = await hs.client.post(f"{V3}/refresh", json={"refresh_token": login["refresh_token"]})
    assert r.status_code == 200, r.text
    r = await hs.client.get(WHOAMI, headers=bearer(r.json()["access_token"]))
    assert r.status_code == 200
    assert r.json()["device_id"] == login["device_id"]


async def test_expired_token_then_login_with_same_device(hs: Homeserver) -> None:
    """AU-6: after a soft logout the client can log in again with the device it had."""
    await hs.register("relogin")
    login = await hs.login("relogin", refresh_token=True)
    hs.clock.advance(login["expires_in_ms"] / 1000 + 1)
    assert_error(await hs.client.get(WHOAMI, headers=bearer(login["access_token"])), 401,
                 "M_UNKNOWN_TOKEN")
    again = await hs.login("relogin", device_id=login["device_id"])
    assert again["device_id"] == login["device_id"]
    r = await hs.client.get(WHOAMI, headers=bearer(again["access_token"]))
    assert r.json()["device_id"] == login["device_id"]


async def test_non_refreshable_tokens_do_not_expire_by_default(hs: Homeserver) -> None:
    reg = await hs.register("forever")
    assert "expires_in_ms" not in reg
    hs.clock.advance(365 * 24 * 3600)
    assert (await hs.client.get(WHOAMI, headers=bearer(reg["access_token"]))).status_code == 200


async def test_configured_access_token_lifetime(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(auth=AuthConfig(
        access_token_lifetime_ms=60_000, argon2_time_cost=1, argon2_memory_kib=64))
    reg = await hs.register("shortlived")
    assert reg["expires_in_ms"] == 60_000
    hs.clock.advance(61)
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(reg["access_token"])), 401,
                        "M_UNKNOWN_TOKEN")
    assert body["soft_logout"] is True


async def test_deactivated_users_token_is_dead(hs: Homeserver) -> None:
    reg = await hs.register("gone")
    token = reg["access_token"]
    r = await hs.client.post(f"{V3}/account/deactivate", headers=bearer(token),
                             json={"auth": {"type": "m.login.password",
                                            "identifier": {"type": "m.id.user", "user": "gone"},
                                            "password": "correct horse battery"}})
    assert r.status_code == 200, r.text
    assert_error(await hs.client.get(WHOAMI, headers=bearer(token)), 401, "M_UNKNOWN_TOKEN")
