"""The poster pipeline: brief → segments × channels → key visual + typeset overlays → files + manifest.

`make_posters()` is the public entry point; the CLI is a thin layer over it."""
from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import pickle
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from PIL import Image

from . import __version__, timings
from .brand import Brand, load_brand
from .brief import Brief, Segment, category_defaults, load_brief, rate_text, resolved_message
from .channels import Channel
from .checks import failed_errors, ocr
from .checks.image import check_inputs, implicit_label_check, poster_checks_from
from .checks.readback import readback_check
from .checks.rules import load_rules
from .compose.fonts import FontStack
from .compose.hero import hero_for
from .compose.layout import audience_style
from .compose.render import Content, Placed, check_no_overlap, compose, plan
from .brief_copy import write_copy
from .checks.copy_guard import rule_facts_for
from .copywriting.writer import push_limits
from .errors import AssetError, BriefError, EngineError, MktError
from .export.approval import thumbnail, write_approval
from .export.bundle import ENTRY_HEAD as _ENTRY_HEAD
from .export.bundle import Creative, Failure
from .export.encode import EXTENSIONS, encode
from .export.files import (atomic_write_json, check_out_dir, make_dir, remove_stale_temp_files, safe_join, sha256,
                           write_listed)
from .export.layered import psd_bytes, svg_bytes
from .export.lock import hold_bundle, release_bundle
from .export.placement import placement_config
from .export.text_creative import EXT, text_creative
from .export.video_creative import render_video
from .inputs import content_digest
from .userfiles import load_image
from .visual.base import (VisualEngine, VisualRequest, VisualResult, embedded_engine, get_engine,
                          resolve_engine_name)
from .visual.diffusion import DiffusionOptions
from .workers import forget_inherited_locks, watch_parent

MANIFEST_VERSION = 1
# shapes the manifest lists beside the texts (their boxes): the hero's plate, the text card, the legal band
SHAPE_ROLES = ("rate_plate", "card", "legal_band")
PRODUCER = "mkt (mktcli)"


@dataclass
class Job:
    segment: Segment
    channel: Channel
    variant: int = 0             # 0 … brief.variants - 1: a visually distinct alternative (layout family …)

    @property
    def stem(self) -> str:
        """The creative's file path without extension: <segment>/<channel>, and -v2, -v3 … for variants."""
        return f"{self.segment.name}/{self.channel.name}" + (f"-v{self.variant + 1}" if self.variant else "")


@dataclass
class BundleResult:
    out_dir: Path
    manifest_path: Path | None
    creatives: list[Creative] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unregistered: bool = False       # the registry could not be written (the bundle itself is complete)


def _mkt_version() -> str:
    return __version__


def zone_grid(zone, W: int, H: int, step: int = 8) -> tuple[int, int, int, int]:
    """A visual zone snapped inwards to a grid of `step` px (edges stay edges), so segments whose texts differ by a
    few pixels share one background render."""
    x0, y0, x1, y1 = zone
    snap_in = lambda v, hi: v if v in (0, hi) else (-(-int(v) // step)) * step   # noqa: E731
    snap_out = lambda v, hi: v if v in (0, hi) else (int(v) // step) * step       # noqa: E731
    z = (snap_in(int(x0), W), snap_in(int(y0), H), snap_out(int(x1), W), snap_out(int(y1), H))
    return (max(0, z[0]), max(0, z[1]), min(W, max(z[2], z[0] + 1)), min(H, max(z[3], z[1] + 1)))


def diffusion_options(brief: Brief, given: Any):
    """The diffusers engine's options: command-line values win over the brief's visual.model / visual.profile."""
    opts = given if isinstance(given, DiffusionOptions) else DiffusionOptions()
    return replace(opts, model=opts.model or brief.visual.model, profile=opts.profile or brief.visual.profile)


def plan_jobs(brief: Brief, segments: list[str] | None = None, channels: list[str] | None = None,
              variants: int | None = None) -> list[Job]:
    """Every segment × image channel × variant the run will render, after the --segment/--channel filters.
    `variants` (the --variants option) wins over the brief's `variants:`."""
    segs = brief.segments()
    if segments:
        names = [s.name for s in segs]
        bad = [s for s in segments if s not in names]
        if bad:
            raise BriefError(f"segment '{bad[0]}' is not in the brief", file=brief.path, key="--segment",
                             hint="segments: " + ", ".join(names))
        segs = [s for s in segs if s.name in segments]
    chans = list(brief.channels)
    if channels:
        bad = [c for c in channels if c not in chans]
        if bad:
            raise BriefError(f"channel '{bad[0]}' is not in the brief's channels", file=brief.path, key="--channel",
                             hint="the brief's channels: " + ", ".join(chans))
        chans = [c for c in chans if c in channels]
    n = variants or brief.variants
    return [Job(s, brief.channel(c), v) for s in segs for c in chans if brief.channel(c).is_image for v in range(n)]


class PosterRenderer:
    """Shared state for one run: brand, engine, font stacks and a background cache (segments share them)."""

    engine_note: str | None = None
    copy: Any = None   # copywriting.writer.CopyResult: one guarded variant per segment

    def __init__(self, brief: Brief, brand: Brand, engine: VisualEngine, seed: int, visual_options: Any = None):
        self.brief, self.brand, self.engine, self.seed = brief, brand, engine, seed
        self.visual_options = visual_options
        self.palette = brand.palette_for(brief.product.category)
        self.stacks = {role: FontStack(brand.font_stack(role, brief.product.category))
                       for role in ("display", "hero", "body", "emphasis", "small")}
        self.motif = category_defaults().get(brief.product.category, {}).get("motif", "waves")
        self._bg: dict[tuple, VisualResult] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self.rules = load_rules()                    # make_posters swaps in the run's rule files
        self.verify = False                          # OCR read-back of every poster (--verify)
        self._rule_facts: dict[str, Any] = {}
        self._charset: str | None = None
        self._digest: str | None = None
        self._lock = threading.Lock()
        logo = brand.logo_path()
        if logo:
            self.logo = load_image(logo, "logo").convert("RGBA")
        else:
            self.logo = None

    @classmethod
    def for_brief(cls, brief: Brief, *, seed: int | None = None, engine: str | None = None,
                  visual_options: Any = None) -> "PosterRenderer":
        """The renderer for a brief (brand, engine, seed resolved): `.render(job) -> (bytes, manifest entry)`.
        `.engine_note` says which engine `auto` chose. `visual_options` go to the engine as they are
        (for diffusers: a `DiffusionOptions` with model, profile, device …)."""
        brand = load_brand(brief.brand, brief.base_dir, brief_file=brief.path)
        name, note = resolve_engine_name(engine or brief.visual.engine, brief.visual.image is not None)
        if name == "image" and brief.visual.image is None:
            raise AssetError("engine 'image' needs a picture", "add visual.image: hero.jpg to the brief")
        if name == "diffusers":
            visual_options = diffusion_options(brief, visual_options)
        renderer = cls(brief, brand, get_engine(name), brief.visual.seed if seed is None else seed, visual_options)
        renderer.engine_note = note
        # the same copy for the poster's headline/subhead (when the brief leaves them out) and the text channels
        with timings.phase("copy"):
            renderer.copy = write_copy(brief, engine=brief.copy.engine, seed=renderer.seed,
                                       engine_options={"model": brief.copy.model} if brief.copy.model else None)
        return renderer

    def background(self, ch: Channel, zone, headline: str | None = None, headline_zone=None,
                   subject: bool = True, segment: Segment | None = None, variant: int = 0,
                   message: str = "") -> VisualResult:
        """The key visual for a canvas, with its subject in `zone` (the layout's visual slot, px); `subject`
        False: the layout left no room for one (the embedded engine then draws the backdrop alone)."""
        W, H = ch.size
        v = self.brief.visual
        req = VisualRequest(W, H, self.palette, self.brief.product.category, self.motif if subject else "none",
                            self.seed,
                            zone_grid(zone, W, H), scene=v.scene, image_path=self.brief.image_path(), focus=v.focus,
                            model=v.model, options=self.visual_options, style=self.brand.style,
                            negative_prompt=v.negative_prompt, headline=headline if v.text_in_image else None,
                            headline_zone=tuple(int(x) for x in headline_zone) if v.text_in_image and headline_zone
                            else None, text_reader=ocr if v.text_in_image else None,
                            product=" ".join(x for x in (self.brief.product.name, v.scene) if x),
                            segment=" ".join([segment.name, *segment.values.values()]) if segment else "",
                            theme=v.theme, objects=tuple(v.objects) if v.objects else None, variant=variant,
                            bleed=H if ch.safe.bottom > 0.12 else None, message=message)
        key = self.engine.cache_key(req)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one render per distinct background, even with threads
            if key not in self._bg:
                self._bg[key] = self.engine.render(req)
            return self._bg[key]


    @property
    def content_digest(self) -> str:
        """What determines this run's pixels and words apart from segment and channel: the brief's content (not its
        comments, placement or channel list), the brand file, logo and picture, engine, seed and options. Creative
        ids hash it (instead of the brief file's bytes), so a comment or a landing-page edit keeps every id, and
        `mkt batch` can reuse a creative whose inputs did not change."""
        if self._digest is None:
            self._digest = content_digest(self.brief, self.brand, self.engine.name, self.seed, self.visual_options)
        return self._digest

    def charset(self) -> str:
        """Every character this run can typeset (all segments' texts): the SVGs' embedded font subsets."""
        if self._charset is None:
            rate = rate_text(self.brief)
            # digits and rate signs too, so a designer can correct a figure in the SVG
            parts = ["".join(rate) if rate else "", self.brand.ai_label or "",
                     self.brand.short(self.brief.product.provider), "0123456789%.-~起"]
            for seg in self.brief.segments():
                parts += [v for v in self.message(seg).values() if isinstance(v, str)]
                parts += seg.perks
            self._charset = "".join(sorted(set("".join(parts))))
        return self._charset

    def message(self, seg: Segment) -> dict[str, str]:
        """The segment's words: the brief's message fields, else the run's copy (one guarded variant)."""
        variant = self.copy.first(seg.name) if self.copy else None
        return resolved_message(self.brief, seg, variant.copy if variant else None)

    def role_min(self, ch: Channel) -> dict[str, float]:
        """The least size of each text role on this channel, as the compliance rules check it (TYPO-SIZE's role
        scale × the channel's legible minimum): the layout never places a headline the checks would refuse (the
        largest scale of every typo_size rule at error level on images)."""
        scale: dict[str, float] = {}
        for r in getattr(self.rules, "rules", {}).values():
            if r.enabled and r.kind == "typo_size" and r.severity == "error" and "image" in r.applies_to:
                for role, k in (r.scale or {}).items():
                    scale[role] = max(k, scale.get(role, 0.0))
        return {role: k * ch.legible_px() for role, k in scale.items()}

    def ordered_perks(self, seg: Segment) -> list[str]:
        """The segment's perks with its own first (those not every segment has: 首期利息8折 for 有优惠): when a small
        size has room for fewer chips, the ones common to all segments make way and the segment's offer stays."""
        segs = self.brief.segments()
        common = set.intersection(*(set(s.perks) for s in segs)) if len(segs) > 1 else set()
        return [p for p in seg.perks if p not in common] + [p for p in seg.perks if p in common]

    def rule_facts(self, seg: Segment):
        """What the rules compare placed text against (the brief's rate phrase, figures, provider)."""
        if seg.name not in self._rule_facts:
            self._rule_facts[seg.name] = rule_facts_for(self.brief, seg)
        return self._rule_facts[seg.name]

    def text_sources(self, seg: Segment) -> dict[str, str]:
        """The brief key of each text a poster of the segment places (headline → message.headline or
        audience.overrides.种植户.headline, a perk's text → offer.perks[1]; 'generated headline' when the copy
        engine wrote it): what a check failure names."""
        m = seg.message
        out = {k: seg.key(k) if getattr(m, k) else f"generated {k}" for k in ("headline", "subhead")}
        out |= {k: seg.key(k) if getattr(m, k) else f"default {k} (configs/categories.yaml)" for k in ("cta",
                                                                                                   "disclaimer")}
        for i, p in enumerate(seg.perks):
            out.setdefault("perk:" + p, seg.key(f"perks[{i}]"))
        return out

    def copy_info(self, seg: Segment) -> dict[str, Any]:
        """Which engine wrote the words: the brief's own message fields win over generated ones."""
        m = seg.message
        generated = [k for k in ("headline", "subhead") if not getattr(m, k)]
        info = {"name": self.copy.engine.get("name", "template") if self.copy else "brief", "seed": self.seed}
        if self.copy and self.copy.engine.get("model"):
            info["model"] = self.copy.engine["model"]
        info["from_brief"] = [k for k in ("headline", "subhead", "cta") if getattr(m, k)]
        info["generated"] = generated
        return info

    def render(self, job: Job) -> tuple[bytes, dict[str, Any]]:
        """(encoded file, manifest entry) of one poster."""
        data, entry, _ = self.render_layered(job, layered=False)
        return data, entry

    def render_layered(self, job: Job, layered: bool = True, keep: dict[str, Any] | None = None,
                       ident_extra: Any = None) -> tuple[bytes, dict[str, Any], dict[str, bytes]]:
        """render(), plus the designer's layered files ({'psd': bytes, 'svg': bytes}) when `layered`. `keep` (a
        video channel's renderer) receives the composed poster with its recorded layers and the key visual, and
        `ident_extra` joins the creative's id (the clip's settings)."""
        ch, seg, brief = job.channel, job.segment, self.brief
        msg = self.message(seg)
        hero, perks = hero_for(rate_text(brief), self.ordered_perks(seg))
        audience, style = audience_style(seg.name, seg.values)
        if style.max_perks is not None:
            perks = perks[:style.max_perks]
        disclaimer = msg.get("disclaimer", "")
        # a disclaimer that already names the provider (本产品由…承保，…) is not followed by 本产品由…提供 again: the
        # legal band is one row shorter, which small sizes need, and FIN-PROVIDER reads the name where it stands
        provider = "" if brief.product.provider and brief.product.provider in disclaimer else msg["provider"]
        content = Content(brand_name=self.brand.short(brief.product.provider), headline=msg["headline"],
                          cta=msg["cta"] if ch.tappable else "", disclaimer=disclaimer,
                          provider=provider, hero=hero, subhead=msg.get("subhead", ""), perks=perks,
                          ai_label=self.brand.ai_label if (self.engine.generative and self.brand.ai_label_visible)
                          else None, logo=self.logo)
        with timings.phase("layout"):
            layout = plan(ch.width, ch.height, content, self.stacks, safe=ch.safe, min_px=ch.legible_px(),
                          family=brief.visual.layout, shape=ch.layout, seed=self.seed, segment=seg.name,
                          variant=job.variant, scale=style.type_scale,
                          role_min=self.role_min(ch))
        hl = layout.slot("headline")
        # text_in_image: the model draws the headline across the headline's row of the safe area (the typeset box
        # is only as wide as the typeset lines)
        hl_zone = (layout.safe[0], hl.box[1], layout.safe[2], hl.box[3]) if hl else None
        with timings.phase("visuals"):
            visual = self.background(ch, layout.visual_zone, msg["headline"], hl_zone, layout.subject,
                                     seg, job.variant, " ".join(msg.get(k, "") for k in ("headline", "subhead")))
        if visual.generative != self.engine.generative:   # an engine that decides per picture (rare): re-plan
            content.ai_label = self.brand.ai_label if (visual.generative and self.brand.ai_label_visible) else None
            layout = plan(ch.width, ch.height, content, self.stacks, safe=ch.safe, min_px=ch.legible_px(),
                          family=brief.visual.layout, shape=ch.layout, seed=self.seed, segment=seg.name,
                          variant=job.variant, scale=style.type_scale, role_min=self.role_min(ch))
        drawn = visual.drawn.get("headline")
        if drawn:   # the model drew the headline and OCR read it back exactly: it is not typeset again
            content.headline = ""
        with timings.phase("compose"):
            composed = compose(visual.image, layout, content, self.palette, self.stacks, min_px=ch.legible_px(),
                               calm_background=visual.calm, record=layered or keep is not None)
        if drawn:  # the model drew it and OCR read it back exactly: record it like a typeset block
            box = drawn[1]
            composed.placed.insert(0, Placed("headline", drawn[0], box, size=int(box[3] - box[1]),
                                             fonts=("model:" + str(visual.info.get("model")),)))
            check_no_overlap(composed.placed, ch.width, ch.height)
        notes = list(layout.notes)
        # the creative's identity: everything that determines its pixels (rendering is deterministic), hashed
        # without touching the 8 MB of raw pixels
        blocks = [p.as_dict() for p in composed.placed if p.text]
        shapes = [{"role": p.role, "box": [round(v, 1) for v in p.box]} for p in composed.placed
                  if p.role in SHAPE_ROLES]
        ident = json.dumps([self.content_digest, brief.name, seg.name, ch.name, ch.size, self.seed, visual.info, blocks,
                            composed.layout, job.variant, _mkt_version()] + ([ident_extra] if ident_extra else []),
                           ensure_ascii=False, sort_keys=True,
                           default=str)
        content_id = "c-" + hashlib.sha256(ident.encode()).hexdigest()[:16]
        label = {"producer": PRODUCER, "content_id": content_id, "aigc": visual.generative}
        if visual.generative:  # the implicit label names what generated the picture
            label["aigc_model"] = visual.info.get("model") or visual.info.get("name")
        meta = {"Software": PRODUCER, "Description": json.dumps(label, ensure_ascii=False)}
        with timings.phase("encode"):
            data, enc = encode(composed.image, ch.formats or ["jpeg"], ch.max_bytes, meta, size=ch.size)
        texts: dict[str, str] = {}
        perk_n = 0
        for p in composed.placed:
            if p.role == "perk":
                perk_n += 1
                texts[f"perk{perk_n}"] = p.text
            elif p.role in ("headline", "subhead", "apr", "offer", "cta", "disclaimer", "provider", "ai_label",
                            "brand"):
                texts[p.role] = p.text
        rs = self.rules
        # each text's brief key, and the segment's texts this size had no room for (checked all the same)
        sources = self.text_sources(seg)
        placed = set(texts.values())
        unplaced = {sources[k]: v for k, v in msg.items() if k in ("headline", "subhead", "cta", "disclaimer")
                    and v and v not in placed and not (k == "headline" and drawn)}
        unplaced |= {sources["perk:" + p]: p for p in seg.perks if p not in placed}
        # recorded in the manifest: `mkt check BUNDLE` runs the same checks on the same inputs
        inputs = check_inputs(min_px=ch.legible_px(), canvas=ch.size, safe=ch.safe, category=brief.product.category,
                              channel=ch.name, facts=self.rule_facts(seg),
                              has_rate=hero is not None and hero.kind == "rate", disclaimer=content.disclaimer,
                              generative=visual.generative, label_visible=self.brand.ai_label_visible,
                              sources=sources, unplaced=unplaced)
        t_checks = time.perf_counter()
        checks = poster_checks_from(rs, blocks, inputs)
        checks += implicit_label_check(rs, data, content_id=content_id, generative=visual.generative,
                                       category=brief.product.category, channel=ch.name)
        if self.verify:   # read the finished pixels back (the encoded file, as a reviewer would see it)
            with Image.open(io.BytesIO(data)) as im:
                for rb in readback_check(rs, im, blocks, texts, category=brief.product.category, channel=ch.name):
                    rb["sha256"] = sha256(data)   # what was read: mkt check BUNDLE reuses it while the file is unchanged
                    checks.append(rb)
        timings.add("checks", time.perf_counter() - t_checks)
        entry = {
            "id": content_id, "segment": seg.name, "channel": ch.name, "width": ch.width, "height": ch.height,
            "format": enc["format"], "texts": texts,
            "engines": {"visual": {**visual.info}, "copy": self.copy_info(seg),
                        "layout": {"shape": layout.shape, "family": layout.family, "variant": job.variant,
                                   "hero": layout.slot("hero").m.data["plate"] if layout.slot("hero") else None,
                                   "body_px": layout.body, "zone": list(layout.visual_zone),
                                   **({"audience": audience} if audience else {})}},
            "checks": checks, "layout": composed.layout, "variant": job.variant, "blocks": blocks, "shapes": shapes,
            "dropped": composed.dropped, "encoder": enc, "check_inputs": inputs,
        }
        if notes:
            entry["notes"] = notes
        files: dict[str, bytes] = {}
        if layered and composed.layers is not None:
            with timings.phase("psd"):
                files["psd"] = psd_bytes(composed.layers, composed.image)
            with timings.phase("svg"):
                files["svg"] = svg_bytes(composed.layers, f"{brief.name} · {seg.name} · {ch.name}",
                                         charset=self.charset())
            entry["layers"] = {"list": composed.layers.listing()}   # make_posters adds the files' entries
        if keep is not None:
            keep.update(composed=composed, visual=visual, layout=layout, label=label, content=content)
        return data, entry, files


def _approval(creatives: list[Creative], allow_errors: bool) -> dict[str, Any]:
    """Which creatives may go to an approver: those with no failed error-level check, unless --allow-errors."""
    blocked = [c.data["id"] for c in creatives if failed_errors(c.data.get("checks"))]
    ready = [c.data["id"] for c in creatives if c.data["id"] not in blocked or allow_errors]
    return {"ready": ready, "blocked": [] if allow_errors else blocked, "allow_errors": allow_errors}


def _created() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    now = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return now.astimezone().isoformat(timespec="seconds")


def prepare_renderer(brief: Brief, *, seed: int | None = None, engine: str | None = None,
                     visual_options: Any = None, verify: bool = False, rules: list[str | Path] | None = None,
                     on_status: Callable[[str | None], None] | None = None) -> tuple[PosterRenderer, list[str]]:
    """The run's renderer with its engine prepared, and the notes the user should read about that choice."""
    renderer = PosterRenderer.for_brief(brief, seed=seed, engine=engine, visual_options=visual_options)
    renderer.rules = load_rules(rules or ())   # a broken rules file fails here, before any rendering
    renderer.verify = verify
    if on_status:
        on_status(f"preparing the {renderer.engine.name} engine …")
    try:
        with timings.phase("engine"):
            prepared = renderer.engine.prepare(renderer.visual_options)  # a missing model fails here, once
    except EngineError as e:
        if not (renderer.engine_note and renderer.engine.name == "diffusers"):
            raise   # asked for explicitly: never a silent downgrade
        # `auto` picked diffusers (CUDA is there) but the model cannot run: fall back, and say why
        renderer.engine = get_engine(embedded_engine())
        renderer.engine_note = (f"visual.engine auto: diffusers could not start ({e.message}); using "
                                f"{renderer.engine.name}")
        renderer._digest = None
        prepared = None
    finally:
        if on_status:
            on_status(None)
    notes = [n for n in (renderer.engine_note, prepared) if n]
    if renderer.copy is not None:   # e.g. a segment the lexicon does not know, or repaired llm copy
        notes += renderer.copy.notes
    asked = getattr(visual_options, "model", None) or getattr(visual_options, "profile", None)
    if asked and renderer.engine.name != "diffusers":
        notes.append(f"--model/--profile apply to the diffusers engine; engine '{renderer.engine.name}' was used")
    return renderer, notes


def text_channels(brief: Brief, channels: list[str] | None = None) -> list[str]:
    """The brief's text channels (sms, call_script, push) after the --channel filter."""
    return [c for c in brief.channels if not brief.channel(c).is_image and (not channels or c in channels)]


def start_bundle(out: str | Path, brief: Brief) -> Path:
    """OUT/<name>/, locked for this run (export/lock.py: a second run waits, then exits 2; write_bundle releases
    it), marked incomplete (its manifest removed) while it is rewritten, a killed run's temp files gone."""
    out = make_dir(check_out_dir(out))
    bundle_dir = make_dir(safe_join(out, brief.name), "bundle folder")
    hold_bundle(out, bundle_dir)
    (bundle_dir / "manifest.json").unlink(missing_ok=True)
    remove_stale_temp_files(bundle_dir)
    return bundle_dir


def render_poster(renderer: PosterRenderer, job: Job, bundle_dir: Path, layered: bool = True) -> Creative | Failure:
    """Render one poster and write it (and its layered files) into the bundle: the manifest entry, or why not."""
    if job.channel.is_video:   # a clip composed from the poster's layers (mktcli/motion)
        return render_video(renderer, job, bundle_dir, layered=layered)
    try:
        data, entry, extra = renderer.render_layered(job, layered=layered)
        stem = job.stem
        with timings.phase("write files"):
            entry |= write_listed(bundle_dir, f"{stem}.{EXTENSIONS[entry['format']]}", data)
            for ext, blob in extra.items():   # the designer's layered files, beside the image
                entry["layers"][ext] = write_listed(bundle_dir, f"{stem}.{ext}", blob)
        if not layered:   # an earlier run's layered files would sit beside the new image, out of date
            for ext in ("psd", "svg"):
                safe_join(bundle_dir, *f"{stem}.{ext}".split("/")).unlink(missing_ok=True)
        with timings.phase("thumbnail"):
            thumb = thumbnail(data)
        return Creative({k: entry[k] for k in _ENTRY_HEAD if k in entry} | entry, thumb)
    except MktError as e:
        return Failure(job.segment.name, job.channel.name, e)


# what forked workers render with, by run: set just before a run's pool forks, so each worker inherits the prepared
# renderer (brief, copy, fonts, caches) instead of preparing its own; keyed so that two runs in one program (threads
# of a library user) never read each other's
_FORKED: dict[int, tuple[PosterRenderer, list[Job], Path, bool]] = {}
_runs = itertools.count(1)


def _forked_worker_init(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle: no traceback per worker
    forget_inherited_locks()   # the parent's bundle lock stays the parent's: a killed run frees its bundle
    watch_parent(parent)       # … and its workers leave with it


def _render_forked(run: int, i: int) -> tuple[Creative | Failure, dict[str, tuple[float, int]]]:
    """Job i of a run in a forked worker: its outcome (errors made picklable) and the worker's phase timings."""
    renderer, job_list, bundle_dir, layered = _FORKED[run]
    timings.reset()
    outcome = render_poster(renderer, job_list[i], bundle_dir, layered)
    if isinstance(outcome, Failure):
        try:
            pickle.dumps(outcome.error)
        except Exception:  # noqa: BLE001 — an error class that cannot travel: keep its words and exit code
            err = MktError(outcome.error.message, outcome.error.hint)
            err.exit_code = outcome.error.exit_code
            outcome = Failure(outcome.segment, outcome.channel, err)
    return outcome, timings.snapshot()


def _can_fork(renderer: PosterRenderer) -> bool:
    """Linux and the BSDs: fork is safe and cheap there. macOS can fork but its system libraries are not fork-safe
    (CPython itself spawns there), Windows cannot: threads."""
    import multiprocessing as mp
    import sys

    return (getattr(renderer.engine, "forkable", False) and sys.platform not in ("darwin", "win32")
            and "fork" in mp.get_all_start_methods())


def _render_posters(renderer: PosterRenderer, job_list: list[Job], bundle_dir: Path, layered: bool,
                    workers: int) -> Iterator[tuple[int, Creative | Failure]]:
    """(index in job_list, outcome) of each job as it finishes. A CPU engine on a system that can fork renders in
    `workers` forked processes (the work is Python and Pillow: threads would share one core), the largest canvases
    first so that no worker is left with a splash at the end; otherwise threads, which a GPU engine needs (one
    device, one process). Rendering is deterministic: the bytes are the same either way."""
    if workers > 1 and len(job_list) > 1 and _can_fork(renderer):
        import multiprocessing as mp
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        run = next(_runs)
        _FORKED[run] = (renderer, job_list, bundle_dir, layered)
        order = sorted(range(len(job_list)), key=lambda i: -job_list[i].channel.width * job_list[i].channel.height)
        pool = ProcessPoolExecutor(max_workers=min(workers, len(job_list)), mp_context=mp.get_context("fork"),
                                   initializer=_forked_worker_init, initargs=(os.getpid(),))
        try:
            pending = {pool.submit(_render_forked, run, i): i for i in order}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(finished, key=lambda f: pending[f]):
                    i = pending.pop(fut)
                    outcome, spent = fut.result()
                    timings.merge(spent)
                    yield i, outcome
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            _FORKED.pop(run, None)
        return
    with ThreadPoolExecutor(max_workers=workers) as tpool:
        yield from enumerate(tpool.map(lambda j: render_poster(renderer, j, bundle_dir, layered), job_list))


def render_text(renderer: PosterRenderer, seg: Segment, channel: str, bundle_dir: Path) -> Creative | Failure:
    """One text creative (the copy's SMS, call script or push) written beside the images."""
    try:
        data, entry = text_creative(channel, renderer.copy.first(seg.name), renderer.content_digest,
                                    renderer.copy_info(seg) | {"name": renderer.copy.engine.get("name", "template")},
                                    rules=renderer.rules, facts=renderer.rule_facts(seg),
                                    category=renderer.brief.product.category,
                                    push_limits=push_limits(renderer.brief))
        entry |= write_listed(bundle_dir, f"{seg.name}/{channel}.{EXT[channel]}", data)
        return Creative({k: entry[k] for k in _ENTRY_HEAD if k in entry} | entry)
    except MktError as e:
        return Failure(seg.name, channel, e)


@dataclass
class PosterOptions:
    """What `make_posters` renders and how (every field optional; the defaults are the brief's own choices).

    segments / channels  only these (default: all of the brief's); variants: visually distinct posters per
    segment × channel (default: the brief's `variants:`, each another layout family with its own id);
    seed / engine / visual_options  override visual.seed, visual.engine and the diffusion options;
    channel_files / rules  extra channel presets and compliance rule files; jobs: parallel render workers;
    verify  OCR read-back of every poster; allow_errors  creatives with failed error checks go in the approval set;
    layered  a PSD and an SVG per poster; register  record the creatives in the registry (SQLite)."""

    segments: list[str] | None = None
    channels: list[str] | None = None
    seed: int | None = None
    engine: str | None = None
    channel_files: list[str | Path] | None = None
    jobs: int | None = None
    visual_options: Any = None
    verify: bool = False
    allow_errors: bool = False
    rules: list[str | Path] | None = None
    layered: bool = True
    register: bool = True
    variants: int | None = None


@dataclass
class PosterHooks:
    """What a caller hears while `make_posters` runs (each optional): on_start(jobs, engine name) once the engine is
    ready, on_status(text | None) around slow preparation, on_detail(text) within a long render (diffusion steps),
    on_progress(job, Creative | Failure) as each poster finishes."""

    on_start: Callable[[list[Job], str], None] | None = None
    on_status: Callable[[str | None], None] | None = None
    on_detail: Callable[[str], None] | None = None
    on_progress: Callable[[Job, Creative | Failure], None] | None = None


_OPTION_NAMES = frozenset(PosterOptions.__dataclass_fields__)
_HOOK_NAMES = frozenset(PosterHooks.__dataclass_fields__)


def make_posters(brief: Brief | str | Path, out: str | Path = "out", options: PosterOptions | None = None, *,
                 hooks: PosterHooks | None = None, **kwargs: Any) -> BundleResult:
    """Render every poster of a brief into OUT/<name>/ and write manifest.json last (atomically).

    `options` (PosterOptions) says what to render, `hooks` (PosterHooks) who hears about progress. The keyword
    arguments of earlier releases (segments=…, engine=…, on_progress=… — each a PosterOptions or PosterHooks
    field) still work and override the objects' fields.
    A creative that fails (e.g. text that cannot fit a tiny slot) is recorded as a failure; the rest are written."""
    unknown = sorted(set(kwargs) - _OPTION_NAMES - _HOOK_NAMES)
    if unknown:
        raise TypeError(f"make_posters() got an unexpected keyword argument '{unknown[0]}'")
    o = replace(options or PosterOptions(), **{k: v for k, v in kwargs.items() if k in _OPTION_NAMES})
    h = replace(hooks or PosterHooks(), **{k: v for k, v in kwargs.items() if k in _HOOK_NAMES})
    segments, channels = o.segments, o.channels
    if not isinstance(brief, Brief):
        with timings.phase("brief"):
            brief = load_brief(brief, channel_files=o.channel_files)
    renderer, notes = prepare_renderer(brief, seed=o.seed, engine=o.engine, visual_options=o.visual_options,
                                       verify=o.verify, rules=o.rules, on_status=h.on_status)
    job_list = plan_jobs(brief, segments, channels, o.variants)
    bundle_dir = start_bundle(out, brief)
    if h.on_start:
        h.on_start(job_list, renderer.engine.name)

    renderer.engine.report = h.on_detail   # long renders (diffusion steps) say where they are
    workers = max(1, o.jobs or min(4, os.cpu_count() or 1))
    done: dict[int, Creative | Failure] = {}
    stream = _render_posters(renderer, job_list, bundle_dir, o.layered, workers)
    try:
        for i, outcome in stream:   # as they finish; the manifest lists them in job order
            done[i] = outcome
            if h.on_progress:
                h.on_progress(job_list[i], outcome)
    finally:
        stream.close()   # the worker pool is shut down here, also when a callback raised
    outcomes: list[Creative | Failure] = [done[i] for i in range(len(job_list))]
    renderer.engine.report = None
    segs = [s for s in brief.segments() if not segments or s.name in segments]
    with timings.phase("text channels"):
        outcomes += [render_text(renderer, seg, ch, bundle_dir) for seg in segs
                     for ch in text_channels(brief, channels)]
    return write_bundle(brief, bundle_dir, outcomes, notes, engine=renderer.engine.name, seed=renderer.seed,
                        allow_errors=o.allow_errors, register=o.register)


def write_bundle(brief: Brief, bundle_dir: Path, outcomes: list[Creative | Failure], notes: list[str], *,
                 engine: str, seed: int, allow_errors: bool = False, register: bool = True) -> BundleResult:
    """The bundle's closing files around rendered creatives: placement.json, the approval request, manifest.json
    (last, atomically), then the registry. `mkt poster` and `mkt batch` (which merges creatives that several
    processes or machines rendered) both end here, so their bundles are the same. The bundle was begun with
    start_bundle, so it has no manifest until this one lands; its lock is released here."""
    try:
        return _write_bundle(brief, bundle_dir, outcomes, notes, engine=engine, seed=seed, allow_errors=allow_errors,
                             register=register)
    finally:
        release_bundle(bundle_dir)


def _write_bundle(brief: Brief, bundle_dir: Path, outcomes: list[Creative | Failure], notes: list[str], *,
                  engine: str, seed: int, allow_errors: bool = False, register: bool = True) -> BundleResult:
    result = BundleResult(bundle_dir, None, notes=list(dict.fromkeys(notes)))
    result.creatives = [o for o in outcomes if isinstance(o, Creative)]
    tii = [c.data["engines"].get("visual", {})["headline_in_image"] for c in result.creatives
           if "headline_in_image" in c.data["engines"].get("visual", {})]
    if tii:
        ok = sum(1 for r in tii if r.get("verified"))
        result.notes.append(f"text_in_image: the model's headline read back exactly on {ok} of {len(tii)} posters"
                            + ("" if ok == len(tii) else "; the others have it typeset ("
                               + next(r.get("reason", "") for r in tii if not r.get("verified")) + ")"))
    per_channel: dict[tuple[str, str], None] = {}
    for c in result.creatives:   # a layout note (a family that could not hold it, legal over budget) once per channel
        for n in c.data.get("notes", []):
            per_channel.setdefault((c.data["channel"], n))
    result.notes += [f"{ch}: {n}" for ch, n in per_channel]
    result.failures = [o for o in outcomes if isinstance(o, Failure)]
    approval = _approval(result.creatives, allow_errors)
    files = []
    for c in result.creatives:
        files.append({"path": c.path, "sha256": c.data["sha256"], "bytes": c.data["bytes"]})
        for ext in ("psd", "svg"):
            if ext in c.data.get("layers", {}):
                files.append(dict(c.data["layers"][ext]))
        if isinstance(c.data.get("cover"), dict):   # a video's poster frame
            files.append({k: c.data["cover"][k] for k in ("path", "sha256", "bytes")})
    manifest = {
        "version": MANIFEST_VERSION,
        "brief": {"name": brief.name, "path": str(brief.path) if brief.path else None, "sha256": brief.sha256,
                  "category": brief.product.category,
                  "purpose": load_rules().purpose_of(brief.product.name, brief.product.category,
                                                     brief.product.purpose)},
        "created": _created(),
        "generator": {"name": "mkt", "version": _mkt_version(), "engine": engine, "seed": seed},
        "creatives": [c.data for c in result.creatives],
        "failures": [{"segment": f.segment, "channel": f.channel, "error": str(f.error),
                      "hint": f.error.hint} for f in result.failures],
        "files": files,
        "approval": approval,
        "placement": "placement.json",
        "notes": result.notes,
    }
    manifest_path = bundle_dir / "manifest.json"
    # the placement configuration and the approval request travel with the bundle, written before the manifest
    with timings.phase("placement"):
        blob = atomic_write_json(bundle_dir / "placement.json",
                                 placement_config(brief, manifest["creatives"], approval))
    files.append({"path": "placement.json", "sha256": sha256(blob), "bytes": len(blob)})
    with timings.phase("approval"):
        files += write_approval(bundle_dir, manifest,
                                {c.data["sha256"]: c.thumb for c in result.creatives if c.thumb})
    with timings.phase("manifest"):
        atomic_write_json(manifest_path, manifest)
    result.manifest_path = manifest_path
    if register:
        from .registry.store import open_registry

        try:
            with timings.phase("registry"), open_registry() as reg:
                reg_res = reg.register_manifest(manifest_path, just_written=True)   # still under the bundle's lock
            if reg_res.recalled:
                result.notes.append(f"{len(reg_res.recalled)} creative(s) were recalled earlier and stay recalled "
                                    "in the registry (mkt ls --status recalled)")
        except MktError as e:   # the bundle is complete; say how to register it later
            result.notes.append(f"not recorded in the registry ({e.message}); run: mkt register {bundle_dir}")
            result.unregistered = True
    return result
