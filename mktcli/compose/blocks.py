"""Drawing a solved plan (flow.py): legal band, text card, brand row, headline, hero plate, subhead, perk chips,
CTA. Sizes and boxes come from the plan; colours are chosen here on the actual pixels (WCAG contrast, with a plate
when the picture does not allow it). Plates and cards are opaque: nothing of the picture shows through a figure."""
from __future__ import annotations

from PIL import Image

from . import shapes
from .canvas import Box, Canvas, Placed
from .color import RGB, contrast, hex_rgb, luminance, rgb_hex
from .flow import Content, Plan, Slot, figure_runs

BAND_ALPHA = 200   # the legal band's opacity: dark enough for small print, the picture still felt through it
QUIET_ALPHA = 130  # … a quiet scrim's (Shape.legal_band 'quiet'): longer fades, no band edge


def _lum(c: RGB) -> float:
    return float(luminance(c))


class Painter(Canvas):
    """Draws one plan on a Canvas (one instance per poster)."""

    # ---- surfaces ---------------------------------------------------------------------------------------------
    def legal(self, plan: Plan, t: Content) -> None:
        """The legal rows on a calm band at the bottom, faded in at its top edge (a soft edge instead of a slab)."""
        lg = plan.legal
        stack = self.stacks["small"]
        x0, band_top, x1, bottom = lg.band
        band = hex_rgb(self.pal.band)
        alpha = QUIET_ALPHA if lg.quiet else BAND_ALPHA
        # a quiet scrim rather than a slab: a long soft fade into a translucent band (a smoothstep for the quiet
        # one: a ramp's kink reads as a line)
        yt, yb = int(round(band_top)), int(round(bottom))
        fade = min(lg.line * (3.5 if lg.quiet else 1.8), yt)
        if fade >= 2:
            import numpy as np

            x = np.linspace(0, 1, int(fade))
            x = x * x * (3 - 2 * x) if lg.quiet else x ** 1.4
            ramp = (x * alpha).astype("uint8")[:, None]
            mask = Image.fromarray(ramp).resize((self.W, int(fade)), Image.NEAREST)
            # whole rows, edge to edge with the band (a row between them, or one painted twice, reads as a line)
            self._paste("legal", band, (0, yt - int(fade), self.W, yt), mask)
        self.blend(band, (0, yt, self.W, yb), alpha, role="legal")
        below = min(lg.line * (3.0 if lg.quiet else 1.5), self.H - yb)
        if below >= 2:   # above a platform's UI zone: the band fades out downwards too, no slab floating mid-canvas
            import numpy as np

            x = np.linspace(1, 0, int(below))
            x = x * x * (3 - 2 * x) if lg.quiet else x ** 1.6
            ramp = (x * alpha).astype("uint8")[:, None]
            mask = Image.fromarray(ramp).resize((self.W, int(below)), Image.NEAREST)
            self._paste("legal", band, (0, yb, self.W, yb + int(below)), mask)
        self.placed.append(Placed("legal_band", "", (0.0, band_top, float(self.W), float(bottom))))
        records: dict[str, dict] = {}
        y = lg.top   # each row's em-box top; CJK glyphs sit in baseline-0.88em..baseline+0.12em
        sx0, sx1 = self.safe[0], self.safe[2]
        for row in lg.rows:
            x = sx0
            if plan.align == "center":   # a centred composition centres its legal rows too
                gaps = 2 * lg.size * (len(row) - 1)
                x = sx0 + (sx1 - sx0 - sum(stack.measure(t, lg.size) for _, t in row) - gaps) / 2
            for kind, text in row:
                w = stack.measure(text, lg.size)
                if kind == "label" and plan.align != "center":   # the AI label at the row's right end, a tag
                    x = max(x, self.safe[2] - w)
                tbox = (x, y, x + w, y + lg.size)
                color, con = self._quiet(*self._text_color(tbox, lg.size, role=kind), tbox, band)
                role = "ai_label" if kind == "label" else kind
                self._text(role, stack, (x, y + lg.size * 0.88), text, lg.size, color)
                rec = records.setdefault(role, {"lines": [], "boxes": [], "color": color, "contrast": con})
                rec["lines"].append(text)
                rec["boxes"].append(tbox)
                rec["contrast"] = min(rec["contrast"], con)
                x += w + 2 * lg.size
            y += lg.line
        for role, rec in records.items():
            bx = rec["boxes"]
            union = (min(b[0] for b in bx), min(b[1] for b in bx), max(b[2] for b in bx), max(b[3] for b in bx))
            self.placed.append(Placed(role, "".join(rec["lines"]), union, lg.size, stack.ids, rgb_hex(rec["color"]),
                                      rec["contrast"], rec["lines"]))

    def _quiet(self, color: RGB, con: float, box: Box, band: RGB) -> tuple[RGB, float]:
        """Small print a step quieter than the headline: the text colour mixed towards the band's as far as the
        contrast on the actual pixels stays at 4.5:1 or more."""
        for t in (0.35, 0.25, 0.15):
            quiet = tuple(int(round(c * (1 - t) + b * t)) for c, b in zip(color, band))
            c = self.worst(box, quiet)
            if c >= 4.5:
                return quiet, c
        return color, con

    def card(self, slot: Slot) -> None:
        x0, y0, x1, y1 = slot.box
        r = min(x1 - x0, y1 - y0) * 0.06
        self._rounded(slot.box, hex_rgb(self.pal.light), radius=max(4.0, r), shadow=True, role="card")
        self.placed.append(Placed("card", "", slot.box))

    # ---- text blocks ------------------------------------------------------------------------------------------
    def _surface_text(self, slot: Slot) -> RGB | None:
        """On the card the text colour is known in advance (the card is opaque): the brand's dark colour."""
        if not slot.on_card:
            return None
        card = hex_rgb(self.pal.light)
        for c in (self.pal.primary_dark, self.pal.dark, "#000000"):
            if contrast(_lum(hex_rgb(c)), _lum(card)) >= 4.5:
                return hex_rgb(c)
        return (0, 0, 0)

    def lines(self, role: str, slot: Slot, stack_role: str) -> None:
        f = slot.m.data["fit"]
        text = {"headline": self.t.headline, "subhead": self.t.subhead}[role]
        self._draw_lines(role, f, self.stacks[stack_role], slot.box, slot.align, text,
                         color=self._surface_text(slot))

    def brand(self, slot: Slot) -> None:
        t, m = self.t, slot.m
        x0, y0, x1, y1 = slot.box
        x = self._aligned_x(slot.box, m.w, slot.align)
        if m.data.get("logo"):
            im = t.logo.resize((max(1, int(m.w)), max(1, int(m.h))), Image.LANCZOS).convert("RGBA")
            self.img.paste(im, (int(x), int(y0)), im)
            self._ranges.clear()
            if self.rec is not None:
                self.rec.picture("logo", im, (int(x), int(y0)))
            self.placed.append(Placed("logo", t.brand_name, (x, y0, x + im.width, y0 + im.height)))
            return
        h = m.data["mark"]
        my = y0 + (m.h - h) / 2
        mark = (x, my, x + h, my + h)
        self._rounded(mark, hex_rgb(self.pal.accent), radius=h * 0.22, role="logo")
        stack = self.stacks["emphasis"]
        ch = t.brand_name[:1] or "M"
        size = int(h * 0.62)
        asc, desc = stack.metrics(size)
        w = stack.measure(ch, size)
        col = self._on(hex_rgb(self.pal.accent), self.pal.accent_text)
        self._text("logo", stack, (mark[0] + (h - w) / 2, mark[1] + (h - (asc + desc)) / 2 + asc), ch, size, col)
        self.placed.append(Placed("logo", ch, mark, size, stack.ids, rgb_hex(col)))
        f = m.data["fit"]
        nb = (mark[2] + h * 0.3, y0 + (m.h - f.height) / 2, x1, y1)
        self._draw_lines("brand", f, self.stacks["body"], nb, "left", t.brand_name, color=self._surface_text(slot))

    def hero(self, slot: Slot) -> None:
        """Label small, figure large on an opaque plate (or, plate 'none', straight on a calm picture in the accent
        colour — with a plate after all where the pixels do not give the figure 3:1)."""
        h, g = self.t.hero, slot.m.data
        d, lab, st = g["d"], g["lab"], g["style"]
        w, hh = slot.m.w, slot.m.h
        x0 = self._aligned_x(slot.box, w, slot.align)
        y0 = slot.box[1]
        plate_box = (x0, y0, x0 + w, y0 + hh)
        hero_s, small = self.stacks["hero"], self.stacks["body"]
        pal = self.pal
        plate = g["plate"]
        if slot.on_card:
            plate = "none"
        fig_role, lab_role = ("apr", "apr_label") if h.kind == "rate" else ("offer", "offer_label")
        if plate == "none":
            surface = hex_rgb(pal.light) if slot.on_card else None
            cands = ([pal.primary, pal.primary_dark, pal.dark] if slot.on_card else [pal.accent, pal.light])

            def reads(col: RGB, size: float) -> bool:
                c = contrast(_lum(col), _lum(surface)) if surface else self.worst(plate_box, col)
                return c >= self.need(size)

            fig_col = next((hex_rgb(c) for c in cands if reads(hex_rgb(c), d)), None)
            lab_col = self._surface_text(slot) or self._label_on_picture(plate_box)
            if fig_col is None or (h.label and not reads(lab_col, lab)):
                plate = "dark"   # the picture does not let the figure or its label read: put them on a plate
        if plate != "none":
            fill = hex_rgb({"dark": pal.primary_dark, "light": pal.light, "accent": pal.accent}[plate])
            if not slot.on_card:
                self.calm_ring(plate_box, fig_role)
            if g["plate"] == "none" and not slot.on_card:
                # the picture did not let the bare figure read: a plate after all, reaching a little into the
                # gaps around the slot (a bare figure's slot has no padding of its own)
                ex, ey = min(0.16 * d, 0.45 * 0.9 * self.body), min(0.08 * d, 0.45 * 0.9 * self.body)
                plate_box = (plate_box[0] - ex, plate_box[1] - ey, plate_box[2] + ex, plate_box[3] + ey)
            self._rounded(plate_box, fill, radius=min(w, hh) * 0.16, shadow=True, role=fig_role)
            prefer = ((pal.accent, pal.light) if plate == "dark" else
                      (pal.primary, pal.primary_dark) if plate == "light" else (pal.accent_text, pal.primary_dark))
            fig_col = self._on_large(fill, d, *prefer)
            lab_col = self._on(fill, pal.light if plate == "dark" else pal.dark)
        pad_x, pad_y, asc = g["pad_x"], g["pad_y"], g["asc"]
        fig_w, lab_w = g["fig_w"], g["lab_w"]
        inner = (x0 + pad_x, 0, x0 + w - pad_x, 0)
        if st == "inline":
            base = y0 + pad_y + asc + (hh - 2 * pad_y - asc * 1.04) / 2
            lab_x = x0 + pad_x
            fx = lab_x + lab_w + (d * 0.18 if lab_w else 0)
            lab_base = base
        else:
            lab_x = self._aligned_x(inner, lab_w, slot.align)
            lab_base = y0 + pad_y + lab * 1.0
            base = lab_base + (lab * 0.35 if lab_w else -lab) + asc
            fx = self._aligned_x(inner, fig_w, slot.align)
        lab_box = (lab_x, lab_base - lab, lab_x + lab_w, lab_base + lab * 0.2)
        fig_box = (fx, base - asc, fx + fig_w, base + d * 0.05)
        lab_con, fig_con = self.worst(lab_box, lab_col), self.worst(fig_box, fig_col)
        if h.label:
            self._text(fig_role, small, (lab_x, lab_base), h.label, lab, lab_col)
            self.placed.append(Placed(lab_role, h.label, lab_box, lab, small.ids, rgb_hex(lab_col), lab_con))
        for s, k in self.hero_runs:
            fx += self._text(fig_role, hero_s, (fx, base), s, max(int(self.min_px), int(d * k)), fig_col)
        self.placed.append(Placed(fig_role, h.text, fig_box, d, hero_s.ids, rgb_hex(fig_col), fig_con))
        self.placed.append(Placed("rate_plate", "", plate_box))

    def _on_large(self, fill: RGB, size: float, *preferred: str) -> RGB:
        """A colour for the figure on `fill`: the brand's first choice that reaches what its size needs (3:1 for
        large text)."""
        for p in preferred:
            c = hex_rgb(p)
            if contrast(_lum(c), _lum(fill)) >= self.need(size):
                return c
        return self._on(fill)

    def _label_on_picture(self, box: Box) -> RGB:
        light, dark = hex_rgb(self.pal.light), hex_rgb(self.pal.dark)
        return light if self.worst(box, light) >= self.worst(box, dark) else dark

    def perks(self, slot: Slot) -> None:
        g = slot.m.data
        stack = self.stacks["emphasis"]
        size, chip_h = g["size"], g["chip_h"]
        asc, desc = stack.metrics(size)
        gap = size * 0.5
        y = slot.box[1]
        on_card = slot.on_card
        fill = hex_rgb(self.pal.primary_dark if not on_card else self.pal.primary)
        text_col = self._on(fill, self.pal.light)
        if not on_card:   # the chips as one group over a busy picture get one halo
            rows_w = max(sum(w for _, w in r) + gap * (len(r) - 1) for r in g["rows"])
            rx = self._aligned_x(slot.box, rows_w, slot.align)
            self.calm_ring((rx, y, rx + rows_w, y + slot.m.h), "perks", unit=chip_h)
        for row in g["rows"]:
            row_w = sum(w for _, w in row) + gap * (len(row) - 1)
            x = self._aligned_x(slot.box, row_w, slot.align)
            for text, w in row:
                cbox = (x, y, x + w, y + chip_h)
                self._rounded(cbox, fill, radius=chip_h / 2, role="perks")
                if not on_card:   # a thin accent ring separates the chip from a dark picture
                    ox, oy, ox1, oy1 = (int(round(v)) for v in cbox)
                    if ox1 > ox and oy1 > oy:
                        ring = shapes.ring(ox1 - ox, oy1 - oy, chip_h / 2, max(1.0, size * 0.08))
                        self._paste("perks", hex_rgb(self.pal.accent), (ox, oy, ox1, oy1), ring)
                tw = stack.measure(text, size)
                tx, base = x + (w - tw) / 2, y + (chip_h - (asc + desc)) / 2 + asc
                con = self.worst((tx, y + chip_h * 0.2, tx + tw, y + chip_h * 0.8), text_col)
                n = sum(1 for p in self.placed if p.role == "perk") + 1   # perk1, perk2 … as in the texts
                self._text(f"perk{n}", stack, (tx, base), text, size, text_col)
                self.placed.append(Placed("perk", text, cbox, size, stack.ids, rgb_hex(text_col), con))
                x += w + gap
            y += chip_h + size * 0.45

    def cta(self, slot: Slot) -> None:
        g = slot.m.data
        size = g["size"]
        stack = self.stacks["emphasis"]
        w, h = slot.m.w, slot.m.h
        x0 = self._aligned_x(slot.box, w, slot.align)
        y0 = slot.box[1] + (slot.box[3] - slot.box[1] - h) / 2
        btn = (x0, y0, x0 + w, y0 + h)
        if not slot.on_card:   # a card is flat already: its own edges are not a busy picture
            self.calm_ring(btn, "cta")
        self._rounded(btn, hex_rgb(self.pal.accent), radius=h / 2, shadow=True, role="cta")
        asc, desc = stack.metrics(size)
        tw = stack.measure(self.t.cta, size)
        col = self._on(hex_rgb(self.pal.accent), self.pal.accent_text)
        base = y0 + (h - (asc + desc)) / 2 + asc
        tb = (x0 + (w - tw) / 2, base - asc, x0 + (w + tw) / 2, base + desc)
        con = self.worst(tb, col)
        self._text("cta", stack, (x0 + (w - tw) / 2, base), self.t.cta, size, col)
        self.placed.append(Placed("cta", self.t.cta, btn, size, stack.ids, rgb_hex(col), con))

    # ---- the whole plan ---------------------------------------------------------------------------------------
    def paint(self, plan: Plan, t: Content, *, calm: bool, scrim: str) -> None:
        self.t = t
        self.body = plan.body
        self.hero_runs = figure_runs(t.hero.figure, t.hero.suffix) if t.hero else []
        if not calm:
            self.scrim(scrim)
        self.legal(plan, t)
        for slot in plan.slots:
            if slot.name == "card":
                self.card(slot)
        for slot in plan.slots:
            n = slot.name
            if n == "brand":
                self.brand(slot)
            elif n == "headline" and t.headline:   # empty: the model drew it (text_in_image, read back exactly)
                self.lines("headline", slot, "display")
            elif n == "subhead":
                self.lines("subhead", slot, "body")
            elif n == "hero":
                self.hero(slot)
            elif n == "perks":
                self.perks(slot)
            elif n == "cta":
                self.cta(slot)
