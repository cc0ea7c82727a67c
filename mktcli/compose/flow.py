"""The flow solver: sizes and places a creative's blocks in its layout family, before anything is drawn.

Three type sizes and a small one, not seven: body `b` (subhead, perks, CTA, brand name, the hero's label), display
(the headline, `family.display × b`) and hero (the rate or offer digits, `family.hero × b`), each capped by the
width it has; legal text at the channel's legible minimum. The solver looks for the largest `b` at which every block
fits its column and every column fits the height the legal band leaves — absent blocks take no room, and the `visual`
slot takes what is left, so space always belongs to something on the poster. When `b` would be cramped it drops the
subhead, then perks from the end, before shrinking further; the brand and the CTA are never dropped. Spacing follows
one rhythm unit (0.9 × b). The plan names every box, the visual zone (where the key visual's subject goes, running
to the canvas edges) and what was dropped; blocks.py draws it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import LayoutError
from .fonts import FontStack
from .layout import Column, Family, Shape
from .linebreak import break_lines
from .text import Fitted, fit_text

Box = tuple[float, float, float, float]

# Rate figure type scale. poster-design.md suggests "%" and "起" at 40-50% of the digits; OCR (like a hurried
# reader) then splits "3.2" from a small "%" and misreads the seam ("3.422%", "6.7o%"), so the sign and a range's
# dash stay near digit size and only the CJK suffix is small. Measured with benchmarks/ocr_readback.py.
DIGIT_SCALE, SIGN_SCALE, SUFFIX_SCALE = 1.0, 0.85, 0.5
SMALL_CANVAS = 200   # px, short side: below it a headline that cannot fit legibly is dropped, not an error (and on
#                      a thumbnail — not a banner — the brand row too: the feed shows the advertiser beside it)
RHYTHM = 0.9         # the spacing unit, × body size
# gaps between neighbours, in rhythm units (default 1)
GAPS = {("brand", "*"): 1.5, ("*", "cta"): 1.4, ("headline", "hero"): 1.3, ("headline", "subhead"): 0.9,
        ("hero", "subhead"): 1.0, ("subhead", "perks"): 0.9, ("hero", "perks"): 1.1, ("*", "visual"): 1.0,
        ("visual", "*"): 1.0}
VISUAL_COLUMN = 0.3  # the least share of the width a picture column keeps beside a text column ('share' mode)
HERO_FLOOR = 2.4     # in a column the hero figure is never below this many times the body size
HERO_LEAD = 1.35     # in a column the hero figure is at least this many times the headline's size
MAX_SPREAD = 3.5     # a spread column grows each gap to at most this many rhythm units
TIGHT = 0.7          # at the legible minimum, the rhythm may tighten to this share before a creative fails


@dataclass(frozen=True)
class Hero:
    """The hero figure: the rate, or — when there is none — the strongest figure of the offer (a price, an amount,
    a discount, a term), typeset like a rate: label small, figure large, unit and 起 small."""

    kind: str          # rate | offer
    label: str
    figure: str
    suffix: str

    @property
    def text(self) -> str:
        return self.label + self.figure + self.suffix


@dataclass
class Content:
    """What goes on one creative (resolved from brief + segment + category defaults + channel)."""

    brand_name: str
    headline: str
    cta: str                       # "" where the channel cannot be tapped (no button)
    disclaimer: str
    provider: str
    hero: Hero | None
    subhead: str = ""
    perks: list[str] = field(default_factory=list)
    ai_label: str | None = None
    logo: Any = None               # PIL image (RGBA) or None: a lettermark is drawn


@dataclass
class Ctx:
    W: int
    H: int
    safe: Box                      # x0, y0, x1, y1 px
    min_px: float
    stacks: dict[str, FontStack]
    shape: Shape
    family: Family
    family_name: str
    scale: float = 1.0             # type scale of the audience (older readers: larger), configs/audiences.yaml
    role_min: dict[str, float] = field(default_factory=dict)   # a role's least size, px (TYPO-SIZE: a headline
    #                                                            reads as one, at least 4/3 of the legible minimum)

    @property
    def short(self) -> int:
        return min(self.W, self.H)

    @property
    def banner(self) -> bool:
        return self.H <= 300 and self.W / self.H >= 2.4


@dataclass
class M:
    """A block measured at one type scale: its size and what the drawer needs."""

    name: str
    w: float
    h: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Legal:
    size: int
    rows: list[list[tuple[str, str]]]      # rows of (kind, text): disclaimer, provider, label
    line: float
    pad: float
    top: float                             # first row's em-box top (the band starts `pad` above it)
    band: Box
    over_budget: bool = False
    quiet: bool = False                    # quiet lines on a light scrim, no band (Shape.legal_band 'quiet')


@dataclass
class Slot:
    """A placed item: a block (measured) at a box, or the visual slot, or a card panel."""

    name: str
    box: Box
    m: M | None = None
    align: str = "left"
    on_card: bool = False


@dataclass
class Plan:
    family: str
    shape: str
    body: int
    slots: list[Slot]
    legal: Legal
    visual_zone: tuple[int, int, int, int]
    dropped: list[str]
    safe: Box = (0.0, 0.0, 0.0, 0.0)
    notes: list[str] = field(default_factory=list)
    cramped: bool = False          # the body size stayed under the comfort size (another family may do better)
    subject: bool = True           # the visual zone has room for the picture's subject (else background only)
    align: str = "left"            # the text's main alignment (the legal rows follow it)

    def slot(self, name: str) -> Slot | None:
        return next((s for s in self.slots if s.name == name), None)


# ---------------------------------------------------------------------------------------------- measuring
def figure_runs(figure: str, suffix: str) -> list[tuple[str, float]]:
    """'3.2%-7.2%' + '' → [('3.2', 1.0), ('%-', .85), ('7.2', 1.0), ('%', .85)]; a CJK suffix gets SUFFIX_SCALE."""
    import re

    runs = []
    for m in re.finditer(r"[\d.]+|[%％\-~～–—]+|[^\d.%％\-~～–—]+", figure + suffix):
        t = m.group(0)
        k = DIGIT_SCALE if t[0].isdigit() or t[0] == "." else SIGN_SCALE if t[0] in "%％-~～–—" else SUFFIX_SCALE
        runs.append((t, k))
    return runs


class Measure:
    """Measures blocks for one creative (fonts, content, canvas); pure: nothing is drawn."""

    def __init__(self, ctx: Ctx, content: Content):
        self.c, self.t = ctx, content
        self.hero_runs = figure_runs(content.hero.figure, content.hero.suffix) if content.hero else []

    def _px(self, v: float) -> int:
        return max(int(math.ceil(self.c.min_px)), int(v))

    def brand(self, b: int, width: float) -> M | None:
        c, t = self.c, self.t
        mark = int(max(b * 1.45, c.min_px * 1.3))
        if t.logo is not None:   # the brand's own logo (with its name): scaled to the row, never below legible
            h = mark * 1.1
            w = t.logo.width * h / t.logo.height
            if w > width:
                w, h = width, t.logo.height * width / t.logo.width
            return M("brand", w, h, {"logo": True}) if h >= c.min_px else None
        name_w = width - mark * 1.3
        if name_w <= c.min_px:
            return None
        f = fit_text(t.brand_name, c.stacks["body"], name_w, mark * 1.6, min_size=c.min_px, max_size=b,
                     max_lines=1, line_height=1.1)   # a brand name is never broken over lines
        if f is None:
            return None
        return M("brand", mark * 1.3 + f.width, max(mark, f.height), {"mark": mark, "fit": f})

    def headline(self, b: int, width: float, cap: float | None, max_lines: int, max_h: float | None = None,
                 smallest: bool = False) -> M | None:
        """`cap`: the hero figure's size. In a column the headline stays at most 1/HERO_LEAD of it, so the offer
        is unmistakably the hero; in a row (height-bound) at most the figure itself."""
        c = self.c
        top = c.family.display * b
        if cap:
            top = min(top, cap if c.W / c.H >= 2.4 else cap / HERO_LEAD)
        # never smaller than the button's label or the chips beside it, nor than the compliance rules' least
        # headline size (TYPO-SIZE): a headline that cannot be that large is left out (small canvases) or an error
        lo = max(c.min_px, c.role_min.get("headline", 0.0),
                 math.ceil(b * (1.0 if c.W / c.H >= 2.4 else 1.2)) if c.H > 120 else c.min_px)
        if smallest:
            top = lo
        f = fit_text(self.t.headline, c.stacks["display"], width, max_h or 10 * c.H, min_size=lo,
                     max_size=max(lo, top),
                     max_lines=max_lines, line_height=1.18, balanced=True)
        return None if f is None else M("headline", f.width, f.height, {"fit": f})

    def hero(self, b: int, width: float, style: str, plate: str, limit_h: float | None = None,
             smallest: bool = False) -> M | None:
        """The largest digit size (≤ family.hero × b, ≥ 1.3 × b) whose plate fits the width (and `limit_h`)."""
        c, h = self.c, self.t.hero
        hero_s, small = c.stacks["hero"], c.stacks["body"]
        lab = self._px(b * 0.95)

        def geometry(d: int, st: str):
            fig_w = sum(hero_s.measure(s, self._px(d * k)) for s, k in self.hero_runs)
            lab_w = small.measure(h.label, lab) if h.label else 0.0
            # a figure straight on the picture aligns with the column's edge; a plate pads it
            pad_x, pad_y = (d * 0.24, d * 0.16) if plate != "none" else (0.0, d * 0.06)
            asc = hero_s.metrics(d)[0] * 0.78   # digits reach about cap height, not the full ascent
            if st == "inline":
                w = lab_w + (d * 0.18 if lab_w else 0) + fig_w + 2 * pad_x
                hh = max(asc * 1.04, lab * 1.25) + 2 * pad_y
            else:
                w = max(lab_w, fig_w) + 2 * pad_x
                hh = (lab * 1.35 if lab_w else 0) + asc * 1.04 + 2 * pad_y
            return w, hh, {"d": d, "lab": lab, "fig_w": fig_w, "lab_w": lab_w, "pad_x": pad_x, "pad_y": pad_y,
                           "asc": asc, "style": st, "plate": plate}

        # the figure's least size: 1.3 × body in a row (height-bound); in a column it stays a hero, 2.4 × body
        lo_d = self._px(max(b * (1.3 if c.W / c.H >= 2.4 else HERO_FLOOR), c.min_px))
        hi_d = lo_d if smallest else int(max(lo_d, c.family.hero * b))
        found = []
        for st in (style, "inline" if style == "stacked" else "stacked"):
            lo, hi, best = lo_d, hi_d, None
            while lo <= hi:
                mid = (lo + hi) // 2
                w, hh, g = geometry(mid, st)
                if w <= width and (limit_h is None or hh <= limit_h):
                    best, lo = (w, hh, g), mid + 1
                else:
                    hi = mid - 1
            if best is not None:
                found.append(M("hero", best[0], best[1], best[2]))
                if not (c.W / c.H >= 2.4 and not smallest):
                    break   # in a column the family's style wins; in a row, whichever gives the larger figure
        return max(found, key=lambda m: m.data["d"]) if found else None

    def text(self, name: str, text: str, b: int, width: float, max_lines: int) -> M | None:
        c = self.c
        f = fit_text(text, c.stacks["body"], width, 10 * c.H, min_size=max(c.min_px, b * 0.85), max_size=b,
                     max_lines=max_lines, line_height=1.4)
        return None if f is None else M(name, f.width, f.height, {"fit": f})

    def perks(self, b: int, width: float, perks: list[str], rows_max: int) -> M | None:
        c = self.c
        stack = c.stacks["emphasis"]
        size = b
        while size >= max(c.min_px, b * 0.85):
            rows = chip_rows(perks, stack, size, width)
            # rows of equal count only (3 chips as 2 + 1 reads as an orphan): else fewer perks, decided by the
            # candidates that drop them from the end
            if rows and len(rows) <= rows_max and len({len(r) for r in rows}) == 1:
                chip_h = size * 1.65
                h = len(rows) * chip_h + (len(rows) - 1) * size * 0.45
                w = max(sum(cw for _, cw in r) + size * 0.5 * (len(r) - 1) for r in rows)
                return M("perks", w, h, {"rows": rows, "size": size, "chip_h": chip_h})
            size -= 1
        return None

    def cta(self, b: int, width: float, limit_h: float | None = None, smallest: bool = False) -> M | None:
        """The button: its label at about body size (a little larger in a column, where a button is a target to
        thumb), at least a third of the column wide there."""
        c = self.c
        stack = c.stacks["emphasis"]
        row = c.W / c.H >= 2.4 or smallest
        size = int(b * (1.05 if row else 1.15))
        while size >= max(c.min_px, b * 0.85):
            w = stack.measure(self.t.cta, size) + size * 2.6
            h = size * (1.9 if row else 2.15)
            if not row:
                w = max(w, min(width, width * 0.36))
            if w <= width and (limit_h is None or h <= limit_h):
                return M("cta", w, h, {"size": size})
            size -= 1
        return None


def _narrowest(text: str, stack: FontStack, size: int, max_lines: int) -> float:
    """The narrowest width at which `text` breaks into at most `max_lines` lines at `size` (within 5%)."""
    total = stack.measure(text, size)
    w = total / max_lines
    while w < total:
        lines = break_lines(text, lambda s: stack.measure(s, size), w)
        if len(lines) <= max_lines:
            return max(stack.measure(ln, size) for ln in lines) + 1
        w *= 1.05
    return total + 1


def chip_rows(items: list[str], stack: FontStack, size: int, width: float) -> list[list[tuple[str, float]]] | None:
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


# ---------------------------------------------------------------------------------------------- legal band
def plan_legal(ctx: Ctx, t: Content) -> Legal:
    """Disclaimer, provider line and AI label at the bottom of the safe area, first: everything else stays above.
    One quiet line where the width allows, else wrapped (words kept whole); the largest size from a small target
    down to the legible minimum that keeps the band within the shape's budget (22% on banners ≤ 300 px tall)."""
    stack = ctx.stacks["small"]
    sx0, sy0, sx1, sy1 = ctx.safe
    width = sx1 - sx0
    budget = (0.22 if ctx.H <= 300 else ctx.shape.legal_budget) * ctx.H
    parts = [(k, v) for k, v in (("disclaimer", t.disclaimer), ("provider", t.provider)) if v]

    def rows_at(size: int) -> list[list[tuple[str, str]]]:
        label_w = stack.measure(t.ai_label, size) + size * 1.2 if t.ai_label else 0
        gap = 2 * size
        if len(parts) == 2 and sum(stack.measure(v, size) for _, v in parts) + gap + label_w <= width:
            return [list(parts) + ([("label", t.ai_label)] if t.ai_label else [])]
        fit = lambda s: stack.measure(s, size)  # noqa: E731
        rows = [[(kind, ln)] for kind, text in parts for ln in break_lines(text, fit, width)]
        if len(parts) == 2:
            # wrapped, the small print reads as one paragraph: the provider's sentence runs on after the
            # disclaimer's last line (one block, so its box holds both) wherever that saves a row
            joined = [[("disclaimer", ln)] for ln in break_lines(t.disclaimer + "\u3000" + t.provider, fit, width)]
            if len(joined) < len(rows):
                rows = joined
        if t.ai_label:
            if rows and stack.measure("".join(x for _, x in rows[-1]), size) + label_w <= width:
                rows[-1].append(("label", t.ai_label))
            else:
                rows.append([("label", t.ai_label)])
        return rows

    lo = int(math.ceil(ctx.min_px))
    target = max(lo, int(round(ctx.short * 0.021)))
    chosen = None
    for size in range(target, lo - 1, -1):
        rows = rows_at(size)
        if any(stack.measure("".join(x for _, x in r), size) > width + 0.5 for r in rows):
            continue
        line, pad = size * 1.22, max(2.0, size * 0.3)
        # the band as drawn: from just above the first row to the canvas bottom (or just under the last row where a
        # platform's UI covers the bottom)
        drawn = (len(rows) - 1) * line + size * 1.05 + 1.5 * pad + (ctx.H - sy1 if ctx.H - sy1 <= 0.1 * ctx.H else pad)
        if drawn <= budget or size == lo:
            chosen = (size, rows, line, pad)
            break
    if chosen is None:
        raise LayoutError(f"a {ctx.W}×{ctx.H} canvas cannot hold the disclaimer and provider line at the legible "
                          f"minimum of {ctx.min_px:g} px", "use a larger placement size, or shorten message.disclaimer")
    size, rows, line, pad = chosen
    top = sy1 - (len(rows) - 1) * line - size - pad * 0.5
    if top < sy0 + (sy1 - sy0) * 0.45:
        raise LayoutError(f"a {ctx.W}×{ctx.H} canvas cannot hold the disclaimer and provider line at the legible "
                          f"minimum of {ctx.min_px:g} px", "use a larger placement size, or shorten message.disclaimer")
    band_top = top - pad
    # a platform's UI-overlay zone below: the band ends just under the text, and the picture runs on beneath it
    bottom = ctx.H if ctx.H - sy1 <= 0.1 * ctx.H else sy1 + pad
    return Legal(size, rows, line, pad, top, (0.0, band_top, float(ctx.W), float(bottom)),
                 over_budget=bottom - band_top > budget + 0.5, quiet=ctx.shape.legal_band == "quiet")


# ---------------------------------------------------------------------------------------------- solving
def _gap(a: str, b: str) -> float:
    return GAPS.get((a, b)) or GAPS.get((a, "*")) or GAPS.get(("*", b)) or 1.0


class Solver:
    def __init__(self, ctx: Ctx, content: Content):
        self.c, self.t = ctx, content
        self.m = Measure(ctx, content)
        self.legal = plan_legal(ctx, content)
        fam = ctx.family
        self.columns = [self._column_items(col) for col in fam.columns]

    @property
    def row(self) -> bool:
        """One-row shapes (wide banners, strips): columns side by side, each block fits the row's height."""
        return self.c.W / self.c.H >= 2.4

    # which blocks this creative has at all
    def present(self, name: str, keep: dict) -> bool:
        t = self.t
        return {"brand": keep.get("brand", True), "headline": bool(t.headline) and keep.get("headline", True),
                "hero": t.hero is not None, "subhead": bool(t.subhead) and keep.get("subhead", True),
                "perks": bool(t.perks) and keep.get("perks", len(t.perks)) > 0, "cta": bool(t.cta),
                "visual": True, "card": True}[name]

    def _column_items(self, col: Column) -> list[str]:
        return list(col.items)

    @property
    def visual_min(self) -> float:
        fam = self.c.family
        return fam.visual_min if fam.visual_min is not None else self.c.shape.visual_min

    # ---- geometry of one attempt
    def _widths(self, keep: dict, b: int, mode: str = "share") -> list[float] | None:
        """Column widths (px) at this scale: each column gets the least its blocks need, and the rest of the safe
        width is shared in proportion to the family's fractions; a column with nothing to show collapses. Mode
        'share': the flexible (picture) column takes part in the sharing; 'full': the text columns share it all
        (the picture gets what they leave once they shrink to their contents). None: not even the least fits."""
        c = self.c
        sw = c.safe[2] - c.safe[0]
        cols = c.family.columns
        live = [self._live(i, keep) for i in range(len(cols))]
        gutter = self.gutter(b)
        avail = sw - gutter * max(0, sum(live) - 1)
        mins = [self._min_width(i, keep, b) if live[i] else 0.0 for i in range(len(cols))]
        if mode == "share":   # the picture's column keeps a share of its own (a third beside a text column)
            share = self.visual_min if self.row else VISUAL_COLUMN
            mins = [avail * share if live[i] and col.width is None and "visual" in col.items else w
                    for i, (col, w) in enumerate(zip(cols, mins))]
        if sum(mins) > avail + 0.5:
            return None
        fixed = sum(cols[i].width or 0 for i in range(len(cols)) if live[i])
        weights = [0.0 if not live[i] else col.width if col.width is not None
                   else (max(0.0, 1 - fixed) if mode == "share" else 0.0) for i, col in enumerate(cols)]
        extra = avail - sum(mins)
        total = sum(weights) or 1.0
        out = [mins[i] + extra * weights[i] / total if live[i] else 0.0 for i in range(len(cols))]
        return [max(w, 1.0) if live[i] else 0.0 for i, w in enumerate(out)]

    def gutter(self, b: int) -> float:
        """Space between columns: 1.3 rhythm units, but at most 3% of the width (a 320 px banner needs its pixels)."""
        return min(RHYTHM * b * 1.3, 0.03 * self.c.W)

    def _min_width(self, i: int, keep: dict, b: int) -> float:
        """The narrowest a column can be at body size b: its widest required block at its smallest."""
        col = self.c.family.columns[i]
        pad = 2 * RHYTHM * b * (0.5 if self.c.W / self.c.H >= 2.4 else 1.1) if col.card else 0.0
        names = [n for n in col.items + col.card if n not in ("visual", "card") and self.present(n, keep)]
        return max([self._min_block_width(n, b) for n in names] or [0.0]) + (pad if names else 0.0)

    def _min_block_width(self, name: str, b: int) -> float:
        c, t, m = self.c, self.t, self.m
        lo = int(math.ceil(c.min_px))
        if name == "brand":
            if t.logo is not None:
                return t.logo.width * c.min_px / t.logo.height
            mark = int(max(b * 1.45, c.min_px * 1.3))
            return mark * 1.3 + c.stacks["body"].measure(t.brand_name, lo) + 1
        if name == "headline":
            # a kept headline reserves what it needs at its least size, even where a thumbnail may leave it out
            # (candidates() drops it when it cannot have that): shared out by the column fractions alone, a 728×90
            # leaderboard gave its headline 120 px of the 147 it needed and dropped it beside an empty stretch
            size = int(math.ceil(max(c.min_px, c.role_min.get("headline", 0.0),
                                     b * (1.0 if self.row else 1.2) if c.H > 120 else c.min_px)))
            return _narrowest(t.headline, c.stacks["display"], size, c.family.style("headline").max_lines)
        if name == "hero":
            w = [m.hero(b, 1e9, st, "light", smallest=True) for st in ("inline", "stacked")]
            return min(x.w for x in w if x is not None)
        if name == "cta":
            size = int(math.ceil(max(c.min_px, b * 0.85)))
            return c.stacks["emphasis"].measure(t.cta, size) + size * 2.6 + 1
        return 0.0   # subhead, perks: optional, dropped when they do not fit

    def _live(self, i: int, keep: dict) -> bool:
        col = self.c.family.columns[i]
        return any(self.present(n, keep) for n in col.items if n != "card") or bool(col.card)

    def _measure_items(self, names: list[str], b: int, width: float, keep: dict, hero_d: float | None,
                       limit_h: float | None) -> list[M] | None:
        """Measure the present blocks of a stack; None when a required one does not fit."""
        out = []
        c, fam = self.c, self.c.family
        for n in names:
            if not self.present(n, keep):
                continue
            if n == "brand":
                m = self.m.brand(b, width)
            elif n == "headline":
                m = self.m.headline(b, width, hero_d, fam.style("headline").max_lines)
            elif n == "hero":
                st = fam.style("hero")
                m = self.m.hero(b, width, st.style, st.plate, limit_h)
            elif n == "subhead":
                m = self.m.text("subhead", self.t.subhead, b, width, fam.style("subhead").max_lines
                                if "subhead" in fam.blocks else 2)
            elif n == "perks":
                m = self.m.perks(b, width, self.t.perks[:keep.get("perks", len(self.t.perks))],
                                 fam.style("perks").rows)
            elif n == "cta":
                m = self.m.cta(b, width, limit_h)
            elif n == "visual":
                m = M("visual", width, self.visual_min * (c.safe[3] - c.safe[1]) if not self.row else 0.0)
            else:
                continue
            if m is None:
                return None
            out.append(m)
        return out

    def _fit_stack(self, names: list[str], b: int, width: float, keep: dict, hero_d: float | None,
                   row_h: float | None, avail: float, u: float) -> list[M] | None:
        """Measure a stack and make it fit `avail` px of height: the headline gives way first (smaller, fewer
        lines), then the hero figure; on thumbnails (short side < 200 px) the headline, then the brand row, are left
        out rather than making the rate or the legal text illegible."""
        c, fam = self.c, self.c.family
        ms = self._measure_items(names, b, width, keep, hero_d, row_h)
        if ms is None:
            return None
        # in a column, a smaller body size keeps the proportions; only a row (whose height binds) or the legible
        # minimum itself makes the headline and the hero give way on their own
        elastic = self.row or b <= math.ceil(c.min_px)
        for name in ("headline", "hero", "cta") if elastic else ():
            excess = self._stack_h(ms, u) - avail
            k = next((j for j, m in enumerate(ms) if m.name == name), None)
            if excess <= 0.5 or k is None:
                continue
            if name == "cta":   # the compact button of a row
                m = self.m.cta(b, width, None, smallest=True)
            elif name == "headline":
                lo = self.m.headline(b, width, hero_d, fam.style("headline").max_lines, smallest=True)
                if lo is None:
                    continue
                m = self.m.headline(b, width, hero_d, fam.style("headline").max_lines,
                                    max(lo.h, ms[k].h - excess) + 0.01)
            else:
                st = fam.style("hero")
                lo = self.m.hero(b, width, st.style, st.plate, row_h, smallest=True)
                if lo is None:
                    continue
                m = self.m.hero(b, width, st.style, st.plate, max(lo.h, ms[k].h - excess) + 0.01)
            if m is not None and m.h < ms[k].h:
                ms[k] = m
        hero = next((m for m in ms if m.name == "hero"), None)
        k = next((j for j, m in enumerate(ms) if m.name == "headline"), None)
        if hero is not None and k is not None and ms[k].data["fit"].size > hero.data["d"]:
            # the hero gave way: the headline may not outgrow it
            m = self.m.headline(b, width, hero.data["d"], fam.style("headline").max_lines, ms[k].h)
            if m is not None:
                ms[k] = m
        return ms if self._stack_h(ms, u) <= avail + 0.5 else None

    def _stack_h(self, ms: list[M], u: float) -> float:
        return sum(m.h for m in ms) + sum(_gap(a.name, b.name) * u for a, b in zip(ms, ms[1:]))

    def attempt(self, b: int, keep: dict, mode: str = "share") -> dict | None:
        """Everything measured at body size b, or None if it does not fit. At the legible minimum the spacing
        tightens (TIGHT × the rhythm) before the creative is given up: a crowded small card, not a missing one."""
        for k in (1.0, TIGHT) if b <= math.ceil(self.c.min_px) else (1.0,):
            got = self._attempt_at(b, RHYTHM * b * k, keep, mode)
            if got is not None:
                return got
        return None

    def _attempt_at(self, b: int, u: float, keep: dict, mode: str) -> dict | None:
        c, fam = self.c, self.c.family
        sx0, sy0, sx1, sy1 = c.safe
        bottom = self.legal.band[1] - u * 0.8
        keep = dict(keep)
        # the hero first: the headline may not outgrow it (the offer is the hero)
        widths = self._widths(keep, b, mode)
        if widths is None:
            return None
        hero_col = next((i for i, col in enumerate(fam.columns) if "hero" in col.items + col.card), None)
        cap = None     # a second pass when the hero had to give way below a header headline's size
        for _ in range(2):
            got = self._attempt_pass(b, u, keep, widths, hero_col, cap, bottom)
            if got is None:
                return None
            header, header_h, top, cols, final_d = got
            hl = next((m for m in header if m.name == "headline"), None)
            if hl is None or final_d is None or hl.data["fit"].size <= final_d:
                break
            cap = final_d
        else:
            return None
        if not any(cols) and not header:
            return None
        return {"b": b, "u": u, "keep": keep, "widths": widths, "header": header, "header_h": header_h, "top": top,
                "bottom": bottom, "cols": cols}

    def _attempt_pass(self, b: int, u: float, keep: dict, widths: list[float], hero_col: int | None,
                      cap: float | None, bottom: float):
        """One measuring pass of attempt(): header, hero, columns. `cap`: the hero size the headline may not
        outgrow (from an earlier pass where the hero had to give way)."""
        c, fam = self.c, self.c.family
        sx0, sy0, sx1, sy1 = c.safe
        hero_d = cap
        hero_col = next((i for i, col in enumerate(fam.columns) if "hero" in col.items + col.card), None)
        header = self._measure_items(fam.header, b, sx1 - sx0, keep, cap, None) if fam.header else []
        if header is None:
            return None
        row_h = (bottom - sy0) if c.W / c.H >= 2.4 else None   # one-row shapes: each block fits the row's height
        if self.t.hero is not None and hero_col is not None and cap is None:
            col = fam.columns[hero_col]
            wid = widths[hero_col] - (2 * u * (0.5 if row_h else 1.1) if "hero" in col.card else 0)
            hm = self._measure_items(["hero"], b, wid, keep, None, row_h)
            if not hm:
                return None
            hero_d = hm[0].data["d"]
        if header:
            hl = next((m for m in header if m.name == "headline"), None)
            if hl is not None and hero_d is not None and hl.data["fit"].size > hero_d:
                header = self._measure_items(fam.header, b, sx1 - sx0, keep, hero_d, None)
                if header is None:
                    return None
        header_h = self._stack_h(header, u) + (u * 1.3 if header else 0)
        top = sy0 + header_h
        col_h = bottom - top
        cols = []
        for i, col in enumerate(fam.columns):
            if widths[i] <= 0:
                cols.append(None)
                continue
            items = self.columns[i]
            names = [n for n in items if self.present(n, keep)]
            if col.card:
                pad = u * (0.5 if row_h else 1.1)
                inner_names = [n for n in col.card if self.present(n, keep)]
                outer = [n for n in names if n != "card"]
                outer_ms = self._measure_items(outer, b, widths[i], keep, hero_d, row_h)
                if outer_ms is None:
                    return None
                room = col_h - (self._stack_h(outer_ms, u) + u * 1.5 * len(outer_ms)) - 2 * pad
                inner = self._fit_stack(inner_names, b, widths[i] - 2 * pad, keep, hero_d, row_h, room, u)
                if inner is None:
                    return None
                ms = list(outer_ms)
                if inner:
                    # the card hugs what it holds (at least 60% of its column outside a row): the picture shows
                    # around it instead of an empty white stretch beside left-aligned text
                    hug = max(m.w for m in inner) + 2 * pad
                    cw = hug if self.row else min(widths[i], max(hug, 0.6 * widths[i]))
                    card = M("card", cw, self._stack_h(inner, u) + 2 * pad, {"inner": inner, "pad": pad})
                    pos = len([n for n in names[:names.index("card")] if n != "card"]) if "card" in names else len(ms)
                    ms.insert(pos, card)
            else:
                ms = self._fit_stack(names, b, widths[i], keep, hero_d, row_h, col_h, u)
                if ms is None:
                    return None
            h = self._stack_h(ms, u)
            if h > col_h + 0.5:
                return None
            cols.append({"ms": ms, "h": h})
        heroes = [m.data["d"] for col in cols if col for m in col["ms"] for m in ([m] + m.data.get("inner", []))
                  if m.name == "hero"]
        return header, header_h, top, cols, (min(heroes) if heroes else None)

    def best_b(self, keep: dict, mode: str = "share") -> dict | None:
        c = self.c
        lo = int(math.ceil(c.min_px))
        hi = max(lo, int(c.shape.body * c.short * c.scale))
        best = None
        while lo <= hi:
            mid = (lo + hi) // 2
            a = self.attempt(mid, keep, mode)
            if a is not None:
                best, lo = a, mid + 1
            else:
                hi = mid - 1
        return best

    def candidates(self) -> list[dict]:
        """What to leave out, in order, until the creative fits comfortably: nothing, the subhead, perks from the
        end; on canvases under 200 px (short side) then the headline, and on a thumbnail (not a banner) the brand
        row too — the rate, the button and the legal text stay."""
        t, c = self.t, self.c
        out = [{}]
        if t.subhead:
            out.append({"subhead": False})
        for n in range(len(t.perks) - 1, -1, -1):
            out.append({"subhead": False, "perks": n})
        if c.short < SMALL_CANVAS:
            last = dict(out[-1])
            if t.headline:
                last["headline"] = False
                out.append(dict(last))
            if c.W / c.H < 2.4:
                last["brand"] = False
                out.append(dict(last))
        return out

    def solve(self) -> Plan:
        c = self.c
        comfort = max(1.1 * c.min_px * c.scale, c.shape.comfort * c.short)
        best = None
        # the picture keeps its share ('share') wherever that holds the creative at all; only where it cannot do the
        # text columns take the whole width ('full')
        modes = ["share", "full"] if any(col.width is None for col in c.family.columns) else ["share"]
        headed = None   # the best attempt that keeps the headline
        for mode in modes:
            for keep in self.candidates():
                a = self.best_b(keep, mode)
                if a is None:
                    continue
                if keep.get("headline", True) and (headed is None or a["b"] > headed["b"]):
                    headed = a
                if a["b"] >= comfort:
                    best = a
                    break
                if best is None or a["b"] > best["b"]:
                    best = a
            if best is not None:
                break
        if best is None:
            raise self._why()
        if headed is not None and not best["keep"].get("headline", True):
            # the headline is left out only where it cannot be kept at all: kept, this family holds the creative
            # cramped, and plan() hands it to a family that holds it comfortably, headline and all (a 728×90 strip
            # showed the offer and a picture in an empty stretch where the headline had room)
            best = headed
        plan = self.place(best)
        plan.cramped = best["b"] < comfort
        return plan

    def _why(self) -> LayoutError:
        """What does not fit, in words: the first required block that cannot fit its column at the minimum."""
        c = self.c
        b = int(math.ceil(c.min_px))
        keep = {"subhead": False, "perks": 0}
        widths = self._widths(keep, b, "full") or [c.safe[2] - c.safe[0]] * len(c.family.columns)
        for i, col in enumerate(c.family.columns):
            for n in col.items + col.card:
                if n in ("visual", "card") or not self.present(n, keep):
                    continue
                if self._measure_items([n], b, widths[i], dict(keep), None, None) is None:
                    what = {"brand": f"the brand name '{self.t.brand_name}'", "headline": f"headline "
                            f"'{self.t.headline}'", "hero": f"'{self.t.hero.text if self.t.hero else ''}'",
                            "cta": f"the button '{self.t.cta}'"}.get(n, n)
                    return LayoutError(f"{what} does not fit a {c.W}×{c.H} canvas at the legible minimum of "
                                       f"{c.min_px:g} px", _HINTS.get(n, "use a larger placement size"))
        return LayoutError(f"the headline, offer, button, brand and legal text do not fit together on a {c.W}×{c.H} "
                           f"canvas at the legible minimum of {c.min_px:g} px",
                           "shorten message.headline, or leave this size out of the brief's channels")

    # ---- placing
    def place(self, a: dict) -> Plan:
        c, fam = self.c, self.c.family
        sx0, sy0, sx1, sy1 = c.safe
        u, b = a["u"], a["b"]
        self._b = b
        slots: list[Slot] = []
        y = sy0
        for m in a["header"]:
            slots.append(Slot(m.name, (sx0, y, sx0 + m.w, y + m.h), m, "left"))
            y += m.h + u * (_gap(m.name, "*") if m is not a["header"][-1] else 1.3)
        widths = list(a["widths"])
        flex = next((i for i, col in enumerate(fam.columns) if col.width is None and widths[i] > 0), None)
        gutter = self.gutter(b)
        # with a flexible (visual) column, text columns shrink to what they hold and the picture gets the rest
        if flex is not None:
            for i, col in enumerate(fam.columns):
                if i != flex and a["cols"][i] is not None and "visual" not in col.items:
                    ms = a["cols"][i]["ms"]
                    widths[i] = min(widths[i], max(m.w for m in ms) + 0.5) if ms else 0.0
                    if not ms:   # everything it held was left out (a thumbnail's brand column): it collapses
                        a["cols"][i] = None
            used = sum(w for j, w in enumerate(widths) if j != flex and w > 0)
            n_live = sum(1 for w in widths if w > 0)
            widths[flex] = max(0.0, (sx1 - sx0) - used - gutter * (n_live - 1))
        xs, x = [], sx0
        for w in widths:
            xs.append(x)
            if w > 0:
                x += w + gutter
        top, bottom = a["top"], a["bottom"]
        zone = None
        for i, col in enumerate(fam.columns):
            ca = a["cols"][i]
            if ca is None:
                continue
            x0, w = xs[i], widths[i]
            ms = ca["ms"]
            left = bottom - top - ca["h"]
            gaps = [_gap(p.name, q.name) * u for p, q in zip(ms, ms[1:])]
            has_visual = any(m.name == "visual" for m in ms)
            lead = 0.0
            if has_visual:
                for m in ms:
                    if m.name == "visual":
                        m.h += left
            elif any(m.name == "card" for m in ms) and not self.row:
                for m in ms:   # a text card beside the picture runs the column's height: no hole under it
                    if m.name == "card":
                        m.data["extra"] = left
                        m.h += left
            elif ms:
                if col.valign == "spread" and gaps:
                    extra = min(left, len(gaps) * (MAX_SPREAD - 1) * u)
                    gaps = [g + extra / len(gaps) for g in gaps]
                    left -= extra
                    lead = left / 2
                elif col.valign == "center":
                    lead = left / 2
                elif col.valign == "bottom":
                    lead = left
            yy = top + lead
            for k, m in enumerate(ms):
                box = (x0, yy, x0 + w, yy + m.h)
                if m.name == "visual":
                    zone = self._zone(box, i, k == 0, k == len(ms) - 1, w, x0)
                    slots.append(Slot("visual", box))
                elif m.name == "card":
                    cx0 = x0 + (w - m.w) / 2 if col.align == "center" else x0 + w - m.w if col.align == "right" else x0
                    box = (cx0, yy, cx0 + m.w, yy + m.h)
                    slots.append(Slot("card", box, m, col.align))
                    p = m.data["pad"]
                    inner = m.data["inner"]
                    igaps = [_gap(a_.name, b_.name) * u for a_, b_ in zip(inner, inner[1:])]
                    extra = m.data.get("extra", 0.0)
                    if igaps and extra:   # a card taller than its contents spreads them, then centres the rest
                        more = min(extra, len(igaps) * (MAX_SPREAD - 1) * u)
                        igaps = [g + more / len(igaps) for g in igaps]
                        extra -= more
                    iy = yy + p + extra / 2
                    for j, im in enumerate(inner):
                        slots.append(Slot(im.name, (cx0 + p, iy, cx0 + m.w - p, iy + im.h), im, col.align,
                                          on_card=True))
                        iy += im.h + (igaps[j] if j < len(igaps) else 0)
                else:
                    slots.append(Slot(m.name, box, m, col.align))
                yy += m.h + (gaps[k] if k < len(gaps) else 0)
        legal = self.legal
        if c.shape.legal == "under_text" and zone is not None and not self.row:
            legal, zone = self._legal_under_text(slots, u, zone)
        subject = zone is not None
        if zone is not None:   # a sliver of a slot holds no picture: an artefact, not a visual
            zw, zh = zone[2] - zone[0], zone[3] - zone[1]
            # in a row (wide banners) a compact cluster needs less of the width than a column's picture does:
            # a 1242×290 card's picture slot is ~100 px once it keeps clear of the text, and left empty it is a hole
            if self.row:
                subject = zw >= 0.07 * c.W and zw >= 0.4 * zh and zh >= 0.5 * (c.safe[3] - c.safe[1])
            else:
                subject = zw >= 0.12 * c.W and zh >= 0.12 * (c.safe[3] - c.safe[1])
        if not subject:   # no room for a subject: the background alone, behind the whole canvas
            zone = (0, 0, c.W, c.H)
        keep = a["keep"]
        dropped = []
        if self.t.subhead and not keep.get("subhead", True):
            dropped.append("subhead")
        n = keep.get("perks", len(self.t.perks))
        if self.t.perks and n < len(self.t.perks):
            dropped.append("perks" if n == 0 else "perks:" + ",".join(self.t.perks[n:]))
        for name in ("headline", "brand"):
            if not keep.get(name, True) and (name == "brand" or self.t.headline):
                dropped.append(name)
        plan = Plan(c.family_name, c.shape.shape, b, slots, legal, zone, dropped, c.safe)
        plan.subject = subject
        text_cols = [col for col in fam.columns if any(n != "visual" for n in col.items)]
        if len(fam.columns) == 1 and text_cols and text_cols[0].align == "center":
            plan.align = "center"   # a centred composition: the legal rows are centred too
        if self.legal.over_budget:
            lg = self.legal
            per_row = int((c.safe[2] - c.safe[0]) // lg.size)
            plan.notes.append(f"the legal text takes {(lg.band[3] - lg.band[1]) / c.H:.0%} of the height (budget "
                              f"{0.22 if c.H <= 300 else c.shape.legal_budget:.0%}) in {len(lg.rows)} rows of "
                              f"{lg.size} px, the legible minimum: one row holds about {per_row} characters of "
                              "disclaimer and provider line together — shorten message.disclaimer, or leave this "
                              "size out")
        return plan

    def _legal_under_text(self, slots: list[Slot], u: float, zone: tuple[int, int, int, int]
                          ) -> tuple[Legal, tuple[int, int, int, int]]:
        """The legal band moved up to just under the text, and the picture below it, down into the UI zone under
        the safe area (Shape.legal 'under_text'). The text was solved above the band at the bottom, so it fits."""
        c, lg = self.c, self.legal
        vis = next(s for s in slots if s.name == "visual")
        text_bottom = max((s.box[3] for s in slots if s.name != "visual"), default=c.safe[1])
        if vis.box[1] < text_bottom - 0.5:   # the picture is not below the text: leave the band where it is
            return lg, zone
        band_top = text_bottom + u * 1.2
        top = band_top + lg.pad
        bottom = top + (len(lg.rows) - 1) * lg.line + lg.size + lg.pad * 1.5
        moved = Legal(lg.size, lg.rows, lg.line, lg.pad, top, (0.0, band_top, float(c.W), bottom),
                      over_budget=lg.over_budget, quiet=lg.quiet)
        sy1 = c.safe[3]
        vis.box = (vis.box[0], bottom + u * 0.5, vis.box[2], max(bottom + u * 0.5, sy1))
        reach = sy1 + c.shape.bleed * (c.H - sy1)
        # the subject keeps to the safe area's width (a feed's buttons run down its right side); the backdrop and
        # the floor still fill the canvas
        return moved, (max(zone[0], int(c.safe[0])), int(bottom), min(zone[2], int(c.safe[2])),
                       int(max(bottom + 1, reach)))

    def _zone(self, box: Box, col: int, first: bool, last: bool, w: float, x0: float) -> tuple[int, int, int, int]:
        """The visual slot as the key visual's zone: run to the canvas edges where only margins (or the legal
        band, which sits on top of the picture) lie between the slot and the edge."""
        c = self.c
        sx0, sy0, sx1, sy1 = c.safe
        # beside a text column the picture keeps a clear margin (the ring a button or plate needs to stay calm)
        clear = 0.6 * self.gutter(self._b) if self.row or w < sx1 - sx0 - 1 else 0.0
        zx0 = 0 if x0 <= sx0 + 1 else box[0] + clear
        zx1 = c.W if box[2] >= sx1 - 1 else box[2] - clear
        zy0 = 0 if first and box[1] <= sy0 + 1 else box[1]
        band_top = self.legal.band[1]
        zy1 = band_top if last else box[3]   # the picture's subject stays above the legal band
        if box[3] - box[1] >= 0.9 * (band_top - sy0) and last:   # a full-height visual column
            zy0 = 0
        return (int(zx0), int(zy0), int(zx1), int(zy1))


_HINTS = {"brand": "set a shorter short_name in the brand kit, or leave this size out of the brief's channels",
          "headline": "shorten message.headline (6–12 characters a line reads best)",
          "hero": "use a larger placement size",
          "cta": "use 2–4 characters, e.g. 立即申请"}


def solve(ctx: Ctx, content: Content) -> Plan:
    return Solver(ctx, content).solve()


__all__ = ["Box", "Content", "Ctx", "Hero", "Legal", "M", "Plan", "Slot", "figure_runs", "solve", "plan_legal",
           "chip_rows", "Fitted", "SMALL_CANVAS"]
