"""The HTTP edge: unknown paths and methods, JSON bodies, body limits, the error body shape,
CORS and OPTIONS, path parameters (Client-Server API §API Standards, §Standard error
response, §Web Browser Clients; CHECKLIST A-2, A-3, A-4, E-1, E-3, C-1, C-2)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    V1,
    V3,
    assert_error,
    assert_json_response,
    bearer,
    raw_asgi,
)
from tests.conftest import Homeserver


async def assert_still_serving(hs: Homeserver) -> None:
    r = await hs.client.get("/_matrix/client/versions")
    assert r.status_code == 200
    assert "versions" in r.json()


def assert_cors(headers: httpx.Headers | dict[str, str]) -> None:
    """C-2: CORS headers with the recommended values on every response."""
    assert headers["access-control-allow-origin"] == "*"
    methods = {m.strip() for m in headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "PUT", "DELETE", "OPTIONS"} <= methods
    allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
    assert {"x-requested-with", "content-type", "authorization"} <= allowed


# --- E-3: unknown endpoints and methods ---------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/_matrix/client/v3/no_such_endpoint",
    "/_matrix/client/v3/account/whoami/extra",
    "/_matrix/client/v9/account/whoami",
    "/_matrix/nothing",
    "/",
])
async def test_unknown_path_is_404_unrecognized(hs: Homeserver, path: str) -> None:
    r = await hs.client.get(path)
    assert_error(r, 404, "M_UNRECOGNIZED")
    await assert_still_serving(hs)


async def test_unknown_path_needs_no_token(hs: Homeserver) -> None:
    """An unimplemented endpoint is 404 M_UNRECOGNIZED, not 401, even without a token."""
    r = await hs.client.post(f"{V3}/rooms/!a:test.local/no_such_action", json={})
    assert_error(r, 404, "M_UNRECOGNIZED")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"{V3}/register"),
    ("PUT", f"{V3}/login"),
    ("DELETE", f"{V3}/account/whoami"),
    ("POST", f"{V3}/devices/SOMEDEVICE"),
    ("POST", f"{V1}/admin/lock/@a:test.local"),
    ("GET", f"{V3}/logout"),
])
async def test_wrong_method_is_405_unrecognized(hs: Homeserver, method: str, path: str) -> None:
    r = await hs.client.request(method, path)
    assert_error(r, 405, "M_UNRECOGNIZED")
    await assert_still_serving(hs)


async def test_legacy_r0_prefix_is_routed(hs: Homeserver) -> None:
    r = await hs.client.get("/_matrix/client/r0/login")
    assert r.status_code == 200
    assert any(f["type"] == "m.login.password" for f in r.json()["flows"])


async def test_head_is_served_like_get_without_body(hs: Homeserver) -> None:
    r = await hs.client.head("/_matrix/client/versions")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-type"].startswith("application/json")


# --- request bodies ------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b"{not json",
    b"{\"type\": \"m.login.password\",}",
    b"\xff\xfe{}",
    b"{\"type\": \"m.login.password\"",
])
async def test_malformed_json_is_not_json(hs: Homeserver, body: bytes) -> None:
    r = await hs.client.post(f"{V3}/login", content=body,
                             headers={"Content-Type": "application/json"})
    assert_error(r, 400, "M_NOT_JSON")
    await assert_still_serving(hs)


@pytest.mark.parametrize("path", [f"{V3}/login", f"{V3}/register", f"{V3}/account/3pid"])
async def test_malformed_json_on_dict_endpoints(hs: Homeserver, path: str) -> None:
    token = (await hs.register("jsonuser"))["access_token"]
    r = await hs.client.post(path, content=b"{oops", headers=bearer(token))
    assert_error(r, 400, "M_NOT_JSON")


@pytest.mark.parametrize("body", [
    b"{\"type\": \"m.login.password\", \"user\": \"\xff\"}",
    b"{\"type\": \"\xc3\"}",
])
async def test_invalid_utf8_body_is_not_json(hs: Homeserver, body: bytes) -> None:
    r = await hs.client.post(f"{V3}/login", content=body,
                             headers={"Content-Type": "application/json"})
    assert_error(r, 400, "M_NOT_JSON")


async def test_invalid_utf8_body_on_dict_endpoint_is_not_json(hs: Homeserver) -> None:
    token = (await hs.register("utf8user"))["access_token"]
    r = await hs.client.post(f"{V3}/account/3pid", content=b"{\"x\": \"\xff\"}",
                             headers=bearer(token))
    assert_error(r, 400, "M_NOT_JSON")


async def test_invalid_utf8_body_server_keeps_serving(hs: Homeserver) -> None:
    r = await hs.client.post(f"{V3}/login", content=b"{\"type\": \"\xff\"}")
    assert_error(r, 400, "M_NOT_JSON")
    await assert_still_serving(hs)


@pytest.mark.parametrize("body", [b"[]", b"[1, 2]", b"\"string\"", b"42", b"true", b"null"])
async def test_non_object_body_is_bad_json(hs: Homeserver, body: bytes) -> None:
    r = await hs.client.post(f"{V3}/login", content=body,
                             headers={"Content-Type": "application/json"})
    assert_error(r, 400, "M_BAD_JSON")
    await assert_still_serving(hs)


@pytest.mark.parametrize("body", [b"[]", b"\"x\"", b"7"])
async def test_non_object_body_on_dict_endpoint_is_bad_json(hs: Homeserver, body: bytes) -> None:
    token = (await hs.register("arrayuser"))["access_token"]
    r = await hs.client.post(f"{V3}/account/3pid", content=body, headers=bearer(token))
    assert_error(r, 400, "M_BAD_JSON")


@pytest.mark.parametrize("body", [
    {"type": 1},
    {"type": "m.login.password", "identifier": "alice", "password": "x"},
    {"type": "m.login.password", "user": "alice", "password": 12345678},
    {"type": "m.login.password", "user": "alice", "password": "x", "refresh_token": "yes"},
    {"type": "m.login.password", "user": "alice", "password": "x", "device_id": 5},
])
async def test_wrong_field_types_are_bad_json(hs: Homeserver, body: dict[str, Any]) -> None:
    r = await hs.client.post(f"{V3}/login", json=body)
    assert_error(r, 400, "M_BAD_JSON")


async def test_wrong_types_on_register_are_bad_json(hs: Homeserver) -> None:
    r = await hs.client.post(f"{V3}/register", json={"username": 5, "password": "long enough"})
    assert_error(r, 400, "M_BAD_JSON")
    r = await hs.client.post(f"{V3}/register", json={"username": "ok", "password": "long enough",
                                                     "inhibit_login": "no"})
    assert_error(r, 400, "M_BAD_JSON")


async def test_wrong_types_on_authenticated_put_are_bad_json(hs: Homeserver) -> None:
    reg = await hs.register("putuser")
    r = await hs.client.put(f"{V3}/devices/{reg['device_id']}", json={"display_name": 5},
                            headers=bearer(reg["access_token"]))
    assert_error(r, 400, "M_BAD_JSON")


async def test_content_type_is_not_required(hs: Homeserver) -> None:
    """A-2: clients should send application/json, but the server must not require it."""
    await hs.register("ctype")
    r = await hs.client.post(
        f"{V3}/login", headers={"Content-Type": "text/plain"},
        content=b'{"type":"m.login.password","identifier":{"type":"m.id.user","user":"ctype"},'
                b'"password":"correct horse battery"}')
    assert r.status_code == 200, r.text
    assert r.json()["user_id"] == "@ctype:test.local"


async def test_logout_accepts_an_empty_body(hs: Homeserver) -> None:
    """A-2: POST /logout takes an empty body."""
    token = (await hs.register("emptybody"))["access_token"]
    r = await hs.client.post(f"{V3}/logout", content=b"", headers=bearer(token))
    assert r.status_code == 200
    assert r.json() == {}


# --- 413: request body limits -------------------------------------------------------------------


@pytest.fixture
async def small(server_factory: Callable[..., Any]) -> Homeserver:
    return await server_factory(max_request_body_bytes=1024)  # type: ignore[no-any-return]


async def test_body_over_limit_by_content_length(small: Homeserver) -> None:
    body = b'{"type": "m.login.password", "pad": "' + b"x" * 2000 + b'"}'
    r = await small.client.post(f"{V3}/login", content=body,
                                headers={"Content-Type": "application/json"})
    assert_error(r, 413, "M_TOO_LARGE")
    await assert_still_serving(small)


async def test_body_at_limit_is_accepted(small: Homeserver) -> None:
    """Exactly max_request_body_bytes is allowed: the limit is on larger bodies."""
    prefix = b'{"type":"m.login.dummy","pad":"'
    body = prefix + b"x" * (1024 - len(prefix) - 2) + b'"}'
    assert len(body) == 1024
    r = await small.client.post(f"{V3}/login", content=body)
    # Gets past the size check to the login logic (an unknown login type).
    assert_error(r, 400)
    assert r.json()["errcode"] != "M_TOO_LARGE"


async def test_streamed_body_over_limit(small: Homeserver) -> None:
    """Without a Content-Length (chunked transfer), the limit applies to what is read."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"type": "m.login.password", "pad": "'
        for _ in range(10):
            yield b"y" * 300
        yield b'"}'

    r = await small.client.post(f"{V3}/login", content=chunks())
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "M_TOO_LARGE")
    await assert_still_serving(small)


async def test_streamed_body_stops_reading_past_limit(small: Homeserver) -> None:
    """The edge stops reading once the limit is passed (no unbounded buffering)."""
    chunks = [b"z" * 512] * 20
    r = await raw_asgi(small.app.http, "POST", f"{V3}/login".encode(), chunks=chunks,
                       headers=[(b"content-type", b"application/json")])
    assert r.status == 413
    assert r.json()["errcode"] == "M_TOO_LARGE"
    assert r.chunks_read < len(chunks)


async def test_lying_small_content_length_still_limited(small: Homeserver) -> None:
    chunks = [b"a" * 600, b"b" * 600]
    r = await raw_asgi(small.app.http, "POST", f"{V3}/login".encode(), chunks=chunks,
                       headers=[(b"content-length", b"10")])
    assert r.status == 413
    assert r.json()["errcode"] == "M_TOO_LARGE"


# --- E-1 / A-3: error bodies and content types --------------------------------------------------


async def test_every_error_has_errcode_error_and_json_content_type(hs: Homeserver) -> None:
    reg = await hs.register("shape")
    token = reg["access_token"]
    cases: list[tuple[str, str, dict[str, Any], Any, int]] = [
        ("GET", "/_matrix/client/v3/nope", {}, None, 404),
        ("GET", f"{V3}/register", {}, None, 405),
        ("GET", f"{V3}/account/whoami", {}, None, 401),
        ("GET", f"{V3}/account/whoami", bearer("nonsense"), None, 401),
        ("POST", f"{V3}/login", {}, {"type": "m.login.password", "user": "shape",
                                     "password": "wrong password"}, 403),
        ("POST", f"{V3}/login", {}, {"type": "m.login.bogus"}, 400),
        ("GET", f"{V3}/devices/NOPE", bearer(token), None, 404),
        ("GET", f"{V3}/register/available", {}, None, 400),
        ("POST", f"{V3}/register", {}, {"username": "shape", "password": "long enough"}, 400),
        ("GET", f"{V1}/admin/lock/@shape:test.local", bearer(token), None, 403),
    ]
    for method, path, headers, body, status in cases:
        r = await hs.client.request(method, path, headers=headers, json=body)
        assert_error(r, status)
        assert r.json()["errcode"].startswith("M_")
        assert_cors(r.headers)


async def test_success_responses_are_json_objects(hs: Homeserver) -> None:
    reg = await hs.register("okshape")
    for path in ("/_matrix/client/versions", f"{V3}/login", f"{V3}/account/whoami",
                 f"{V3}/devices", f"{V3}/capabilities", "/.well-known/matrix/client"):
        r = await hs.client.get(path, headers=bearer(reg["access_token"]))
        assert r.status_code == 200, (path, r.text)
        assert isinstance(assert_json_response(r), dict)


# --- C-1 / C-2: CORS and OPTIONS ----------------------------------------------------------------


async def test_cors_headers_on_success(hs: Homeserver) -> None:
    r = await hs.client.get("/_matrix/client/versions")
    assert r.status_code == 200
    assert_cors(r.headers)


async def test_cors_headers_on_errors(hs: Homeserver) -> None:
    for r in (await hs.client.get(f"{V3}/account/whoami"),
              await hs.client.get(f"{V3}/nothing_here"),
              await hs.client.post(f"{V3}/login", content=b"{bad")):
        assert r.status_code >= 400
        assert_cors(r.headers)


async def test_cors_headers_on_well_known(hs: Homeserver) -> None:
    """C-3: the .well-known host sends CORS headers too."""
    r = await hs.client.get("/.well-known/matrix/client")
    assert r.status_code == 200
    assert_cors(r.headers)


@pytest.mark.parametrize("path", [
    f"{V3}/account/whoami",
    f"{V3}/devices/SOME",
    f"{V3}/login",
    f"{V3}/logout/all",
    f"{V1}/admin/lock/@x:test.local",
    "/_matrix/client/v3/totally/unknown/path",
    "/.well-known/matrix/client",
])
async def test_options_answers_on_any_path_without_auth(hs: Homeserver, path: str) -> None:
    r = await hs.client.options(path, headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert r.status_code == 200, r.text
    assert_cors(r.headers)


async def test_options_does_not_run_endpoint_logic(hs: Homeserver) -> None:
    """C-1: OPTIONS on /logout with a valid token must not log the session out, and OPTIONS on
    /register must not create anything."""
    reg = await hs.register("optuser")
    token = reg["access_token"]
    r = await hs.client.options(f"{V3}/logout", headers=bearer(token))
    assert r.status_code == 200
    r = await hs.client.options(f"{V3}/logout/all", headers=bearer(token))
    assert r.status_code == 200
    r = await hs.client.get(f"{V3}/account/whoami", headers=bearer(token))
    assert r.status_code == 200
    r = await hs.client.request("OPTIONS", f"{V3}/register",
                                json={"username": "optcreated", "password": "long enough",
                                      "auth": {"type": "m.login.dummy"}})
    assert r.status_code == 200
    r = await hs.client.get(f"{V3}/register/available", params={"username": "optcreated"})
    assert r.status_code == 200 and r.json() == {"available": True}


async def test_options_ignores_oversized_body_and_bad_token(hs: Homeserver) -> None:
    r = await hs.client.request("OPTIONS", f"{V3}/account/whoami", content=b"x" * 10,
                                headers=bearer("bad token"))
    assert r.status_code == 200


# --- path parameters ----------------------------------------------------------------------------


async def test_percent_encoded_path_param_is_decoded(hs: Homeserver) -> None:
    reg = await hs.register("pctuser", device_id="DEV/WITH SPACE")
    r = await hs.client.get(f"{V3}/devices/DEV%2FWITH%20SPACE", headers=bearer(reg["access_token"]))
    assert r.status_code == 200, r.text
    assert r.json()["device_id"] == "DEV/WITH SPACE"


@pytest.mark.parametrize("segment", [b"%FF", b"%C3%28", b"abc%E2%82", b"%ED%A0%80"])
async def test_path_param_with_invalid_utf8_percent_encoding(hs: Homeserver,
                                                             segment: bytes) -> None:
    reg = await hs.register("badpct")
    r = await raw_asgi(hs.app.http, "GET", f"{V3}/devices/".encode() + segment,
                       headers=[(b"authorization", f"Bearer {reg['access_token']}".encode())])
    assert r.status == 400, r.body
    body = r.json()
    assert body["errcode"] == "M_INVALID_PARAM"
    assert isinstance(body["error"], str)
    assert r.headers["content-type"] == "application/json"
    await assert_still_serving(hs)


@pytest.mark.parametrize("segment", [b"%ZZ", b"%", b"abc%2", b"%%41"])
async def test_path_param_with_malformed_percent_escape(hs: Homeserver, segment: bytes) -> None:
    """A malformed escape never crashes the server: a 400 or the literal text (no such
    device, 404)."""
    reg = await hs.register("badesc")
    r = await raw_asgi(hs.app.http, "GET", f"{V3}/devices/".encode() + segment,
                       headers=[(b"authorization", f"Bearer {reg['access_token']}".encode())])
    assert r.status in (400, 404), r.body
    assert r.json()["errcode"] in ("M_INVALID_PARAM", "M_NOT_FOUND")
    await assert_still_serving(hs)


async def test_invalid_percent_encoding_in_admin_user_id(hs: Homeserver) -> None:
    await hs.app.accounts.register_offline("root", "password123", admin=True)
    token = (await hs.login("root", "password123"))["access_token"]
    r = await raw_asgi(hs.app.http, "GET", f"{V1}/admin/lock/%40%FF%3Atest.local".encode(),
                       headers=[(b"authorization", f"Bearer {token}".encode())])
    assert r.status == 400
    assert r.json()["errcode"] == "M_INVALID_PARAM"
    await assert_still_serving(hs)


async def test_non_ascii_raw_path_is_unrecognized(hs: Homeserver) -> None:
    r = await raw_asgi(hs.app.http, "GET", "/_matrix/client/v3/ümlaut".encode())
    assert r.status == 404
    assert r.json()["errcode"] == "M_UNRECOGNIZED"
    await assert_still_serving(hs)


async def test_query_string_in_raw_path_is_ignored_for_routing(hs: Homeserver) -> None:
    r = await raw_asgi(hs.app.http, "GET", b"/_matrix/client/versions?x=1", query=b"x=1")
    assert r.status == 200
    assert "versions" in r.json()


async def test_bad_query_parameter_type(hs: Homeserver) -> None:
    r = await hs.client.post(f"{V3}/register", params={"kind": "robot"},
                             json={"username": "x1", "password": "long enough"})
    assert_error(r, 400, "M_INVALID_PARAM")
