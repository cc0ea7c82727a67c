"""The drawing surface of one poster: geometry in the channel's safe area, plates, scrims, text colour chosen
on the actual pixels, and the record of everything placed (for manifests, checks and layered exports)."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from . import shapes
from .color import RGB, contrast, contrast_to_range, edge_energy, hex_rgb, luminance, luminance_range, rgb_hex
from .fonts import FontStack
from .layers import LayerRecorder
from .text import Fitted

Box = tuple[float, float, float, float]


@dataclass
class Placed:
    role: str
    text: str
    box: Box                      # x0, y0, x1, y1 of the drawn text (or shape), pixels
    size: int = 0
    fonts: tuple[str, ...] = ()
    color: str = ""
    contrast: float | None = None
    lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d = {"role": self.role, "text": self.text, "box": [round(v, 1) for v in self.box], "size": self.size,
             "fonts": list(self.fonts), "color": self.color}
        if self.contrast is not None:
            d["contrast"] = round(self.contrast, 2)
        return d


@dataclass
class Composed:
    image: Image.Image
    placed: list[Placed]
    dropped: list[str]            # optional blocks that did not fit legibly
    layout: str
    layers: Any = None            # compose.layers.LayerRecorder when asked to record


def overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes overlap by more than half a pixel each way (touching edges do not)."""
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


# a drop shadow's box reaches this many blur radii past its shape (all round, and below the shape's offset): at 1.5
# the blur was cut at ~20% of its strength under a button, a visible seam across the picture under it
SHADOW_MARGIN = 3


@lru_cache(maxsize=64)
def _shadow_parts(sw: int, sh: int, pad: int, radius: float,
                  parts: tuple[tuple[int, int, int, int], ...]) -> list[Image.Image | None]:
    """The shadow mask scaled up to full size over each of `parts` (None for an empty one): a card or button of
    the same size recurs across a brief's segments and sizes' variants, so the scaled pieces are kept as the
    reduced mask is. Callers must not modify them."""
    m = _shadow_mask(sw, sh, pad, radius)
    fx, fy = m.width / sw, m.height / sh
    return [m.resize((c - a, d - b), Image.BILINEAR, box=(a * fx, b * fy, c * fx, d * fy)) if c > a and d > b
            else None for a, b, c, d in parts]


@lru_cache(maxsize=64)
def _shadow_mask(sw: int, sh: int, pad: int, radius: float) -> Image.Image:
    """A shadow's blurred mask at reduced size (a soft shadow needs no detail, and blur is costly): the same
    button or card recurs across a brief's segments, so it is kept. Callers must not modify it."""
    q = 8 if pad >= 24 else 4
    m_ = SHADOW_MARGIN * pad
    m = Image.new("L", (max(1, sw // q), max(1, sh // q)), 0)
    ImageDraw.Draw(m).rounded_rectangle([m_ / q, (m_ + pad // 2) / q, (sw - m_) / q, (sh - m_) / q],
                                        radius=radius / q, fill=70)
    return m.filter(ImageFilter.GaussianBlur(max(0.5, pad / q)))


def _frame(w: int, h: int, inside: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """A w×h area less the rectangle `inside`, as at most four rectangles."""
    ix0, iy0, ix1, iy1 = max(0, inside[0]), max(0, inside[1]), min(w, inside[2]), min(h, inside[3])
    return [r for r in ((0, 0, w, iy0), (0, iy1, w, h), (0, iy0, ix0, iy1), (ix1, iy0, w, iy1))
            if r[2] > r[0] and r[3] > r[1]]


class Canvas:
    """One poster being drawn: geometry, drawing helpers and the record of placed blocks."""

    def __init__(self, bg: Image.Image, palette, stacks: dict[str, FontStack], *, min_px: float,
                 record: bool = False):
        # RGB throughout (no RGBA round trip): translucent shapes are pasted through L masks. A copy, because
        # the background is shared by every segment of the brief.
        self.img = bg.copy() if bg.mode == "RGB" else bg.convert("RGB")
        # the luminance range behind a box, kept until the next paint: colour choices ask about one box several
        # times (light or dark text, a quieter shade, the label beside a figure)
        self._ranges: dict[tuple[int, int, int, int], tuple[float, float] | None] = {}
        self.W, self.H = self.img.size
        self.pal = palette
        self.stacks = stacks
        self.min_px = float(min_px)
        self.short = min(self.W, self.H)
        self.placed: list[Placed] = []
        # layered exports (PSD/SVG): every paint is also kept, per block, when asked for
        self.rec = None
        if record:
            self.rec = LayerRecorder(self.img.copy())

    # ---- geometry ---------------------------------------------------------------------------------------------
    def worst(self, box: Box, color: RGB) -> float:
        """The lowest WCAG contrast of `color` on the pixels now behind `box` (color.worst_contrast)."""
        key = tuple(int(round(v)) for v in box)
        if key not in self._ranges:
            self._ranges[key] = luminance_range(self.img, key)
        return contrast_to_range(color, self._ranges[key])

    def _aligned_x(self, box: Box, width: float, align: str) -> float:
        if align == "center":
            return box[0] + (box[2] - box[0] - width) / 2
        if align == "right":
            return box[2] - width
        return box[0]

    # ---- drawing helpers --------------------------------------------------------------------------------------
    def scrim(self, side: str) -> None:
        """Darken the text side of a photo or generated picture so overlays read (a gradient from `side`)."""
        if side == "none":
            return
        import numpy as np

        dark = hex_rgb(self.pal.primary_dark)
        n = self.W if side in ("left", "right") else self.H
        ramp = np.clip(1.25 - np.linspace(0, 1.6, n), 0, 1) * 0.88
        if side in ("right", "bottom"):
            ramp = ramp[::-1]
        a = (ramp * 255).astype("uint8")
        line = Image.fromarray(a[None, :] if side in ("left", "right") else a[:, None])
        self._paste("scrim", dark, (0, 0, self.W, self.H), line.resize((self.W, self.H), Image.NEAREST))

    def _paste(self, role: str, fill, box, mask: Image.Image | None, kind: str = "shape") -> None:
        """Paint `fill` through `mask` at `box` (None: solid) — every shape goes through here, so layers can be
        recorded."""
        self.img.paste(fill, box, mask)
        self._ranges.clear()
        if self.rec is not None:
            self.rec.paint(role, fill, box, mask, kind)

    def _text(self, role: str, stack: FontStack, xy: tuple[float, float], text: str, size: int, fill) -> float:
        """Draw a string (every glyph goes through here); returns its advance width."""
        self._ranges.clear()
        if self.rec is None:
            return stack.draw(self.img, xy, text, size, fill)
        self.rec.runs(role, stack.place_runs(xy, text, size), size, fill)
        return stack.draw(self.rec.surface(self.img, role), xy, text, size, fill)

    def blend(self, color: RGB, box: Box, alpha: int, role: str = "legal") -> None:
        """A translucent rectangle of `color` over `box`."""
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        if x1 > x0 and y1 > y0:
            # drawn with an RGBA fill: the same pixels as a paste through a flat mask, in half the time
            ImageDraw.Draw(self.img, "RGBA").rectangle((x0, y0, x1 - 1, y1 - 1), fill=(*color[:3], alpha))
            self._ranges.clear()
            if self.rec is not None:
                self.rec.paint(role, color, (x0, y0, x1, y1), Image.new("L", (x1 - x0, y1 - y0), alpha))

    def _rounded(self, box: Box, fill, radius: float, alpha: int = 255, shadow: bool = False,
                 role: str = "shape") -> None:
        """An antialiased rounded rectangle over `box` (rounded to whole pixels), optionally with a soft shadow."""
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        w, h = x1 - x0, y1 - y0
        if w < 1 or h < 1:
            return
        if shadow:
            self._shadow(box, radius, alpha, role)
        if w * h <= 40_000:   # a chip or a mark: one paste through its whole (cached) mask
            self._paste(role, tuple(fill), (x0, y0, x1, y1), shapes.mask(w, h, radius, alpha))
            return
        for a, b, c, d, m in shapes.pieces(w, h, radius, alpha):   # a card: corners masked, the rest solid
            self._paste(role, tuple(fill), (x0 + a, y0 + b, x0 + c, y0 + d), m)

    def _shadow(self, box: Box, radius: float, alpha: int, role: str) -> None:
        """A soft drop shadow (its mask blurred at reduced size, then scaled up where it shows). Under an opaque shape only what lies around it and under its rounded corners is scaled up and painted."""
        x0, y0, x1, y1 = box
        pad = int(max(2, radius * 0.6))
        m_ = SHADOW_MARGIN * pad
        sw, sh = int(x1 - x0) + 2 * m_, int(y1 - y0) + 2 * m_ + pad // 2
        sx, sy = int(x0) - m_, int(y0) - m_
        parts = [(0, 0, sw, sh)]
        if alpha == 255:   # the shape's rectangle in shadow coordinates: around it, and under its rounded corners
            r0, r1 = (int(round(x0)) - sx, int(round(y0)) - sy), (int(round(x1)) - sx, int(round(y1)) - sy)
            w, h = r1[0] - r0[0], r1[1] - r0[1]
            k = min(int(min(radius, w / 2, h / 2)) + 2, w // 2, h // 2)
            if w >= 16 and h >= 16:
                parts = _frame(sw, sh, (*r0, *r1)) + [
                    (r0[0], r0[1], r0[0] + k, r0[1] + k), (r1[0] - k, r0[1], r1[0], r0[1] + k),
                    (r0[0], r1[1] - k, r0[0] + k, r1[1]), (r1[0] - k, r1[1] - k, r1[0], r1[1])]
        for (a, b, c, d), part in zip(parts, _shadow_parts(sw, sh, pad, round(radius, 2), tuple(parts))):
            if part is not None:
                self._paste(role, (0, 0, 0), (sx + a, sy + b, sx + c, sy + d), part)

    def _on(self, fill: RGB, *preferred: str) -> RGB:
        """Text colour for a solid fill: the first of the brand's choices that reaches 4.5:1, else light or dark."""
        lf = float(luminance(fill))
        cands = [hex_rgb(p) for p in preferred] + [hex_rgb(self.pal.light), hex_rgb(self.pal.dark), (255, 255, 255),
                                                   (0, 0, 0)]
        for c in cands:
            if contrast(float(luminance(c)), lf) >= 4.5:
                return c
        return max(cands, key=lambda c: contrast(float(luminance(c)), lf))

    # how busy a picture may be under a text without a plate, and around a button, a plate or a chip (the design
    # benchmark's gates: benchmarks/design.py)
    BUSY_TEXT, BUSY_RING = 0.012, 0.035

    def calm_under(self, box: Box, size: float, role: str) -> bool:
        """A text over a busy part of a picture (a photo, a generated scene) gets an opaque plate of the brand's
        dark colour first, whatever its contrast: busy pixels under letters read badly even at 4.5:1."""
        if edge_energy(self.img, box) <= self.BUSY_TEXT:
            return False
        pad = size * 0.3
        self._rounded((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad), hex_rgb(self.pal.primary_dark),
                      radius=pad, role=role)
        return True

    def calm_ring(self, box: Box, role: str, unit: float | None = None) -> None:
        """A button, plate or chip over a busy part of a picture gets a soft dark halo that calms its
        surroundings (a shadow-like glow, not a box). `unit`: the height of one row of the group (chips in two
        rows get the halo of one chip, not of the pair). The halo never darkens a block already painted (a rate
        plate above the chips)."""
        h = unit or (box[3] - box[1])
        if edge_energy(self.img, box, ring=0.5 * h) <= self.BUSY_RING:
            return
        pad = 0.6 * h
        x0, y0, x1, y1 = box
        q = 4
        sigma = pad / 1.6
        # the halo's own box reaches 2.8 σ past the soft shape, so the blur has faded to nothing at its edge (a
        # box only `pad` wide cut the glow off at ~20 %: a visible rectangle around plates and chips)
        m_ = 0.5 * pad + 1.25 * pad
        w_, h_ = int(x1 - x0 + 2 * m_), int(y1 - y0 + 2 * m_)
        sw, sh_ = max(1, w_ // q), max(1, h_ // q)
        m = Image.new("L", (sw, sh_), 0)
        inset = (m_ - 0.5 * pad) / q
        ImageDraw.Draw(m).rounded_rectangle([inset, inset, (w_ / q) - inset, (h_ / q) - inset],
                                            radius=h / q, fill=170)
        m = m.filter(ImageFilter.GaussianBlur(max(0.5, sigma / q)))
        ox, oy = int(x0 - m_), int(y0 - m_)
        near = [p.box for p in self.placed
                if p.box[2] > ox and p.box[0] < ox + w_ and p.box[3] > oy and p.box[1] < oy + h_]
        if near:   # what is painted already keeps its own colour: the halo fades out before it (no smear, no box)
            keep = Image.new("L", (sw, sh_), 255)
            d = ImageDraw.Draw(keep)
            grow = pad   # 2 σ of the fade below: the halo is ~0 by the time it reaches the block's edge
            for b in near:
                d.rectangle([(b[0] - grow - ox) / q, (b[1] - grow - oy) / q, (b[2] + grow - ox) / q,
                             (b[3] + grow - oy) / q], fill=0)
            # both soft masks combined at the quarter scale, then scaled up once
            m = ImageChops.multiply(m, keep.filter(ImageFilter.GaussianBlur(max(0.5, pad / q / 2))))
        m = m.resize((w_, h_), Image.BILINEAR)
        if near:
            hard = ImageDraw.Draw(m)
            for b in near:
                hard.rectangle([b[0] - ox, b[1] - oy, b[2] - ox - 1, b[3] - oy - 1], fill=0)
        self._paste(role, hex_rgb(self.pal.primary_dark), (ox, oy, ox + w_, oy + h_), m)

    def need(self, size: float) -> float:
        """The WCAG contrast a text of this size needs: 3:1 for large text (≥ 2.2 × the legible minimum and
        ≥ 18 px, as checks/image.py counts it), else 4.5:1."""
        return 3.0 if size >= 2.2 * self.min_px and size >= 18 else 4.5

    def _text_color(self, box: Box, size: float, prefer: str = "light", role: str = "text") -> tuple[RGB, float]:
        """Light or dark text, whichever reads better on the pixels behind `box`; adds a plate when neither
        reaches the WCAG minimum (4.5:1, or 3:1 for large text)."""
        need = self.need(size)
        order = ["light", "dark"] if prefer == "light" else ["dark", "light"]
        best = None
        for key in order:
            col = hex_rgb(getattr(self.pal, key))
            c = self.worst(box, col)
            if c >= need:
                return col, c
            if best is None or c > best[1]:
                best = (col, c)
        # plate behind the text: the brand's dark (or light) colour when it clearly contrasts, else a neutral
        col = best[0]
        lum = float(luminance(col))
        dark_text = lum < 0.18
        options = ([self.pal.light, "#FFFFFF"] if dark_text else [self.pal.primary_dark, self.pal.dark, "#000000"])
        plate = next((hex_rgb(o) for o in options if contrast(float(luminance(hex_rgb(o))), lum) >= need + 2.5),
                     hex_rgb(options[-1]))
        pad = size * 0.25
        self._rounded((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad), plate, radius=pad, role=role)
        return col, self.worst(box, col)

    def _draw_lines(self, role: str, fitted: Fitted, stack: FontStack, box: Box, align: str, text: str,
                    prefer: str = "light", color: RGB | None = None) -> Placed:
        ascent, descent = stack.metrics(fitted.size)
        y_top = box[1]
        x_left = self._aligned_x(box, fitted.width, align)
        text_box = (x_left, y_top, x_left + fitted.width, y_top + fitted.height)
        if color is None:
            self.calm_under(text_box, fitted.size, role)
            color, con = self._text_color(text_box, fitted.size, prefer, role)
        else:
            con = self.worst(text_box, color)
        y = y_top + ascent
        for line in fitted.lines:
            w = stack.measure(line, fitted.size)
            self._text(role, stack, (self._aligned_x(box, w, align), y), line, fitted.size, color)
            y += fitted.line_height
        p = Placed(role, text, text_box, fitted.size, stack.ids, rgb_hex(color), con, list(fitted.lines))
        self.placed.append(p)
        return p
