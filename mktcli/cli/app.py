"""The `mkt` command: wires the command groups together and maps errors to exit codes. No business logic here.

Exit codes are mktcli.errors.ExitCode: 0 ok · 1 checks failed · 2 bad input (brief, option, file) · 3 partial
failure · 70 internal error · 130 interrupted · 141 broken pipe.

Registry verbs (register, ls, mark, recall) stay at the root: a command is a group only when it has several
sub-actions (audit → record, learn → ingest/plan/distill/report), so each verb has exactly one spelling."""
from __future__ import annotations

import os
import sys

import typer

from .. import __version__
from ..errors import ExitCode, MktError
from . import batch as batch_cmd
from . import check as check_cmd
from . import copy as copy_cmd
from . import export as export_cmd
from . import learn as learn_cmd
from . import models as models_cmd
from . import poster as poster_cmd
from . import preview as preview_cmd
from . import quick as quick_cmd
from . import registry as registry_cmd
from ._console import Output, current
from .errors import broken_pipe, click_errors, debug, json_aware, report, show_traceback, usage_error

EXIT_WORDS = {ExitCode.OK: "ok", ExitCode.CHECKS_FAILED: "checks failed", ExitCode.BAD_INPUT: "bad input",
              ExitCode.PARTIAL: "partial failure", ExitCode.INTERNAL: "internal error",
              ExitCode.INTERRUPTED: "interrupted", ExitCode.BROKEN_PIPE: "broken pipe (the reader left)"}
EXIT_CODES_HELP = "Exit codes: " + ", ".join(f"{int(c)} {EXIT_WORDS[c]}" for c in ExitCode) + "."

app = typer.Typer(
    name="mkt",
    help="mkt — one YAML brief in, placement-ready Chinese marketing posters out.\n\n" + EXIT_CODES_HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool):
    if value:
        typer.echo(f"mkt {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    """mkt — one YAML brief in, placement-ready Chinese marketing posters out."""


app.command("poster", help=poster_cmd.HELP)(poster_cmd.poster)
app.command("channels", help=poster_cmd.CHANNELS_HELP)(poster_cmd.channels)
app.command("quick", help=quick_cmd.QUICK_HELP)(quick_cmd.quick)
app.command("init", help=quick_cmd.INIT_HELP)(quick_cmd.init)
app.command("batch", help=batch_cmd.HELP)(batch_cmd.batch)
app.command("copy", help=copy_cmd.HELP)(copy_cmd.copy)
app.command("check", help=check_cmd.HELP)(check_cmd.check)
app.command("models", help=models_cmd.MODELS_HELP)(models_cmd.models)
app.command("doctor", help=models_cmd.DOCTOR_HELP)(models_cmd.doctor)
app.command("export", help=export_cmd.HELP)(export_cmd.export)
app.command("preview", help=preview_cmd.HELP)(preview_cmd.preview)
app.command("register", help=registry_cmd.REGISTER_HELP)(registry_cmd.register)
app.command("ls", help=registry_cmd.LS_HELP)(registry_cmd.ls)
app.command("mark", help=registry_cmd.MARK_HELP)(registry_cmd.mark)
app.command("recall", help=registry_cmd.RECALL_HELP)(registry_cmd.recall)
app.add_typer(registry_cmd.audit_app, name="audit", help=registry_cmd.AUDIT_HELP)
app.add_typer(learn_cmd.app, name="learn", help=learn_cmd.HELP)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit code (tests call this; `main` exits with it).

    The click command is driven here, not through Typer's own main loop, so that every outcome maps to ExitCode in
    this one place: Typer's loop turns a closed pipe into exit 1 and prints usage errors its own way."""
    out = Output()   # ctx.obj of every command: --json, once parsed, sets out.json
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        with current(out):
            try:
                cmd = json_aware(typer.main.get_command(app))
                with cmd.make_context("mkt", args, obj=out) as ctx:
                    rv = cmd.invoke(ctx)
            finally:
                sys.stdout.flush()   # a reader that left is found here, inside the try, not at exit
        return int(rv or 0)
    except (typer.Exit, *click_errors.EXITS) as e:
        return int(e.exit_code)
    except click_errors.NoArgsIsHelp as e:   # bare `mkt` or `mkt learn`: the help, as a usage error (exit 2)
        e.show()
        return int(ExitCode.BAD_INPUT)
    except (typer.Abort, *click_errors.ABORTS):   # EOF at a prompt (mkt asks none) or an abort
        return int(ExitCode.INTERRUPTED)
    except (OSError, SystemExit) as e:
        if not broken_pipe(e):
            if isinstance(e, SystemExit):
                raise
            return _error(e, out)
        try:   # `mkt … | head`: the reader left; not an error of ours or the user's
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
        except OSError:
            pass
        return int(ExitCode.BROKEN_PIPE)
    except click_errors.Usage as e:   # unknown option, bad value, missing argument …: one message, exit 2
        return _error(usage_error(e), out)
    except (MktError, KeyboardInterrupt, Exception) as e:  # noqa: BLE001 — the one place that catches everything
        return _error(e, out)


def _error(e: BaseException, out: Output) -> int:
    if debug():   # the traceback, then the same message and the same exit code as without MKT_DEBUG
        show_traceback(e)
    code = report(e)
    if out.json:   # scripts get the error on stdout too (the one-screen message stays on stderr)
        try:
            out.error(e, code)
            sys.stdout.flush()
        except OSError as pipe:
            if not broken_pipe(pipe):
                raise
            return int(ExitCode.BROKEN_PIPE)
    return code


def main() -> None:
    sys.exit(run())
