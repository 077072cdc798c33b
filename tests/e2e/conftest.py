"""Real server processes for end-to-end tests: ``myelin generate-config`` then ``myelin run``,
talking to 127.0.0.1 only, each with its own data directory and port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import API_ENGINE, create_postgres_database, drop_postgres_database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "myelin", "run", "-c", str(self.data_dir / "myelin.yaml")],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/_matrix/client/versions", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server did not start in {timeout}s:\n{self.log_path.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flush; what was acknowledged must survive."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
async def server_process(tmp_path: Path) -> AsyncIterator[Callable[..., ServerProcess]]:
    """``await make(engine=..., registration=True)`` → a started ServerProcess (the engine
    defaults to MYELIN_TEST_DATABASE, like the in-process API tests)."""
    made: list[tuple[ServerProcess, str | None]] = []

    async def make(engine: str = API_ENGINE, registration: bool = True,
                   rate_limits: bool = False) -> ServerProcess:
        data_dir = tmp_path / f"server{len(made)}"
        port = free_port()
        db_url = await create_postgres_database() if engine == "postgres" else None
        args = [sys.executable, "-m", "myelin", "generate-config", "--server-name", "localhost",
                "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"]
        if registration:
            args.append("--enable-registration")
        if not rate_limits:
            args.append("--disable-rate-limits")
        if db_url:
            args += ["--database-url", db_url]
        subprocess.run(args, check=True, capture_output=True)
        server = ServerProcess(data_dir, port)
        server.start()
        made.append((server, db_url))
        return server

    yield make
    for server, db_url in made:
        server.stop()
        if db_url:
            await drop_postgres_database(db_url)

