"""Embedded illustration engine: key visuals with depth from licensed vector objects, no model and no GPU.

A lit backdrop from the brand palette, a stage (a round podium, a low plinth or a field with a horizon), one hero
object with 2–4 supporting objects at different sizes and depths, soft contact shadows, a glow behind the hero and
floating accents — the soft 3D look of Chinese fintech home-page posters. The objects are Microsoft's Fluent Emoji
(MIT, vendored under assets/visuals/, rasterised by mktcli/visual/vector.py); which ones is data
(configs/visuals.yaml: per category, product words, segment, theme, or the brief's visual.objects). Everything stays
inside the layout's visual zone, which the layout keeps clear of text, plates, chips and the button.
Deterministic: one numpy Generator seeded by seed, segment and variant."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ..errors import AssetError, ConfigError
from ..paths import cache_root, configs_dir
from ..yamlio import load_yaml
from .base import VisualEngine, VisualRequest, VisualResult
from .vector import objects, raster

VERSION = "3"   # 2: the floor under a UI zone eases in at its top; 3: the glow kept inside the zone, blur included
# objects are rasterised at one of these heights (px) and resized: a few rasterisations per object, ever — the
# rasters are kept on disk (cache_dir()), since the objects' soft shading (SVG filters) costs 0.05–1 s to rasterise
MASTERS = (192, 384, 768)


# ---------------------------------------------------------------------------------------------- the cast
@dataclass
class Cast:
    stage: str
    hero: str
    support: list[str]
    accents: list[str]
    theme: str | None = None
    accent_colors: list[str] = field(default_factory=list)
    source: str = "category"          # what decided the hero: objects | theme | segment | product | category
    notes: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        d: dict[str, Any] = {"stage": self.stage, "objects": [self.hero, *self.support], "accents": self.accents,
                             "cast_from": self.source}
        if self.theme:
            d["theme"] = self.theme
        return d


@lru_cache(maxsize=1)
def visuals_config() -> dict[str, Any]:
    path = configs_dir() / "visuals.yaml"
    data = load_yaml(path, what="visuals").data
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise ConfigError("expected a 'categories:' mapping", file=path, line=1)
    return data


def themes() -> list[str]:
    return sorted(str(k) for k in (visuals_config().get("themes") or {}))


def _match(rules: list[dict], text: str) -> dict | None:
    return next((r for r in rules or [] if any(str(w) in text for w in r.get("match", []))), None)


def theme_for(words: str) -> str | None:
    """The theme whose words (configs/visuals.yaml themes.<name>.match) the text contains — the one named first in
    it (秋收备耕: 秋收) — or None."""
    best = None
    for name, th in (visuals_config().get("themes") or {}).items():
        for w in th.get("match", []):
            at = words.find(str(w))
            if at >= 0 and (best is None or at < best[0]):
                best = (at, str(name))
    return best[1] if best else None


def _stable(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def choose_cast(category: str, product: str = "", segment: str = "", theme: str | None = None,
                objects: tuple[str, ...] | None = None, variant: int = 0, seed: int = 0,
                message: str = "") -> Cast:
    """Who appears in the key visual (see configs/visuals.yaml for the order of precedence). Segments of one
    campaign differ: a segment the data does not name still gets its own turn of the hero candidates."""
    cfg = visuals_config()
    cats = cfg["categories"]
    base = cats.get(category) or cats.get("other") or next(iter(cats.values()))
    stage = base.get("stage", "podium")
    heroes, support = list(base.get("hero", [])), list(base.get("support", []))
    accents = list(base.get("accents", ["sparkles"]))
    source, notes = "category", []
    prod = _match(cfg.get("products"), product)
    if prod:
        stage = prod.get("stage", stage)
        heroes = list(prod.get("hero", heroes)) or heroes
        support = list(prod.get("support", [])) + [s for s in support if s not in prod.get("support", [])]
        source = "product"
    seg = _match(cfg.get("segments"), segment)
    if seg:
        if seg.get("hero"):
            heroes = list(seg["hero"]) + [h for h in heroes if h not in seg["hero"]]
        support = list(seg.get("support", [])) + [s for s in support if s not in seg.get("support", [])]
        source = "segment"
    elif segment and segment.split()[0] not in ("通用", "all", "全部"):
        notes.append(f"visual: no objects for segment '{segment.split()[0]}' in configs/visuals.yaml; "
                     f"{'the product' if prod else 'the ' + category + ' defaults'} used")
    colors: list[str] = []
    theme = theme or theme_for(" ".join((message, product)))
    if theme:
        th = (cfg.get("themes") or {}).get(theme) or {}
        objs = list(th.get("objects", []))
        if objs:
            heroes = objs[:1] + heroes
            support = objs[1:] + support
        accents = list(th.get("accents", accents))
        colors = list(th.get("accent_colors", []))
        source = "theme"
    if objects:
        heroes = [objects[0]]
        support = list(objects[1:]) + [s for s in support if s not in objects]
        source = "objects"
    # the hero: the variant's turn; a segment the data does not name takes a turn of its own too, so the segments
    # of a campaign do not all show the same picture
    turn = variant + (0 if seg or source in ("objects", "theme") or not segment else _stable(segment.split()[0]))
    hero = heroes[turn % len(heroes)] if heroes else "sparkles"
    rest = [s for s in dict.fromkeys(support) if s != hero]
    k = len(seg.get("support", [])) if seg else 0   # the segment's own objects stay first
    tail = rest[k:]
    if tail and turn:
        tail = tail[turn % len(tail):] + tail[:turn % len(tail)]
    return Cast(stage, hero, (rest[:k] + tail)[:4], accents[:3], theme, colors, source, notes)


# ---------------------------------------------------------------------------------------------- drawing helpers
def _rgb(h: str) -> np.ndarray:
    return np.array([int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)], dtype=np.float32)


def _mix(a, b, t: float) -> tuple[int, int, int]:
    c = np.clip(np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t, 0, 255)
    return tuple(int(round(v)) for v in c)


def cache_dir():
    """Where rasterised objects are kept between runs (paths.cache_root()/visuals; a cache: safe to delete)."""
    return cache_root() / "visuals"


@lru_cache(maxsize=256)
def _master(name: str, master: int) -> Image.Image:
    """The object rasterised at a master height: from the disk cache (keyed by the SVG's bytes and the size), else
    rasterised and stored (atomically; a cache that cannot be written is simply not used)."""
    digest = hashlib.sha256(objects()[name].path.read_bytes()).hexdigest()[:16]
    path = cache_dir() / f"{name}-{master}-{digest}.png"
    try:
        with Image.open(path) as im:
            im.load()
            return im.convert("RGBA")
    except (OSError, ValueError):
        pass
    im = raster(name, master)
    try:
        import os
        import tempfile

        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            im.save(f, "PNG")
        os.replace(tmp, path)
    except OSError:
        pass
    return im


def _object(name: str, height: int) -> Image.Image:
    """The object at `height` px (RGBA): the next master raster, resized (masters above 768 px are upscaled)."""
    height = max(4, int(height))
    master = next((m for m in MASTERS if m >= height), MASTERS[-1])
    return _resized(name, master, height)


@lru_cache(maxsize=1024)
def _resized(name: str, master: int, height: int) -> Image.Image:
    im = _master(name, master)
    if im.height == height:
        return im
    w = max(1, round(im.width * height / im.height))
    return im.resize((w, height), Image.LANCZOS)


def _backdrop(w: int, h: int, pal, zone, rng: np.random.Generator, light: tuple[float, float]) -> Image.Image:
    """A lit backdrop: a diagonal gradient from the palette, a soft spotlight where the stage is, a faint vignette.
    Smooth parts are computed at 1/8 scale and upscaled (cheap at any size)."""
    sw, sh = max(8, w // 8), max(8, h // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    u, v = xx / max(sw - 1, 1), yy / max(sh - 1, 1)
    t = np.clip(u * 0.35 + v * 0.65, 0, 1)[..., None]
    dark, prim, acc = _rgb(pal.primary_dark), _rgb(pal.primary), _rgb(pal.accent)
    img = dark * (1 - t) * 0.9 + prim * (t * 0.9 + 0.1)
    aspect = w / h
    lx, ly = light
    for cx, cy, rad, col, strength in ((lx, ly, 0.42, prim * 1.45 + 20, 0.55), (lx, ly, 0.22, acc, 0.28),
                                       (rng.uniform(0.0, 0.35), rng.uniform(0.0, 0.2), 0.5, prim * 1.25, 0.3)):
        d2 = ((u - cx) * aspect) ** 2 + (v - cy) ** 2
        a = (np.exp(-d2 / (2 * (rad * 0.55) ** 2)) * strength)[..., None]
        img = img * (1 - a) + np.clip(col, 0, 255) * a
    vig = 1 - 0.18 * np.clip(((u - 0.5) * 1.6) ** 2 + ((v - 0.5) * 1.4) ** 2, 0, 1)[..., None]
    small = Image.fromarray(np.clip(img * vig, 0, 255).astype(np.uint8), "RGB")
    return small.resize((w, h), Image.BICUBIC)


def _soft_ellipse(layer: Image.Image, box, fill, alpha: int, blur: float) -> None:
    """Composite a blurred ellipse (a shadow, a glow) onto `layer`, drawn at quarter scale within its own bounds."""
    q = 4
    x0, y0, x1, y1 = box
    pad = 3 * blur
    bx0, by0 = int(x0 - pad), int(y0 - pad)
    bw, bh = int(x1 - x0 + 2 * pad) + 1, int(y1 - y0 + 2 * pad) + 1
    m = Image.new("L", (max(1, bw // q), max(1, bh // q)), 0)
    ImageDraw.Draw(m).ellipse([(x0 - bx0) / q, (y0 - by0) / q, (x1 - bx0) / q, (y1 - by0) / q], fill=alpha)
    m = m.filter(ImageFilter.GaussianBlur(max(0.5, blur / q))).resize((bw, bh), Image.BILINEAR)
    piece = Image.new("RGBA", (bw, bh), (*fill, 0))
    piece.putalpha(m)
    W, H = layer.size
    cx0, cy0, cx1, cy1 = max(0, bx0), max(0, by0), min(W, bx0 + bw), min(H, by0 + bh)
    if cx1 > cx0 and cy1 > cy0:
        layer.alpha_composite(piece.crop((cx0 - bx0, cy0 - by0, cx1 - bx0, cy1 - by0)), (cx0, cy0))


def _podium(layer: Image.Image, cx: float, top: float, width: float, pal, rng, plinth: bool = False) -> float:
    """A lit round podium (or a low plinth) whose top ellipse is centred at (cx, top); returns the top's y."""
    ss = 2   # supersampled for smooth edges
    W, H = layer.size
    rx = width / 2
    ry = width * (0.12 if not plinth else 0.1)
    depth = width * (0.16 if not plinth else 0.07)
    pad = int(depth + 4 * ry)
    box = (int(cx - rx) - 4, int(top - ry) - 4, int(cx + rx) + 4, int(top + ry + depth) + pad // 4)
    bw, bh = box[2] - box[0], box[3] - box[1]
    big = Image.new("RGBA", (bw * ss, bh * ss), (0, 0, 0, 0))
    d = ImageDraw.Draw(big)
    ox, oy = box[0], box[1]
    prim, light, acc = _rgb(pal.primary), _rgb(pal.light), _rgb(pal.accent)

    def ell(cy, k, fill):
        d.ellipse([(cx - rx * k - ox) * ss, (cy - ry * k - oy) * ss, (cx + rx * k - ox) * ss, (cy + ry * k - oy) * ss],
                  fill=fill)

    # the side: a band from the top ellipse down to a lower one, shaded left → right
    side = Image.new("RGBA", big.size, (0, 0, 0, 0))
    sd = ImageDraw.Draw(side)
    sd.rectangle([(cx - rx - ox) * ss, (top - oy) * ss, (cx + rx - ox) * ss, (top + depth - oy) * ss], fill=(255,) * 4)
    sd.ellipse([(cx - rx - ox) * ss, (top + depth - ry - oy) * ss, (cx + rx - ox) * ss, (top + depth + ry - oy) * ss],
               fill=(255,) * 4)
    grad = np.linspace(0, 1, big.width, dtype=np.float32)
    shade = np.clip(1 - np.abs(grad - 0.38) * 1.5, 0, 1)[None, :, None]
    # the side: the palette's colour lit from the front-left, rounding away at both ends (a cylinder, not a slab)
    base_col = prim * 0.8 + light * 0.08
    cols = (base_col * (0.62 + 0.5 * shade) + light * 0.1 * shade).repeat(big.height, 0)
    side_rgb = Image.fromarray(np.clip(cols, 0, 255).astype(np.uint8), "RGB").convert("RGBA")
    side_rgb.putalpha(side.getchannel("A"))
    big.alpha_composite(side_rgb)
    # the top: lighter, with a rim of accent light
    ell(top, 1.0, (*_mix(acc, light, 0.35), 255))
    ell(top, 0.965, (*_mix(prim * 1.25, light, 0.55 if not plinth else 0.45), 255))
    ell(top + ry * 0.08, 0.8, (*_mix(prim * 1.2, light, 0.42), 255))
    small = big.resize((bw, bh), Image.LANCZOS)
    # a soft shadow where the podium meets the floor
    _soft_ellipse(layer, (cx - rx * 1.05, top + depth - ry * 0.6, cx + rx * 1.05, top + depth + ry * 1.1),
                  (0, 0, 0), 90, ry * 0.5)
    layer.alpha_composite(small, (max(0, ox), max(0, oy)) if ox >= 0 and oy >= 0 else (0, 0))
    return top


def _ground(layer: Image.Image, zone, horizon: float, pal, rng) -> None:
    """A field under a soft horizon: two rolling bands of the palette's greens and a few furrows."""
    x0, y0, x1, y1 = zone
    W, H = layer.size
    d = ImageDraw.Draw(layer)
    prim, acc, light, dark = _rgb(pal.primary), _rgb(pal.accent), _rgb(pal.light), _rgb(pal.primary_dark)
    zw = x1 - x0
    for i, (k, col) in enumerate(((0.0, _mix(prim * 1.35, acc, 0.35)), (0.32, _mix(prim * 1.15, dark, 0.2)))):
        base = horizon + (y1 - horizon) * k
        amp = (y1 - horizon) * rng.uniform(0.05, 0.12)
        ph = rng.uniform(0, math.tau)
        pts = [(x, base - amp * math.sin(1.6 * math.pi * (x - x0) / max(zw, 1) + ph))
               for x in np.linspace(x0 - 2, x1 + 2, 64)]
        d.polygon(pts + [(x1 + 2, y1 + 2), (x0 - 2, y1 + 2)], fill=(*col, 255))
        for j in range(1, 5):
            off = (y1 - base) * 0.14 * j
            d.line([(x, y + off) for x, y in pts], fill=(*_mix(col, light, 0.25), 70), width=max(1, int(zw / 400)))


def _floor(img: Image.Image, box, pal, cx: float) -> None:
    """Below the visual zone, down to the canvas edge (under a platform's UI overlay): a lit floor that fades out
    downwards, so the picture continues instead of stopping at the legal band."""
    x0, y0, x1, y1 = (int(v) for v in box)
    W = img.width
    if y1 - y0 < 4:
        return
    sw, sh = max(8, W // 8), max(4, (y1 - y0) // 8)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    u, v = xx / max(sw - 1, 1), yy / max(sh - 1, 1)
    d = np.abs(u - cx / W) * 1.6
    a = np.clip(1 - d, 0, 1) ** 1.5 * np.clip(1 - v * 0.9, 0, 1) * 0.5
    top = np.clip(v / 0.15, 0, 1)
    a = a * (top * top * (3 - 2 * top))   # eased in at its top: no bright line where the zone above ends
    col = np.clip(_rgb(pal.primary) * 1.35 + 12, 0, 255)
    layer = Image.new("RGBA", (sw, sh), (*(int(c) for c in col), 0))
    layer.putalpha(Image.fromarray((a * 255).astype(np.uint8)))
    img.alpha_composite(layer.resize((W, y1 - y0), Image.BICUBIC), (0, y0))


def _feather(zone, w: int, h: int) -> np.ndarray:
    """1 inside the zone, 0 outside, easing in over 10% of the zone's width at its sides and 16% of its height at
    its top and bottom, where those edges lie inside the canvas. A smoothstep, not a straight ramp: a linear fade
    starts with a kink the eye reads as a line (the glow behind the hero showed a hard top edge)."""
    x0, y0, x1, y1 = (int(v) for v in zone)
    fx, fy = np.zeros(w, np.float32), np.zeros(h, np.float32)
    fx[max(0, x0):min(w, x1)] = 1
    fy[max(0, y0):min(h, y1)] = 1
    rx, ry = max(1, int((x1 - x0) * 0.1)), max(1, int((y1 - y0) * 0.16))

    def ease(n: int, rising: bool) -> np.ndarray:
        t = np.linspace(0, 1, n, dtype=np.float32) if rising else np.linspace(1, 0, n, dtype=np.float32)
        return t * t * (3 - 2 * t)

    if x0 > 0:
        fx[x0:x0 + rx] *= ease(len(fx[x0:x0 + rx]), True)
    if x1 < w:
        fx[max(0, x1 - rx):x1] *= ease(len(fx[max(0, x1 - rx):x1]), False)
    if y0 > 0:
        fy[y0:y0 + ry] *= ease(len(fy[y0:y0 + ry]), True)
    if y1 < h:
        fy[max(0, y1 - ry):y1] *= ease(len(fy[max(0, y1 - ry):y1]), False)
    return np.outer(fy, fx)


# ---------------------------------------------------------------------------------------------- composition
class IllustrationEngine(VisualEngine):
    name = "illustration"
    forkable = True

    def cache_key(self, req: VisualRequest) -> tuple:
        return (self.name, VERSION, req.width, req.height, req.palette.model_dump_json(), req.category, req.product,
                req.segment, req.theme, req.objects, req.seed, req.variant, req.visual_zone, req.motif == "none",
                req.bleed)

    def render(self, req: VisualRequest) -> VisualResult:
        w, h = req.width, req.height
        salt = int(hashlib.sha256(f"{req.segment}|{req.variant}".encode()).hexdigest()[:8], 16)
        rng = np.random.default_rng([req.seed, w, h, salt])
        cast = choose_cast(req.category, req.product or "", req.segment or "", req.theme, req.objects,
                           req.variant, req.seed, req.message)
        x0, y0, x1, y1 = req.visual_zone
        zone_ok = req.motif != "none" and (x1 - x0) > 8 and (y1 - y0) > 8
        # the spotlight falls where the objects stand; with no room for them, high on the right, away from the text
        light = (((x0 + x1) / 2) / w, ((y0 + y1) / 2 - (y1 - y0) * 0.1) / h) if zone_ok else (0.7, 0.3)
        pal = req.palette
        if cast.accent_colors:   # a theme tints the light (春节 red-gold, 中秋 gold-navy …)
            pal = pal.model_copy(update={"accent": cast.accent_colors[-1]})
        # the backdrop depends on the seed and size only: every segment of a campaign shares its light
        img = _backdrop(w, h, pal, req.visual_zone, np.random.default_rng([req.seed, w, h]), light).convert("RGBA")
        info = {"name": self.name, "version": VERSION, "seed": req.seed, **cast.info()}
        if not zone_ok:   # the layout left no room for a subject: the lit backdrop alone
            info.update(objects=[], stage="none")
            return VisualResult(img.convert("RGB"), info)
        zone = (x0, y0, x1, y1)
        group = _arrange(zone, cast, mirror=bool(req.variant % 2))
        if group is None:
            info.update(objects=[], stage="none")
            return VisualResult(img.convert("RGB"), info)
        items, floor, hero_h, stage = group
        info.update(objects=[cast.hero] + [n for n, *_ in items if n != cast.hero], stage=stage)
        fx = Image.new("RGBA", (w, h), (0, 0, 0, 0))     # light, stage and accents: fade out at the zone's edges
        cx = next(bx for n, bx, *_ in items if n == cast.hero)
        # the glow stays inside the zone, its blur included: the zone's feathered edges (10-16% of its size) cut a
        # glow that runs past them into a lit box around the hero, with a hard top edge on a short zone (a 4:5
        # video's picture under its text). So the blur is capped by the zone's size, and the ellipse is pulled in
        # until its blurred edge fades out before the zone's does.
        blur = min(hero_h * 0.85 * 0.5, (y1 - y0) * 0.1, (x1 - x0) * 0.08)
        half = min(cx - x0, x1 - cx) - 2.2 * blur
        glow_r = min(hero_h * 0.85, (x1 - x0) * 0.42, half)
        top, bot = floor - hero_h * 1.05 - glow_r * 0.6, floor - hero_h * 0.2 + glow_r * 0.3
        top = max(top, y0 + 2.2 * blur)
        bot = min(bot, y1 - 2.2 * blur)
        if bot - top >= hero_h * 0.3 and glow_r > hero_h * 0.2:
            _soft_ellipse(fx, (cx - glow_r, top, cx + glow_r, bot), _mix(_rgb(pal.accent), _rgb(pal.light), 0.4),
                          120, blur)
        xs = [bx - ow / 2 for _, bx, _, ow, _ in items] + [bx + ow / 2 for _, bx, _, ow, _ in items]
        if stage == "ground":
            _ground(fx, zone, floor - hero_h * 0.12, pal, rng)
        elif stage in ("podium", "plinth"):
            # whole inside the zone (its floor shadow too): a podium cut by the zone's edge reads as a slab
            width = min((x1 - x0) * 0.86, (max(xs) - min(xs)) * 1.12)
            half = width / 2 * 1.06
            pcx = min(max((min(xs) + max(xs)) / 2, x0 + half), x1 - half)
            _podium(fx, pcx, floor - hero_h * 0.02, width, pal, rng, plinth=stage == "plinth")
        # the objects — whole, never faded or cut: the group was sized to sit inside the zone's margins
        obj_layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        boxes = []
        for name, bx, bottom, ow, oh in items:
            obj = _object(name, oh)
            ox, oy = int(round(bx - obj.width / 2)), int(round(bottom - obj.height))
            sw = obj.width * 0.82
            _soft_ellipse(obj_layer, (bx - sw / 2, bottom - sw * 0.07, bx + sw / 2, bottom + sw * 0.07),
                          (0, 0, 0), 100, sw * 0.06)
            obj_layer.alpha_composite(obj, (ox, oy))
            boxes.append((ox, oy, ox + obj.width, oy + obj.height))
        # a few floating accents, sharp, off every object and off the stage
        n_acc = min(5, max(2, int((x1 - x0) * (y1 - y0) / (hero_h * hero_h * 0.9))))
        for k in range(n_acc):
            name = cast.accents[k % len(cast.accents)]
            size = hero_h * rng.uniform(0.09, 0.15)
            for _ in range(16):
                ax = rng.uniform(x0 + size, x1 - size)
                ay = rng.uniform(y0 + size, floor - hero_h * 0.4)
                if not any(b[0] - size < ax < b[2] + size and b[1] - size < ay < b[3] + size for b in boxes):
                    break
            else:
                continue
            try:
                acc = _object(name, max(6, int(size)))
            except AssetError:
                continue
            acc = acc.rotate(rng.uniform(-20, 20), resample=Image.BICUBIC, expand=True)
            fx.alpha_composite(acc, (int(ax - acc.width / 2), int(ay - acc.height / 2)))
        if req.bleed and req.bleed > y1:   # a platform's UI covers the bottom: the floor runs on beneath it
            _floor(img, (x0, y1, x1, req.bleed), pal, cx)
        zb = (max(0, int(x0)), max(0, int(y0)), min(w, int(x1)), min(h, int(y1)))
        part = fx.crop(zb)
        a = np.asarray(part.getchannel("A"), np.float32) * _feather(zone, w, h)[zb[1]:zb[3], zb[0]:zb[2]]
        part.putalpha(Image.fromarray(a.astype(np.uint8)))
        backdrop = img.convert("RGB")   # before the stage and the objects: a video moves them apart (parallax)
        objs = obj_layer.crop(zb)
        img.alpha_composite(part, zb[:2])
        img.alpha_composite(objs, zb[:2])
        info["notes"] = cast.notes or None
        if not info["notes"]:
            info.pop("notes")
        planes = [("backdrop", backdrop, (0, 0), 0.0), ("stage", part, zb[:2], 0.45), ("objects", objs, zb[:2], 1.0)]
        return VisualResult(img.convert("RGB"), info, planes=planes)


# the size of a supporting object beside the hero, by what it is (a building stands taller than a person, a person
# than a cup): the first of its tags found here
KIND_SCALE = (("bank", 0.82), ("home", 0.7), ("shop", 0.7), ("vehicle", 0.72), ("travel", 0.66),
              ("people", 0.6), ("livestock", 0.55), ("crops", 0.55), ("insurance", 0.6), ("nature", 0.5))
SMALL_SCALE = 0.42    # cups, coins, phones, keys, parcels …
BUILDINGS = {"bank", "house", "house-with-garden", "houses", "office-building", "convenience-store",
             "department-store", "hospital", "school", "factory"}


def _kind_scale(name: str) -> float:
    if name in BUILDINGS:
        return 0.86
    tags = set(objects()[name].tags) if name in objects() else set()
    return next((k for t, k in KIND_SCALE if t in tags), SMALL_SCALE)


def _arrange(zone, cast: Cast, mirror: bool):
    """The group on its stage: the hero in the middle, supporting objects beside it, alternating sides, each sized
    by what it is and overlapping its neighbour by at most 12% of its width; outer ones are dropped before the
    group shrinks, and the whole group sits inside the zone with a 4% margin. Small zones get the hero alone, without
    a stage. Returns ([(name, centre x, foot y, width, height)], floor y, hero height, stage) or None."""
    x0, y0, x1, y1 = zone
    zw, zh = x1 - x0, y1 - y0
    mx, my = 0.04 * zw, 0.04 * zh
    aw, ah = zw - 2 * mx, zh - 2 * my
    known = objects()
    names = [n for n in [cast.hero, *cast.support] if n in known]
    if not names or cast.hero not in known:
        return None
    small = min(zw, zh) < 110
    # a tall, narrow zone (a wide banner's picture slot beside its text) shows the hero alone, large, rather
    # than a row of thumbnails
    alone = small or zh > zw * 1.25
    stage = "none" if small else cast.stage
    hero_h = ah * (0.62 if stage != "none" else 0.86)
    hero_h = min(hero_h, aw / max(known[cast.hero].aspect, 0.3) * (0.9 if alone else 0.5))
    if hero_h < 12:
        return None

    def widths(sel: list[str], hh: float) -> list[tuple[str, float, float]]:
        out = []
        for i, n in enumerate(sel):
            k = 1.0 if i == 0 else _kind_scale(n)
            oh = hh * k
            out.append((n, oh * known[n].aspect, oh))
        return out

    support = [] if alone else names[1:]
    sel = [names[0], *support[:4]]
    while True:
        ws = widths(sel, hero_h)
        overlap = 0.12
        total = sum(w for _, w, _ in ws) - overlap * sum(w for _, w, _ in ws[1:])
        if total <= aw or len(sel) <= 2:
            break
        sel = sel[:-1]          # the outermost supporting object makes way before the group shrinks
    if total > aw:
        hero_h *= aw / total
        ws = widths(sel, hero_h)
    floor = y0 + my + ah - (ah - hero_h) * (0.22 if stage != "none" else 0.5)
    if zh > zw * 1.25:          # a tall, narrow zone: the group sits around its middle, not at its foot
        floor = y0 + zh / 2 + hero_h * 0.5
    cx = x0 + zw / 2
    hero_w = ws[0][1]
    items = [(ws[0][0], cx, floor, hero_w, ws[0][2])]
    left_edge, right_edge = cx - hero_w / 2, cx + hero_w / 2
    side = -1 if mirror else 1
    for n, ow, oh in ws[1:]:
        if side > 0:
            bx = right_edge + ow / 2 - overlap * ow
            right_edge = bx + ow / 2
        else:
            bx = left_edge - ow / 2 + overlap * ow
            left_edge = bx - ow / 2
        items.append((n, bx, floor + oh * 0.04, ow, oh))
        side = -side
    # centre the whole group in the zone, inside its margins
    shift = (x0 + mx + aw / 2) - (left_edge + right_edge) / 2
    items = [(n, bx + shift, ft, ow, oh) for n, bx, ft, ow, oh in items]
    # back to front: the supporting objects behind, the hero, then nothing in front (no object over the hero)
    items = items[1:] + items[:1]
    return items, floor, hero_h, stage
