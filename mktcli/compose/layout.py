"""Layout families as data (configs/layouts/<shape>.yaml): not fixed boxes, but what goes where and in which order.

A *shape* (portrait, square, landscape, wide, strip) is chosen by the canvas's aspect ratio; it offers several
*families* (rate-hero centred, split text/visual, headline-first editorial, full-bleed visual with a text card …),
each a few columns of blocks stacked top to bottom. The flow solver (compose/flow.py) sizes and places whatever a
creative actually has: an absent or dropped block gives its room to the others, and the `visual` slot takes what the
text leaves, so there are no holes. Family names are shared across shapes, so a segment's sizes read as one campaign.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ..errors import ConfigError
from ..paths import configs_dir
from ..schema import Strict, invalid, validate
from ..yamlio import load_yaml

BLOCKS = ("brand", "headline", "hero", "subhead", "perks", "cta")
ITEMS = BLOCKS + ("visual", "card")
PlateStyle = Literal["dark", "light", "accent", "none"]


class Column(Strict):
    """A column of the text area: blocks stacked top to bottom. `width` is a fraction of the safe width; a column
    without one is flexible and takes what the others leave (at most one per family)."""

    width: float | None = Field(None, gt=0, le=1)
    items: list[str]
    card: list[str] = Field(default_factory=list)    # the blocks on the opaque text card ('card' in items)
    align: Literal["left", "center", "right"] = "left"
    valign: Literal["top", "center", "bottom", "spread"] = "spread"

    @field_validator("items", "card")
    @classmethod
    def _known(cls, v):
        for name in v:
            if name not in ITEMS:
                raise invalid(f"unknown item '{name}'", "items are: " + ", ".join(ITEMS))
        return v

    @model_validator(mode="after")
    def _card(self):
        if ("card" in self.items) != bool(self.card):
            raise invalid("a column with 'card' in its items lists the card's blocks under card:",
                          "e.g. items: [brand, visual, card] and card: [headline, hero, cta]")
        return self


class BlockStyle(Strict):
    max_lines: int = Field(2, ge=1, le=6)
    plate: PlateStyle = "light"                        # hero: the plate behind the figure (opaque)
    style: Literal["stacked", "inline"] = "stacked"    # hero: label above the figure, or beside it
    rows: int = Field(2, ge=1, le=4)                   # perks: rows of chips at most


class Family(Strict):
    label: str = ""
    header: list[str] = Field(default_factory=list)     # full-width rows above the columns (brand, headline)
    columns: list[Column]
    blocks: dict[str, BlockStyle] = Field(default_factory=dict)
    display: float = Field(2.4, ge=1, le=5)             # headline size ÷ body size (before the width caps it)
    hero: float = Field(3.6, ge=1, le=8)                # rate/offer digits ÷ body size
    visual_min: float | None = Field(None, ge=0, le=0.8)   # the visual slot's least share (height in a column,
    #                                                        width in a row); default: the shape's
    scrim: Literal["top", "left", "right", "bottom", "none"] = "left"   # photos: darken this side behind text

    @field_validator("header")
    @classmethod
    def _header(cls, v):
        for name in v:
            if name not in ("brand", "headline", "subhead"):
                raise invalid(f"'{name}' cannot go in the header", "the header holds brand, headline, subhead")
        return v

    @model_validator(mode="after")
    def _flex(self):
        if sum(1 for c in self.columns if c.width is None) > 1:
            raise invalid("at most one column without a width (the flexible one)", "give the others a width")
        names = self.header + [n for c in self.columns for n in c.items + c.card]
        for need in ("headline", "hero", "cta"):
            if need not in names:
                raise invalid(f"the family places no '{need}'", f"add '{need}' to a column's items")
        return self

    def style(self, block: str) -> BlockStyle:
        return self.blocks.get(block) or BlockStyle()


class Select(Strict):
    min_aspect: float = 0.0
    max_aspect: float = 100.0


class Shape(Strict):
    version: int = 2
    shape: str
    select: Select = Field(default_factory=Select)
    body: float = Field(0.045, gt=0, le=0.5)        # largest body text, fraction of the canvas's short side
    comfort: float = Field(0.032, gt=0, le=0.5)     # body below this (and 1.2 × the legible minimum) is cramped:
    #                                                 drop the subhead, then perks, before shrinking further
    legal_budget: float = Field(0.16, gt=0, le=0.5)  # the legal band's share of the height at most
    visual_min: float = Field(0.0, ge=0, le=0.8)    # a visual slot's smallest height, fraction of the canvas
    # where the legal band goes: at the bottom of the safe area, or right under the text with the picture below it,
    # running on into a platform's UI zone under the safe area (tall video: the feed's caption covers the bottom
    # quarter, which then shows the picture instead of an empty backdrop); `bleed`: how far into that zone the
    # picture's subject may reach (share of the zone's height)
    legal: Literal["bottom", "under_text"] = "bottom"
    bleed: float = Field(0.0, ge=0, le=1)
    # how the legal rows are set off from the picture: a translucent band (soft-edged), or `quiet`: a light scrim
    # that fades in and out over several lines, no band edge (tall video: the small print as quiet lines just above
    # the feed's UI zone); the rows' colour still keeps 4.5:1 on the actual pixels
    legal_band: Literal["band", "quiet"] = "band"
    families: dict[str, Family]

    @field_validator("families")
    @classmethod
    def _some(cls, v):
        if not v:
            raise invalid("a shape needs at least one family", "add families: {name: {columns: [...]}}")
        return v


@lru_cache(maxsize=None)
def _load(path: Path) -> Shape:
    return validate(Shape, load_yaml(path, what="layout"))


def shapes() -> dict[str, Shape]:
    """Every layout shape in configs/layouts/, by name (asked several times per poster: the folder is listed
    once)."""
    return _shapes_in(configs_dir() / "layouts")


@lru_cache(maxsize=4)
def _shapes_in(folder: Path) -> dict[str, Shape]:
    out = {}
    for p in sorted(folder.glob("*.yaml")):
        sh = _load(p)
        out[sh.shape] = sh
    return out


def family_names() -> list[str]:
    """The family names every shape offers (brief `visual.layout`, `--layout`)."""
    sets = [set(sh.families) for sh in shapes().values()]
    return sorted(set.intersection(*sets)) if sets else []


def shape_for(width: int, height: int) -> Shape:
    aspect = width / height
    for sh in shapes().values():
        if sh.select.min_aspect <= aspect < sh.select.max_aspect:
            return sh
    raise ConfigError(f"no layout for a {width}×{height} canvas (aspect {aspect:.2f})",
                      hint="add a shape whose select: covers it in configs/layouts/")


def choose_family(shape: Shape, *, forced: str | None = None, seed: int = 0, segment: str = "",
                  variant: int = 0) -> tuple[str, Family]:
    """The family for one creative: forced (brief `visual.layout`, `--layout`, or a channel's `layout`) when given;
    else picked by seed and segment — so the segments of a campaign differ — and stepped by variant, so
    `--variants N` gives N different families. Every shape offers the same family names (in the same sorted
    order), so a segment's sizes share one family and the campaign reads as one."""
    names = sorted(shape.families)
    if forced:
        if forced not in shape.families:
            raise ConfigError(f"unknown layout family '{forced}'", key="visual.layout",
                              hint="families: " + ", ".join(names))
        start = names.index(forced)
    else:
        start = int(hashlib.sha256(f"{seed}|{segment}".encode()).hexdigest()[:8], 16)
    name = names[(start + variant) % len(names)]
    return name, shape.families[name]


class AudienceStyle(Strict):
    match: list[str] = Field(default_factory=list)
    type_scale: float = Field(1.0, ge=0.8, le=2.0)
    max_perks: int | None = Field(None, ge=0, le=6)


class Audiences(Strict):
    version: int = 1
    styles: dict[str, AudienceStyle] = Field(default_factory=dict)


@lru_cache(maxsize=1)
def _audiences() -> Audiences:
    return validate(Audiences, load_yaml(configs_dir() / "audiences.yaml", what="audience styles"))


def audience_style(segment: str, values: dict[str, str] | None = None) -> tuple[str | None, AudienceStyle]:
    """(name, style) of the first audience style whose words appear in the segment's name or dimension values
    (configs/audiences.yaml), else (None, the plain style)."""
    text = " ".join([segment, *(values or {}).values()])
    for name, st in _audiences().styles.items():
        if any(w and w in text for w in st.match):
            return name, st
    return None, AudienceStyle()
