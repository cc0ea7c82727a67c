"""Options shared by several commands, declared once, and the CLI's vocabulary: one flag name, one meaning.

  --visual-engine  the key-visual engine (poster, batch)      --copy-engine   the copy engine (copy, quick)
  --diffusion-model  a diffusers model (poster, batch)        --chat-model    a transformers chat model (copy, quick)
  --channel/-c     always a channel name                      --field         a copy field (copy's table)
  --limit/-n       show at most N                             --count         how many to make
  --since          one time grammar: 2026-12-01, 2026-12-01T09:00, or an age 7d / 12h / 30m (ls, audit, learn)
  --force          do it even where mkt would refuse or skip (overwrite, re-render, override a rule); mkt never asks,
                   so there is no --yes
  --brief          a brief by its name (registry commands)    --brief-file    a brief YAML file (check)
  --json           machine-readable output on stdout (errors too)

Old spellings stay for one release as hidden aliases: they parse, and print a one-line note on stderr
(DEPRECATED lists them; tests/test_cli_vocabulary.py checks the vocabulary over every command)."""
from __future__ import annotations

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
    ("check", "--brief"): "--brief-file",   # --brief is a brief's name in ls, mark, recall and audit
}


def _given(value: Any) -> bool:
    return value not in (None, False, (), [])


def _deprecated(old: str, new: str):
    """A click callback: the alias still works, and says once on stderr what to write instead."""
    def note(ctx, param, value):
        if _given(value) and not ctx.resilient_parsing:
            print(f"note: {old} is deprecated and goes in the next release; use {new}", file=sys.stderr)
        return value
    return note


def alias(old: str, new: str, *more: str, help: str, **kw: Any):   # noqa: A002 — click's own keyword
    """A hidden option for an old spelling: parsed, noted on stderr, left out of --help."""
    return typer.Option(old, *more, hidden=True, callback=_deprecated(old, new), help=f"Deprecated: {new}. {help}",
                        **kw)


def pick(new: Any, old: Any) -> Any:
    """The value of an option that has a deprecated alias: the new spelling wins when both are given."""
    return new if _given(new) else old


# the key-visual engine and its diffusion model (poster, batch)
VisualEngineOpt = Annotated[Optional[str], typer.Option("--visual-engine", help="Key-visual engine: auto, procedural, image, diffusers (overrides visual.engine).")]
VisualEngineAlias = Annotated[Optional[str], alias("--engine", "--visual-engine", help="Key-visual engine.")]
DiffusionModelOpt = Annotated[Optional[str], typer.Option("--diffusion-model", rich_help_panel="Diffusion (engine diffusers)", help="Diffusion model: hub id or local folder (overrides visual.model; `mkt models` lists profiles).")]
DiffusionModelAlias = Annotated[Optional[str], alias("--model", "--diffusion-model", help="Diffusion model.")]
# the copy engine and its chat model (copy, quick)
ChatModelAlias = Annotated[Optional[str], alias("--model", "--chat-model", help="Chat model for the llm copy engine.")]
CopyEngineAlias = Annotated[Optional[str], alias("--engine", "--copy-engine", help="Copy engine: template or llm.")]
ForceYesAlias = Annotated[bool, alias("--yes", "--force", "-y", help="Replace an existing file.")]


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
