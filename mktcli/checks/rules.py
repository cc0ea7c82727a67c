"""The compliance rule set (configs/compliance/zh-CN.yaml, plus user, brand and --rules files) and the text checks.

Text rules run on every placed string and text creative: patterns (absolute terms, banned finance claims, bait …)
with allow-lists of factual phrases, FIN-APR (a rate or cost mentioned ⇒ the annualized rate shown), FIN-CONSISTENT
(every figure is the brief's), FIN-CAP, and the SMS and call-script frame. Image rules (size, contrast, small print,
APR prominence, safe zones, AIGC labels, OCR read-back) are evaluated where the pixels are (checks/image.py), with
the severities and switches from the same file."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from ..errors import ConfigError
from ..paths import configs_dir, user_dir
from ..schema import Strict, invalid, validate
from ..wording import rate_label_pattern
from ..yamlio import load_yaml
from .figures import (OfferFacts, Vocabulary, check_figures, compile_vocabulary, non_annual_rates, offer_facts,
                      parse_figures)
from .text import Finding

Severity = Literal["error", "warning", "info"]
KINDS = ("pattern", "apr", "numbers", "purpose", "provider", "required_phrase", "apr_cap", "sms_sign", "sms_optout", "sms_len",
         "sms_chars", "call_open", "call_refusal", "typo_size", "typo_contrast", "smallprint", "apr_prominence",
         "safe_zone", "aigc_visible", "aigc_implicit", "ocr", "video_spec", "video_legal", "info")


class Rule(Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]+$")
    severity: Severity = "error"
    kind: Literal[KINDS] = "pattern"  # type: ignore[valid-type]
    applies_to: list[Literal["text", "image", "video", "sms", "call", "push"]] = Field(default_factory=lambda: ["text"])
    categories: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    source: str = ""
    message: str = ""
    fix: str = ""
    pattern: str | None = None
    allow: str | None = None
    unless: str | None = None
    phrase: str | None = None
    limit: float | None = None
    unless_apr_range: bool = False   # pattern: not where the creative shows the brief's APR range (a poster's badge)
    scale: dict[str, float] = Field(default_factory=dict)   # typo_size: a role's minimum as a multiple of the channel's
    enabled: bool = True

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
    limit: float | None = None


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


# an annualized rate as a rate label + figure: 年化利率3.2%, 年利率2.15%, 业绩比较基准2.6%-3.3% (a bare 年化5% is
# often a comparison with something else, not this product's rate)
_APR_ANY = re.compile(rf"({rate_label_pattern(annual_only=True)})[^，。；\n]{{0,10}}?\d+(?:\.\d+)?\s*%")
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
                purposes = purposes.model_copy(update={
                    "classes": {**purposes.classes, **p.classes}, "defaults": {**purposes.defaults, **p.defaults},
                    "uses": {**purposes.uses, **p.uses}, "forbid": {**purposes.forbid, **p.forbid},
                    "negation": p.negation or purposes.negation, "checked": p.checked or purposes.checked})
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
        self.checked = max((f.checked for _, f in files if f.checked), default=None)
        self._allow_all = re.compile("|".join(re.escape(a) for a in allow)) if allow else None
        self._re: dict[str, tuple[re.Pattern | None, re.Pattern | None, re.Pattern | None]] = {}
        for r in rules.values():
            try:
                self._re[r.id] = tuple(re.compile(x) if x else None for x in (r.pattern, r.allow, r.unless))
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
        if r.categories and category is None and r.kind == "required_phrase":
            return False   # demanding a wealth risk phrase of a text whose product is unknown would be a guess
        if r.channels and channel and channel not in r.channels:
            return False
        return True

    # ---- FIN-PURPOSE and FIN-CONSISTENT's data
    def purpose_of(self, name: str, category: str | None, explicit: str | None = None) -> str | None:
        """A product's class: the brief's own `product.purpose`, else the first class whose words are in the
        product's name (within the class's categories), else the category's default (None: no purpose rules)."""
        if explicit:
            return explicit
        for cls, spec in self.purposes.classes.items():
            if (not spec.categories or category in spec.categories) and any(w and w in name for w in spec.match):
                return cls
        return self.purposes.defaults.get(category or "")

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
        return self._purpose_hits(text, cls) if cls else []

    def _purpose_hits(self, text: str, cls: str) -> list[tuple[str, str]]:
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

    def _strip(self, r: Rule, text: str) -> str:
        _, allow, _ = self._re[r.id]
        if allow is not None:
            text = allow.sub(" ", text)
        if self._allow_all is not None:
            text = self._allow_all.sub(" ", text)
        return text

    def check_text(self, text: str, *, unit: str = "text", category: str | None = None, channel: str | None = None,
                   facts: Facts | None = None, apr_shown: bool = False, where: str = "",
                   perk: bool = False) -> list[Finding]:
        """Every text rule for one customer-facing text. `unit`: text | sms | call | push. `apr_shown`: the creative
        shows the rate elsewhere (a poster's typeset badge), so a mention of a rate or cost (利率优惠) needs no
        annualized rate of its own — a daily or monthly figure (日息万分之二) still does. `perk`: the text is one of
        the offer's perks (its figures state the offer; facts.offer is passed without it)."""
        # full-width figures (３．６％) and stray spaces inside a figure (3.6 %) read as the same text; Chinese
        # punctuation (，。) stays as it is, the patterns rely on it
        text = re.sub(r"(?<=\d)\s+(?=[%.])|(?<=[%.])\s+(?=\d)", "", text.translate(_FULLWIDTH_FIGURES))
        out: list[Finding] = []

        def hit(r: Rule, message: str, match: str = ""):
            out.append(Finding(r.id, r.severity, message, match, r.fix, where))

        for r in self.rules.values():
            if not self._applies(r, unit, category, channel):
                continue
            pat, _, unless = self._re[r.id]
            if r.kind in ("pattern", "sms_chars"):
                if pat is None or (unless and unless.search(text)):
                    continue
                if r.unless_apr_range and apr_shown and facts is not None and len(facts.apr_figures) == 2:
                    continue   # the creative shows the brief's APR range beside it
                for term in dict.fromkeys(m.group(0) for m in pat.finditer(self._strip(r, text))):
                    hit(r, f"'{term}': {r.message}", term)
            elif r.kind == "apr":
                # any annualized rate stated in the text (whether it is the brief's is FIN-CONSISTENT's question)
                shown = bool(_APR_ANY.search(text))
                want = f" '{facts.apr_phrase}'" if facts and facts.apr_phrase else ""
                daily = non_annual_rates(text, self.vocab, category) if not shown else []
                m = pat.search(self._strip(r, text)) if pat and not shown and not apr_shown else None
                if daily:
                    hit(r, f"'{daily[0].written}' is a daily, monthly or per-instalment figure without the annualized "
                           f"rate{want} beside it", daily[0].written)
                elif m:
                    hit(r, f"'{m.group(0)}' is mentioned without the annualized rate{want}", m.group(0))
            elif r.kind == "numbers" and facts is not None and (facts.offer_sources or facts.numbers_from
                                                                  or facts.apr_figures or facts.apr):
                for mm in check_figures(text, self.offer_of(facts), self.vocab, category=category, perk=perk):
                    hit(r, mm.message, mm.figure.written)
            elif r.kind == "purpose":
                cls = facts.purpose if facts is not None and facts.purpose else self.purposes.defaults.get(
                    category or "")
                if cls:
                    by_use: dict[str, list[str]] = {}
                    for words, use in self._purpose_hits(self._strip(r, text), cls):
                        by_use.setdefault(use, []).append(words)
                    for use, words in by_use.items():   # one finding per forbidden use
                        label = self.purposes.classes[cls].label if cls in self.purposes.classes else cls
                        hit(r, f"'{'、'.join(dict.fromkeys(words))}' steers a {label or cls} to "
                               f"{use.replace('_', ' ')}, which it may not fund", words[0])
            elif r.kind == "apr_cap" and r.limit is not None:
                # the figures this text states (the offer's own figures are checked once, where the rate is)
                # — only the rates among them: 最高可贷车价80% or 首付30% is a share, not a price of credit
                figs = [max(f.value, f.hi or 0.0) for f in parse_figures(text, self.vocab, category or "loan")
                        if f.kind == "rate" and f.unit == "year"] if _APR_ANY.search(text) else []
                over = [f for f in figs if f > r.limit]
                if over:
                    hit(r, f"{max(over):g}% — {r.message}", f"{max(over):g}%")
            elif r.kind == "sms_sign" and unit == "sms":
                if not re.match(r"^【[\u4e00-\u9fa5A-Za-z0-9]{2,12}】", text) or text.count("【") != 1:
                    hit(r, r.message)
            elif r.kind == "sms_optout" and unit == "sms":
                phrases = [r.phrase or "拒收请回复R", "回T退订", "退订回T", "拒收请回复"]
                if not any(text.rstrip().endswith(p) or p in text[-12:] for p in phrases):
                    hit(r, r.message)
            elif r.kind == "sms_len" and unit == "sms":
                n = len(text.strip())
                if r.limit and n > r.limit:
                    out.append(Finding(r.id, "error", f"{n} characters; at most {r.limit:g}", fix=r.fix,
                                       where=where))
                elif n > 70:
                    hit(r, f"{n} characters = {-(-n // 67)} segments (cost multiplies)")
            elif r.kind == "call_open" and unit == "call":
                head = text.strip()[:80]
                name_ok = facts.provider in head if facts and facts.provider else bool(
                    re.search(r"(银行|信用社|联社|公司|保险|理财)", head))
                role_ok = bool(re.search(r"我是|工号|客户经理|客服|专员", head))
                if not (name_ok and role_ok):
                    hit(r, r.message)
            elif r.kind == "call_refusal" and unit == "call":
                if not (pat and pat.search(text)):
                    hit(r, r.message)
            elif r.kind == "required_phrase" and unit in ("sms", "call", "push") and unit in r.applies_to and r.phrase:
                norm = lambda t: re.sub(r"[，,。\s]", "", t)  # noqa: E731
                if norm(r.phrase) not in norm(text):
                    hit(r, f"'{r.phrase}' is missing", r.phrase)
            elif r.kind == "info" and unit in r.applies_to:
                hit(r, r.message)
        return out


def _rules_files(extra: tuple[str, ...]) -> list[Path]:
    paths = [configs_dir() / "compliance" / "zh-CN.yaml"]
    user = user_dir() / "compliance.yaml"
    if user.is_file():
        paths.append(user)
    return paths + [Path(p) for p in extra]


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
    return _load(tuple(str(p) for p in _rules_files(tuple(str(e) for e in extra))))
