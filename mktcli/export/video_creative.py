"""One video creative: the poster composed once (layers recorded), animated, encoded, checked and written.

The clip's files sit where a poster's would: <segment>/<channel>.mp4, its cover (the poster frame: the flat poster,
which the clip shows whole before its end card) beside it as <segment>/<channel>.cover.jpg, and the layered PSD/SVG
of the cover. The manifest entry is a poster's entry (texts, blocks, checks of the still) with the clip as its file,
plus `cover` and `video` (timing of each block, the end card's blocks, encoder settings, what the file is, sample
read-backs); the end card's blocks take the still's checks too."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .. import timings
from ..checks import video as vchecks
from ..checks.image import end_card_checks
from ..checks.registry import rules_for
from ..errors import BriefError, MktError
from ..motion import i2v
from ..motion.endcard import KEPT, build_end_card
from ..motion.frames import build_scene
from ..motion.timeline import END_PREFIX, VERSION, group_of
from ..yamlio import load_yaml
from .approval import thumbnail
from .bundle import ENTRY_HEAD as _ENTRY_HEAD
from .bundle import Creative, Failure
from .encode import EXTENSIONS
from .files import safe_join, write_listed
from .video import CRF, encode_mp4, frames_at, probe

# what mkt renders, whatever a platform accepts: long enough for the message, short enough to stay a poster
MIN_S, MAX_S = 5.0, 15.0


def clip_duration(brief, ch) -> float:
    """The clip's length: the brief's video.duration, else the channel's default, inside both ranges."""
    spec = ch.video
    want = brief.video.duration if brief.video.duration is not None else spec.default_s
    lo, hi = max(MIN_S, spec.min_s), min(MAX_S, spec.max_s)
    if lo > hi:
        raise BriefError(f"channel '{ch.name}' accepts {spec.min_s:g}-{spec.max_s:g} s; mkt renders "
                         f"{MIN_S:g}-{MAX_S:g} s clips", file=brief.path, key=f"channels ({ch.name})",
                         hint="use a channel whose duration range meets 5-15 s")
    if not lo <= want <= hi:
        src = "video.duration" if brief.video.duration is not None else f"channels.{ch.name}.video.default_s"
        raise BriefError(f"{want:g} s is outside what channel '{ch.name}' takes from mkt ({lo:g}-{hi:g} s)",
                         file=brief.path, line=_line(brief, ("video", "duration")), key=src,
                         hint=f"set video.duration between {lo:g} and {hi:g}")
    return float(want)


def _line(brief, keys: tuple) -> int | None:
    try:
        return load_yaml(brief.path, what="brief").line_of(keys) if brief.path else None
    except Exception:  # noqa: BLE001 — the line is a courtesy; the key is named anyway
        return None


def render_video(renderer, job, bundle_dir: Path, layered: bool = True):
    """Render, encode, check and write one clip: a Creative, or a Failure that says why."""
    try:
        return Creative(*_render(renderer, job, bundle_dir, layered))
    except MktError as e:
        return Failure(job.segment.name, job.channel.name, e)


def _render(renderer, job, bundle_dir: Path, layered: bool) -> tuple[dict[str, Any], Any]:

    brief, ch = renderer.brief, job.channel
    spec = ch.video
    duration = clip_duration(brief, ch)
    engine = brief.video.engine
    if engine == "diffusers":   # the key visual animated by an image-to-video model (CUDA); fails clearly on CPU
        i2v.check_i2v_available(brief)
    ident = {"video": VERSION, "duration": duration, "fps": spec.fps, "engine": engine,
             "max_kbps": spec.max_kbps}
    keep: dict[str, Any] = {}
    cover, entry, extra = renderer.render_layered(job, layered=layered, keep=keep, ident_extra=ident)
    composed, visual, layout, label = keep["composed"], keep["visual"], keep["layout"], keep["label"]
    with timings.phase("video scene"):
        end_card = build_end_card(layout, keep["content"], brief.product.name, background=composed.layers.background,
                                  planes=visual.planes, palette=renderer.palette, stacks=renderer.stacks,
                                  min_px=ch.legible_px(), role_min=renderer.role_min(ch))
        scene = build_scene(composed.image, composed.layers.background, visual.planes, composed.layers,
                            fps=spec.fps, duration=duration, focus_zone=layout.visual_zone, seed=renderer.seed,
                            placed=tuple(composed.placed), end_card=end_card, safe=layout.safe)
    if engine == "diffusers":
        i2v.animate_background(renderer, scene, brief)
    split: dict[str, float] = {}
    t0 = time.perf_counter()
    meta = {"comment": json.dumps(label, ensure_ascii=False, sort_keys=True)}
    crf = CRF
    while True:   # over the channel's bitrate cap or byte limit: again, coarser (rare: these clips are calm)
        clip, enc = encode_mp4(scene.frame, scene.n_frames, ch.size, spec.fps, metadata=meta, crf=crf,
                               timings=split)
        kbps = len(clip) * 8 / 1000 / scene.duration
        over = kbps > spec.max_kbps or (ch.max_bytes is not None and len(clip) > ch.max_bytes)
        if not over or crf >= CRF + 12:
            break
        crf += 4
    enc["max_kbps"] = spec.max_kbps
    timings.add("video frames+encode", time.perf_counter() - t0)
    stem = job.stem
    ext = EXTENSIONS[entry["format"]]
    with timings.phase("write files"):
        files = write_listed(bundle_dir, f"{stem}.mp4", clip)
        cover_entry = write_listed(bundle_dir, f"{stem}.cover.{ext}", cover) | {"format": entry["format"]}
        layers = entry.get("layers")
        for k, blob in extra.items():
            layers[k] = write_listed(bundle_dir, f"{stem}.cover.{k}", blob)
    if not layered:
        for k in ("psd", "svg"):
            safe_join(bundle_dir, *f"{stem}.cover.{k}".split("/")).unlink(missing_ok=True)
    # the checks on the clip itself, on frames decoded from the file (what a viewer sees)
    t1 = time.perf_counter()
    info = probe(clip)
    timeline = scene.timeline()
    times = vchecks.sample_times(timeline, scene.duration, spec.fps)
    frames = frames_at(clip, [t for ts in times.values() for t in ts])
    # the end card's frames are read where the end card placed the rate, with the poster's legal rows (they stay)
    end_blocks = scene.end.blocks + [b for b in entry["blocks"] if b["role"] in KEPT] if scene.end else None
    rs = renderer.rules
    where = {"category": brief.product.category, "channel": ch.name}   # which rules are in force here
    checks = vchecks.spec_check(rs, info, size=ch.size, fps=spec.fps, min_s=spec.min_s, max_s=spec.max_s,
                                max_bytes=ch.max_bytes, min_kbps=spec.min_kbps, **where)
    generative = bool(label.get("aigc"))
    # what the legal text stands on, every second of the clip and on its last frame
    steps = sorted({*range(0, scene.n_frames, spec.fps), scene.n_frames - 1})
    under = {round(i / spec.fps, 4): scene.frame(i, without=vchecks.LEGAL_GROUPS) for i in steps}
    checks += vchecks.legal_check(rs, timeline, scene.duration, under, entry["blocks"], generative, **where)
    checks += vchecks.label_check(rs, info, content_id=entry["id"], generative=generative, **where)
    checks += vchecks.readback_check(rs, frames, times, entry["blocks"], entry["texts"], end_blocks, **where)
    if end_blocks:
        checks += end_card_checks(rs, end_blocks, entry["check_inputs"])
    timings.add("video checks", time.perf_counter() - t1)
    # the still's checks (sizes, contrast, APR, provider …) hold for the clip's settled frames; the cover's
    # implicit labels (the image file's aigc_implicit rules) are the cover's
    cover_rules = {r.id for r in rules_for(rs, "aigc_implicit", "file", **where)}
    entry["checks"] = [dict(c, rule="COVER-" + c["rule"]) if c["rule"] in cover_rules else c
                       for c in entry["checks"]] + checks
    entry["format"] = "mp4"
    entry |= files
    entry["cover"] = cover_entry
    on_screen = {b["block"]: [b["settled_s"], b["until_s"]] for b in timeline}
    end_texts = {b["role"] for b in end_blocks or ()}
    entry["video"] = {
        "duration_s": round(scene.duration, 4), "fps": spec.fps, "frames": scene.n_frames,
        "engine": {"name": engine, "motion": VERSION},
        "encoder": enc, "file": {k: info[k] for k in ("codec", "pix_fmt", "width", "height", "fps", "frames",
                                                     "duration_s", "bytes", "kbps", "faststart")},
        "timeline": timeline,
        # each text of the clip and the seconds it is fully legible on screen (from … to)
        # (and on the end card, from when to when)
        "texts": {role: {"text": text, "on_screen_s": on_screen.get(_group(role))}
                  | ({"end_card_s": on_screen.get(END_PREFIX + _group(role))}
                     if role in end_texts and on_screen.get(END_PREFIX + _group(role)) else {})
                  for role, text in entry["texts"].items()},
        "end_card": None if scene.end is None else {
            "start_s": scene.end.start, "layout": scene.end.layout, "blocks": scene.end.blocks,
            "texts": {b["role"]: b["text"] for b in scene.end.blocks}},
        "limits": {"min_s": spec.min_s, "max_s": spec.max_s, "max_bytes": ch.max_bytes, "min_kbps": spec.min_kbps,
                   "max_kbps": spec.max_kbps},
    }
    thumb = thumbnail(cover)
    return {k: entry[k] for k in _ENTRY_HEAD if k in entry} | entry, thumb


def _group(role: str) -> str:
    if role.startswith("perk"):
        return role
    return group_of(role)
