"""Checks on a finished clip (video channels): what a platform and a reviewer would check on the MP4 itself.

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

from .registry import result as _result
from .registry import rule_check

LEGAL_GROUPS = ("disclaimer", "provider")


@rule_check("video_spec", on="clip")
def spec_check(rs, info: dict[str, Any], *, size: tuple[int, int], fps: int, min_s: float, max_s: float,
               max_bytes: int | None, min_kbps: int | None) -> list[dict[str, Any]]:
    """VID-SPEC on the probed file: codec, pixel format, size, frame rate, duration, bytes, no audio, faststart;
    the platform's least bitrate as a warning."""
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
    r = _result(rs, "VID-SPEC", not problems, "; ".join(problems))
    if r:
        out.append(r)
    if min_kbps and info.get("kbps") is not None and info["kbps"] < min_kbps:
        out.append({"rule": "VID-SPEC", "severity": "warning", "passed": False,
                    "message": f"average bitrate {info['kbps']:g} kbps is below the platform's {min_kbps} kbps "
                               "(a still, flat clip compresses very well; some platforms re-check it)"})
    return out


@rule_check("video_legal", on="clip")
def legal_check(rs, timeline: list[dict[str, Any]], duration: float, frames: dict[float, Any],
                blocks: list[dict[str, Any]], generative: bool) -> dict[str, Any] | None:
    """The legal blocks' time on screen (from the clip's timeline) and their worst contrast over sampled frames.
    `frames`: the clip's frames at sampled times composed without the legal text (its band and plates kept): what
    the text stands on while the picture moves under it."""
    from ..compose.color import worst_contrast

    rule = rs.get("VID-LEGAL")
    need = float(rule.limit) if rule is not None and rule.limit is not None else 3.0
    need = min(need, duration)
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
    r = _result(rs, "VID-LEGAL", not problems, "; ".join(problems))
    if r is not None:
        r["seconds_required"] = need
        r["contrast"] = {k: round(v, 2) for k, v in worst.items()}
    return r


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


@rule_check("ocr", on="clip")
def readback_check(rs, frames: dict[float, Any], times: dict[str, list[float]], blocks: list[dict[str, Any]],
                   texts: dict[str, str], end_blocks: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """VID-READBACK: the required strings read back by OCR from frames sampled across the decoded clip; on the end
    card's frames (times["end"]) from where the end card placed them (`end_blocks`: its blocks and the poster's
    legal rows, which stay)."""
    from . import ocr
    from .readback import read_back

    sev = rs.severity("VID-READBACK")
    if sev is None:
        return None
    if not ocr.available():
        return {"rule": "VID-READBACK", "severity": "info", "passed": False,
                "message": "not run: no OCR engine (pip install 'mktcli[ocr]')"}
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
    d = {"rule": "VID-READBACK", "severity": sev, "passed": not misses and bool(read), "message": "; ".join(misses)
         if misses else ("" if read else "nothing to read"), "read": read}
    rule = rs.rules.get("VID-READBACK")
    if misses and rule is not None and rule.fix:
        d["fix"] = rule.fix
    return d


@rule_check("aigc_implicit", on="clip")
def label_check(rs, info: dict[str, Any], *, content_id: str | None, generative: bool) -> dict[str, Any] | None:
    """VID-LABEL: the clip's metadata carries the implicit label (producer, content id, aigc)."""
    raw = (info.get("metadata") or {}).get("comment")
    try:
        label = json.loads(raw) if raw else None
    except ValueError:
        label = None
    ok = isinstance(label, dict) and bool(label.get("producer")) and (content_id is None or
                                                                     label.get("content_id") == content_id) \
        and (label.get("aigc") is True if generative else "aigc" in label)
    return _result(rs, "VID-LABEL", ok, "no implicit label in the clip's metadata" if label is None else
                   f"implicit label does not match (content_id {label.get('content_id') if isinstance(label, dict) else '?'})")
