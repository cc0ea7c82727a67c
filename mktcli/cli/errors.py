"""One place that turns exceptions into a one-screen message and a documented exit code.
MKT_DEBUG=1 adds the full traceback before the message; the exit code stays the same.
Usage errors (unknown option, bad value, missing argument) take the same path: `usage_error` makes them a
BriefError naming the option, so they read like every other error and come as JSON too with --json."""
from __future__ import annotations

import errno
import os
import sys
from types import SimpleNamespace

import typer
from rich.markup import escape

from ..errors import BriefError, BriefErrors, ExitCode, MktError, clip
from ._console import MAX_MESSAGE, Output, as_user_error, error_dicts  # noqa: F401  (error_dicts: re-exported)
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


def broken_pipe(err: BaseException) -> bool:
    """The reader of stdout left (`mkt ls --json | head -c1`): an EPIPE, or rich's answer to one — a rich Console
    (ours, or the one Typer prints help with) catches the BrokenPipeError, points stdout at /dev/null and raises
    SystemExit(1) from Console.on_broken_pipe."""
    if isinstance(err, SystemExit):
        import traceback

        return any(frame.f_code.co_name == "on_broken_pipe" for frame, _ in traceback.walk_tb(err.__traceback__))
    return isinstance(err, BrokenPipeError) or isinstance(err, OSError) and err.errno == errno.EPIPE


# -- usage errors ---------------------------------------------------------------------------------------------------
try:   # Typer ≥ 0.2x ships its own copy of click; older Typer uses click itself
    from typer._click import exceptions as _cx
except ImportError:   # pragma: no cover — depends on the Typer installed
    from click import exceptions as _cx

click_errors = SimpleNamespace(
    Usage=_cx.UsageError,
    NoArgsIsHelp=getattr(_cx, "NoArgsIsHelpError", ()),   # click < 8.2 prints the help and exits 0 itself
    EXITS=tuple({getattr(_cx, "Exit", typer.Exit)}),
    ABORTS=tuple({getattr(_cx, "Abort", typer.Abort)}),
)


def usage_error(e) -> BriefError:
    """A click usage error as mkt's own: the option as its key, a short message, and where the help is."""
    ctx = getattr(e, "ctx", None)
    command = ctx.command_path if ctx is not None else "mkt"
    param = getattr(e, "param", None)
    key = getattr(e, "option_name", None)
    if param is not None:
        longs = [n for n in getattr(param, "opts", ()) if n.startswith("--")]
        if param.param_type_name == "argument":
            key = (param.name or "").upper() or None   # as the usage line shows it: BRIEF, PATHS …
        else:
            key = longs[0] if longs else (list(param.opts) or [None])[0]
    if isinstance(e, _cx.MissingParameter):
        message = "is required" if key else e.format_message()
    elif isinstance(e, _cx.NoSuchOption):
        message = f"no such option for {command}" + (
            f"; did you mean {', '.join(sorted(e.possibilities))}?" if getattr(e, "possibilities", None) else "")
    elif isinstance(e, _cx.BadParameter) and key and e.message:
        message = f"invalid value: {e.message}"
    else:
        message = e.format_message()
    what = "arguments and options" if param is not None and param.param_type_name == "argument" else "options"
    return BriefError(clip(message, MAX_MESSAGE), key=clip(key) if key else None,
                      hint=f"{command} --help lists the {what}")


def json_aware(cmd):
    """Let a usage error be answered in JSON when --json was given, even where parsing stopped before --json was
    read (`mkt ls --json --bogus`): on a usage error each command re-reads its arguments with its own parser,
    unknown options skipped, so "--json" as another option's value stays text. Returns `cmd`."""
    if getattr(cmd, "_mkt_json_aware", False):
        return cmd
    parse_args = cmd.parse_args

    def parse(ctx, args):
        given = list(args)   # the parser consumes the list it is given
        try:
            return parse_args(ctx, args)
        except _cx.UsageError as e:
            if getattr(e, "ctx", None) is None:   # the parser's own errors come without the command
                e.ctx = ctx

            out = ctx.find_object(Output)
            if out is not None and not out.json and _asks_json(cmd, ctx, given):
                out.json = True
            raise

    cmd.parse_args = parse
    cmd._mkt_json_aware = True
    for sub in (getattr(cmd, "commands", None) or {}).values():
        json_aware(sub)
    return cmd


def _asks_json(cmd, ctx, args: list[str]) -> bool:
    names = [p.name for p in cmd.get_params(ctx) if "--json" in getattr(p, "opts", ())]
    if not names:
        return False
    try:
        parser = cmd.make_parser(ctx)
        parser.ignore_unknown_options = True
        opts, _, _ = parser.parse_args(args=args)
    except Exception:  # noqa: BLE001 — a second failure only means: not known to ask for JSON
        return False
    return any(opts.get(n) for n in names)


__all__ = ["report", "debug", "error_dicts", "BriefError", "sys", "broken_pipe", "click_errors", "usage_error",
           "json_aware"]
