"""Atomic file writes and safe paths: a reader never sees half a file, and nothing is written outside OUT."""
from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import MktError, PathEscapeError, clip


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()   # what open() would give: mkstemp's 0600 would hide the bundle from its readers


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write `path` through a temp file in the same folder, renamed into place when the block ends without an
    error (a reader sees the old file or the whole new one); on an error the temp file is removed."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):   # `mkt init /dev/zero --force` …
        raise MktError(f"refusing to replace {clip(str(path))}: it is not a regular file (a device, a FIFO or a "
                       "folder)", "write to a file name of your own")
    path.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name: remove_stale_temp_files leaves a live run's temp files alone
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), _MODE)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write(path: Path, data: bytes) -> None:
    with atomic_file(path) as f:
        f.write(data)


def atomic_write_json(path: Path, obj: Any) -> bytes:
    data = (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    atomic_write(path, data)
    return data


def check_out_dir(out: str | Path) -> Path:
    """OUT must be a folder (or not exist yet): a file there would fail deep inside a run with an OS error."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise MktError(f"the output folder {out} is a file", "give -o a folder (it is created when missing)")
    for parent in out.parents:   # out/…/x where a parent is a file
        if parent.exists():
            if not parent.is_dir():
                raise MktError(f"cannot create the output folder {out}: {parent} is a file",
                               "give -o a folder path")
            break
    return out


def make_dir(folder: Path, what: str = "output folder") -> Path:
    """Create a folder we write into (parents too), or a one-screen error naming it (exit 2): /proc/x, a read-only
    file system, no permission, a name too long."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MktError(f"cannot create the {what} {clip(str(folder))}: {e.strerror or e}",
                       "give -o a folder you can write to") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise MktError(f"cannot write into the {what} {clip(str(folder))}: permission denied",
                       "give -o a folder you can write to")
    return folder


def check_output_file(path: str | Path, key: str, example: str = "out.json") -> Path:
    """A file the user asked to write: not a folder, in a folder that exists (a typo must not create folders)."""
    path = Path(path)
    if path.is_dir():
        raise MktError(f"{key}: {path} is a folder", f"give a file name, e.g. {path / example}")
    if not path.parent.is_dir():
        raise MktError(f"{key}: the folder {path.parent} does not exist", "create it first, or write elsewhere")
    return path


def safe_join(root: Path, *parts: str) -> Path:
    """root/parts…, refusing anything that resolves outside root (.., absolute parts, symlinks out)."""
    root_r = root.resolve()
    p = root_r.joinpath(*parts).resolve()
    if p != root_r and root_r not in p.parents:
        raise PathEscapeError(f"refusing to write outside {root}: {'/'.join(parts)}",
                              "names of briefs and segments must be plain file names")
    return p


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_listed(root: Path, rel: str, data: bytes) -> dict[str, Any]:
    """Write root/rel atomically (never outside root) and return its entry for the manifest's `files`."""
    atomic_write(safe_join(root, *rel.split("/")), data)
    return {"path": rel, "sha256": sha256(data), "bytes": len(data)}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0   # another user's live process (or a nonsense number: not a pid)
    return True


def remove_stale_temp_files(folder: Path) -> int:
    """Temp files a killed run left behind (atomic_write's '.NAME.PID.*.tmp'); those of a live process are kept
    (the bundle lock already keeps other runs out; this is the second guard). Returns how many were removed."""
    n = 0
    for p in Path(folder).rglob(".*.tmp"):
        parts = p.name.rsplit(".", 3)   # ['.NAME', 'PID', 'RANDOM', 'tmp'] (NAME may hold dots)
        if len(parts) == 4 and parts[1].isdigit() and _pid_alive(int(parts[1])):
            continue
        try:
            p.unlink()
            n += 1
        except OSError:
            pass
    return n
