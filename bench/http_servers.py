"""One-off measurement behind the choice of HTTP server (docs/architecture.md): the same
Myelin ASGI app under uvicorn (uvloop + httptools) and under granian (ASGI, uvloop), one
worker each, alternating A B A B, driven over loopback by a pooled aiohttp client.

Run: .venv/bin/pip install granian==2.8.7 && .venv/bin/python bench/http_servers.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
SECONDS = 5.0
CONCURRENCY = 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(kind: str, config: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "MYELIN_CONFIG": str(config)}
    if kind == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", "--factory", "bench.http_servers:make_app",
               "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http",
               "httptools", "--no-access-log", "--log-level", "warning"]
    else:
        cmd = [str(Path(sys.executable).parent / "granian"), "--interface", "asgi", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
               "--log-level", "warning", "--no-ws", "bench.http_servers:make_app"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def make_app():  # type: ignore[no-untyped-def]
    from myelin.app import App
    from myelin.config import load_config

    return App(load_config(os.environ["MYELIN_CONFIG"]))


async def drive(url: str, path: str, headers: dict[str, str]) -> tuple[float, float, float]:
    latencies: list[float] = []
    deadline = time.monotonic() + SECONDS
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as s:
        async def worker() -> None:
            while time.monotonic() < deadline:
                t = time.perf_counter()
                async with s.get(url + path, headers=headers) as r:
                    await r.read()
                    assert r.status == 200, r.status
                latencies.append(time.perf_counter() - t)
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    latencies.sort()
    return (len(latencies) / SECONDS, statistics.median(latencies) * 1000,
            latencies[int(len(latencies) * 0.99)] * 1000)


async def main(config: Path) -> None:
    results: dict[str, list[tuple[float, float, float]]] = {}
    for _round in range(2):
        for kind in ("uvicorn", "granian"):
            port = free_port()
            proc = start(kind, config, port)
            url = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as s:
                for _ in range(200):
                    try:
                        async with s.get(url + "/_matrix/client/versions") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.05)
                async with s.post(url + "/_matrix/client/v3/register", json={
                        "username": f"u{kind}{_round}", "password": "benchmark pw",
                        "auth": {"type": "m.login.dummy"}}) as r:
                    token = (await r.json())["access_token"]
            for path, headers in (("/_matrix/client/versions", {}),
                                  ("/_matrix/client/v3/account/whoami",
                                   {"Authorization": f"Bearer {token}"})):
                results.setdefault(f"{kind} {path}", []).append(
                    await drive(url, path, headers))
            proc.terminate()
            proc.wait(10)
    for name, runs in results.items():
        rps = statistics.mean(r[0] for r in runs)
        p50 = statistics.mean(r[1] for r in runs)
        p99 = statistics.mean(r[2] for r in runs)
        print(f"{name:50s} {rps:8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "myelin", "generate-config", "--server-name",
                        "localhost", "--data-dir", tmp, "--enable-registration",
                        "--disable-rate-limits"], check=True, capture_output=True)
        asyncio.run(main(Path(tmp) / "myelin.yaml"))
