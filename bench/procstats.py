"""CPU time and memory of a server's process tree, read from /proc.

CPU seconds are utime+stime of every live process in the tree plus cutime+cstime of the
root (children it has already reaped). Memory is the sum over the tree of VmRSS (current)
and VmHWM (peak resident set since start, or since the last :func:`reset_peak`).
"""

import os
from dataclasses import dataclass
from pathlib import Path

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


@dataclass(frozen=True)
class ProcSample:
    """One reading of a process tree."""

    cpu_seconds: float
    rss_bytes: int
    hwm_bytes: int
    processes: int


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name, or None if the process is gone."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces: split after the last ')'.
    return raw[raw.rfind(")") + 2 :].split()


def tree_pids(root: int) -> list[int]:
    """The root PID and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None:
            continue
        # fields[0] is state, fields[1] is ppid.
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        if _stat_fields(pid) is None:
            continue
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _status_kib(pid: int, key: str) -> int:
    """A ``kB`` field of /proc/PID/status (0 if missing or the process is gone)."""
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def sample(root: int) -> ProcSample:
    """Read CPU seconds, current RSS and peak RSS of the tree rooted at ``root``."""
    ticks = 0
    rss = 0
    hwm = 0
    pids = tree_pids(root)
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is None:
            continue
        # After the name: utime is field 14 of stat, i.e. index 11 here; stime 12;
        # cutime 13; cstime 14.
        ticks += int(fields[11]) + int(fields[12])
        if pid == root:
            ticks += int(fields[13]) + int(fields[14])
        rss += _status_kib(pid, "VmRSS") * 1024
        hwm += _status_kib(pid, "VmHWM") * 1024
    return ProcSample(ticks / _CLK_TCK, rss, hwm, len(pids))


def reset_peak(root: int) -> bool:
    """Reset VmHWM of every process in the tree to its current RSS (``clear_refs`` 5).

    Returns False when the kernel refused, in which case peaks are since process start.
    """
    ok = True
    for pid in tree_pids(root):
        try:
            (_PROC / str(pid) / "clear_refs").write_text("5")
        except OSError:
            ok = False
    return ok


def self_cpu_seconds() -> float:
    """CPU seconds (user+system) used so far by this process, the load generator."""
    times = os.times()
    return times.user + times.system
