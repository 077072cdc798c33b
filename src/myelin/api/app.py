"""The ASGI application: routing, CORS, body limits, authentication, rate limits and the
one place where errors become Matrix error responses (Client-Server API §API Standards,
§Standard error response, §Web Browser Clients, §Rate limiting)."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import msgspec

from myelin.api.http import (
    AUTH_NONE,
    AUTH_OPTIONAL,
    EndpointSpec,
    Handler,
    Request,
    Response,
    endpoints_of,
    unquote_segment,
)
from myelin.protocol.errors import (
    Forbidden,
    LimitExceeded,
    ProtocolError,
    TooLarge,
    Unrecognized,
)
from myelin.services.auth import Authenticator
from myelin.services.ratelimit import RateLimiter
from myelin.storage.errors import InvalidText

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_CORS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET, HEAD, POST, PUT, DELETE, OPTIONS"),
    (b"access-control-allow-headers", b"X-Requested-With, Content-Type, Authorization"),
]
_JSON = b"application/json"
_PARAM = re.compile(r"\{(\w+)\}")
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class Route:
    spec: EndpointSpec
    handler: Handler
    pattern: re.Pattern[str] | None
    names: tuple[str, ...]


class Router:
    """Exact paths in a dict; templated paths by segment count, tried in order."""

    def __init__(self) -> None:
        self._exact: dict[str, dict[str, Route]] = {}
        self._templated: dict[int, list[tuple[str, Route]]] = {}

    def add(self, spec: EndpointSpec, handler: Handler) -> None:
        for path in spec.paths:
            names = tuple(_PARAM.findall(path))
            if not names:
                table = self._exact.setdefault(path, {})
                if spec.method in table:
                    raise ValueError(f"duplicate route {spec.method} {path}")
                table[spec.method] = Route(spec, handler, None, ())
                continue
            escaped = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
            # A state key may be empty ("/state/m.room.name/"); other parameters may not.
            regex = "^" + _PARAM.sub(
                lambda m: "([^/]*)" if m.group(1) == "stateKey" else "([^/]+)", escaped) + "$"
            route = Route(spec, handler, re.compile(regex), names)
            self._templated.setdefault(path.count("/"), []).append((spec.method, route))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Returns (route, raw path params, path_known_for_other_method)."""
        exact = self._exact.get(path)
        if exact is not None:
            route = exact.get(method) or (exact.get("GET") if method == "HEAD" else None)
            return route, {}, True
        known = False
        for route_method, route in self._templated.get(path.count("/"), ()):
            assert route.pattern is not None
            m = route.pattern.match(path)
            if m is None:
                continue
            if route_method == method or (method == "HEAD" and route_method == "GET"):
                return route, dict(zip(route.names, m.groups(), strict=True)), True
            known = True
        return None, {}, known


class MatrixApp:
    """The ASGI callable. Endpoint groups are objects whose methods carry ``@endpoint``."""

    def __init__(self, *, groups: list[object], auth: Authenticator, ratelimiter: RateLimiter,
                 max_body_bytes: int) -> None:
        self._auth = auth
        self._ratelimiter = ratelimiter
        self._max_body = max_body_bytes
        self.router = Router()
        for group in groups:
            for spec, handler in endpoints_of(group):
                self.router.add(spec, handler)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        try:
            response = await self._dispatch(scope, receive, method)
        except ProtocolError as e:
            response = error_response(e)
        except InvalidText:
            response = error_response(ProtocolError(
                "Text parameters may not contain NUL characters", errcode="M_INVALID_PARAM"))
        except Exception:  # noqa: BLE001 - never a traceback to the client
            log.exception("unhandled error in %s %s", method, scope.get("path"))
            response = error_response(ProtocolError("Internal server error", errcode="M_UNKNOWN",
                                                    status_hint=500))
        headers = [(b"content-type", response.content_type.encode()),
                   (b"content-length", str(len(response.body)).encode()), *_CORS,
                   *response.headers]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body",
                    "body": b"" if method == "HEAD" else response.body})

    async def _dispatch(self, scope: Scope, receive: Receive, method: str) -> Response:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        try:
            path = raw_path.decode("ascii").split("?", 1)[0]
        except UnicodeDecodeError:
            raise Unrecognized("Unrecognized request") from None

        # C-1: OPTIONS is answered for every path without running endpoint logic.
        if method == "OPTIONS":
            return Response(b"{}")

        route, raw_params, known = self.router.match(method, path)
        if route is None:
            if known:
                raise Unrecognized("Unrecognized request: method not allowed", status_hint=405)
            raise Unrecognized("Unrecognized request")
        try:
            params = {k: unquote_segment(v) for k, v in raw_params.items()}
        except UnicodeDecodeError:
            raise ProtocolError("Path parameter is not valid UTF-8",
                                errcode="M_INVALID_PARAM") from None
        if any("\x00" in v for v in params.values()):
            raise ProtocolError("Path parameter contains a NUL character",
                                errcode="M_INVALID_PARAM")

        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        query = parse_qs(scope.get("query_string", b"").decode("utf-8", errors="replace"),
                         keep_blank_values=True)
        client = scope.get("client")
        request = Request(method=method, path=path, query=query, headers=headers, body=b"",
                          client_ip=client[0] if client else "unknown", path_params=params)
        spec = route.spec

        token = _access_token(headers, query)
        request.access_token = token
        if spec.auth != AUTH_NONE and (token is not None or spec.auth != AUTH_OPTIONAL):
            request.requester = await self._auth.authenticate(
                token, allow_locked=spec.allow_locked, ip=request.client_ip,
                user_agent=headers.get("user-agent"))
            if request.requester.is_guest and not spec.allow_guest:
                raise ProtocolError("Guest access is not allowed here",
                                    errcode="M_GUEST_ACCESS_FORBIDDEN", status_hint=403)
        if spec.rate_limit is not None:
            key = request.requester.user_id if request.requester else request.client_ip
            self._ratelimiter.check(spec.rate_limit, key)

        request.body = await self._read_body(headers, receive)
        result = await route.handler(request)
        if isinstance(result, Response):
            return result
        return Response(_encoder.encode(result))

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        declared = headers.get("content-length")
        if (declared is not None and declared.isascii() and declared.isdigit()
                and int(declared) > self._max_body):
            raise TooLarge(f"Request body is larger than {self._max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body:
                raise TooLarge(f"Request body is larger than {self._max_body} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _access_token(headers: dict[str, str], query: dict[str, list[str]]) -> str | None:
    """AU-2: the Authorization: Bearer header, or the deprecated ?access_token=."""
    header = headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return value.strip()
    values = query.get("access_token")
    return values[-1] if values else None


def error_response(error: ProtocolError) -> Response:
    headers: list[tuple[bytes, bytes]] = []
    if isinstance(error, LimitExceeded):
        # Retry-After in whole seconds, rounded up.
        headers.append((b"retry-after", str(max(1, math.ceil(error.retry_after_ms / 1000)))
                        .encode()))
    status = error.status_hint
    return Response(_encoder.encode(error.to_body()), status=status, headers=headers)


__all__ = ["MatrixApp", "Forbidden", "error_response"]
