"""One place that turns exceptions into a one-screen message and a documented exit code.
MKT_DEBUG=1 shows the full traceback instead."""
from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape

from ..errors import BriefError, BriefErrors, ExitCode, MktError


def _line(err: MktError) -> str:
    where = err.where()
    head = f"[bold]{escape(where)}[/bold]: " if where else ""
    out = f"{head}{escape(err.message)}"
    if err.hint:
        out += f"\n    [cyan]hint:[/cyan] {escape(err.hint)}"
    return out


def report(err: BaseException, console: Console | None = None) -> int:
    console = console or Console(stderr=True, highlight=False, soft_wrap=True)
    if isinstance(err, BriefErrors):
        console.print(f"[red bold]error:[/red bold] {len(err.errors)} problems")
        for e in err.errors[:20]:
            console.print("  • " + _line(e))
        if len(err.errors) > 20:
            console.print(f"  … and {len(err.errors) - 20} more")
        return int(err.exit_code)
    if isinstance(err, MktError):
        console.print("[red bold]error:[/red bold] " + _line(err))
        return int(err.exit_code)
    if isinstance(err, KeyboardInterrupt):
        console.print("[yellow]interrupted[/yellow]: finished files are kept; re-run to complete the bundle")
        return 130
    console.print(f"[red bold]internal error:[/red bold] {escape(type(err).__name__)}: {escape(str(err))}\n"
                  "    [cyan]hint:[/cyan] this is a bug in mkt; re-run with MKT_DEBUG=1 and report the traceback")
    return int(ExitCode.INTERNAL)


def error_dicts(err: BaseException) -> list[dict]:
    """The error as JSON for scripts: one dict per problem (a BriefErrors holds several), with file, line and key
    where known."""
    def one(e) -> dict:
        d = {"error": getattr(e, "message", str(e)), "hint": getattr(e, "hint", None)}
        for k in ("file", "line", "key"):
            v = getattr(e, k, None)
            if v is not None:
                d[k] = str(v) if k == "file" else v
        return d

    return [one(e) for e in err.errors] if isinstance(err, BriefErrors) else [one(err)]


def debug() -> bool:
    return os.environ.get("MKT_DEBUG", "") not in ("", "0", "false")


__all__ = ["report", "debug", "error_dicts", "BriefError", "sys"]
