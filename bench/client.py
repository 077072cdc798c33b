"""A small Matrix Client-Server API client on aiohttp, just what the scenarios need.

Every request can be timed; an endpoint the server does not implement (404 or 405 with
errcode ``M_UNRECOGNIZED``, or a 404/405 whose body is not a Matrix error at all) raises
:class:`EndpointMissing`, which the harness reports as "not available".
"""

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

JsonDict = dict[str, Any]

PASSWORD = "bench-password-1"
"""Password of every user the benchmark registers."""


class ServerError(Exception):
    """A request failed: a non-2xx answer or a transport error."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        errcode: str,
        message: str,
        body: JsonDict | None = None,
    ) -> None:
        """Keep what the server answered (``body``: the decoded error, if it was JSON)."""
        self.method = method
        self.path = path
        self.status = status
        self.errcode = errcode
        self.body = body
        super().__init__(f"{method} {path}: {status} {errcode} {message}".strip())


class EndpointMissing(ServerError):
    """The server does not implement this endpoint (404/405 ``M_UNRECOGNIZED``)."""


@dataclass
class Response:
    """A decoded JSON answer with its size and how long it took."""

    body: JsonDict
    nbytes: int
    seconds: float


@dataclass
class User:
    """A registered user with a logged-in device."""

    user_id: str
    localpart: str
    token: str


def endpoint_template(path: str) -> str:
    """The endpoint of a request path with IDs replaced, e.g. ``/rooms/{id}/send/{type}/{txn}``.

    Used in reports, so that "lacks PUT /rooms/{id}/send/..." reads the same for every room.
    """
    parts = path.split("?")[0].split("/")
    out = []
    for index, part in enumerate(parts):
        if part.startswith(("%21", "%40", "%23", "!", "@", "#")):
            out.append("{id}")
        elif index >= 2 and parts[index - 2] == "send":
            out.append("{txn}")
        elif index >= 1 and parts[index - 1] == "send":
            out.append("{type}")
        else:
            out.append(part)
    text = "/".join(out)
    return text.replace("/_matrix/client/v3", "").replace("/_matrix/client", "")


class MatrixClient:
    """One server's client: a pooled aiohttp session against ``base_url``."""

    def __init__(self, base_url: str, request_timeout: float = 60.0) -> None:
        """Create the connection pool (call :meth:`close` when done)."""
        self.base_url = base_url.rstrip("/")
        connector = aiohttp.TCPConnector(limit=512, limit_per_host=0, force_close=False)
        self.session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=request_timeout),
            # Identity encoding: sizes are the JSON sizes and neither server pays for gzip.
            headers={"Accept-Encoding": "identity"},
            auto_decompress=False,
        )
        self._txn = 0

    async def close(self) -> None:
        """Close the pool."""
        await self.session.close()

    def next_txn(self) -> str:
        """A transaction ID unique within this client."""
        self._txn += 1
        return f"b{self._txn}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: JsonDict | None = None,
        params: dict[str, str] | None = None,
        time_limit: float | None = None,
    ) -> Response:
        """Send one request and return the decoded answer, raising on a non-2xx status."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = json.dumps(body).encode() if body is not None else None
        if data is not None:
            headers["Content-Type"] = "application/json"
        req_timeout = aiohttp.ClientTimeout(total=time_limit) if time_limit is not None else None
        start = time.perf_counter()
        try:
            async with self.session.request(
                method,
                self.base_url + path,
                data=data,
                params=params,
                headers=headers,
                timeout=req_timeout,
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ServerError(method, endpoint_template(path), 0, "transport", repr(exc)) from exc
        seconds = time.perf_counter() - start
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = None
        if 200 <= status < 300:
            if not isinstance(decoded, dict):
                raise ServerError(
                    method, endpoint_template(path), status, "bad-json", raw[:80].decode()
                )
            return Response(decoded, len(raw), seconds)
        errcode = decoded.get("errcode", "") if isinstance(decoded, dict) else ""
        message = decoded.get("error", "") if isinstance(decoded, dict) else raw[:80].decode()
        if status in (404, 405) and (errcode == "M_UNRECOGNIZED" or not errcode):
            raise EndpointMissing(
                method, endpoint_template(path), status, errcode or "no errcode", ""
            )
        raise ServerError(
            method,
            endpoint_template(path),
            status,
            errcode,
            str(message)[:120],
            decoded if isinstance(decoded, dict) else None,
        )

    # --- account -------------------------------------------------------------------------

    async def register(self, localpart: str, password: str = PASSWORD) -> tuple[User, float]:
        """Register with the dummy auth flow; returns the user and the request latency.

        A 401 user-interactive-auth answer carrying a session is retried once with that
        session, as the spec's flow asks; the latency reported is of the final request.
        """
        body: JsonDict = {
            "username": localpart,
            "password": password,
            "auth": {"type": "m.login.dummy"},
            "inhibit_login": False,
        }
        path = "/_matrix/client/v3/register"
        try:
            resp = await self.request("POST", path, body=body)
        except ServerError as exc:
            uia = exc.body
            if exc.status != 401 or uia is None or "session" not in uia:
                raise
            body["auth"] = {"type": "m.login.dummy", "session": uia["session"]}
            resp = await self.request("POST", path, body=body)
        user = User(resp.body["user_id"], localpart, resp.body["access_token"])
        return user, resp.seconds

    async def login(self, localpart: str, password: str = PASSWORD) -> tuple[User, float]:
        """Log in with a password; returns the new device's user and the latency."""
        body = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": password,
        }
        resp = await self.request("POST", "/_matrix/client/v3/login", body=body)
        return User(resp.body["user_id"], localpart, resp.body["access_token"]), resp.seconds

    async def upload_filter(self, user: User, definition: JsonDict) -> str:
        """Upload a filter and return its ID."""
        path = f"/_matrix/client/v3/user/{quote(user.user_id, safe='')}/filter"
        resp = await self.request("POST", path, token=user.token, body=definition)
        return str(resp.body["filter_id"])

    # --- rooms ---------------------------------------------------------------------------

    async def create_room(self, user: User, preset: str = "private_chat") -> tuple[str, float]:
        """Create a room; returns its ID and the latency."""
        body = {"preset": preset, "name": "bench"}
        path = "/_matrix/client/v3/createRoom"
        resp = await self.request("POST", path, token=user.token, body=body)
        return str(resp.body["room_id"]), resp.seconds

    async def join(self, user: User, room_id: str) -> float:
        """Join a room by ID; returns the latency."""
        path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/join"
        resp = await self.request("POST", path, token=user.token, body={})
        return resp.seconds

    async def send_text(self, user: User, room_id: str, text: str) -> float:
        """Send an ``m.room.message`` text event; returns the latency."""
        path = (
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/"
            f"{self.next_txn()}"
        )
        resp = await self.request(
            "PUT", path, token=user.token, body={"msgtype": "m.text", "body": text}
        )
        return resp.seconds

    async def messages(
        self, user: User, room_id: str, from_token: str | None, limit: int
    ) -> Response:
        """One page of ``/messages`` backwards from ``from_token`` (the end if None)."""
        params = {"dir": "b", "limit": str(limit)}
        if from_token is not None:
            params["from"] = from_token
        path = f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/messages"
        return await self.request("GET", path, token=user.token, params=params)

    # --- sync ----------------------------------------------------------------------------

    async def sync(
        self,
        user: User,
        since: str | None = None,
        timeout_ms: int = 0,
        filter_id: str | None = None,
    ) -> Response:
        """One ``/sync`` request."""
        params = {"timeout": str(timeout_ms)}
        if since is not None:
            params["since"] = since
        if filter_id is not None:
            params["filter"] = filter_id
        return await self.request(
            "GET",
            "/_matrix/client/v3/sync",
            token=user.token,
            params=params,
            time_limit=timeout_ms / 1000 + 60,
        )
