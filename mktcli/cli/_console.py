"""Where commands print: one Output object per run that knows the mode (rich tables, one JSON document, or JSON
lines), and the rich consoles behind it: no emoji codes and no highlighting, so a user's text is shown as written
(':x:' in a brief stays ':x:'; markup in user text is escaped where it is printed)."""
from __future__ import annotations

import json
import sys
from contextvars import ContextVar
from typing import Any

from ..errors import BriefErrors, MktError, clip, user_os_error


def console(stderr: bool = False, **kw: Any):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, emoji=False, **kw)


class Output:
    """The run's output. `app.run` makes one, hands it to the commands as ctx.obj and holds it as the current one;
    `--json` (an eager option) sets `json` from the parsed command line, so an error raised anywhere later is
    answered in JSON too. Commands get it with `output(as_json)`.

    json   one JSON document on stdout: `result(payload, code)`, always with ok/exit_code (`document(obj)` writes
           one as is, for result and error only)
    lines  one compact JSON object per line, flushed (`line(obj)`): mkt batch with --json or in a pipe; the last
           line is the summary, with ok/exit_code
    rich   tables and lines for people: `print(...)`, `table(...)`; progress and notes go to `err`"""

    def __init__(self, json_mode: bool = False):
        self.json = json_mode
        self._con = None
        self._err = None

    @property
    def mode(self) -> str:
        return "json" if self.json else "rich"

    @property
    def con(self):
        if self._con is None:
            self._con = console()
        return self._con

    @property
    def err(self):
        if self._err is None:
            self._err = console(stderr=True)
        return self._err

    # -- machine-readable ------------------------------------------------------------------------------------------
    def document(self, obj: Any, indent: int | None = 2, flush: bool = False) -> None:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")
        if flush:
            sys.stdout.flush()

    def result(self, payload: dict[str, Any], code: int = 0, indent: int | None = 2, flush: bool = False) -> int:
        """A command's result as JSON with `ok` and `exit_code` first (every command's JSON has them; the summary
        line of a JSON-lines stream too); returns the code."""
        doc = {"ok": code == 0, "exit_code": int(code), **payload}
        doc["ok"], doc["exit_code"] = code == 0, int(code)   # the run's own, whatever the payload held
        self.document(doc, indent=indent, flush=flush)
        return int(code)

    def line(self, obj: dict[str, Any]) -> None:
        """One JSON line, flushed: easy for `jq`, `while read`, and log collectors."""
        self.document(obj, indent=None, flush=True)

    def error(self, err: BaseException, code: int) -> None:
        """An error in JSON mode: on stdout for scripts (the one-screen message stays on stderr)."""
        errs = error_dicts(err)
        self.document({"ok": False, "exit_code": int(code), **errs[0], "errors": errs})

    # -- for people ------------------------------------------------------------------------------------------------
    def print(self, *objects: Any, **kw: Any) -> None:
        self.con.print(*objects, **kw)

    def table(self, columns: list[str] | tuple[str, ...], rows: list[list[Any]] | None = None, **kw: Any):
        """A rich Table with these columns (and rows, if given); print it with `print`."""
        from rich.table import Table

        t = Table(**kw)
        for col in columns:
            t.add_column(col)
        for row in rows or []:
            t.add_row(*row)
        return t


_CURRENT: ContextVar[Output | None] = ContextVar("mkt_output", default=None)


def output(as_json: bool = False) -> Output:
    """The run's Output (made by app.run), or a fresh one when a command runs outside it (CliRunner, a script)."""
    out = _CURRENT.get()
    if out is None:
        out = Output()
    if as_json:
        out.json = True
    return out


def current(out: Output):
    """`with current(out):` makes `out` the Output that `output()` returns (app.run does this for one run)."""
    from contextlib import contextmanager

    @contextmanager
    def scope():
        token = _CURRENT.set(out)
        try:
            yield out
        finally:
            _CURRENT.reset(token)

    return scope()


# -- errors as data (cli/errors.py prints them for people; here they become JSON) -----------------------------------
MAX_MESSAGE = 600   # characters of one message: a last guard (values in messages are clipped where they are quoted)


def short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else clip(text, MAX_MESSAGE)


def as_user_error(err: BaseException) -> MktError | None:
    return None if isinstance(err, MktError) else user_os_error(err)


def error_dicts(err: BaseException) -> list[dict]:
    """The error as JSON for scripts: one dict per problem (a BriefErrors holds several), with file, line and key
    where known."""
    def one(e) -> dict:
        e = as_user_error(e) or e
        d = {"error": short(getattr(e, "message", str(e))), "hint": getattr(e, "hint", None)}
        for k in ("file", "line", "key"):
            v = getattr(e, k, None)
            if v is not None:
                d[k] = str(v) if k == "file" else v
        return d

    return [one(e) for e in err.errors] if isinstance(err, BriefErrors) else [one(err)]
