"""The text rule kinds: one function per kind, each given one customer-facing text and one rule.

RuleSet.check_text decides which rules apply to a text (enabled, its unit, category and channel) and calls the
function registered for each rule's kind here; the function returns the rule's findings (none when it passes).
The rule's parameters (pattern, allow, unless, phrase, limit …) come from the YAML; the rule set's compiled
patterns, vocabulary and purposes are reached through the subject's `rs`."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..wording import rate_label_pattern
from .figures import check_figures, non_annual_rates, parse_figures
from .registry import Finding, rule_check

# an annualized rate as a rate label + figure: 年化利率3.2%, 年利率2.15%, 业绩比较基准2.6%-3.3% (a bare 年化5% is
# often a comparison with something else, not this product's rate)
APR_ANY = re.compile(rf"({rate_label_pattern(annual_only=True)})[^，。；\n]{{0,10}}?\d+(?:\.\d+)?\s*%")


@dataclass(frozen=True)
class TextSubject:
    """One text as the text rules see it (check_text's arguments, the text normalised)."""
    rs: Any                  # the RuleSet
    text: str
    unit: str = "text"       # text | sms | call | push
    category: str | None = None
    channel: str | None = None
    facts: Any = None        # rules.Facts
    apr_shown: bool = False
    where: str = ""
    perk: bool = False
    exact_rate: bool = False   # a text creative mkt writes: it states the brief's rate phrase as written

    def finding(self, r, message: str, match: str = "", severity: str | None = None) -> Finding:
        return Finding(r.id, severity or r.severity, message, match, r.fix, self.where)


@rule_check("pattern", on="text", listed=True, message="words this rule does not allow")
def pattern(t: TextSubject, r) -> list[Finding]:
    """Words the rule's pattern finds (after its allow-list and the rule set's), unless the text also matches
    `unless` or the creative shows the brief's APR range beside it (`unless_apr_range`)."""
    pat, _, unless = t.rs.patterns[r.id]
    if pat is None or (unless and unless.search(t.text)):
        return []
    if r.unless_apr_range and t.apr_shown and t.facts is not None and len(t.facts.apr_figures) == 2:
        return []   # the creative shows the brief's APR range beside it
    return [t.finding(r, f"'{term}': {r.message}", term)
            for term in dict.fromkeys(m.group(0) for m in pat.finditer(t.rs.without_allowed(r, t.text)))]


# sms_chars: a pattern rule by another name (SMS characters carriers filter), not listed as passed on a poster
rule_check("sms_chars", on="text", message="characters that carriers filter or garble")(pattern)


@rule_check("apr", on="text", message="a rate or cost is mentioned without the annualized rate")
def apr(t: TextSubject, r) -> list[Finding]:
    """A rate or cost mentioned (the rule's pattern), or a daily or monthly figure, without an annualized rate;
    and a call script mkt writes (an SMS: a warning) that does not state the brief's rate phrase as written."""
    # any annualized rate stated in the text (whether it is the brief's is FIN-CONSISTENT's question)
    shown = bool(APR_ANY.search(t.text))
    facts = t.facts
    want = f" '{facts.apr_phrase}'" if facts and facts.apr_phrase else ""
    daily = non_annual_rates(t.text, t.rs.vocab, t.category) if not shown else []
    pat = t.rs.patterns[r.id][0]
    m = pat.search(t.rs.without_allowed(r, t.text)) if pat and not shown and not t.apr_shown else None
    out = []
    if daily:
        out.append(t.finding(r, f"'{daily[0].written}' is a daily, monthly or per-instalment figure without the "
                                f"annualized rate{want} beside it", daily[0].written))
    elif m:
        out.append(t.finding(r, f"'{m.group(0)}' is mentioned without the annualized rate{want}", m.group(0)))
    return out + _rate_not_stated(t, r)


def _rate_not_stated(t: TextSubject, r) -> list[Finding]:
    """A call script mkt writes must state the brief's rate phrase exactly; an SMS that does not is a warning."""
    phrase = t.facts.apr_phrase if t.facts is not None else None
    if not t.exact_rate or not phrase or phrase in t.text or t.unit not in ("call", "sms"):
        return []
    if t.unit == "call":
        return [t.finding(r, f"the call must state '{phrase}'")]
    return [t.finding(r, f"the SMS does not state '{phrase}'", severity="warning" if r.severity == "error" else None)]


@rule_check("numbers", on="text", listed=True, message="a figure that is not in the brief's offer")
def numbers(t: TextSubject, r) -> list[Finding]:
    """Every figure is one the brief's offer states (configs/compliance figures:)."""
    f = t.facts
    if f is None or not (f.offer_sources or f.numbers_from or f.apr_figures or f.apr):
        return []
    return [t.finding(r, mm.message, mm.figure.written)
            for mm in check_figures(t.text, t.rs.offer_of(f), t.rs.vocab, category=t.category, perk=t.perk)]


@rule_check("purpose", on="text", listed=True, message="a use the product may not fund")
def purpose(t: TextSubject, r) -> list[Finding]:
    """No steering to a use the product's class may not fund (configs/compliance purposes:), one finding a use."""
    rs = t.rs
    cls = t.facts.purpose if t.facts is not None and t.facts.purpose else rs.purposes.defaults.get(t.category or "")
    if not cls:
        return []
    by_use: dict[str, list[str]] = {}
    for words, use in rs.purpose_hits(rs.without_allowed(r, t.text), cls):
        by_use.setdefault(use, []).append(words)
    label = rs.purposes.classes[cls].label if cls in rs.purposes.classes else cls
    return [t.finding(r, f"'{'、'.join(dict.fromkeys(words))}' steers a {label or cls} to "
                         f"{use.replace('_', ' ')}, which it may not fund", words[0])
            for use, words in by_use.items()]


@rule_check("apr_cap", on="text", message="the stated annualized rate is above the limit")
def apr_cap(t: TextSubject, r) -> list[Finding]:
    """A stated annualized rate above the rule's `limit`."""
    if r.limit is None:
        return []
    # the figures this text states (the offer's own figures are checked once, where the rate is) — only the
    # rates among them: 最高可贷车价80% or 首付30% is a share, not a price of credit
    figs = [max(f.value, f.hi or 0.0) for f in parse_figures(t.text, t.rs.vocab, t.category or "loan")
            if f.kind == "rate" and f.unit == "year"] if APR_ANY.search(t.text) else []
    over = [f for f in figs if f > r.limit]
    return [t.finding(r, f"{max(over):g}% — {r.message}", f"{max(over):g}%")] if over else []


@rule_check("sms_sign", on="text", message="an SMS starts with one signature 【2–12 characters】")
def sms_sign(t: TextSubject, r) -> list[Finding]:
    """An SMS starts with one signature 【2–12 characters】."""
    if t.unit != "sms":
        return []
    ok = re.match(r"^【[\u4e00-\u9fa5A-Za-z0-9]{2,12}】", t.text) and t.text.count("【") == 1
    return [] if ok else [t.finding(r, r.message)]


@rule_check("sms_optout", on="text", message="an SMS ends with an opt-out")
def sms_optout(t: TextSubject, r) -> list[Finding]:
    """An SMS ends with an opt-out: the rule's `phrase`, else any of its `phrases` (the shipped rule lists the
    gateways' own); a rule with neither has nothing to look for."""
    phrases = [r.phrase] if r.phrase else r.phrases
    if t.unit != "sms" or not phrases:
        return []
    ok = any(t.text.rstrip().endswith(p) or p in t.text[-12:] for p in phrases)
    return [] if ok else [t.finding(r, r.message)]


@rule_check("sms_len", on="text", message="more than one SMS segment (cost multiplies)")
def sms_len(t: TextSubject, r) -> list[Finding]:
    """More than one segment (70 characters) at the rule's severity; over `limit` characters an error."""
    if t.unit != "sms":
        return []
    n = len(t.text.strip())
    if r.limit and n > r.limit:
        return [Finding(r.id, "error", f"{n} characters; at most {r.limit:g}", fix=r.fix, where=t.where)]
    if n > 70:
        return [t.finding(r, f"{n} characters = {-(-n // 67)} segments (cost multiplies)")]
    return []


@rule_check("call_open", on="text",
            message="the call does not open with the institution's name and the caller's role")
def call_open(t: TextSubject, r) -> list[Finding]:
    """A call opens with the institution's name (the brief's provider) and the caller's role."""
    if t.unit != "call":
        return []
    head = t.text.strip()[:80]
    provider = t.facts.provider if t.facts else None
    name_ok = provider in head if provider else bool(re.search(r"(银行|信用社|联社|公司|保险|理财)", head))
    role_ok = bool(re.search(r"我是|工号|客户经理|客服|专员", head))
    return [] if name_ok and role_ok else [t.finding(r, r.message)]


@rule_check("call_refusal", on="text", message="the call offers no way to refuse further calls")
def call_refusal(t: TextSubject, r) -> list[Finding]:
    """A call offers a way to refuse further calls (the rule's pattern)."""
    if t.unit != "call":
        return []
    pat = t.rs.patterns[r.id][0]
    return [] if pat and pat.search(t.text) else [t.finding(r, r.message)]


@rule_check("required_phrase", on="text", message="a required phrase is missing")
def required_phrase(t: TextSubject, r) -> list[Finding]:
    """The rule's `phrase` in an SMS, call or push (punctuation and spaces aside)."""
    if r.categories and t.category is None:
        return []   # demanding a wealth risk phrase of a text whose product is unknown would be a guess
    if t.unit not in ("sms", "call", "push") or t.unit not in r.applies_to or not r.phrase:
        return []
    norm = lambda s: re.sub(r"[，,。\s]", "", s)  # noqa: E731
    return [] if norm(r.phrase) in norm(t.text) else [t.finding(r, f"'{r.phrase}' is missing", r.phrase)]


@rule_check("info", on="text", message="a note for the operator")
def info(t: TextSubject, r) -> list[Finding]:
    """A note for the unit it names (the rule's message), recorded at its severity (usually info)."""
    return [t.finding(r, r.message)] if t.unit in r.applies_to else []
