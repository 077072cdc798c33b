"""The ratio table (terminal and Markdown), the machine description, and the docs update."""

import math
import os
import platform
from pathlib import Path
from typing import Any

from bench.metrics import Metric, Target

SERVERS = ("myelin", "synapse")
DOCS_BEGIN = "<!-- bench:latest:begin -->"
DOCS_END = "<!-- bench:latest:end -->"


def machine() -> dict[str, Any]:
    """CPU model, core count, memory, kernel and Python, from /proc and the runtime."""
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def metric_json(metric: Metric) -> dict[str, Any]:
    """A metric as JSON (NaN becomes null)."""
    value = metric.value
    if value is not None and math.isnan(value):
        value = None
    return {
        "key": metric.key,
        "unit": metric.unit,
        "value": value,
        "better": metric.better,
        "target": metric.target.to_json() if metric.target else None,
        "target_text": metric.target.describe() if metric.target else None,
        "note": metric.note,
    }


def fmt(value: float | None) -> str:
    """A number with about three significant digits."""
    if value is None or math.isnan(value):
        return "n/a"
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 1:
        return f"{value:.2f}"
    if size == 0:
        return "0"
    return f"{value:.3g}"


def _target_of(entry: dict[str, Any]) -> Target | None:
    """Rebuild a Target from its JSON form (for the met/not-met column)."""
    data = entry.get("target")
    if not data:
        return None
    return Target(str(data["kind"]), float(data["bound"]), str(data.get("label", "")))


def table_rows(results: dict[str, Any]) -> tuple[list[list[str]], list[str]]:
    """Rows (scenario, metric, Myelin, Synapse, ratio, target) and the n/a notes."""
    rows: list[list[str]] = []
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, scenario in results["scenarios"].items():
        per_server = scenario["servers"]
        keys: list[dict[str, Any]] = []
        seen: set[str] = set()
        for server in SERVERS:
            for metric in per_server.get(server, {}).get("metrics", []):
                if metric["key"] not in seen:
                    seen.add(metric["key"])
                    keys.append(metric)
        for server in SERVERS:
            info = per_server.get(server)
            if info and not info["available"]:
                grouped.setdefault((server, info["reason"]), []).append(name)
        if not keys:
            keys = [{"key": "-", "unit": "", "better": "", "target": None}]
        for index, meta in enumerate(keys):
            cells: dict[str, str] = {}
            values: dict[str, float | None] = {}
            for server in SERVERS:
                info = per_server.get(server)
                values[server] = None
                if info is None:
                    cells[server] = "not run"
                elif not info["available"]:
                    cells[server] = f"n/a: {info['short']}"
                else:
                    found = [m for m in info["metrics"] if m["key"] == meta["key"]]
                    value = found[0]["value"] if found else None
                    values[server] = value
                    cells[server] = fmt(value)
                    if found and found[0]["note"] and value is None:
                        cells[server] = f"n/a: {found[0]['note']}"
            ratio_cell = "n/a"
            mine, theirs = values["myelin"], values["synapse"]
            if mine is not None and theirs:
                ratio = mine / theirs
                verdict = ""
                if meta["better"] and abs(ratio - 1) < 0.005:
                    verdict = " same"
                elif meta["better"] == "higher":
                    verdict = " better" if ratio > 1 else " worse"
                elif meta["better"] == "lower":
                    verdict = " better" if ratio < 1 else " worse"
                ratio_cell = f"{ratio:.2f}x{verdict}"
            target = _target_of(meta)
            target_cell = ""
            if target is not None:
                met = target.met(mine, theirs)
                status = "?" if met is None else "met" if met else "NOT met"
                target_cell = f"{target.describe()}: {status}"
            unit = f" ({meta['unit']})" if meta["unit"] and meta["unit"] != "ops/s" else ""
            rows.append(
                [
                    name if index == 0 else "",
                    f"{meta['key']}{unit}",
                    cells["myelin"],
                    cells["synapse"],
                    ratio_cell,
                    target_cell,
                ]
            )
    notes = [
        f"{server} ({', '.join(names)}): {reason}" for (server, reason), names in grouped.items()
    ]
    return rows, notes


HEADER = ["scenario", "metric", "Myelin", "Synapse", "Myelin/Synapse", "target"]


def render_table(rows: list[list[str]]) -> str:
    """A Markdown table padded so it also reads well in a terminal."""
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    out = [line(HEADER), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def render_report(results: dict[str, Any]) -> str:
    """The whole printed/Markdown report: context, sizes, table, notes."""
    rows, notes = table_rows(results)
    mach = results["machine"]
    servers = results["servers"]
    lines = [
        f"- Run: {results['started']} ({results['mode']}, {results['database']}, "
        f"{results['sizes']['rounds']} rounds, {results['elapsed_s']:.0f} s in all)",
        f"- Machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB, "
        f"Linux {mach['kernel']}, Python {mach['python']}",
    ]
    for name in SERVERS:
        if name in servers:
            info = servers[name]
            state = (
                f"ready in {info['start_s']:.1f} s"
                if info["started"]
                else f"not started ({info['reason']})"
            )
            lines.append(f"- {name}: {info['version']}, {state}")
    lines += ["", render_table(rows)]
    if notes:
        lines += ["", "Not available, and why:", ""] + [f"- {n}" for n in notes]
    warnings = results.get("warnings", [])
    if warnings:
        lines += ["", "Warnings:", ""] + [f"- {w}" for w in warnings]
    return "\n".join(lines)


def sizes_text(results: dict[str, Any]) -> str:
    """The sizes of a run as a Markdown list of scenario descriptions."""
    out = []
    for name, scenario in results["scenarios"].items():
        out.append(f"- `{name}`: {scenario['description']}")
    return "\n".join(out)


def update_docs(path: Path, results: dict[str, Any], command: str) -> None:
    """Replace the marked 'latest results' section of docs/benchmarks.md with this run."""
    body = "\n".join(
        [
            DOCS_BEGIN,
            f"Command: `{command}`",
            "",
            render_report(results),
            "",
            "Sizes of this run:",
            "",
            sizes_text(results),
            DOCS_END,
        ]
    )
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if DOCS_BEGIN in text and DOCS_END in text:
        head, rest = text.split(DOCS_BEGIN, 1)
        tail = rest.split(DOCS_END, 1)[1]
        text = head + body + tail
    else:
        text = text.rstrip() + "\n\n## Latest results\n\n" + body + "\n"
    path.write_text(text)
