"""Optional ``--profile SERVER``: py-spy samples a server during each measured round.

py-spy attaches to the running process by PID (no change to the server), writes collapsed
stacks (``--format raw``) per scenario and round under ``.bench/profiles/``, and the
harness prints the functions with the most samples on top of the stack (self time).
Profiled runs perturb CPU numbers slightly: use them to find bottlenecks, not for the table.
"""

import collections
import shutil
import signal
import subprocess
import sys
from pathlib import Path


def ensure_pyspy(bench_dir: Path) -> str:
    """Path of a py-spy binary: on PATH, or pip-installed into ``.bench/tools-venv``."""
    found = shutil.which("py-spy")
    if found:
        return found
    venv = bench_dir / "tools-venv"
    exe = venv / "bin" / "py-spy"
    if not exe.exists():
        print(f"[bench] installing py-spy into {venv}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "py-spy"], check=True)
    return str(exe)


class Profiler:
    """One py-spy recording of one process."""

    def __init__(self, pyspy: str, pid: int, output: Path) -> None:
        """Start recording ``pid`` (and its subprocesses) into ``output``."""
        output.parent.mkdir(parents=True, exist_ok=True)
        self.output = output
        self.proc = subprocess.Popen(
            [
                pyspy,
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> str:
        """Stop recording (SIGINT makes py-spy write its file); return a top-10 summary."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return summarize(self.output)


# Leaf functions that mean "this thread is waiting", not working (thread pools, selectors).
IDLE_LEAVES = ("wait", "select", "poll", "epoll", "get", "sleep", "acquire", "_worker")


def summarize(path: Path, top: int = 10) -> str:
    """The functions most often on top of the stack in a collapsed-stacks file.

    Samples of threads parked in a wait (leaf function named like ``Condition.wait``,
    ``select``, ``poll``...) are left out of the percentages and counted separately.
    """
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    idle = 0
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return f"(no profile written to {path})"
    for line in lines:
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        leaf = stack.split(";")[-1]
        function = leaf.split(" (")[0].rsplit(".", 1)[-1]
        if function in IDLE_LEAVES:
            idle += samples
            continue
        total += samples
        counts[leaf] += samples
    if not total:
        return f"(profile {path} has no busy samples)"
    rows = [f"    {n * 100 / total:5.1f}%  {frame}" for frame, n in counts.most_common(top)]
    head = f"  {path}: {total} busy samples ({idle} waiting left out), top self time:"
    return head + "\n" + "\n".join(rows)
