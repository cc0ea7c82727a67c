"""`mkt register`, `mkt ls`, `mkt mark`, `mkt recall`, `mkt audit`: the creative registry (mktcli/registry/store.py)
from the command line. Each command calls one Registry method and shows the result; the library is imported inside
the commands so `mkt --help` stays fast."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ._options import JsonOpt, ListOpt, SinceOpt, alias
from ._console import output
from ..errors import BriefError, ExitCode

REGISTER_HELP = """Add a bundle made elsewhere (a folder with manifest.json, or the manifest itself) to the registry.
Re-registering refreshes paths, texts and checks and keeps each creative's status.
Example: mkt register out/farm-loan-spring"""
LS_HELP = """List registered creatives, newest first, filtered by status, channel, segment, brief, phrase or date.
Example: mkt ls --status live --channel sms · mkt ls --phrase 补栏周转不误农时 --json"""
MARK_HELP = """Set creatives' status: draft → approved → live (or one step back). All or nothing; approving a creative
with a failed error-level check is refused (exit 1) unless --override-checks. Use mkt recall to recall.
Example: mkt mark approved --brief farm-loan-spring --reason 'compliance ticket 123'"""
RECALL_HELP = """Recall creatives by id, brief or phrase (whitespace- and width-insensitive, over every text) and write a
withdrawal list per channel plus withdrawals.csv. Exit 1 when nothing matches.
Example: mkt recall --phrase 不误农时 --reason '监管通知：停用该表述'"""
AUDIT_HELP = """Draw a reproducible stratified sample (by channel × segment) for review and write an HTML review sheet;
`mkt audit record` reads the reviewer's decisions back. Without --sample, list recent audits.
Example: mkt audit --sample 5% --seed 7 · mkt audit record a-… decisions-a-….json"""
RECORD_HELP = ("Record review decisions for an audit: the review sheet's download (decisions-<audit id>.json), "
               "or --id/--decision/--note for one creative.")

RegistryOpt = Annotated[Path | None, typer.Option("--registry", help="Registry file (default: $MKT_REGISTRY, else <MKT_HOME>/registry.db).")]
StatusOpt = Annotated[list[str] | None, ListOpt("--status", help="Only this status: draft, approved, live, recalled.")]
ChannelOpt = Annotated[list[str] | None, ListOpt("--channel", "-c", help="Only this channel, e.g. app_banner.")]
SegmentOpt = Annotated[list[str] | None, ListOpt("--segment", "-s", help="Only this segment, e.g. 养殖户·有优惠.")]
BriefOpt = Annotated[str | None, typer.Option("--brief", help="Only creatives of this brief (its name:, e.g. farm-loan-spring).")]
IdsArg = Annotated[list[str] | None, typer.Argument(help="Creative ids (c-…).", show_default=False)]


def _emit(payload: dict[str, Any], code: int = 0) -> int:

    return output(True).result(payload, code)


def _console():

    return output().con


def register(
    paths: Annotated[list[Path], typer.Argument(help="Bundle folder(s) or manifest.json file(s).", show_default=False)],
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from rich.markup import escape

    from ..registry.store import open_registry

    with open_registry(registry) as reg:
        results = [reg.register_manifest(p) for p in paths]
    if as_json:
        return _emit({"registry": str(reg.path), "results": [r.as_dict() for r in results]})
    con = _console()
    for r in results:
        line = f"{escape(r.brief)}: {len(r.added)} new, {len(r.updated)} updated ← {escape(str(r.manifest))}"
        con.print(line)
        if r.recalled:
            con.print(f"  [yellow]{len(r.recalled)} stay recalled[/yellow]: {escape(', '.join(r.recalled[:6]))}"
                      + (" …" if len(r.recalled) > 6 else ""))
    con.print(f"[dim]registry: {escape(str(reg.path))}[/dim]")
    return 0


def ls(
    ids: IdsArg = None,
    status: StatusOpt = None,
    channel: ChannelOpt = None,
    segment: SegmentOpt = None,
    brief: BriefOpt = None,
    phrase: Annotated[str | None, typer.Option("--phrase", "-p", help="Only creatives whose texts contain this phrase (whitespace- and width-insensitive).")] = None,
    since: SinceOpt = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Show at most N (0: all).")] = 100,
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from ..registry.store import open_registry

    filters = {"status": status, "channel": channel, "segment": segment, "brief": brief, "phrase": phrase,
               "since": since, "ids": ids or None}
    with open_registry(registry) as reg:
        for cid in ids or []:
            reg.get(cid)   # an unknown id is a mistake to report, not an empty list
        found = reg.find(**filters, limit=limit or None)
        total = reg.count(**filters) if limit and len(found) == limit else len(found)
    if as_json:
        return _emit({"registry": str(reg.path), "count": total, "shown": len(found),
                      "creatives": [r.as_dict() for r in found]})
    _show_ls(found, total, reg.path)
    return 0


def _show_ls(found, total: int, path: Path) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    colours = {"draft": "dim", "approved": "cyan", "live": "green", "recalled": "red"}
    briefs = sorted({r.brief for r in found})
    one_brief = len(briefs) == 1
    title = f"{total} creative(s)" + (f" of {briefs[0]}" if one_brief else "") + f" · {path}"
    t = Table(title=escape(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    con = _console()
    wide = con.width >= 100   # the text column only where it fits; --json has every text
    cols = ["id", "status"] + ([] if one_brief else ["brief"]) + ["segment", "channel", "checks"] + (
        ["text"] if wide else [])
    for col in cols:
        t.add_column(col, no_wrap=col != "text", overflow="fold" if col == "text" else "ellipsis",
                     min_width={"id": 18, "status": 8, "text": 12}.get(col), max_width=20 if col == "text" else None)
    for r in found:
        c = colours.get(r.status, "")
        checks = " ".join(x for x in (f"[red]{r.errors}E[/red]" if r.errors else "",
                                      f"[yellow]{r.warnings}W[/yellow]" if r.warnings else "") if x) or "ok"
        text = r.texts.get("headline") or r.texts.get("body") or r.texts.get("title") or ""
        cells = [escape(r.id), f"[{c}]{escape(r.status)}[/{c}]"] + ([] if one_brief else [escape(r.brief)]) + [
            escape(r.segment), escape(r.channel), checks] + (
            [escape(text[:12] + ("…" if len(text) > 12 else ""))] if wide else [])
        t.add_row(*cells)
    con.print(t)
    if total > len(found):
        con.print(f"[dim]… {total - len(found)} more (--limit 0 shows all)[/dim]")


def mark(
    status: Annotated[str, typer.Argument(help="The new status: approved, live or draft.", show_default=False)],
    ids: IdsArg = None,
    brief: Annotated[str | None, typer.Option("--brief", help="Every creative of this brief (recalled ones are left alone).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", "-r", help="Why (kept in each creative's history; required with --override-checks).")] = None,
    override: Annotated[bool, typer.Option("--override-checks", help="Go past the status rules (skip a step, leave recalled, approve despite failed checks); recorded with --reason.")] = False,
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
    force_alias: Annotated[bool, alias("--force", "--override-checks", help="Go past the status rules.")] = False,
) -> int:
    from ..registry.store import open_registry

    if status == "recalled":
        raise BriefError("mark does not recall", key="STATUS",
                         hint="mkt recall ID… --reason '…' recalls and writes the withdrawal lists")
    if status not in ("approved", "live", "draft"):
        raise BriefError(f"unknown status '{status}'", key="STATUS", hint="approved, live or draft")
    with open_registry(registry) as reg:
        change = reg.set_status(ids, status, reason, brief=brief, force=override or force_alias)
    if as_json:
        return _emit(change.as_dict())
    con = _console()
    con.print(f"{len(change.changed)} marked {status}"
              + (f", {len(change.unchanged)} already {status}" if change.unchanged else "")
              + (f", {len(change.skipped)} recalled left alone" if change.skipped else ""))
    return 0


def recall(
    ids: IdsArg = None,
    brief: Annotated[str | None, typer.Option("--brief", help="Every creative of this brief.")] = None,
    phrase: Annotated[str | None, typer.Option("--phrase", "-p", help="Every creative with this phrase in any text (whitespace- and width-insensitive).")] = None,
    channel: Annotated[list[str] | None, ListOpt("--channel", "-c", help="Only on this channel; narrows the other selectors.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", "-r", help="Why (required): goes into the registry and every withdrawal list.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for the withdrawal lists (default: <MKT_HOME>/recalls/<recall id>/).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be recalled; change and write nothing.")] = False,
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from ..registry.store import open_registry

    with open_registry(registry) as reg:
        rec = reg.recall(ids, brief=brief, phrase=phrase, channel=channel, reason=reason or "", out_dir=out,
                         dry_run=dry_run)

    code = int(ExitCode.OK if rec.items else ExitCode.CHECKS_FAILED)   # nothing matched: exit 1, as documented
    if as_json:
        return _emit({"recall": rec.as_dict()}, code)
    _show_recall(rec)
    return code


def _show_recall(rec) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = _console()
    if not rec.items:
        con.print(f"[yellow]nothing to recall[/yellow]: no registered creative matches "
                  f"{escape(json.dumps(rec.selector, ensure_ascii=False))}")
        return
    verb = "would recall" if rec.dry_run else "recalled"
    t = Table(title=f"{verb} {len(rec.items)} creative(s)" + ("" if rec.dry_run else f" · {rec.id}"),
              title_justify="left")
    for col in ("channel", "creatives", "withdrawal list"):
        t.add_column(col, overflow="fold")
    for ch, items in rec.by_channel().items():
        t.add_row(escape(ch), str(len(items)), escape(str(rec.files.get(ch, "—"))))
    con.print(t)
    if rec.dry_run:
        con.print("[dim]dry run: nothing changed, nothing written[/dim]")
    else:
        con.print(f"all channels: {escape(str(rec.files['csv']))}")
        already = sum(1 for it in rec.items if it["status_before"] == "recalled")
        if already:
            con.print(f"[dim]{already} were already recalled (listed again)[/dim]")


audit_app = typer.Typer(help=AUDIT_HELP, invoke_without_command=True, add_completion=False)


@audit_app.callback(invoke_without_command=True)
def audit(
    ctx: typer.Context,
    sample: Annotated[str | None, typer.Option("--sample", help="How many to review: 5%, 0.05, or a count like 20.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, max=4294967295, help="Seed for the draw (default: random, printed and recorded).")] = None,
    status: StatusOpt = None,
    channel: ChannelOpt = None,
    segment: SegmentOpt = None,
    brief: BriefOpt = None,
    since: SinceOpt = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Review sheet file or folder (default: <MKT_HOME>/audits/<audit id>.html).")] = None,
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int | None:
    from ..registry.store import open_registry, parse_sample_size

    if ctx.invoked_subcommand:
        if sample is not None:
            raise BriefError("--sample cannot go with a subcommand", key="--sample",
                             hint=f"mkt audit --sample 5% … or mkt audit {ctx.invoked_subcommand} …")
        return None
    with open_registry(registry) as reg:
        if sample is None:
            audits = reg.audits()
            if as_json:
                return _emit({"audits": [a.as_dict() for a in audits]})
            _show_audits(audits)
            return 0
        frac, count = parse_sample_size(sample)
        a = reg.sample(frac, count=count, seed=seed, sheet=out, status=status, channel=channel, segment=segment,
                       brief=brief, since=since)
    if as_json:
        return _emit({"audit": a.as_dict()})
    _show_audit(a)
    return 0


def _show_audit(a) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"audit {a.id}: {len(a.items)} of {a.population} (seed {a.seed})", title_justify="left")
    for col in ("stratum (channel/segment)", "population", "sampled"):
        t.add_column(col, justify="left" if col.startswith("stratum") else "right")
    for k, (pop, n) in a.strata.items():
        t.add_row(escape(k), str(pop), str(n) if n else "[dim]0[/dim]")
    con = _console()
    con.print(t)
    con.print(f"review sheet: {escape(str(a.sheet))}")
    con.print(f"[dim]then: mkt audit record {a.id} decisions-{a.id}.json[/dim]")


def _show_audits(audits) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title="audits", title_justify="left")
    for col in ("id", "at", "sampled", "pass", "fail", "pending", "sheet"):
        t.add_column(col, overflow="fold")
    for a in audits:
        tally = a.tally()
        t.add_row(a.id, a.at[:16], f"{len(a.items)} of {a.population}", str(tally["pass"]), str(tally["fail"]),
                  str(tally["pending"]), escape(str(a.sheet or "")))
    _console().print(t if audits else "no audits yet: mkt audit --sample 5%")


@audit_app.command("record", help=RECORD_HELP)
def record(
    audit_id: Annotated[str, typer.Argument(help="The audit id (a-…), printed by mkt audit --sample.", show_default=False)],
    decisions: Annotated[Path | None, typer.Argument(help="decisions-<audit id>.json downloaded from the review sheet.", show_default=False)] = None,
    ids: Annotated[list[str] | None, ListOpt("--id", help="A sampled creative id to decide on instead of a file.")] = None,
    decision: Annotated[str | None, typer.Option("--decision", help="pass or fail, for every --id.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note for every --id.")] = None,
    registry: RegistryOpt = None,
    as_json: JsonOpt = False,
) -> int:
    from ..registry.store import open_registry

    if (decisions is None) == (not ids):
        raise BriefError("give a decisions file or --id (not both)" if ids else "no decisions given: give the "
                         "review sheet's decisions file, or --id with --decision", key="DECISIONS",
                         hint=f"mkt audit record {audit_id} decisions-{audit_id}.json, or "
                              f"mkt audit record {audit_id} --id c-… --decision fail --note '…'")
    if decisions is not None:
        from ..userfiles import read_user_file

        raw = read_user_file(decisions, "decisions file", "json", {"key": "DECISIONS"})   # regular, bounded
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, RecursionError):
            raise BriefError("not UTF-8 JSON text", file=decisions, hint="download it again from the review sheet") \
                from None
        except json.JSONDecodeError as e:
            raise BriefError(f"not valid JSON: {e.msg}", file=decisions, line=e.lineno,
                             hint="download it again from the review sheet") from None
    else:
        if decision is None and note is None:
            raise BriefError("--id needs --decision or --note", key="--decision", hint="pass or fail")
        payload = [{"id": i, "decision": decision, "note": note} for i in ids or []]
    with open_registry(registry) as reg:
        a = reg.record_decisions(audit_id, payload, source=decisions)
    tally = a.tally()
    if as_json:
        return _emit({"audit": a.as_dict()})
    _console().print(f"audit {a.id}: {tally['pass']} pass, {tally['fail']} fail, {tally['pending']} pending")
    return 0
