"""Checks on a finished clip (video channels): what a platform and a reviewer would check on the MP4 itself.

Each is a rule kind (registry.py) run for every rule of it in force on a clip — the shipped rules below, and a
user's (a --rules file): the dispatchers spec_check, legal_check, readback_check and label_check run them all.

VID-SPEC       the file plays where it goes: H.264, yuv420p, the channel's size and frame rate, a duration and a
               size inside the channel's limits, no audio track, the index first (faststart); the platform's least
               bitrate as a warning
VID-LEGAL      the legal text (disclaimer, provider line) and the AIGC label stay on screen long enough (the rule's
               `limit`: seconds at full legibility up to the last frame; mkt keeps them the whole clip) and legible
               (size checked on the poster; contrast measured here on frames sampled across the decoded clip)
VID-READBACK   OCR on frames sampled across the decoded clip: the exact APR wherever the rate is shown (the
               poster's blocks, then the end card's), the disclaimer and the provider on the first and the last
               frame
VID-LABEL      the clip's metadata carries the implicit label (producer, content id, aigc)"""
from __future__ import annotations

import json
from typing import Any

from . import ocr
from .readback import not_run, read_back
from .registry import result as _result
from .registry import rule_check, rules_for, run_kind

LEGAL_GROUPS = ("disclaimer", "provider")


def spec_check(rs, info: dict[str, Any], *, size: tuple[int, int], fps: int, min_s: float, max_s: float,
               max_bytes: int | None, min_kbps: int | None, category: str | None = None,
               channel: str | None = None) -> list[dict[str, Any]]:
    """Every video_spec rule in force on the probed clip (VID-SPEC and a user's)."""
    return run_kind(rs, "video_spec", "clip", info, size=size, fps=fps, min_s=min_s, max_s=max_s,
                    max_bytes=max_bytes, min_kbps=min_kbps, category=category, channel=channel)


@rule_check("video_spec", on="clip", message="the clip does not meet the channel's video spec")
def spec_rule(rs, r, info: dict[str, Any], *, size: tuple[int, int], fps: int, min_s: float, max_s: float,
              max_bytes: int | None, min_kbps: int | None) -> list[dict[str, Any]]:
    """The probed file: codec, pixel format, size, frame rate, duration, bytes, no audio, faststart; the
    platform's least bitrate as a warning."""
    out = []
    problems = []
    if info.get("codec") != "h264":
        problems.append(f"codec {info.get('codec')}, not h264")
    if info.get("pix_fmt") != "yuv420p":
        problems.append(f"pixel format {info.get('pix_fmt')}, not yuv420p")
    if (info.get("width"), info.get("height")) != tuple(size):
        problems.append(f"{info.get('width')}×{info.get('height')}, not {size[0]}×{size[1]}")
    if info.get("fps") is None or abs(float(info["fps"]) - fps) > 0.01:
        problems.append(f"{info.get('fps')} fps, not {fps}")
    d = float(info.get("duration_s") or 0)
    if not min_s - 1e-6 <= d <= max_s + 1e-6:
        problems.append(f"{d:g} s, outside the channel's {min_s:g}-{max_s:g} s")
    if max_bytes is not None and int(info.get("bytes") or 0) > max_bytes:
        problems.append(f"{info.get('bytes'):,} bytes, over the channel's {max_bytes:,}")
    if info.get("audio_streams"):
        problems.append("has an audio track")
    if not info.get("faststart"):
        problems.append("the index (moov) is not at the start (faststart)")
    res = _result(rs, r.id, not problems, "; ".join(problems))
    if res:
        out.append(res)
    if min_kbps and info.get("kbps") is not None and info["kbps"] < min_kbps:
        out.append({"rule": r.id, "severity": "warning", "passed": False,
                    "message": f"average bitrate {info['kbps']:g} kbps is below the platform's {min_kbps} kbps "
                               "(a still, flat clip compresses very well; some platforms re-check it)"})
    return out


def legal_check(rs, timeline: list[dict[str, Any]], duration: float, frames: dict[float, Any],
                blocks: list[dict[str, Any]], generative: bool, *, category: str | None = None,
                channel: str | None = None) -> list[dict[str, Any]]:
    """Every video_legal rule in force on a clip (VID-LEGAL and a user's). `frames`: the clip's frames at sampled
    times composed without the legal text (its band and plates kept): what the text stands on while the picture
    moves under it."""
    return run_kind(rs, "video_legal", "clip", timeline, duration, frames, blocks, generative, category=category,
                    channel=channel)


@rule_check("video_legal", on="clip", message="the legal text is not on screen long enough, or not legible")
def legal_rule(rs, r, timeline: list[dict[str, Any]], duration: float, frames: dict[float, Any],
               blocks: list[dict[str, Any]], generative: bool) -> dict[str, Any] | None:
    """The legal blocks' time on screen (from the clip's timeline; at least the rule's `limit` seconds, default
    3) and their worst contrast over sampled frames."""
    from ..compose.color import worst_contrast

    need = min(float(r.limit) if r.limit is not None else 3.0, duration)
    problems = []
    by_block = {b["block"]: b for b in timeline}
    wanted = [g for g in LEGAL_GROUPS if any(x.get("role") == g for x in blocks)]
    if generative:
        wanted.append("ai_label")
    for g in wanted:
        b = by_block.get(g)
        if b is None:
            problems.append(f"{g} is not on screen")
            continue
        on = float(b["until_s"]) - float(b["settled_s"])
        if on + 1e-6 < need:
            problems.append(f"{g} on screen at full legibility for {on:.2f} s of the last {need:g} s")
    worst: dict[str, float] = {}
    for b in blocks:
        if b.get("role") not in LEGAL_GROUPS or not b.get("color"):
            continue
        col = b["color"]
        color = tuple(int(col.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) if isinstance(col, str) \
            else tuple(int(c) for c in col[:3])
        for im in frames.values():
            c = worst_contrast(im, b["box"], color)
            worst[b["role"]] = min(worst.get(b["role"], 99.0), c)
    for role, c in worst.items():
        if c < 4.5:
            problems.append(f"{role} contrast falls to {c:.2f}:1 on a sampled frame (needs 4.5:1)")
    res = _result(rs, r.id, not problems, "; ".join(problems))
    if res is not None:
        res["seconds_required"] = need
        res["contrast"] = {k: round(v, 2) for k, v in worst.items()}
    return res


def sample_times(timeline: list[dict[str, Any]], duration: float, fps: int) -> dict[str, list[float]]:
    """Which frames to read: the rate once it has settled and mid-way through its hold; the legal text on the first
    frame; the end card (if the clip has one: its blocks in the timeline as end:…) once its rate has settled and on
    the last frame — else the rate and the legal text on the last frame."""
    last = round((round(duration * fps) - 1) / fps, 4)
    by = {b["block"]: b for b in timeline}
    hero, end_hero = by.get("hero"), by.get("end:hero")
    rate: set[float] = set()
    if hero is not None:
        s, u = float(hero["settled_s"]), min(float(hero["until_s"]), last)
        rate = {round(s + 2 / fps, 4), round((s + u) / 2, 4)}
    legal = [0.0]
    end: list[float] = []
    if any(b.startswith("end:") for b in by):
        end = sorted({round(float(end_hero["settled_s"]) + 2 / fps, 4), last} if end_hero else {last})
    else:
        rate.add(last)
        legal.append(last)
    return {"rate": sorted(t for t in rate if t <= last), "legal": legal, "end": [t for t in end if t <= last]}


def readback_check(rs, frames: dict[float, Any], times: dict[str, list[float]], blocks: list[dict[str, Any]],
                   texts: dict[str, str], end_blocks: list[dict[str, Any]] | None = None, *,
                   category: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
    """Every ocr rule in force on a clip (VID-READBACK and a user's): the frames read once, one result a rule."""
    rules = rules_for(rs, "ocr", "clip", category=category, channel=channel)
    if not rules:
        return []
    if not ocr.available():
        return [not_run(r) for r in rules]
    return run_kind(rs, "ocr", "clip", clip_read_back(frames, times, blocks, texts, end_blocks), category=category,
                    channel=channel)


def clip_read_back(frames: dict[float, Any], times: dict[str, list[float]], blocks: list[dict[str, Any]],
                   texts: dict[str, str], end_blocks: list[dict[str, Any]] | None = None) -> tuple[list[str], list]:
    """(what was missed, what was read): the required strings read back by OCR from frames sampled across the
    decoded clip; on the end card's frames (times["end"]) from where the end card placed them (`end_blocks`: its
    blocks and the poster's legal rows, which stay)."""
    misses, read = [], []
    for kind, roles, where in (("rate", ("apr", "offer"), blocks), ("legal", ("disclaimer", "provider"), blocks),
                               ("end", ("apr", "offer", "disclaimer", "provider"), end_blocks or blocks)):
        for t in times.get(kind, []):
            if t not in frames:
                continue
            for r in read_back(frames[t], where, texts, roles=roles):
                read.append({"t": t, **r} | ({"frame": "end card"} if kind == "end" else {}))
                if not r["found"]:
                    misses.append(f"{r['role']} '{r['expected']}' at {t:g} s"
                                  f"{' (end card)' if kind == 'end' else ''} read as '{r['read']}'")
    return misses, read


@rule_check("ocr", on="clip",
            message="a required string was not read back exactly from frames sampled across the decoded clip")
def readback_rule(rs, r, reading: tuple[list[str], list]) -> dict[str, Any] | None:
    """The required strings (the exact APR wherever the rate is shown, the disclaimer, the provider) read back
    from frames sampled across the decoded clip (clip_read_back's result)."""
    sev = rs.severity(r.id)
    if sev is None:
        return None
    misses, read = reading
    d = {"rule": r.id, "severity": sev, "passed": not misses and bool(read), "message": "; ".join(misses)
         if misses else ("" if read else "nothing to read"), "read": read}
    if misses and r.fix:
        d["fix"] = r.fix
    return d


def label_check(rs, info: dict[str, Any], *, content_id: str | None, generative: bool, category: str | None = None,
                channel: str | None = None) -> list[dict[str, Any]]:
    """Every aigc_implicit rule in force on a clip (VID-LABEL and a user's)."""
    return run_kind(rs, "aigc_implicit", "clip", info, content_id=content_id, generative=generative,
                    category=category, channel=channel)


@rule_check("aigc_implicit", on="clip")
def label_rule(rs, r, info: dict[str, Any], *, content_id: str | None, generative: bool) -> dict[str, Any] | None:
    """The clip's metadata carries the implicit label (producer, content id, aigc)."""
    raw = (info.get("metadata") or {}).get("comment")
    try:
        label = json.loads(raw) if raw else None
    except ValueError:
        label = None
    ok = isinstance(label, dict) and bool(label.get("producer")) and (content_id is None or
                                                                     label.get("content_id") == content_id) \
        and (label.get("aigc") is True if generative else "aigc" in label)
    return _result(rs, r.id, ok, "no implicit label in the clip's metadata" if label is None else
                   f"implicit label does not match (content_id {label.get('content_id') if isinstance(label, dict) else '?'})")
