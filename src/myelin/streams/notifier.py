"""Wake-ups for long-polls: positions, never payloads (ARCHITECTURE.md style rule 10).

A waiter registers the keys it cares about (room IDs, its user ID) *before* it samples
the stream positions, then waits. A write that commits between the registration and the
wait has already set the waiter's event, so it cannot be missed. Waking costs only the
waiters of the keys concerned: there is no global scan and no polling loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


class Waiter:
    __slots__ = ("keys", "_event")

    def __init__(self, keys: frozenset[str]) -> None:
        self.keys = keys
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    @property
    def woken(self) -> bool:
        return self._event.is_set()

    async def wait(self, timeout: float) -> bool:  # noqa: ASYNC109 - a deadline, not a guard
        """True if woken before the timeout."""
        if self._event.is_set():
            return True
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


class Notifier:
    def __init__(self) -> None:
        self._by_key: dict[str, set[Waiter]] = {}

    def register(self, keys: Iterable[str]) -> Waiter:
        waiter = Waiter(frozenset(keys))
        for key in waiter.keys:
            self._by_key.setdefault(key, set()).add(waiter)
        return waiter

    def unregister(self, waiter: Waiter) -> None:
        for key in waiter.keys:
            waiters = self._by_key.get(key)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._by_key[key]

    def notify(self, keys: Iterable[str]) -> None:
        for key in keys:
            for waiter in self._by_key.get(key, ()):
                waiter.wake()

    @property
    def waiting(self) -> int:
        return len({w for ws in self._by_key.values() for w in ws})
