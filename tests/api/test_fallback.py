"""Web fallbacks: the UIA stage pages and the login page (Client-Server API
§User-Interactive Authentication API → Fallback, §Login Fallback; CHECKLIST U-6, L-5)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from myelin.config import RegistrationConfig
from tests.api.helpers import (
    PASSWORD,
    V3,
    assert_error,
    assert_uia_challenge,
    bearer,
    uid,
)
from tests.conftest import Homeserver

REGISTER = f"{V3}/register"
TERMS = {"tos": {"version": "2.0", "en": {"name": "Terms <of> Service",
                                          "url": "https://test.local/tos?a=1&b=2"}}}


def fallback_url(stage: str) -> str:
    return f"{V3}/auth/{stage}/fallback/web"


def assert_html(r: httpx.Response, status: int = 200) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def assert_form(page: str, session: str) -> None:
    assert re.search(r"<form[^>]*method=[\"']?post", page, re.I), page
    assert re.search(rf"name=[\"']?session[\"']?\s+value=\"{re.escape(session)}\"", page) or \
        re.search(rf"value=\"{re.escape(session)}\"[^>]*name=[\"']?session", page), page


def assert_done(r: httpx.Response) -> str:
    page = assert_html(r)
    assert "window.onAuthDone" in page
    assert re.search(r"postMessage\(\s*[\"']authDone[\"']", page), page
    # A Content-Security-Policy must not block the completion script.
    csp = r.headers.get("content-security-policy")
    if csp is not None:
        scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
        assert scripts
        for script in scripts:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp or "'unsafe-inline'" in csp, csp
    return page


async def start_registration(hs: Homeserver, **body: Any) -> tuple[str, dict[str, Any]]:
    r = await hs.client.post(REGISTER, json=body)
    challenge = assert_uia_challenge(r)
    return challenge["session"], challenge


# --- m.login.dummy --------------------------------------------------------------------------


async def test_dummy_fallback_completes_registration(hs: Homeserver) -> None:
    session, _ = await start_registration(hs, username="webby", password=PASSWORD,
                                          device_id="WEBDEV")
    r = await hs.client.get(fallback_url("m.login.dummy"), params={"session": session})
    assert_form(assert_html(r), session)

    r = await hs.client.post(fallback_url("m.login.dummy"), data={"session": session})
    assert r.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert_done(r)

    r = await hs.client.post(REGISTER, json={"auth": {"session": session}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == uid("webby")
    assert body["device_id"] == "WEBDEV"
    r = await hs.client.get(f"{V3}/account/whoami", headers=bearer(body["access_token"]))
    assert r.json()["user_id"] == uid("webby")


async def test_fallback_page_alone_completes_nothing(hs: Homeserver) -> None:
    session, _ = await start_registration(hs, username="lazy", password=PASSWORD)
    await hs.client.get(fallback_url("m.login.dummy"), params={"session": session})
    r = await hs.client.post(REGISTER, json={"auth": {"session": session}})
    body = assert_uia_challenge(r)
    assert not body.get("completed")
    assert (await hs.client.get(f"{V3}/register/available",
                                params={"username": "lazy"})).status_code == 200


async def test_fallback_session_in_query_on_post(hs: Homeserver) -> None:
    session, _ = await start_registration(hs, username="querypost", password=PASSWORD)
    r = await hs.client.post(fallback_url("m.login.dummy"), params={"session": session},
                             data={})
    assert_done(r)
    r = await hs.client.post(REGISTER, json={"auth": {"session": session}})
    assert r.status_code == 200, r.text


async def test_fallback_unknown_session(hs: Homeserver) -> None:
    r = await hs.client.get(fallback_url("m.login.dummy"), params={"session": "nope"})
    assert r.status_code in (400, 404)
    assert "window.onAuthDone" not in r.text
    r = await hs.client.post(fallback_url("m.login.dummy"), data={"session": "nope"})
    assert "window.onAuthDone" not in r.text


async def test_fallback_reflects_no_markup(hs: Homeserver) -> None:
    evil = '"><script>alert(1)</script>'
    for r in (await hs.client.get(fallback_url("m.login.dummy"), params={"session": evil}),
              await hs.client.post(fallback_url("m.login.dummy"), data={"session": evil})):
        assert "<script>alert(1)</script>" not in r.text


async def test_fallback_missing_session(hs: Homeserver) -> None:
    r = await hs.client.get(fallback_url("m.login.dummy"))
    assert r.status_code == 400


async def test_fallback_unsupported_stage(hs: Homeserver) -> None:
    session, _ = await start_registration(hs, username="recap", password=PASSWORD)
    r = await hs.client.get(fallback_url("m.login.recaptcha"), params={"session": session})
    assert r.status_code == 404
    r = await hs.client.post(fallback_url("m.login.recaptcha"), data={"session": session})
    assert r.status_code == 404
    assert "window.onAuthDone" not in r.text


async def test_fallback_stage_not_in_flow(hs: Homeserver) -> None:
    """A terms page for a session whose only flow is m.login.dummy completes nothing."""
    session, _ = await start_registration(hs, username="offflow", password=PASSWORD)
    r = await hs.client.post(fallback_url("m.login.terms"),
                             data={"session": session, "accept": "yes"})
    assert "window.onAuthDone" not in r.text
    r = await hs.client.post(REGISTER, json={"auth": {"session": session}})
    assert r.status_code == 401


# --- m.login.password for an authenticated operation ----------------------------------------


async def test_password_fallback_for_device_deletion(hs: Homeserver) -> None:
    reg = await hs.register("dora", device_id="MAIN")
    other = await hs.login("dora", device_id="DOOMED")
    url = f"{V3}/devices/DOOMED"
    r = await hs.client.request("DELETE", url, headers=bearer(reg["access_token"]), json={})
    session = assert_uia_challenge(r, stages=["m.login.password"])["session"]

    r = await hs.client.get(fallback_url("m.login.password"), params={"session": session})
    page = assert_html(r)
    assert_form(page, session)
    assert re.search(r"type=[\"']?password", page)

    # A wrong password shows the form again with an error, and completes nothing.
    r = await hs.client.post(fallback_url("m.login.password"),
                             data={"session": session, "password": "wrong password"})
    page = assert_html(r)
    assert "window.onAuthDone" not in page
    assert_form(page, session)
    r = await hs.client.request("DELETE", url, headers=bearer(reg["access_token"]),
                                json={"auth": {"session": session}})
    assert r.status_code == 401

    r = await hs.client.post(fallback_url("m.login.password"),
                             data={"session": session, "password": PASSWORD})
    assert_done(r)
    r = await hs.client.request("DELETE", url, headers=bearer(reg["access_token"]),
                                json={"auth": {"session": session}})
    assert r.status_code == 200, r.text
    assert_error(await hs.client.get(f"{V3}/account/whoami",
                                     headers=bearer(other["access_token"])), 401,
                 "M_UNKNOWN_TOKEN")
    assert (await hs.client.get(f"{V3}/account/whoami",
                                headers=bearer(reg["access_token"]))).status_code == 200


async def test_password_fallback_cannot_name_another_user(hs: Homeserver) -> None:
    """The password page proves the session's owner, whatever user the form claims."""
    reg = await hs.register("owner1")
    await hs.register("intruder", password="intruder password")
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(reg["access_token"]),
                             json={"devices": [reg["device_id"]]})
    session = assert_uia_challenge(r)["session"]
    r = await hs.client.post(fallback_url("m.login.password"), data={
        "session": session, "user": "intruder", "password": "intruder password"})
    assert "window.onAuthDone" not in r.text
    r = await hs.client.post(f"{V3}/delete_devices", headers=bearer(reg["access_token"]),
                             json={"devices": [reg["device_id"]], "auth": {"session": session}})
    assert r.status_code == 401
    assert (await hs.client.get(f"{V3}/account/whoami",
                                headers=bearer(reg["access_token"]))).status_code == 200


# --- registration token and terms pages -----------------------------------------------------


async def test_token_and_terms_fallback(server_factory: Callable[..., Any]) -> None:
    hs: Homeserver = await server_factory(
        registration=RegistrationConfig(enabled=True, require_token=True, terms=TERMS))
    await hs.app.accounts.create_registration_token("webtok", uses_allowed=1, expiry_ts=None)
    session, _ = await start_registration(hs, username="terry", password=PASSWORD)

    page = assert_html(await hs.client.get(fallback_url("m.login.registration_token"),
                                           params={"session": session}))
    assert_form(page, session)
    r = await hs.client.post(fallback_url("m.login.registration_token"),
                             data={"session": session, "token": "badtok"})
    assert "window.onAuthDone" not in r.text
    r = await hs.client.post(fallback_url("m.login.registration_token"),
                             data={"session": session, "token": "webtok"})
    assert_done(r)

    page = assert_html(await hs.client.get(fallback_url("m.login.terms"),
                                           params={"session": session}))
    assert_form(page, session)
    assert "https://test.local/tos?a=1&amp;b=2" in page
    assert "Terms &lt;of&gt; Service" in page
    r = await hs.client.post(fallback_url("m.login.terms"), data={"session": session})
    assert "window.onAuthDone" not in r.text
    r = await hs.client.post(REGISTER, json={"auth": {"session": session}})
    assert assert_uia_challenge(r)["completed"] == ["m.login.registration_token"]

    r = await hs.client.post(fallback_url("m.login.terms"),
                             data={"session": session, "accept": "yes"})
    assert_done(r)
    r = await hs.client.post(REGISTER, json={"auth": {"session": session}})
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == uid("terry")


# --- login fallback (L-5) -------------------------------------------------------------------


async def test_login_fallback_page(hs: Homeserver) -> None:
    r = await hs.client.get("/_matrix/static/client/login/")
    page = assert_html(r)
    m = re.search(r"<script[^>]*src=[\"']([^\"']*login\.js)[\"']", page)
    assert m, page
    src = m.group(1)
    script_url = httpx.URL("http://test.local/_matrix/static/client/login/").join(src)
    r = await hs.client.get(script_url.path)
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    script = r.text
    assert "window.matrixLogin.onLogin" in script
    assert "/_matrix/client/v3/login" in script
    assert "m.login.password" in script
    assert "device_id" in script  # query parameters are forwarded (v1.1)
    # The CSP of the page allows its own script.
    csp = (await hs.client.get("/_matrix/static/client/login/")).headers.get(
        "content-security-policy")
    if csp is not None:
        assert "script-src 'self'" in csp


async def test_login_fallback_accepts_query_parameters(hs: Homeserver) -> None:
    r = await hs.client.get("/_matrix/static/client/login/",
                            params={"device_id": "FALLBACKDEV", "refresh_token": "true"})
    assert_html(r)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_login_fallback_is_get_only(hs: Homeserver, method: str) -> None:
    r = await hs.client.request(method, "/_matrix/static/client/login/")
    assert_error(r, 405, "M_UNRECOGNIZED")
