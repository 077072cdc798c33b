"""Token-bucket rate limiting per (action, key); Client-Server API §Rate limiting."""

from __future__ import annotations

import math

from myelin.clock import Clock
from myelin.config import RateLimit
from myelin.protocol.errors import LimitExceeded


class RateLimiter:
    """``check(action, key)`` raises LimitExceeded (429 with retry_after_ms) when the
    bucket of that action for that key is empty. Buckets live in memory; idle ones are
    pruned so a flood of distinct keys cannot grow the table without bound."""

    MAX_BUCKETS = 100_000

    def __init__(self, *, clock: Clock, limits: dict[str, RateLimit], enabled: bool) -> None:
        self._clock = clock
        self._limits = limits
        self.enabled = enabled
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}  # -> (tokens, stamp)

    def check(self, action: str, key: str, *, cost: float = 1.0) -> None:
        """Take ``cost`` tokens; ``cost=0`` only checks that the bucket is not empty."""
        if not self.enabled:
            return
        limit = self._limits[action]
        now = self._clock.monotonic()
        tokens, stamp = self._buckets.get((action, key), (float(limit.burst), now))
        tokens = min(float(limit.burst), tokens + (now - stamp) * limit.per_second)
        needed = cost if cost > 0 else 1.0
        if tokens < needed:
            wait_s = (needed - tokens) / limit.per_second
            self._buckets[(action, key)] = (tokens, now)
            raise LimitExceeded(retry_after_ms=max(1, math.ceil(wait_s * 1000)))
        self._buckets[(action, key)] = (tokens - cost, now)
        if len(self._buckets) > self.MAX_BUCKETS:
            self._prune(now)

    def _prune(self, now: float) -> None:
        full = [k for k, (tokens, stamp) in self._buckets.items()
                if tokens + (now - stamp) * self._limits[k[0]].per_second
                >= self._limits[k[0]].burst]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) > self.MAX_BUCKETS:  # still too many: drop the oldest half
            for k in sorted(self._buckets, key=lambda k: self._buckets[k][1])[
                    : len(self._buckets) // 2]:
                del self._buckets[k]
