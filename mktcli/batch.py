"""`mkt batch`: many briefs × segments × channels into one OUT, resumable, cached, in parallel, shardable.

How a batch runs, and why it is shaped this way:
1. **Plan** (every process, cheap): load each brief (a bad one is reported and skipped), list its creatives, and give
   each a cache key (`inputs.creative_key`: what the creative is made from). Every process plans the same list.
2. **Render** (the expensive part): each creative not already cached is rendered and written into its bundle, then
   a small record (its manifest entry) is written atomically to OUT/.mkt-batch/records/<key>.json. A record is
   the proof a creative is finished: a killed batch resumes from the records, and an unchanged creative is never
   rendered twice. Local work runs in `jobs` processes (compose, encode and checks are CPU-bound Python); under
   `accelerate launch` each process first takes its contiguous share of the list
   (`PartialState().split_between_processes`), so 8 GPUs or several machines each render a part.
3. **Merge** (the main process, after everyone is done): each brief's records become its bundle through the same
   `poster.write_bundle` that `mkt poster` uses, so a bundle is the same whichever process rendered which creative.
   A bundle whose records and brief did not change is left as it is (same bytes, not registered again).
"""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .brand import load_brand
from .brief import load_brief
from .checks import failed_errors
from .errors import BriefError, ExitCode, MktError, as_mkt_error
from .export.files import atomic_write_json, check_out_dir, make_dir, safe_join, sha256
from .export.lock import hold_out
from .inputs import content_digest, creative_key, file_digest, json_digest, rules_fingerprint
from .userfiles import read_user_file
from .visual.base import resolve_engine_name
from .workers import watch_parent

STATE_DIR = ".mkt-batch"
BRIEF_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class BatchOptions:
    """What applies to every brief of the batch (the `mkt poster` options that make sense for many briefs)."""
    out: Path = Path("out")
    jobs: int | None = None            # local worker processes (default: one per core; 1 with a GPU engine)
    force: bool = False                # re-render cached creatives too
    fail_fast: bool = False            # stop at the first bad brief or failed creative
    seed: int | None = None
    engine: str | None = None
    channel_files: tuple[Path, ...] = ()
    rules: tuple[Path, ...] = ()
    visual_options: Any = None         # DiffusionOptions for the diffusers engine
    verify: bool = False
    allow_errors: bool = False
    layered: bool = True
    register: bool = True
    variants: int | None = None   # per segment × channel (default: the brief's variants:)


@dataclass(frozen=True)
class Item:
    """One creative to make: which brief, segment and channel, and its cache key."""
    brief: str          # the brief file
    name: str           # the brief's name (its bundle folder)
    segment: str
    channel: str
    text: bool          # a text creative (sms, call_script, push) rather than a poster
    key: str
    variant: int = 0    # posters: which visually distinct alternative (--variants)


@dataclass
class PlannedBrief:
    path: Path
    brief: Any          # mktcli.brief.Brief
    items: list[Item]
    engine: str         # the visual engine it resolves to (decides how many local workers a batch may use)


@dataclass
class BadBrief:
    path: Path
    error: MktError


@dataclass
class Plan:
    briefs: list[PlannedBrief] = field(default_factory=list)
    bad: list[BadBrief] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [it for b in self.briefs for it in b.items]


@dataclass
class Outcome:
    """What happened to one item in this run."""
    item: Item
    status: str                        # rendered | cached | failed
    record: dict[str, Any]
    seconds: float = 0.0


@dataclass
class BundleOutcome:
    name: str
    status: str                        # written | unchanged | incomplete | failed
    manifest: Path | None
    creatives: int = 0
    failures: int = 0
    failed_checks: int = 0
    notes: list[str] = field(default_factory=list)
    unregistered: bool = False
    error: MktError | None = None      # status failed: why the bundle could not be written


@dataclass
class BatchResult:
    plan: Plan
    out: Path = Path("out")
    main: bool = True                  # False on the other processes of a sharded run (the main one reports)
    mine: int = 0                      # items this process was given (all of them unless sharded)
    outcomes: list[Outcome] = field(default_factory=list)
    bundles: list[BundleOutcome] = field(default_factory=list)
    interrupted: bool = False
    stopped_early: bool = False        # --fail-fast
    seconds: float = 0.0

    @property
    def counts(self) -> dict[str, int]:
        c = {"rendered": 0, "cached": 0, "failed": 0}
        for o in self.outcomes:
            c[o.status] += 1
        return c

    @property
    def exit_code(self) -> int:
        """0 all good · 1 some creatives failed checks · 2 bad input (nothing could run) · 3 partial failure ·
        130 interrupted."""
        if self.interrupted:
            return int(ExitCode.INTERRUPTED)
        if not self.main:   # its share is in the records; the main process reports on the whole batch
            return int(ExitCode.OK)
        if not self.plan.briefs:
            return int(ExitCode.BAD_INPUT)
        if (self.plan.bad or self.counts["failed"] or self.stopped_early
                or any(b.status in ("incomplete", "failed") or b.unregistered or b.failures for b in self.bundles)):
            return int(ExitCode.PARTIAL)
        return int(ExitCode.CHECKS_FAILED if any(b.failed_checks for b in self.bundles) else ExitCode.OK)


# ---- plan ------------------------------------------------------------------------------------------------------

def find_briefs(inputs: Iterable[str | Path]) -> list[Path]:
    """Brief files from the arguments: files as given, folders searched recursively for *.yaml / *.yml (sorted,
    so every process of a sharded run sees the same order). Hidden folders and OUT's state are skipped."""
    found: list[Path] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():   # a FIFO or a device named *.yaml is listed too: it becomes that brief's error, not a hang
            found += sorted(f for f in p.rglob("*") if f.suffix in BRIEF_SUFFIXES and not f.is_dir()
                            and not any(part.startswith(".") for part in f.relative_to(p).parts))
        elif p.exists():
            found.append(p)
        else:
            raise MktError(f"no such brief file or folder: {p}", "give brief YAML files or folders holding them")
    # the same file named twice (a folder and a file in it) is one brief; paths stay as given, so a manifest
    # records briefs/x.yaml as `mkt poster briefs/x.yaml` would, not the operator's absolute path
    seen: dict[Path, Path] = {}
    for f in found:
        seen.setdefault(f.resolve(), f)
    unique = list(seen.values())
    if not unique:
        raise MktError("no briefs found (*.yaml, *.yml)", "give brief YAML files or folders holding them")
    return unique


def _engine_and_options(brief, opts: BatchOptions) -> tuple[str, Any]:
    from .poster import diffusion_options

    name, _ = resolve_engine_name(opts.engine or brief.visual.engine, brief.visual.image is not None)
    options = diffusion_options(brief, opts.visual_options) if name == "diffusers" else opts.visual_options
    return name, options


def plan_brief(path: Path, opts: BatchOptions) -> PlannedBrief:
    """Load one brief and list its creatives with their cache keys (raises MktError for a bad brief)."""
    from .poster import plan_jobs, text_channels

    brief = load_brief(path, channel_files=list(opts.channel_files))
    brand = load_brand(brief.brand, brief.base_dir, brief_file=brief.path)
    engine, options = _engine_and_options(brief, opts)
    seed = brief.visual.seed if opts.seed is None else opts.seed
    content = content_digest(brief, brand, engine, seed, options)
    rules = rules_fingerprint(tuple(str(r) for r in opts.rules))

    def key(seg: str, channel: str, variant: int = 0) -> str:
        return creative_key(content, seg, brief.channel(channel), rules=rules, verify=opts.verify,
                            layered=opts.layered, variant=variant)

    items = [Item(str(path), brief.name, j.segment.name, j.channel.name, False,
                  key(j.segment.name, j.channel.name, j.variant), j.variant)
             for j in plan_jobs(brief, variants=opts.variants)]
    items += [Item(str(path), brief.name, s.name, ch, True, key(s.name, ch))
              for s in brief.segments() for ch in text_channels(brief)]
    return PlannedBrief(path, brief, items, engine)


def make_plan(inputs: Iterable[str | Path], opts: BatchOptions) -> Plan:
    plan = Plan()
    owner: dict[str, Path] = {}
    for path in find_briefs(inputs):
        try:
            planned = plan_brief(path, opts)
            name = planned.brief.name
            if name in owner:   # two briefs writing one bundle folder would overwrite each other's files
                raise BriefError(f"brief name '{name}' is also the name of {owner[name]}", file=path, key="name",
                                 hint="give each brief its own name: it names the bundle folder")
            owner[name] = path
            plan.briefs.append(planned)
        except Exception as e:  # noqa: BLE001 — whatever one brief does, it is that brief's error, not the batch's
            plan.bad.append(BadBrief(path, as_mkt_error(e)))
            if opts.fail_fast:
                break
    return plan


# ---- records: the proof a creative is finished --------------------------------------------------------------------

def records_dir(out: Path) -> Path:
    return Path(out) / STATE_DIR / "records"


def _record_path(out: Path, key: str) -> Path:
    return records_dir(out) / f"{key}.json"


def _record_files(record: dict[str, Any]) -> list[dict[str, Any]]:
    c = record.get("creative")
    if not c:
        return []
    return [c] + [c["layers"][ext] for ext in ("psd", "svg") if ext in c.get("layers", {})]


def load_record(out: Path, item: Item) -> dict[str, Any] | None:
    """The item's record, if it is there and its files are still as written (same size and sha256)."""
    path = _record_path(out, item.key)
    try:   # a regular file within files.json: anything else planted in OUT/.mkt-batch is not a record
        record = json.loads(read_user_file(path, "record", "json").decode("utf-8"))
    except (OSError, ValueError, RecursionError, MktError):
        return None
    if not isinstance(record, dict):
        return None
    if record.get("key") != item.key:
        return None
    bundle = Path(out) / item.name
    for f in _record_files(record):
        p = bundle / f["path"]
        try:
            if p.stat().st_size != f["bytes"] or file_digest(p) != f["sha256"]:
                return None
        except OSError:
            return None
    return record


# ---- render ---------------------------------------------------------------------------------------------------

_RENDERERS: dict[tuple, tuple[Any, list[str]]] = {}   # per process: one renderer per brief, the last few kept


def _renderer(item: Item, opts: BatchOptions):
    from .poster import prepare_renderer

    path = Path(item.brief)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _RENDERERS:
        if len(_RENDERERS) >= 4:
            _RENDERERS.pop(next(iter(_RENDERERS)))
        brief = load_brief(path, channel_files=list(opts.channel_files))
        _RENDERERS[key] = prepare_renderer(brief, seed=opts.seed, engine=opts.engine,
                                           visual_options=opts.visual_options, verify=opts.verify,
                                           rules=list(opts.rules))
    return _RENDERERS[key]


def render_item(item: Item, opts: BatchOptions) -> Outcome:
    """Render one creative into its bundle and write its record (run in a worker process or in-line)."""
    from .poster import Creative, Job, render_poster, render_text

    t0 = time.perf_counter()
    try:
        renderer, notes = _renderer(item, opts)
        brief = renderer.brief
        seg = next(s for s in brief.segments() if s.name == item.segment)
        bundle = make_dir(safe_join(Path(opts.out), brief.name), "bundle folder")
        if item.text:
            made = render_text(renderer, seg, item.channel, bundle)
        else:
            made = render_poster(renderer, Job(seg, brief.channel(item.channel), item.variant), bundle, opts.layered)
        record: dict[str, Any] = {"key": item.key, "brief": item.name, "segment": item.segment,
                                  "channel": item.channel, "engine": renderer.engine.name, "seed": renderer.seed,
                                  "notes": notes}
        if isinstance(made, Creative):
            record["creative"] = made.data
        else:
            record["failure"] = _failure_dict(made.error)
    except Exception as e:  # noqa: BLE001 — the brief changed under us, a model that cannot load, a bug …: this
        # item fails, not the batch
        record = failure_record(item, e)
    atomic_write_json(_record_path(Path(opts.out), item.key), record)
    return Outcome(item, "failed" if "failure" in record else "rendered", record, time.perf_counter() - t0)


def _failure_dict(e: BaseException) -> dict[str, Any]:
    e = as_mkt_error(e)
    return {"error": str(e), "message": e.message, "hint": e.hint, "exit_code": int(e.exit_code)}


def failure_record(item: Item, e: BaseException) -> dict[str, Any]:
    return {"key": item.key, "brief": item.name, "segment": item.segment, "channel": item.channel,
            "failure": _failure_dict(e), "notes": []}


class RecordedError(MktError):
    """A failure read back from a record (its one-line text as it was)."""

    def __init__(self, d: dict[str, Any]):
        super().__init__(d.get("message") or d.get("error", ""), d.get("hint"))
        self._line = d.get("error") or self.message

    def __str__(self) -> str:
        return self._line


def _run_local(items: list[Item], opts: BatchOptions, jobs: int) -> Iterator[Outcome]:
    """Render items in this process (jobs == 1) or in `jobs` worker processes, yielding outcomes as they finish."""
    if jobs <= 1 or len(items) <= 1:
        for it in items:
            yield render_item(it, opts)
        return
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # A worker's first creative of a brief pays for the brief's set-up (renderer, copy, the SVG font subsets:
    # ~0.5 s), so a brief's creatives stay with one worker ("lane"), and a lane that runs dry takes the next
    # brief. With fewer briefs than workers, single creatives are shared out instead, so no core sits idle.
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(it.brief, []).append(it)
    units = list(groups.values()) if len(groups) >= jobs else [[it] for it in items]
    units.reverse()   # pop() from the end takes them in order
    # spawn: workers are this process's own children (the parent may hold threads, e.g. rich's refresh, that fork
    # would copy mid-flight), and each one leaves when it sees this process gone (a kill -9 leaves no orphans)
    ctx = mp.get_context("spawn")

    def new_lane() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_watch_parent,
                                   initargs=(os.getpid(),))

    jobs = min(jobs, len(units))
    lanes = [new_lane() for _ in range(jobs)]
    queued: list[list[Item]] = [[] for _ in lanes]   # each lane's brief in progress
    in_flight: dict[Any, tuple[int, Item, Any]] = {}

    def feed(lane: int) -> None:   # two in flight per lane: the worker never waits for the parent
        while sum(1 for v, _, _ in in_flight.values() if v == lane) < 2:
            if not queued[lane]:
                if not units:
                    return
                queued[lane] = list(units.pop())
            item = queued[lane].pop(0)
            in_flight[lanes[lane].submit(render_item, item, opts)] = (lane, item, lanes[lane])

    try:
        for lane in range(len(lanes)):
            feed(lane)
        while in_flight:
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for fut in done:
                lane, item, pool = in_flight.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as e:  # noqa: BLE001 — a worker that died (out of memory, a crash in a C
                    # library): this creative failed, its lane gets a new worker, and the batch goes on
                    outcome = Outcome(item, "failed", failure_record(item, e))
                    if isinstance(e, BrokenProcessPool) and lanes[lane] is pool:
                        lanes[lane].shutdown(wait=False, cancel_futures=True)
                        lanes[lane] = new_lane()
                yield outcome
                feed(lane)
    finally:
        for pool in lanes:
            pool.shutdown(wait=True, cancel_futures=True)


def _watch_parent(parent: int) -> None:
    """In a worker: exit when the batch process is gone (killed), instead of rendering on for nobody."""
    watch_parent(parent)


def default_jobs(plan: Plan, opts: BatchOptions) -> int:
    if opts.jobs:
        return opts.jobs
    engines = {b.engine for b in plan.briefs}
    # one GPU is shared by one process; more processes would each load the model (use accelerate for more GPUs)
    return 1 if "diffusers" in engines else max(1, os.cpu_count() or 1)


# ---- merge ----------------------------------------------------------------------------------------------------

def _bundle_state_path(out: Path, name: str) -> Path:
    return Path(out) / STATE_DIR / "bundles" / f"{name}.json"


def merge_bundle(planned: PlannedBrief, records: list[dict[str, Any]], opts: BatchOptions) -> BundleOutcome:
    """Write (or keep) one brief's bundle from its creatives' records."""
    from .poster import Creative, Failure, start_bundle, write_bundle

    brief = planned.brief
    bundle = safe_join(Path(opts.out), brief.name)
    state_path = _bundle_state_path(opts.out, brief.name)
    bundle_key = json_digest([brief.sha256, [r["key"] for r in records], opts.allow_errors, opts.register])
    creatives = [Creative(r["creative"]) for r in records if "creative" in r]
    n_failed_checks = sum(1 for c in creatives if failed_errors(c.data.get("checks")))
    failures = [Failure(r["segment"], r["channel"], RecordedError(r["failure"])) for r in records if "failure" in r]
    manifest = bundle / "manifest.json"
    try:
        state = json.loads(read_user_file(state_path, "bundle state", "json").decode("utf-8"))
        if (isinstance(state, dict) and state.get("key") == bundle_key and manifest.is_file()
                and sha256(read_user_file(manifest, "manifest", "json")) == state.get("manifest_sha256")):
            return BundleOutcome(brief.name, "unchanged", manifest, len(creatives), len(failures), n_failed_checks)
    except (OSError, ValueError, RecursionError, MktError):
        pass
    start_bundle(opts.out, brief)   # after the barrier: no process is writing temp files any more
    first = next((r for r in records if "engine" in r), {})
    notes = [n for r in records for n in r.get("notes", [])]
    res = write_bundle(brief, bundle, creatives + failures, notes, engine=first.get("engine", "?"),
                       seed=first.get("seed", brief.visual.seed), allow_errors=opts.allow_errors,
                       register=opts.register)
    if not res.unregistered:   # an unregistered bundle is merged again next time, so it gets registered then
        atomic_write_json(state_path, {"key": bundle_key, "manifest_sha256": sha256(manifest.read_bytes())})
    return BundleOutcome(brief.name, "written", res.manifest_path, len(creatives), len(failures), n_failed_checks,
                         res.notes, res.unregistered)


# ---- the whole run --------------------------------------------------------------------------------------------

@dataclass
class Hooks:
    """How the CLI follows a run (all optional)."""
    on_plan: Callable[[Plan, int, int], None] | None = None        # plan, items to render, cached
    on_item: Callable[[Outcome], None] | None = None
    on_bundle: Callable[[BundleOutcome], None] | None = None


def _distributed_state(opts: BatchOptions):
    """accelerate's PartialState when launched with several processes (accelerate launch / torchrun), else None."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    try:
        from datetime import timedelta

        import torch
        from accelerate import PartialState
    except ImportError as e:
        raise MktError(f"a multi-process launch needs accelerate and torch ({e.name} is missing)",
                         "pip install 'mktcli[gpu]'") from None
    # a long render on one process must not time out the others' wait at the merge barrier
    return PartialState(cpu=not torch.cuda.is_available(), timeout=timedelta(hours=48))


def run_batch(inputs: Iterable[str | Path], opts: BatchOptions, hooks: Hooks | None = None) -> BatchResult:
    """Plan, render what is not cached, merge bundles. Library entry point of `mkt batch`."""
    hooks = hooks or Hooks()
    t0 = time.perf_counter()
    state = _distributed_state(opts)
    main = state is None or state.is_main_process
    if state is not None and state.device.type == "cuda":   # each process draws on its own GPU
        from .visual.diffusion import DiffusionOptions

        vo = opts.visual_options or DiffusionOptions()
        if getattr(vo, "device", None) is None:
            opts = replace(opts, visual_options=replace(vo, device=f"cuda:{state.local_process_index}"))
    check_out_dir(opts.out)
    plan = make_plan(inputs, opts)   # reads briefs only: nothing is written before the lock below
    if not plan.briefs or (opts.fail_fast and plan.bad):   # nothing to render: OUT is left as it is
        result = BatchResult(plan, Path(opts.out), main, stopped_early=bool(plan.briefs))
        if hooks.on_plan and main:
            hooks.on_plan(plan, 0, 0)
        result.seconds = time.perf_counter() - t0
        return result
    out = make_dir(Path(opts.out))
    # one writer per OUT: no mkt poster or other batch writes into these bundles while this batch runs (the
    # other processes of a sharded run are part of this one)
    with hold_out(out) if main else nullcontext():
        return _run(plan, opts, hooks, state, main, t0)


def _run(plan: Plan, opts: BatchOptions, hooks: Hooks, state, main: bool, t0: float) -> BatchResult:
    result = BatchResult(plan, Path(opts.out), main)
    out = Path(opts.out)
    items = plan.items
    if state is not None:   # every process planned the same list; each takes its contiguous share
        with state.split_between_processes(items) as share:
            mine = list(share)
    else:
        mine = items
    result.mine = len(mine)
    cached: dict[str, dict[str, Any]] = {}
    todo: list[Item] = []
    for it in mine:
        rec = None if opts.force else load_record(out, it)
        if rec is not None:
            cached[it.key] = rec
        else:
            todo.append(it)
    if hooks.on_plan and main:
        hooks.on_plan(plan, len(todo), len(cached))
    for it in mine:
        if it.key in cached:
            o = Outcome(it, "failed" if "failure" in cached[it.key] else "cached", cached[it.key])
            result.outcomes.append(o)
            if hooks.on_item:
                hooks.on_item(o)
    if opts.fail_fast and (plan.bad or any(o.status == "failed" for o in result.outcomes)):
        result.stopped_early = True
        todo = []
    if todo:   # bundles about to change are incomplete until merged (each process marks those it renders into)
        for name in dict.fromkeys(it.name for it in todo):
            (safe_join(out, name) / "manifest.json").unlink(missing_ok=True)
    try:
        jobs = default_jobs(plan, opts)
        for o in _run_local(todo, opts, jobs):
            result.outcomes.append(o)
            if hooks.on_item:
                hooks.on_item(o)
            if opts.fail_fast and o.status == "failed":
                result.stopped_early = True
                break
    except KeyboardInterrupt:
        result.interrupted = True
        result.seconds = time.perf_counter() - t0
        return result
    if state is not None:
        state.wait_for_everyone()   # the merge needs every process's records
    if main and not result.stopped_early:
        # this process's records are at hand (their files were just hashed or written); only other processes'
        # are read back from OUT, and checked against their files
        mine_done = {o.item.key: o.record for o in result.outcomes}
        for planned in plan.briefs:
            records = [mine_done.get(it.key) or load_record(out, it) for it in planned.items]
            if any(r is None for r in records):   # another process failed to finish its share
                b = BundleOutcome(planned.brief.name, "incomplete", None)
            else:
                try:
                    b = merge_bundle(planned, records, opts)
                except Exception as e:  # noqa: BLE001 — one bundle that cannot be written is its own failure
                    err = as_mkt_error(e)
                    b = BundleOutcome(planned.brief.name, "failed", None, notes=[str(err)], error=err)
            result.bundles.append(b)
            if hooks.on_bundle:
                hooks.on_bundle(b)
    result.seconds = time.perf_counter() - t0
    return result
