"""The compliance rule set (configs/compliance/zh-CN.yaml, plus ~/.mkt/compliance.yaml and --rules files): the
rules file schema, the merged RuleSet, and check_text, which runs the text rules on one customer-facing string.

A rule is data: an id, a severity and a `kind` with its parameters. The check of each kind is one function
registered in checks/registry.py — text kinds in text_kinds.py (patterns, FIN-APR, FIN-CONSISTENT, FIN-CAP, the SMS
and call-script frame …), poster kinds in poster_kinds.py (size, contrast, small print, APR prominence, safe zones,
the AI label), the file and clip stages in poster_kinds, readback.py and video.py. A rule whose kind has no
registered check is an error when its file is loaded."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from ..errors import ConfigError
from ..purposes import Purposes, default_rules_files
from ..schema import Strict, invalid, suggest, validate
from ..yamlio import load_yaml

# the modules that register a check for every rule kind (checks/registry.py): imported here, where rule files are
# read, so a rule's kind is known when it is validated
from . import poster_kinds, readback, text_kinds, video  # noqa: F401
from .figures import OfferFacts, Vocabulary, compile_vocabulary, offer_facts
from .registry import Finding, check_for, default_message, known_kinds, targets_of
from .text_kinds import TextSubject

Severity = Literal["error", "warning", "info"]


class Rule(Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]+$")
    severity: Severity = "error"
    kind: str = "pattern"   # a kind registered in checks/registry.py (text_kinds, poster_kinds, readback, video)
    # what the rule is checked on: each target needs a check of the rule's kind on it (registry.APPLIES_TO)
    applies_to: list[Literal["text", "image", "video", "sms", "call", "push"]] = Field(
        default_factory=lambda: ["text"], validate_default=True)
    categories: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    source: str = ""
    message: str = Field("", validate_default=True)   # default: the kind's (registry.default_message)
    fix: str = ""
    pattern: str | None = None
    allow: str | None = None
    unless: str | None = None
    phrase: str | None = None
    phrases: list[str] = Field(default_factory=list)   # sms_optout: any one of these (a `phrase` replaces them)
    limit: float | None = None
    unless_apr_range: bool = False   # pattern: not where the creative shows the brief's APR range (a poster's badge)
    scale: dict[str, float] = Field(default_factory=dict)   # typo_size: a role's minimum as a multiple of the channel's
    # required_phrase on a poster: the brief's own disclaimer also meets the rule, and where no required_phrase rule
    # covers the product the brief's disclaimer must still be placed
    brief_disclaimer: bool = False
    enabled: bool = True

    @field_validator("kind")
    @classmethod
    def _kind(cls, v, info: ValidationInfo):
        if v not in known_kinds():
            guess = suggest(v, known_kinds())
            raise invalid(f"rule {info.data.get('id', '?')}: unknown kind '{v}'"
                          + (f" — did you mean '{guess}'?" if guess else ""),
                          "kinds: " + ", ".join(known_kinds()) + " (docs/compliance.md: adding a kind)")
        return v

    @field_validator("applies_to")
    @classmethod
    def _applies_to(cls, v, info: ValidationInfo):
        kind = info.data.get("kind")
        if kind is None:   # an unknown kind: already reported
            return v
        can = targets_of(kind)
        bad = [t for t in v if t not in can]
        if bad:
            raise invalid(f"rule {info.data.get('id', '?')}: kind '{kind}' cannot check {', '.join(bad)} "
                          f"(it checks {', '.join(can) or 'nothing'}), so the rule would never run there",
                          f"applies_to: [{', '.join(can)}], or a kind that checks {bad[0]} "
                          "(docs/compliance.md: the table of kinds)")
        return v

    @field_validator("message")
    @classmethod
    def _message(cls, v, info: ValidationInfo):
        return v or default_message(info.data.get("kind") or "pattern")

    @field_validator("pattern", "allow", "unless")
    @classmethod
    def _regex(cls, v):
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise invalid(f"not a valid regular expression ({e})", "check the brackets and escapes (\\d, \\.)")
        return v


class RuleChange(Strict):
    scale: dict[str, float] | None = None
    severity: Severity | None = None
    enabled: bool | None = None
    allow: str | None = None
    phrase: str | None = None
    phrases: list[str] | None = None
    limit: float | None = None


class RulesFile(Strict):
    version: int = 1
    checked: date | None = None
    rules: list[Rule] = Field(default_factory=list)
    overrides: dict[str, RuleChange] = Field(default_factory=dict)
    allow: list[str] = Field(default_factory=list)   # phrases allowed everywhere (a brand's product names …)
    figures: dict[str, list[str] | dict[str, list[str]]] = Field(default_factory=dict)   # FIN-CONSISTENT's words
    purposes: Purposes | None = None

    @field_validator("figures")
    @classmethod
    def _figures(cls, v):
        for key, words in v.items():
            for w in (words if isinstance(words, list) else [x for ws in words.values() for x in ws]):
                try:
                    re.compile(w)
                except re.error as e:
                    raise invalid(f"figures.{key}: '{w}' is not a valid regular expression ({e})", "escape it")
        return v


@dataclass(frozen=True)
class Facts:
    """What the brief states, for the rules that compare against it."""
    apr_phrase: str | None = None           # 年化利率3.2%起 — exactly as typeset
    apr_figures: tuple[float, ...] = ()
    numbers_from: tuple[str, ...] = ()      # brief texts whose figures are the offer's (without offer_sources)
    provider: str | None = None
    apr: str | None = None                  # offer.apr as written (3.45%-12%); else apr_figures
    offer_sources: tuple[tuple[str, str], ...] = ()   # (brief key, text) stating the offer: offer.perks[0] …
    purpose: str | None = None              # the product's class for FIN-PURPOSE (business, consumer, card …)

    def without(self, key: str) -> "Facts":
        """The same facts without one source (a perk is checked against the others)."""
        return replace(self, offer_sources=tuple(s for s in self.offer_sources if s[0] != key))


_FULLWIDTH_FIGURES = {**{0xFF10 + i: 0x30 + i for i in range(10)}, 0xFF05: 0x25, 0xFF0E: 0x2E}


class RuleSet:
    def __init__(self, files: list[tuple[Path, RulesFile]]):
        rules: dict[str, Rule] = {}
        allow: list[str] = []
        figures: dict = {}
        purposes = Purposes()
        self.sources = [str(p) for p, _ in files]
        for path, f in files:
            for r in f.rules:
                rules[r.id] = r
            for rid, ch in f.overrides.items():
                if rid not in rules:
                    raise ConfigError(f"override for unknown rule '{rid}'", file=path, key=f"overrides.{rid}",
                                      hint="rules: " + ", ".join(sorted(rules)))
                rules[rid] = rules[rid].model_copy(update=ch.model_dump(exclude_none=True))
            allow += f.allow
            figures.update(f.figures)
            if f.purposes is not None:
                p = f.purposes
                purposes = purposes.merged(p)
                for cls, uses in p.forbid.items():
                    unknown = [u for u in uses if u not in purposes.uses]
                    if unknown:
                        raise ConfigError(f"purposes.forbid.{cls}: unknown use '{unknown[0]}'", file=path,
                                          key=f"purposes.forbid.{cls}", hint="uses: " + ", ".join(purposes.uses))
        self.rules = rules
        self.vocab: Vocabulary = compile_vocabulary(figures)
        self.purposes = purposes
        self._uses = {name: re.compile(rx) for name, rx in purposes.uses.items()}
        self._negation = re.compile(purposes.negation) if purposes.negation else None
        self._offers: dict[Facts, OfferFacts] = {}
        # check_text's answers: a brief's segments and sizes show the same disclaimer, provider, rate, button and
        # perks again and again, and the rules are fixed once loaded
        self._text_findings: dict[tuple, tuple[Finding, ...]] = {}
        self.checked = max((f.checked for _, f in files if f.checked), default=None)
        self._allow_all = re.compile("|".join(re.escape(a) for a in allow)) if allow else None
        self.patterns: dict[str, tuple[re.Pattern | None, re.Pattern | None, re.Pattern | None]] = {}
        for r in rules.values():
            try:
                self.patterns[r.id] = tuple(re.compile(x) if x else None for x in (r.pattern, r.allow, r.unless))
            except re.error as e:
                raise ConfigError(f"rule {r.id}: bad regular expression ({e})", hint="fix the pattern") from None

    def get(self, rule_id: str) -> Rule | None:
        r = self.rules.get(rule_id)
        return r if r is not None and r.enabled else None

    def severity(self, rule_id: str, default: str = "error") -> str | None:
        """A rule's severity, or None when it is switched off."""
        if rule_id not in self.rules:
            return default
        r = self.rules[rule_id]
        return r.severity if r.enabled else None

    def _applies(self, r: Rule, unit: str, category: str | None, channel: str | None) -> bool:
        if not r.enabled or (unit not in r.applies_to and not (unit in ("sms", "call", "push")
                                                                and "text" in r.applies_to)):
            return False
        if r.categories and category and category not in r.categories:
            return False
        if r.channels and channel and channel not in r.channels:
            return False
        return True

    def text_rules(self, unit: str = "text", category: str | None = None,
                   channel: str | None = None) -> list[Rule]:
        """The rules check_text runs on a text of `unit` (text | sms | call | push), in the rules files' order: those
        whose kind has a text check, enabled, applying to the unit, the category and the channel."""
        return [r for r in self.rules.values()
                if check_for(r.kind, "text") is not None and self._applies(r, unit, category, channel)]

    # ---- FIN-PURPOSE and FIN-CONSISTENT's data
    def purpose_of(self, name: str, category: str | None, explicit: str | None = None) -> str | None:
        """A product's class (purposes.Purposes.purpose_of on this rule set's purposes)."""
        return self.purposes.purpose_of(name, category, explicit)

    def offer_of(self, facts: Facts) -> OfferFacts:
        """The offer's figures: the APR (facts.apr, else apr_figures) and those of facts.offer_sources (else of
        facts.numbers_from), read once per facts."""
        if facts not in self._offers:
            apr = facts.apr or ("-".join(f"{x:g}%" for x in facts.apr_figures) if facts.apr_figures else None)
            sources = facts.offer_sources or tuple(("brief", t) for t in facts.numbers_from)
            self._offers[facts] = offer_facts(apr, sources, self.vocab)
        return self._offers[facts]

    def purpose_hits(self, text: str, cls: str | None) -> list[tuple[str, str]]:
        """(words, use) for every use a product of class `cls` may not fund that the text steers it to."""
        return self._class_hits(text, cls) if cls else []

    def _class_hits(self, text: str, cls: str) -> list[tuple[str, str]]:
        """(words, use) for every forbidden use the text steers the product to (a use after 不得/禁止 … in its
        clause is a disclosure, not steering)."""
        out = []
        for use in self.purposes.forbid.get(cls, []):
            for m in self._uses[use].finditer(text):
                start = max((text.rfind(c, 0, m.start()) for c in "，,。；;！!？?\n"), default=-1) + 1
                if self._negation is not None and self._negation.search(text[start:m.start()]):
                    continue
                out.append((m.group(0), use))
        return out

    def without_allowed(self, r: Rule, text: str) -> str:
        _, allow, _ = self.patterns[r.id]
        if allow is not None:
            text = allow.sub(" ", text)
        if self._allow_all is not None:
            text = self._allow_all.sub(" ", text)
        return text

    def check_text(self, text: str, *, unit: str = "text", category: str | None = None, channel: str | None = None,
                   facts: Facts | None = None, apr_shown: bool = False, where: str = "",
                   perk: bool = False, exact_rate: bool = False) -> list[Finding]:
        """Every text rule for one customer-facing text. `unit`: text | sms | call | push. `apr_shown`: the creative
        shows the rate elsewhere (a poster's typeset badge), so a mention of a rate or cost (利率优惠) needs no
        annualized rate of its own — a daily or monthly figure (日息万分之二) still does. `perk`: the text is one of
        the offer's perks (its figures state the offer; facts.offer is passed without it). `exact_rate`: a text
        creative mkt writes (an SMS, a call script), which states the brief's rate phrase as written."""
        key = (text, unit, category, channel, facts, apr_shown, where, perk, exact_rate)
        found = self._text_findings.get(key)
        if found is None:
            if len(self._text_findings) >= 4096:
                self._text_findings.clear()
            found = self._text_findings[key] = tuple(self._check_text(text, unit, category, channel, facts,
                                                                      apr_shown, where, perk, exact_rate))
        return list(found)

    def _check_text(self, text: str, unit: str, category: str | None, channel: str | None, facts: Facts | None,
                    apr_shown: bool, where: str, perk: bool, exact_rate: bool) -> list[Finding]:
        # full-width figures (３．６％) and stray spaces inside a figure (3.6 %) read as the same text; Chinese
        # punctuation (，。) stays as it is, the patterns rely on it
        text = re.sub(r"(?<=\d)\s+(?=[%.])|(?<=[%.])\s+(?=\d)", "", text.translate(_FULLWIDTH_FIGURES))
        t = TextSubject(self, text, unit, category, channel, facts, apr_shown, where, perk, exact_rate)
        out: list[Finding] = []
        for r in self.rules.values():
            check = check_for(r.kind, "text")
            if check is not None and self._applies(r, unit, category, channel):
                out += check.fn(t, r)
        return out


def rules_files(extra: tuple[str, ...]) -> list[Path]:
    return default_rules_files() + [Path(p) for p in extra]


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> RuleSet:
    files = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise ConfigError(f"rules file not found: {path}", hint="check the path given to --rules")
        files.append((path, validate(RulesFile, load_yaml(path, what="compliance rules"))))
    return RuleSet(files)


def load_rules(extra: list[str | Path] | tuple = ()) -> RuleSet:
    """The shipped rules, ~/.mkt/compliance.yaml, then each extra file (a brand's, --rules), later ones winning."""
    return _load(tuple(str(p) for p in rules_files(tuple(str(e) for e in extra))))
