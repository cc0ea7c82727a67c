"""Typed errors. Library code raises these; the CLI maps them to one-screen messages and exit codes in one place
(mktcli/cli/app.py). A traceback for a user's mistake is a bug."""
from __future__ import annotations

import errno
import os
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path


QUOTE_CHARS = 80   # a user's value quoted in a message: at most this many characters (messages.quote_chars)

# Where clip's default length comes from. errors.py is the bottom of the package (every module raises its errors),
# so it cannot ask the limits (read with the YAML reader, whose messages clip): limits.py tells it instead, when it
# is imported, and until then the built-in QUOTE_CHARS applies.
_quote_chars: Callable[[], int] | None = None


def quote_chars_from(source: Callable[[], int]) -> None:
    """Take clip's default length from `source` (limits.py: messages.quote_chars of the limits in force)."""
    global _quote_chars
    _quote_chars = source


def clip(value: object, n: int | None = None) -> str:
    """A user's value for a message: at most ~n characters (its start and end, and its length when cut), control
    characters shown as escapes, so a message stays on one screen and cannot move the terminal's cursor."""
    s = value if isinstance(value, str) else str(value)
    if n is None:
        n = QUOTE_CHARS
        if _quote_chars is not None:
            try:
                n = _quote_chars()
            except Exception:  # noqa: BLE001 — a broken limits file must not stop an error message from being shown
                pass
    if len(s) > n:
        s = f"{s[: n - 12]}…{s[-10:]} ({len(s):,} characters)"
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in s)


class ExitCode(IntEnum):
    """Every exit code mkt returns (documented in README.md and `mkt --help`); usage errors exit BAD_INPUT."""

    OK = 0
    CHECKS_FAILED = 1   # rendered, but an error-level check failed
    BAD_INPUT = 2       # brief, config, option or asset the user must fix
    PARTIAL = 3         # some items failed, the rest were written
    INTERNAL = 70       # a bug: please report it with MKT_DEBUG=1
    INTERRUPTED = 130   # Ctrl-C (128 + SIGINT): finished files are kept, a re-run resumes
    BROKEN_PIPE = 141   # the reader of stdout left (128 + SIGPIPE), e.g. `mkt ls | head`: not an error


class MktError(Exception):
    """Base of every error mkt expects. `hint` says how to fix it."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def where(self) -> str:
        return ""

    def __str__(self) -> str:  # one line for logs and JSON
        loc = self.where()
        return f"{loc}: {self.message}" if loc else self.message


class BriefError(MktError):
    """A problem in a brief (or any YAML file the user wrote): names the file, line and key."""

    def __init__(self, message: str, *, file: str | Path | None = None, line: int | None = None,
                 key: str | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line else ""))
        if self.key:
            parts.append(self.key)
        return ": ".join(parts)


class BriefErrors(MktError):
    """Several problems found in one pass, so the user fixes them all at once."""

    def __init__(self, errors: list[BriefError]):
        super().__init__(f"{len(errors)} problem(s) in the brief")
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors)


class ConfigError(BriefError):
    """A broken file under configs/ or a user override file (same location info as a brief error)."""


class FontError(MktError):
    """A character no bundled font can draw, or a font file that cannot be read."""


class LayoutError(MktError):
    """Text that cannot fit its box even at the smallest legible size, or a canvas too small for the legal text."""


class AssetError(MktError):
    """A user asset (image, logo) that is missing or unreadable."""


class EngineError(MktError):
    """An engine that is unknown, not installed, or failed."""


class PathEscapeError(MktError):
    """An output path that would leave the output folder."""


class InternalError(MktError):
    """An exception mkt did not expect (a bug), carried as an error of one item (a brief of a batch, a creative)
    so the rest of the work goes on: exit 70 for that item."""

    exit_code = ExitCode.INTERNAL


# OS errors about the user's paths or machine (a folder that cannot be created, a full disk), not bugs: exit 2
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.EISDIR,
                errno.ENAMETOOLONG, errno.ELOOP, errno.ENOSPC, errno.EDQUOT, errno.EEXIST, errno.ENXIO,
                errno.ENODEV, errno.EMFILE, errno.ENFILE, errno.EFBIG, errno.EXDEV, errno.EBUSY, errno.ETXTBSY}
_ERRNO_HINTS = {errno.ENOSPC: "free some disk space, or write elsewhere with -o",
                errno.EDQUOT: "free some disk space, or write elsewhere with -o",
                errno.EACCES: "check the permissions, or write elsewhere with -o",
                errno.EPERM: "check the permissions, or write elsewhere with -o",
                errno.EROFS: "that file system is read-only: write elsewhere with -o"}


def user_os_error(err: BaseException) -> MktError | None:
    """An OS error about a path the user gave or the machine (permission, missing folder, full disk) as an exit-2
    error naming the path; None for anything else."""
    if isinstance(err, OSError) and err.errno in _USER_ERRNOS:
        what = f"{clip(os.fsdecode(err.filename))}: " if err.filename is not None else ""
        return MktError(f"{what}{err.strerror or err}", _ERRNO_HINTS.get(err.errno, "check the path"))
    return None


def as_mkt_error(err: BaseException) -> MktError:
    """Any exception as an MktError: itself, a user's OS error (exit 2), or an InternalError (exit 70)."""
    if isinstance(err, MktError):
        return err
    user = user_os_error(err)
    if user is not None:
        return user
    return InternalError(f"internal error: {type(err).__name__}: {clip(str(err), 300)}",
                         "this is a bug in mkt; re-run with MKT_DEBUG=1 and report the traceback")
