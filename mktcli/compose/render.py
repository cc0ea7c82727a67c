"""Compose one poster: key visual + typeset overlays (logo, headline, rate badge, subhead, perks, CTA, legal band).

Every placed string is recorded with its box, font, size, colour and measured contrast, so checks, manifests and
layered exports can use exactly what was drawn. Numbers and legal text are always typeset here, never drawn by a
model. Drawing lives in canvas.py (surface) and blocks.py (each block)."""
from __future__ import annotations

from PIL import Image

from ..errors import LayoutError
from .blocks import Composer, figure_runs
from .canvas import Composed, Placed, PosterText, _overlaps
from .fonts import FontStack
from .layout import Layout

__all__ = ["compose", "check_no_overlap", "figure_runs", "PosterText", "Placed", "Composed"]


def compose(bg: Image.Image, layout: Layout, palette, stacks: dict[str, FontStack], text: PosterText, *,
            safe, min_px: float, calm_background: bool = True, logo: Image.Image | None = None,
            record: bool = False) -> Composed:
    """record=True also keeps every paint per block (Composed.layers), for the layered PSD and SVG."""
    c = Composer(bg, layout, palette, stacks, safe=safe, min_px=min_px, calm_background=calm_background,
                 record=record)
    blocks = layout.blocks
    c.legal(blocks["legal"], text)
    if "logo" in blocks:
        c.logo(blocks["logo"], text, logo)
    if text.headline:   # empty when the key visual already carries it (text_in_image, verified by OCR)
        c.headline(blocks["headline"], text.headline)
    sub_block, perk_block = blocks.get("subhead"), blocks.get("perks")
    if text.rate and not c.rate(blocks["rate"], text.rate, required=False):
        # the rate is the one block that must be there: let it take the subhead/perks space below it
        grow = [c.box(b) for b in (sub_block, perk_block) if b is not None]
        rb = c.box(blocks["rate"])
        c.rate(blocks["rate"], text.rate, (rb[0], rb[1], rb[2], max([rb[3], *(g[3] for g in grow)])))
        c.dropped += [n for n, b in (("subhead", sub_block), ("perks", perk_block)) if b is not None]
        sub_block = perk_block = None
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
    if c.rec is not None:
        c.rec.name_texts(c.placed)
    return Composed(c.img, c.placed, c.dropped, layout.name, c.rec)



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
