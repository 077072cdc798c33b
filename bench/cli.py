"""Command line and orchestration: install, start both servers, alternate rounds, report.

Both servers stay up for the whole run, but only one is under load at any time: every
scenario runs round by round, and within a round each server in turn (A B A B ...), so
slow drifts of the machine hit both alike while neither competes with the other for the
two cores.
"""

import argparse
import asyncio
import json
import shutil
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import procstats
from bench.client import EndpointMissing, MatrixClient, ServerError, endpoint_template
from bench.loadgen import NotAvailable, RoundResult
from bench.metrics import MB, Metric, Target
from bench.profiling import Profiler, ensure_pyspy
from bench.report import machine, metric_json, render_report, update_docs
from bench.scenarios import SCENARIOS, Scenario, ServerContext
from bench.servers import (
    MyelinServer,
    Server,
    StartFailed,
    SynapseServer,
    create_database,
    drop_database,
    ensure_synapse,
)
from bench.sizes import Sizes, add_size_flags, sizes_from_args

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / ".bench"
IDLE_RSS_TARGET = Target("ratio_max", 1 / 3, "1/3")
ALIASES = {
    "send": ["send_one_room", "send_spread"],
    "sync": ["initial_sync", "incremental_sync"],
}
ALL_NAMES = [s.name for s in SCENARIOS] + ["memory"]


def log(message: str) -> None:
    """A progress line on stderr (the report goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark Myelin against Synapse on loopback (see docs/benchmarks.md).",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (bench-quick)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--only",
        default="",
        metavar="SCENARIO[,..]",
        help=f"run only these: {', '.join(ALL_NAMES)} (aliases: send, sync)",
    )
    parser.add_argument(
        "--servers",
        default="myelin,synapse",
        metavar="NAME[,..]",
        help="servers to run, in alternation order (default myelin,synapse)",
    )
    parser.add_argument(
        "--synapse-bcrypt-rounds",
        type=int,
        default=None,
        metavar="N",
        help="override Synapse's bcrypt_rounds (default: Synapse's own, 12)",
    )
    parser.add_argument(
        "--profile",
        default="",
        metavar="SERVER",
        help="sample this server with py-spy during every measured round",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="replace the latest-results section of docs/benchmarks.md with this run",
    )
    parser.add_argument(
        "--keep-data", action="store_true", help="keep earlier runs' data directories"
    )
    parser.add_argument(
        "--myelin-exe",
        type=Path,
        default=REPO / ".venv" / "bin" / "myelin",
        metavar="PATH",
        help="the myelin command (default: .venv/bin/myelin of this repository)",
    )
    add_size_flags(parser)
    return parser.parse_args(argv)


def select(only: str) -> tuple[list[Scenario], bool]:
    """The scenarios named by ``--only`` (all if empty), and whether memory is wanted."""
    if not only:
        return list(SCENARIOS), True
    names: list[str] = []
    for word in only.split(","):
        word = word.strip()
        for name in ALIASES.get(word, [word]):
            if name not in ALL_NAMES:
                raise SystemExit(f"unknown scenario {name!r}; known: {', '.join(ALL_NAMES)}")
            names.append(name)
    return [s for s in SCENARIOS if s.name in names], "memory" in names


class Run:
    """One benchmark run: servers, contexts, per-scenario results."""

    def __init__(self, args: argparse.Namespace, sizes: Sizes, run_dir: Path) -> None:
        """Remember the settings; nothing starts yet."""
        self.args = args
        self.sizes = sizes
        self.run_dir = run_dir
        self.order = [s.strip() for s in args.servers.split(",") if s.strip()]
        self.servers: dict[str, Server] = {}
        self.server_info: dict[str, dict[str, Any]] = {}
        self.contexts: dict[str, ServerContext] = {}
        self.databases: list[str] = []
        self.scenarios: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.pyspy = ""
        self.profiles: list[str] = []

    # --- servers ---------------------------------------------------------------------

    def make_server(self, name: str, stamp: str) -> Server:
        """Build (not start) a server, creating its PostgreSQL database if asked."""
        data_dir = self.run_dir / name
        url = None
        if self.args.postgres:
            db = f"bench_{name}_{stamp.replace('-', '_')}"
            url = create_database(db)
            self.databases.append(db)
        if name == "synapse":
            server: Server = SynapseServer(
                data_dir, url, BENCH_DIR / "synapse-venv", self.args.synapse_bcrypt_rounds
            )
            server.version = f"matrix-synapse {self.synapse_version}"
            return server
        if name == "myelin":
            return MyelinServer(data_dir, url, REPO, self.args.myelin_exe)
        raise SystemExit(f"unknown server {name!r} (myelin, synapse)")

    async def start_all(self, stamp: str) -> None:
        """Install Synapse if needed, then start each server in turn and probe it."""
        self.synapse_version = "?"
        for name in self.order:
            info: dict[str, Any] = {"started": False, "reason": "", "version": "?"}
            self.server_info[name] = info
            try:
                if name == "synapse":
                    self.synapse_version = await asyncio.to_thread(
                        ensure_synapse,
                        BENCH_DIR / "synapse-venv",
                        self.args.postgres,
                        BENCH_DIR / "synapse-install.log",
                    )
                server = self.make_server(name, stamp)
                self.servers[name] = server
                log(f"starting {name} on {server.base_url} (data in {server.data_dir})")
                await server.start(ready_within=180)
            except StartFailed as exc:
                info["reason"] = f"server failed to start: {exc}"
                info["version"] = getattr(self.servers.get(name), "version", "?")
                log(f"{name}: {info['reason']}")
                if name in self.servers:
                    self.servers[name].stop()
                continue
            info.update(
                started=True,
                version=server.version,
                start_s=server.start_seconds,
                pid=server.pid,
                url=server.base_url,
                log=str(server.log_path),
            )
            ctx = ServerContext(name, server, MatrixClient(server.base_url), self.sizes)
            ctx.missing = await probe(ctx.client)
            info["probe_missing"] = [f"{m} {p}" for (m, p) in ctx.missing]
            self.contexts[name] = ctx
            log(
                f"{name} ready in {server.start_seconds:.1f} s; lacks {len(ctx.missing)} "
                f"of the probed endpoints"
            )

    async def stop_all(self) -> None:
        """Close clients, stop servers, drop databases."""
        for ctx in self.contexts.values():
            await ctx.client.close()
        for server in self.servers.values():
            await asyncio.to_thread(server.stop)
        for db in self.databases:
            await asyncio.to_thread(drop_database, db)

    # --- scenarios -------------------------------------------------------------------

    def unavailable(self, name: str, scenario: Scenario) -> tuple[str, str] | None:
        """Why ``scenario`` cannot run on server ``name`` before trying, if known."""
        if name not in self.contexts:
            reason = self.server_info[name]["reason"] or "server failed to start"
            return "server failed to start", reason
        ctx = self.contexts[name]
        if not ctx.server.alive():
            return "server died", ctx.server.exit_reason()
        for method, path in scenario.endpoints:
            if (method, path) in ctx.missing:
                endpoint = f"{method} {endpoint_template(path)}"
                return (
                    f"lacks {endpoint}",
                    f"probe: {endpoint} answered {ctx.missing[(method, path)]}",
                )
        return None

    async def guarded(self, coro: Any, limit: float, what: str) -> Any:
        """Await ``coro`` under a hard time limit, turning every failure into NotAvailable."""
        try:
            return await asyncio.wait_for(coro, timeout=limit)
        except NotAvailable:
            raise
        except EndpointMissing as exc:
            raise NotAvailable(f"lacks {exc.method} {exc.path}", str(exc)) from exc
        except ServerError as exc:
            raise NotAvailable(f"error {exc.status} {exc.errcode}", f"{what}: {exc}") from exc
        except TimeoutError as exc:
            raise NotAvailable("timed out", f"{what}: no result after {limit:.0f} s") from exc
        except Exception as exc:  # a partial server can answer anything: report, go on
            trace = traceback.format_exc()
            (self.run_dir / "harness-errors.log").open("a").write(f"{what}\n{trace}\n")
            raise NotAvailable(
                f"harness error {type(exc).__name__}", f"{what}: {exc!r} (see harness-errors.log)"
            ) from exc

    async def run_scenario(self, scenario: Scenario) -> None:
        """Setup on every server, then the rounds in alternation, then the summaries."""
        sizes = self.sizes
        entry: dict[str, Any] = {
            "description": scenario.description.format(**asdict(sizes)),
            "servers": {},
        }
        self.scenarios[scenario.name] = entry
        active: list[str] = []
        for name in self.order:
            reason = self.unavailable(name, scenario)
            if reason is None:
                ctx = self.contexts[name]
                try:
                    deadline = time.monotonic() + sizes.setup_timeout
                    started = time.monotonic()
                    await self.guarded(
                        scenario.setup(ctx, deadline),
                        sizes.setup_timeout + 30,
                        f"{name}/{scenario.name} setup",
                    )
                    log(f"{scenario.name}: {name} set up in {time.monotonic() - started:.1f} s")
                except NotAvailable as exc:
                    reason = (exc.short, exc.detail)
            if reason is not None:
                entry["servers"][name] = self.na(reason)
                log(f"{scenario.name}: {name} not available: {reason[1]}")
            else:
                entry["servers"][name] = {"available": True, "rounds": []}
                active.append(name)
        rounds: dict[str, list[RoundResult]] = {name: [] for name in active}
        for round_no in range(sizes.rounds):
            for name in list(active):
                ctx = self.contexts[name]
                await asyncio.sleep(sizes.settle)
                profiler = self.start_profiler(name, scenario.name, round_no)
                try:
                    ctx.check_alive()
                    deadline = time.monotonic() + sizes.scenario_timeout
                    result: RoundResult = await self.guarded(
                        scenario.run(ctx, round_no, deadline),
                        sizes.scenario_timeout + sizes.setup_timeout + 60,
                        f"{name}/{scenario.name} round {round_no + 1}",
                    )
                except NotAvailable as exc:
                    entry["servers"][name] = self.na((exc.short, exc.detail))
                    active.remove(name)
                    log(f"{scenario.name}: {name} not available: {exc.detail}")
                    continue
                finally:
                    if profiler is not None:
                        self.profiles.append(profiler.stop())
                        log("profile:\n" + self.profiles[-1])
                rounds[name].append(result)
                ctx.peak_rss = max(ctx.peak_rss, result.peak_rss)
                entry["servers"][name]["rounds"].append(result.to_json())
                self.check_round(name, scenario.name, round_no, result)
        for name in active:
            metrics = scenario.summarize(rounds[name], sizes)
            entry["servers"][name]["metrics"] = [metric_json(m) for m in metrics]

    def check_round(self, name: str, scenario: str, round_no: int, result: RoundResult) -> None:
        """Log a round and keep warnings about truncation and errors."""
        where = f"{name}/{scenario} round {round_no + 1}"
        log(
            f"{scenario}: {name} round {round_no + 1}: {result.ops} ops in {result.wall:.2f} s, "
            f"server CPU {result.cpu:.2f} s, load generator CPU {result.client_cpu:.2f} s, "
            f"idle server CPU {result.idle_server_cpu:.2f} s"
        )
        if result.truncated:
            self.warnings.append(
                f"{where}: stopped by the {self.sizes.scenario_timeout:.0f} s cap after "
                f"{result.ops}/{result.planned} operations"
            )
        if result.errors:
            self.warnings.append(f"{where}: {result.errors} errors, first: {result.first_error}")

    @staticmethod
    def na(reason: tuple[str, str]) -> dict[str, Any]:
        """The JSON entry of a scenario that is not available on a server."""
        return {"available": False, "short": reason[0], "reason": reason[1]}

    def start_profiler(self, name: str, scenario: str, round_no: int) -> Profiler | None:
        """Start py-spy on this server if ``--profile`` names it."""
        if self.args.profile != name or name not in self.contexts:
            return None
        out = BENCH_DIR / "profiles" / self.run_dir.name / f"{scenario}-{name}-r{round_no + 1}.txt"
        return Profiler(self.pyspy, self.contexts[name].server.pid, out)

    # --- memory ----------------------------------------------------------------------

    def memory_entry(self, idle: dict[str, int]) -> dict[str, Any]:
        """Idle RSS after start, RSS after the load, and the peak over the run."""
        entry: dict[str, Any] = {
            "description": "RSS of the server process tree: idle after start, after all "
            "scenarios, and the peak (VmHWM) over the run",
            "servers": {},
        }
        for name in self.order:
            if name not in self.contexts:
                entry["servers"][name] = self.na(
                    ("server failed to start", self.server_info[name]["reason"])
                )
                continue
            ctx = self.contexts[name]
            if not ctx.server.alive():
                entry["servers"][name] = self.na(("server died", ctx.server.exit_reason()))
                continue
            now = procstats.sample(ctx.server.pid)
            metrics = [
                Metric("idle RSS", "MB", idle[name] / MB, "lower", IDLE_RSS_TARGET),
                Metric("RSS after load", "MB", now.rss_bytes / MB, "lower"),
                Metric("peak RSS", "MB", max(ctx.peak_rss, now.hwm_bytes) / MB, "lower"),
            ]
            entry["servers"][name] = {
                "available": True,
                "processes": now.processes,
                "metrics": [metric_json(m) for m in metrics],
            }
        return entry

    async def main(self, scenarios: list[Scenario], memory: bool, stamp: str) -> None:
        """Start, measure idle memory, run every scenario, measure memory, stop."""
        try:
            if self.args.profile:
                self.pyspy = await asyncio.to_thread(ensure_pyspy, BENCH_DIR)
            await self.start_all(stamp)
            pids = [ctx.server.pid for ctx in self.contexts.values()]
            for ctx in self.contexts.values():
                ctx.idle_pids = pids
            await asyncio.sleep(max(2.0, self.sizes.settle * 5))
            idle = {
                name: procstats.sample(ctx.server.pid).rss_bytes
                for name, ctx in self.contexts.items()
            }
            for name, rss in idle.items():
                self.server_info[name]["idle_rss_bytes"] = rss
            for scenario in scenarios:
                await self.run_scenario(scenario)
            if memory:
                self.scenarios["memory"] = self.memory_entry(idle)
        finally:
            await self.stop_all()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the ratio table and write the JSON results."""
    args = parse_args(argv)
    sizes = sizes_from_args(args)
    scenarios, memory = select(args.only)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    runs = BENCH_DIR / "runs"
    if runs.exists() and not args.keep_data:
        # Earlier runs' data is scratch; one younger than an hour may belong to a run still
        # going in another shell, so it stays.
        for old in runs.iterdir():
            if time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
    run_dir = runs / stamp
    run_dir.mkdir(parents=True, exist_ok=True)
    run = Run(args, sizes, run_dir)
    started = time.monotonic()
    runner_factory: Any = None
    try:
        import uvloop

        runner_factory = uvloop.new_event_loop
    except ImportError:
        pass
    log(
        f"run {stamp}: {'quick' if args.quick else 'full'} sizes, servers {run.order}, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}; logs in {run_dir}"
    )
    with asyncio.Runner(loop_factory=runner_factory) as runner:
        runner.run(run.main(scenarios, memory, stamp))
    results: dict[str, Any] = {
        "started": stamp,
        "mode": "quick" if args.quick else "full",
        "database": "PostgreSQL" if args.postgres else "SQLite",
        "command": " ".join(["bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "elapsed_s": time.monotonic() - started,
        "machine": machine(),
        "sizes": asdict(sizes),
        "servers": run.server_info,
        "scenarios": run.scenarios,
        "warnings": run.warnings,
        "profiles": run.profiles,
    }
    out_dir = BENCH_DIR / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{stamp}.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    report = render_report(results)
    (out_dir / f"{stamp}.md").write_text(report + "\n")
    print(report)
    print(f"\nJSON: {out}")
    if args.write_docs:
        update_docs(REPO / "docs" / "benchmarks.md", results, results["command"])
        print(f"updated {REPO / 'docs' / 'benchmarks.md'}")
    if not args.keep_data:
        for name in ("myelin", "synapse"):
            for sub in ("media_store",):
                shutil.rmtree(run_dir / name / sub, ignore_errors=True)
    synapse = run.server_info.get("synapse")
    return 1 if synapse is not None and not synapse["started"] else 0


async def probe(client: MatrixClient) -> dict[tuple[str, str], str]:
    """Endpoints the server lacks, found by unauthenticated requests (404/405 M_UNRECOGNIZED).

    An endpoint that answers anything else (401, 400, ...) counts as present; scenarios
    still find a missing one on use, since a server may check the token before routing.
    """
    missing: dict[tuple[str, str], str] = {}
    endpoints = {ep for scenario in SCENARIOS for ep in scenario.endpoints}
    for method, path in sorted(endpoints):
        body: dict[str, Any] | None = {} if method in ("POST", "PUT") else None
        try:
            await client.request(method, path, body=body, time_limit=10)
        except EndpointMissing as exc:
            missing[(method, path)] = f"{exc.status} {exc.errcode}"
        except ServerError:
            pass
    return missing
