"""Stream positions: reserve, then complete; readers only see completed positions.

A writer reserves the next position before its transaction and completes it
after the commit (or after a rollback: an abandoned position is simply a gap).
``current`` is the highest position such that every position up to it is
completed, so a reader that asks for "everything up to current" can never
miss a row that commits later with a smaller position.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class StreamIdGenerator:
    def __init__(self, name: str, current: int = 0) -> None:
        self.name = name
        self._last_reserved = current
        self._current = current
        self._in_flight: list[int] = []  # min-heap of reserved, not yet completed
        self._done_early: set[int] = set()
        self._listeners: list[Callable[[str, int], None]] = []

    def set_current(self, position: int) -> None:
        """Initialise from storage at start, before anything is reserved."""
        if self._in_flight or self._last_reserved > self._current:
            raise RuntimeError("stream positions were reserved before initialisation")
        self._last_reserved = self._current = position

    @property
    def current(self) -> int:
        """The highest position below which everything is complete."""
        return self._current

    def add_listener(self, listener: Callable[[str, int], None]) -> None:
        """Called with (stream name, new current position) whenever ``current`` advances."""
        self._listeners.append(listener)

    def reserve(self) -> int:
        self._last_reserved += 1
        heapq.heappush(self._in_flight, self._last_reserved)
        return self._last_reserved

    def complete(self, position: int) -> None:
        self._done_early.add(position)
        advanced = False
        while self._in_flight and self._in_flight[0] in self._done_early:
            self._done_early.discard(heapq.heappop(self._in_flight))
            advanced = True
        if not advanced:
            return
        self._current = self._in_flight[0] - 1 if self._in_flight else self._last_reserved
        for listener in self._listeners:
            listener(self.name, self._current)

    @asynccontextmanager
    async def get_next(self) -> AsyncIterator[int]:
        """Reserve a position for the duration of the block (wrap the transaction in it)."""
        position = self.reserve()
        try:
            yield position
        finally:
            self.complete(position)
