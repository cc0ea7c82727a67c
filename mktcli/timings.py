"""Where a run's time went: `mkt poster --timings` (or MKT_TIMINGS=1) prints it, `--json` carries it, and
benchmarks/bundle.py records it.

Phases are always measured (two clock reads each, nothing to switch on). A phase that runs in render workers adds
up across them, so per-creative phases can sum to more than the wall time: they say where the work went, the
`wall` line says how long the user waited."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_lock = threading.Lock()
_seconds: dict[str, float] = {}
_calls: dict[str, int] = {}

# the order phases are listed in (others follow in the order they first ran)
ORDER = ("start-up", "brief", "copy", "engine", "layout", "visuals", "compose", "encode", "checks", "psd", "svg",
         "write files", "thumbnail", "text channels", "placement", "approval", "manifest", "registry")


def requested(flag: bool = False) -> bool:
    return flag or os.environ.get("MKT_TIMINGS", "").strip() not in ("", "0")


def reset() -> None:
    with _lock:
        _seconds.clear()
        _calls.clear()


def add(name: str, seconds: float, calls: int = 1) -> None:
    with _lock:
        _seconds[name] = _seconds.get(name, 0.0) + seconds
        _calls[name] = _calls.get(name, 0) + calls


def snapshot() -> dict[str, tuple[float, int]]:
    """{phase: (seconds, calls)} so far: what a worker process sends back to be merged."""
    with _lock:
        return {n: (_seconds[n], _calls[n]) for n in _seconds}


def merge(spent: dict[str, tuple[float, int]]) -> None:
    for name, (seconds, calls) in spent.items():
        add(name, seconds, calls)


@contextmanager
def phase(name: str) -> Iterator[None]:
    t = time.perf_counter()
    try:
        yield
    finally:
        add(name, time.perf_counter() - t)


def process_age() -> float | None:
    """Seconds since this process started (Linux: /proc, 10 ms resolution), so start-up counts the interpreter and
    the imports before mkt's first line ran; None where that cannot be read."""
    try:
        with open("/proc/self/stat", "rb") as f:
            start_ticks = int(f.read().rsplit(b")", 1)[1].split()[19])
        with open("/proc/uptime", "rb") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def mark_start_up() -> None:
    """Record start-up (process start → the command begins): call once, first thing in a command."""
    age = process_age()
    if age is not None:
        add("start-up", age)


def report(wall: float | None = None) -> dict[str, Any]:
    """{'phases': [{'phase', 'seconds', 'calls'}…] in ORDER, 'wall': seconds the process has run}."""
    with _lock:
        names = [n for n in ORDER if n in _seconds] + [n for n in _seconds if n not in ORDER]
        rows = [{"phase": n, "seconds": round(_seconds[n], 4), "calls": _calls[n]} for n in names]
    age = process_age() if wall is None else wall
    return {"phases": rows, "wall": round(age, 3) if age is not None else None}
