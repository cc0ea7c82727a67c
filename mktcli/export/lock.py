"""One OUT, one writer: advisory locks (fcntl.flock) so two runs never write the same bundle at once.

A run that writes OUT/<name>/ (mkt poster, a batch's merge) holds OUT/<name>/.mkt.lock exclusively, and
OUT/.mkt.lock shared; `mkt batch` holds OUT/.mkt.lock exclusively for its whole run (its workers write into many
bundles). A second run waits up to `bundle.lock_wait_seconds` (configs/limits.yaml) and then stops with exit 2,
naming the folder and the run that holds it — so a manifest can never describe another run's files, and a run's
start never deletes another live run's temp files. The kernel drops a lock when its process ends, even by kill -9:
a crashed run never leaves a folder locked.

Locks are per thread: the thread that holds one may take it again (a batch's merge inside its own run); another
thread of the same process waits like another process would."""
from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import MktError, clip
from ..limits import limits

LOCK_FILE = ".mkt.lock"
_POLL = 0.1


class BundleBusy(MktError):
    """Another run is writing the same bundle (or the same OUT, for a batch): exit 2, retry when it is done."""


@dataclass
class _Held:
    fd: int | None        # None where the file system cannot lock (the run goes on unlocked)
    exclusive: bool
    thread: int
    path: str


_held: dict[tuple[str, int], _Held] = {}              # (lock file, thread) → the lock that thread holds
_sessions: dict[tuple[str, int], list[_Held]] = {}   # (bundle folder, thread) → the locks hold_bundle took
_guard = threading.Lock()


def _holder(fd: int) -> str:
    try:
        raw = os.pread(fd, 4096, 0)
        info = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (OSError, ValueError, UnicodeDecodeError):
        info = {}
    if not info.get("pid"):
        return "another mkt run"
    return (f"pid {info['pid']}" + (f" on {info['host']}" if info.get("host") else "")
            + (f": {clip(info['command'], 60)}" if info.get("command") else "")
            + (f", since {info['since']}" if info.get("since") else ""))


def _acquire(path: Path, exclusive: bool, what: str, wait: float,
             on_wait: Callable[[str], None] | None) -> _Held | None:
    """Take the lock at `path`; None when this thread already holds it in a mode that covers the request."""
    import fcntl

    key = str(path.resolve())
    me = threading.get_ident()
    with _guard:
        h = _held.get((key, me))
        if h is not None and (h.exclusive or not exclusive):
            return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            who = _holder(fd)
            if time.monotonic() >= deadline:
                os.close(fd)
                raise BundleBusy(f"{what} is being written by {who}",
                                 "wait for that run to finish and run again, or write elsewhere with -o; "
                                 f"runs wait {wait:g} s for each other (bundle.lock_wait_seconds in "
                                 "configs/limits.yaml)") from None
            if on_wait and not told:
                on_wait(f"waiting for {who} to finish writing {what} …")
                told = True
            time.sleep(_POLL)
        except OSError:   # a file system without flock (some network mounts): go on unlocked, as before locks
            os.close(fd)
            held = _Held(None, exclusive, me, key)
            with _guard:
                _held[(key, me)] = held
            return held
    if exclusive:   # who holds it, for the message the next run shows
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(["mkt", *sys.argv[1:]]),
                "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info, ensure_ascii=False).encode("utf-8"), 0)
    held = _Held(fd, exclusive, me, key)
    with _guard:
        _held[(key, me)] = held
    return held


def _release(h: _Held) -> None:
    import fcntl

    with _guard:
        if _held.get((h.path, h.thread)) is h:
            del _held[(h.path, h.thread)]
    if h.fd is not None:
        try:
            if h.exclusive:
                os.ftruncate(h.fd, 0)
            fcntl.flock(h.fd, fcntl.LOCK_UN)
        finally:
            os.close(h.fd)


def close_inherited() -> None:
    """In a forked child: close the descriptors of the locks this module's table lists, which the parent holds
    (closing, not unlocking: the lock belongs to the parent's open file, which unlocking would release for the
    parent too), and empty the table."""
    with _guard:
        held = list(_held.values())
        _held.clear()
    for h in held:
        if h.fd is not None:
            try:
                os.close(h.fd)
            except OSError:
                pass


def _wait_seconds() -> float:
    return limits().bundle.lock_wait_seconds


def hold_bundle(out: Path, bundle_dir: Path, on_wait: Callable[[str], None] | None = None) -> None:
    """Lock a bundle folder for this run (OUT shared, the bundle exclusive) until `release_bundle`. A hold this
    thread left behind (a run that raised before its bundle was written) is taken over, not waited on."""
    wait = _wait_seconds()
    key = (str(Path(bundle_dir).resolve()), threading.get_ident())   # only this thread's own hold is taken over
    with _guard:
        stale = _sessions.pop(key, None)
    if stale:
        for h in stale:
            _release(h)
    held: list[_Held] = []
    try:
        for path, exclusive, what in ((Path(out) / LOCK_FILE, False, f"the output folder {clip(str(out), 300)}"),
                                      (Path(bundle_dir) / LOCK_FILE, True, f"the bundle {clip(str(bundle_dir), 300)}")):
            h = _acquire(path, exclusive, what, wait, on_wait)
            if h is not None:
                held.append(h)
    except BaseException:
        for h in held:
            _release(h)
        raise
    with _guard:
        _sessions[key] = held


def release_bundle(bundle_dir: Path) -> None:
    with _guard:
        held = _sessions.pop((str(Path(bundle_dir).resolve()), threading.get_ident()), [])
    for h in reversed(held):
        _release(h)


@contextmanager
def hold_out(out: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """OUT locked exclusively for a whole run (mkt batch): no mkt poster or other batch writes into it meanwhile."""
    h = _acquire(Path(out) / LOCK_FILE, True, f"the output folder {clip(str(out), 300)}", _wait_seconds(), on_wait)
    try:
        yield
    finally:
        if h is not None:
            _release(h)
