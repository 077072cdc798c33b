"""Helpers for the room tests: users with tokens, and short request helpers."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Homeserver


class User:
    def __init__(self, hs: Homeserver, body: dict[str, Any]) -> None:
        self.hs = hs
        self.user_id: str = body["user_id"]
        self.token: str = body["access_token"]
        self.device_id: str = body["device_id"]
        self._txn = 0

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.hs.client.get(f"/_matrix/client/v3{path}", headers=self.headers,
                                        params=params)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.hs.client.post(f"/_matrix/client/v3{path}", headers=self.headers,
                                         json=body or {})

    async def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.hs.client.put(f"/_matrix/client/v3{path}", headers=self.headers,
                                        json=body)

    async def create_room(self, **body: Any) -> str:
        r = await self.post("/createRoom", body)
        assert r.status_code == 200, r.text
        return str(r.json()["room_id"])

    async def send(self, room_id: str, body: str = "hello", event_type: str = "m.room.message",
                   content: dict[str, Any] | None = None) -> str:
        self._txn += 1
        r = await self.put(f"/rooms/{room_id}/send/{event_type}/t{self._txn}",
                           content or {"msgtype": "m.text", "body": body})
        assert r.status_code == 200, r.text
        return str(r.json()["event_id"])

    async def join(self, room_id: str) -> httpx.Response:
        return await self.post(f"/join/{room_id}")


@pytest.fixture
async def users(hs: Homeserver):
    async def make(*names: str) -> list[User]:
        return [User(hs, await hs.register(name)) for name in names]
    return make
