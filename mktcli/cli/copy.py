"""`mkt copy`: n guarded variants of copy per segment × channel, as a table and as files."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._options import ChannelFilesOpt, ChatModelAlias, CopyEngineAlias, JsonOpt, ListOpt, OutOpt, SEED_MAX, alias, pick
from ._console import console, output
from ..errors import BriefError, ExitCode
from ..export.files import atomic_write_json, safe_join

HELP = """Write copy for every segment of a brief: headline, subhead, CTA, SMS, outbound-call script, push and
feed-ad text, checked against channel limits, banned phrases and the brief's numbers. Writes
OUT/<name>/copy.json. Example: mkt copy examples/briefs/farm-loan.yaml --count 3"""

FIELDS = ("headline", "subhead", "sms", "call_script", "push", "feed")


def copy(
    brief: Annotated[Path, typer.Argument(help="The brief YAML file.", show_default=False)],
    out: OutOpt = Path("out"),
    engine: Annotated[Optional[str], typer.Option("--copy-engine", help="Copy engine: template (embedded) or llm (a transformers chat model); default: the brief's copy.engine.")] = None,
    model: Annotated[Optional[str], typer.Option("--chat-model", help="llm engine: chat model hub id or local folder (default Qwen/Qwen2.5-1.5B-Instruct).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="llm engine: cuda or cpu (default: cuda when present).")] = None,
    segment: Annotated[Optional[list[str]], ListOpt("--segment", "--segments", "-s", help="Only these segments.")] = None,
    field: Annotated[Optional[list[str]], ListOpt("--field", "-f", help=f"Only these fields in the table: {', '.join(FIELDS)}.")] = None,
    n: Annotated[Optional[int], typer.Option("--count", min=1, max=20, help="Variants per segment (default 3).", show_default=False)] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, max=SEED_MAX, help="Seed for the wording, 0 … 2^32−1 (default: the brief's visual.seed); the same seed gives the same copy.")] = None,
    channel_files: ChannelFilesOpt = None,
    as_json: JsonOpt = False,
    engine_alias: CopyEngineAlias = None,
    model_alias: ChatModelAlias = None,
    field_alias: Annotated[Optional[list[str]], alias("--channel", "--field", "-c", help="Copy fields in the table.", split=True)] = None,
    n_alias: Annotated[Optional[int], alias("--n", "--count", min=1, max=20, help="Variants per segment.")] = None,
) -> int:

    from ..brief import load_brief
    from ..brief_copy import write_copy

    engine, model, n = pick(engine, engine_alias), pick(model, model_alias), pick(n, n_alias) or 3
    channel = pick(field, field_alias)
    out_ = output(as_json)
    b = load_brief(brief, channel_files=channel_files)
    names = [s.name for s in b.segments()]
    for s in segment or []:
        if s not in names:
            raise BriefError(f"segment '{s}' is not in the brief", file=b.path, key="--segment",
                             hint="the brief's segments: " + ", ".join(names))
    bad = [c for c in channel or [] if c not in FIELDS]
    if bad:
        raise BriefError(f"unknown copy field '{bad[0]}'", key="--field", hint="one of: " + ", ".join(FIELDS))
    err = out_.err
    name = engine or b.copy.engine
    options = {k: v for k, v in (("model", model or b.copy.model), ("device", device)) if v} if name == "llm" else {}
    status = err.status(f"writing copy with the {name} engine …") if err.is_terminal and not as_json else None
    if status:
        status.start()
    try:
        res = write_copy(b, engine=name, segments=segment, n=n, seed=seed, engine_options=options)
    finally:
        if status:
            status.stop()
    payload = {
        "brief": b.name, "engine": res.engine, "notes": res.notes,
        "segments": {seg: [{"variant": v.variant, "ok": v.ok, **v.copy.model_dump(),
                            "sms_text": v.copy.sms.text, "call_script_text": v.copy.call_script.text,
                            "checks": v.checks(), "repairs": v.repairs, "info": v.info} for v in vs]
                     for seg, vs in res.variants.items()},
    }
    path = safe_join(Path(out), b.name, "copy.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, payload)
    failed = [(seg, v) for seg, vs in res.variants.items() for v in vs if not v.ok]
    code = int(ExitCode.CHECKS_FAILED if failed else ExitCode.OK)
    if as_json:
        return out_.result({**payload, "path": str(path)}, code)
    _table(res, channel or ["headline", "sms", "push"])
    from rich.markup import escape

    con = out_.con
    for seg, v in failed:
        for f in v.findings:
            if f.severity == "error":
                con.print(f"[red]check {escape(f.rule)}[/red] {escape(seg)} #{v.variant + 1}: {escape(f.message)}")
    for note in res.notes:
        con.print(f"[dim]note: {escape(note)}[/dim]")
    con.print(f"copy: {escape(str(path))}  (every field and the call script in full: --json, or the file)")
    return code


def _table(res, channels: list[str]) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"copy · {res.engine.get('name')}" + (f" · {res.engine['model']}" if res.engine.get("model")
                                                             else ""), title_justify="left", show_lines=True)
    t.add_column("segment", no_wrap=True)
    t.add_column("#", justify="right")
    for ch in channels:
        t.add_column(ch, overflow="fold", ratio=2 if ch in ("sms", "call_script", "feed") else 1)
    for seg, vs in res.variants.items():
        for v in vs:
            c = v.copy
            cells = {"headline": c.headline, "subhead": c.subhead,
                     "sms": f"{escape(c.sms.text)} [dim]({len(c.sms.text)})[/dim]",
                     "call_script": c.call_script.text, "push": f"{c.push.title}\n{c.push.body}",
                     "feed": f"{c.feed.title}\n{c.feed.description}"}
            mark = "" if v.ok else " [red]✗[/red]"
            t.add_row(escape(seg) if v.variant == 0 else "", f"{v.variant + 1}{mark}",
                      *[cells[ch] if ch == "sms" else escape(cells[ch]) for ch in channels])
    console().print(t)
