"""Discovery: /versions, .well-known, capabilities (Client-Server API §Server Discovery,
§API Versions, §Capabilities negotiation; CHECKLIST D-1..D-5)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.api.helpers import V1, V3, assert_error, bearer
from tests.conftest import Homeserver

VERSIONS = "/_matrix/client/versions"
VERSION_RE = re.compile(r"^(v\d+\.\d+|r\d+\.\d+\.\d+)$")


# --- /versions (D-3) ------------------------------------------------------------------------


def check_versions(body: dict[str, Any]) -> None:
    assert isinstance(body["versions"], list)
    for v in body["versions"]:
        assert VERSION_RE.match(v), v
    assert isinstance(body.get("unstable_features", {}), dict)
    for name, enabled in body.get("unstable_features", {}).items():
        assert isinstance(name, str) and isinstance(enabled, bool)


async def test_versions_without_token(hs: Homeserver) -> None:
    r = await hs.client.get(VERSIONS)
    assert r.status_code == 200
    check_versions(r.json())


async def test_versions_with_valid_token(hs: Homeserver) -> None:
    reg = await hs.register("vuser")
    r = await hs.client.get(VERSIONS, headers=bearer(reg["access_token"]))
    assert r.status_code == 200
    check_versions(r.json())


@pytest.mark.parametrize("headers", [
    {"Authorization": "Basic Zm9vOmJhcg=="},
    {"Authorization": "Bearer"},
])
async def test_versions_never_fails_with_a_malformed_header(hs: Homeserver,
                                                            headers: dict[str, str]) -> None:
    r = await hs.client.get(VERSIONS, headers=headers)
    assert r.status_code == 200, r.text
    check_versions(r.json())


# D-3: clients validate /versions during discovery, so it must never error, whatever
# token (unknown, logged out, expired) comes with it.
async def test_versions_never_fails_with_an_unknown_token(hs: Homeserver) -> None:
    r = await hs.client.get(VERSIONS, headers=bearer("not-a-real-token"))
    assert r.status_code == 200, r.text
    check_versions(r.json())


async def test_versions_never_fails_with_a_bad_query_token(hs: Homeserver) -> None:
    r = await hs.client.get(VERSIONS, params={"access_token": "nope"})
    assert r.status_code == 200, r.text
    check_versions(r.json())


async def test_versions_with_logged_out_token(hs: Homeserver) -> None:
    reg = await hs.register("vgone")
    await hs.client.post(f"{V3}/logout", headers=bearer(reg["access_token"]))
    r = await hs.client.get(VERSIONS, headers=bearer(reg["access_token"]))
    assert r.status_code == 200, r.text


async def test_versions_with_expired_token(hs: Homeserver) -> None:
    await hs.register("vexp")
    login = await hs.login("vexp", refresh_token=True)
    hs.clock.advance(login["expires_in_ms"] / 1000 + 5)
    r = await hs.client.get(VERSIONS, headers=bearer(login["access_token"]))
    assert r.status_code == 200, r.text


async def test_versions_with_locked_users_token(hs: Homeserver) -> None:
    await hs.app.accounts.register_offline("vadmin", "password123", admin=True)
    admin = (await hs.login("vadmin", "password123"))["access_token"]
    reg = await hs.register("vlocked")
    r = await hs.client.put(f"{V1}/admin/lock/@vlocked:test.local", headers=bearer(admin),
                            json={"locked": True})
    assert r.status_code == 200
    r = await hs.client.get(VERSIONS, headers=bearer(reg["access_token"]))
    assert r.status_code == 200, r.text


# --- .well-known (D-1, D-2) -----------------------------------------------------------------


async def test_well_known_client(hs: Homeserver) -> None:
    r = await hs.client.get("/.well-known/matrix/client")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["m.homeserver"]["base_url"] == "http://test.local/"
    assert "m.identity_server" not in body


async def test_well_known_client_with_identity_server(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(identity_server="https://id.example.org")
    body = (await hs.client.get("/.well-known/matrix/client")).json()
    assert body["m.identity_server"] == {"base_url": "https://id.example.org"}
    assert body["m.homeserver"]["base_url"] == "http://test.local/"


async def test_well_known_client_ignores_token(hs: Homeserver) -> None:
    r = await hs.client.get("/.well-known/matrix/client", headers=bearer("junk"))
    assert r.status_code == 200


async def test_well_known_support_unconfigured(hs: Homeserver) -> None:
    r = await hs.client.get("/.well-known/matrix/support")
    assert_error(r, 404)


async def test_well_known_support_configured(server_factory: Callable[..., Any]) -> None:
    contacts = ({"role": "m.role.admin", "matrix_id": "@admin:test.local"},
                {"role": "m.role.security", "email_address": "security@test.local"})
    hs: Homeserver = await server_factory(support_contacts=contacts)
    r = await hs.client.get("/.well-known/matrix/support")
    assert r.status_code == 200
    assert r.json() == {"contacts": list(contacts)}


async def test_well_known_support_page_only(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(support_page="https://test.local/help")
    r = await hs.client.get("/.well-known/matrix/support")
    assert r.status_code == 200
    assert r.json() == {"support_page": "https://test.local/help"}


async def test_well_known_support_both(server_factory: Callable[..., Any]) -> None:
    contacts = ({"role": "m.role.admin", "email_address": "admin@test.local"},)
    hs: Homeserver = await server_factory(support_contacts=contacts,
                                          support_page="https://test.local/help")
    body = (await hs.client.get("/.well-known/matrix/support")).json()
    assert body == {"contacts": list(contacts), "support_page": "https://test.local/help"}


# --- capabilities (D-4) ---------------------------------------------------------------------


async def capabilities(hs: Homeserver, token: str) -> dict[str, Any]:
    r = await hs.client.get(f"{V3}/capabilities", headers=bearer(token))
    assert r.status_code == 200, r.text
    caps = r.json()["capabilities"]
    assert isinstance(caps, dict)
    return caps  # type: ignore[no-any-return]


async def test_capabilities(hs: Homeserver) -> None:
    reg = await hs.register("capuser")
    caps = await capabilities(hs, reg["access_token"])
    assert caps["m.change_password"] == {"enabled": True}
    versions = caps["m.room_versions"]
    assert versions["default"] == "12"
    assert versions["available"] == {str(i): "stable" for i in range(1, 13)}
    assert versions["available"][versions["default"]] == "stable"
    assert caps["m.get_login_token"] == {"enabled": True}
    assert caps.get("m.3pid_changes", {"enabled": False})["enabled"] is False
    assert "m.account_moderation" not in caps
    # D-5 / reserved namespace: only m.* or namespaced names.
    for name in caps:
        assert name.startswith("m.") or "." in name


async def test_capabilities_on_r0(hs: Homeserver) -> None:
    reg = await hs.register("capr0")
    r = await hs.client.get("/_matrix/client/r0/capabilities", headers=bearer(reg["access_token"]))
    assert r.status_code == 200
    assert "m.room_versions" in r.json()["capabilities"]


async def test_capabilities_default_room_version_configurable(
        server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(default_room_version="10")
    reg = await hs.register("capten")
    caps = await capabilities(hs, reg["access_token"])
    assert caps["m.room_versions"]["default"] == "10"


async def test_capabilities_need_auth(hs: Homeserver) -> None:
    assert_error(await hs.client.get(f"{V3}/capabilities"), 401, "M_MISSING_TOKEN")
    assert_error(await hs.client.get(f"{V3}/capabilities", headers=bearer("bad")), 401,
                 "M_UNKNOWN_TOKEN")


async def test_get_login_token_capability_matches_login_flows(hs: Homeserver) -> None:
    reg = await hs.register("capflows")
    caps = await capabilities(hs, reg["access_token"])
    flows = (await hs.client.get(f"{V3}/login")).json()["flows"]
    token_flow = next(f for f in flows if f["type"] == "m.login.token")
    assert caps["m.get_login_token"]["enabled"] is token_flow["get_login_token"]


async def test_legacy_login_is_advertised_and_oauth_is_not(hs: Homeserver) -> None:
    """AU-1: the OAuth metadata endpoint answers 404 M_UNRECOGNIZED when unsupported."""
    assert (await hs.client.get(f"{V3}/login")).status_code == 200
    assert_error(await hs.client.get(f"{V1}/auth_metadata"), 404, "M_UNRECOGNIZED")
