"""Rate limiting (Client-Server API §Rate limiting; CHECKLIST R-1, R-2, R-3)."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from myelin.config import DEFAULT_RATE_LIMITS, RateLimit
from tests.api.helpers import PASSWORD, V1, V3, assert_error, bearer, password_auth
from tests.conftest import Homeserver

LOGIN = f"{V3}/login"


def limits(**overrides: RateLimit) -> dict[str, RateLimit]:
    return {**DEFAULT_RATE_LIMITS, **overrides}


def login_body(user: str, password: str = PASSWORD) -> dict[str, Any]:
    return {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
            "password": password}


def assert_limited(r: httpx.Response) -> int:
    """R-1/R-2: 429 M_LIMIT_EXCEEDED, Retry-After in whole seconds, retry_after_ms."""
    body = assert_error(r, 429, "M_LIMIT_EXCEEDED")
    retry_ms = body["retry_after_ms"]
    assert isinstance(retry_ms, int) and retry_ms > 0
    retry_after = r.headers["retry-after"]
    assert retry_after.isdigit()
    assert int(retry_after) >= 1
    assert int(retry_after) == max(1, math.ceil(retry_ms / 1000))
    assert r.headers["access-control-allow-origin"] == "*"
    return retry_ms  # type: ignore[no-any-return]


@pytest.fixture
async def limited(server_factory: Callable[..., Any]) -> Homeserver:
    hs: Homeserver = await server_factory(
        rate_limits_enabled=True,
        rate_limits=limits(login=RateLimit(per_second=0.1, burst=2),
                           login_failed=RateLimit(per_second=0.01, burst=2),
                           client=RateLimit(per_second=1.0, burst=3)))
    await hs.register("alice")
    return hs


@pytest.fixture
async def other_ip(limited: Homeserver) -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited.app.http, client=("10.9.8.7", 5555)),
        base_url="http://test.local")
    yield client
    await client.aclose()


async def test_login_limit(limited: Homeserver) -> None:
    hs = limited
    for _ in range(2):
        assert (await hs.client.post(LOGIN, json=login_body("alice"))).status_code == 200
    r = await hs.client.post(LOGIN, json=login_body("alice"))
    retry_ms = assert_limited(r)
    assert 0 < retry_ms <= 10_000
    # Still limited a moment later, then allowed once the wait has passed.
    hs.clock.advance(retry_ms / 1000 / 2)
    assert_limited(await hs.client.post(LOGIN, json=login_body("alice")))
    hs.clock.advance(retry_ms / 1000 + 0.01)
    r = await hs.client.post(LOGIN, json=login_body("alice"))
    assert r.status_code == 200, r.text


async def test_limited_request_has_no_side_effect(limited: Homeserver) -> None:
    hs = limited
    tokens = [(await hs.client.post(LOGIN, json=login_body("alice"))).json()["access_token"]
              for _ in range(2)]
    assert_limited(await hs.client.post(LOGIN, json=login_body("alice")))
    hs.clock.advance(60)
    r = await hs.client.get(f"{V3}/devices", headers=bearer(tokens[0]))
    # Registration's device plus the two logins; the refused login made none.
    assert len(r.json()["devices"]) == 3


async def test_login_limit_is_per_client_address(limited: Homeserver,
                                                 other_ip: httpx.AsyncClient) -> None:
    hs = limited
    for _ in range(2):
        await hs.client.post(LOGIN, json=login_body("alice"))
    assert_limited(await hs.client.post(LOGIN, json=login_body("alice")))
    r = await other_ip.post(LOGIN, json=login_body("alice"))
    assert r.status_code == 200, r.text


async def test_failed_logins_are_limited_per_account(limited: Homeserver,
                                                     other_ip: httpx.AsyncClient) -> None:
    hs = limited
    assert_error(await hs.client.post(LOGIN, json=login_body("alice", "wrong 1")), 403,
                 "M_FORBIDDEN")
    assert_error(await other_ip.post(LOGIN, json=login_body("alice", "wrong 2")), 403,
                 "M_FORBIDDEN")
    # Even the right password is refused now, from any address, until the wait passes.
    retry_ms = assert_limited(await hs.client.post(LOGIN, json=login_body("alice")))
    assert_limited(await other_ip.post(LOGIN, json=login_body("alice")))
    hs.clock.advance(retry_ms / 1000 + 0.01)
    r = await hs.client.post(LOGIN, json=login_body("alice"))
    assert r.status_code == 200, r.text


async def test_authenticated_limit_is_per_user(limited: Homeserver) -> None:
    hs = limited
    alice = (await hs.client.post(LOGIN, json=login_body("alice"))).json()["access_token"]
    bob = (await hs.register("bob"))["access_token"]
    for _ in range(3):
        r = await hs.client.get(f"{V3}/account/whoami", headers=bearer(alice))
        assert r.status_code == 200
    assert_limited(await hs.client.get(f"{V3}/account/whoami", headers=bearer(alice)))
    r = await hs.client.get(f"{V3}/account/whoami", headers=bearer(bob))
    assert r.status_code == 200
    hs.clock.advance(1.01)
    assert (await hs.client.get(f"{V3}/account/whoami", headers=bearer(alice))).status_code == 200


async def test_get_login_token_is_strictly_limited(server_factory: Callable[..., Any]) -> None:
    """R-3: /login/get_token gets a stricter limit (default 1/min)."""
    hs: Homeserver = await server_factory(rate_limits_enabled=True)
    token = (await hs.register("gina"))["access_token"]
    r = await hs.client.post(f"{V1}/login/get_token", headers=bearer(token),
                             json={"auth": password_auth("gina")})
    assert r.status_code == 200, r.text
    r = await hs.client.post(f"{V1}/login/get_token", headers=bearer(token),
                             json={"auth": password_auth("gina")})
    retry_ms = assert_limited(r)
    assert retry_ms > 30_000


async def test_registration_token_validity_is_limited(server_factory: Callable[..., Any]
                                                      ) -> None:
    """R-3: the validity endpoint is limited against brute force."""
    hs: Homeserver = await server_factory(
        rate_limits_enabled=True,
        rate_limits=limits(registration_token_validity=RateLimit(per_second=0.1, burst=2)))
    url = f"{V1}/register/m.login.registration_token/validity"
    for _ in range(2):
        assert (await hs.client.get(url, params={"token": "guess"})).status_code == 200
    assert_limited(await hs.client.get(url, params={"token": "guess"}))


async def test_no_limits_when_disabled(hs: Homeserver) -> None:
    await hs.register("free")
    for i in range(15):
        r = await hs.client.post(LOGIN, json=login_body("free", f"wrong {i}"))
        assert_error(r, 403, "M_FORBIDDEN")
    assert (await hs.client.post(LOGIN, json=login_body("free"))).status_code == 200
