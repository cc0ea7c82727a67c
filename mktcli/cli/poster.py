"""`mkt poster` and `mkt channels`: parse options, call the library, show the result."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._options import (ChannelFilesOpt, DeviceOpt, DiffusionModelAlias, DiffusionModelOpt, JsonOpt, OutOpt,
                       ListOpt, ProfileOpt, SeedOpt, VariantsOpt, VerifyOpt, VisualEngineAlias, VisualEngineOpt, pick)
from ._console import console, output
from .errors import report
from .. import timings
from ..checks import failed_errors
from ..errors import ExitCode

HELP = """Render every poster a brief asks for: each audience segment × image channel, into OUT/<name>/,
with manifest.json written last. Example: mkt poster examples/briefs/farm-loan.yaml"""
CHANNELS_HELP = "List the channel presets (sizes, byte limits, when each was last checked)."


def poster(
    brief: Annotated[Path, typer.Argument(help="The brief YAML file.", show_default=False)],
    out: OutOpt = Path("out"),
    segment: Annotated[Optional[list[str]], ListOpt("--segment", "-s", help="Only this segment, e.g. 养殖户·有优惠.")] = None,
    channel: Annotated[Optional[list[str]], ListOpt("--channel", "-c", help="Only this channel, e.g. app_banner.")] = None,
    seed: SeedOpt = None,
    engine: VisualEngineOpt = None,
    variants: VariantsOpt = None,
    channel_files: ChannelFilesOpt = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, max=512, help="Parallel render workers: processes for the CPU engines, threads for a GPU engine (default: one per core, up to 4).")] = None,
    model: DiffusionModelOpt = None,
    profile: ProfileOpt = None,
    device: DeviceOpt = None,
    compile_: Annotated[bool, typer.Option("--compile", rich_help_panel="Diffusion (engine diffusers)", help="torch.compile the diffusion transformer's repeated blocks (slower first image, faster after).")] = False,
    step_cache: Annotated[Optional[float], typer.Option("--step-cache", rich_help_panel="Diffusion (engine diffusers)", min=0.0, max=1.0, help="Reuse transformer outputs between similar steps (first-block cache threshold, e.g. 0.1): faster, slightly softer.")] = None,
    allow_research_licence: Annotated[bool, typer.Option("--allow-research-licence", rich_help_panel="Diffusion (engine diffusers)", help="Allow a model whose licence forbids commercial use (internal trials only).")] = False,
    verify: VerifyOpt = False,
    allow_errors: Annotated[bool, typer.Option("--allow-errors", help="Put creatives with failed error-level checks in the approval set anyway (recorded).")] = False,
    rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra compliance rules file(s).")] = None,
    layers: Annotated[bool, typer.Option("--layers/--no-layers", help="Write a layered PSD and an SVG beside each poster, for designers.")] = True,
    register: Annotated[bool, typer.Option("--register/--no-register", help="Record the creatives in the registry (MKT_HOME/registry.db) for mkt ls, recall and audit.")] = True,
    as_json: JsonOpt = False,
    timings_: Annotated[bool, typer.Option("--timings", help="Print where the run's time went (start-up, brief, copy, visuals, compose, encode, PSD, SVG, approval, checks, registry); also MKT_TIMINGS=1.")] = False,
    watch: Annotated[bool, typer.Option("--watch", help="Render, then render again whenever the brief or a file it uses (image, brand, logo, --channels, --rules) changes; Ctrl-C stops.")] = False,
    engine_alias: VisualEngineAlias = None,
    model_alias: DiffusionModelAlias = None,
) -> int:
    engine, model = pick(engine, engine_alias), pick(model, model_alias)
    if watch:   # each round is this same command without --watch; a broken brief is reported and the watch goes on
        return _watch(brief, {k: v for k, v in locals().items() if k not in ("watch", "engine_alias", "model_alias")})
    timings.reset()
    timings.mark_start_up()
    from ..poster import PosterOptions, make_posters
    from ..visual.diffusion import DiffusionOptions

    out_ = output(as_json)
    bar = _Bar(out_.err, show=not as_json and out_.err.is_terminal)
    try:
        vo = DiffusionOptions(model=model, profile=profile, device=device, compile=compile_, step_cache=step_cache,
                              allow_research_licence=allow_research_licence)
        opts = PosterOptions(segments=segment, channels=channel, seed=seed, engine=engine, channel_files=channel_files,
                             jobs=jobs, visual_options=vo, verify=verify, allow_errors=allow_errors, rules=rules,
                             layered=layers, register=register, variants=variants)
        result = make_posters(brief, out, opts, hooks=bar.hooks())
    finally:
        bar.close()
    code, failed_checks = exit_code(result)
    spent = timings.report() if timings.requested(timings_) else None
    if as_json:
        payload = {
            "bundle": str(result.out_dir),
            "manifest": str(result.manifest_path),
            "placement": str(result.out_dir / "placement.json") if result.manifest_path else None,
            "approval": str(result.out_dir / "approval.html") if result.manifest_path else None,
            "registered": bool(register and result.manifest_path and not result.unregistered),
            "creatives": [{k: c.data.get(k) for k in ("id", "segment", "channel", "format", "width", "height", "path",
                                                      "bytes", "sha256")} for c in result.creatives],
            "failures": [{"segment": f.segment, "channel": f.channel, "error": f.error.message,
                          "hint": f.error.hint} for f in result.failures],
            "failed_checks": [{"id": d["id"], "segment": d["segment"], "channel": d["channel"], **k}
                              for d, k in failed_checks],
            "notes": result.notes,
        }
        if spent:
            payload["timings"] = spent
        return out_.result(payload, code)
    bundle_summary(result, failed_checks)
    if spent:
        _timings_table(out_.err, spent)
    return code


class _Bar:
    """The progress a person sees on stderr while posters render (nothing with --json or off a terminal): a status
    line while the engine prepares, then a bar with ETA; make_posters calls it through PosterHooks."""

    def __init__(self, err, show: bool):
        self.err, self.show = err, show
        self.progress = self.task = self.status = None

    def hooks(self):
        from ..poster import PosterHooks

        return PosterHooks(on_start=self.start, on_status=self.set_status, on_detail=self.detail,
                           on_progress=self.advance)

    def start(self, jobs, engine_name) -> None:
        if self.show:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn("[bold]posters[/bold]"), BarColumn(), MofNCompleteColumn(),
                                     TimeRemainingColumn(), TextColumn("{task.description}"), console=self.err,
                                     transient=True)
            self.progress.start()
            self.task = self.progress.add_task("", total=len(jobs))

    def set_status(self, text) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
        if text and self.show:
            self.status = self.err.status(text)
            self.status.start()

    def detail(self, text) -> None:
        if self.progress is not None:
            self.progress.update(self.task, description=text)

    def advance(self, job, outcome) -> None:
        if self.progress is not None:
            self.progress.update(self.task, advance=1, description=f"{job.segment.name} / {job.channel.name}")

    def close(self) -> None:
        self.set_status(None)
        if self.progress is not None:
            self.progress.stop()


def _timings_table(err, spent: dict) -> None:
    """The phases as a table on stderr: seconds (summed over the render workers), share of the wall time, calls."""
    from rich.table import Table

    wall = spent.get("wall") or 0.0
    t = Table(title=f"where the time went · wall {wall:.2f} s", title_justify="left")
    t.add_column("phase")
    t.add_column("s", justify="right")
    t.add_column("% of wall", justify="right")
    t.add_column("calls", justify="right")
    for row in spent["phases"]:
        share = f"{100 * row['seconds'] / wall:.0f}" if wall else ""
        t.add_row(row["phase"], f"{row['seconds']:.3f}", share, str(row["calls"]))
    err.print(t)
    err.print("[dim]per-poster phases add up over the render workers, so they can sum past the wall time[/dim]")


def _watch(brief: Path, options: dict) -> int:

    from ..watch import watch_brief

    err = console(stderr=True)
    try:
        watch_brief(brief, lambda _path: poster(**options), channel_files=options["channel_files"] or (),
                    rules=options["rules"] or (), on_error=report,
                    on_wait=lambda deps: err.print(f"[dim]watching {sum(p.exists() for p in deps)} file(s) for changes · "
                                                     "Ctrl-C stops[/dim]"))
    except KeyboardInterrupt:   # the way a user ends a watch: not an error
        err.print("[dim]stopped watching[/dim]")
    return 0


def exit_code(result) -> tuple[int, list]:
    """(exit code, failed error-level checks) of a run; `mkt quick` answers with the same codes."""
    # 3: some creatives failed and the rest were written; when nothing could be made, the error's own code
    failed_checks = [(c.data, k) for c in result.creatives for k in failed_errors(c.data.get("checks"))]
    if result.failures:
        code = ExitCode.PARTIAL if result.creatives else result.failures[0].error.exit_code
    elif result.unregistered:   # the bundle is complete but the registry missed it (the note says how to fix)
        code = ExitCode.PARTIAL
    else:
        code = ExitCode.CHECKS_FAILED if failed_checks else ExitCode.OK
    return int(code), failed_checks


def bundle_summary(result, failed_checks) -> None:
    """The bundle's summary on the console (`mkt poster`, and `mkt quick` after what it read)."""
    from rich.markup import escape
    from rich.table import Table

    con = console()
    n_text = sum(1 for c in result.creatives if c.data.get("format") == "text")
    title = f"{len(result.creatives) - n_text} posters" + (f" + {n_text} text creatives" if n_text else "")
    table = Table(title=f"{title} → {result.out_dir}", title_justify="left")
    if len(result.creatives) <= 24:
        for col in ("segment", "channel", "size", "KB", "file"):
            table.add_column(col, justify="right" if col == "KB" else "left")
        for c in result.creatives:
            d = c.data
            size = f"{d['width']}×{d['height']}" if d.get("width") else "text"
            table.add_row(escape(d["segment"]), d["channel"], size,
                          f"{d['bytes'] / 1024:.0f}" if d.get('width') else f"{d['bytes']} B", escape(d["path"]))
    else:  # a big bundle: one row per channel keeps the summary on one screen
        for col in ("channel", "size", "posters", "largest KB"):
            table.add_column(col, justify="left" if col in ("channel", "size") else "right")
        by_channel: dict[str, list[dict]] = {}
        for c in result.creatives:
            by_channel.setdefault(c.data["channel"], []).append(c.data)
        for ch, items in by_channel.items():
            table.add_row(ch, f"{items[0]['width']}×{items[0]['height']}" if items[0].get("width") else "text",
                          str(len(items)),
                          f"{max(d['bytes'] for d in items) / 1024:.0f}")
    con.print(table)
    dropped = [c.data for c in result.creatives if c.data.get("dropped")]
    for d in dropped[:6]:
        con.print(f"[yellow]note[/yellow] {escape(d['segment'])} / {d['channel']}: no room at a legible size for "
                  f"{escape(', '.join(d['dropped']))} (left out)")
    if len(dropped) > 6:
        con.print(f"[yellow]note[/yellow] … {len(dropped) - 6} more posters left optional blocks out "
                  "(each creative's 'dropped' in manifest.json)")
    for d, k in failed_checks:
        con.print(f"[red]check {k['rule']}[/red] {escape(d['segment'])} / {d['channel']}: {escape(k['message'])}")
    for f in result.failures:
        con.print(f"[red]failed[/red] {escape(f.segment)} / {f.channel}: {escape(f.error.message)}"
                  + (f"\n    [cyan]hint:[/cyan] {escape(f.error.hint)}" if f.error.hint else ""))
    for n in result.notes:
        con.print(f"[dim]note: {escape(n)}[/dim]")
    con.print(f"manifest: {escape(str(result.manifest_path))}")
    if result.manifest_path:
        con.print(f"approval request: {escape(str(result.out_dir / 'approval.html'))} · placement config: "
                  f"{escape(str(result.out_dir / 'placement.json'))}")


def channels(
    channel_files: ChannelFilesOpt = None,
    as_json: JsonOpt = False,
) -> int:

    from ..channels import load_channels

    out = output(as_json)
    chans = load_channels(channel_files)
    if as_json:
        # the channels by name, as before, beside ok and exit_code (no channel may be named either)
        return out.result({n: c.model_dump(mode="json", exclude_none=True) for n, c in chans.items()})
    rows = [[n + (" [red](refused)[/red]" if c.refuse else ""), c.label, f"{c.width}×{c.height}" if c.is_image else
             "text", f"{c.max_bytes / 1024:.0f}" if c.max_bytes else "—", str(c.checked or "")]
            for n, c in chans.items()]
    out.print(out.table(("name", "label", "size", "max KB", "checked"), rows, title="channel presets"))
    return 0
