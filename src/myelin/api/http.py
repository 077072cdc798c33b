"""Request and response types of the HTTP edge, and the endpoint declaration.

An endpoint is declarative metadata plus a thin handler::

    @endpoint("GET", "/account/whoami", auth=AUTH_REQUIRED, rate_limit="client")
    async def whoami(self, req: Request) -> dict: ...

Paths without a leading ``/_matrix`` or ``/.well-known`` are Client-Server
paths and are registered under every version prefix in ``versions``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

import msgspec

from myelin.protocol.errors import MissingParam, NotJson, ProtocolError
from myelin.rooms.service import Viewer
from myelin.services.auth import Requester

T = TypeVar("T")

AUTH_NONE = "none"
AUTH_OPTIONAL = "optional"
AUTH_REQUIRED = "required"

LEGACY_AND_V3 = ("r0", "v3")
V3 = ("v3",)
V1 = ("v1",)


class BadJson(ProtocolError):
    errcode = "M_BAD_JSON"
    status_hint = 400


@dataclass
class Response:
    """A non-JSON (or non-200) response; handlers usually just return a dict."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client_ip: str
    path_params: dict[str, str] = field(default_factory=dict)
    requester: Requester | None = None
    access_token: str | None = None
    _json: Any = None

    def param(self, name: str) -> str:
        return self.path_params[name]

    def query_str(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def query_int(self, name: str, default: int | None = None, *, minimum: int | None = None,
                  maximum: int | None = None) -> int | None:
        raw = self.query_str(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ProtocolError(f"Query parameter '{name}' must be an integer",
                                errcode="M_INVALID_PARAM") from None
        if minimum is not None and value < minimum:
            value = minimum
        if maximum is not None and value > maximum:
            value = maximum
        return value

    def query_bool(self, name: str, default: bool = False) -> bool:
        raw = self.query_str(name)
        if raw is None:
            return default
        if raw in ("true", "1"):
            return True
        if raw in ("false", "0"):
            return False
        raise ProtocolError(f"Query parameter '{name}' must be true or false",
                            errcode="M_INVALID_PARAM")

    def require_query(self, name: str) -> str:
        value = self.query_str(name)
        if value is None:
            raise MissingParam(f"Missing query parameter '{name}'")
        return value

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (A-2: every POST/PUT body is an object, maybe ``{}``).

        An empty body counts as ``{}``, as Synapse and clients expect.
        """
        if self._json is None:
            self._json = decode_json_object(self.body)
        return self._json

    def model(self, kind: type[T]) -> T:
        """Decode the body strictly into a msgspec Struct: no type coercion ever."""
        return _decode(self.body if self.body.strip() else b"{}", kind)

    @property
    def user(self) -> Requester:
        assert self.requester is not None, "endpoint declared without auth"
        return self.requester


def _decode(body: bytes, kind: Any) -> Any:
    try:
        return msgspec.json.decode(body, type=kind, strict=True)
    except msgspec.ValidationError as e:
        raise BadJson(f"Invalid request body: {e}") from None
    except msgspec.DecodeError as e:
        raise NotJson(f"Request body is not valid JSON: {e}") from None
    except UnicodeDecodeError:
        raise NotJson("Request body is not valid UTF-8") from None


def validate(body: dict[str, Any], kind: type[T]) -> T:
    """Check an already-decoded body (e.g. one kept by a UIA session) against a model."""
    try:
        return msgspec.convert(body, type=kind, strict=True)
    except msgspec.ValidationError as e:
        raise BadJson(f"Invalid request body: {e}") from None


def decode_json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    value = _decode(body, Any)
    if not isinstance(value, dict):
        raise BadJson("Request body must be a JSON object")
    return value


Handler = Callable[[Request], Awaitable[Any]]


@dataclass(frozen=True)
class EndpointSpec:
    method: str
    paths: tuple[str, ...]
    auth: str
    rate_limit: str | None
    allow_locked: bool
    allow_guest: bool


def full_paths(path: str, versions: tuple[str, ...]) -> tuple[str, ...]:
    if path.startswith(("/_matrix/", "/.well-known/")):
        return (path,)
    return tuple(f"/_matrix/client/{v}{path}" for v in versions)


def endpoint(method: str, path: str, *, versions: tuple[str, ...] = LEGACY_AND_V3,
             auth: str = AUTH_REQUIRED, rate_limit: str | None = None,
             allow_locked: bool = False, allow_guest: bool = False,
             extra_paths: tuple[str, ...] = ()) -> Callable[[T], T]:
    """Declare a method of an endpoint group as serving ``method path``."""
    spec = EndpointSpec(method, full_paths(path, versions) + extra_paths, auth, rate_limit,
                        allow_locked, allow_guest)

    def mark(fn: T) -> T:
        specs = getattr(fn, "__myelin_endpoints__", [])
        fn.__myelin_endpoints__ = [*specs, spec]  # type: ignore[attr-defined]
        return fn

    return mark


def endpoints_of(group: object) -> list[tuple[EndpointSpec, Handler]]:
    found = []
    for name in dir(type(group)):
        fn = getattr(type(group), name, None)
        for spec in getattr(fn, "__myelin_endpoints__", []):
            found.append((spec, getattr(group, name)))
    return found


def viewer_of(req: Request) -> Viewer:
    """The room layer's view of the authenticated requester."""
    user = req.user
    return Viewer(user.user_id, user.device_id, user.suspended, user.is_guest)


def unquote_segment(segment: str) -> str:
    return unquote(segment, errors="strict")
