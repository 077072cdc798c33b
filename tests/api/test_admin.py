"""Account moderation: locking and suspension (Client-Server API §Account moderation,
admin.yaml, §Capabilities negotiation; CHECKLIST AU-6, AU-7, AU-8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import (
    PASSWORD,
    V1,
    V3,
    assert_error,
    bearer,
    password_auth,
    uid,
)
from tests.conftest import Homeserver

WHOAMI = f"{V3}/account/whoami"


def lock_url(user_id: str) -> str:
    return f"{V1}/admin/lock/{user_id}"


def suspend_url(user_id: str) -> str:
    return f"{V1}/admin/suspend/{user_id}"


@pytest.fixture
async def admin(hs: Homeserver) -> str:
    await hs.app.accounts.register_offline("admin", "password123", admin=True)
    return str((await hs.login("admin", "password123"))["access_token"])


@pytest.fixture
async def user(hs: Homeserver) -> dict[str, Any]:
    return await hs.register("target")


async def set_flag(hs: Homeserver, token: str, url: str, key: str, value: bool) -> None:
    r = await hs.client.put(url, headers=bearer(token), json={key: value})
    assert r.status_code == 200, r.text
    assert r.json() == {key: value}


# --- authorisation --------------------------------------------------------------------------


@pytest.mark.parametrize("target", [uid("target"), uid("nosuchuser"), "@x:elsewhere.example",
                                    "not-a-user-id"])
@pytest.mark.parametrize(("kind", "key"), [("lock", "locked"), ("suspend", "suspended")])
async def test_non_admin_is_forbidden(hs: Homeserver, user: dict[str, Any], target: str,
                                      kind: str, key: str) -> None:
    url = f"{V1}/admin/{kind}/{target}"
    token = user["access_token"]
    assert_error(await hs.client.get(url, headers=bearer(token)), 403, "M_FORBIDDEN")
    assert_error(await hs.client.put(url, headers=bearer(token), json={key: True}), 403,
                 "M_FORBIDDEN")
    # Nothing changed.
    assert (await hs.client.get(WHOAMI, headers=bearer(token))).status_code == 200


async def test_admin_endpoints_need_token(hs: Homeserver) -> None:
    assert_error(await hs.client.get(lock_url(uid("x"))), 401, "M_MISSING_TOKEN")
    assert_error(await hs.client.put(suspend_url(uid("x")), json={"suspended": True}), 401,
                 "M_MISSING_TOKEN")


async def test_admin_unknown_user_is_404(hs: Homeserver, admin: str) -> None:
    assert_error(await hs.client.get(lock_url(uid("ghost")), headers=bearer(admin)), 404,
                 "M_NOT_FOUND")
    assert_error(await hs.client.put(suspend_url(uid("ghost")), headers=bearer(admin),
                                     json={"suspended": True}), 404, "M_NOT_FOUND")


@pytest.mark.parametrize("target", ["@someone:other.example", "not-a-user-id"])
async def test_admin_remote_or_invalid_user_is_400(hs: Homeserver, admin: str,
                                                   target: str) -> None:
    body = assert_error(await hs.client.get(lock_url(target), headers=bearer(admin)), 400)
    assert body["errcode"] in ("M_INVALID_PARAM", "M_UNKNOWN")


async def test_admin_bad_body(hs: Homeserver, admin: str, user: dict[str, Any]) -> None:
    r = await hs.client.put(lock_url(uid("target")), headers=bearer(admin),
                            json={"locked": "yes"})
    assert_error(r, 400, "M_BAD_JSON")
    r = await hs.client.put(lock_url(uid("target")), headers=bearer(admin), json={})
    body = assert_error(r, 400)
    assert body["errcode"] in ("M_BAD_JSON", "M_MISSING_PARAM")


# --- locking (AU-7) -------------------------------------------------------------------------


async def test_lock_and_unlock(hs: Homeserver, admin: str, user: dict[str, Any]) -> None:
    url = lock_url(uid("target"))
    token = user["access_token"]
    assert (await hs.client.get(WHOAMI, headers=bearer(token))).status_code == 200
    r = await hs.client.get(url, headers=bearer(admin))
    assert r.status_code == 200 and r.json() == {"locked": False}

    await set_flag(hs, admin, url, "locked", True)
    assert (await hs.client.get(url, headers=bearer(admin))).json() == {"locked": True}
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(token)), 401,
                        "M_USER_LOCKED")
    assert body["soft_logout"] is True
    body = assert_error(await hs.client.get(f"{V3}/devices", headers=bearer(token)), 401,
                        "M_USER_LOCKED")
    assert body["soft_logout"] is True

    await set_flag(hs, admin, url, "locked", False)
    assert (await hs.client.get(url, headers=bearer(admin))).json() == {"locked": False}
    # The token was never invalidated: it works again.
    r = await hs.client.get(WHOAMI, headers=bearer(token))
    assert r.status_code == 200
    assert r.json()["user_id"] == uid("target")


async def test_locked_user_can_log_out(hs: Homeserver, admin: str, user: dict[str, Any]) -> None:
    other = await hs.login("target")
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    r = await hs.client.post(f"{V3}/logout", headers=bearer(user["access_token"]))
    assert r.status_code == 200, r.text
    body = assert_error(await hs.client.get(WHOAMI, headers=bearer(user["access_token"])), 401,
                        "M_UNKNOWN_TOKEN")
    assert body.get("soft_logout", False) is False
    # The other session is still merely locked.
    assert_error(await hs.client.get(WHOAMI, headers=bearer(other["access_token"])), 401,
                 "M_USER_LOCKED")
    r = await hs.client.post(f"{V3}/logout/all", headers=bearer(other["access_token"]))
    assert r.status_code == 200, r.text
    assert_error(await hs.client.get(WHOAMI, headers=bearer(other["access_token"])), 401,
                 "M_UNKNOWN_TOKEN")


async def test_locked_user_cannot_log_in(hs: Homeserver, admin: str,
                                         user: dict[str, Any]) -> None:
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    r = await hs.client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "target"},
        "password": PASSWORD})
    body = assert_error(r, r.status_code)
    assert r.status_code in (401, 403)
    assert body["errcode"] in ("M_USER_LOCKED", "M_FORBIDDEN")
    await set_flag(hs, admin, lock_url(uid("target")), "locked", False)
    assert (await hs.login("target"))["user_id"] == uid("target")


async def test_locked_user_cannot_use_uia_endpoints(hs: Homeserver, admin: str,
                                                    user: dict[str, Any]) -> None:
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(user["access_token"]),
                             json={"devices": [user["device_id"]],
                                   "auth": password_auth("target")})
    assert_error(r, 401, "M_USER_LOCKED")
    await set_flag(hs, admin, lock_url(uid("target")), "locked", False)
    assert (await hs.client.get(WHOAMI, headers=bearer(user["access_token"]))).status_code == 200


async def test_lock_applies_to_every_session(hs: Homeserver, admin: str,
                                             user: dict[str, Any]) -> None:
    second = await hs.login("target")
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    for token in (user["access_token"], second["access_token"]):
        assert_error(await hs.client.get(WHOAMI, headers=bearer(token)), 401, "M_USER_LOCKED")


async def test_locking_one_user_leaves_others(hs: Homeserver, admin: str,
                                              user: dict[str, Any]) -> None:
    bystander = await hs.register("bystander")
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    assert (await hs.client.get(WHOAMI, headers=bearer(bystander["access_token"]))
            ).status_code == 200
    r = await hs.client.get(lock_url(uid("bystander")), headers=bearer(admin))
    assert r.json() == {"locked": False}


async def test_locked_user_cannot_refresh(hs: Homeserver, admin: str) -> None:
    await hs.register("refresher")
    login = await hs.login("refresher", refresh_token=True)
    await set_flag(hs, admin, lock_url(uid("refresher")), "locked", True)
    r = await hs.client.post(f"{V3}/refresh", json={"refresh_token": login["refresh_token"]})
    body = assert_error(r, 401, "M_USER_LOCKED")
    assert body["soft_logout"] is True


async def test_locked_user_cannot_change_password_without_token(
        hs: Homeserver, admin: str, user: dict[str, Any]) -> None:
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    r = await hs.client.post(f"{V3}/account/password", json={
        "new_password": "a different password", "auth": password_auth("target")})
    body = assert_error(r, 401, "M_USER_LOCKED")
    assert body["soft_logout"] is True
    await set_flag(hs, admin, lock_url(uid("target")), "locked", False)
    assert (await hs.client.get(WHOAMI, headers=bearer(user["access_token"]))).status_code == 200
    assert (await hs.login("target"))["user_id"] == uid("target")


async def test_locked_user_cannot_deactivate_without_token(
        hs: Homeserver, admin: str, user: dict[str, Any]) -> None:
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    r = await hs.client.post(f"{V3}/account/deactivate",
                             json={"auth": password_auth("target")})
    body = assert_error(r, 401, "M_USER_LOCKED")
    assert body["soft_logout"] is True
    await set_flag(hs, admin, lock_url(uid("target")), "locked", False)
    assert (await hs.client.get(WHOAMI, headers=bearer(user["access_token"]))).status_code == 200


async def test_locked_user_with_token_cannot_change_password(
        hs: Homeserver, admin: str, user: dict[str, Any]) -> None:
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    r = await hs.client.post(f"{V3}/account/password", headers=bearer(user["access_token"]),
                             json={"new_password": "a different password",
                                   "auth": password_auth("target")})
    body = assert_error(r, 401, "M_USER_LOCKED")
    assert body["soft_logout"] is True


async def test_refresh_works_again_after_unlock(hs: Homeserver, admin: str) -> None:
    await hs.register("refresher")
    login = await hs.login("refresher", refresh_token=True)
    await set_flag(hs, admin, lock_url(uid("refresher")), "locked", True)
    await set_flag(hs, admin, lock_url(uid("refresher")), "locked", False)
    r = await hs.client.post(f"{V3}/refresh", json={"refresh_token": login["refresh_token"]})
    assert r.status_code == 200, r.text
    assert (await hs.client.get(WHOAMI, headers=bearer(r.json()["access_token"]))
            ).status_code == 200


# --- suspension (AU-8) ----------------------------------------------------------------------


async def test_suspend_and_unsuspend(hs: Homeserver, admin: str, user: dict[str, Any]) -> None:
    url = suspend_url(uid("target"))
    token = user["access_token"]
    assert (await hs.client.get(url, headers=bearer(admin))).json() == {"suspended": False}
    await set_flag(hs, admin, url, "suspended", True)
    assert (await hs.client.get(url, headers=bearer(admin))).json() == {"suspended": True}

    # Reading still works.
    r = await hs.client.get(WHOAMI, headers=bearer(token))
    assert r.status_code == 200
    # Removing a contact is forbidden while suspended.
    r = await hs.client.post(f"{V3}/account/3pid/delete", headers=bearer(token),
                             json={"medium": "email", "address": "a@example.org"})
    assert_error(r, 403, "M_USER_SUSPENDED")

    await set_flag(hs, admin, url, "suspended", False)
    assert (await hs.client.get(url, headers=bearer(admin))).json() == {"suspended": False}
    r = await hs.client.post(f"{V3}/account/3pid/delete", headers=bearer(token),
                             json={"medium": "email", "address": "a@example.org"})
    assert r.status_code == 200, r.text


async def test_suspended_user_may_log_in_and_out(hs: Homeserver, admin: str,
                                                 user: dict[str, Any]) -> None:
    await set_flag(hs, admin, suspend_url(uid("target")), "suspended", True)
    login = await hs.login("target")
    assert (await hs.client.get(WHOAMI, headers=bearer(login["access_token"]))).status_code == 200
    r = await hs.client.post(f"{V3}/account/3pid/delete", headers=bearer(login["access_token"]),
                             json={"medium": "email", "address": "a@example.org"})
    assert_error(r, 403, "M_USER_SUSPENDED")
    r = await hs.client.request("DELETE", f"{V3}/devices/{user['device_id']}",
                                headers=bearer(login["access_token"]),
                                json={"auth": password_auth("target")})
    assert r.status_code == 200, r.text
    r = await hs.client.post(f"{V3}/logout", headers=bearer(login["access_token"]))
    assert r.status_code == 200


async def test_suspension_and_lock_are_independent(hs: Homeserver, admin: str,
                                                   user: dict[str, Any]) -> None:
    await set_flag(hs, admin, suspend_url(uid("target")), "suspended", True)
    assert (await hs.client.get(lock_url(uid("target")), headers=bearer(admin))
            ).json() == {"locked": False}
    await set_flag(hs, admin, lock_url(uid("target")), "locked", True)
    await set_flag(hs, admin, suspend_url(uid("target")), "suspended", False)
    assert (await hs.client.get(lock_url(uid("target")), headers=bearer(admin))
            ).json() == {"locked": True}


# --- capabilities ---------------------------------------------------------------------------


async def test_account_moderation_capability_for_admins_only(hs: Homeserver, admin: str,
                                                              user: dict[str, Any]) -> None:
    r = await hs.client.get(f"{V3}/capabilities", headers=bearer(admin))
    assert r.status_code == 200
    assert r.json()["capabilities"]["m.account_moderation"] == {"suspend": True, "lock": True}
    r = await hs.client.get(f"{V3}/capabilities", headers=bearer(user["access_token"]))
    assert r.status_code == 200
    moderation = r.json()["capabilities"].get("m.account_moderation")
    assert moderation is None or moderation == {"suspend": False, "lock": False}
