"""The end card: the last quarter of a clip (1.5–3 s), a calm sign-off with the brand, the product, the rate and the button.

Typeset once per clip by the poster's own flow solver and painter (compose/flow.py, compose/blocks.py) with the end
card's family from configs/motion.yaml: the same canvas, safe area, legible minimum, role sizes and legal band as the
poster — so the end card's blocks sit above the poster's legal band, which stays on screen, untouched, for the whole
clip. The rate keeps the poster's label and figure exactly (the same Hero), so what is checked on the poster is what
the end card shows. The background is the key visual's far backdrop (no objects), slightly dimmed; a picture without
planes has its subject's rows filled in from the backdrop around them, blurred and dimmed."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from PIL import Image, ImageFilter
from pydantic import Field

from ..compose.blocks import Painter
from ..compose.color import hex_rgb
from ..compose.flow import Content, Ctx, Plan, solve
from ..compose.layout import BlockStyle, Family, shapes
from ..compose.render import check_no_overlap
from ..errors import LayoutError
from ..paths import configs_dir
from ..schema import Strict, validate
from ..yamlio import load_yaml

# the poster's blocks that stay on screen through the end card (drawn once, from the poster's layers)
KEPT = ("scrim", "legal", "legal_band", "disclaimer", "provider", "ai_label")


class EndCardSpec(Strict):
    backdrop_dim: float = Field(0.18, ge=0, le=0.8)
    scale: float = Field(1.2, ge=0.8, le=2.0)      # type scale over the poster's (the sign-off reads larger)
    family: Family


class MotionConfig(Strict):
    version: int = 1
    end_card: EndCardSpec


class _EndPainter(Painter):
    """The poster's painter without a legal band: the poster's stays on screen over the end card (painted here, an
    empty band's soft edge read as a busy picture and drew a dark halo around the button)."""

    def legal(self, plan: Plan, t: Content) -> None:
        return None


@lru_cache(maxsize=1)
def motion_config() -> MotionConfig:
    return validate(MotionConfig, load_yaml(configs_dir() / "motion.yaml", what="motion config"))


@dataclass
class EndCard:
    """The end card as drawn: its backdrop (RGB, the whole canvas), its recorded layers (no legal text: the
    poster's stays) and what it placed (boxes, sizes, colours: the manifest and the read-back use them).
    `keep_picture`: the end card stands above the legal band with the picture below it (a tall video whose
    picture runs on under the feed's UI): the picture stays, and keeps moving, under the end card."""

    base: Image.Image
    layers: Any                 # compose.layers.LayerRecorder
    placed: list = field(default_factory=list)
    layout: str = ""
    keep_picture: bool = False

    def blocks(self) -> list[dict[str, Any]]:
        return [p.as_dict() for p in self.placed if p.text and p.role not in KEPT]


def end_backdrop(background: Image.Image, planes: list, band: str, dim: float,
                 zone: tuple[float, float, float, float] | None = None) -> Image.Image:
    """The end card's backdrop: the illustration's far plane (the lit gradient without stage or objects); else, for a
    picture without planes, the picture with its subject's rows (`zone`, the visual slot) filled in from the rows
    above and below it, blurred; else the picture blurred. Darkened by `dim` towards the palette's band colour."""
    W, H = background.size
    far = next((im for name, im, (x, y), depth in planes[:1]
                if depth == 0 and (x, y) == (0, 0) and im.size == (W, H)), None) if planes else None
    if far is not None:
        base = far.convert("RGB")
    else:
        base = _without_subject(background.convert("RGB"), zone)
        dim = max(dim, 0.3)
    if dim > 0:
        base = Image.blend(base, Image.new("RGB", (W, H), hex_rgb(band)), dim)
    return base


def _without_subject(picture: Image.Image, zone) -> Image.Image:
    """The picture, its subject gone: blurred objects beside the end card's button read as stains (the coins of a
    deposit clip came back as golden blobs). Where the subject's slot is a band across the canvas with the backdrop
    above or below it, its rows are filled in between the rows around it (the backdrop's light across the width
    stays); a photo filling the canvas is only blurred."""
    import numpy as np

    W, H = picture.size
    k = 8
    small = np.asarray(picture.reduce(k), dtype=np.float32)
    h = small.shape[0]
    if zone is not None:
        x0, y0, x1, y1 = zone
        a, b = max(0, int(y0 // k) - 1), min(h, int(-(-y1 // k)) + 1)   # the slot's rows and a row of margin
        if x1 - x0 >= 0.8 * W and 0 < b - a < 0.6 * h and (a > 0 or b < h):
            above = small[a - 1] if a > 0 else small[b]
            below = small[b] if b < h else above
            w = np.linspace(0.0, 1.0, b - a + 2)[1:-1, None, None]
            small[a:b] = above[None] * (1 - w) + below[None] * w
    out = Image.fromarray(small.clip(0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(3))
    return out.resize((W, H), Image.BILINEAR)


def build_end_card(main: Plan, content: Content, product: str, *, background: Image.Image, planes: list,
                   palette, stacks: dict, min_px: float, role_min: dict[str, float] | None = None) -> EndCard | None:
    """The end card of a clip whose poster was planned as `main` with `content`: solved in the safe area above the
    poster's legal band (which stays), with no legal rows of its own. None when it does not fit (the poster then
    holds to the end)."""
    spec = motion_config().end_card
    W, H = background.size
    fam = spec.family
    hero = main.slot("hero")
    if hero is not None and hero.m is not None and "hero" not in fam.blocks:
        # the poster's plate style (light, dark, accent, none): the end card reads as the same campaign
        style = BlockStyle(plate=hero.m.data.get("plate", "light"))
        fam = fam.model_copy(update={"blocks": {**fam.blocks, "hero": style}})
    shape = shapes()[main.shape]
    band_top = main.legal.band[1]
    z = main.visual_zone
    keep_picture = shape.legal == "under_text" and z[1] >= main.legal.band[3] - 1 and z[3] > z[1]
    sx0, sy0, sx1, _ = main.safe
    safe = (sx0, sy0, sx1, band_top - 0.012 * H)
    end = replace(content, headline=product, subhead="", perks=[], disclaimer="", provider="", ai_label=None)
    ctx = Ctx(W, H, safe, float(min_px), stacks, shape.model_copy(update={"legal": "bottom"}), fam, main.family,
              spec.scale, dict(role_min or {}))
    try:
        plan = solve(ctx, end)
    except LayoutError:
        return None
    base = background.convert("RGB") if keep_picture else end_backdrop(background, planes, palette.band,
                                                                     spec.backdrop_dim, main.visual_zone)
    p = _EndPainter(base, palette, stacks, min_px=min_px, record=True)
    p.safe = plan.safe
    p.paint(plan, end, calm=True, scrim="none")
    try:
        check_no_overlap(p.placed, W, H)
    except LayoutError:
        return None
    if any(pl.text and pl.box[3] > band_top + 0.5 for pl in p.placed if pl.role not in KEPT):
        return None
    p.rec.name_texts(p.placed)
    return EndCard(base, p.rec, list(p.placed), f"{main.shape}/end-card", keep_picture)
