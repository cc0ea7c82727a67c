"""Compose one poster in two steps: `plan()` solves the layout (compose/flow.py) from what the creative has, before the
key visual exists — so the visual engine knows where the picture's subject goes — and `compose()` draws the plan on
the key visual: typeset overlays (brand, headline, hero plate, subhead, perk chips, CTA, legal band).

Every placed string is recorded with its box, font, size, colour and measured contrast, so checks, manifests and
layered exports can use exactly what was drawn. Numbers and legal text are always typeset here, never drawn by a
model."""
from __future__ import annotations

from PIL import Image

from ..errors import LayoutError
from .blocks import Painter
from .canvas import Composed, Placed, _overlaps
from .flow import Content, Ctx, Hero, Plan, figure_runs, solve
from .fonts import FontStack
from .layout import choose_family, shape_for

__all__ = ["plan", "compose", "check_no_overlap", "figure_runs", "Content", "Hero", "Plan", "Placed", "Composed"]


def plan(width: int, height: int, content: Content, stacks: dict[str, FontStack], *, safe, min_px: float,
         family: str | None = None, shape: str | None = None, seed: int = 0, segment: str = "",
         variant: int = 0, scale: float = 1.0) -> Plan:
    """Solve the layout of one creative: shape (by aspect ratio, or a channel's `layout`), family (forced, or by
    seed/segment/variant), type scale, boxes, visual zone, dropped blocks. `safe` is the channel's SafeZone."""
    from .layout import shapes

    if shape:
        if shape not in shapes():
            raise LayoutError(f"unknown layout shape '{shape}'", "shapes: " + ", ".join(shapes()))
        shape_ = shapes()[shape]
    else:
        shape_ = shape_for(width, height)
    name, _ = choose_family(shape_, forced=family, seed=seed, segment=segment, variant=variant)
    box = (width * safe.left, height * safe.top, width * (1 - safe.right), height * (1 - safe.bottom))
    # the chosen family first; where its arrangement cannot hold this creative — or only cramped — the next family
    # that holds it comfortably (a segment's sizes keep their family wherever it works); where no family of the
    # shape can, the families of the next flatter shape (a short landscape card laid out as a row)
    names = sorted(shape_.families)
    order = [(shape_, n) for n in names[names.index(name):] + names[:names.index(name)]]
    flatter = shapes().get(FLATTER.get(shape_.shape, ""))
    first: LayoutError | None = None
    cramped: Plan | None = None
    for k, (sh, n) in enumerate(order):
        try:
            out = solve(Ctx(width, height, box, float(min_px), stacks, sh, sh.families[n], n, scale), content)
        except LayoutError as e:
            first = first or e
            if k == len(order) - 1 and flatter is not None and cramped is None and sh is shape_:
                order += [(flatter, f) for f in sorted(flatter.families)]
            continue
        if out.cramped:
            if cramped is None or out.body > cramped.body:
                cramped = out
            continue
        if (sh, n) != (shape_, name):
            out.notes.append(f"layout family '{name}' cannot hold this creative comfortably on {width}×{height}; "
                             f"used '{n}'" + (f" ({sh.shape})" if sh is not shape_ else ""))
        return out
    if cramped is not None:
        if cramped.family != name:
            cramped.notes.append(f"layout family '{name}' cannot hold this creative comfortably on {width}×{height}; "
                                 f"used '{cramped.family}'")
        return cramped
    raise first


def compose(bg: Image.Image, plan_: Plan, content: Content, palette, stacks: dict[str, FontStack], *,
            min_px: float, calm_background: bool = True, record: bool = False) -> Composed:
    """Draw a solved plan on the key visual. record=True also keeps every paint per block (Composed.layers), for
    the layered PSD and SVG."""
    from .layout import shapes

    p = Painter(bg, palette, stacks, min_px=min_px, record=record)
    sh = shapes()[plan_.shape]
    p.safe = plan_.safe
    p.paint(plan_, content, calm=calm_background, scrim=sh.families[plan_.family].scrim)
    check_no_overlap(p.placed, p.W, p.H)
    if p.rec is not None:
        p.rec.name_texts(p.placed)
    return Composed(p.img, p.placed, list(plan_.dropped), f"{plan_.shape}/{plan_.family}", p.rec)


# Blocks drawn as one group may overlap each other (a figure on its plate, a mark beside its name); shapes that other
# blocks sit on (the text card, the legal band) are not checked against their contents.
# the shape whose families are tried when none of a shape's can hold a creative
FLATTER = {"portrait": "square", "square": "landscape", "landscape": "wide", "wide": "strip"}

_GROUPS = {"apr": "hero", "apr_label": "hero", "offer": "hero", "offer_label": "hero", "rate_plate": "hero",
           "logo": "logo", "brand": "logo"}
_SURFACES = ("card", "legal_band")


def check_no_overlap(placed: list[Placed], W: int, H: int) -> None:
    """Every block inside the canvas and clear of every other block (a bug in a layout file shows up here,
    not on a billboard)."""
    for p in placed:
        x0, y0, x1, y1 = p.box
        if x0 < -0.5 or y0 < -0.5 or x1 > W + 0.5 or y1 > H + 0.5:
            raise LayoutError(f"{p.role} '{p.text}' would fall outside the {W}×{H} canvas",
                              "check the layout's families in configs/layouts/")
    items = [p for p in placed if p.role not in _SURFACES]
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            ga, gb = _GROUPS.get(a.role, a.role + str(id(a))), _GROUPS.get(b.role, b.role + str(id(b)))
            if ga != gb and _overlaps(a.box, b.box):
                raise LayoutError(f"{a.role} '{a.text}' overlaps {b.role} '{b.text}' on {W}×{H}",
                                  "check the layout's families in configs/layouts/")
