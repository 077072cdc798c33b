"""Registration (Client-Server API §Account registration, §User-Interactive Authentication
API, registration.yaml, registration_tokens.yaml; CHECKLIST G-1, G-2, G-4, U-1..U-5)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from myelin.config import RegistrationConfig
from tests.api.helpers import (
    PASSWORD,
    V1,
    V3,
    assert_error,
    assert_uia_challenge,
    bearer,
    uid,
)
from tests.conftest import Homeserver

REGISTER = f"{V3}/register"
AVAILABLE = f"{V3}/register/available"
VALIDITY = f"{V1}/register/m.login.registration_token/validity"
LOCALPART = re.compile(r"^[a-z0-9._=\-/+]+$")

TERMS = {"privacy_policy": {"version": "1.0",
                            "en": {"name": "Privacy Policy",
                                   "url": "https://test.local/privacy-1.0.html"}}}


async def whoami(hs: Homeserver, token: str) -> dict[str, Any]:
    r = await hs.client.get(f"{V3}/account/whoami", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def can_login(hs: Homeserver, user: str, password: str = PASSWORD) -> bool:
    r = await hs.client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
        "password": password})
    return r.status_code == 200


def assert_session_restarted(r: Any, old_session: str) -> str:
    """An unknown or expired session is refused: either a plain 400 M_UNKNOWN, or (Myelin's
    choice) a 401 challenge that starts a fresh session and says why. Returns the new
    session, if any."""
    if r.status_code == 400:
        assert_error(r, 400, "M_UNKNOWN")
        return ""
    body = assert_uia_challenge(r)
    assert body["session"] != old_session
    assert body["errcode"] == "M_UNKNOWN"
    assert isinstance(body["error"], str)
    assert not body.get("completed")
    return str(body["session"])


# --- UIA shape and dummy --------------------------------------------------------------------


async def test_first_call_without_auth_is_uia_challenge(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "alice", "password": PASSWORD})
    body = assert_uia_challenge(r, stages=["m.login.dummy"])
    assert body["params"] == {}
    assert "completed" not in body or body["completed"] == []
    # Nothing was created by the challenge.
    r = await hs.client.get(AVAILABLE, params={"username": "alice"})
    assert r.json() == {"available": True}


async def test_dummy_stage_completes_registration(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "alice", "password": PASSWORD})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(REGISTER, json={
        "username": "alice", "password": PASSWORD,
        "auth": {"type": "m.login.dummy", "session": session}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == uid("alice")
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert isinstance(body["device_id"], str) and body["device_id"]
    assert "refresh_token" not in body
    me = await whoami(hs, body["access_token"])
    assert me == {"user_id": uid("alice"), "device_id": body["device_id"], "is_guest": False}
    assert await can_login(hs, "alice")


async def test_session_is_consumed_by_success(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "once", "password": PASSWORD})
    session = assert_uia_challenge(r)["session"]
    body = {"username": "once", "password": PASSWORD,
            "auth": {"type": "m.login.dummy", "session": session}}
    assert (await hs.client.post(REGISTER, json=body)).status_code == 200
    r = await hs.client.post(REGISTER, json={**body, "username": "twice"})
    assert_session_restarted(r, session)
    assert (await hs.client.get(AVAILABLE, params={"username": "twice"})).status_code == 200


async def test_auth_without_type_and_session_is_challenge(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "noauth", "password": PASSWORD,
                                             "auth": {}})
    assert_uia_challenge(r)


async def test_unknown_stage_type_is_401_with_error(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "badstage", "password": PASSWORD})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(REGISTER, json={
        "username": "badstage", "password": PASSWORD,
        "auth": {"type": "m.login.recaptcha", "session": session, "response": "x"}})
    body = assert_uia_challenge(r)
    assert isinstance(body["errcode"], str)
    assert body["session"] == session
    assert (await hs.client.get(AVAILABLE, params={"username": "badstage"})).status_code == 200


async def test_no_username_generates_valid_localpart(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"password": PASSWORD,
                                             "auth": {"type": "m.login.dummy"}})
    assert r.status_code == 200, r.text
    user_id = r.json()["user_id"]
    localpart, server = user_id[1:].split(":", 1)
    assert server == "test.local"
    assert LOCALPART.match(localpart), user_id
    assert (await whoami(hs, r.json()["access_token"]))["user_id"] == user_id


async def test_missing_password_is_refused(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "nopass",
                                             "auth": {"type": "m.login.dummy"}})
    assert_error(r, 400, "M_MISSING_PARAM")
    assert (await hs.client.get(AVAILABLE, params={"username": "nopass"})).status_code == 200


# --- checks before UIA ----------------------------------------------------------------------


async def test_user_in_use_before_uia(hs: Homeserver) -> None:
    await hs.register("taken")
    r = await hs.client.post(REGISTER, json={"username": "taken", "password": PASSWORD})
    assert_error(r, 400, "M_USER_IN_USE")


async def test_user_in_use_case_insensitively(hs: Homeserver) -> None:
    await hs.register("casey")
    r = await hs.client.post(REGISTER, json={"username": "CASEY", "password": PASSWORD})
    assert_error(r, 400, "M_USER_IN_USE")


@pytest.mark.parametrize("username", [
    "bad name", "bad!name", "émile", "a:b", "@alice", "", "x" * 260, "_reserved", "12345",
])
async def test_invalid_username_before_uia(hs: Homeserver, username: str) -> None:
    r = await hs.client.post(REGISTER, json={"username": username, "password": PASSWORD})
    assert_error(r, 400, "M_INVALID_USERNAME")


async def test_upper_case_username_is_lower_cased(hs: Homeserver) -> None:
    reg = await hs.register("MixedCase")
    assert reg["user_id"] == uid("mixedcase")
    assert (await whoami(hs, reg["access_token"]))["user_id"] == uid("mixedcase")
    assert await can_login(hs, "mixedcase")
    assert await can_login(hs, "MIXEDCASE")


@pytest.mark.parametrize("password", ["short", "1234567", ""])
async def test_weak_password(hs: Homeserver, password: str) -> None:
    r = await hs.client.post(REGISTER, json={"username": "weak", "password": password,
                                             "auth": {"type": "m.login.dummy"}})
    assert_error(r, 400, "M_WEAK_PASSWORD")
    assert (await hs.client.get(AVAILABLE, params={"username": "weak"})).status_code == 200


async def test_too_long_password(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "longpw", "password": "p" * 513,
                                             "auth": {"type": "m.login.dummy"}})
    body = assert_error(r, 400)
    assert body["errcode"] in ("M_INVALID_PARAM", "M_WEAK_PASSWORD")
    assert (await hs.client.get(AVAILABLE, params={"username": "longpw"})).status_code == 200


async def test_password_at_max_length_is_accepted(hs: Homeserver) -> None:
    reg = await hs.register("maxpw", password="p" * 512)
    assert reg["user_id"] == uid("maxpw")
    assert await can_login(hs, "maxpw", "p" * 512)


async def test_registration_disabled(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(registration=RegistrationConfig(enabled=False))
    r = await hs.client.post(REGISTER, json={"username": "nobody", "password": PASSWORD,
                                             "auth": {"type": "m.login.dummy"}})
    assert_error(r, 403, "M_FORBIDDEN")
    r = await hs.client.post(REGISTER, json={"username": "nobody", "password": PASSWORD})
    assert_error(r, 403, "M_FORBIDDEN")


# --- options of the request -----------------------------------------------------------------


async def test_inhibit_login(hs: Homeserver) -> None:
    reg = await hs.register("inhibited", inhibit_login=True)
    assert reg["user_id"] == uid("inhibited")
    assert "access_token" not in reg
    assert "device_id" not in reg
    login = await hs.login("inhibited")
    r = await hs.client.get(f"{V3}/devices", headers=bearer(login["access_token"]))
    assert [d["device_id"] for d in r.json()["devices"]] == [login["device_id"]]


async def test_device_id_and_display_name_honoured(hs: Homeserver) -> None:
    reg = await hs.register("devreg", device_id="MYDEVICE",
                            initial_device_display_name="Alice's phone")
    assert reg["device_id"] == "MYDEVICE"
    assert (await whoami(hs, reg["access_token"]))["device_id"] == "MYDEVICE"
    r = await hs.client.get(f"{V3}/devices/MYDEVICE", headers=bearer(reg["access_token"]))
    assert r.status_code == 200
    assert r.json()["device_id"] == "MYDEVICE"
    assert r.json()["display_name"] == "Alice's phone"


async def test_refresh_token_on_registration(hs: Homeserver) -> None:
    reg = await hs.register("refreg", refresh_token=True)
    assert isinstance(reg["refresh_token"], str) and reg["refresh_token"]
    assert isinstance(reg["expires_in_ms"], int) and reg["expires_in_ms"] > 0
    r = await hs.client.post(f"{V3}/refresh", json={"refresh_token": reg["refresh_token"]})
    assert r.status_code == 200, r.text


async def test_unknown_kind(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, params={"kind": "admin"},
                             json={"username": "k", "password": PASSWORD})
    assert_error(r, 400, "M_INVALID_PARAM")


# --- /register/available --------------------------------------------------------------------


async def test_available(hs: Homeserver) -> None:
    r = await hs.client.get(AVAILABLE, params={"username": "freename"})
    assert r.status_code == 200
    assert r.json() == {"available": True}


async def test_available_taken(hs: Homeserver) -> None:
    await hs.register("takenname")
    assert_error(await hs.client.get(AVAILABLE, params={"username": "takenname"}), 400,
                 "M_USER_IN_USE")
    assert_error(await hs.client.get(AVAILABLE, params={"username": "TakenName"}), 400,
                 "M_USER_IN_USE")


@pytest.mark.parametrize("username", ["bad name", "_hidden", "007", "x" * 300])
async def test_available_invalid(hs: Homeserver, username: str) -> None:
    assert_error(await hs.client.get(AVAILABLE, params={"username": username}), 400,
                 "M_INVALID_USERNAME")


async def test_available_missing_param(hs: Homeserver) -> None:
    assert_error(await hs.client.get(AVAILABLE), 400, "M_MISSING_PARAM")


# --- guests (G-2) ---------------------------------------------------------------------------


async def test_guests_disabled(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, params={"kind": "guest"}, json={})
    assert_error(r, 403, "M_FORBIDDEN")


@pytest.fixture
async def guest_hs(server_factory: Callable[..., Any]) -> Homeserver:
    return await server_factory(  # type: ignore[no-any-return]
        registration=RegistrationConfig(enabled=True, allow_guests=True))


async def test_guest_registration(guest_hs: Homeserver) -> None:
    hs = guest_hs
    r = await hs.client.post(REGISTER, params={"kind": "guest"}, json={
        "username": "wantedname", "password": PASSWORD, "device_id": "GUESTDEV",
        "initial_device_display_name": "Guest browser", "inhibit_login": True})
    assert r.status_code == 200, r.text
    body = r.json()
    # Everything but initial_device_display_name is ignored.
    assert body["user_id"] != uid("wantedname")
    assert body["user_id"].endswith(":test.local")
    assert "access_token" in body
    assert body["device_id"] != "GUESTDEV"
    me = await whoami(hs, body["access_token"])
    assert me["is_guest"] is True
    assert me["user_id"] == body["user_id"]
    r = await hs.client.get(f"{V3}/devices/{body['device_id']}",
                            headers=bearer(body["access_token"]))
    assert r.status_code == 200
    assert r.json()["display_name"] == "Guest browser"
    # The name the guest asked for was not taken, and the password does not log in.
    assert (await hs.client.get(AVAILABLE, params={"username": "wantedname"})).status_code == 200
    assert not await can_login(hs, "wantedname")


async def test_guest_registration_needs_no_uia(guest_hs: Homeserver) -> None:
    r1 = await guest_hs.client.post(REGISTER, params={"kind": "guest"}, json={})
    r2 = await guest_hs.client.post(REGISTER, params={"kind": "guest"})
    assert r1.status_code == 200 and r2.status_code == 200
    assert r1.json()["user_id"] != r2.json()["user_id"]


async def test_guest_cannot_use_non_guest_endpoints(guest_hs: Homeserver) -> None:
    r = await guest_hs.client.post(REGISTER, params={"kind": "guest"}, json={})
    token = r.json()["access_token"]
    r = await guest_hs.client.post(f"{V3}/account/password", headers=bearer(token),
                                   json={"new_password": "another password"})
    assert_error(r, 403, "M_GUEST_ACCESS_FORBIDDEN")
    r = await guest_hs.client.post(f"{V3}/logout", headers=bearer(token))
    assert r.status_code == 200


# --- registration tokens (m.login.registration_token) ---------------------------------------


@pytest.fixture
async def token_hs(server_factory: Callable[..., Any]) -> Homeserver:
    return await server_factory(  # type: ignore[no-any-return]
        registration=RegistrationConfig(enabled=True, require_token=True))


async def test_registration_token_flow(token_hs: Homeserver) -> None:
    hs = token_hs
    await hs.app.accounts.create_registration_token("tok", uses_allowed=1, expiry_ts=None)
    r = await hs.client.post(REGISTER, json={"username": "withtoken", "password": PASSWORD})
    session = assert_uia_challenge(r, stages=["m.login.registration_token"])["session"]
    r = await hs.client.post(REGISTER, json={
        "username": "withtoken", "password": PASSWORD,
        "auth": {"type": "m.login.registration_token", "token": "tok", "session": session}})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == uid("withtoken")


async def test_dummy_not_accepted_when_token_required(token_hs: Homeserver) -> None:
    r = await token_hs.client.post(REGISTER, json={"username": "sneaky", "password": PASSWORD,
                                                   "auth": {"type": "m.login.dummy"}})
    body = assert_uia_challenge(r, stages=["m.login.registration_token"])
    assert "errcode" in body
    r = await token_hs.client.get(AVAILABLE, params={"username": "sneaky"})
    assert r.json() == {"available": True}


async def test_wrong_registration_token(token_hs: Homeserver) -> None:
    hs = token_hs
    await hs.app.accounts.create_registration_token("right", uses_allowed=None, expiry_ts=None)
    r = await hs.client.post(REGISTER, json={"username": "wrongtok", "password": PASSWORD})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(REGISTER, json={
        "username": "wrongtok", "password": PASSWORD,
        "auth": {"type": "m.login.registration_token", "token": "wrong", "session": session}})
    body = assert_uia_challenge(r)
    assert body["errcode"] == "M_FORBIDDEN"
    assert body["session"] == session
    # The same session can still be completed with the right token.
    r = await hs.client.post(REGISTER, json={
        "username": "wrongtok", "password": PASSWORD,
        "auth": {"type": "m.login.registration_token", "token": "right", "session": session}})
    assert r.status_code == 200, r.text


async def test_registration_token_validity(token_hs: Homeserver) -> None:
    hs = token_hs
    await hs.app.accounts.create_registration_token("valid1", uses_allowed=1, expiry_ts=None)
    r = await hs.client.get(VALIDITY, params={"token": "valid1"})
    assert r.status_code == 200
    assert r.json() == {"valid": True}
    r = await hs.client.get(VALIDITY, params={"token": "unknown"})
    assert r.status_code == 200
    assert r.json() == {"valid": False}
    r = await hs.client.get(VALIDITY, params={"token": "not a valid token!" * 10})
    assert r.status_code == 200
    assert r.json() == {"valid": False}
    assert_error(await hs.client.get(VALIDITY), 400, "M_MISSING_PARAM")


async def test_registration_token_expiry(token_hs: Homeserver) -> None:
    hs = token_hs
    expiry = hs.clock.time_msec() + 60_000
    await hs.app.accounts.create_registration_token("shortlived", uses_allowed=None,
                                                    expiry_ts=expiry)
    assert (await hs.client.get(VALIDITY, params={"token": "shortlived"})).json()["valid"]
    hs.clock.advance(61)
    assert not (await hs.client.get(VALIDITY, params={"token": "shortlived"})).json()["valid"]


async def test_registration_token_uses_allowed_exhausted(token_hs: Homeserver) -> None:
    hs = token_hs
    await hs.app.accounts.create_registration_token("single", uses_allowed=1, expiry_ts=None)
    r = await hs.client.post(REGISTER, json={
        "username": "first", "password": PASSWORD,
        "auth": {"type": "m.login.registration_token", "token": "single"}})
    assert r.status_code == 200, r.text
    assert (await hs.client.get(VALIDITY, params={"token": "single"})).json() == {"valid": False}
    r = await hs.client.post(REGISTER, json={
        "username": "second", "password": PASSWORD,
        "auth": {"type": "m.login.registration_token", "token": "single"}})
    body = assert_uia_challenge(r)
    assert body["errcode"] == "M_FORBIDDEN"
    assert (await hs.client.get(AVAILABLE, params={"username": "second"})).status_code == 200


async def test_registration_token_uses_allowed_under_concurrency(
        token_hs: Homeserver, monkeypatch: pytest.MonkeyPatch) -> None:
    from myelin.storage.repos import accounts as repo

    original = repo.registration_token_valid

    async def slow_valid(conn: Any, token: str, *, now: int) -> bool:
        # Widen the check-then-increment window so that concurrent sign-ups overlap.
        valid = await original(conn, token, now=now)
        await asyncio.sleep(0.05)
        return valid

    monkeypatch.setattr(repo, "registration_token_valid", slow_valid)
    hs = token_hs
    await hs.app.accounts.create_registration_token("race", uses_allowed=1, expiry_ts=None)
    results = await asyncio.gather(*[hs.client.post(REGISTER, json={
        "username": f"racer{i}", "password": PASSWORD,
        "auth": {"type": "m.login.registration_token", "token": "race"}}) for i in range(6)])
    winners = [r for r in results if r.status_code == 200]
    assert len(winners) == 1, [r.status_code for r in results]
    for r in results:
        assert r.status_code in (200, 401, 403), r.text


async def test_abandoned_registration_does_not_use_token(token_hs: Homeserver) -> None:
    """A token stage completed by a sign-up that never finishes holds no use."""
    hs = token_hs
    await hs.app.accounts.create_registration_token("keep", uses_allowed=1, expiry_ts=None)
    # The token stage passes but the registration fails afterwards (too short a password is
    # caught before UIA, so use a missing password, which is only checked after it).
    r = await hs.client.post(REGISTER, json={
        "username": "abandon", "auth": {"type": "m.login.registration_token", "token": "keep"}})
    assert_error(r, 400, "M_MISSING_PARAM")
    assert (await hs.client.get(VALIDITY, params={"token": "keep"})).json() == {"valid": True}


async def test_registration_token_validity_when_registration_disabled(
        server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(registration=RegistrationConfig(enabled=False))
    await hs.app.accounts.create_registration_token("orphan", uses_allowed=None, expiry_ts=None)
    r = await hs.client.get(VALIDITY, params={"token": "orphan"})
    assert_error(r, 403, "M_FORBIDDEN")


# --- terms (m.login.terms) ------------------------------------------------------------------


@pytest.fixture
async def terms_hs(server_factory: Callable[..., Any]) -> Homeserver:
    return await server_factory(  # type: ignore[no-any-return]
        registration=RegistrationConfig(enabled=True, terms=TERMS))


async def test_terms_flow(terms_hs: Homeserver) -> None:
    hs = terms_hs
    r = await hs.client.post(REGISTER, json={"username": "agreeable", "password": PASSWORD})
    body = assert_uia_challenge(r, stages=["m.login.terms"])
    assert body["params"]["m.login.terms"]["policies"] == TERMS
    r = await hs.client.post(REGISTER, json={
        "username": "agreeable", "password": PASSWORD,
        "auth": {"type": "m.login.terms", "session": body["session"]}})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == uid("agreeable")


async def test_token_then_terms_in_order(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(
        registration=RegistrationConfig(enabled=True, require_token=True, terms=TERMS))
    await hs.app.accounts.create_registration_token("both", uses_allowed=None, expiry_ts=None)
    r = await hs.client.post(REGISTER, json={"username": "twostage", "password": PASSWORD})
    body = assert_uia_challenge(r, stages=["m.login.registration_token", "m.login.terms"])
    session = body["session"]
    base = {"username": "twostage", "password": PASSWORD}
    # U-2: out of order.
    r = await hs.client.post(REGISTER, json={
        **base, "auth": {"type": "m.login.terms", "session": session}})
    body = assert_uia_challenge(r)
    assert "errcode" in body
    assert not body.get("completed")
    r = await hs.client.post(REGISTER, json={
        **base, "auth": {"type": "m.login.registration_token", "token": "both",
                         "session": session}})
    body = assert_uia_challenge(r)
    assert body["completed"] == ["m.login.registration_token"]
    assert body["session"] == session
    assert "errcode" not in body
    # U-4: a session-only retry shows what was completed.
    r = await hs.client.post(REGISTER, json={"auth": {"session": session}})
    assert assert_uia_challenge(r)["completed"] == ["m.login.registration_token"]
    r = await hs.client.post(REGISTER, json={
        **base, "auth": {"type": "m.login.terms", "session": session}})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == uid("twostage")


# --- session binding ------------------------------------------------------------------------


async def test_changed_body_during_session_is_forbidden(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "original", "password": PASSWORD})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(REGISTER, json={
        "username": "changed", "password": PASSWORD,
        "auth": {"type": "m.login.dummy", "session": session}})
    assert_error(r, 403, "M_FORBIDDEN")
    for name in ("original", "changed"):
        assert (await hs.client.get(AVAILABLE, params={"username": name})).status_code == 200


async def test_session_only_resubmission_uses_stored_body(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={
        "username": "stored", "password": PASSWORD, "device_id": "STOREDDEV",
        "initial_device_display_name": "Stored name"})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(REGISTER, json={"auth": {"type": "m.login.dummy",
                                                      "session": session}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == uid("stored")
    assert body["device_id"] == "STOREDDEV"
    r = await hs.client.get(f"{V3}/devices/STOREDDEV", headers=bearer(body["access_token"]))
    assert r.json()["display_name"] == "Stored name"
    assert await can_login(hs, "stored")


async def test_session_only_resubmission_rechecks_user_in_use(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "racer", "password": PASSWORD})
    session = assert_uia_challenge(r)["session"]
    await hs.register("racer")
    r = await hs.client.post(REGISTER, json={"auth": {"type": "m.login.dummy",
                                                      "session": session}})
    assert_error(r, 400, "M_USER_IN_USE")


async def test_unknown_session(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={
        "username": "ghost", "password": PASSWORD,
        "auth": {"type": "m.login.dummy", "session": "no-such-session"}})
    assert_session_restarted(r, "no-such-session")
    assert (await hs.client.get(AVAILABLE, params={"username": "ghost"})).status_code == 200


async def test_expired_session(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "slow", "password": PASSWORD})
    session = assert_uia_challenge(r)["session"]
    hs.clock.advance(16 * 60)
    r = await hs.client.post(REGISTER, json={
        "username": "slow", "password": PASSWORD,
        "auth": {"type": "m.login.dummy", "session": session}})
    fresh = assert_session_restarted(r, session)
    assert (await hs.client.get(AVAILABLE, params={"username": "slow"})).status_code == 200
    if fresh:  # The fresh session works.
        r = await hs.client.post(REGISTER, json={
            "username": "slow", "password": PASSWORD,
            "auth": {"type": "m.login.dummy", "session": fresh}})
        assert r.status_code == 200, r.text


async def test_session_of_another_endpoint_is_refused(hs: Homeserver) -> None:
    reg = await hs.register("owner")
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(reg["access_token"]),
                             json={"devices": []})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(REGISTER, json={
        "username": "hijack", "password": PASSWORD,
        "auth": {"type": "m.login.dummy", "session": session}})
    assert_error(r, 403, "M_FORBIDDEN")
    assert (await hs.client.get(AVAILABLE, params={"username": "hijack"})).status_code == 200


async def test_auth_must_be_object(hs: Homeserver) -> None:
    r = await hs.client.post(REGISTER, json={"username": "x2", "password": PASSWORD,
                                             "auth": "m.login.dummy"})
    assert_error(r, 400, "M_BAD_JSON")
