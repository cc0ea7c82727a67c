"""The expression knowledge base: what wording went with more (or fewer) clicks, per audience segment, as a YAML
file a person reads and edits (MKT_HOME/knowledge/zh-CN.yaml), and what the copy engines ask of it.

Compliance always wins: an entry under `works:` whose words a compliance rule forbids (the pattern rules of
configs/compliance/zh-CN.yaml and any override file) is moved to `blocked_by_rules:` when the file is read, so a
hand edit or a rule added later cannot make the copy engines use it; every variant still goes through the guard."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, field_validator

from ..brief import Brief, knowledge_path
from ..checks.copy_guard import forbidden_words
from ..paths import default_knowledge_path  # noqa: F401 — distill, cli/learn.py and the tests take it from here
from ..schema import Strict, invalid, validate
from ..yamlio import load_yaml
from .features import features, wording_text
from ..export.files import atomic_write, sha256

KINDS = ("phrase", "perk", "rate", "tone", "len")

HEADER = """\
# Expression knowledge ({locale}) — what wording went with more clicks, per audience segment.
# Made by `mkt learn distill` on {date} from {observations:,} creative × segment × channel observations
# ({impressions:,} impressions, {clicks:,} clicks).
#
# How: per segment, a logistic model of clicks on the copy's features (phrase: words of the headline, subhead,
# CTA and bodies; perk: a perk string; rate: how the rate is framed; tone: ？ ！ an opening verb, addressing the
# reader; len: headline length), with the channel as a baseline. Each segment's effect is shrunk towards the
# all-segment effect (normal prior, sd {sd_seg} on the log-odds) and that towards 0 (sd {sd_all}); the
# uncertainty is widened by the extra-binomial spread between creatives measured in the data (rho {dispersion}:
# a creative's variance is n·p·(1-p)·(1 + (n-1)·rho)), and never taken below a spread of {creative_sd} on the
# log-odds (creatives differ for reasons other than their words; few creatives cannot measure it).
# Words that always appeared together are one feature (补栏/周转): the data cannot tell them apart.
# An effect is listed only when it is at least ±{min_lift:.0%}, survives Benjamini–Hochberg at FDR {fdr} over
# all {tests:,} segment × feature tests, and has ≥ {min_impressions:,} impressions and ≥ {min_creatives}
# creatives both with and without it.
#
#   lift:     the segment's CTR if all its copy had the feature, relative to its mean CTR
#   interval: 95% posterior interval of the lift
#   effect:   the log-odds effect; the copy engines rank variants by the sum over the features they have
#   n:        impressions and creatives with the feature, in this segment
#   q:        Benjamini–Hochberg adjusted p-value
#
# You may edit or delete entries (or whole segments): the copy engines read this file as it is. Compliance rules
# always win: wording the rules forbid is never used, whatever this file says — see blocked_by_rules.
"""


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if abs(x) < 0.1 else f"{x * 100:+.0f}%"


def _parse_pct(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    s = str(v).strip().replace("％", "%")
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)\s*(%?)", s)
    if not m:
        raise invalid(f"'{v}' is not a percentage", "write it like +18% or -7.5%")
    return float(m.group(1)) / (100 if m.group(2) else 1)


def split_feature(feature: str) -> list[str]:
    """The atomic features of an entry: 'phrase:补栏/周转 + perk:首期利息8折' → phrase:补栏, phrase:周转,
    perk:首期利息8折."""
    out = []
    for part in feature.split(" + "):
        kind, _, value = part.strip().partition(":")
        if kind == "phrase":
            out += [f"phrase:{w}" for w in value.split("/") if w]
        else:
            out.append(f"{kind}:{value}")
    return out


def member_text(member: str) -> str:
    """The words a member puts in copy (phrase and perk members), '' for framing features."""
    kind, _, value = member.partition(":")
    return value if kind in ("phrase", "perk") else ""


# ------------------------------------------------------------------------------------------------ the file schema

class Support(Strict):
    impressions: int = Field(ge=0)
    creatives: int = Field(ge=0)


class EntryFile(Strict):
    feature: str
    kind: str | None = None
    lift: float
    interval: list[float] | None = None
    effect: float | None = None
    n: Support | None = None
    q: float | None = None
    rules: list[str] = Field(default_factory=list)
    note: str = ""

    @field_validator("feature")
    @classmethod
    def _feature(cls, v: str) -> str:
        for part in v.split(" + "):
            kind, sep, value = part.strip().partition(":")
            if not sep or kind not in KINDS or not value:
                raise invalid(f"'{part}' is not a feature",
                              "write kind:value with kind one of " + ", ".join(KINDS) + " (e.g. phrase:补栏/周转)")
        return v

    @field_validator("lift", mode="before")
    @classmethod
    def _lift(cls, v):
        return _parse_pct(v)

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, v):
        if v is None:
            return None
        if not isinstance(v, list) or len(v) != 2:
            raise invalid("interval is two percentages", "e.g. [+9%, +27%]")
        return [_parse_pct(x) for x in v]


class SegmentFile(Strict):
    ctr: float | None = None
    impressions: int | None = None
    creatives: int | None = None
    works: list[EntryFile] = Field(default_factory=list)
    avoid: list[EntryFile] = Field(default_factory=list)
    blocked_by_rules: list[EntryFile] = Field(default_factory=list)

    @field_validator("ctr", mode="before")
    @classmethod
    def _ctr(cls, v):
        return None if v is None else _parse_pct(v)

    @field_validator("works", "avoid", "blocked_by_rules", mode="before")
    @classmethod
    def _none_is_empty(cls, v):   # 'works:' with every entry deleted reads as null
        return [] if v is None else v


class KnowledgeFile(Strict):
    version: int = 1
    locale: str = "zh-CN"
    made: dict[str, Any] = Field(default_factory=dict)
    segments: dict[str, SegmentFile] = Field(default_factory=dict)

    @field_validator("version")
    @classmethod
    def _version(cls, v):
        if v != 1:
            raise invalid(f"knowledge file version {v} is not supported", "this mkt reads 'version: 1'")
        return v

    @field_validator("segments", mode="before")
    @classmethod
    def _segments(cls, v):
        return {} if v is None else {k: ({} if s is None else s) for k, s in v.items()} if isinstance(v, dict) else v


# ------------------------------------------------------------------------------------------------ in memory

@dataclass
class Effect:
    """One learned effect of a feature (or a group of features that always appeared together) in one segment."""
    feature: str
    kind: str
    lift: float                      # segment CTR with the feature on all its copy, vs its mean (0.18 = +18%)
    effect: float                    # log-odds, vs the same copy without the feature
    interval: tuple[float, float] | None = None
    impressions: int = 0
    creatives: int = 0
    q: float | None = None
    rules: tuple[str, ...] = ()      # compliance rules its words break (blocked_by_rules)
    note: str = ""

    @property
    def members(self) -> list[str]:
        return split_feature(self.feature)

    @property
    def words(self) -> list[str]:
        """What the feature puts in copy: its phrases and perks (reading order)."""
        return [t for t in (member_text(m) for m in self.members) if t]

    def match(self, feats: set[str], wording: str, all_text: str) -> float:
        """How much of the feature a creative has: the share of its members present (a phrase by substring of
        the wording, whatever the segmentation made of it; a perk anywhere in the creative)."""
        ms = self.members
        hit = 0
        for m in ms:
            kind, _, value = m.partition(":")
            if m in feats or (kind == "phrase" and value in wording) or (kind == "perk" and value in all_text):
                hit += 1
        return hit / len(ms) if ms else 0.0

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"feature": self.feature, "kind": self.kind, "lift": _pct(self.lift)}
        if self.interval:
            d["interval"] = [_pct(self.interval[0]), _pct(self.interval[1])]
        d["effect"] = round(self.effect, 4)
        d["n"] = {"impressions": int(self.impressions), "creatives": int(self.creatives)}
        if self.q is not None:
            d["q"] = float(f"{self.q:.3g}")
        if self.rules:
            d["rules"] = list(self.rules)
        d["note"] = self.note
        return d


@dataclass
class SegmentKnowledge:
    segment: str
    ctr: float | None = None
    impressions: int | None = None
    creatives: int | None = None
    works: list[Effect] = field(default_factory=list)
    avoid: list[Effect] = field(default_factory=list)
    blocked: list[Effect] = field(default_factory=list)


@dataclass
class Knowledge:
    segments: dict[str, SegmentKnowledge] = field(default_factory=dict)
    locale: str = "zh-CN"
    made: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    sha256: str | None = None
    notes: list[str] = field(default_factory=list)   # what loading changed (entries moved by the rules)

    # ------------------------------------------------------------------ questions the copy engines ask
    def segment(self, name: str) -> SegmentKnowledge | None:
        return self.segments.get(name)

    def works(self, segment: str) -> list[Effect]:
        s = self.segment(segment)
        return list(s.works) if s else []

    def avoid(self, segment: str) -> list[Effect]:
        s = self.segment(segment)
        return list(s.avoid) if s else []

    def effect(self, segment: str, texts: dict[str, Any], channel: str | None = None) -> float:
        """Sum of the log-odds effects of the features the copy has (partial groups count pro rata)."""
        s = self.segment(segment)
        if s is None:
            return 0.0
        clean = {k: v for k, v in texts.items() if v}
        feats = features(clean, channel)
        wording = wording_text(clean, channel)
        all_text = "\n".join(str(v) for v in clean.values())
        return sum(e.effect * e.match(feats, wording, all_text) for e in (*s.works, *s.avoid))

    def lift(self, segment: str, texts: dict[str, Any], channel: str | None = None) -> float:
        """Predicted relative CTR lift of a creative's copy for a segment (0.2 = +20%), vs the same copy with none
        of the learned features; 0 for a segment the file does not know."""
        return math.exp(self.effect(segment, texts, channel)) - 1.0

    def summary(self) -> dict[str, Any]:
        return {"segments": len(self.segments),
                "works": sum(len(s.works) for s in self.segments.values()),
                "avoid": sum(len(s.avoid) for s in self.segments.values()),
                "blocked_by_rules": sum(len(s.blocked) for s in self.segments.values()),
                "tests": self.made.get("tests"),
                "effects": {n: {"works": [e.note for e in s.works], "avoid": [e.note for e in s.avoid],
                                "blocked_by_rules": [e.note for e in s.blocked]}
                            for n, s in self.segments.items() if s.works or s.avoid or s.blocked}}

    # ------------------------------------------------------------------ the file
    def to_dict(self) -> dict[str, Any]:
        segs = {}
        for name, s in self.segments.items():
            d: dict[str, Any] = {}
            if s.ctr is not None:
                d["ctr"] = f"{s.ctr * 100:.2f}%"
            if s.impressions is not None:
                d["impressions"] = int(s.impressions)
            if s.creatives is not None:
                d["creatives"] = int(s.creatives)
            d["works"] = [e.as_dict() for e in s.works]
            d["avoid"] = [e.as_dict() for e in s.avoid]
            d["blocked_by_rules"] = [e.as_dict() for e in s.blocked]
            segs[name] = d
        return {"version": 1, "locale": self.locale, "made": self.made, "segments": segs}

    def to_yaml(self, path: str | Path) -> Path:
        """Write the file atomically (a reader sees the old file or the whole new one)."""
        m = {"date": "?", "observations": 0, "impressions": 0, "clicks": 0, "sd_seg": "?", "sd_all": "?",
             "dispersion": 0.0, "creative_sd": "?", "min_lift": 0.0, "fdr": "?", "tests": 0, "min_impressions": 0, "min_creatives": 0,
             **self.made}
        try:
            head = HEADER.format(locale=self.locale, **m) if self.made else ""
        except (ValueError, TypeError):   # a hand-edited `made:` the header cannot show: the short header
            head = ""
        head = head or (f"# Expression knowledge ({self.locale}). You may edit or delete entries; compliance rules "
                        "always win.\n")
        body = yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, default_flow_style=None,
                              width=120)
        data = (head + body).encode("utf-8")
        path = Path(path)
        atomic_write(path, data)
        self.path, self.sha256 = path, sha256(data)
        return path


def _effect(e: EntryFile) -> Effect:
    kinds = {p.strip().partition(":")[0] for p in e.feature.split(" + ")}
    eff = e.effect if e.effect is not None else math.log1p(max(e.lift, -0.99))
    return Effect(e.feature, e.kind or ("+".join(sorted(kinds))), e.lift, eff,
                  tuple(e.interval) if e.interval else None, e.n.impressions if e.n else 0,
                  e.n.creatives if e.n else 0, e.q, tuple(e.rules), e.note)


def forbidden(words: list[str]) -> list[str]:
    """The compliance rules (error severity, pattern rules, the rules in force) that the words break, each word on
    its own and together."""
    return forbidden_words(words)


def load_knowledge(path: str | Path) -> Knowledge:
    """Read a knowledge file as it is (hand edits and deletions included). A malformed file is a ConfigError-like
    BriefError naming the file, line and key. Entries under `works:` whose words the compliance rules forbid are
    moved to `blocked_by_rules` (and said so in `.notes`)."""
    path = Path(path)
    loaded = load_yaml(path, what="knowledge file")
    if loaded.data is None:
        loaded.data = {}
    kf = validate(KnowledgeFile, loaded)
    k = Knowledge(locale=kf.locale, made=dict(kf.made), path=path,
                  sha256=loaded.sha256)
    for name, s in kf.segments.items():
        sk = SegmentKnowledge(name, s.ctr, s.impressions, s.creatives,
                              avoid=[_effect(e) for e in s.avoid], blocked=[_effect(e) for e in s.blocked_by_rules])
        for e in map(_effect, s.works):
            rules = forbidden(e.words) if e.words else []
            if rules:
                e.rules = tuple(rules)
                sk.blocked.append(e)
                k.notes.append(f"{name}: {e.feature} is listed under works but breaks {', '.join(rules)}: not used")
            else:
                sk.works.append(e)
        k.segments[name] = sk
    return k


def resolve_knowledge(brief: Brief | None, knowledge: Any = None) -> Knowledge | None:
    """The knowledge the copy engines use: `knowledge` (a Knowledge, a path, or False for none), else the brief's
    `copy: {knowledge: path}` (relative to the brief), else MKT_HOME/knowledge/zh-CN.yaml when it exists."""
    if knowledge is False:
        return None
    if isinstance(knowledge, Knowledge):
        return knowledge
    if knowledge is not None:
        return load_knowledge(knowledge)
    path = knowledge_path(brief)
    return load_knowledge(path) if path is not None else None
