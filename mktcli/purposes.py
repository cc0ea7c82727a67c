"""FIN-PURPOSE's data: the classes a product can be in (business, consumer, housing, card …), what each use looks
like and what each class may not fund — the `purposes:` section of the compliance rules files.

It sits here, below the rule set (checks/rules.py), because a brief names a class (`product.purpose`, checked when
the brief is loaded) and the copy's facts carry one, and neither may need the checks to say which. The rule set
merges the same sections (and those of --rules files) with `Purposes.merged`."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .paths import configs_dir, user_dir
from .schema import Strict, invalid, validate
from .yamlio import load_yaml


class PurposeClass(Strict):
    label: str = ""
    categories: list[str] = Field(default_factory=list)
    match: list[str] = Field(default_factory=list)


class Purposes(Strict):
    """FIN-PURPOSE's data: how a product is classified, what each use looks like, what each class may not fund."""
    checked: date | None = None
    classes: dict[str, PurposeClass] = Field(default_factory=dict)
    defaults: dict[str, str] = Field(default_factory=dict)
    uses: dict[str, str] = Field(default_factory=dict)
    forbid: dict[str, list[str]] = Field(default_factory=dict)
    negation: str | None = None

    @field_validator("uses")
    @classmethod
    def _uses(cls, v):
        for name, rx in v.items():
            try:
                re.compile(rx)
            except re.error as e:
                raise invalid(f"use '{name}' is not a valid regular expression ({e})", "check the brackets")
        return v

    def merged(self, later: "Purposes") -> "Purposes":
        """These purposes with a later file's on top (its classes, defaults, uses and forbidden lists win by name)."""
        return self.model_copy(update={
            "classes": {**self.classes, **later.classes}, "defaults": {**self.defaults, **later.defaults},
            "uses": {**self.uses, **later.uses}, "forbid": {**self.forbid, **later.forbid},
            "negation": later.negation or self.negation, "checked": later.checked or self.checked})

    def purpose_of(self, name: str, category: str | None, explicit: str | None = None) -> str | None:
        """A product's class: the brief's own `product.purpose`, else the first class whose words are in the
        product's name (within the class's categories), else the category's default (None: no purpose rules)."""
        if explicit:
            return explicit
        for cls, spec in self.classes.items():
            if (not spec.categories or category in spec.categories) and any(w and w in name for w in spec.match):
                return cls
        return self.defaults.get(category or "")


def default_rules_files() -> list[Path]:
    """The rules files in force without --rules: the shipped rules, then MKT_HOME/compliance.yaml if there is one."""
    paths = [configs_dir() / "compliance" / "zh-CN.yaml"]
    user = user_dir() / "compliance.yaml"
    if user.is_file():
        paths.append(user)
    return paths


class _Section(BaseModel):
    """A rules file as this module reads it: its `purposes:` only (the rule set validates the rest)."""
    model_config = ConfigDict(extra="ignore")

    purposes: Purposes | None = None


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> Purposes:
    out = Purposes()
    for p in paths:
        section = validate(_Section, load_yaml(Path(p), what="compliance rules"))
        if section.purposes is not None:
            out = out.merged(section.purposes)
    return out


def purposes() -> Purposes:
    """The purposes of the rules files in force without --rules: what load_rules().purposes holds."""
    return _load(tuple(str(p) for p in default_rules_files()))
