"""Named metrics of a scenario, their direction, and the issue's targets for Myelin."""

import math
from dataclasses import dataclass

from bench.loadgen import RoundResult, percentile

MB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """A goal for Myelin: ``ratio`` Myelin/Synapse (or Myelin's own ``value``) vs a bound.

    ``kind`` is ``ratio_max`` (Myelin/Synapse <= bound), ``ratio_min`` (>= bound) or
    ``value_max`` (Myelin's own value <= bound, e.g. join storm last/first).
    """

    kind: str
    bound: float
    label: str = ""

    def describe(self) -> str:
        """Short text for the table, e.g. '<= 1/5x' (``label`` stands for the bound)."""
        bound = self.label or f"{self.bound:g}"
        if self.kind == "ratio_max":
            return f"<= {bound}x"
        if self.kind == "ratio_min":
            return f">= {bound}x"
        return f"myelin <= {bound}"

    def to_json(self) -> dict[str, object]:
        """The target as JSON."""
        return {"kind": self.kind, "bound": self.bound, "label": self.label}

    def met(self, myelin: float | None, synapse: float | None) -> bool | None:
        """Whether the target is met (None if it cannot be judged)."""
        if myelin is None or math.isnan(myelin):
            return None
        if self.kind == "value_max":
            return myelin <= self.bound
        if synapse is None or math.isnan(synapse) or synapse == 0:
            return None
        ratio = myelin / synapse
        return ratio <= self.bound if self.kind == "ratio_max" else ratio >= self.bound


@dataclass(frozen=True)
class Metric:
    """One measured value of one scenario on one server."""

    key: str
    unit: str
    value: float | None
    better: str  # "higher", "lower" or "" (neither: informational)
    target: Target | None = None
    note: str = ""


def ms(seconds: float) -> float:
    """Seconds to milliseconds."""
    return seconds * 1000


def load_metrics(
    rounds: list[RoundResult],
    op: str,
    *,
    throughput_target: Target | None = None,
    p99_target: Target | None = None,
    cpu_target: Target | None = None,
    p50_target: Target | None = None,
) -> list[Metric]:
    """Throughput, latency percentiles, CPU per 1,000 operations and peak RSS of a load.

    Throughput is all operations over all measured wall time; latencies are pooled over
    the rounds; CPU is the server's over the measured windows only.
    """
    ops = sum(r.ops for r in rounds)
    wall = sum(r.wall for r in rounds)
    cpu = sum(r.cpu for r in rounds)
    lat = [x for r in rounds for x in r.latencies]
    return [
        Metric(f"{op}/s", "ops/s", ops / wall if wall else None, "higher", throughput_target),
        Metric("p50", "ms", ms(percentile(lat, 50)) if lat else None, "lower", p50_target),
        Metric("p95", "ms", ms(percentile(lat, 95)) if lat else None, "lower"),
        Metric("p99", "ms", ms(percentile(lat, 99)) if lat else None, "lower", p99_target),
        Metric(f"CPU s/1k {op}", "", cpu / ops * 1000 if ops else None, "lower", cpu_target),
        Metric("peak RSS", "MB", max(r.peak_rss for r in rounds) / MB, "lower"),
    ]
