"""`mkt quick` (one sentence → brief → bundle) and `mkt init` (a commented starter brief): options in, library out."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._options import ChannelFilesOpt, ChatModelAlias, CopyEngineAlias, ForceYesAlias, JsonOpt, ListOpt, OutOpt, pick
from ._console import console, output
from ..errors import BriefError
from .poster import bundle_summary, exit_code

QUICK_HELP = """Turn one Chinese sentence into a brief (briefs/<name>.yaml), then render it: posters, copy, checks,
approval request and a zip. Only facts the sentence states go in (rate, amounts, perks, segments, channels).
Example: mkt quick "给养殖户做一张贷款海报，年化利率3.2%起，最高可借30万" --provider 示例农村商业银行股份有限公司"""
INIT_HELP = """Write a starter brief with every key explained in a comment; it renders as it is.
Example: mkt init my-brief.yaml --category credit_card"""


def quick(
    sentence: Annotated[str, typer.Argument(help="The request in one sentence, e.g. 给养殖户做一张贷款海报，年化利率3.2%起.", show_default=False)],
    out: OutOpt = Path("out"),
    brief_out: Annotated[Optional[Path], typer.Option("--brief-out", help="Where to write the brief (default: briefs/<name>.yaml).", show_default=False)] = None,
    provider: Annotated[Optional[str], typer.Option("--provider", help="The lender's legal name, shown as 本产品由…提供 (default: $MKT_PROVIDER).", show_default=False)] = None,
    channel: Annotated[Optional[list[str]], ListOpt("--channel", "-c", help="Use these channels instead of the sentence's, e.g. app_banner,sms.", show_default=False)] = None,
    channel_files: ChannelFilesOpt = None,
    no_run: Annotated[bool, typer.Option("--no-run", help="Write the brief only; render nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing brief file that differs.")] = False,
    engine: Annotated[Optional[str], typer.Option("--copy-engine", help="template: rules only; llm: a chat model also fills headline, subhead and key-visual scene, and writes the copy.  [default: template]", show_default=False)] = None,
    model: Annotated[Optional[str], typer.Option("--chat-model", help="Chat model for --copy-engine llm: hub id or local folder (default Qwen/Qwen2.5-1.5B-Instruct).", show_default=False)] = None,
    register: Annotated[bool, typer.Option("--register/--no-register", help="Record the creatives in the registry (MKT_HOME/registry.db).")] = True,
    as_json: JsonOpt = False,
    engine_alias: CopyEngineAlias = None,
    model_alias: ChatModelAlias = None,
    yes: ForceYesAlias = False,
) -> int:

    from ..quick import quick as make_quick

    engine, model, force = pick(engine, engine_alias) or "template", pick(model, model_alias), force or yes
    _check_options(engine, channel_files)
    out_ = output(as_json)
    err = out_.err

    def show(path: Path, text: str) -> None:
        from rich.markup import escape
        from rich.syntax import Syntax

        err.print(f"[bold]brief[/bold] → {escape(str(path))}")
        err.print(Syntax(text, "yaml", word_wrap=False), soft_wrap=True)   # copyable: wrapping would break comments

    result = make_quick(sentence, out=out, brief_out=brief_out, provider=provider, channels=channel,
                        channel_files=channel_files, run=not no_run, force=force, engine=engine, model=model,
                        register=register, on_brief=show)
    code, failed_checks = _code(result)
    if as_json:
        return out_.result(_payload(result, code, failed_checks), code)
    _summary(result, failed_checks)
    return code


def _check_options(engine: str, channel_files: list[Path] | None) -> None:

    if engine not in ("template", "llm"):
        raise BriefError(f"unknown engine '{engine}'", key="--copy-engine", hint="template (rules only) or llm")
    for f in channel_files or []:
        if not f.exists():   # a channel name given where a preset file belongs: say which option picks channels
            raise BriefError(f"--channels takes a channel preset file, and {f} does not exist", key="--channels",
                             hint=f"to choose channels use --channel {f}; --channels my-channels.yaml adds presets")


def _code(result) -> tuple[int, list]:
    return exit_code(result.bundle) if result.bundle is not None else (0, [])


def _payload(result, code: int, failed_checks: list) -> dict:
    p, b = result.parsed, result.bundle
    return {
        "brief": str(result.brief_path),
        "understood": {"category": p.category, "product": p.product, "apr": p.apr, "perks": p.perks,
                       "segments": p.segments, "offers": p.offers, "channels": p.channels, "headline": p.headline},
        "not_understood": p.ignored, "notes": result.notes + (b.notes if b is not None else []),
        "bundle": str(b.out_dir) if b is not None else None,
        "manifest": str(b.manifest_path) if b is not None and b.manifest_path else None,
        "zip": str(result.zip_path) if result.zip_path else None,
        "creatives": len(b.creatives) if b is not None else 0,
        "failures": [{"segment": f.segment, "channel": f.channel, "error": f.error.message}
                     for f in (b.failures if b is not None else [])],
        "failed_checks": [{"id": d["id"], "segment": d["segment"], "channel": d["channel"], **k}
                          for d, k in failed_checks],
    }


def _summary(result, failed_checks: list) -> None:
    from rich.markup import escape

    con = console()
    for clause in result.parsed.ignored:
        con.print(f"[yellow]not understood[/yellow]: {escape(clause)} (edit the brief to add it)")
    for n in result.notes:
        con.print(f"[dim]note: {escape(n)}[/dim]")
    if result.bundle is None:
        con.print(f"brief: {escape(str(result.brief_path))} · render it with: mkt poster {escape(str(result.brief_path))}")
        return
    bundle_summary(result.bundle, failed_checks)
    if result.zip_path:
        con.print(f"zip: {escape(str(result.zip_path))}")


def init(
    file: Annotated[Path, typer.Argument(help="Where to write the starter brief.")] = Path("brief.yaml"),
    category: Annotated[str, typer.Option("--category", help="Example values for: loan, credit_card, deposit, wealth, insurance, retail or other.")] = "loan",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    as_json: JsonOpt = False,
    yes: ForceYesAlias = False,
) -> int:
    from rich.markup import escape

    from ..starter import write_starter

    out = output(as_json)
    path = write_starter(file, category, force or yes)
    if as_json:
        return out.result({"brief": str(path), "category": category})
    out.print(f"[green]wrote[/green] {escape(str(path))} ({category}); edit it, then: "
              f"mkt poster {escape(str(path))}")
    return 0
