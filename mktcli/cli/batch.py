"""`mkt batch`: options in, mktcli.batch does the work; a progress bar on a terminal, JSON lines for scripts."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._options import (ChannelFilesOpt, DeviceOpt, DiffusionModelAlias, DiffusionModelOpt, OutOpt, ProfileOpt,
                       SeedOpt, VariantsOpt, VerifyOpt, VisualEngineAlias, VisualEngineOpt, json_mode, pick)
from ._console import output
from .errors import error_dicts, report
from ..checks import failed_errors

HELP = """Render many briefs (files or folders of *.yaml) into OUT/<brief name>/ bundles: every segment × channel,
in parallel processes, skipping creatives whose inputs did not change (re-run after a crash or Ctrl-C to resume).
A bad brief is reported and the rest complete. Progress bar on a terminal; JSON lines with --json or in a pipe.
Exit codes: 0 all good, 1 some creatives failed checks, 2 bad input, 3 partial failure, 130 interrupted,
141 broken pipe.
Several GPUs or machines: accelerate launch -m mktcli batch … (see docs/batch.md).
Example: mkt batch briefs/ -o out"""


def batch(
    briefs: Annotated[list[Path], typer.Argument(help="Brief YAML files and/or folders holding them.", show_default=False)],
    out: OutOpt = Path("out"),
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, max=512, help="Worker processes (default: one per CPU core; 1 with the diffusers engine).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Render every creative again, even when its inputs did not change.")] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first bad brief or failed creative (a re-run resumes).")] = False,
    seed: SeedOpt = None,
    engine: VisualEngineOpt = None,
    variants: VariantsOpt = None,
    channel_files: ChannelFilesOpt = None,
    model: DiffusionModelOpt = None,
    profile: ProfileOpt = None,
    device: DeviceOpt = None,
    verify: VerifyOpt = False,
    allow_errors: Annotated[bool, typer.Option("--allow-errors", help="Put creatives with failed error-level checks in the approval set anyway (recorded).")] = False,
    rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra compliance rules file(s).")] = None,
    layers: Annotated[bool, typer.Option("--layers/--no-layers", help="Write a layered PSD and an SVG beside each poster.")] = True,
    register: Annotated[bool, typer.Option("--register/--no-register", help="Record the creatives in the registry (MKT_HOME/registry.db).")] = True,
    as_json: Annotated[bool, typer.Option("--json", is_eager=True, callback=json_mode, help="JSON lines on stdout (one event per creative, bundle and bad brief, then a summary); also the default when stdout is not a terminal.")] = False,
    engine_alias: VisualEngineAlias = None,
    model_alias: DiffusionModelAlias = None,
) -> int:
    from ..batch import BatchOptions, Hooks, run_batch
    from ..visual.diffusion import DiffusionOptions

    engine, model = pick(engine, engine_alias), pick(model, model_alias)

    vo = DiffusionOptions(model=model, profile=profile, device=device)
    opts = BatchOptions(out=out, jobs=jobs, force=force, fail_fast=fail_fast, seed=seed, engine=engine,
                        channel_files=tuple(channel_files or ()), rules=tuple(rules or ()), visual_options=vo,
                        verify=verify, allow_errors=allow_errors, layered=layers, register=register,
                        variants=variants)
    out_ = output(as_json)
    lines = as_json or not sys.stdout.isatty()
    view = _Lines(out_) if lines else _Terminal(out_)
    try:
        result = run_batch(briefs, opts, Hooks(on_plan=view.plan, on_item=view.item, on_bundle=view.bundle))
    finally:
        view.close()
    if not result.main:   # another process of a sharded run: the main one reports on the whole batch
        return result.exit_code
    view.summary(result)
    return result.exit_code


def _bad(b) -> dict:

    return {"brief": str(b.path), "exit_code": int(b.error.exit_code), "errors": error_dicts(b.error)}


def _summary_dict(result) -> dict:
    c = result.counts
    n = sum(c.values())
    return {"event": "summary", "exit_code": result.exit_code, "ok": result.exit_code == 0,
            "briefs": len(result.plan.briefs) + len(result.plan.bad), "bad_briefs": len(result.plan.bad),
            "creatives": len(result.plan.items), "rendered": c["rendered"], "cached": c["cached"],
            "failed": c["failed"], "by_other_processes": len(result.plan.items) - result.mine,
            "not_done": result.mine - n,
            "bundles_written": sum(1 for b in result.bundles if b.status == "written"),
            "bundles_unchanged": sum(1 for b in result.bundles if b.status == "unchanged"),
            "bundles_incomplete": sum(1 for b in result.bundles if b.status == "incomplete"),
            "bundles_failed": sum(1 for b in result.bundles if b.status == "failed"),
            "failed_checks": sum(b.failed_checks for b in result.bundles),
            "interrupted": result.interrupted, "stopped_early": result.stopped_early,
            "seconds": round(result.seconds, 2),
            "rendered_per_second": round(c["rendered"] / result.seconds, 2) if result.seconds else None}


class _Lines:
    """One JSON object per line on stdout: easy for `jq`, `while read`, and log collectors."""

    def __init__(self, out):
        self._emit = out.line

    def plan(self, plan, todo: int, cached: int) -> None:
        for b in plan.bad:
            self._emit({"event": "bad_brief", **_bad(b)})
        self._emit({"event": "plan", "briefs": len(plan.briefs), "bad_briefs": len(plan.bad),
                    "creatives": len(plan.items), "to_render": todo, "cached": cached})

    def item(self, o) -> None:
        d = {"event": "creative", "status": o.status, "brief": o.item.name, "segment": o.item.segment,
             "channel": o.item.channel}
        if "creative" in o.record:
            c = o.record["creative"]
            d |= {"id": c["id"], "path": f"{o.item.name}/{c['path']}", "failed_checks": _failed(c)}
        if "failure" in o.record:
            d |= {"error": o.record["failure"]["error"], "hint": o.record["failure"].get("hint")}
        if o.seconds:
            d["seconds"] = round(o.seconds, 3)
        self._emit(d)

    def bundle(self, b) -> None:
        d = {"event": "bundle", "brief": b.name, "status": b.status,
             "manifest": str(b.manifest) if b.manifest else None, "creatives": b.creatives,
             "failures": b.failures, "failed_checks": b.failed_checks, "unregistered": b.unregistered}
        if b.error is not None:

            d |= {"exit_code": int(b.error.exit_code), "errors": error_dicts(b.error)}
        self._emit(d)

    def summary(self, result) -> None:
        self._emit(_summary_dict(result))

    def close(self) -> None:
        pass


def _failed(c: dict) -> list[str]:
    return [k["rule"] for k in failed_errors(c.get("checks"))]


class _Terminal:
    """A progress bar with ETA on stderr while it runs, a summary table at the end."""

    def __init__(self, out):
        self.err = out.err
        self.con = out.con
        self.progress = None
        self.task = None
        self.failed: list = []

    def plan(self, plan, todo: int, cached: int) -> None:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        from rich.markup import escape

        for b in plan.bad:   # reported as they are found; the rest of the batch goes on
            self.err.print(f"[red]bad brief[/red] {escape(str(b.path))}")
            report(b.error, self.err)
        self.progress = Progress(TextColumn("[bold]batch[/bold]"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                 TextColumn("{task.description}"), console=self.err, transient=True)
        self.progress.start()
        # cached creatives are counted at once, so the ETA measures only what is left to render
        self.task = self.progress.add_task("", total=todo + cached)

    def item(self, o) -> None:
        if o.status == "failed":
            self.failed.append(o)
        if self.progress is not None:
            # short: a long description squeezes the bar and the ETA out of an 80-column terminal
            self.progress.update(self.task, advance=1, description=_short(o.item.name, 28))

    def bundle(self, b) -> None:
        pass

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def summary(self, result) -> None:
        from rich.markup import escape
        from rich.table import Table

        s = _summary_dict(result)
        if result.bundles:
            table = Table(title=f"{len(result.bundles)} bundles in {escape(str(result.out))}", title_justify="left")
            for col in ("brief", "creatives", "failed checks", "failed", "bundle"):
                table.add_column(col, justify="right" if col in ("creatives", "failed checks", "failed") else "left")
            shown = result.bundles if len(result.bundles) <= 30 else \
                [b for b in result.bundles if b.failures or b.failed_checks or b.status in ("incomplete", "failed")][:30]
            for b in shown:
                table.add_row(escape(b.name), str(b.creatives), _red(b.failed_checks), _red(b.failures),
                              b.status + (" (not registered)" if b.unregistered else ""))
            self.con.print(table)
            if len(shown) < len(result.bundles):
                self.con.print(f"[dim]… {len(result.bundles) - len(shown)} more bundles without problems[/dim]")
        for o in self.failed[:10]:
            f = o.record["failure"]
            self.con.print(f"[red]failed[/red] {escape(o.item.name)} · {escape(o.item.segment)} · {o.item.channel}:"
                           f" {escape(f['error'])}" + (f"\n    [cyan]hint:[/cyan] {escape(f['hint'])}"
                                                         if f.get("hint") else ""))
        for b in result.plan.bad:
            self.con.print(f"[red]bad brief[/red] {escape(str(b.path))}: {escape(_short(str(b.error), 300))}")
        for b in result.bundles:
            if b.error is not None:
                self.con.print(f"[red]bundle not written[/red] {escape(b.name)}: {escape(_short(str(b.error), 300))}"
                               + (f"\n    [cyan]hint:[/cyan] {escape(b.error.hint)}" if b.error.hint else ""))
        rate = f", {s['rendered_per_second']}/s" if s["rendered"] and s["rendered_per_second"] else ""
        head = ("[yellow]interrupted[/yellow]: finished creatives are kept; re-run to resume. "
                if result.interrupted else "")
        self.con.print(f"{head}{s['creatives']} creatives from {len(result.plan.briefs)} briefs: "
                       f"{s['rendered']} rendered, {s['cached']} unchanged (cached), {s['failed']} failed"
                       + (f", {s['by_other_processes']} by other processes" if s["by_other_processes"] else "")
                       + (f", {s['not_done']} not done yet" if s["not_done"] else "")
                       + f"; {len(result.plan.bad)} bad briefs; {s['failed_checks']} with failed checks "
                       f"— {result.seconds:.1f} s{rate} · exit {result.exit_code}")


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _red(n: int) -> str:
    return f"[red]{n}[/red]" if n else "0"
