"""The hero figure of a creative: the rate when the brief has one, else the strongest offer fact among the perks
(configs/hero-facts.yaml: a price, an amount, a discount, a rebate, a term), typeset like a rate."""
from __future__ import annotations

import re
from functools import lru_cache

from ..errors import ConfigError
from ..paths import configs_dir
from ..yamlio import load_yaml
from .flow import Hero


@lru_cache(maxsize=1)
def _kinds() -> list[tuple[str, re.Pattern]]:
    path = configs_dir() / "hero-facts.yaml"
    data = load_yaml(path, what="hero facts").data
    kinds = data.get("kinds") if isinstance(data, dict) else None
    if not isinstance(kinds, dict):
        raise ConfigError("expected a 'kinds:' mapping of name → pattern", file=path, line=1)
    out = []
    for name, pat in kinds.items():
        try:
            rx = re.compile(str(pat))
        except re.error as e:
            raise ConfigError(f"kind '{name}': {e}", file=path, key=f"kinds.{name}") from None
        if not {"label", "figure", "unit"} <= set(rx.groupindex):
            raise ConfigError(f"kind '{name}' needs the groups label, figure and unit", file=path,
                              key=f"kinds.{name}", hint="e.g. (?P<label>…)(?P<figure>\\d+)(?P<unit>万)")
        out.append((name, rx))
    return out


def offer_hero(perks: list[str]) -> tuple[Hero, int] | None:
    """(hero, index of the perk it came from) for the strongest fact among `perks`, or None. Only a perk that is
    nothing but the fact is promoted (its exact text goes on the plate), so no words are lost or reordered."""
    for _, rx in _kinds():
        for i, perk in enumerate(perks):
            if " " in perk.strip() or "\u3000" in perk:
                continue
            m = rx.match(perk.strip())
            if m:
                return Hero("offer", m.group("label"), m.group("figure"), m.group("unit")), i
    return None


def hero_for(rate: tuple[str, str, str] | None, perks: list[str]) -> tuple[Hero | None, list[str]]:
    """The hero and the perks left for the chips."""
    if rate is not None:
        return Hero("rate", *rate), list(perks)
    found = offer_hero(perks)
    if found is None:
        return None, list(perks)
    hero, i = found
    return hero, [p for j, p in enumerate(perks) if j != i]
