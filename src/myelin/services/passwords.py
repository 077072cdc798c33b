"""Password hashing with argon2id (argon2-cffi), off the event loop."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from myelin.config import AuthConfig


class PasswordHasher:
    def __init__(self, config: AuthConfig) -> None:
        self._hasher = _Argon2(time_cost=config.argon2_time_cost,
                               memory_cost=config.argon2_memory_kib,
                               parallelism=config.argon2_parallelism)
        # Verifying against this keeps the time of a login for an unknown user the same as
        # for a known one, so the timing does not reveal which accounts exist.
        self._dummy_hash = self._hasher.hash("myelin-dummy-password")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify_sync, password_hash, password)

    def _verify_sync(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def hash_sync(self, password: str) -> str:
        """For the offline CLI (register-user)."""
        return self._hasher.hash(password)
