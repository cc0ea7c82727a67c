"""Options shared by several commands, declared once, and the CLI's vocabulary: one flag name, one meaning.

  --visual-engine  the key-visual engine (poster, batch)      --copy-engine   the copy engine (copy, quick)
  --diffusion-model  a diffusers model (poster, batch)        --chat-model    a transformers chat model (copy, quick)
  --channel/-c     always a channel name                      --field         a copy field (copy's table)
  --limit/-n       show at most N                             --count         how many to make
  --since          one time grammar: 2026-12-01, 2026-12-01T09:00, or an age 7d / 12h / 30m (ls, audit, learn)
  --force          replace what is already there instead of keeping it: an existing file (quick, init), an
                   unchanged creative (batch renders it again)
  --override-checks  mark: go past the status rules (skip a step, leave recalled, approve despite failed checks)
  --yes            none: mkt never asks a question, so there is nothing to say yes to (`--yes`/`-y` in quick and
                   init is the old spelling of --force)
  --verify/--no-verify  OCR read-back of the finished pixels (poster, batch: off by default; check: on)
  --brief          a brief by its name (registry commands)    --brief-file    a brief YAML file (check)
  --json           machine-readable output on stdout (errors too), always with `ok` and `exit_code`

A repeatable list option (--channel, --segment, --status, --field, --id) takes names one by one or
comma-separated, the same everywhere: `-c app_banner -c sms` = `-c app_banner,sms` (ListOpt / split_list).

Old spellings stay for one release as hidden aliases: they parse, and print a one-line note on stderr
(DEPRECATED lists them; tests/test_cli_vocabulary.py checks the vocabulary over every command)."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from ._console import Output

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder; the bundle goes to OUT/<brief name>/.")]
SEED_MAX = 4294967295   # 2^32 − 1, as visual.seed (mktcli.brief.SEED_MAX): numpy and torch take 32-bit seeds
SeedOpt = Annotated[Optional[int], typer.Option("--seed", min=0, max=SEED_MAX, help="Seed for the key visual, 0 … 2^32−1 (default: the brief's visual.seed).")]
ProfileOpt = Annotated[Optional[str], typer.Option("--profile", rich_help_panel="Diffusion (engine diffusers)", help="Diffusion profile: quality, fast, low-vram … (overrides visual.profile).")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", rich_help_panel="Diffusion (engine diffusers)", help="Where the diffusion model runs: cuda (default), cuda:N, or cpu for small models.")]
VariantsOpt = Annotated[Optional[int], typer.Option("--variants", min=1, max=8, help="Visually distinct creatives per segment × channel (layout family, arrangement; default: the brief's variants, else 1).")]
ChannelFilesOpt = Annotated[Optional[list[Path]], typer.Option("--channels", help="Extra channel preset YAML file(s) that add or override channels.")]

# old spelling → (the command(s) it was used in, its new name); each alias prints a note when used
DEPRECATED = {
    ("poster", "--engine"): "--visual-engine", ("batch", "--engine"): "--visual-engine",
    ("poster", "--model"): "--diffusion-model", ("batch", "--model"): "--diffusion-model",
    ("copy", "--engine"): "--copy-engine", ("quick", "--engine"): "--copy-engine",
    ("copy", "--model"): "--chat-model", ("quick", "--model"): "--chat-model",
    ("copy", "--channel"): "--field", ("copy", "--n"): "--count",
    ("quick", "--yes"): "--force", ("init", "--yes"): "--force",
    ("mark", "--force"): "--override-checks",   # --force replaces what is there; mark's overrides a rule
    ("check", "--ocr"): "--verify",             # --ocr/--no-ocr: the OCR read-back is --verify everywhere
    ("check", "--brief"): "--brief-file",   # --brief is a brief's name in ls, mark, recall and audit
}


def _given(value: Any) -> bool:
    return value not in (None, False, (), [])


def _on_command_line(ctx, param) -> bool:
    source = ctx.get_parameter_source(param.name)
    return getattr(source, "name", None) == "COMMANDLINE"


def _deprecated(old: str, new: str):
    """A click callback: the alias still works, and says once on stderr what to write instead (`--no-ocr` says
    `--no-verify`)."""
    def note(ctx, param, value):
        if _on_command_line(ctx, param) and not ctx.resilient_parsing:
            was, now = old.split("/")[0], new
            if value is False and param.secondary_opts:   # the off spelling of an on/off pair
                was, now = param.secondary_opts[0], "--no-" + new.removeprefix("--")
            print(f"note: {was} is deprecated and goes in the next release; use {now}", file=sys.stderr)
        return value
    return note


def alias(old: str, new: str, *more: str, help: str, split: bool = False, **kw: Any):   # noqa: A002 — click's
    """A hidden option for an old spelling: parsed, noted on stderr, left out of --help. `split`: a list option's
    alias reads commas as the new spelling does."""
    note = _deprecated(old, new)
    callback = (lambda ctx, param, value: split_list(ctx, param, note(ctx, param, value))) if split else note
    return typer.Option(old, *more, hidden=True, callback=callback, help=f"Deprecated: {new}. {help}", **kw)


def pick(new: Any, old: Any) -> Any:
    """The value of an option that has a deprecated alias: the new spelling wins when both are given."""
    return new if _given(new) else old


LIST_SEPARATORS = re.compile(r"[,，]")   # a comma, or the full-width one a Chinese keyboard types


def split_list(ctx, param, value):
    """The callback of every repeatable list option: `-c a -c b`, `-c a,b` and `-c a，b` give the same list
    (blanks and repeats dropped, order kept); nothing given stays None."""
    if not value or ctx.resilient_parsing:
        return value or None
    items: list[str] = []
    for given in value:
        for item in LIST_SEPARATORS.split(str(given)):
            item = item.strip()
            if item and item not in items:
                items.append(item)
    return items or None


def ListOpt(*names: str, help: str, **kw: Any):   # noqa: A002,N802 — click's own keyword; reads like a type
    """A repeatable option of names that also takes them comma-separated (one shared rule: split_list)."""
    return typer.Option(*names, callback=split_list, help=f"{help} Repeatable, or comma-separated.", **kw)


# the key-visual engine and its diffusion model (poster, batch)
VisualEngineOpt = Annotated[Optional[str], typer.Option("--visual-engine", help="Key-visual engine: auto, procedural, image, diffusers (overrides visual.engine).")]
VisualEngineAlias = Annotated[Optional[str], alias("--engine", "--visual-engine", help="Key-visual engine.")]
DiffusionModelOpt = Annotated[Optional[str], typer.Option("--diffusion-model", rich_help_panel="Diffusion (engine diffusers)", help="Diffusion model: hub id or local folder (overrides visual.model; `mkt models` lists profiles).")]
DiffusionModelAlias = Annotated[Optional[str], alias("--model", "--diffusion-model", help="Diffusion model.")]
# the copy engine and its chat model (copy, quick)
ChatModelAlias = Annotated[Optional[str], alias("--model", "--chat-model", help="Chat model for the llm copy engine.")]
CopyEngineAlias = Annotated[Optional[str], alias("--engine", "--copy-engine", help="Copy engine: template or llm.")]
ForceYesAlias = Annotated[bool, alias("--yes", "--force", "-y", help="Replace an existing file.")]
# the OCR read-back of finished posters (poster, batch; check has it on by default and keeps --ocr as an alias)
VerifyOpt = Annotated[bool, typer.Option("--verify/--no-verify", help="Read every finished poster back with OCR (needs the ocr extra) and record OCR-READBACK.")]


def json_mode(ctx, param, value):
    """--json is read first (eager), so that even an error in another option is answered in JSON: the run's
    Output (ctx.obj, made by app.run) learns the mode from the parsed option, never from argv."""
    if value and not ctx.resilient_parsing:

        out = ctx.find_object(Output)
        if out is not None:
            out.json = True
    return value


JsonOpt = Annotated[bool, typer.Option("--json", is_eager=True, callback=json_mode, help="Print a machine-readable JSON result on stdout instead of tables.")]


def _since(ctx, param, value):
    if value is None or ctx.resilient_parsing:
        return value
    return parse_since(value)


def parse_since(value: str):
    """The one --since grammar of ls, audit and learn: a date (2026-12-01, local midnight), a time
    (2026-12-01T09:00) or an age (7d, 12h, 30m) → an aware datetime. The registry's parser reads it, so ls/audit
    and learn cannot drift apart."""
    from datetime import datetime

    from ..registry.store import parse_since as registry_since

    return datetime.fromisoformat(registry_since(value))


SinceOpt = Annotated[Optional[str], typer.Option("--since", callback=_since, help="On or after: a date 2026-11-01, a time 2026-11-01T09:00, or an age like 7d / 12h / 30m.")]
