"""`mkt learn ingest | plan | distill | report`: click feedback in, traffic shares and wording knowledge out.
The library is mktcli/learn/; it is imported inside the commands so `mkt --help` stays fast."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._options import JsonOpt, ListOpt, SinceOpt
from .registry import RegistryOpt
from ..errors import ExitCode, MktError
from ..export.files import atomic_write_json, check_out_dir, check_output_file
from ._console import console, output

HELP = """Learn from clicks: ingest click logs into the registry, plan the next period's traffic per slot (Thompson
sampling with a floor for new creatives), distil what wording works per segment, report CTRs.
Example: mkt learn ingest clicks.csv · mkt learn plan --slot app_banner · mkt learn distill · mkt learn report"""
INGEST_HELP = """Read click logs (.csv with a header, or .jsonl): creative_id, segment, channel, day, impressions,
clicks [, conversions, cost, origin ai|human]. Idempotent: the same file twice adds nothing; a corrected row replaces
the old numbers. Bad rows are reported with their line numbers and skipped (exit 3); the rest is kept."""
PLAN_HELP = """Traffic shares for the next period of one slot (channel), per segment, as JSON for the placement system
and a table. Thompson sampling on Beta-Bernoulli click rates from decayed counts; creatives with no traffic yet get at
least --floor. Example: mkt learn plan --slot app_banner -o plan.json"""
DISTILL_HELP = """Find the wording that works per segment (phrases, perks, rate framing, tone, length) from the clicks,
with shrunk estimates and false-discovery control, and write the knowledge file the copy engines use
(default: MKT_HOME/knowledge/zh-CN.yaml). People may edit it; compliance rules always win."""
REPORT_HELP = """CTR by segment × creative family (brief, headline, channel or origin) with 95% intervals, the daily
trend, and the uplift of AI-made over human creatives where both ran: a table, and an HTML page with PNG charts."""

app = typer.Typer(help=HELP, no_args_is_help=True, add_completion=False)

DayOpt = Annotated[Optional[str], typer.Option("--today", help="First day of the period to plan (default: today), YYYY-MM-DD.")]


def _day(value: str | None, key: str) -> date | None:
    if value is None:
        return None

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MktError(f"{key}: '{value}' is not a date", "write YYYY-MM-DD, e.g. 2026-12-01") from None


def _since_day(since: datetime | None) -> date | None:
    """--since (the grammar ls and audit read: a date, a time or an age like 7d) as the local day feedback is kept by."""
    if since is None:
        return None
    try:
        return since.astimezone().date()
    except (OverflowError, ValueError):   # year 1 west of UTC: the earliest day there is
        return date.min


def _out(payload: dict, code: int = 0) -> int:
    """The command's JSON result, with `ok` and `exit_code` (the one output path)."""
    return output(True).result(payload, code)


@app.command("ingest", help=INGEST_HELP)
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Click log files (.csv or .jsonl).", show_default=False)],
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from rich.markup import escape

    from ..registry.store import open_registry
    from ..learn.store import check_file, ingest

    for f in files:   # every file a readable click log before the registry is opened
        check_file(f)
    with open_registry(registry) as reg:   # streamed, in one transaction: all files or none
        results = ingest(reg, *files)

    code = int(ExitCode.PARTIAL if any(r.bad for r in results) else ExitCode.OK)
    if as_json:
        return _out({"files": [r.as_dict() for r in results]}, code)
    con = console()
    for r in results:
        con.print(f"{escape(str(r.file))}: {r.rows} rows · [green]{r.added} added[/green] · {r.updated} updated · "
                  f"{r.unchanged} unchanged" + (f" · [red]{len(r.bad)} bad (skipped)[/red]" if r.bad else ""))
        for b in r.bad[:20]:
            con.print(f"  [red]line {b.line}[/red]: {escape(b.message)}")
        if len(r.bad) > 20:
            con.print(f"  … {len(r.bad) - 20} more bad rows (--json lists the first 50)")
        if r.unknown_creatives:
            con.print(f"  [dim]{r.unknown_creatives} row(s) name creatives the registry does not know: kept, as made "
                      "elsewhere (origin human unless the log says)[/dim]")
    return code


@app.command("plan", help=PLAN_HELP)
def plan(
    slot: Annotated[str, typer.Option("--slot", help="The slot: a channel name, e.g. app_banner.")],
    segment: Annotated[Optional[list[str]], ListOpt("--segment", "-s", help="Only this segment.")] = None,
    today: DayOpt = None,
    half_life: Annotated[float, typer.Option("--half-life", min=0.0, help="Days after which a day's clicks count half (0 = no decay).")] = 14.0,
    floor: Annotated[float, typer.Option("--floor", min=0.0, max=0.5, help="Least share of traffic for each creative with no traffic yet.")] = 0.05,
    status: Annotated[Optional[list[str]], ListOpt("--status", help="Creatives to plan for, by status (default: draft,approved,live).")] = None,
    max_new: Annotated[float, typer.Option("--max-new", min=0.05, max=1.0, help="Most traffic all creatives with no traffic yet may take together (1 = no cap).")] = 0.5,
    allow_errors: Annotated[bool, typer.Option("--allow-errors", help="Also plan creatives with a failed error-level check (they are blocked from approval).")] = False,
    seed: Annotated[int, typer.Option("--seed", min=0, max=4294967295, help="Seed of the Thompson draws (same data + seed → same plan).")] = 0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the plan JSON to this file.")] = None,
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from rich.markup import escape
    from rich.table import Table
    from ..registry.store import STATUSES, open_registry
    from ..learn.plan import make_plan

    statuses = tuple(status) if status else None
    bad = [s for s in statuses or () if s not in STATUSES or s == "recalled"]
    if bad:
        raise MktError(f"--status: '{bad[0]}' cannot be planned", "use draft, approved, live (repeated or comma-separated)")
    with open_registry(registry) as reg:
        p = make_plan(reg, slot, today=_day(today, "--today"), half_life_days=half_life or None, floor=floor,
                      seed=seed, statuses=statuses, segments=segment, max_new=None if max_new >= 1 else max_new,
                      allow_errors=allow_errors)
    if out:
        atomic_write_json(check_output_file(out, "--out"), p)
    if as_json:
        return _out(p)
    con = console()
    for seg, s in p["segments"].items():
        t = Table(title=escape(f"{slot} · {seg} · from {p['period_start']}"), title_justify="left")
        for col in ("creative", "share", "new", "impressions", "clicks", "CTR", "status", "headline"):
            t.add_column(col, justify="right" if col in ("share", "impressions", "clicks", "CTR") else "left")
        for e in s["creatives"]:
            t.add_row(escape(e["id"]), f"{e['share'] * 100:.1f}%", "new" if e["new"] else "", f"{e['impressions']:,}",
                      f"{e['clicks']:,}", f"{e['ctr'] * 100:.2f}%" if e["ctr"] is not None else "—", escape(e["status"]),
                      escape(e["headline"] or ""))
        con.print(t)
    for n in p["notes"]:
        con.print(f"[yellow]note[/yellow] {escape(n)}")
    if out:
        con.print(f"plan: {escape(str(out))}")
    return 0


@app.command("distill", help=DISTILL_HELP)
def distill(
    channel: Annotated[Optional[list[str]], ListOpt("--channel", "-c", help="Only feedback from this channel.")] = None,
    since: SinceOpt = None,
    min_impressions: Annotated[int, typer.Option("--min-impressions", min=0, help="Least impressions behind a claimed effect, with and without the feature.")] = 5000,
    fdr: Annotated[float, typer.Option("--fdr", min=0.0001, max=0.5, help="False-discovery rate over all segment × feature effects.")] = 0.05,
    min_lift: Annotated[float, typer.Option("--min-lift", min=0.0, max=1.0, help="Least effect worth listing (0.02 = ±2% CTR).")] = 0.02,
    creative_sd: Annotated[float, typer.Option("--creative-sd", min=0.0, max=2.0, help="Least spread of click rates between creatives for reasons other than their words (log-odds sd), assumed when the data cannot measure it.")] = 0.1,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Knowledge file to write (default: MKT_HOME/knowledge/zh-CN.yaml).")] = None,
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from rich.markup import escape
    from ..registry.store import open_registry
    from ..learn.distill import Observation, default_knowledge_path
    from ..learn.distill import distill as run_distill
    from ..learn.store import feedback

    with open_registry(registry) as reg:
        rows = feedback(reg, channel=channel, since=_since_day(since))
    agg: dict[tuple, dict] = {}
    for r in rows:
        if not r["texts"]:   # creatives made elsewhere: their words are unknown, nothing to learn from them
            continue
        k = (r["creative_id"], r["segment"], r["channel"])
        a = agg.setdefault(k, {"texts": r["texts"], "look": r.get("look") or {}, "impressions": 0, "clicks": 0})
        a["impressions"] += r["impressions"]
        a["clicks"] += r["clicks"]
    if not agg:
        raise MktError("no feedback on registered creatives to learn from",
                       "ingest click logs first: mkt learn ingest clicks.csv")
    obs = [Observation(cid, seg, ch, a["texts"], a["impressions"], a["clicks"], a["look"])
           for (cid, seg, ch), a in agg.items()]
    knowledge = run_distill(obs, min_impressions=min_impressions, fdr=fdr, min_lift=min_lift, creative_sd=creative_sd)
    path = check_output_file(out, "--out") if out else default_knowledge_path()
    knowledge.to_yaml(path)
    summary = knowledge.summary() if hasattr(knowledge, "summary") else None
    if as_json:
        return _out({"knowledge": str(path), "observations": len(obs), "summary": summary})
    con = console()
    con.print(f"{len(obs)} creative × segment × channel observations, {sum(o.impressions for o in obs):,} impressions")
    for seg, sk in knowledge.segments.items():
        for label, entries in (("[green]works[/green]", sk.works), ("[yellow]avoid[/yellow]", sk.avoid),
                               ("[red]blocked by rules[/red]", sk.blocked)):
            for e in entries:
                con.print(f"{escape(seg)} · {label}: {escape(e.note)}")
    if not any(sk.works or sk.avoid or sk.blocked for sk in knowledge.segments.values()):
        con.print("no wording effect stands out from the noise (nothing claimed)")
    con.print(f"knowledge: {escape(str(path))} (edit it freely; the copy engines read it, compliance rules still win)")
    return 0


@app.command("report", help=REPORT_HELP)
def report(
    by: Annotated[str, typer.Option("--by", help="Group creatives by: brief, headline, channel, origin or layout (the poster's layout family).")] = "brief",
    channel: Annotated[Optional[list[str]], ListOpt("--channel", "-c", help="Only this channel (slot).")] = None,
    since: SinceOpt = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.html and the PNG charts.")] = Path("learn-report"),
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from rich.markup import escape
    from rich.table import Table
    from ..registry.store import open_registry
    from ..learn.report import FAMILIES, summarize, write_report
    from ..learn.store import feedback

    if by not in FAMILIES:
        raise MktError(f"--by: '{by}' is not a creative family", "use one of: " + ", ".join(FAMILIES))
    with open_registry(registry) as reg:
        rows = feedback(reg, channel=channel, since=_since_day(since))
    if not rows:
        raise MktError("no feedback to report" + (f" on or after {_since_day(since)}" if since else "")
                       + (f" for {', '.join(channel)}" if channel else ""),
                       "widen --since / --channel" if since or channel else
                       "ingest click logs first: mkt learn ingest clicks.csv")
    check_out_dir(out)
    s = summarize(rows, by=by)
    try:
        page = write_report(s, out, f"mkt learn report{' · ' + ', '.join(channel) if channel else ''}")
    except OSError as e:
        raise MktError(f"cannot write the report into {out}: {e.strerror}", "give --out a folder you can write") from None
    if as_json:
        return _out({"report": str(page), **s})
    con = console()
    t = Table(title=escape(f"CTR by segment × {by} ({s['days'][0]} … {s['days'][1]})"), title_justify="left")
    for col in ("segment", by, "impressions", "clicks", "CTR", "95% interval", "creatives"):
        t.add_column(col, justify="right" if col in ("impressions", "clicks", "CTR", "creatives") else "left")
    for c in s["cells"][:60]:
        t.add_row(escape(c["segment"]), escape(c["family"][:40]), f"{c['impressions']:,}", f"{c['clicks']:,}",
                  f"{c['ctr'] * 100:.2f}%" if c["ctr"] is not None else "—",
                  f"{c['ci95'][0] * 100:.2f}–{c['ci95'][1] * 100:.2f}%", str(c["creatives"]))
    con.print(t)
    o = s["ai_vs_human"]["overall"]
    if o:
        con.print(f"AI vs human: CTR {o['ai_ctr'] * 100:.2f}% vs {o['human_ctr'] * 100:.2f}% → uplift "
                  f"{o['uplift'] * 100:+.1f}% (95% {o['ci95'][0] * 100:+.1f}% … {o['ci95'][1] * 100:+.1f}%); "
                  f"AI took {o['ai_click_share'] * 100:.0f}% of clicks")
    con.print(f"report: {escape(str(page))}")
    return 0
