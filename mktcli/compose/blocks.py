"""The poster's blocks — legal band, logo, headline, subhead, rate badge, perk chips, CTA — each fitted to its
layout box at a legible size, or dropped (optional blocks) or refused with a LayoutError (required ones)."""
from __future__ import annotations

import re

from PIL import Image, ImageDraw

from ..errors import LayoutError
from .canvas import Box, Canvas, Placed, PosterText
from .color import hex_rgb, rgb_hex, worst_contrast
from .fonts import FontStack
from .layout import Block
from .text import fit_text

# Rate figure type scale. poster-design.md suggests "%" and "起" at 40-50% of the digits; OCR (like a hurried
# reader) then splits "3.2" from a small "%" and misreads the seam ("3.422%", "6.7o%"), so the sign and a range's
# dash stay near digit size and only the CJK suffix is small. Measured with benchmarks/ocr_readback.py.
DIGIT_SCALE, SIGN_SCALE, SUFFIX_SCALE = 1.0, 0.85, 0.5
SMALL_CANVAS = 200  # px, short side: below it a headline that cannot fit legibly is dropped, not an error


def figure_runs(figure: str, suffix: str) -> list[tuple[str, float]]:
    """'3.2%-7.2%' + '' → [('3.2', 1.0), ('%-', .85), ('7.2', 1.0), ('%', .85)]; a CJK suffix gets SUFFIX_SCALE."""
    runs = []
    for m in re.finditer(r"[\d.]+|[%％\-~～–—]+|[^\d.%％\-~～–—]+", figure + suffix):
        t = m.group(0)
        k = DIGIT_SCALE if t[0].isdigit() or t[0] == "." else SIGN_SCALE if t[0] in "%％-~～–—" else SUFFIX_SCALE
        runs.append((t, k))
    return runs



class Composer(Canvas):
    """Places the blocks on a Canvas. One instance per poster."""

    def legal(self, block: Block, t: PosterText) -> None:
        """Disclaimer, provider line and AI label on a calm band at the bottom. Placed first: every other block
        stays above it. Never below the legible minimum; a canvas that cannot hold it is an error."""
        stack = self.stacks["small"]
        box = self.box(block)
        bw = box[2] - box[0]
        size = max(self.min_px, min((box[3] - box[1]) / 2.9, self.short * 0.026))
        size = int(-(-size // 1))
        parts = [(k, v) for k, v in (("disclaimer", t.disclaimer), ("provider", t.provider)) if v]
        rows = self._legal_rows(parts, stack, size, bw, block.one_line, t.ai_label)
        lh = size * 1.3
        pad = max(self.gap(), size * 0.45)
        height = len(rows) * lh + pad
        top = self.sy1 - height
        if top < self.sy0 + (self.sy1 - self.sy0) * 0.45:
            raise LayoutError(f"a {self.W}×{self.H} canvas cannot hold the disclaimer and provider line at the "
                              f"legible minimum of {self.min_px:g} px",
                              "use a larger placement size, or shorten message.disclaimer")
        if top > box[1]:  # more room than needed: centre the lines in the band's box
            top = box[1] + (top - box[1]) / 2
        band_top = top - pad * 0.6
        if block.band:  # calm band, full width, to the canvas bottom (or just past the text where the bottom
            # is a platform's UI-overlay zone: a dark slab under the app's buttons helps nobody)
            bottom = self.H if self.H - self.sy1 <= 0.1 * self.H else int(self.sy1 + pad)
            self.blend(hex_rgb(self.pal.band), (0, band_top, self.W, bottom), 225, role="legal")
        self.limit_y = band_top - self.gap()
        ascent, _ = stack.metrics(size)
        # one record per text (a disclaimer on two lines is one string with one box), in reading order
        records: dict[str, dict] = {}
        y = top + pad * 0.2
        for row in rows:
            x = box[0]
            for kind, text in row:
                w = stack.measure(text, size)
                if kind == "label":
                    lbox = (self.sx1 - w - size * 0.5, y, self.sx1, y + size * 1.25)
                    self._rounded(lbox, hex_rgb(self.pal.light), radius=size * 0.3, alpha=235, role="ai_label")
                    con = worst_contrast(self.img, lbox, hex_rgb(self.pal.dark))
                    # centre the em box (baseline-0.88em..baseline+0.12em) in the pill
                    baseline = lbox[1] + (lbox[3] - lbox[1] - size) / 2 + size * 0.88
                    self._text("ai_label", stack, (lbox[0] + size * 0.25, baseline), text, size,
                               hex_rgb(self.pal.dark))
                    self.placed.append(Placed("ai_label", text, lbox, size, stack.ids, self.pal.dark, con))
                    continue
                # the ideographic em box (CJK glyphs sit in baseline-0.88em..baseline+0.12em): rows don't touch
                tbox = (x, y + ascent - size * 0.88, x + w, y + ascent + size * 0.12)
                color, con = self._text_color(tbox, size, role=kind)
                self._text(kind, stack, (x, y + ascent), text, size, color)
                rec = records.setdefault(kind, {"lines": [], "boxes": [], "color": color, "contrast": con})
                rec["lines"].append(text)
                rec["boxes"].append(tbox)
                rec["contrast"] = min(rec["contrast"], con)
                x += w + 2 * size
            y += lh
        for kind, rec in records.items():
            bx = rec["boxes"]
            union = (min(b[0] for b in bx), min(b[1] for b in bx), max(b[2] for b in bx), max(b[3] for b in bx))
            self.placed.append(Placed(kind, "".join(rec["lines"]), union, size, stack.ids, rgb_hex(rec["color"]),
                                      rec["contrast"], rec["lines"]))

    def _legal_rows(self, parts: list[tuple[str, str]], stack: FontStack, size: int, width: float,
                    one_line: bool, label: str | None) -> list[list[tuple[str, str]]]:
        """Rows of (kind, text). On wide banners disclaimer and provider share a row, with a wide gap so they
        read (and OCR) as two texts; otherwise each wraps on its own rows. The AI label goes at the end."""
        from .linebreak import break_lines

        label_w = stack.measure(label, size) + size * 1.2 if label else 0
        if one_line and len(parts) == 2:
            total = sum(stack.measure(v, size) for _, v in parts) + 2 * size + label_w
            if total <= width:
                return [list(parts) + ([("label", label)] if label else [])]
        rows = [[(kind, ln)] for kind, text in parts
                for ln in break_lines(text, lambda s: stack.measure(s, size), width)]
        if label:
            if rows and stack.measure("".join(t for _, t in rows[-1]), size) + label_w <= width:
                rows[-1].append(("label", label))
            else:
                rows.append([("label", label)])
        return rows

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
            im = im.convert("RGBA")
            self.img.paste(im, (int(box[0]), int(box[1])), im)
            if self.rec is not None:
                self.rec.picture("logo", im, (int(box[0]), int(box[1])))
            self.placed.append(Placed("logo", t.brand_name, (box[0], box[1], box[0] + im.width, box[1] + im.height)))
            return
        # lettermark: a rounded square with the brand's first character, then the name
        mark = (box[0], box[1], box[0] + h, box[1] + h)
        self._rounded(mark, hex_rgb(self.pal.accent), radius=h * 0.22, role="logo")
        stack = self.stacks["emphasis"]
        ch = t.brand_name[:1] or "M"
        size = int(h * 0.62)
        asc, desc = stack.metrics(size)
        w = stack.measure(ch, size)
        self._text("logo", stack, (mark[0] + (h - w) / 2, mark[1] + (h - (asc + desc)) / 2 + asc), ch, size,
                   hex_rgb(self.pal.accent_text))
        self.placed.append(Placed("logo", ch, mark, size, stack.ids, self.pal.accent_text))
        if block.mark_only:
            return
        name_box = (mark[2] + h * 0.3, box[1], box[2], box[3])
        f = fit_text(t.brand_name, self.stacks["body"], name_box[2] - name_box[0], h,
                     min_size=self.min_px, max_size=h * 0.7, max_lines=1)
        if f is None:  # the mark alone still identifies the brand; the name never goes below legible
            self.dropped.append("brand name")
            return
        nb = (name_box[0], box[1] + (h - f.height) / 2, name_box[2], box[3])
        self._draw_lines("brand", f, self.stacks["body"], nb, "left", t.brand_name)

    def headline(self, block: Block, text: str) -> None:
        box = self.box(block)
        f = self._fit(text, block.font or "display", box, block, balanced=True)
        if f is None:
            # thumbnails (short side under 200 px) carry the rate and the legal text; a long headline yields
            # there, and is recorded as dropped. On a real poster it is an error the user should fix.
            if block.optional or self.short < SMALL_CANVAS:
                self.dropped.append("headline")
                return
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

    def rate(self, block: Block, rate: tuple[str, str, str], box: Box | None = None,
             required: bool = True) -> bool:
        """The rate badge: label small, digits large, on a plate. Tries the layout's style, then the other
        (stacked ↔ inline) before giving up; returns False (required=False) or raises LayoutError."""
        box = box or self.box(block)
        for style in (block.style, "inline" if block.style == "stacked" else "stacked"):
            if self._rate(block.model_copy(update={"style": style}), rate, box):
                return True
        if required:
            raise LayoutError(f"the rate '{rate[1]}' does not fit a {self.W}×{self.H} canvas at a legible size",
                              "use a larger placement size")
        return False

    def _rate(self, block: Block, rate: tuple[str, str, str], box: Box) -> bool:
        label, figure, suffix = rate
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
            return False
        d, (w, h, lab, fig_w, lab_w, pad_x, pad_y, asc) = best
        x0 = self._aligned_x(box, w, block.align)
        y0 = box[1] + (bh - h) / 2 if block.style == "inline" else box[1]
        plate = (x0, y0, x0 + w, y0 + h)
        if block.plate != "none":
            fill = self.pal.light if block.plate == "light" else self.pal.accent
            self._rounded(plate, hex_rgb(fill), radius=min(w, h) * 0.14, alpha=245, shadow=True, role="apr")
        plate_fill = hex_rgb(self.pal.light if block.plate == "light" else self.pal.accent)
        fig_col = self._on(plate_fill, *((self.pal.primary, self.pal.accent, self.pal.primary_dark)
                                         if block.plate == "light" else (self.pal.primary_dark,)))
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
        self._text("apr", small, (lab_x, lab_base), label, lab, lab_col)
        self.placed.append(Placed("apr_label", label, lab_box, lab, small.ids, rgb_hex(lab_col), lab_con))
        for t, k in runs:
            # label and figure are one text layer, like the one "apr" block: 年化利率3.2%起
            fx += self._text("apr", hero, (fx, base), t, max(int(self.min_px), int(d * k)), fig_col)
        self.placed.append(Placed("apr", label + figure + suffix, fig_box, d, hero.ids, rgb_hex(fig_col),
                                  fig_con))
        self.placed.append(Placed("rate_plate", "", plate))
        return True

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
                self._rounded(cbox, fill, radius=chip_h / 2, alpha=235, role="perks")
                ox, oy = int(cbox[0]), int(cbox[1])
                ring = Image.new("L", (int(cbox[2]) - ox + 2, int(cbox[3]) - oy + 2), 0)
                ImageDraw.Draw(ring).rounded_rectangle([cbox[0] - ox, cbox[1] - oy, cbox[2] - ox, cbox[3] - oy],
                                                       radius=chip_h / 2, outline=255, width=max(1, int(size * 0.08)))
                self._paste("perks", hex_rgb(self.pal.accent), (ox, oy, ox + ring.width, oy + ring.height), ring)
                tw = stack.measure(text, size)
                tx, base = x + (w - tw) / 2, y + (chip_h - (asc + desc)) / 2 + asc
                # measured on the chip's face, inside its outline stroke
                con = worst_contrast(self.img, (tx, y + chip_h * 0.2, tx + tw, y + chip_h * 0.8), light)
                n = sum(1 for p in self.placed if p.role == "perk") + 1   # perk1, perk2 … as in the texts
                self._text(f"perk{n}", stack, (tx, base), text, size, light)
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
        self._rounded(btn, hex_rgb(self.pal.accent), radius=h / 2, shadow=True, role="cta")
        asc, desc = stack.metrics(size)
        tw = stack.measure(text, size)
        col = self._on(hex_rgb(self.pal.accent), self.pal.accent_text)
        base = y0 + (h - (asc + desc)) / 2 + asc
        tb = (x0 + (w - tw) / 2, base - asc, x0 + (w + tw) / 2, base + desc)
        con = worst_contrast(self.img, tb, col)
        self._text("cta", stack, (x0 + (w - tw) / 2, base), text, size, col)
        self.placed.append(Placed("cta", text, btn, size, stack.ids, rgb_hex(col), con))


