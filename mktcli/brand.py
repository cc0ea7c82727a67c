"""Brand kits: palette, font roles, logo and AI-label policy, from configs/brands/<name>.yaml or a path."""
from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator

from .errors import BriefError, clip
from .paths import configs_dir, user_dir
from .schema import Strict, invalid, suggest, validate
from .userfiles import load_image
from .yamlio import load_yaml

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
ROLES = ("display", "hero", "body", "emphasis", "small")


class Palette(Strict):
    primary: str = "#8E1B1B"
    primary_dark: str = "#4A0A0E"
    accent: str = "#F2C14E"
    accent_text: str = "#4A0A0E"
    light: str = "#FFFFFF"
    dark: str = "#1E1E1E"
    band: str = "#2A0608"

    @field_validator("*")
    @classmethod
    def _hex(cls, v):
        if not isinstance(v, str) or not _HEX.match(v):
            raise invalid(f"'{v}' is not a colour", "write colours as '#RRGGBB' in quotes, e.g. \"#8E1B1B\"")
        return v

    def rgb(self, key: str) -> tuple[int, int, int]:
        h = getattr(self, key)
        return (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))


class PaletteOverride(Strict):
    primary: str | None = None
    primary_dark: str | None = None
    accent: str | None = None
    accent_text: str | None = None
    light: str | None = None
    dark: str | None = None
    band: str | None = None


class Brand(Strict):
    version: int = 1
    name: str = "default"
    short_name: str | None = None
    logo: str | None = None
    fonts: dict[str, list[str]] = Field(default_factory=dict)
    # per product category: font roles that differ from `fonts` (a calm sans for deposits, wealth, insurance)
    category_fonts: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    style: str | None = None      # the brand's look in words, for generative key visuals (default: from the palette)
    ai_label: str = "AI生成"
    ai_label_visible: bool = True
    palette: Palette = Field(default_factory=Palette)
    category_palettes: dict[str, PaletteOverride] = Field(default_factory=dict)

    _dir: Path = Path(".")

    def palette_for(self, category: str) -> Palette:
        ov = self.category_palettes.get(category)
        if ov is None:
            return self.palette
        return self.palette.model_copy(update={k: v for k, v in ov.model_dump().items() if v})

    def font_stack(self, role: str, category: str | None = None) -> list[str]:
        by_cat = self.category_fonts.get(category or "", {})
        return by_cat.get(role) or self.fonts.get(role) or {"display": ["display", "sans-bold", "sans"],
                                        "hero": ["sans-bold", "sans"]}.get(role, ["sans", "sans-bold"])

    def logo_path(self) -> Path | None:
        return (self._dir / self.logo) if self.logo else None

    def short(self, provider: str) -> str:
        if self.short_name:
            return self.short_name
        return re.sub(r"(股份有限公司|有限责任公司|有限公司)$", "", provider)


def brand_names() -> list[str]:
    names = {p.stem for p in (configs_dir() / "brands").glob("*.yaml")}
    names |= {p.stem for p in (user_dir() / "brands").glob("*.yaml")}
    return sorted(names)


def resolve_brand_path(ref: str, base_dir: Path | None = None) -> Path | None:
    """A brand name (~/.mkt/brands/<ref>.yaml, then configs/brands/<ref>.yaml) or a path relative to the brief."""
    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        candidates = [(base_dir or Path.cwd()) / ref]
    else:
        candidates = [user_dir() / "brands" / f"{ref}.yaml", configs_dir() / "brands" / f"{ref}.yaml"]
    # a path the user gave is taken when it exists, so a folder or a FIFO there is named as such, not "not found"
    return next((p for p in candidates if (p.exists() if len(candidates) == 1 else p.is_file())), None)


def load_brand(ref: str, base_dir: Path | None = None, *, brief_file: Path | None = None,
               brief_line: int | None = None) -> Brand:
    """`ref` is a brand name (configs/brands/<ref>.yaml, or ~/.mkt/brands/) or a path relative to the brief."""
    path = resolve_brand_path(ref, base_dir)
    if path is None:
        guess = suggest(ref, brand_names())
        raise BriefError(f"brand '{clip(ref)}' not found" + (f" — did you mean '{guess}'?" if guess else ""),
                         file=brief_file, line=brief_line, key="brand",
                         hint="known brands: " + ", ".join(brand_names()) + "; or give a path to a brand YAML file")
    loaded = load_yaml(path, what="brand file")
    brand = validate(Brand, loaded)
    brand._dir = path.parent
    for keys, roles in [(("fonts",), brand.fonts)] + [(("category_fonts", c), r)
                                                      for c, r in brand.category_fonts.items()]:
        for role in roles:
            if role not in ROLES:
                raise BriefError(f"unknown font role '{clip(role)}'", file=path, line=loaded.line_of((*keys, role)),
                                 key=".".join((*keys, role)), hint="roles are: " + ", ".join(ROLES))
    lp = brand.logo_path()
    if lp is not None and not lp.exists():
        raise BriefError(f"logo '{clip(brand.logo)}' does not exist", file=path, line=loaded.line_of(("logo",)),
                         key="logo", hint="give a PNG path relative to the brand file, or logo: null")
    if lp is not None:   # a regular file within the limits that decodes whole (read again by the renderer)
        load_image(lp, "logo", {"file": path, "line": loaded.line_of(("logo",)), "key": "logo"}).close()
    return brand
