"""Design hygiene of finished posters: for every image creative of one or more bundles, figures a designer checks
by eye (holes, collisions, busy text, tiny heroes, legal bands that eat small sizes), computed from manifest.json and
the key visual alone — the PSD's `background` layer, which has no text or shapes on it.

    python benchmarks/design.py OUT [OUT ...]          # bundle folders, or folders holding bundles
    python benchmarks/design.py --render BRIEF ...     # mkt poster --engine procedural into a temp folder first
    python benchmarks/design.py --render BRIEF ... --engine illustration
    python benchmarks/design.py OUT --json             # every creative's figures as JSON
    python benchmarks/design.py OUT --markdown         # the overall table and pass counts per brief, Markdown
    python benchmarks/design.py OUT --gate             # exit 1 if any creative fails a gate (else always 0)

Exit codes: 0 done (and, with --gate, every creative passed), 1 --gate and some creative failed, 2 bad input
(no bundle found, an unreadable manifest, a brief --render could not render at all).

Definitions (W × H the canvas; boxes [x0, y0, x1, y1] px from the manifest's `blocks`):

- Blocks. Text blocks: manifest blocks with a non-empty `text`. Legal texts: roles disclaimer, provider, ai_label.
  Plates (opaque shapes text sits on): blocks with roles rate_plate (or offer_plate), cta (the button box), perk
  (a chip box), legal_band and card; plus, where the manifest does not record them, the PSD's shape layers (rate
  plate, legal band, headline/subhead/brand plates, logo mark, AI-label pill …) with their box taken where the
  layer's alpha is ≥ 128 (that leaves out soft drop shadows, drawn at alpha ≤ 70). The scrim and any shape
  covering ≥ 90% of the canvas are tints, not plates; the PSD's "perk chips" and "cta button" layers are skipped
  (the manifest has each chip's and the button's own box). A text block sits on a plate when its box lies inside
  a plate box (1 px slack).
- Edge map g (RALF's unreadability form, Horita et al., "Retrieval-Augmented Layout Transformer for Content-Aware
  Layout Generation", CVPR 2024, github.com/CyberAgentAILab/RALF image2layout/train/helpers/metric.py
  `_extract_grad`, after PosterLayout, Hsu et al. CVPR 2023): the background in grayscale (ITU-R 601 luma) in
  [0, 1]; 3×3 Sobel gx, gy (reflect-101 borders, as OpenCV); magnitude sqrt((gx² + gy²) / 2); divided by its
  maximum over the image. One deviation: the divisor is max(image maximum, 0.5), so a picture with no visible edge
  at all (a smooth gradient, whose 8-bit steps give magnitudes ~0.01) does not get its quantisation noise scaled
  up to 1; 0.5 is the magnitude of a 46-level step (of 255), a plainly visible edge, and on any picture with one
  the figure is RALF's. Computed at the creative's own pixel size (so a motif's thin outline weighs less on a
  1080×1920 splash than the same motif on a 300×250). Without a PSD (--no-layers) the figures that need the
  picture (empty, unreadability, crowding) are n/a.
- dropped: the manifest's `dropped` (optional blocks with no room at a legible size), counted per role.
  Gate "kept": no brand or CTA is dropped ("brand name", "brand", "logo", "cta" in `dropped`) and a brand-name
  block is on the poster (a bare lettermark is not the brand's name).
- legal: the legal area's height ÷ H. The legal area is the legal band (a legal_band block, else the PSD's legal
  band layer); with no band recorded, the union of the disclaimer, provider and ai_label boxes. Gate ≤ 0.16, or
  ≤ 0.22 on banners (canvas ≤ 300 px tall). Also reported, not gated: legal_gap, the canvas left below the legal
  area ÷ H (a legal bar floating above an empty bottom band).
- empty: the tallest empty stretch of the text column over a calm background, ÷ H. The text column is the x-range
  of the union of the non-legal text blocks. Rows are scanned from the channel's safe top (configs/channels.yaml;
  the default safe zone for a channel not found there) down to the top of the legal area (the safe bottom when
  there is none). A row is occupied when any block box (text or plate) crosses it within the column; busy when
  the mean of g over the column, in a window of rows 2% of H tall centred on it, is above 0.005 (the picture
  fills that row); otherwise empty. The threshold sits in the trough of the row figures of 178 procedural posters
  (15 briefs, every size class): 61% of rows measure ≤ 0.003 (calm gradients), 5% 0.003–0.005, and rows a motif
  crosses 0.005–0.1. The figure is the longest run of empty rows ÷ H. Gate ≤ 0.12.
- overlaps: pairs of text blocks whose boxes overlap (by more than 0.5 px both ways). Plates without text are not
  text blocks, so a text and its own plate never count. Gate 0.
- unreadability: RALF's Und — the mean of g over the union of the boxes of the text blocks that do not sit on a
  plate, less every plate box (RALF subtracts underlays); 0 when all text is on plates. Gate ≤ 0.013.
- crowding: for the CTA button, the rate/offer plate (rate_plate / offer_plate) and each perk chip, the mean of g
  in a ring around the element's box, 0.5 × the element's height wide (clipped to the canvas, less the pixels
  under other plates, which hide the picture); the creative's figure is its worst element. Gate ≤ 0.04.
- hero: the size of the rate/offer figure (the block with role `offer`, else `apr`) ÷ the largest size of every
  other text block (the hero's own label, apr_label / offer_label, left out). Gate ≥ 1.0, or ≥ 0.8 on banners
  (≤ 300 px tall); n/a (not gated) when the creative has no hero.
- alignment: the LayoutGAN++ alignment score (Kikuchi et al., "Constrained Graphic Layout Generation via Latent
  Optimization", ACM MM 2021, github.com/ktrk115/const_layout metric.py `compute_alignment`, after Li et al.'s
  Attribute-conditioned LayoutGAN, TVCG 2020, and Lee et al.'s Neural Design Network, ECCV 2020): over the text
  blocks' boxes normalised by W and H, for each block the smallest |Δ| to any other block over the six lines
  (left, centre-x, right, top, centre-y, bottom — the same line of both boxes), d → −ln(1 − d) (0 when no other
  block), summed and divided by the number of blocks. Lower is better; reported, not gated.

A creative passes when it passes every gate that applies to it. The script only reads bundles (and, with
--render, runs `mkt poster`); it changes nothing.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

Box = tuple[float, float, float, float]

# ---- gates and constants (see the docstring) ---------------------------------------------------------------
BANNER_MAX_H = 300           # a "banner" for the relaxed legal and hero gates: canvas ≤ 300 px tall
LEGAL_MAX, LEGAL_MAX_BANNER = 0.16, 0.22
EMPTY_MAX = 0.12
OVERLAPS_MAX = 0
UNREAD_MAX = 0.013
CROWD_MAX = 0.04
HERO_MIN, HERO_MIN_BANNER = 1.0, 0.8
BUSY_ROW = 0.005             # mean g across the column (2%-of-H row window) above which the picture fills a row
ROW_WINDOW = 0.02
RING = 0.5                   # crowding ring width, × the element's height
NORM_FLOOR = 0.5             # edge-map divisor floor (a 46/255 step)
PLATE_ALPHA = 128            # PSD shape layers: pixels at least this opaque make the plate's box

LEGAL_TEXT = {"disclaimer", "provider", "ai_label"}
PLATE_ROLES = {"rate_plate", "offer_plate", "cta", "perk", "legal_band", "card"}
CROWDED = ("cta", "perk", "rate_plate", "offer_plate")    # what the crowding ring goes around
HERO_ROLES = ("offer", "apr")
HERO_LABELS = {"apr_label", "offer_label"}
DROPPED_REQUIRED = {"brand name", "brand", "logo", "cta"}
# PSD shape layers (compose/layers.py SHAPE_NAMES) → the plate role they stand for; None = not a plate here
PSD_SHAPES = {"legal band": "legal_band", "rate plate": "rate_plate", "perk chips": None, "cta button": None,
              "scrim": None}
GATES = ("kept", "legal", "empty", "overlaps", "unreadability", "crowding", "hero")
TARGETS = {"kept": "brand+CTA", "legal": "≤0.16 (≤0.22 banner)", "empty": f"≤{EMPTY_MAX}",
           "overlaps": f"{OVERLAPS_MAX}", "unreadability": f"≤{UNREAD_MAX}", "crowding": f"≤{CROWD_MAX}",
           "hero": "≥1.0 (≥0.8 banner)", "alignment": "lower"}


class BadInput(Exception):
    """A user mistake (no bundle, unreadable manifest): one line, exit 2."""


# ---- geometry helpers ---------------------------------------------------------------------------------------
def _px(box: Box, W: int, H: int) -> tuple[int, int, int, int]:
    """A float box as the pixel rows/columns it touches, clipped to the canvas."""
    x0, y0, x1, y1 = box
    return (max(0, min(W, math.floor(x0))), max(0, min(H, math.floor(y0))),
            max(0, min(W, math.ceil(x1))), max(0, min(H, math.ceil(y1))))


def overlaps(a: Box, b: Box, slack: float = 0.5) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def inside(a: Box, b: Box, slack: float = 1.0) -> bool:
    """a lies inside b."""
    return a[0] >= b[0] - slack and a[1] >= b[1] - slack and a[2] <= b[2] + slack and a[3] <= b[3] + slack


def union(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


# ---- the metrics (pure functions: arrays and boxes in, figures out) ------------------------------------------
def edge_map(rgb: np.ndarray) -> np.ndarray:
    """RALF's normalised Sobel magnitude of an RGB (H, W, 3) uint8 or [0, 1] float image, or of a grayscale one."""
    a = np.asarray(rgb, dtype=np.float32)
    if a.max(initial=0) > 1.0:
        a = a / 255.0
    if a.ndim == 3:
        a = a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114
    p = np.pad(a, 1, mode="reflect")                     # reflect-101, OpenCV's default border
    sv = p[:-2, :] + 2 * p[1:-1, :] + p[2:, :]           # vertical smoothing → d/dx
    gx = sv[:, 2:] - sv[:, :-2]
    sh = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]           # horizontal smoothing → d/dy
    gy = sh[2:, :] - sh[:-2, :]
    m = np.sqrt((gx * gx + gy * gy) / 2.0)
    return m / max(float(m.max(initial=0)), NORM_FLOOR)


def _mask(shape: tuple[int, int], boxes: list[Box]) -> np.ndarray:
    H, W = shape
    m = np.zeros((H, W), dtype=bool)
    for b in boxes:
        x0, y0, x1, y1 = _px(b, W, H)
        m[y0:y1, x0:x1] = True
    return m


def unreadability(g: np.ndarray, text_boxes: list[Box], plate_boxes: list[Box]) -> float:
    """Mean of g under the text boxes, less the plate boxes (RALF's Und); 0 when nothing is left."""
    m = _mask(g.shape, text_boxes) & ~_mask(g.shape, plate_boxes)
    return float(g[m].mean()) if m.any() else 0.0


def ring_energy(g: np.ndarray, box: Box, exclude: list[Box] = (), width: float = RING) -> float | None:
    """Mean of g in a ring `width` × the box's height wide around it, less `exclude` boxes; None if empty."""
    H, W = g.shape
    r = max(1.0, width * (box[3] - box[1]))
    outer = _mask(g.shape, [(box[0] - r, box[1] - r, box[2] + r, box[3] + r)])
    m = outer & ~_mask(g.shape, [box, *exclude])
    return float(g[m].mean()) if m.any() else None


def empty_stretch(g: np.ndarray | None, column: tuple[float, float], boxes: list[Box], y_top: float,
                  y_bottom: float, busy: float = BUSY_ROW, window: float = ROW_WINDOW) -> tuple[float, list[int]]:
    """Longest run of rows in [y_top, y_bottom) that no box crosses within the column and where the picture
    is calm, as (run ÷ H, [first row, last row + 1]). g None: every row counts as calm."""
    H = g.shape[0] if g is not None else int(y_bottom)
    W = g.shape[1] if g is not None else int(column[1]) + 1
    cx0, cx1 = max(0, math.floor(column[0])), min(W, math.ceil(column[1]))
    top, bot = max(0, math.floor(y_top)), min(H, math.ceil(y_bottom))
    if bot <= top or cx1 <= cx0:
        return 0.0, [top, top]
    occupied = np.zeros(H, dtype=bool)
    for b in boxes:
        if b[0] < cx1 and b[2] > cx0:
            occupied[max(0, math.floor(b[1])):max(0, math.ceil(b[3]))] = True
    calm = np.ones(H, dtype=bool)
    if g is not None:
        rows = g[:, cx0:cx1].mean(axis=1)
        half = max(1, round(window * H / 2))
        c = np.concatenate([[0.0], np.cumsum(rows, dtype=np.float64)])
        lo = np.clip(np.arange(H) - half, 0, H)
        hi = np.clip(np.arange(H) + half + 1, 0, H)
        calm = (c[hi] - c[lo]) / (hi - lo) <= busy
    empty = ~occupied & calm
    best, at, run, start = 0, [top, top], 0, top
    for y in range(top, bot):
        if empty[y]:
            if run == 0:
                start = y
            run += 1
            if run > best:
                best, at = run, [start, y + 1]
        else:
            run = 0
    return best / H, at


def overlap_pairs(blocks: list[dict]) -> list[tuple[str, str]]:
    """Pairs of text blocks whose boxes overlap."""
    texts = [b for b in blocks if b.get("text")]
    out = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            if overlaps(tuple(a["box"]), tuple(b["box"])):
                out.append((a["role"], b["role"]))
    return out


def hero_ratio(blocks: list[dict]) -> tuple[float | None, str | None]:
    """(rate/offer figure size ÷ largest other text size, the hero's role); (None, None) with no hero."""
    hero = next((b for r in HERO_ROLES for b in blocks if b.get("role") == r and b.get("text")), None)
    if hero is None:
        return None, None
    others = [b.get("size") or 0 for b in blocks
              if b is not hero and b.get("text") and b.get("role") not in HERO_LABELS
              and b.get("role") not in HERO_ROLES]
    top = max(others, default=0)
    return ((hero.get("size") or 0) / top if top else None), hero["role"]


def alignment(boxes: list[Box], W: float, H: float) -> float:
    """LayoutGAN++ alignment (const_layout compute_alignment) of boxes on a W × H canvas; lower is better."""
    n = len(boxes)
    if n == 0:
        return 0.0
    b = np.array(boxes, dtype=np.float64) / np.array([W, H, W, H])
    xl, yt, xr, yb = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    X = np.stack([xl, (xl + xr) / 2, xr, yt, (yt + yb) / 2, yb])        # (6, n)
    D = np.abs(X[:, :, None] - X[:, None, :])                           # (6, n, n)
    D[:, np.arange(n), np.arange(n)] = 1.0
    d = D.min(axis=(0, 2))                                              # per element
    d[d >= 1.0] = 0.0
    return float(np.sum(-np.log(1.0 - d)) / n)


# ---- reading a bundle ---------------------------------------------------------------------------------------
@dataclass
class Picture:
    """What the PSD gives: the key visual (RGB array) and the plate boxes of its shape layers."""

    background: np.ndarray | None
    plates: list[tuple[str, Box]]


def read_psd(path: Path, shape_roles: dict[str, str]) -> Picture:
    """The background layer and the shape layers' opaque boxes. shape_roles: layer name → manifest role."""
    import logging

    from psd_tools import PSDImage

    logging.getLogger("psd_tools").setLevel(logging.ERROR)
    psd = PSDImage.open(path)
    bg, plates = None, []
    W, H = psd.width, psd.height
    for layer in psd.descendants():
        if layer.is_group():
            continue
        name = layer.name
        if name == "background":
            im = layer.topil()
            if im is not None:
                full = np.zeros((H, W, 3), dtype=np.uint8)
                x0, y0 = layer.left, layer.top
                full[y0:y0 + im.height, x0:x0 + im.width] = np.asarray(im.convert("RGB"))
                bg = full
            continue
        if name not in shape_roles:                 # a text layer (named by its text), or unknown
            continue
        role = PSD_SHAPES.get(name, f"plate:{name}")
        if role is None or shape_roles[name] == "scrim":
            continue
        im = layer.topil()
        if im is None or im.mode != "RGBA":
            continue
        a = np.asarray(im)[:, :, 3]
        ys, xs = np.nonzero(a >= PLATE_ALPHA)
        if not len(xs):
            continue
        box = (layer.left + xs.min(), layer.top + ys.min(), layer.left + xs.max() + 1, layer.top + ys.max() + 1)
        if (box[2] - box[0]) * (box[3] - box[1]) >= 0.9 * W * H:
            continue
        plates.append((role, tuple(float(v) for v in box)))
    return Picture(bg, plates)


def shapes(c: dict, bundle: Path, blocks: list[dict]) -> tuple[list[tuple[str, Box]], np.ndarray | None]:
    """(the plates as (role, box), the background's edge map or None). Plates: the manifest's plate blocks, then
    the PSD's shape layers for the roles the manifest does not record; without a PSD (--no-layers), the manifest's
    layer list (whose shape boxes include soft shadows)."""
    W, H = int(c["width"]), int(c["height"])
    plates: list[tuple[str, Box]] = [(b["role"], tuple(b["box"])) for b in blocks if b["role"] in PLATE_ROLES]
    # the manifest's `shapes` (mkt ≥ 0.2): the hero's plate, the text card and the legal band, as drawn
    plates += [(sh["role"], tuple(float(v) for v in sh["box"])) for sh in c.get("shapes") or []
               if sh.get("role") in PLATE_ROLES]
    have = {r for r, _ in plates}
    layers = c.get("layers") or {}
    listing = [lay for lay in layers.get("list") or [] if lay.get("kind") == "shape"]
    shape_roles = {lay["name"]: lay["role"] for lay in listing} if layers.get("list") else {n: n for n in PSD_SHAPES}
    psd_rel = (layers.get("psd") or {}).get("path")
    psd = bundle / psd_rel if psd_rel else (bundle / c["path"]).with_suffix(".psd") if c.get("path") else None
    if psd is not None and psd.is_file():
        pic = read_psd(psd, shape_roles)
        plates += [(r, b) for r, b in pic.plates if r not in have]
        return plates, (edge_map(pic.background) if pic.background is not None else None)
    for lay in listing:
        role = PSD_SHAPES.get(lay["name"], f"plate:{lay['name']}")
        box = tuple(float(v) for v in lay["box"])
        if role is None or role in have or lay.get("role") == "scrim" or \
                (box[2] - box[0]) * (box[3] - box[1]) >= 0.9 * W * H:
            continue
        plates.append((role, box))
    return plates, None


def _safe(channel: str, channels: dict) -> tuple[float, float]:
    """(top, bottom) safe fractions of a channel; the defaults when the channel is not a preset here."""
    ch = channels.get(channel)
    safe = getattr(ch, "safe", None)
    if safe is None:
        return 0.04, 0.04
    return float(safe.top), float(safe.bottom)


def analyse(c: dict, bundle: Path, channels: dict, brief: str = "") -> dict[str, Any]:
    """Every figure of one image creative (a manifest entry)."""
    W, H = int(c["width"]), int(c["height"])
    blocks = [b for b in c.get("blocks", []) if b.get("box")]
    banner = H <= BANNER_MAX_H
    out: dict[str, Any] = {"brief": brief, "bundle": str(bundle), "segment": c.get("segment"),
                           "channel": c.get("channel"), "id": c.get("id"), "size": f"{W}×{H}",
                           "banner": banner, "layout": c.get("layout")}
    for k in ("variant", "family", "arrangement"):    # variants of one segment × channel, where recorded
        if c.get(k) is not None:
            out[k] = c[k]
    plates, g = shapes(c, bundle, blocks)
    out["background"] = g is not None
    plate_boxes = [b for _, b in plates]
    texts = [b for b in blocks if b.get("text")]

    # dropped / kept
    dropped = list(c.get("dropped") or [])
    missing = sorted({d for d in dropped if d in DROPPED_REQUIRED})
    ch = channels.get(c.get("channel"))
    if getattr(ch, "tappable", True) and not any(b["role"] == "cta" for b in texts) and "cta" not in missing:
        missing.append("cta")   # a button missing without being listed as dropped counts too (not on covers)
    if not any(b["role"] == "brand" for b in texts) and not any(m in ("brand name", "brand", "logo") for m in missing):
        missing.append("brand name")
    out["dropped"], out["missing"] = dropped, sorted(missing)

    # legal area
    band = [b for r, b in plates if r == "legal_band"]
    legal_texts = [tuple(b["box"]) for b in texts if b["role"] in LEGAL_TEXT]
    legal = union(band) if band else union(legal_texts)
    out["legal_source"] = "band" if band else ("texts" if legal else None)
    out["legal"] = (legal[3] - legal[1]) / H if legal else None
    out["legal_gap"] = (H - legal[3]) / H if legal else None

    # tallest empty stretch of the text column
    body = [tuple(b["box"]) for b in texts if b["role"] not in LEGAL_TEXT]
    col = union(body)
    safe_top, safe_bottom = _safe(str(c.get("channel")), channels)
    y_bottom = legal[1] if legal else H * (1 - safe_bottom)
    if col is not None and g is not None:
        share, at = empty_stretch(g, (col[0], col[2]), [tuple(b["box"]) for b in texts] + plate_boxes,
                                  H * safe_top, y_bottom)
        out["empty"], out["empty_rows"] = share, at
        out["column"] = [round(col[0], 1), round(col[2], 1)]
    else:
        out["empty"], out["empty_rows"] = None, None

    # text-box overlaps
    pairs = overlap_pairs(texts)
    out["overlaps"], out["overlap_pairs"] = len(pairs), [list(p) for p in pairs]

    # unreadability: text that does not sit on a plate
    bare = [b for b in texts if b["role"] not in PLATE_ROLES
            and not any(inside(tuple(b["box"]), p) for p in plate_boxes)]
    out["bare_text"] = [b["role"] for b in bare]
    out["unreadability"] = unreadability(g, [tuple(b["box"]) for b in bare], plate_boxes) if g is not None else None

    # crowding around the CTA, the rate/offer plate and the chips
    crowd: dict[str, float] = {}
    if g is not None:
        n = Counter()
        for role, box in plates:
            if role not in CROWDED:
                continue
            n[role] += 1
            others = [b for b in plate_boxes if b != box]
            e = ring_energy(g, box, others)
            if e is not None:
                crowd[f"{role}{n[role]}" if role == "perk" else role] = round(e, 5)
    out["crowding_by"] = crowd
    out["crowding"] = max(crowd.values()) if crowd else None

    # hero and alignment
    ratio, hero = hero_ratio(texts)
    out["hero"], out["hero_role"] = ratio, hero
    out["alignment"] = alignment([tuple(b["box"]) for b in texts], W, H)

    out["gates"] = gates(out)
    out["passed"] = all(v is not False for v in out["gates"].values())
    return out


def gates(f: dict) -> dict[str, bool | None]:
    """Pass (True), fail (False) or not applicable (None) for each gate."""
    banner = f["banner"]

    def at_most(v, limit):
        return None if v is None else bool(v <= limit + 1e-9)

    hero = None if f["hero"] is None else bool(f["hero"] >= (HERO_MIN_BANNER if banner else HERO_MIN) - 1e-9)
    return {"kept": not f["missing"],
            "legal": at_most(f["legal"], LEGAL_MAX_BANNER if banner else LEGAL_MAX),
            "empty": at_most(f["empty"], EMPTY_MAX),
            "overlaps": f["overlaps"] <= OVERLAPS_MAX,
            "unreadability": at_most(f["unreadability"], UNREAD_MAX),
            "crowding": at_most(f["crowding"], CROWD_MAX),
            "hero": hero}


def find_bundles(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if not p.exists():
            raise BadInput(f"{p}: no such folder")
        if (p / "manifest.json").is_file():
            out.append(p)
            continue
        found = sorted(m.parent for m in p.rglob("manifest.json"))
        if not found:
            raise BadInput(f"{p}: no bundle here (no manifest.json in it or below it); render one with mkt poster")
        out += found
    return list(dict.fromkeys(out))


def analyse_bundle(bundle: Path, channels: dict) -> tuple[list[dict], list[dict]]:
    """(figures of every image creative, the bundle's failures)."""
    try:
        m = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BadInput(f"{bundle / 'manifest.json'}: not a readable manifest ({e})") from None
    brief = (m.get("brief") or {}).get("name") or bundle.name
    rows = [analyse(c, bundle, channels, brief) for c in m.get("creatives", [])
            if c.get("width") and c.get("height") and "blocks" in c]
    fails = [{"brief": brief, **f} if isinstance(f, dict) else {"brief": brief, "failure": str(f)}
             for f in m.get("failures") or []]
    return rows, fails


# ---- rendering (--render) -----------------------------------------------------------------------------------
def render(briefs: list[Path], out: Path, jobs: int, engine: str = "procedural") -> list[str]:
    """mkt poster --engine ENGINE for each brief into out; returns error lines for briefs that failed."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path}     # this checkout's mktcli, whatever is installed
    env.setdefault("MKT_HOME", str(out / ".mkt-home"))

    def one(b: Path) -> str | None:
        cmd = [sys.executable, "-m", "mktcli", "poster", str(b), "--visual-engine", engine, "--no-register",
               "-o", str(out)]
        r = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if r.returncode in (0, 1, 3):      # rendered (1: checks failed, 3: some creatives failed)
            return None
        tail = (r.stderr or r.stdout).strip().splitlines()
        return f"{b}: mkt poster exited {r.returncode}: " + (" ".join(tail[:3]) if tail else "")

    with ThreadPoolExecutor(max(1, jobs)) as ex:
        return [e for e in ex.map(one, briefs) if e]


# ---- report -------------------------------------------------------------------------------------------------
METRICS = ("legal", "empty", "overlaps", "unreadability", "crowding", "hero", "alignment")
HIGHER_IS_WORSE = {"legal": True, "empty": True, "overlaps": True, "unreadability": True, "crowding": True,
                   "hero": False, "alignment": True}


def summarise(rows: list[dict]) -> dict[str, Any]:
    s: dict[str, Any] = {"creatives": len(rows), "passed_all": sum(r["passed"] for r in rows)}
    dropped = Counter(d for r in rows for d in r["dropped"])
    s["dropped"] = dict(dropped.most_common())
    for m in METRICS:
        vals = [(r[m], r) for r in rows if r[m] is not None]
        if not vals:
            s[m] = {"median": None, "worst": None, "row": None, "where": None, "n": 0}
            continue
        worst = (max if HIGHER_IS_WORSE[m] else min)(vals, key=lambda t: t[0])
        s[m] = {"median": statistics.median(v for v, _ in vals), "worst": worst[0], "row": worst[1],
                "where": _where(worst[1], True), "n": len(vals)}
    for gname in GATES:
        res = [r["gates"][gname] for r in rows]
        s.setdefault("gates", {})[gname] = {"pass": sum(v is True for v in res), "fail": sum(v is False for v in res),
                                            "n/a": sum(v is None for v in res)}
    return s


def summary_json(rows: list[dict]) -> dict[str, Any]:
    """summarise() without the worst creatives' full records (they are in `creatives`)."""
    s = summarise(rows)
    return {k: ({kk: vv for kk, vv in v.items() if kk != "row"} if k in METRICS else v) for k, v in s.items()}


def _fmt(v, m: str) -> str:
    if v is None:
        return "n/a"
    if m == "overlaps":
        return f"{v:g}"
    return {"unreadability": f"{v:.4f}", "crowding": f"{v:.4f}", "alignment": f"{v:.5f}"}.get(m, f"{v:.3f}")


def _where(r: dict, with_brief: bool) -> str:
    v = f" #{r['variant']}" if r.get("variant") is not None else ""
    return (f"{r['brief']} / " if with_brief else "") + f"{r['segment']} / {r['channel']}{v}"


def gate_table(title: str, rows: list[dict], with_brief: bool):
    """One rich table: each figure's target, median, worst (and where), and how many creatives pass its gate."""
    from rich.table import Table

    s = summarise(rows)
    t = Table(title=title, title_justify="left")
    for col, just in (("figure", "left"), ("target", "left"), ("median", "right"), ("worst", "right"),
                      ("pass", "right"), ("worst at", "left")):
        t.add_column(col, justify=just, no_wrap=col != "worst at")
    g = s["gates"]["kept"]
    missing = [r for r in rows if r["missing"]]
    t.add_row("kept (brand, CTA)", TARGETS["kept"], "", "", f"{g['pass']}/{g['pass'] + g['fail']}",
              _where(missing[0], with_brief) + " …" * (len(missing) > 1) if missing else "")
    for m in METRICS:
        x = s[m]
        p = ""
        if m in GATES:
            gg = s["gates"][m]
            p = f"{gg['pass']}/{gg['pass'] + gg['fail']}" + (f" +{gg['n/a']} n/a" if gg["n/a"] else "")
        vals = [r[m] for r in rows if r[m] is not None]
        where = _where(x["row"], with_brief) if vals and min(vals) != max(vals) else ""
        t.add_row(m, TARGETS[m], _fmt(x["median"], m), _fmt(x["worst"], m), p, where)
    t.add_row("every gate", "", "", "", f"{s['passed_all']}/{s['creatives']}", "", style="bold")
    return t, s


def print_report(by_brief: dict[str, list[dict]], fails: list[dict], console) -> None:
    for brief, rows in by_brief.items():
        t, s = gate_table(f"{brief} — {len(rows)} image creatives", rows, with_brief=False)
        console.print(t)
        if s["dropped"]:
            console.print("  dropped: " + ", ".join(f"{k} ×{v}" for k, v in s["dropped"].items()))
        bad = [r for r in rows if not r["passed"]]
        for r in bad[:8]:
            failed = [k for k, v in r["gates"].items() if v is False]
            console.print(f"  ✗ {_where(r, False)} ({r['size']}): " + "; ".join(_why(r, k) for k in failed))
        if len(bad) > 8:
            console.print(f"  … {len(bad) - 8} more fail a gate (--json lists every creative)")
        console.print()
    rows = [r for rs in by_brief.values() for r in rs]
    t, s = gate_table(f"Overall — {len(rows)} image creatives, {len(by_brief)} briefs", rows, with_brief=True)
    console.print(t)
    if s["dropped"]:
        console.print("dropped: " + ", ".join(f"{k} ×{v}" for k, v in s["dropped"].items()))
    no_psd = sum(not r["background"] for r in rows)
    if no_psd:
        console.print(f"{no_psd} creatives have no layered PSD (rendered with --no-layers): empty, unreadability and "
                      "crowding are n/a there, and the legal area is the legal texts' union (no band recorded)")
    for f in fails:
        console.print(f"not rendered: {f.get('brief')} / {f.get('segment', '')} / {f.get('channel', '')}: "
                      f"{f.get('error') or f.get('message') or f.get('failure') or ''}")


def markdown(by_brief: dict[str, list[dict]]) -> str:
    """The overall table and the pass counts per brief, as Markdown (for docs/benchmarks.md)."""
    rows = [r for rs in by_brief.values() for r in rs]
    s = summarise(rows)
    out = ["| figure | target | median | worst | worst at | pass |", "|---|---|---:|---:|---|---:|"]
    g = s["gates"]["kept"]
    out.append(f"| kept (brand, CTA) | {TARGETS['kept']} | | | | {g['pass']}/{g['pass'] + g['fail']} |")
    for m in METRICS:
        x, p = s[m], ""
        if m in GATES:
            gg = s["gates"][m]
            p = f"{gg['pass']}/{gg['pass'] + gg['fail']}" + (f" (+{gg['n/a']} n/a)" if gg["n/a"] else "")
        vals = [r[m] for r in rows if r[m] is not None]
        where = x["where"] if vals and min(vals) != max(vals) else ""
        out.append(f"| {m} | {TARGETS[m]} | {_fmt(x['median'], m)} | {_fmt(x['worst'], m)} | {where} | {p} |")
    out.append(f"| **every gate** | | | | | **{s['passed_all']}/{s['creatives']}** |")
    out += ["", "| brief | creatives | " + " | ".join(GATES) + " | every gate |",
            "|---|---:|" + "---:|" * (len(GATES) + 1)]
    for brief, rs in by_brief.items():
        b = summarise(rs)
        cells = [f"{x['pass']}/{x['pass'] + x['fail']}" if x["pass"] + x["fail"] else "n/a"
                 for x in (b["gates"][k] for k in GATES)]
        out.append(f"| {brief} | {len(rs)} | " + " | ".join(cells) + f" | {b['passed_all']}/{len(rs)} |")
    return "\n".join(out)


def _why(r: dict, gate: str) -> str:
    if gate == "kept":
        return "missing " + "+".join(r["missing"])
    if gate == "overlaps":
        return "overlap " + ", ".join("/".join(p) for p in r["overlap_pairs"])
    if gate == "crowding":
        worst = max(r["crowding_by"], key=r["crowding_by"].get)
        return f"crowding {r['crowding']:.3f} ({worst})"
    if gate == "unreadability":
        return f"unreadability {r['unreadability']:.4f} ({'+'.join(r['bare_text'])})"
    return f"{gate} {r[gate]:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Definitions of every figure: the module docstring (benchmarks/design.py).")
    ap.add_argument("out", nargs="*", type=Path, help="bundle folders, or folders holding bundles")
    ap.add_argument("--render", nargs="+", type=Path, metavar="BRIEF",
                    help="render these briefs first (mkt poster --engine ENGINE) and measure them too")
    ap.add_argument("--engine", default="procedural", help="the key-visual engine --render uses (default: "
                    "procedural; illustration, auto …)")
    ap.add_argument("--render-to", type=Path, metavar="DIR", help="where --render writes (default: a temp folder, "
                    "removed afterwards)")
    ap.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 2) // 2),
                    help="briefs rendered at once with --render")
    ap.add_argument("--json", action="store_true", help="print every creative's figures and the summary as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the overall table and the pass counts per brief "
                    "as Markdown")
    ap.add_argument("--gate", action="store_true", help="exit 1 if any creative fails a gate")
    args = ap.parse_args(argv)
    if not args.out and not args.render:
        ap.error("give bundle folders (OUT …) or --render BRIEF …")

    from rich.console import Console

    console = Console(stderr=args.json)
    if not console.is_terminal:
        console = Console(stderr=args.json, width=140)
    try:
        from mktcli import load_channels

        channels = load_channels()
    except Exception:   # noqa: BLE001 — the safe zones then fall back to the defaults
        channels = {}
    t0 = time.perf_counter()
    tmp = None
    outs = list(args.out)
    errors: list[str] = []
    try:
        if args.render:
            for b in args.render:
                if not b.is_file():
                    raise BadInput(f"{b}: no such brief")
            if args.render_to:
                dest = args.render_to
                dest.mkdir(parents=True, exist_ok=True)
            else:
                tmp = tempfile.TemporaryDirectory(prefix="mkt-design-")
                dest = Path(tmp.name)
            errors = render(args.render, dest, args.jobs, args.engine)
            for e in errors:
                console.print(f"[red]error[/red] {e}")
            if len(errors) == len(args.render):
                raise BadInput("no brief could be rendered")
            outs.append(dest)
        t1 = time.perf_counter()
        rows: list[dict] = []
        fails: list[dict] = []
        for bundle in find_bundles(outs):
            r, f = analyse_bundle(bundle, channels)
            rows += r
            fails += f
        took = time.perf_counter() - t1
    except BadInput as e:
        console.print(f"[red]error[/red]: {e}")
        return 2
    finally:
        if tmp is not None:
            tmp.cleanup()
    by_brief: dict[str, list[dict]] = {}
    for r in rows:
        by_brief.setdefault(r["brief"], []).append(r)
    meta = {"command": " ".join(["python", "benchmarks/design.py", *(argv if argv is not None else sys.argv[1:])]),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "date": time.strftime("%Y-%m-%d"), "commit": _commit(),
            "measured_s": round(took, 2), "total_s": round(time.perf_counter() - t0, 2),
            "thresholds": {"banner_max_h": BANNER_MAX_H, "legal": LEGAL_MAX, "legal_banner": LEGAL_MAX_BANNER,
                           "empty": EMPTY_MAX, "overlaps": OVERLAPS_MAX, "unreadability": UNREAD_MAX,
                           "crowding": CROWD_MAX, "hero": HERO_MIN, "hero_banner": HERO_MIN_BANNER,
                           "busy_row": BUSY_ROW, "row_window": ROW_WINDOW, "ring": RING, "norm_floor": NORM_FLOOR}}
    if args.json:
        print(json.dumps(_rounded({"meta": meta, "overall": summary_json(rows),
                                   "briefs": {b: summary_json(rs) for b, rs in by_brief.items()},
                                   "creatives": rows, "not_rendered": fails, "render_errors": errors}),
                         ensure_ascii=False, indent=1, default=_json_default))
    elif args.markdown:
        print(markdown(by_brief))
    else:
        print_report(by_brief, fails, console)
        console.print(f"{len(rows)} image creatives measured in {took:.1f} s")
    if args.gate and any(not r["passed"] for r in rows):
        return 1
    return 0


def _commit() -> str | None:
    """The checkout's commit (and whether mktcli/ or configs/ had changes), for the record; None outside git."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "mktcli", "configs", "assets"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def _rounded(o):
    """Floats to 6 decimals (the figures mean nothing further down), recursively."""
    if isinstance(o, float):
        return round(o, 6)
    if isinstance(o, dict):
        return {k: _rounded(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_rounded(v) for v in o]
    return o


def _json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(type(o).__name__)


if __name__ == "__main__":
    sys.exit(main())
