"""Small helpers shared by the API tests (no fixtures here; those live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

SERVER = "test.local"
PASSWORD = "correct horse battery"
V3 = "/_matrix/client/v3"
V1 = "/_matrix/client/v1"


def uid(localpart: str) -> str:
    return f"@{localpart}:{SERVER}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def password_auth(user: str, password: str = PASSWORD, session: str | None = None
                  ) -> dict[str, Any]:
    auth: dict[str, Any] = {"type": "m.login.password",
                            "identifier": {"type": "m.id.user", "user": user},
                            "password": password}
    if session is not None:
        auth["session"] = session
    return auth


def assert_json_response(r: httpx.Response) -> Any:
    """A-3: every JSON response carries Content-Type: application/json."""
    assert r.headers["content-type"].split(";")[0].strip() == "application/json", r.headers
    return r.json()


def assert_error(r: httpx.Response, status: int, errcode: str | None = None) -> dict[str, Any]:
    """E-1: an error has the expected status and a body with both errcode and error."""
    assert r.status_code == status, (r.status_code, r.text)
    body = assert_json_response(r)
    assert isinstance(body, dict), body
    assert isinstance(body.get("errcode"), str), body
    assert isinstance(body.get("error"), str), body
    if errcode is not None:
        assert body["errcode"] == errcode, body
    return body


def assert_uia_challenge(r: httpx.Response, *, stages: list[str] | None = None
                         ) -> dict[str, Any]:
    """U-1: a 401 carrying flows[].stages, params and session."""
    assert r.status_code == 401, r.text
    body = assert_json_response(r)
    assert isinstance(body["flows"], list) and body["flows"], body
    for flow in body["flows"]:
        assert isinstance(flow["stages"], list), body
    assert isinstance(body["params"], dict), body
    assert isinstance(body["session"], str) and body["session"], body
    if stages is not None:
        assert [f["stages"] for f in body["flows"]] == [stages], body
    return body


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    chunks_read: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


async def raw_asgi(app: Any, method: str, raw_path: bytes, *,
                   headers: Iterable[tuple[bytes, bytes]] = (),
                   chunks: Iterable[bytes] = (), query: bytes = b"") -> RawResponse:
    """Call the ASGI app directly, with full control over the raw path and body chunks."""
    path_text = raw_path.decode("latin-1")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path_text, "raw_path": raw_path,
             "query_string": query, "root_path": "", "headers": list(headers),
             "client": ("127.0.0.1", 40000), "server": ("test.local", 80)}
    pending = list(chunks) or [b""]
    state = {"read": 0}

    async def receive() -> dict[str, Any]:
        if state["read"] < len(pending):
            chunk = pending[state["read"]]
            state["read"] += 1
            return {"type": "http.request", "body": chunk,
                    "more_body": state["read"] < len(pending)}
        return {"type": "http.disconnect"}

    start: dict[str, Any] = {}
    body = bytearray()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start["headers"]}
    return RawResponse(start["status"], hdrs, bytes(body), state["read"])
