"""A poster's frames in motion, composed from what was already painted once: the key visual's planes and the
recorded text layers (compose/layers.py) as cached RGBA sprites. Nothing is typeset per frame.

A frame is the picture under a slow camera (each plane scaled and shifted by its depth: parallax), then the overlay
of text blocks. While no block is entering, the overlay is one cached image; while one is, it is rebuilt from the
sprites (a dozen small pastes). The camera settles on the poster itself: the last frame is the flat poster, so the
cover and the final seconds read exactly like the approved still."""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from PIL import Image
from ..compose.layers import Layer

from .timeline import (
    Beat,
    ease_in_out_sine,
    ease_out_back,
    ease_out_cubic,
    group_of,
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
    image: Image.Image           # RGB (the backdrop, full canvas) or RGBA padded by PAD
    x: int
    y: int
    depth: float


def _padded(im: Image.Image) -> Image.Image:
    out = Image.new("RGBA", (im.width + 2 * PAD, im.height + 2 * PAD), (0, 0, 0, 0))
    out.paste(im.convert("RGBA"), (PAD, PAD))
    return out


@dataclass
class Camera:
    """A slow push from the start framing to the poster's own (identity at the end): each plane moves by its depth,
    the far backdrop (depth 0: the lit gradient of the illustration engine) not at all — the stage and the objects
    move apart against it (parallax), and the frame costs two small resamples instead of a full-canvas one.
    Focus: the picture's subject (the layout's visual zone)."""

    focus: tuple[float, float]
    zoom: float = 0.07           # the nearest plane starts 7% larger
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
    poster: Image.Image          # the flat poster: the last frame, exactly
    background: Image.Image | None = None   # the key visual without text (what an image-to-video model animates)
    moving_picture: list[Image.Image] | None = None   # the model's frames, if one animated the picture (i2v.py)
    _overlay: dict = field(default_factory=dict, repr=False)

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def t(self, i: int) -> float:
        return i / self.fps

    def frame(self, i: int, without: tuple[str, ...] = ()) -> Image.Image:
        """Frame i; `without`: leave these groups' text out (what a contrast check measures the text against)."""
        if i >= self.n_frames - 1 and not without and self.moving_picture is None:
            return self.poster.copy()
        t = self.t(i)
        u = min(1.0, i / max(1, self.n_frames - 1))
        if self.moving_picture is not None:
            img = self.moving_picture[min(i, len(self.moving_picture) - 1)].convert("RGB").copy()
        else:
            img = self._picture(u)
        ov, box = self._overlay_at(t, without)
        if ov is not None:
            img.paste(ov, box[:2], ov)
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
                out.paste(r[0], r[1], r[0])
        assert out is not None
        return out

    def _overlay_at(self, t: float, without: tuple[str, ...] = ()) -> tuple[Image.Image | None, Box]:
        """The text overlay at time t and where it goes: cached while nothing moves."""
        state = tuple((g, round(b.progress(t), 4)) for g, b in self.beats.items()) + (without,)
        moving = any(0 < p < 1 for _, p in state[:-1])
        if not moving and state in self._overlay:
            return self._overlay[state]
        shown = [(sp, self.beats[sp.group].progress(t)) for sp in self.sprites if self.beats[sp.group].progress(t) > 0
                 and not (sp.group in without and sp.kind == "text")]
        if not shown:
            res: tuple[Image.Image | None, Box] = (None, (0, 0, 0, 0))
        else:
            x0, y0 = min(sp.box[0] for sp, _ in shown), min(sp.box[1] for sp, _ in shown)
            x1, y1 = max(sp.box[2] for sp, _ in shown), max(sp.box[3] for sp, _ in shown)
            grow = int(0.04 * self.H) + 2   # room for a block rising in from below, or popping larger
            x0, y0, x1, y1 = max(0, x0 - grow), max(0, y0 - grow), min(self.W, x1 + grow), min(self.H, y1 + grow)
            ov = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
            for sp, prog in shown:
                self._draw(ov, (x0, y0), sp, self.beats[sp.group], prog)
            bb = ov.getbbox()
            res = (ov.crop(bb), (x0 + bb[0], y0 + bb[1], x0 + bb[2], y0 + bb[3])) if bb else (None, (0, 0, 0, 0))
        if not moving:
            self._overlay[state] = res
        return res

    def _draw(self, ov: Image.Image, origin: tuple[int, int], sp: Sprite, beat: Beat, prog: float) -> None:
        ox, oy = origin
        if prog >= 1 or beat.motion == "static":
            ov.alpha_composite(sp.image, (sp.x - PAD - ox, sp.y - PAD - oy))
            return
        if beat.motion in ("rise", "card"):
            e = ease_out_cubic(prog)
            lift = (0.03 if beat.motion == "rise" else 0.05) * self.H * (1 - e)
            im = _faded(sp.image, min(1.0, prog * 1.6))
            r = _scaled(im, sp.x, sp.y + lift, 1.0, 0, 0, (0, 0), self.W, self.H)
        else:   # pop: grows from 80% about its centre with a small overshoot
            e = ease_out_back(prog)
            s = 0.8 + 0.2 * e
            bx = sp.box
            c = ((bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2)
            im = _faded(sp.image, min(1.0, prog * 2.2))
            r = _scaled(im, sp.x, sp.y, s, 0, 0, c, self.W, self.H)
        if r is not None:
            piece, (px, py) = r
            ov.alpha_composite(piece, (px - ox, py - oy))

    def timeline(self) -> list[dict]:
        """Each group's timing, for the manifest."""
        return [{"block": g, "motion": b.motion, "enter_s": b.enter, "settled_s": b.settle,
                 "until_s": round(self.duration, 4)} for g, b in self.beats.items()]


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


def build_scene(poster: Image.Image, background: Image.Image, planes: list, layers, *, fps: int, duration: float,
                focus_zone: Box, seed: int, placed: tuple = ()) -> MotionScene:
    """A clip's scene from the composed poster: `background` the key visual as the composer got it, `planes` the
    engine's depth planes (VisualResult.planes; empty: one plane), `layers` the LayerRecorder of the poster,
    `placed` its placed blocks (the chips' boxes)."""
    W, H = poster.size
    n = max(2, round(duration * fps))
    if planes:
        pl = [Plane(name, im if i == 0 else _padded(im), x, y, depth)
              for i, (name, im, (x, y), depth) in enumerate(planes)]
        if pl[0].image.size != (W, H) or pl[0].x or pl[0].y:   # the backdrop must be the whole canvas
            pl = [Plane("picture", background.convert("RGB"), 0, 0, 0.6)]
    else:
        pl = [Plane("picture", background.convert("RGB"), 0, 0, 0.6)]
    sprites: list[Sprite] = []
    tops: dict[str, tuple[int, float]] = {}
    for lay in _chips_apart(layers, placed):
        r = lay.render(W, H)
        if r is None:
            continue
        im, bb = r
        g = group_of(lay.role)
        sprites.append(Sprite(g, _padded(im), bb[0], bb[1], lay.kind))
        # reading order by where a group's words are (a plate's soft halo reaches well above its text)
        key = (0 if lay.kind == "text" else 1, bb[1])
        tops[g] = min(tops.get(g, key), key)
    beats = {b.group: b for b in plan_timeline([(g, y) for g, (_, y) in tops.items()], duration)}
    x0, y0, x1, y1 = focus_zone
    focus = ((x0 + x1) / 2, (y0 + y1) / 2) if x1 > x0 and y1 > y0 else (W / 2, H / 2)
    # the drift's direction by seed: campaigns differ, a run repeats
    h = int(hashlib.sha256(f"motion|{seed}|{W}x{H}".encode()).hexdigest()[:8], 16)
    drift = ((0.45 + (h % 30) / 100) * (1 if h & 1 else -1), 0.3 * (1 if h & 2 else -1))
    return MotionScene(W, H, fps, n, pl, sprites, beats, Camera(focus, drift=drift), poster.convert("RGB"),
                       background.convert("RGB"))
