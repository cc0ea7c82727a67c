"""Compose one poster: key visual + typeset overlays (logo, headline, rate badge, subhead, perks, CTA, legal band).

Every placed string is recorded with its box, font, size, colour and measured contrast, so checks, manifests and
layered exports can use exactly what was drawn. Numbers and legal text are always typeset here, never drawn by a
model."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from ..errors import LayoutError
from .color import RGB, hex_rgb, rgb_hex, worst_contrast
from .fonts import FontStack
from .layout import Block, Layout
from .text import Fitted, fit_text

Box = tuple[float, float, float, float]


@dataclass
class PosterText:
    """What goes on one poster (already resolved from brief + segment + category defaults)."""

    headline: str
    cta: str
    disclaimer: str
    provider: str
    rate: tuple[str, str, str] | None        # (label, figure, suffix)
    brand_name: str
    subhead: str = ""
    perks: list[str] = field(default_factory=list)
    ai_label: str | None = None              # visible AIGC label text, when the visual is model-generated


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


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


class Composer:
    """Places blocks on one canvas. One instance per poster."""

    def __init__(self, bg: Image.Image, layout: Layout, palette, stacks: dict[str, FontStack], *, safe,
                 min_px: float, calm_background: bool, scrim_color: str | None = None):
        self.img = bg.convert("RGBA")
        self.W, self.H = self.img.size
        self.layout = layout
        self.pal = palette
        self.stacks = stacks
        self.min_px = float(min_px)
        self.short = min(self.W, self.H)
        self.sx0, self.sy0 = self.W * safe.left, self.H * safe.top
        self.sx1, self.sy1 = self.W * (1 - safe.right), self.H * (1 - safe.bottom)
        self.placed: list[Placed] = []
        self.dropped: list[str] = []
        self.limit_y = self.sy1               # the legal band's top, once placed
        self.draw = ImageDraw.Draw(self.img)
        if not calm_background:
            self._scrim()

    # ---- geometry ---------------------------------------------------------------------------------------------
    def box(self, block: Block) -> Box:
        """Pixel box of a block. Blocks above the legal band are laid out in the space the band actually
        leaves: the layout's fractions are rescaled between the safe top and the band's real top, so a taller
        band (small canvas, long disclaimer) compresses the rest instead of colliding with it."""
        x, y, w, h = block.box
        sw, sh = self.sx1 - self.sx0, self.sy1 - self.sy0
        x0 = self.sx0 + x * sw
        if block.band or self.limit_y >= self.sy1:
            y0 = self.sy0 + y * sh
            return (x0, y0, x0 + w * sw, y0 + h * sh)
        legal_y = self.layout.blocks["legal"].box[1] or 1.0
        scale = (self.limit_y - self.sy0) / (legal_y * sh)
        y0 = self.sy0 + y * sh * scale
        return (x0, y0, x0 + w * sw, min(y0 + h * sh * scale, self.limit_y))

    def gap(self) -> float:
        return max(2.0, self.short * 0.012)

    def _aligned_x(self, box: Box, width: float, align: str) -> float:
        if align == "center":
            return box[0] + (box[2] - box[0] - width) / 2
        if align == "right":
            return box[2] - width
        return box[0]

    # ---- drawing helpers --------------------------------------------------------------------------------------
    def _scrim(self) -> None:
        """Darken the text side of a photo so overlays read (gradient from the layout's scrim side)."""
        side = self.layout.scrim
        if side == "none":
            return
        import numpy as np

        dark = hex_rgb(self.pal.primary_dark)
        n = self.W if side == "left" else self.H
        ramp = np.clip(1.25 - np.linspace(0, 1.6, n), 0, 1) * 0.88
        if side == "left":
            alpha = np.tile(ramp[None, :], (self.H, 1))
        else:
            alpha = np.tile(ramp[:, None], (1, self.W))
        overlay = Image.new("RGBA", (self.W, self.H), (*dark, 0))
        overlay.putalpha(Image.fromarray((alpha * 255).astype("uint8")))
        self.img.alpha_composite(overlay)

    def _rounded(self, box: Box, fill, radius: float, alpha: int = 255, shadow: bool = False) -> None:
        x0, y0, x1, y1 = box
        if shadow:
            pad = int(max(2, radius * 0.6))
            sh = Image.new("RGBA", (int(x1 - x0) + 4 * pad, int(y1 - y0) + 4 * pad), (0, 0, 0, 0))
            ImageDraw.Draw(sh).rounded_rectangle([2 * pad, 2 * pad + pad // 2, sh.width - 2 * pad,
                                                  sh.height - 2 * pad + pad // 2], radius=radius, fill=(0, 0, 0, 70))
            sh = sh.filter(ImageFilter.GaussianBlur(pad))
            self.img.alpha_composite(sh, (int(x0) - 2 * pad, int(y0) - 2 * pad))
        layer = Image.new("RGBA", (int(x1 - x0) + 2, int(y1 - y0) + 2), (0, 0, 0, 0))
        ImageDraw.Draw(layer).rounded_rectangle([0, 0, x1 - x0, y1 - y0], radius=radius, fill=(*fill, alpha))
        self.img.alpha_composite(layer, (int(round(x0)), int(round(y0))))

    def _on(self, fill: RGB, preferred: str) -> RGB:
        """Text colour for a solid fill: the brand's choice when it reaches 4.5:1, else light or dark."""
        from .color import contrast, luminance

        lf = float(luminance(fill))
        cands = [hex_rgb(preferred), hex_rgb(self.pal.light), hex_rgb(self.pal.dark), (255, 255, 255), (0, 0, 0)]
        for c in cands:
            if contrast(float(luminance(c)), lf) >= 4.5:
                return c
        return max(cands, key=lambda c: contrast(float(luminance(c)), lf))

    def _text_color(self, box: Box, size: float, prefer: str = "light") -> tuple[RGB, float]:
        """Light or dark text, whichever reads better on the pixels behind `box`; adds a plate when neither
        reaches the WCAG minimum (4.5:1, or 3:1 for large text)."""
        need = 3.0 if size >= 2.2 * self.min_px and size >= 18 else 4.5
        order = ["light", "dark"] if prefer == "light" else ["dark", "light"]
        best = None
        for key in order:
            col = hex_rgb(getattr(self.pal, key))
            c = worst_contrast(self.img, box, col)
            if c >= need:
                return col, c
            if best is None or c > best[1]:
                best = (col, c)
        # plate behind the text: a dark plate for light text, light plate for dark text
        col = hex_rgb(self.pal.light) if best[0] == hex_rgb(self.pal.light) else hex_rgb(self.pal.dark)
        plate = hex_rgb(self.pal.primary_dark) if col == hex_rgb(self.pal.light) else hex_rgb(self.pal.light)
        pad = size * 0.25
        self._rounded((box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad), plate, radius=pad, alpha=235)
        return col, worst_contrast(self.img, box, col)

    def _draw_lines(self, role: str, fitted: Fitted, stack: FontStack, box: Box, align: str, text: str,
                    prefer: str = "light", color: RGB | None = None) -> Placed:
        ascent, descent = stack.metrics(fitted.size)
        y_top = box[1]
        x_left = self._aligned_x(box, fitted.width, align)
        text_box = (x_left, y_top, x_left + fitted.width, y_top + fitted.height)
        if color is None:
            color, con = self._text_color(text_box, fitted.size, prefer)
        else:
            con = worst_contrast(self.img, text_box, color)
        y = y_top + ascent
        for line in fitted.lines:
            w = stack.measure(line, fitted.size)
            stack.draw(self.draw, (self._aligned_x(box, w, align), y), line, fitted.size, color)
            y += fitted.line_height
        p = Placed(role, text, text_box, fitted.size, stack.ids, rgb_hex(color), con, list(fitted.lines))
        self.placed.append(p)
        return p

    def _fit(self, text: str, role_font: str, box: Box, block: Block, *, cap: float | None = None,
             balanced: bool = False) -> Fitted | None:
        stack = self.stacks[role_font]
        bw, bh = box[2] - box[0], box[3] - box[1]
        max_size = bh
        if block.size_cap:
            max_size = min(max_size, block.size_cap * self.short)
        if cap:
            max_size = min(max_size, cap)
        return fit_text(text, stack, bw, bh, min_size=self.min_px, max_size=max(max_size, 1),
                        max_lines=block.max_lines, line_height=block.line_height, balanced=balanced)

    # ---- blocks -----------------------------------------------------------------------------------------------
    def legal(self, block: Block, t: PosterText) -> None:
        """Disclaimer, provider line and AI label on a calm band at the bottom. Placed first: every other block
        stays above it. Never below the legible minimum; a canvas that cannot hold it is an error."""
        stack = self.stacks["small"]
        box = self.box(block)
        bw = box[2] - box[0]
        size = max(self.min_px, min((box[3] - box[1]) / 2.9, self.short * 0.026))
        size = int(-(-size // 1))
        parts = [p for p in (t.disclaimer, t.provider) if p]
        label = t.ai_label
        lines = self._legal_lines(parts, stack, size, bw, block.one_line, label)
        lh = size * 1.3
        pad = max(self.gap(), size * 0.45)
        height = len(lines) * lh + pad
        top = self.sy1 - height
        if top < self.sy0 + (self.sy1 - self.sy0) * 0.45:
            raise LayoutError(f"a {self.W}×{self.H} canvas cannot hold the disclaimer and provider line at the "
                              f"legible minimum of {self.min_px:g} px",
                              "use a larger placement size, or shorten message.disclaimer")
        if top > box[1]:  # more room than needed: centre the lines in the band's box
            top = box[1] + (top - box[1]) / 2
        band_top = top - pad * 0.6
        if block.band:  # calm band, full width, to the canvas bottom edge
            band = Image.new("RGBA", (self.W, self.H - int(band_top)), (*hex_rgb(self.pal.band), 225))
            self.img.alpha_composite(band, (0, int(band_top)))
        self.limit_y = band_top - self.gap()
        y = top + pad * 0.2
        ascent, _ = stack.metrics(size)
        for kind, text in lines:
            if kind == "label":
                w = stack.measure(text, size)
                lbox = (self.sx1 - w - size * 0.5, y, self.sx1, y + size * 1.25)
                self._rounded(lbox, hex_rgb(self.pal.light), radius=size * 0.3, alpha=235)
                con = worst_contrast(self.img, lbox, hex_rgb(self.pal.dark))
                stack.draw(self.draw, (lbox[0] + size * 0.25, y + ascent + size * 0.1), text, size,
                           hex_rgb(self.pal.dark))
                self.placed.append(Placed("ai_label", text, lbox, size, stack.ids, self.pal.dark, con))
            else:
                fitted = Fitted([text], size, lh, stack.measure(text, size), size * 1.25)
                role = {"disclaimer": "disclaimer", "provider": "provider"}.get(kind, "legal")
                self._draw_lines(role, fitted, stack, (box[0], y, box[2], y + lh), "left", text)
            y += lh

    def _legal_lines(self, parts: list[str], stack: FontStack, size: int, width: float, one_line: bool,
                     label: str | None) -> list[tuple[str, str]]:
        from .linebreak import break_lines

        kinds = ["disclaimer", "provider"][: len(parts)] if len(parts) == 2 else ["provider"]
        if len(parts) == 2 and parts[0] != parts[-1] and kinds[0] == "disclaimer":
            pass
        label_w = stack.measure(label, size) + size * 1.2 if label else 0
        if one_line and len(parts) == 2:
            joined = parts[0] + "\u3000\u3000" + parts[1]  # a wide gap: two texts, not one run-on line
            if stack.measure(joined, size) + label_w <= width:
                return [("legal", joined)] + ([("label", label)] if label else [])
        out: list[tuple[str, str]] = []
        for kind, text in zip(kinds if len(parts) == 2 else ["provider"], parts):
            for ln in break_lines(text, lambda s: stack.measure(s, size), width):
                out.append((kind, ln))
        if label:
            out.append(("label", label))
        return out

    def logo(self, block: Block, t: PosterText, logo_img: Image.Image | None) -> None:
        box = self.box(block)
        h = box[3] - box[1]
        if h < self.min_px:
            self.dropped.append("logo")
            return
        if logo_img is not None:
            scale = h / logo_img.height
            im = logo_img.resize((max(1, int(logo_img.width * scale)), int(h)), Image.LANCZOS)
            if im.width > box[2] - box[0]:
                im = im.resize((int(box[2] - box[0]), int(im.height * (box[2] - box[0]) / im.width)), Image.LANCZOS)
            self.img.alpha_composite(im.convert("RGBA"), (int(box[0]), int(box[1])))
            self.placed.append(Placed("logo", t.brand_name, (box[0], box[1], box[0] + im.width, box[1] + im.height)))
            return
        # lettermark: a rounded square with the brand's first character, then the name
        mark = (box[0], box[1], box[0] + h, box[1] + h)
        self._rounded(mark, hex_rgb(self.pal.accent), radius=h * 0.22)
        stack = self.stacks["emphasis"]
        ch = t.brand_name[:1] or "M"
        size = int(h * 0.62)
        asc, desc = stack.metrics(size)
        w = stack.measure(ch, size)
        stack.draw(self.draw, (mark[0] + (h - w) / 2, mark[1] + (h - (asc + desc)) / 2 + asc), ch, size,
                   hex_rgb(self.pal.accent_text))
        self.placed.append(Placed("logo", ch, mark, size, stack.ids, self.pal.accent_text))
        if block.mark_only:
            return
        name_box = (mark[2] + h * 0.3, box[1], box[2], box[3])
        f = fit_text(t.brand_name, self.stacks["body"], name_box[2] - name_box[0], h,
                     min_size=min(self.min_px, h * 0.7), max_size=h * 0.7, max_lines=1)
        if f is None:
            return
        nb = (name_box[0], box[1] + (h - f.height) / 2, name_box[2], box[3])
        self._draw_lines("brand", f, self.stacks["body"], nb, "left", t.brand_name)

    def headline(self, block: Block, text: str) -> None:
        box = self.box(block)
        f = self._fit(text, block.font or "display", box, block, balanced=True)
        if f is None:
            raise LayoutError(f"headline '{text}' does not fit a {self.W}×{self.H} canvas at a legible size",
                              "shorten message.headline (6–12 characters a line reads best)")
        self._draw_lines("headline", f, self.stacks[block.font or "display"], box, block.align, text)

    def simple(self, role: str, block: Block, text: str, box: Box | None = None) -> Placed | None:
        box = box or self.box(block)
        f = self._fit(text, block.font or "body", box, block)
        if f is None:
            if block.optional:
                self.dropped.append(role)
                return None
            raise LayoutError(f"{role} '{text}' does not fit a {self.W}×{self.H} canvas at a legible size",
                              f"shorten message.{role}")
        return self._draw_lines(role, f, self.stacks[block.font or "body"], box, block.align, text)

    def rate(self, block: Block, rate: tuple[str, str, str]) -> None:
        label, figure, suffix = rate
        box = self.box(block)
        bw, bh = box[2] - box[0], box[3] - box[1]
        hero, small = self.stacks["hero"], self.stacks["body"]
        runs = figure_runs(figure, suffix)

        def geometry(d: int):
            lab = max(self.min_px, d * 0.3)
            fig_w = sum(hero.measure(t, max(int(self.min_px), int(d * k))) for t, k in runs)
            lab_w = small.measure(label, int(lab))
            pad_x, pad_y = d * 0.22, d * 0.14
            asc = hero.metrics(d)[0] * 0.78  # digits reach ~cap height, not the full ascent
            if block.style == "inline":
                w = lab_w + d * 0.2 + fig_w + 2 * pad_x
                h = max(asc * 1.02, lab * 1.2) + 2 * pad_y
            else:
                w = max(lab_w, fig_w) + 2 * pad_x
                h = lab * 1.3 + asc * 1.02 + 2 * pad_y
            return w, h, int(lab), fig_w, lab_w, pad_x, pad_y, asc

        lo, hi, best = int(self.min_px), int(max(self.min_px, bh)), None
        while lo <= hi:
            mid = (lo + hi) // 2
            g = geometry(mid)
            if g[0] <= bw and g[1] <= bh:
                best, lo = (mid, g), mid + 1
            else:
                hi = mid - 1
        if best is None:
            raise LayoutError(f"the rate '{figure}' does not fit a {self.W}×{self.H} canvas at a legible size",
                              "use a larger placement size")
        d, (w, h, lab, fig_w, lab_w, pad_x, pad_y, asc) = best
        x0 = self._aligned_x(box, w, block.align)
        y0 = box[1] + (bh - h) / 2 if block.style == "inline" else box[1]
        plate = (x0, y0, x0 + w, y0 + h)
        if block.plate != "none":
            fill = self.pal.light if block.plate == "light" else self.pal.accent
            self._rounded(plate, hex_rgb(fill), radius=min(w, h) * 0.14, alpha=245, shadow=True)
        plate_fill = hex_rgb(self.pal.light if block.plate == "light" else self.pal.accent)
        fig_col = self._on(plate_fill, self.pal.primary if block.plate == "light" else self.pal.primary_dark)
        lab_col = self._on(plate_fill, self.pal.dark)
        if block.style == "inline":
            base = y0 + pad_y + asc
            lab_x = x0 + pad_x
            fx = lab_x + lab_w + d * 0.2
            lab_base = base
        else:
            lab_x = self._aligned_x((x0 + pad_x, 0, x0 + w - pad_x, 0), lab_w, block.align)
            lab_base = y0 + pad_y + lab * 1.0
            base = lab_base + lab * 0.3 + asc
            fx = self._aligned_x((x0 + pad_x, 0, x0 + w - pad_x, 0), fig_w, block.align)
        # contrast is measured on the plate/background before the text goes on it
        lab_box = (lab_x, lab_base - lab, lab_x + lab_w, lab_base + lab * 0.2)
        fig_box = (fx, base - asc, fx + fig_w, base + d * 0.05)
        lab_con, fig_con = worst_contrast(self.img, lab_box, lab_col), worst_contrast(self.img, fig_box, fig_col)
        small.draw(self.draw, (lab_x, lab_base), label, lab, lab_col)
        self.placed.append(Placed("apr_label", label, lab_box, lab, small.ids, rgb_hex(lab_col), lab_con))
        for t, k in runs:
            fx += hero.draw(self.draw, (fx, base), t, max(int(self.min_px), int(d * k)), fig_col)
        self.placed.append(Placed("apr", label + figure + suffix, fig_box, d, hero.ids, rgb_hex(fig_col),
                                  fig_con))
        self.placed.append(Placed("rate_plate", "", plate))

    def plan_perks(self, block: Block, perks: list[str], box: Box):
        """(rows, size, n) for pill-shaped chips: all perks if they fit legibly, else fewer (from the end)."""
        stack = self.stacks[block.font or "emphasis"]
        bw, bh = box[2] - box[0], box[3] - box[1]
        cap = (block.size_cap or 0.05) * self.short
        for n in range(len(perks), 0, -1):
            size = int(min(cap, bh / 1.9))
            while size >= self.min_px:
                rows = self._chip_rows(perks[:n], stack, size, bw)
                if rows and len(rows) * size * 1.9 - size * 0.3 <= bh:
                    return rows, size, n
                size -= 1
        return None

    def perks(self, block: Block, perks: list[str], box: Box | None = None) -> bool:
        box = box or self.box(block)
        plan = self.plan_perks(block, perks, box)
        if plan is None:
            self.dropped.append("perks")
            return False
        rows, size, n = plan
        self._draw_chips(rows, self.stacks[block.font or "emphasis"], size, box, block.align)
        if n < len(perks):
            self.dropped.append("perks:" + ",".join(perks[n:]))
        return True

    def _chip_rows(self, items, stack, size, width):
        padx, gap = size * 0.7, size * 0.5
        rows, cur, cur_w = [], [], 0.0
        for it in items:
            w = stack.measure(it, size) + 2 * padx
            if w > width:
                return None
            if cur and cur_w + gap + w > width:
                rows.append(cur)
                cur, cur_w = [], 0.0
            cur_w += (gap if cur else 0) + w
            cur.append((it, w))
        if cur:
            rows.append(cur)
        return rows

    def _draw_chips(self, rows, stack, size, box, align):
        asc, desc = stack.metrics(size)
        chip_h, gap = size * 1.6, size * 0.5
        y = box[1]
        fill = hex_rgb(self.pal.primary_dark)
        light = self._on(fill, self.pal.light)
        for row in rows:
            row_w = sum(w for _, w in row) + gap * (len(row) - 1)
            x = self._aligned_x(box, row_w, align)
            for text, w in row:
                cbox = (x, y, x + w, y + chip_h)
                self._rounded(cbox, fill, radius=chip_h / 2, alpha=235)
                self.draw.rounded_rectangle(cbox, radius=chip_h / 2, outline=(*hex_rgb(self.pal.accent), 255),
                                            width=max(1, int(size * 0.08)))
                tw = stack.measure(text, size)
                tx, base = x + (w - tw) / 2, y + (chip_h - (asc + desc)) / 2 + asc
                tb = (tx, base - asc, tx + tw, base + desc)
                # measured on the chip's face, inside its outline stroke
                con = worst_contrast(self.img, (tx, y + chip_h * 0.2, tx + tw, y + chip_h * 0.8), light)
                stack.draw(self.draw, (tx, base), text, size, light)
                self.placed.append(Placed("perk", text, cbox, size, stack.ids, rgb_hex(light), con))
                x += w + gap
            y += chip_h + size * 0.3

    def cta(self, block: Block, text: str) -> None:
        box = self.box(block)
        stack = self.stacks[block.font or "emphasis"]
        bw, bh = box[2] - box[0], box[3] - box[1]
        size = int(min(bh / 1.9, (block.size_cap or 1) * self.short))
        while size >= self.min_px:
            w = stack.measure(text, size) + size * 2.4
            if w <= bw:
                break
            size -= 1
        if size < self.min_px and block.optional:
            self.dropped.append("cta")
            return
        if size < self.min_px:
            raise LayoutError(f"CTA '{text}' does not fit a {self.W}×{self.H} canvas at a legible size",
                              "use 2–4 characters, e.g. 立即申请")
        h = size * 1.9
        x0 = self._aligned_x(box, w, block.align)
        y0 = box[1] + (bh - h) / 2
        btn = (x0, y0, x0 + w, y0 + h)
        self._rounded(btn, hex_rgb(self.pal.accent), radius=h / 2, shadow=True)
        asc, desc = stack.metrics(size)
        tw = stack.measure(text, size)
        col = self._on(hex_rgb(self.pal.accent), self.pal.accent_text)
        base = y0 + (h - (asc + desc)) / 2 + asc
        tb = (x0 + (w - tw) / 2, base - asc, x0 + (w + tw) / 2, base + desc)
        con = worst_contrast(self.img, tb, col)
        stack.draw(self.draw, (x0 + (w - tw) / 2, base), text, size, col)
        self.placed.append(Placed("cta", text, btn, size, stack.ids, rgb_hex(col), con))


def compose(bg: Image.Image, layout: Layout, palette, stacks: dict[str, FontStack], text: PosterText, *,
            safe, min_px: float, calm_background: bool = True, logo: Image.Image | None = None) -> Composed:
    c = Composer(bg, layout, palette, stacks, safe=safe, min_px=min_px, calm_background=calm_background)
    blocks = layout.blocks
    c.legal(blocks["legal"], text)
    if "logo" in blocks:
        c.logo(blocks["logo"], text, logo)
    c.headline(blocks["headline"], text.headline)
    if text.rate:
        c.rate(blocks["rate"], text.rate)
    sub_block, perk_block = blocks.get("subhead"), blocks.get("perks")
    shared = bool(perk_block and sub_block and perk_block.after == "subhead" and text.perks and text.subhead)
    if shared:
        # subhead and perks share one box: perks carry the offer, so they win when both cannot fit
        sub_fit = c._fit(text.subhead, sub_block.font or "body", c.box(sub_block), sub_block)
        pbox = c.box(perk_block)
        below = (pbox[0], pbox[1] + (sub_fit.height if sub_fit else 0) + c.gap() * 1.5, pbox[2], pbox[3])
        if sub_fit is None or c.plan_perks(perk_block, text.perks, below) is None:
            c.dropped.append("subhead")
            c.perks(perk_block, text.perks, pbox)
        else:
            c.simple("subhead", sub_block, text.subhead)
            c.perks(perk_block, text.perks, below)
    else:
        if sub_block and text.subhead:
            c.simple("subhead", sub_block, text.subhead)
        if perk_block and text.perks:
            c.perks(perk_block, text.perks)
    c.cta(blocks["cta"], text.cta)
    check_no_overlap(c.placed, c.W, c.H)
    return Composed(c.img.convert("RGB"), c.placed, c.dropped, layout.name)


# Rate figure type scale. poster-design.md suggests "%" and "起" at 40-50% of the digits; OCR (like a hurried
# reader) then splits "3.2" from a small "%" and misreads the seam ("3.422%", "6.7o%"), so the sign and a range's
# dash stay near digit size and only the CJK suffix is small. Measured with benchmarks/ocr_readback.py.
DIGIT_SCALE, SIGN_SCALE, SUFFIX_SCALE = 1.0, 0.85, 0.5


def figure_runs(figure: str, suffix: str) -> list[tuple[str, float]]:
    """'3.2%-7.2%' + '' → [('3.2', 1.0), ('%-', .85), ('7.2', 1.0), ('%', .85)]; a CJK suffix gets SUFFIX_SCALE."""
    runs = []
    for m in re.finditer(r"[\d.]+|[%％\-~～–—]+|[^\d.%％\-~～–—]+", figure + suffix):
        t = m.group(0)
        k = DIGIT_SCALE if t[0].isdigit() or t[0] == "." else SIGN_SCALE if t[0] in "%％-~～–—" else SUFFIX_SCALE
        runs.append((t, k))
    return runs


def check_no_overlap(placed: list[Placed], W: int, H: int) -> None:
    """Every block inside the canvas and clear of every other block (a bug in a layout file shows up here,
    not on a billboard)."""
    groups = {"apr": "rate", "apr_label": "rate", "rate_plate": "rate", "logo": "logo", "brand": "logo"}
    for p in placed:
        x0, y0, x1, y1 = p.box
        if x0 < -0.5 or y0 < -0.5 or x1 > W + 0.5 or y1 > H + 0.5:
            raise LayoutError(f"{p.role} '{p.text}' would fall outside the {W}×{H} canvas",
                              "check the layout's boxes in configs/layouts/")
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            ga, gb = groups.get(a.role, a.role + str(id(a))), groups.get(b.role, b.role + str(id(b)))
            if ga != gb and _overlaps(a.box, b.box):
                raise LayoutError(f"{a.role} '{a.text}' overlaps {b.role} '{b.text}' on {W}×{H}",
                                  "check the layout's boxes in configs/layouts/")
