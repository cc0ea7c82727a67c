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
from .canvas import Composed, Placed, overlaps
from .flow import Content, Ctx, Hero, Plan, figure_runs, solve
from .fonts import FontStack
from .layout import choose_family, shape_for, shapes

__all__ = ["plan", "compose", "check_no_overlap", "figure_runs", "Content", "Hero", "Plan", "Placed", "Composed"]


def plan(width: int, height: int, content: Content, stacks: dict[str, FontStack], *, safe, min_px: float,
         family: str | None = None, shape: str | None = None, seed: int = 0, segment: str = "",
         variant: int = 0, scale: float = 1.0, role_min: dict[str, float] | None = None) -> Plan:
    """Solve the layout of one creative: shape (by aspect ratio, or a channel's `layout`), family (forced, or by
    seed/segment/variant), type scale, boxes, visual zone, dropped blocks. `safe` is the channel's SafeZone."""
    if shape:
        if shape not in shapes():
            raise LayoutError(f"unknown layout shape '{shape}'", "shapes: " + ", ".join(shapes()))
        shape_ = shapes()[shape]
    else:
        shape_ = shape_for(width, height)
    box = (width * safe.left, height * safe.top, width * (1 - safe.right), height * (1 - safe.bottom))
    # The families in the campaign's rotation, from this segment's first: the variant takes the k-th family that
    # holds this creative comfortably, so a segment's sizes keep their family wherever it works and variants stay
    # distinct. A family the brief asks for is kept unless it cannot hold the creative at all. Where no family of
    # the shape can, the families of the next flatter shape (a short landscape card laid out as a row).
    start, _ = choose_family(shape_, forced=family, seed=seed, segment=segment, variant=0)
    names = sorted(shape_.families)
    i0 = names.index(start)
    order = [(shape_, n) for n in names[i0:] + names[:i0]]
    if family:
        order = [(shape_, family)] + [o for o in order if o[1] != family]
    flatter = shapes().get(FLATTER.get(shape_.shape, ""))
    first: LayoutError | None = None
    good: list[Plan] = []
    cramped: list[Plan] = []
    want = 0 if family else variant
    k = 0
    while k < len(order):
        sh, n = order[k]
        k += 1
        try:
            out = solve(Ctx(width, height, box, float(min_px), stacks, sh, sh.families[n], n, scale,
                            dict(role_min or {})), content)
        except LayoutError as e:
            first = first or e
        else:
            if out.cramped and not (family and n == family):
                cramped.append(out)
            else:
                good.append(out)
                if len(good) > want:
                    break
        if k == len(order) and not good and not cramped and flatter is not None and sh is shape_:
            order += [(flatter, f) for f in sorted(flatter.families)]
    # variants beyond the comfortable families take the cramped ones (distinct, if smaller type) before repeating
    pool = good + sorted(cramped, key=lambda p: -p.body)
    if not pool:
        raise first
    out = pool[want % len(pool)]
    intended = family or names[(i0 + variant) % len(names)]
    if out.family != intended or out.shape != shape_.shape:
        out.notes.append(f"layout family '{intended}' cannot hold this creative comfortably on {width}×{height}; "
                         f"used '{out.family}'" + (f" ({out.shape})" if out.shape != shape_.shape else ""))
    return out


def compose(bg: Image.Image, plan_: Plan, content: Content, palette, stacks: dict[str, FontStack], *,
            min_px: float, calm_background: bool = True, record: bool = False) -> Composed:
    """Draw a solved plan on the key visual. record=True also keeps every paint per block (Composed.layers), for
    the layered PSD and SVG."""
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
            if ga != gb and overlaps(a.box, b.box):
                raise LayoutError(f"{a.role} '{a.text}' overlaps {b.role} '{b.text}' on {W}×{H}",
                                  "check the layout's families in configs/layouts/")
