"""Bounded load loops, the per-round meter (server CPU and peak RSS), and percentiles.

Every loop here stops at a planned operation count or at a wall-clock deadline,
whichever comes first; a round cut short by its deadline is marked ``truncated``.
"""

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench import procstats
from bench.client import EndpointMissing, ServerError


class NotAvailable(Exception):
    """A scenario cannot run on this server; ``short`` goes in the table, ``detail`` in notes."""

    def __init__(self, short: str, detail: str = "") -> None:
        """Keep the short reason and the long one."""
        self.short = short
        self.detail = detail or short
        super().__init__(self.detail)


def percentile(values: list[float], pct: float) -> float:
    """Linear-interpolated percentile (``pct`` in 0..100) of ``values``; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class RoundResult:
    """What one measured round of one scenario on one server produced."""

    ops: int = 0
    planned: int = 0
    errors: int = 0
    first_error: str = ""
    wall: float = 0.0
    cpu: float = 0.0
    client_cpu: float = 0.0
    idle_server_cpu: float = 0.0
    peak_rss: int = 0
    latencies: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary (latency samples are reduced to percentiles)."""
        return {
            "ops": self.ops,
            "planned": self.planned,
            "errors": self.errors,
            "first_error": self.first_error,
            "wall_s": round(self.wall, 4),
            "server_cpu_s": round(self.cpu, 4),
            "client_cpu_s": round(self.client_cpu, 4),
            "idle_server_cpu_s": round(self.idle_server_cpu, 4),
            "peak_rss_bytes": self.peak_rss,
            "truncated": self.truncated,
            "latency_ms": {
                "n": len(self.latencies),
                "p50": percentile(self.latencies, 50) * 1000,
                "p95": percentile(self.latencies, 95) * 1000,
                "p99": percentile(self.latencies, 99) * 1000,
            },
            "extra": self.extra,
        }


class Meter:
    """Measures a server's CPU seconds, peak RSS and wall time over a ``with`` block.

    Also the CPU of the load generator (this process) and of the other, idle server(s), to
    show how much of the two cores was not the server's own.
    """

    def __init__(self, pid: int, result: RoundResult, idle_pids: list[int]) -> None:
        """Meter the process tree rooted at ``pid`` into ``result``."""
        self.pid = pid
        self.idle_pids = idle_pids
        self.result = result
        self._start = 0.0
        self._cpu = 0.0
        self._client_cpu = 0.0
        self._idle_cpu = 0.0

    def _idle_cpu_now(self) -> float:
        """CPU seconds so far of the servers not under load."""
        return sum(procstats.sample(pid).cpu_seconds for pid in self.idle_pids)

    def __enter__(self) -> "Meter":
        """Reset the peak RSS and take the starting readings."""
        procstats.reset_peak(self.pid)
        self._cpu = procstats.sample(self.pid).cpu_seconds
        self._client_cpu = procstats.self_cpu_seconds()
        self._idle_cpu = self._idle_cpu_now()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        """Take the closing readings (also when the block raised)."""
        self.result.wall += time.perf_counter() - self._start
        end = procstats.sample(self.pid)
        self.result.cpu += end.cpu_seconds - self._cpu
        self.result.client_cpu += procstats.self_cpu_seconds() - self._client_cpu
        self.result.idle_server_cpu += self._idle_cpu_now() - self._idle_cpu
        self.result.peak_rss = max(self.result.peak_rss, end.hwm_bytes)


def note_error(result: RoundResult, exc: Exception, planned: int) -> None:
    """Count a failed operation; give up on the round when failures are not incidental.

    An endpoint the server lacks ends the round at once; otherwise the round is abandoned
    once more than max(5, 10% of the planned operations) failed.
    """
    if isinstance(exc, EndpointMissing):
        raise NotAvailable(f"lacks {exc.method} {exc.path}", str(exc)) from exc
    result.errors += 1
    if not result.first_error:
        result.first_error = str(exc)[:300]
    if result.errors > max(5, planned // 10):
        raise NotAvailable(
            f"errors ({exc.status if isinstance(exc, ServerError) else type(exc).__name__})",
            f"{result.errors} failed operations; first: {result.first_error}",
        ) from exc


async def bounded_load(
    result: RoundResult,
    total: int,
    concurrency: int,
    deadline: float,
    op: Callable[[int, int], Awaitable[float | None]],
) -> None:
    """Run ``op(i, w)`` for i in 0..total-1 on workers w until done or deadline.

    ``concurrency`` workers pull indices in order; ``op`` returns the latency to record
    (seconds) or None to record nothing. Completed operations go to ``result.ops``;
    ``result.truncated`` is set if the deadline hit first.
    """
    next_index = 0
    result.planned += total

    async def worker(number: int) -> None:
        nonlocal next_index
        while next_index < total:
            if time.monotonic() >= deadline:
                result.truncated = True
                return
            index = next_index
            next_index += 1
            try:
                latency = await op(index, number)
            except (TimeoutError, ServerError) as exc:
                note_error(result, exc, total)
                continue
            result.ops += 1
            if latency is not None:
                result.latencies.append(latency)

    tasks = [asyncio.create_task(worker(w)) for w in range(max(1, min(concurrency, total)))]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_bounded(
    total: int,
    concurrency: int,
    deadline: float,
    op: Callable[[int, int], Awaitable[Any]],
    what: str,
) -> None:
    """Run unmeasured setup work the same bounded way; fail with NotAvailable if it can't.

    Setup must complete: hitting the deadline or repeated errors means the scenario cannot
    be measured on this server.
    """
    scratch = RoundResult()

    async def timed(index: int, number: int) -> None:
        await op(index, number)
        return None

    await bounded_load(scratch, total, concurrency, deadline, timed)
    if scratch.truncated:
        raise NotAvailable(
            "setup too slow", f"{what}: {scratch.ops}/{total} done when the setup deadline hit"
        )
    if scratch.errors:
        raise NotAvailable("setup errors", f"{what}: {scratch.first_error}")
