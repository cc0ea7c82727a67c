"""Layouts as data (configs/layouts/*.yaml): where each block goes, as fractions of the channel's safe area."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..errors import ConfigError
from ..paths import configs_dir
from ..schema import Strict, invalid, validate
from ..yamlio import load_yaml

BLOCKS = ("logo", "headline", "subhead", "rate", "perks", "cta", "legal")
Box = tuple[float, float, float, float]


class Block(Strict):
    box: Box
    font: Literal["display", "hero", "body", "emphasis", "small"] | None = None
    max_lines: int = Field(2, ge=1, le=6)
    align: Literal["left", "center", "right"] = "left"
    line_height: float = Field(1.25, ge=1.0, le=2.0)
    size_cap: float | None = Field(None, gt=0, le=0.5)   # largest text size, fraction of the canvas short side
    optional: bool = False                               # dropped (and recorded) when it cannot fit legibly
    after: str | None = None                             # shares its box with this block, placed below it
    style: Literal["stacked", "inline"] = "stacked"      # rate block
    plate: Literal["light", "accent", "none"] = "light"  # rate block
    band: bool = False                                   # legal block: a calm dark band behind it
    one_line: bool = False                               # legal block: disclaimer and provider on one line if fits
    mark_only: bool = False                              # logo block: lettermark without the name

    @field_validator("box")
    @classmethod
    def _box(cls, v):
        x, y, w, h = v
        if min(v) < 0 or w <= 0 or h <= 0 or x + w > 1.0001 or y + h > 1.0001:
            raise invalid(f"box {list(v)} is outside the canvas", "boxes are [x, y, w, h] fractions within 0..1")
        return v


class Select(Strict):
    min_aspect: float = 0.0
    max_aspect: float = 100.0


class Layout(Strict):
    version: int = 1
    name: str
    select: Select = Field(default_factory=Select)
    visual_zone: Box = (0.5, 0.0, 0.5, 1.0)
    scrim: Literal["top", "left", "none"] = "left"
    blocks: dict[str, Block]

    @field_validator("blocks")
    @classmethod
    def _known(cls, v):
        for name in v:
            if name not in BLOCKS:
                raise invalid(f"unknown block '{name}'", "blocks are: " + ", ".join(BLOCKS))
        for need in ("headline", "rate", "cta", "legal"):
            if need not in v:
                raise invalid(f"layout has no '{need}' block", f"add a '{need}:' block with a box")
        return v


@lru_cache(maxsize=None)
def _load(path: Path) -> Layout:
    return validate(Layout, load_yaml(path, what="layout"))


def layouts() -> dict[str, Layout]:
    out = {}
    for p in sorted((configs_dir() / "layouts").glob("*.yaml")):
        lay = _load(p)
        out[lay.name] = lay
    return out


def pick_layout(width: int, height: int, forced: str | None = None) -> Layout:
    all_ = layouts()
    if forced:
        if forced not in all_:
            raise ConfigError(f"unknown layout '{forced}'", key="layout", hint="layouts: " + ", ".join(all_))
        return all_[forced]
    aspect = width / height
    for lay in all_.values():
        if lay.select.min_aspect <= aspect < lay.select.max_aspect:
            return lay
    raise ConfigError(f"no layout for a {width}×{height} canvas (aspect {aspect:.2f})",
                      hint="add a layout whose select: covers it in configs/layouts/")
