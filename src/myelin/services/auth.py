"""Access tokens to requesters (Client-Server API §Using access tokens, §Soft logout,
§Refreshing access tokens, §Account locking).

Token lookups are cached in memory by digest; every path that revokes a token or
changes an account's flags invalidates the cache here, so a revoked token stops
working at once. Device "last seen" data is collected in memory and written in
batches, so authenticating a request never costs a database write.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from myelin.clock import Clock
from myelin.protocol.errors import MissingToken, UnknownToken, UserLocked
from myelin.services.secrets import token_digest
from myelin.storage.database import Database
from myelin.storage.repos import accounts as repo
from myelin.storage.repos.accounts import AccessTokenRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Requester:
    """Who made an authenticated request."""

    user_id: str
    device_id: str
    token_digest: str
    is_guest: bool = False
    is_admin: bool = False
    suspended: bool = False
    locked: bool = False


class Authenticator:
    CACHE_SIZE = 50_000

    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._cache: OrderedDict[str, AccessTokenRow] = OrderedDict()
        self._last_seen: dict[tuple[str, str], tuple[int, str | None, str | None]] = {}

    async def authenticate(self, token: str | None, *, allow_locked: bool = False,
                           ip: str | None = None, user_agent: str | None = None) -> Requester:
        """Resolve a token; raises MissingToken / UnknownToken / UserLocked (all 401)."""
        if not token:
            raise MissingToken("Missing access token")
        digest = token_digest(token)
        row = self._cache.get(digest)
        if row is None:
            async with self._db.read() as conn:
                row = await repo.get_access_token(conn, digest)
            if row is None:
                raise UnknownToken("Unknown access token")
            self._remember(digest, row)
        else:
            self._cache.move_to_end(digest)
        now = self._clock.time_msec()
        if row.expires_ts is not None and row.expires_ts <= now:
            # §Soft logout: an expired token keeps its device; the client refreshes or logs in.
            raise UnknownToken("Access token has expired", soft_logout=True)
        if row.locked and not allow_locked:
            raise UserLocked()
        if not row.used and row.refresh_token_id is not None:
            await self._first_use_of_refreshed_token(digest, row)
        self._last_seen[(row.user_id, row.device_id)] = (now, ip, user_agent)
        return Requester(user_id=row.user_id, device_id=row.device_id, token_digest=digest,
                         is_guest=row.is_guest, is_admin=row.is_admin, suspended=row.suspended,
                         locked=row.locked)

    async def _first_use_of_refreshed_token(self, digest: str, row: AccessTokenRow) -> None:
        """§Refreshing access tokens: the old refresh token stays valid until the new access
        (or refresh) token is used; this is that first use, so the old one is revoked now."""
        revoked: list[str] = []
        async with self._db.transaction() as txn:
            await repo.mark_access_token_used(txn, digest)
            assert row.refresh_token_id is not None
            for old_id in await repo.predecessors_of(txn, row.refresh_token_id):
                revoked += await repo.delete_refresh_token(txn, old_id)
        self.forget_tokens(revoked)
        self._remember(digest, AccessTokenRow(
            row.user_id, row.device_id, row.expires_ts, row.refresh_token_id, True, row.is_guest,
            row.is_admin, row.deactivated, row.locked, row.suspended))

    def _remember(self, digest: str, row: AccessTokenRow) -> None:
        self._cache[digest] = row
        if len(self._cache) > self.CACHE_SIZE:
            self._cache.popitem(last=False)

    def forget_tokens(self, digests: list[str]) -> None:
        for d in digests:
            self._cache.pop(d, None)

    def forget_user(self, user_id: str) -> None:
        """Drop every cached token of a user (after a change of its account flags)."""
        for d in [d for d, r in self._cache.items() if r.user_id == user_id]:
            del self._cache[d]

    async def flush_last_seen(self) -> None:
        """Write the collected device activity (called periodically and at shutdown)."""
        if not self._last_seen:
            return
        pending, self._last_seen = self._last_seen, {}
        try:
            async with self._db.transaction() as txn:
                for (user_id, device_id), (ts, ip, ua) in pending.items():
                    await repo.touch_device(txn, user_id, device_id, now=ts, ip=ip, user_agent=ua)
        except Exception:  # noqa: BLE001 - activity data is best effort
            log.exception("could not record device activity")
