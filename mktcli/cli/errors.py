"""One place that turns exceptions into a one-screen message and a documented exit code.
MKT_DEBUG=1 adds the full traceback before the message; the exit code stays the same."""
from __future__ import annotations

import os
import sys

from rich.markup import escape

from ..errors import BriefError, BriefErrors, ExitCode, MktError
from ._console import MAX_MESSAGE, as_user_error, error_dicts  # noqa: F401  (error_dicts: re-exported)
from ._console import console as make_console
from ._console import short as _short

MAX_PROBLEMS = 12   # problems listed of a BriefErrors


def _line(err: MktError) -> str:
    where = _short(err.where())
    head = f"[bold]{escape(where)}[/bold]: " if where else ""
    out = f"{head}{escape(_short(err.message))}"
    if err.hint:
        out += f"\n    [cyan]hint:[/cyan] {escape(_short(err.hint))}"
    return out


def report(err: BaseException, console=None) -> int:
    console = console or make_console(stderr=True, soft_wrap=True)
    user = as_user_error(err)
    if user is not None:
        err = user
    if isinstance(err, BriefErrors):
        console.print(f"[red bold]error:[/red bold] {len(err.errors)} problems")
        shown = err.errors[:MAX_PROBLEMS]   # one screen: a file with 10,000 mistakes gets the first few
        for e in shown:
            console.print("  • " + _line(e))
        if len(err.errors) > len(shown):
            console.print(f"  … and {len(err.errors) - len(shown)} more")
        return int(err.exit_code)
    if isinstance(err, MktError):
        console.print("[red bold]error:[/red bold] " + _line(err))
        return int(err.exit_code)
    if isinstance(err, KeyboardInterrupt):
        console.print("[yellow]interrupted[/yellow]: finished files are kept; re-run to complete the bundle")
        return int(ExitCode.INTERRUPTED)
    console.print(f"[red bold]internal error:[/red bold] {escape(type(err).__name__)}: {escape(_short(str(err)))}\n"
                  "    [cyan]hint:[/cyan] this is a bug in mkt; re-run with MKT_DEBUG=1 and report the traceback")
    return int(ExitCode.INTERNAL)


def show_traceback(err: BaseException) -> None:
    """MKT_DEBUG=1: the full traceback on stderr, before the usual message (the exit code stays the same)."""
    import traceback

    traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)


def debug() -> bool:
    return os.environ.get("MKT_DEBUG", "") not in ("", "0", "false")


__all__ = ["report", "debug", "error_dicts", "BriefError", "sys"]
