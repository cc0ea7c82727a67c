"""The Chinese words mkt's code reads marketing text by (configs/wording.yaml): the rate labels that the compliance
checks and `mkt quick` share, and the words `mkt learn` turns wording into features with. Loaded once, validated."""
from __future__ import annotations

import re
from functools import lru_cache

from pydantic import Field, field_validator

from .paths import configs_dir
from .schema import Strict, invalid, validate
from .yamlio import load_yaml

_Word = Field(min_length=1)


class RateLabel(Strict):
    label: str = _Word
    annual: bool        # states an annualized rate (the checks count it); false: a looser lead `mkt quick` reads


class LearnWords(Strict):
    imperative: list[str] = Field(min_length=1)
    address: list[str] = Field(min_length=1)
    particles: str = _Word
    words: list[str] = Field(default_factory=list)

    @field_validator("imperative", "address", "words")
    @classmethod
    def _no_empty(cls, v: list[str]) -> list[str]:
        if any(not w.strip() for w in v):
            raise invalid("an empty word")
        return v

    @field_validator("particles")
    @classmethod
    def _characters(cls, v: str) -> str:
        if any(c.isspace() for c in v):
            raise invalid("particles are single characters written together, without spaces")
        return v


class Wording(Strict):
    version: int = 1
    rate_labels: list[RateLabel] = Field(min_length=1)
    learn: LearnWords

    @field_validator("rate_labels")
    @classmethod
    def _unique(cls, v: list[RateLabel]) -> list[RateLabel]:
        seen = [r.label for r in v]
        dup = next((w for w in seen if seen.count(w) > 1), None)
        if dup:
            raise invalid(f"rate label '{dup}' is listed twice")
        if not any(r.annual for r in v):
            raise invalid("no annualized rate label (annual: true)")
        return v


@lru_cache(maxsize=1)
def wording() -> Wording:
    return validate(Wording, load_yaml(configs_dir() / "wording.yaml", what="wording"))


@lru_cache(maxsize=2)
def rate_label_pattern(annual_only: bool = False) -> str:
    """The rate labels as a regular-expression alternation (no group), longest first so that 年化利率 is read whole
    rather than as 年化 (`annual_only`: only the labels that state an annualized rate)."""
    labels = [r.label for r in wording().rate_labels if r.annual or not annual_only]
    return "|".join(re.escape(w) for w in sorted(labels, key=len, reverse=True))
