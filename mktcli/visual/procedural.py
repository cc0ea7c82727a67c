"""Embedded key-visual engine: backgrounds from the brand palette and the product category, no model needed.

Smooth parts (gradient, glows) are computed small with numpy and upscaled, so they cost little at any size;
the category motif (hills, cards, coins, waves, shield, confetti) is drawn only inside the layout's visual zone,
which leaves the text areas calm by construction. Deterministic: the seed drives one numpy Generator."""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .base import VisualEngine, VisualRequest, VisualResult

VERSION = "3"


def _rgb(h: str) -> np.ndarray:
    return np.array([int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)], dtype=np.float32)


def _mix(a, b, t: float) -> tuple[int, int, int]:
    c = np.clip(np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t, 0, 255)
    return tuple(int(round(v)) for v in c)


def _smooth_base(w: int, h: int, pal, rng: np.random.Generator, zone) -> Image.Image:
    """Diagonal gradient + soft glows, computed at 1/8 scale."""
    sw, sh = max(8, w // 8), max(8, h // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    u, v = xx / max(sw - 1, 1), yy / max(sh - 1, 1)
    angle = rng.uniform(0.35, 0.65)
    t = np.clip(u * angle + v * (1 - angle), 0, 1)[..., None]
    dark, prim, acc = _rgb(pal.primary_dark), _rgb(pal.primary), _rgb(pal.accent)
    img = dark * (1 - t) + prim * t
    # glows: one accent glow in the visual zone, one primary-light glow away from it
    zx0, zy0, zx1, zy1 = zone
    gx = (zx0 + (zx1 - zx0) * rng.uniform(0.45, 0.8)) / w
    gy = (zy0 + (zy1 - zy0) * rng.uniform(0.2, 0.55)) / h
    aspect = w / h
    for cx, cy, rad, col, strength in (
        (gx, gy, rng.uniform(0.35, 0.5), acc, 0.32),
        (rng.uniform(0.0, 0.3), rng.uniform(0.0, 0.25), rng.uniform(0.4, 0.6), prim * 1.25, 0.35),
    ):
        d2 = ((u - cx) * aspect) ** 2 + (v - cy) ** 2
        a = (np.exp(-d2 / (2 * (rad * 0.55) ** 2)) * strength)[..., None]
        img = img * (1 - a) + np.clip(col, 0, 255) * a
    small = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    return small.resize((w, h), Image.BICUBIC)


def _hills(d: ImageDraw.ImageDraw, zw, zh, pal, rng):
    dark, prim, acc, light = _rgb(pal.primary_dark), _rgb(pal.primary), _rgb(pal.accent), _rgb(pal.light)
    # sun behind the hills
    r = min(zw, zh) * rng.uniform(0.11, 0.15)
    sx, sy = zw * rng.uniform(0.55, 0.78), zh * rng.uniform(0.3, 0.4)
    for k, alpha in ((2.2, 40), (1.6, 70), (1.0, 255)):
        d.ellipse([sx - r * k, sy - r * k, sx + r * k, sy + r * k], fill=(*_mix(acc, light, 0.25), alpha))
    layers = 4
    for i in range(layers):
        base = zh * (0.45 + 0.13 * i)
        amp = zh * rng.uniform(0.05, 0.1)
        freq = rng.uniform(1.0, 2.2) * math.pi / zw
        phase = rng.uniform(0, math.tau)
        pts = [(x, base - amp * math.sin(freq * x + phase)) for x in np.linspace(0, zw, 48)]
        col = _mix(prim * 1.15, acc, 0.55 - 0.15 * i) if i % 2 == 0 else _mix(dark, prim * 1.3, 0.5 + 0.15 * i)
        d.polygon(pts + [(zw, zh), (0, zh)], fill=(*col, 235))
        # furrows: thin light lines following the hill, the "field" texture
        for j in range(1, 4):
            off = j * zh * 0.03
            d.line([(x, y + off) for x, y in pts], fill=(*_mix(acc, light, 0.5), 60), width=max(1, int(zh / 220)))


def _cards(d, zw, zh, pal, rng, layer: Image.Image):
    acc, prim, light, dark = _rgb(pal.accent), _rgb(pal.primary), _rgb(pal.light), _rgb(pal.primary_dark)
    cw = min(zw * 0.7, zh * 1.2)
    ch = cw * 0.63
    for i, (col, ang) in enumerate(((_mix(dark, prim, 0.6), -14), (_mix(acc, light, 0.1), 8))):
        card = Image.new("RGBA", (int(cw), int(ch)), (0, 0, 0, 0))
        cd = ImageDraw.Draw(card)
        cd.rounded_rectangle([0, 0, cw - 1, ch - 1], radius=cw * 0.06, fill=(*col, 255))
        cd.rounded_rectangle([cw * 0.08, ch * 0.32, cw * 0.22, ch * 0.5], radius=cw * 0.015,
                             fill=(*_mix(acc, light, 0.4), 255))
        for k in range(4):
            cd.rectangle([cw * (0.08 + k * 0.15), ch * 0.7, cw * (0.2 + k * 0.15), ch * 0.76],
                         fill=(*_mix(col, light, 0.5), 200))
        card = card.rotate(ang + rng.uniform(-4, 4), resample=Image.BICUBIC, expand=True)
        x = int(zw * (0.18 + 0.22 * i) - card.width * 0.3)
        y = int(zh * (0.22 + 0.2 * i) - card.height * 0.2)
        layer.alpha_composite(card, (max(0, x), max(0, y)))


def _coins(d, zw, zh, pal, rng):
    acc, light, dark = _rgb(pal.accent), _rgb(pal.light), _rgb(pal.primary_dark)
    r = min(zw * 0.11, zh * 0.2)
    # three stacks that rise from left to right, as savings grow (stacks falling to the right read as money
    # running out: a designer's remark on a deposit clip)
    counts = sorted(int(n) for n in rng.choice(np.arange(3, 8), size=3, replace=False))
    for s in range(3):
        cx = zw * (0.28 + 0.22 * s) + rng.uniform(-r * 0.2, r * 0.2)
        n = counts[s]
        base = zh * 0.5 + n * r * 0.16
        for k in range(n):
            cy = base - k * r * 0.32
            d.ellipse([cx - r, cy - r * 0.38, cx + r, cy + r * 0.38], fill=(*_mix(acc, dark, 0.35), 255))
            d.ellipse([cx - r, cy - r * 0.46, cx + r, cy + r * 0.3], fill=(*_mix(acc, light, 0.15), 255))
        d.ellipse([cx - r * 0.6, cy - r * 0.34, cx + r * 0.6, cy + r * 0.16], outline=(*_mix(acc, dark, 0.2), 255),
                  width=max(1, int(r * 0.06)))


def _waves(d, zw, zh, pal, rng):
    acc, prim, light = _rgb(pal.accent), _rgb(pal.primary), _rgb(pal.light)
    for i in range(7):
        base = zh * (0.25 + 0.09 * i)
        amp = zh * rng.uniform(0.04, 0.1)
        freq = rng.uniform(0.8, 1.8) * math.pi / zw
        phase = rng.uniform(0, math.tau)
        pts = [(x, base + amp * math.sin(freq * x + phase)) for x in np.linspace(0, zw, 64)]
        col = _mix(acc, light, i / 10) if i % 2 == 0 else _mix(prim * 1.4, light, 0.3)
        d.line(pts, fill=(*col, 200 - i * 15), width=max(2, int(zh / 45)), joint="curve")


def _shield(d, zw, zh, pal, rng):
    acc, light, prim = _rgb(pal.accent), _rgb(pal.light), _rgb(pal.primary)
    s = min(zw * 0.7, zh * 0.86)
    cx, cy = zw * 0.5, zh * 0.5
    pts = [(cx, cy - s / 2), (cx + s * 0.42, cy - s * 0.34), (cx + s * 0.36, cy + s * 0.12), (cx, cy + s / 2),
           (cx - s * 0.36, cy + s * 0.12), (cx - s * 0.42, cy - s * 0.34)]
    d.polygon(pts, fill=(*_mix(acc, light, 0.1), 240))
    inner = [(cx + (x - cx) * 0.8, cy + (y - cy) * 0.8) for x, y in pts]
    d.polygon(inner, fill=(*_mix(prim, light, 0.15), 255))
    d.line([(cx - s * 0.15, cy), (cx - s * 0.03, cy + s * 0.12), (cx + s * 0.18, cy - s * 0.12)],
           fill=(*_mix(acc, light, 0.2), 255), width=max(2, int(s * 0.06)), joint="curve")


def _confetti(d, zw, zh, pal, rng):
    cols = [_rgb(pal.accent), _rgb(pal.light), _rgb(pal.primary) * 1.4]
    for _ in range(60):
        x, y = rng.uniform(0, zw), rng.uniform(0, zh)
        r = min(zw, zh) * rng.uniform(0.01, 0.03)
        col = _mix(cols[int(rng.integers(0, 3))], cols[1], 0.1)
        if rng.random() < 0.5:
            d.ellipse([x - r, y - r, x + r, y + r], fill=(*col, 220))
        else:
            d.rounded_rectangle([x - r, y - r * 0.4, x + r, y + r * 0.4], radius=r * 0.3, fill=(*col, 220))


def _feather(zone, w: int, h: int) -> np.ndarray:
    """Alpha ramp that fades the motif out towards zone edges inside the canvas (no hard rectangle)."""
    x0, y0, x1, y1 = zone
    zw, zh = x1 - x0, y1 - y0
    fx, fy = np.ones(zw, np.float32), np.ones(zh, np.float32)
    rx, ry = max(1, int(zw * 0.18)), max(1, int(zh * 0.18))
    ramp_x, ramp_y = np.linspace(0, 1, rx, dtype=np.float32), np.linspace(0, 1, ry, dtype=np.float32)
    if x0 > 0:
        fx[:rx] *= ramp_x
    if x1 < w:
        fx[-rx:] *= ramp_x[::-1]
    if y0 > 0:
        fy[:ry] *= ramp_y
    if y1 < h:
        fy[-ry:] *= ramp_y[::-1]
    return np.outer(fy, fx) ** 0.8


MOTIFS = {"fields": _hills, "cards": _cards, "coins": _coins, "waves": _waves, "shield": _shield,
          "confetti": _confetti}


class ProceduralEngine(VisualEngine):
    name = "procedural"
    forkable = True

    def cache_key(self, req: VisualRequest) -> tuple:
        return (self.name, VERSION, req.width, req.height, req.palette.model_dump_json(), req.motif, req.seed,
                req.visual_zone)

    def render(self, req: VisualRequest) -> VisualResult:
        rng = np.random.default_rng([req.seed, req.width, req.height])
        w, h = req.width, req.height
        img = _smooth_base(w, h, req.palette, rng, req.visual_zone).convert("RGBA")
        if req.motif == "none":   # the layout left no room for a subject: the backdrop alone
            return VisualResult(img.convert("RGB"), {"name": self.name, "version": VERSION, "seed": req.seed,
                                                     "motif": "none"})
        x0, y0, x1, y1 = req.visual_zone
        zw, zh = max(1, x1 - x0), max(1, y1 - y0)
        layer = Image.new("RGBA", (zw, zh), (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        motif = MOTIFS.get(req.motif, _waves)
        if motif is _cards:
            motif(draw, zw, zh, req.palette, rng, layer)
        else:
            motif(draw, zw, zh, req.palette, rng)
        # soft edges (anti-aliasing) and a fade into the background at the zone's borders
        layer = layer.filter(ImageFilter.GaussianBlur(max(0.6, min(zw, zh) / 500)))
        layer.putalpha(Image.fromarray((np.asarray(layer.getchannel("A"), np.float32)
                                        * _feather(req.visual_zone, w, h)).astype(np.uint8)))
        img.alpha_composite(layer, (x0, y0))
        return VisualResult(img.convert("RGB"), {"name": self.name, "version": VERSION, "seed": req.seed,
                                                 "motif": req.motif})
