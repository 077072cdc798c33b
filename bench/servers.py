"""Starting and stopping the two servers under test, each in a fresh data directory.

Synapse is pip-installed from PyPI into its own virtualenv under ``.bench/`` on first use
and run unmodified, with an override config file for the benchmark (loopback listener,
open registration, raised rate limits). Myelin is run through its own CLI from the
repository's ``.venv``. With ``--postgres`` each gets a fresh database, dropped at the end.
"""

import abc
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

SYNAPSE_VERSION = "1.163.2"
SERVER_NAME = "localhost"
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"

# Every Synapse rate limiter, raised so none of them shapes the results.
_HUGE = {"per_second": 1_000_000, "burst_count": 1_000_000}
SYNAPSE_RATE_LIMITS: dict[str, object] = {
    "rc_message": _HUGE,
    "rc_registration": _HUGE,
    "rc_registration_token_validity": _HUGE,
    "rc_login": {"address": _HUGE, "account": _HUGE, "failed_attempts": _HUGE},
    "rc_admin_redaction": _HUGE,
    "rc_joins": {"local": _HUGE, "remote": _HUGE},
    "rc_joins_per_room": _HUGE,
    "rc_3pid_validation": _HUGE,
    "rc_invites": {"per_room": _HUGE, "per_user": _HUGE, "per_issuer": _HUGE},
    "rc_third_party_invite": _HUGE,
    "rc_media_create": _HUGE,
    "rc_presence": {"per_user": _HUGE},
    "rc_delayed_event_mgmt": _HUGE,
    "rc_room_creation": _HUGE,
    "rc_reports": _HUGE,
    "rc_user_directory": _HUGE,
    "rc_profile": _HUGE,
    "rc_key_requests": _HUGE,
}


class StartFailed(Exception):
    """A server could not be installed, configured or started; the message says why."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log file, joined with ' | ' for one-line reports."""
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


# --- PostgreSQL ------------------------------------------------------------------------


def _psql(sql: str) -> None:
    """Run one statement as the postgres user on the loopback server."""
    psql = shutil.which("psql")
    if psql is None:
        raise StartFailed("psql not found (needed for --postgres)")
    cmd = [psql, "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-d", "postgres"]
    proc = subprocess.run(
        [*cmd, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise StartFailed(f"psql failed: {proc.stderr.strip()[:300]}")


def create_database(name: str) -> str:
    """Create a fresh database (C collation, as Synapse requires); return its URL."""
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(
        f"CREATE DATABASE \"{name}\" TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C' ENCODING 'UTF8'"
    )
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def drop_database(name: str) -> None:
    """Drop a benchmark database, ignoring failures (it is scratch)."""
    try:
        _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except (StartFailed, subprocess.SubprocessError):
        pass


# --- Synapse installation --------------------------------------------------------------


def ensure_synapse(venv: Path, postgres: bool, log: Path) -> str:
    """Make sure ``venv`` holds matrix-synapse (and psycopg2 for PostgreSQL).

    Creates the virtualenv with ``python3 -m venv`` and pip-installs from PyPI on first use.
    Returns the installed Synapse version. Raises StartFailed on failure.
    """
    python = venv / "bin" / "python"
    check = "import synapse; print(synapse.__version__.split()[0])"
    if postgres:
        check = "import psycopg2; " + check

    def installed() -> str | None:
        if not python.exists():
            return None
        proc = subprocess.run(
            [str(python), "-c", check], capture_output=True, text=True, check=False
        )
        version = proc.stdout.strip()
        return version if proc.returncode == 0 and version == SYNAPSE_VERSION else None

    version = installed()
    if version:
        return version
    packages = [f"matrix-synapse=={SYNAPSE_VERSION}"] + (["psycopg2-binary"] if postgres else [])
    print(
        f"[bench] installing {' '.join(packages)} into {venv} (first use; about a minute)",
        file=sys.stderr,
        flush=True,
    )
    log.parent.mkdir(parents=True, exist_ok=True)
    base = shutil.which("python3") or sys.executable
    steps = []
    if not python.exists():
        steps.append([base, "-m", "venv", str(venv)])
    steps.append([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    steps.append([str(python), "-m", "pip", "install", "-q", *packages])
    with log.open("a") as out:
        for step in steps:
            out.write(f"$ {' '.join(step)}\n")
            out.flush()
            if subprocess.run(step, stdout=out, stderr=out, check=False).returncode != 0:
                raise StartFailed(f"'{' '.join(step[-3:])}' failed; see {log}: {_tail(log)}")
    version = installed()
    if not version:
        raise StartFailed(f"Synapse import check failed after install; see {log}")
    return version


# --- servers ---------------------------------------------------------------------------


class Server(abc.ABC):
    """A homeserver process under test, on a loopback port with its own data directory."""

    label = "server"

    def __init__(self, data_dir: Path, database_url: str | None) -> None:
        """Prepare (not start) a server in ``data_dir``; ``database_url`` selects PostgreSQL."""
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "stdout.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.version = "?"
        self.start_seconds = 0.0

    @property
    def pid(self) -> int:
        """PID of the running server process."""
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.proc is not None and self.proc.poll() is None

    def exit_reason(self) -> str:
        """Why the process is gone: exit code and the end of its output."""
        code = self.proc.poll() if self.proc else None
        return f"exited with code {code}: {_tail(self.log_path, 3)}"

    @abc.abstractmethod
    def prepare(self) -> list[str]:
        """Write the configuration; return the command that runs the server."""

    def _spawn(self, cmd: list[str], env: dict[str, str] | None = None) -> None:
        """Start the server in its own process group with output to its log file."""
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.data_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
        out.close()

    async def start(self, ready_within: float) -> None:
        """Configure, spawn and wait until ``/_matrix/client/versions`` answers 200."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        cmd = await asyncio.to_thread(self.prepare)
        self._spawn(cmd)
        deadline = started + ready_within
        url = self.base_url + "/_matrix/client/versions"
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise StartFailed(self.exit_reason())
                try:
                    async with session.get(url) as resp:
                        if resp.status == 200:
                            self.start_seconds = time.monotonic() - started
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        raise StartFailed(f"not ready after {ready_within:.0f}s: {_tail(self.log_path, 3)}")

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it after 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass


class SynapseServer(Server):
    """Synapse from PyPI, run as ``python -m synapse.app.homeserver``."""

    label = "synapse"

    def __init__(
        self, data_dir: Path, database_url: str | None, venv: Path, bcrypt_rounds: int | None
    ) -> None:
        """Prepare Synapse from the virtualenv ``venv``."""
        super().__init__(data_dir, database_url)
        self.venv = venv
        self.bcrypt_rounds = bcrypt_rounds

    def overrides(self) -> dict[str, object]:
        """The benchmark's settings, layered over Synapse's generated homeserver.yaml."""
        config: dict[str, object] = {
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "enable_registration": True,
            "enable_registration_without_verification": True,
            "report_stats": False,
            "suppress_key_server_warning": True,
            "trusted_key_servers": [],
            # No listener serves federation, and no remote server may be contacted.
            "federation_domain_whitelist": [],
            "presence": {"enabled": True},
            "enable_metrics": False,
            "url_preview_enabled": False,
            # Keep Synapse from answering repeated identical /sync requests from a 2-minute
            # response cache: the sync scenarios measure computing a response.
            "caches": {"sync_response_cache_duration": 0},
            **SYNAPSE_RATE_LIMITS,
        }
        if self.bcrypt_rounds is not None:
            config["bcrypt_rounds"] = self.bcrypt_rounds
        if self.database_url:
            name = self.database_url.rsplit("/", 1)[1]
            config["database"] = {
                "name": "psycopg2",
                "args": {
                    "user": PG_USER,
                    "host": PG_HOST,
                    "port": PG_PORT,
                    "database": name,
                    "cp_min": 5,
                    "cp_max": 10,
                },
            }
        return config

    def prepare(self) -> list[str]:
        """Generate Synapse's config and write the override file next to it."""
        python = str(self.venv / "bin" / "python")
        main_config = self.data_dir / "homeserver.yaml"
        proc = subprocess.run(
            [
                python,
                "-m",
                "synapse.app.homeserver",
                "--server-name",
                SERVER_NAME,
                "--config-path",
                str(main_config),
                "--data-directory",
                str(self.data_dir),
                "--generate-config",
                "--report-stats=no",
            ],
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise StartFailed(f"generate-config failed: {proc.stderr.strip()[-300:]}")
        override = self.data_dir / "bench-overrides.yaml"
        # JSON is YAML; later -c files override top-level keys of earlier ones.
        override.write_text(json.dumps(self.overrides(), indent=1))
        return [python, "-m", "synapse.app.homeserver", "-c", str(main_config), "-c", str(override)]


class MyelinServer(Server):
    """Myelin from the repository's ``.venv``, through ``myelin generate-config`` and ``run``."""

    label = "myelin"

    def __init__(self, data_dir: Path, database_url: str | None, repo: Path, exe: Path) -> None:
        """Prepare Myelin: ``exe`` is the ``myelin`` command, ``repo`` its source tree."""
        super().__init__(data_dir, database_url)
        self.exe = exe
        self.repo = repo

    def prepare(self) -> list[str]:
        """Run ``myelin generate-config``; fail if the CLI is missing or refuses."""
        if not self.exe.exists():
            raise StartFailed(f"{self.exe} not found")
        cmd = [
            str(self.exe),
            "generate-config",
            "--server-name",
            SERVER_NAME,
            "--data-dir",
            str(self.data_dir),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--enable-registration",
            "--disable-rate-limits",
        ]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        try:
            proc = subprocess.run(
                cmd, cwd=self.data_dir, capture_output=True, text=True, timeout=60, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StartFailed(f"myelin generate-config: {exc}") from exc
        if proc.returncode != 0:
            message = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            raise StartFailed(
                f"myelin generate-config exited {proc.returncode}: "
                f"{message[-1][:200] if message else ''}"
            )
        config = self.data_dir / "myelin.yaml"
        if not config.exists():
            raise StartFailed(f"myelin generate-config wrote no {config.name}")
        self.version = _git_version(self.repo)
        return [str(self.exe), "run", "-c", str(config)]


def _git_version(repo: Path) -> str:
    """``git describe``-style version of the working tree (commit, and '+dirty')."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return "?"
    return f"git {head}{'+dirty' if dirty else ''}" if head else "?"
