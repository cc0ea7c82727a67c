"""A poster's frames in motion, composed from what was already painted once: the key visual's planes and the
recorded text layers (compose/layers.py) as cached RGBA sprites. Nothing is typeset per frame.

A frame is the picture under a slow camera (each plane scaled and shifted by its depth: parallax), then the overlay
of text blocks. While no block is entering or leaving, the overlay is one cached image; while one is, it is rebuilt
from the sprites (a dozen small pastes). Once everything is in, the button's pulse, the light sweeps and the beats
(a chip in its spotlight: scaled, in a halo of its own tint cached once; the rate plate's pulse) are drawn on their
own over the cached overlay (a few small pastes). The camera keeps moving until the end card has taken over;
the end card (endcard.py) is its own set of sprites over its own backdrop (or over the picture, on a tall video whose
picture runs on under the feed's UI), with the poster's legal band unmoved. The cover is the poster as approved: the
clip shows it, whole, before the end card."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from PIL import Image

from ..compose.layers import Layer
from .endcard import KEPT, EndCard
from .timeline import (
    CONTAINERS,
    END_PREFIX,
    Beat,
    Live,
    ease_in_out_sine,
    ease_out_back,
    ease_out_cubic,
    end_card_seconds,
    group_of,
    plan_end_card,
    plan_spots,
    plan_timeline,
)

Box = tuple[int, int, int, int]
PAD = 2    # transparent margin around each sprite: a resampling box may reach a pixel past its edge


@dataclass
class Sprite:
    group: str
    image: Image.Image           # RGBA, padded by PAD on every side
    x: int                       # where the unpadded image's top-left goes on the canvas
    y: int
    kind: str = "text"           # the layer's kind: text | shape | image

    @property
    def box(self) -> Box:
        return (self.x, self.y, self.x + self.image.width - 2 * PAD, self.y + self.image.height - 2 * PAD)


@dataclass
class Plane:
    name: str
    image: Image.Image           # RGB (the backdrop, full canvas) or RGBa (premultiplied) padded by PAD
    x: int
    y: int
    depth: float


def _tight(name: str, im: Image.Image, x: int, y: int, depth: float) -> "Plane | None":
    """A plane cut to what it covers (the engine's planes are the size of the whole visual zone, mostly empty: each
    frame resamples and pastes only the part that shows), padded."""
    im = im.convert("RGBA")
    bb = im.getchannel("A").getbbox()
    if bb is None:
        return None
    # kept premultiplied (RGBa): Pillow resamples RGBA through RGBa anyway, so each frame converts only the result
    return Plane(name, _padded(im.crop(bb)).convert("RGBa"), x + bb[0], y + bb[1], depth)


def _padded(im: Image.Image) -> Image.Image:
    out = Image.new("RGBA", (im.width + 2 * PAD, im.height + 2 * PAD), (0, 0, 0, 0))
    out.paste(im.convert("RGBA"), (PAD, PAD))
    return out


@dataclass
class Camera:
    """A slow push from the start framing to the poster's own (identity at the end): each plane moves by its depth,
    the far backdrop (depth 0: the lit gradient of the illustration engine) not at all — the stage and the objects
    move apart against it (parallax), and the frame costs two small resamples instead of a full-canvas one.
    Focus: the picture's floor (the middle of the layout's visual zone's bottom edge): the push grows the picture up
    and sideways, never down over the small print under it."""

    focus: tuple[float, float]
    zoom: float = 0.16           # the nearest plane starts 16% larger: a push-in the eye follows
    drift: tuple[float, float] = (0.6, -0.3)   # start offset, as a share of how far each plane may travel

    def at(self, u: float, depth: float, W: int, H: int) -> tuple[float, float, float]:
        """(scale, dx, dy) of a plane of `depth` at camera progress u (0 … 1)."""
        left = 1 - ease_in_out_sine(u)
        s = 1 + self.zoom * depth * left
        cx, cy = self.focus
        # the travel allowed keeps a full-canvas plane covering the canvas (no edge shows)
        room_x, room_y = (s - 1) * min(cx, W - cx), (s - 1) * min(cy, H - cy)
        return s, self.drift[0] * room_x, self.drift[1] * room_y


def _scaled(src: Image.Image, x: float, y: float, s: float, dx: float, dy: float, c: tuple[float, float],
            W: int, H: int) -> tuple[Image.Image, tuple[int, int]] | None:
    """`src` (padded by PAD, unpadded top-left at x, y) scaled by s about c and moved by (dx, dy), resampled at
    sub-pixel precision into the integer canvas rectangle it covers."""
    w, h = src.width - 2 * PAD, src.height - 2 * PAD
    cx, cy = c
    fx0, fy0 = cx + (x - cx) * s + dx, cy + (y - cy) * s + dy
    X0, Y0 = max(0, math.floor(fx0)), max(0, math.floor(fy0))
    X1, Y1 = min(W, math.ceil(fx0 + w * s)), min(H, math.ceil(fy0 + h * s))
    if X1 <= X0 or Y1 <= Y0:
        return None
    # canvas → source: (X - fx0) / s, plus the padding
    box = ((X0 - fx0) / s + PAD, (Y0 - fy0) / s + PAD, (X1 - fx0) / s + PAD, (Y1 - fy0) / s + PAD)
    box = (max(0.0, box[0]), max(0.0, box[1]), min(src.width, box[2]), min(src.height, box[3]))
    return src.resize((X1 - X0, Y1 - Y0), Image.BILINEAR, box=box), (X0, Y0)


def _faded(im: Image.Image, opacity: float) -> Image.Image:
    if opacity >= 1:
        return im
    lut = [int(v * opacity + 0.5) for v in range(256)]
    out = im.copy()
    out.putalpha(im.getchannel("A").point(lut))
    return out


@dataclass
class EndPhase:
    """The end card in the clip: from `start` the poster's message blocks make way (over `fade` seconds) and the
    picture gives way to the end card's backdrop, while the end card's blocks come in (their own beats)."""

    start: float
    fade: float
    base: Image.Image            # the end card's backdrop, the whole canvas
    blocks: list = field(default_factory=list)   # what the end card placed (manifest, read-back)
    layout: str = ""
    keep_picture: bool = False   # the picture stays (and keeps moving) under the end card


SPOT_CHIP = 0.15   # a chip in the spotlight: 15% larger at the top of its beat
SPOT_HERO = 0.07   # the rate plate's pulse: 7%


def _solid_colour(im: Image.Image) -> tuple[int, int, int]:
    """The mean colour of an RGBA sprite's solid pixels (a chip's fill, with its words)."""
    import numpy as np

    a = np.asarray(im.convert("RGBA"))
    solid = a[..., 3] > 230
    if not solid.any():
        solid = a[..., 3] > 0
    if not solid.any():
        return (255, 255, 255)
    return tuple(int(v) for v in a[solid][:, :3].mean(axis=0))


def _shine_band(h: int, width: int) -> Image.Image:
    """A soft diagonal band of light (L), `width` px across, for a box `h` px tall: swept across a button or a plate."""
    import numpy as np

    slant = 0.45 * h
    w = int(width + slant) + 2
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    d = (xs - (slant * (1 - ys / max(1, h - 1))) - width / 2) / (width / 2)
    a = np.clip(1 - d * d, 0, 1) ** 1.5
    return Image.fromarray((a * 255).astype("uint8"))


@dataclass(frozen=True)
class Reveal:
    """A text card that unfolds with what it holds: at first just tall enough for the headline, then growing
    downwards ahead of each block that enters on it, so it is never an empty panel waiting for its words.
    `steps`: (from s, to s, bottom y) — the card body's bottom edge eases to `bottom` over that time."""

    group: str
    full: float                  # the card body's bottom (canvas y) when whole
    start: float                 # … at t = 0
    steps: tuple[tuple[float, float, float], ...]
    edge: int                    # px of the sprite's bottom kept whole: the rounded corners and the shadow

    def bottom(self, t: float) -> float:
        y = self.start
        for t0, t1, to in self.steps:
            if t >= t1:
                y = to
            elif t > t0:
                y = y + (to - y) * ease_in_out_sine((t - t0) / (t1 - t0))
                break
            else:
                break
        return y

    def done(self, t: float) -> bool:
        return not self.steps or t >= self.steps[-1][1]

    def cut(self, im: Image.Image, t: float) -> Image.Image:
        """The card sprite (padded) shortened so that its body ends at bottom(t): its top part, then its own
        bottom edge moved up, so it reads as a whole, shorter card."""
        hp = im.height
        short = int(round(self.full - self.bottom(t)))
        if short <= 0:
            return im
        keep = hp - short
        edge = min(self.edge + PAD, keep)
        out = im.crop((0, 0, im.width, keep))
        out.paste(im.crop((0, hp - edge, im.width, hp)), (0, keep - edge))
        return out


@dataclass
class MotionScene:
    """Everything a frame needs, prepared once per clip."""

    W: int
    H: int
    fps: int
    n_frames: int
    planes: list[Plane]
    sprites: list[Sprite]
    beats: dict[str, Beat]
    camera: Camera
    poster: Image.Image          # the flat poster (the cover): the poster's state just before the end card
    background: Image.Image | None = None   # the key visual without text (what an image-to-video model animates)
    moving_picture: list[Image.Image] | None = None   # the model's frames, if one animated the picture (i2v.py)
    live: Live | None = None     # what keeps moving once everything is in
    end: EndPhase | None = None  # the end card, if the canvas holds one
    reveal: Reveal | None = None  # a text card that unfolds with its contents
    safe: Box | None = None      # the channel's safe area: a block in the spotlight grows inside it, never past it
    _overlay: dict = field(default_factory=dict, repr=False)
    _shine: dict = field(default_factory=dict, repr=False)
    _still: Image.Image | None = field(default=None, repr=False)

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def t(self, i: int) -> float:
        return i / self.fps

    @property
    def camera_end(self) -> float:
        """The camera moves until the end card has taken over (else to the last frame)."""
        if self.end is not None:
            return self.end.start + self.end.fade
        return (self.n_frames - 1) / self.fps

    def frame(self, i: int, without: tuple[str, ...] = ()) -> Image.Image:
        """Frame i; `without`: leave these groups' text out (what a contrast check measures the text against)."""
        t = self.t(i)
        img = self._base(i, t)
        live = self._live_groups(t)
        ov, box = self._overlay_at(t, without, tuple(live))
        if ov is not None:
            img.paste(ov, box[:2], ov)
        for g in live:
            self._draw_live(img, g, t, without)
        return img

    def _base(self, i: int, t: float) -> Image.Image:
        """The picture at t: the camera on the key visual, then the end card's backdrop."""
        end = self.end
        a = 0.0 if end is None or end.keep_picture or t < end.start else min(1.0, (t - end.start) / end.fade)
        if a >= 1:
            return end.base.copy()
        if self.moving_picture is not None:
            img = self.moving_picture[min(i, len(self.moving_picture) - 1)].convert("RGB").copy()
        elif end is not None and t >= self.camera_end:   # the picture under the end card: the camera has arrived
            if self._still is None:
                self._still = self._picture(1.0)
            img = self._still.copy()
        else:
            # the camera's progress: eased in and out, but never at rest before the end card (over half of the
            # motion is linear), so the picture keeps moving while the poster is on screen
            u = min(1.0, t / self.camera_end) if self.camera_end > 0 else 1.0
            img = self._picture(0.55 * u + 0.45 * ease_in_out_sine(u))
        if a > 0:
            img = Image.blend(img, end.base, ease_in_out_sine(a))
        return img

    def _picture(self, u: float) -> Image.Image:
        W, H = self.W, self.H
        out: Image.Image | None = None
        c = self.camera.focus
        for p in self.planes:
            s, dx, dy = self.camera.at(u, p.depth, W, H)
            if out is None and s == 1 and not dx and not dy:   # the far backdrop (depth 0) stands still
                out = p.image.copy()
                continue
            if out is None:   # a one-plane picture: the canvas region it shows, resampled to the canvas
                box = ((0 - dx - c[0]) / s + c[0], (0 - dy - c[1]) / s + c[1],
                       (W - dx - c[0]) / s + c[0], (H - dy - c[1]) / s + c[1])
                box = (max(0.0, box[0]), max(0.0, box[1]), min(W, box[2]), min(H, box[3]))
                out = p.image.resize((W, H), Image.BILINEAR, box=box)
                continue
            r = _scaled(p.image, p.x, p.y, s, dx, dy, c, W, H)
            if r is not None:
                piece = r[0].convert("RGBA") if r[0].mode == "RGBa" else r[0]
                out.paste(piece, r[1], piece)
        assert out is not None
        return out

    def _live_groups(self, t: float) -> list[str]:
        """The groups drawn on their own at t (a pulse or a light sweep is on them), not from the cached overlay."""
        lv = self.live
        if lv is None:
            return []
        out = []
        for g in ("hero", "cta", END_PREFIX + "hero", END_PREFIX + "cta"):
            b = self.beats.get(g)
            if b is None or b.progress(t) < 1 or b.presence(t) < 1:
                continue
            base = g.removeprefix(END_PREFIX)
            if (base == "cta" and lv.pulse_scale(t) != 1.0) or self._sweep(t, g) is not None \
                    or lv.spot(t, g) > 0:
                out.append(g)
        for g, a, b_ in lv.spots:
            if g not in out and a <= t < b_ and g in self.beats and lv.spot(t, g) > 0 \
                    and self.beats[g].progress(t) >= 1 and self.beats[g].presence(t) >= 1:
                out.append(g)
        return out

    def _overlay_at(self, t: float, without: tuple[str, ...] = (), live: tuple[str, ...] = ()
                    ) -> tuple[Image.Image | None, Box]:
        """The text overlay at time t (the live groups left out) and where it goes: cached while nothing moves."""
        state = tuple((g, round(b.progress(t), 4), round(b.presence(t), 4)) for g, b in self.beats.items()
                      if g not in live) + (without, live)
        moving = any(0 < p < 1 or 0 < q < 1 for _, p, q in state[:-2])
        rv = self.reveal if self.reveal is not None and not self.reveal.done(t) else None
        if rv is not None:
            moving = True
        if not moving and state in self._overlay:
            return self._overlay[state]
        shown = []
        for sp in self.sprites:
            b = self.beats[sp.group]
            if sp.group in live or (sp.group in without and sp.kind == "text"):
                continue
            prog, pres = b.progress(t), b.presence(t)
            if (prog > 0 or b.motion in ("settle", "open")) and pres > 0:   # the message is there from frame 0
                shown.append((sp, prog, pres))
        if not shown:
            res: tuple[Image.Image | None, Box] = (None, (0, 0, 0, 0))
        else:
            x0, y0 = min(sp.box[0] for sp, _, _ in shown), min(sp.box[1] for sp, _, _ in shown)
            x1, y1 = max(sp.box[2] for sp, _, _ in shown), max(sp.box[3] for sp, _, _ in shown)
            grow = int(0.04 * self.H) + 2   # room for a block rising in from below, or popping larger
            x0, y0, x1, y1 = max(0, x0 - grow), max(0, y0 - grow), min(self.W, x1 + grow), min(self.H, y1 + grow)
            ov = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
            for sp, prog, pres in shown:
                if rv is not None and sp.group == rv.group and sp.kind == "shape":
                    sp = Sprite(sp.group, rv.cut(sp.image, t), sp.x, sp.y, sp.kind)
                self._draw(ov, (x0, y0), sp, self.beats[sp.group], prog, pres)
            bb = ov.getbbox()
            res = (ov.crop(bb), (x0 + bb[0], y0 + bb[1], x0 + bb[2], y0 + bb[3])) if bb else (None, (0, 0, 0, 0))
        if not moving:
            self._overlay[state] = res
        return res

    def _draw(self, ov: Image.Image, origin: tuple[int, int], sp: Sprite, beat: Beat, prog: float,
              pres: float = 1.0) -> None:
        ox, oy = origin
        if (prog >= 1 or beat.motion == "static") and pres >= 1:
            ov.alpha_composite(sp.image, (sp.x - PAD - ox, sp.y - PAD - oy))
            return
        if prog >= 1 or beat.motion == "static":   # making way for the end card: fading, drifting up a little
            e = ease_out_cubic(1 - pres)
            im = _faded(sp.image, pres)
            r = _scaled(im, sp.x, sp.y - 0.012 * self.H * e, 1.0, 0, 0, (0, 0), self.W, self.H)
        elif beat.motion in ("rise", "card", "settle"):
            e = ease_out_cubic(prog)
            if beat.motion == "settle":   # the message: legible from the first frame, settling into place
                lift, fade = 0.012 * self.H * (1 - e), 1.0
            else:
                lift, fade = (0.03 if beat.motion == "rise" else 0.05) * self.H * (1 - e), min(1.0, prog * 1.6)
            im = _faded(sp.image, fade * pres)
            r = _scaled(im, sp.x, sp.y + lift, 1.0, 0, 0, (0, 0), self.W, self.H)
        elif beat.motion == "open":   # the rate at frame 0: whole and opaque, growing from 90% into place
            e = ease_out_back(prog, 1.1)
            s = 0.9 + 0.1 * e
            bx = sp.box
            c = ((bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2)
            r = _scaled(_faded(sp.image, pres), sp.x, sp.y, s, 0, 0, c, self.W, self.H)
        else:   # pop: grows from 80% about its centre with a small overshoot
            e = ease_out_back(prog)
            s = 0.8 + 0.2 * e
            bx = sp.box
            c = ((bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2)
            im = _faded(sp.image, min(1.0, prog * 2.2) * pres)
            r = _scaled(im, sp.x, sp.y, s, 0, 0, c, self.W, self.H)
        if r is not None:
            piece, (px, py) = r
            ov.alpha_composite(piece, (px - ox, py - oy))

    def _draw_live(self, img: Image.Image, g: str, t: float, without: tuple[str, ...]) -> None:
        """A settled group with a pulse (the button) or a light sweep on it, drawn straight onto the frame: its
        sprites scaled about the group's centre, the sweep over its surfaces (the button, the plate), under its
        words."""
        lv = self.live
        base = g.removeprefix(END_PREFIX)
        s = lv.pulse_scale(t) if base == "cta" else 1.0
        sweep = self._sweep(t, g)
        spot = lv.spot(t, g)
        if spot > 0:   # a beat: a chip grows 15% in a halo with a bar under it; the rate plate swells 7%
            s = 1 + (SPOT_HERO if base == "hero" else SPOT_CHIP) * spot
        sps = [sp for sp in self.sprites if sp.group == g]
        if not sps:
            return
        # the group's own box: its words and surfaces, not a soft shadow that runs the canvas's width (the rate
        # plate's): scaled about that, a left-aligned plate slid off-centre and was shifted to the frame's edge
        core = [sp for sp in sps if sp.kind == "text" or sp.box[2] - sp.box[0] < self.W * 0.95] or sps
        x0, y0 = min(sp.box[0] for sp in core), min(sp.box[1] for sp in core)
        x1, y1 = max(sp.box[2] for sp in core), max(sp.box[3] for sp in core)
        c = ((x0 + x1) / 2, (y0 + y1) / 2)
        dx = self._inside(x0, x1, s)
        if spot > 0 and base != "hero":
            self._spotlight(img, g, core, (x0, y0, x1, y1), s, spot, dx)
        for sp in sps:
            if sp.group in without and sp.kind == "text":
                continue
            if s == 1.0:
                piece, xy = sp.image, (sp.x - PAD, sp.y - PAD)
            else:
                r = _scaled(sp.image, sp.x, sp.y, s, dx, 0, c, self.W, self.H)
                if r is None:
                    continue
                piece, xy = r
            img.paste(piece, xy, piece)
            if sweep is not None and sp.kind == "shape":
                glow = self._glow(sp, piece, sweep)
                if glow is not None:
                    img.paste((255, 255, 255), xy, glow)

    def _sweep(self, t: float, g: str) -> float | None:
        """The light sweep across group g at t (0 … 1), or None. Never across the end card's rate: a sheen over the
        figure in the clip's last second is what a viewer (and the read-back) must not get."""
        if self.live is None or g == END_PREFIX + "hero":
            return None
        return self.live.sweep(t, g.removeprefix(END_PREFIX))

    def _inside(self, x0: float, x1: float, s: float) -> float:
        """How far a block x0 … x1 scaled by s about its centre moves sideways to stay inside the safe area (a
        chip at the row's end grew past the margin, under the platform's buttons)."""
        if s <= 1.0 or self.safe is None:
            return 0.0
        c, half = (x0 + x1) / 2, (x1 - x0) * s / 2
        lo, hi = self.safe[0], self.safe[2]
        if hi - lo < 2 * half:   # wider than the safe area either way: it stays where the layout put it
            return 0.0
        return max(lo - (c - half), 0.0) + min(hi - (c + half), 0.0)

    def _spotlight(self, img: Image.Image, g: str, sps: list[Sprite], box: Box, s: float, k: float,
                   dx: float = 0.0) -> None:
        """A chip's spotlight under it at strength k (0 … 1): a soft halo in a light tint of the chip's own colour
        around it, and a bar of that tint under it that grows from the centre, both scaled with the chip."""
        from PIL import ImageFilter

        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        if ("spot", g) not in self._shine:
            m = max(6, int(0.45 * h))
            mask = Image.new("L", (w + 2 * m, h + 2 * m), 0)
            for sp in sps:
                mask.paste(255, (sp.x - PAD - x0 + m, sp.y - PAD - y0 + m), sp.image.getchannel("A"))
            halo = mask.filter(ImageFilter.GaussianBlur(0.3 * h)).point(lambda v: min(255, v * 5 // 2) * 90 // 100)
            src = next((sp for sp in sps if sp.kind == "shape"), sps[0]).image
            col = _solid_colour(src)
            tint = tuple(int(v + (255 - v) * 0.45) for v in col)
            glow = Image.new("RGBA", halo.size, tint + (0,))
            glow.putalpha(halo)
            self._shine[("spot", g)] = (_padded(glow), m, tint)
        glow, m, tint = self._shine[("spot", g)]
        c = ((x0 + x1) / 2, (y0 + y1) / 2)
        r = _scaled(_faded(glow, k), x0 - m, y0 - m, s, dx, 0, c, self.W, self.H)
        if r is not None:
            img.paste(r[0], r[1], r[0])
        bw, bh = w * s * k, max(3, round(0.07 * h))
        by = c[1] + h * s / 2 + max(4, 0.12 * h)
        if by + bh < self.H and bw >= 2:
            img.paste(tint, (round(c[0] + dx - bw / 2), round(by), round(c[0] + dx + bw / 2), round(by + bh)))

    def _glow(self, sp: Sprite, piece: Image.Image, x: float) -> Image.Image | None:
        """The light sweep's mask over a surface at position x (0 … 1): a soft diagonal band, only where the
        surface is solid (not its shadow)."""
        from PIL import ImageChops

        w, h = piece.size
        key = (id(sp), w, h)
        if key not in self._shine:
            solid = piece.getchannel("A").point(lambda a: 0 if a < 235 else 255)
            bb = solid.getbbox()
            if bb is None:
                self._shine[key] = None
            else:
                band_w = max(8, int(0.22 * (bb[3] - bb[1]) + 0.08 * (bb[2] - bb[0])))
                self._shine[key] = (solid, bb, _shine_band(bb[3] - bb[1], band_w))
        got = self._shine[key]
        if got is None:
            return None
        solid, bb, band = got
        span = (bb[2] - bb[0]) + band.width
        bx = int(bb[0] - band.width + x * span)
        light = Image.new("L", (w, h), 0)
        light.paste(band, (bx, bb[1]))
        return ImageChops.multiply(light, solid).point(lambda v: v * 38 // 100)

    def timeline(self) -> list[dict]:
        """Each group's timing, for the manifest: entering, fully legible from `settled_s` to `until_s`."""
        out = []
        for g, b in self.beats.items():
            d = {"block": g, "motion": b.motion, "enter_s": b.enter, "settled_s": b.settle,
                 "until_s": round(b.until(self.duration), 4)}
            if b.gone is not None:
                d["gone_s"] = b.gone
            out.append(d)
        return out


def _chips_apart(layers, placed) -> list:
    """The layers to animate: as recorded, except that the chips' shape layer ("perks": every chip, its ring and
    the group's halo in one layer) is cut per chip, so that each chip enters with its own text (perk1, perk2 …)
    instead of the empty outlines first and the words rising into them later. A piece goes to the chip whose box
    holds it; what no chip holds (the halo around the group) stays in "perks"."""
    chips = [p.box for p in placed if p.role == "perk"]
    out = []
    for lay in layers.layers:
        if lay.role != "perks" or lay.kind != "shape" or not chips:
            out.append(lay)
            continue
        per: dict[str, Layer] = {}
        rest = Layer(lay.role, lay.kind)
        for piece in lay.pieces:
            _, (x0, y0, x1, y1), _ = piece
            n = next((i for i, b in enumerate(chips, 1)
                      if b[0] - 1.5 <= x0 and x1 <= b[2] + 1.5 and b[1] - 1.5 <= y0 and y1 <= b[3] + 1.5), None)
            target = rest if n is None else per.setdefault(f"perk{n}", Layer(f"perk{n}", lay.kind))
            target.pieces.append(piece)
        out += ([rest] if rest.pieces else []) + list(per.values())
    return out


def _reveal(sprites: list[Sprite], beats: dict[str, Beat], placed: tuple) -> Reveal | None:
    """The text card's unfolding (Reveal), if the poster has a card: its bottom edge keeps just ahead of the
    words on it as they enter."""
    cards = [sp for sp in sprites if sp.group in CONTAINERS and sp.kind == "shape"]
    body = next((p.box for p in placed if p.role in CONTAINERS), None)
    if len(cards) != 1 or body is None:
        return None
    card = cards[0]
    bx0, by0, bx1, by1 = body
    inside: dict[str, float] = {}
    for sp in sprites:
        b = sp.box
        if sp.kind == "text" and sp.group in beats and sp.group != card.group \
                and b[0] >= bx0 - 2 and b[2] <= bx1 + 2 and b[1] >= by0 - 2 and b[3] <= by1 + 2:
            inside[sp.group] = max(inside.get(sp.group, 0.0), b[3])
    if not inside:
        return None
    pad = by1 - max(inside.values())          # the card's own margin under its last words
    shadow = card.box[3] - by1                # its soft shadow below the body
    corner = min(bx1 - bx0, by1 - by0) * 0.06
    order = sorted(inside, key=lambda g: (beats[g].enter, inside[g]))
    start = max((inside[g] for g in order if beats[g].enter <= 0), default=min(inside.values())) + pad
    steps, y, last = [], start, 0.0
    for g in order:
        b = beats[g]
        if b.enter <= 0:
            continue
        to = max(y, inside[g] + pad)
        if to > y + 0.5:   # one step after the other: the edge never jumps
            t0 = max(b.enter - 0.2, last)
            t1 = max(t0 + 0.1, b.enter + 0.12)
            steps.append((round(t0, 4), round(t1, 4), to))
            y, last = to, t1
    if steps:
        t0, t1, _ = steps[-1]
        steps[-1] = (t0, t1, float(by1))
    return Reveal(card.group, float(by1), start, tuple(steps), int(shadow + corner + 6))


def _sprites(layers, placed: tuple, W: int, H: int, prefix: str = "", skip: tuple[str, ...] = ()
             ) -> tuple[list[Sprite], dict[str, tuple[int, float]]]:
    """The layers as sprites, each in its animation group, and where each group's words start (reading order)."""
    sprites: list[Sprite] = []
    tops: dict[str, tuple[int, float]] = {}
    for lay in _chips_apart(layers, placed):
        if lay.role in skip:
            continue
        r = lay.render(W, H)
        if r is None:
            continue
        im, bb = r
        g = prefix + ("brand" if prefix and lay.role == "logo" else group_of(lay.role))
        sprites.append(Sprite(g, _padded(im), bb[0], bb[1], lay.kind))
        # reading order by where a group's words are (a plate's soft halo reaches well above its text)
        key = (0 if lay.kind == "text" else 1, bb[1])
        tops[g] = min(tops.get(g, key), key)
    return sprites, tops


def build_scene(poster: Image.Image, background: Image.Image, planes: list, layers, *, fps: int, duration: float,
                focus_zone: Box, seed: int, placed: tuple = (), end_card: EndCard | None = None,
                safe: Box | None = None) -> MotionScene:
    """A clip's scene from the composed poster: `background` the key visual as the composer got it, `planes` the
    engine's depth planes (VisualResult.planes; empty: one plane), `layers` the LayerRecorder of the poster,
    `placed` its placed blocks (the chips' boxes), `end_card` the end card (endcard.py) or None."""
    W, H = poster.size
    n = max(2, round(duration * fps))
    if planes:
        pl = [Plane(name, im, x, y, depth) if i == 0 else _tight(name, im, x, y, depth)
              for i, (name, im, (x, y), depth) in enumerate(planes)]
        pl = [p for p in pl if p is not None]
        if pl[0].image.size != (W, H) or pl[0].x or pl[0].y:   # the backdrop must be the whole canvas
            pl = [Plane("picture", background.convert("RGB"), 0, 0, 0.6)]
    else:
        pl = [Plane("picture", background.convert("RGB"), 0, 0, 0.6)]
    sprites, tops = _sprites(layers, placed, W, H)
    end_at = round(n / fps - end_card_seconds(n / fps), 4) if end_card is not None else None
    beats = {b.group: b for b in plan_timeline([(g, y) for g, (_, y) in tops.items()], duration, end_at)}
    end = None
    if end_card is not None and end_at is not None:
        fade = 0.3
        end_sprites, end_tops = _sprites(end_card.layers, (), W, H, END_PREFIX, skip=KEPT)
        sprites += end_sprites
        for b in plan_end_card([(g, y) for g, (_, y) in end_tops.items()], end_at):
            beats[b.group] = b
        # the poster's brand row makes way for the end card's (the legal band and the provider line stay)
        for g in ("brand", "logo"):
            if g in beats and (END_PREFIX + "brand") in beats:
                beats[g] = Beat(g, 0.0, 0.0, "static", end_at, round(end_at + fade, 4))
        end = EndPhase(end_at, fade, end_card.base, end_card.blocks(), end_card.layout, end_card.keep_picture)
    reveal = _reveal(sprites, beats, placed)
    cta = beats.get("cta")
    start = cta.settle if cta is not None else (end_at or duration) - 1.0
    chips = sorted((g for g in beats if g.startswith("perk") and g[4:].isdigit()), key=lambda g: int(g[4:]))
    hero = beats.get("hero")
    # the frames the video read-back samples for the exact rate (checks/video.sample_times): the pulse avoids them
    avoid = () if hero is None else (round(hero.settle + 2 / fps, 4),
                                     round((hero.settle + min(hero.until(n / fps), (n - 1) / fps)) / 2, 4))
    spots = plan_spots(chips, start, end_at if end_at is not None else n / fps, avoid)
    live = Live(start, duration, spots=spots)
    x0, y0, x1, y1 = focus_zone
    # the push is anchored at the picture's floor (the zone's bottom edge, its centre across): the stage and the
    # objects grow upwards and sideways, never down over the small print under the picture
    focus = ((x0 + x1) / 2, y1) if x1 > x0 and y1 > y0 else (W / 2, H)
    # the drift's direction by seed: campaigns differ, a run repeats
    h = int(hashlib.sha256(f"motion|{seed}|{W}x{H}".encode()).hexdigest()[:8], 16)
    drift = ((0.45 + (h % 30) / 100) * (1 if h & 1 else -1), -0.3)   # from above: the planes settle downwards
    return MotionScene(W, H, fps, n, pl, sprites, beats, Camera(focus, drift=drift), poster.convert("RGB"),
                       background.convert("RGB"), live=live, end=end, reveal=reveal, safe=safe)
