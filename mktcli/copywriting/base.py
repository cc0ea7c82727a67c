"""The copy protocol: `CopyEngine.write(requests) -> list[Draft]`, the structured copy it returns, and a registry
by name (entry-point group `mkt.copy.v1`, as for visual engines)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, Field

from .. import plugins
from ..plugins import load_class

ENTRY_POINT_GROUP = plugins.COPY_GROUP   # the built-in engines are listed in plugins.py


class Sms(BaseModel):
    signature: str
    body: str
    opt_out: str

    @property
    def text(self) -> str:
        return f"【{self.signature}】{self.body}{self.opt_out}"


class CallScript(BaseModel):
    opening: str
    value: str
    apr: str
    refusal: str
    closing: str

    @property
    def text(self) -> str:
        parts = [("开场", self.opening), ("介绍", self.value), ("利率", self.apr), ("拒绝选项", self.refusal),
                 ("结束", self.closing)]
        return "\n".join(f"{k}：{v}" for k, v in parts if v)


class Push(BaseModel):
    title: str
    body: str


class Feed(BaseModel):
    title: str
    description: str


class Copy(BaseModel):
    """One variant of copy for one segment: the poster's words and each text channel's text."""
    headline: str
    subhead: str = ""
    cta: str
    perks: list[str] = Field(default_factory=list)
    sms: Sms
    call_script: CallScript
    push: Push
    feed: Feed

    def fields(self) -> dict[str, str]:
        """Every generated string by a dotted name (what the guard checks)."""
        return {"headline": self.headline, "subhead": self.subhead, "cta": self.cta,
                **{f"perks[{i}]": p for i, p in enumerate(self.perks)},
                "sms": self.sms.text, "call_script.value": self.call_script.value,
                "call_script.apr": self.call_script.apr, "push.title": self.push.title, "push.body": self.push.body,
                "feed.title": self.feed.title, "feed.description": self.feed.description}


@dataclass(frozen=True)
class Facts:
    """What the copy may say, from the brief: names, the exact rate phrase, perks, required legal text."""
    product: str
    category: str
    provider: str             # legal name (call opening)
    brand: str                # short name (SMS signature)
    apr_phrase: str | None    # e.g. 年化利率3.2%起 — the only rate wording allowed
    disclaimer: str
    cta: str
    perks: tuple[str, ...]
    numbers_from: tuple[str, ...]   # brief texts whose figures copy may repeat
    headline: str | None = None     # the brief's headline for this segment: the text channels echo it
    apr: str | None = None          # offer.apr as written (3.45%-12%)
    offer_sources: tuple[tuple[str, str], ...] = ()   # (brief key, text) that state the offer's figures
    purpose: str | None = None      # the product's class for FIN-PURPOSE (business, consumer, card …)


@dataclass(frozen=True)
class CopyRequest:
    facts: Facts
    segment: str
    parts: tuple[str, ...]    # the segment's dimension values (养殖户, 有优惠)
    seed: int
    variant: int = 0
    avoid: tuple[str, ...] = ()   # problems of an earlier try, for a re-generation
    learned: tuple[str, ...] = ()  # learned wording this variant should use (knowledge file, works:)
    hint: str = ""                # learned wording for the prompt (what worked, what to avoid)
    # a line the product may not say (FIN-PURPOSE of the rules in force: it steers the product to a use it may not
    # fund), from the writer's guard: an engine may leave such lines out; every draft is guarded anyway
    screen: Callable[[str], bool] | None = None


@dataclass
class Draft:
    copy: Copy | None
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None      # why no copy came out (unparseable model output …)


class CopyEngine(ABC):
    name = "?"
    report: Callable[[str], None] | None = None

    @abstractmethod
    def write(self, requests: list[CopyRequest]) -> list[Draft]:
        """One draft per request, in order (engines may batch)."""

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}


def available() -> dict[str, str]:
    """name → 'module:Class' for every registered copy engine (the list a brief's copy.engine is checked against)."""
    return plugins.copy_engines()


def get_copy_engine(name: str, **options) -> CopyEngine:
    return load_class(available(), name, "copy engine", "copy engines")(**options)
