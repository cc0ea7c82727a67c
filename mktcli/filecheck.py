"""Reading a file a user names without trusting it: regular files only, never more than a given number of bytes,
and never a read that can block. The byte limit is the caller's (userfiles.py looks it up in the limits in force;
the limits files themselves are read under the built-in defaults, so this module cannot ask the limits).

A FIFO would wait forever for a writer, /dev/zero never ends, a folder or a socket is not a file: each is refused
by its type before a byte is read, and the open is non-blocking, so a file swapped for a FIFO after the check is
still refused (by fstat on the open descriptor) rather than waited on."""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from .errors import BriefError, clip
from .paths import limit_hint

Where = dict[str, Any]   # file / line / key of the place that named the path (a brief's visual.image …)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def file_error(message: str, path: Path, where: Where | None, hint: str | None) -> BriefError:
    """An error about a file: located where the path was named (a brief's key), else at the file itself."""
    w = dict(where or {})
    w.setdefault("file", path)
    return BriefError(message, hint=hint, **w)


def named(what: str, path: Path, where: Where | None) -> str:
    """'brief' when the error names the file itself, else 'image /path/named' (the error names the brief's key)."""
    return f"{what} {clip(str(path))}" if where else what


def check_regular(path: str | Path, what: str, where: Where | None = None) -> os.stat_result:
    """The file's stat, when it is a regular file (symlinks followed); a located error otherwise."""
    path = Path(path)
    shown = clip(str(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise file_error(f"{what} not found: {shown}", path, where,
                         "check the path (a brief's paths are relative to the brief)") from None
    except OSError as e:
        raise file_error(f"cannot read {what} {shown}: {e.strerror or e}", path, where, "check the path") from None
    if not stat.S_ISREG(st.st_mode):
        raise file_error(f"{named(what, path, where)} is {_kind(st.st_mode)}, not a file", path, where,
                         "give the path of a file" + (" (a folder's files are not read)" if stat.S_ISDIR(st.st_mode)
                                                      else ""))
    return st


def read_regular(path: str | Path, what: str, max_bytes: int, where: Where | None = None, *,
                 limit_key: str) -> bytes:
    """The bytes of a regular file of at most `max_bytes` bytes; a located error otherwise, whose hint names the
    limit `limit_key` (files.brief, files.yaml …)."""
    path = Path(path)
    st = check_regular(path, what, where)
    too_big = f"{named(what, path, where)} is over the {max_bytes:,}-byte limit"
    if st.st_size > max_bytes:
        raise file_error(f"{too_big} ({st.st_size:,} bytes)", path, where, limit_hint(limit_key))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise file_error(f"cannot read {what} {clip(str(path))}: {e.strerror or e}", path, where,
                         "check the file's permissions") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):   # swapped after the check above
            raise file_error(f"{named(what, path, where)} is not a regular file", path, where,
                             "give the path of a file")
        try:
            data = f.read(max_bytes + 1)   # a file that grows (or a /proc file that lies about its size) stops here
        except OSError as e:   # /proc/self/mem and the like: "regular", unreadable
            raise file_error(f"cannot read {named(what, path, where)}: {e.strerror or e}", path, where,
                             "give the path of an ordinary file") from None
    if len(data) > max_bytes:
        raise file_error(too_big, path, where, limit_hint(limit_key))
    return data
