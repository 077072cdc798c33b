"""Device management and logout (Client-Server API §Device management, §Login (logout),
device_management.yaml, logout.yaml; CHECKLIST L-6, U-3, U-7)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    V3,
    assert_error,
    assert_uia_challenge,
    bearer,
    password_auth,
)
from tests.conftest import Homeserver

WHOAMI = f"{V3}/account/whoami"


async def status_of(hs: Homeserver, token: str) -> int:
    return (await hs.client.get(WHOAMI, headers=bearer(token))).status_code


async def device_ids(hs: Homeserver, token: str) -> list[str]:
    r = await hs.client.get(f"{V3}/devices", headers=bearer(token))
    assert r.status_code == 200, r.text
    return sorted(d["device_id"] for d in r.json()["devices"])


@pytest.fixture
async def three(hs: Homeserver) -> list[dict[str, Any]]:
    """alice with three sessions: registration (DEV_A), and logins DEV_B and DEV_C."""
    a = await hs.register("alice", device_id="DEV_A", initial_device_display_name="Phone")
    b = await hs.login("alice", device_id="DEV_B")
    c = await hs.login("alice", device_id="DEV_C")
    return [a, b, c]


# --- listing, reading, renaming -------------------------------------------------------------


async def test_list_devices(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    r = await hs.client.get(f"{V3}/devices", headers=bearer(three[0]["access_token"]))
    assert r.status_code == 200
    devices = r.json()["devices"]
    assert sorted(d["device_id"] for d in devices) == ["DEV_A", "DEV_B", "DEV_C"]
    by_id = {d["device_id"]: d for d in devices}
    assert by_id["DEV_A"]["display_name"] == "Phone"
    for d in devices:
        if "last_seen_ts" in d:
            assert isinstance(d["last_seen_ts"], int)
        if "last_seen_ip" in d:
            assert isinstance(d["last_seen_ip"], str)


async def test_devices_are_per_user(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    bob = await hs.register("bob", device_id="BOBDEV")
    assert await device_ids(hs, bob["access_token"]) == ["BOBDEV"]
    r = await hs.client.get(f"{V3}/devices/DEV_A", headers=bearer(bob["access_token"]))
    assert_error(r, 404, "M_NOT_FOUND")
    r = await hs.client.put(f"{V3}/devices/DEV_A", headers=bearer(bob["access_token"]),
                            json={"display_name": "stolen"})
    assert_error(r, 404, "M_NOT_FOUND")
    r = await hs.client.get(f"{V3}/devices/DEV_A", headers=bearer(three[0]["access_token"]))
    assert r.json()["display_name"] == "Phone"


async def test_get_device(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    r = await hs.client.get(f"{V3}/devices/DEV_B", headers=bearer(three[0]["access_token"]))
    assert r.status_code == 200
    assert r.json()["device_id"] == "DEV_B"


async def test_get_unknown_device(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    r = await hs.client.get(f"{V3}/devices/NOPE", headers=bearer(three[0]["access_token"]))
    assert_error(r, 404, "M_NOT_FOUND")


async def test_rename_device(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    token = three[0]["access_token"]
    r = await hs.client.put(f"{V3}/devices/DEV_B", headers=bearer(token),
                            json={"display_name": "Work laptop"})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    r = await hs.client.get(f"{V3}/devices/DEV_B", headers=bearer(token))
    assert r.json()["display_name"] == "Work laptop"
    r = await hs.client.get(f"{V3}/devices", headers=bearer(token))
    by_id = {d["device_id"]: d for d in r.json()["devices"]}
    assert by_id["DEV_B"]["display_name"] == "Work laptop"
    assert by_id["DEV_A"]["display_name"] == "Phone"


async def test_rename_with_empty_body_keeps_name(hs: Homeserver,
                                                 three: list[dict[str, Any]]) -> None:
    token = three[0]["access_token"]
    r = await hs.client.put(f"{V3}/devices/DEV_A", headers=bearer(token), json={})
    assert r.status_code == 200
    r = await hs.client.get(f"{V3}/devices/DEV_A", headers=bearer(token))
    assert r.json()["display_name"] == "Phone"


async def test_rename_unknown_device_is_404(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    r = await hs.client.put(f"{V3}/devices/NOPE", headers=bearer(three[0]["access_token"]),
                            json={"display_name": "x"})
    assert_error(r, 404, "M_NOT_FOUND")
    r = await hs.client.get(f"{V3}/devices/NOPE", headers=bearer(three[0]["access_token"]))
    assert_error(r, 404, "M_NOT_FOUND")


async def test_rename_with_too_long_name(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    r = await hs.client.put(f"{V3}/devices/DEV_B", headers=bearer(three[0]["access_token"]),
                            json={"display_name": "n" * 600})
    assert_error(r, 400)


async def test_display_name_with_nul_character(hs: Homeserver,
                                               three: list[dict[str, Any]]) -> None:
    token = three[0]["access_token"]
    r = await hs.client.put(f"{V3}/devices/DEV_B", headers=bearer(token),
                            json={"display_name": "a\u0000b"})
    if r.status_code == 200:
        r = await hs.client.get(f"{V3}/devices/DEV_B", headers=bearer(token))
        assert r.json()["display_name"] == "a\u0000b"
    else:
        assert_error(r, 400)
    assert (await hs.client.get(WHOAMI, headers=bearer(token))).status_code == 200


async def test_initial_display_name_with_nul_character(hs: Homeserver) -> None:
    await hs.register("nul")
    r = await hs.client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "nul"},
        "password": "correct horse battery", "initial_device_display_name": "x\u0000y"})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert_error(r, 400)


async def test_devices_need_auth(hs: Homeserver) -> None:
    assert_error(await hs.client.get(f"{V3}/devices"), 401, "M_MISSING_TOKEN")
    assert_error(await hs.client.get(f"{V3}/devices/X"), 401, "M_MISSING_TOKEN")
    assert_error(await hs.client.put(f"{V3}/devices/X", json={}), 401, "M_MISSING_TOKEN")
    assert_error(await hs.client.request("DELETE", f"{V3}/devices/X", json={}), 401,
                 "M_MISSING_TOKEN")


# --- DELETE /devices/{deviceId} (UIA) -------------------------------------------------------


async def test_delete_device_with_uia(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    token = three[0]["access_token"]
    url = f"{V3}/devices/DEV_B"
    r = await hs.client.request("DELETE", url, headers=bearer(token), json={})
    body = assert_uia_challenge(r, stages=["m.login.password"])
    session = body["session"]
    assert "errcode" not in body
    # Nothing happened yet.
    assert await status_of(hs, three[1]["access_token"]) == 200

    r = await hs.client.request("DELETE", url, headers=bearer(token),
                                json={"auth": password_auth("alice", "wrong password", session)})
    body = assert_uia_challenge(r, stages=["m.login.password"])
    assert body["errcode"] == "M_FORBIDDEN"
    assert isinstance(body["error"], str)
    assert body["session"] == session
    assert await status_of(hs, three[1]["access_token"]) == 200

    r = await hs.client.request("DELETE", url, headers=bearer(token),
                                json={"auth": password_auth("alice", session=session)})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert_error(await hs.client.get(WHOAMI, headers=bearer(three[1]["access_token"])), 401,
                 "M_UNKNOWN_TOKEN")
    assert await device_ids(hs, token) == ["DEV_A", "DEV_C"]
    assert await status_of(hs, three[2]["access_token"]) == 200


async def test_delete_device_without_body_is_challenge(hs: Homeserver,
                                                       three: list[dict[str, Any]]) -> None:
    r = await hs.client.request("DELETE", f"{V3}/devices/DEV_B",
                                headers=bearer(three[0]["access_token"]))
    assert_uia_challenge(r, stages=["m.login.password"])


async def test_delete_device_password_of_other_user(hs: Homeserver,
                                                    three: list[dict[str, Any]]) -> None:
    await hs.register("mallory", password="mallory password")
    r = await hs.client.request("DELETE", f"{V3}/devices/DEV_B",
                                headers=bearer(three[0]["access_token"]),
                                json={"auth": password_auth("mallory", "mallory password")})
    body = assert_uia_challenge(r)
    assert body["errcode"] == "M_FORBIDDEN"
    assert await status_of(hs, three[1]["access_token"]) == 200


async def test_delete_own_current_device(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    token = three[0]["access_token"]
    r = await hs.client.request("DELETE", f"{V3}/devices/DEV_A", headers=bearer(token),
                                json={"auth": password_auth("alice")})
    assert r.status_code == 200, r.text
    assert_error(await hs.client.get(WHOAMI, headers=bearer(token)), 401, "M_UNKNOWN_TOKEN")


async def test_delete_session_bound_to_the_device(hs: Homeserver,
                                                  three: list[dict[str, Any]]) -> None:
    """A UIA session opened to delete DEV_B cannot be spent deleting DEV_C."""
    token = three[0]["access_token"]
    r = await hs.client.request("DELETE", f"{V3}/devices/DEV_B", headers=bearer(token), json={})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.request("DELETE", f"{V3}/devices/DEV_C", headers=bearer(token),
                                json={"auth": password_auth("alice", session=session)})
    assert_error(r, 403, "M_FORBIDDEN")
    assert await status_of(hs, three[2]["access_token"]) == 200


async def test_uia_session_of_other_user_is_refused(hs: Homeserver,
                                                    three: list[dict[str, Any]]) -> None:
    bob = await hs.register("bob")
    r = await hs.client.request("DELETE", f"{V3}/devices/DEV_B",
                                headers=bearer(three[0]["access_token"]), json={})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.request("DELETE", f"{V3}/devices/DEV_B",
                                headers=bearer(bob["access_token"]),
                                json={"auth": password_auth("bob", session=session)})
    assert_error(r, 403, "M_FORBIDDEN")
    assert await status_of(hs, three[1]["access_token"]) == 200


# --- POST /delete_devices -------------------------------------------------------------------


async def test_delete_devices(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    token = three[0]["access_token"]
    body = {"devices": ["DEV_B", "DEV_C", "NOT_A_DEVICE"]}
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(token), json=body)
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]
    assert await device_ids(hs, token) == ["DEV_A", "DEV_B", "DEV_C"]
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(token),
                             json={**body, "auth": password_auth("alice", session=session)})
    assert r.status_code == 200, r.text
    assert r.json() == {}
    assert await device_ids(hs, token) == ["DEV_A"]
    for gone in three[1:]:
        assert_error(await hs.client.get(WHOAMI, headers=bearer(gone["access_token"])), 401,
                     "M_UNKNOWN_TOKEN")


async def test_delete_devices_changed_list_is_forbidden(hs: Homeserver,
                                                        three: list[dict[str, Any]]) -> None:
    token = three[0]["access_token"]
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(token),
                             json={"devices": ["DEV_B"]})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(token), json={
        "devices": ["DEV_B", "DEV_C"], "auth": password_auth("alice", session=session)})
    assert_error(r, 403, "M_FORBIDDEN")
    assert await device_ids(hs, token) == ["DEV_A", "DEV_B", "DEV_C"]


async def test_delete_devices_requires_list(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(three[0]["access_token"]),
                             json={"devices": "DEV_B"})
    assert_error(r, 400, "M_BAD_JSON")


async def test_delete_devices_of_other_user_untouched(hs: Homeserver,
                                                      three: list[dict[str, Any]]) -> None:
    bob = await hs.register("bob", device_id="BOBDEV")
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(three[0]["access_token"]),
                             json={"devices": ["BOBDEV"], "auth": password_auth("alice")})
    assert r.status_code == 200
    assert await status_of(hs, bob["access_token"]) == 200


# --- logout (L-6) ---------------------------------------------------------------------------


async def test_logout_deletes_device(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    r = await hs.client.post(f"{V3}/logout", headers=bearer(three[1]["access_token"]))
    assert r.status_code == 200
    assert r.json() == {}
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(three[1]["access_token"])),
                        401, "M_UNKNOWN_TOKEN")
    assert body.get("soft_logout", False) is False
    assert await device_ids(hs, three[0]["access_token"]) == ["DEV_A", "DEV_C"]
    assert await status_of(hs, three[2]["access_token"]) == 200


async def test_logout_twice(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    token = three[1]["access_token"]
    assert (await hs.client.post(f"{V3}/logout", headers=bearer(token))).status_code == 200
    assert_error(await hs.client.post(f"{V3}/logout", headers=bearer(token)), 401,
                 "M_UNKNOWN_TOKEN")


async def test_logout_all(hs: Homeserver, three: list[dict[str, Any]]) -> None:
    bob = await hs.register("bob")
    r = await hs.client.post(f"{V3}/logout/all", headers=bearer(three[2]["access_token"]))
    assert r.status_code == 200
    assert r.json() == {}
    for session in three:
        assert_error(await hs.client.get(WHOAMI, headers=bearer(session["access_token"])), 401,
                     "M_UNKNOWN_TOKEN")
    assert await status_of(hs, bob["access_token"]) == 200
    fresh = await hs.login("alice")
    assert await device_ids(hs, fresh["access_token"]) == [fresh["device_id"]]


async def test_logout_needs_token(hs: Homeserver) -> None:
    assert_error(await hs.client.post(f"{V3}/logout"), 401, "M_MISSING_TOKEN")
    assert_error(await hs.client.post(f"{V3}/logout/all"), 401, "M_MISSING_TOKEN")
