"""Typed errors. Library code raises these; the CLI maps them to one-screen messages and exit codes in one place
(mktcli/cli/app.py). A traceback for a user's mistake is a bug."""
from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    CHECKS_FAILED = 1   # rendered, but an error-level check failed
    BAD_INPUT = 2       # brief, config, option or asset the user must fix
    PARTIAL = 3         # some items failed, the rest were written
    INTERNAL = 70       # a bug: please report it with MKT_DEBUG=1


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
