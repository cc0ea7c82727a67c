"""The copy guard: every variant of copy checked against the compliance rule set before it is used (channel limits,
SMS signature and opt-out, banned and absolute phrases, the brief's numbers and rate, the product's purpose).

copywriting/writer.py runs the guard loop with whatever guard it is given (its CopyGuard protocol); this is the one
mkt gives it (brief_copy.write_copy), so the engines' layer needs nothing from the checks."""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from ..brief import Brief, Segment, parse_rate
from ..copywriting.base import Copy, Facts
from ..copywriting.template import lexicon
from ..copywriting.writer import facts_for, push_limits
from .registry import Finding
from .rules import Facts as RuleFacts
from .rules import RuleSet, load_rules
from .text import check_phrases


def rule_facts(facts: Facts) -> RuleFacts:
    """What the rules compare a text with (rules.Facts), from the copy's facts: the rate phrase and its figures,
    the figures the brief states, the provider, the purpose."""
    figs: tuple[float, ...] = ()
    if facts.apr_phrase:
        m = re.search(r"\d+(?:\.\d+)?%?\s*[-~～–—至]?\s*\d*(?:\.\d+)?%", facts.apr_phrase)
        try:
            figs = tuple(parse_rate(m.group(0))) if m else ()
        except Exception:  # noqa: BLE001 — the cap check then reads the text itself
            figs = ()
    return RuleFacts(facts.apr_phrase, figs, facts.numbers_from, facts.provider, apr=facts.apr,
                     offer_sources=facts.offer_sources, purpose=facts.purpose)


def rule_facts_for(brief: Brief, seg: Segment) -> RuleFacts:
    """What the rules compare a segment's texts with: its copy facts (copywriting.writer.facts_for) as rule facts."""
    return rule_facts(facts_for(brief, seg))


def check_copy(copy: Copy, facts: Facts, brief: Brief | None = None, brief_fields: tuple[str, ...] = (),
               rules: RuleSet | None = None) -> list[Finding]:
    """Every problem of one variant: channel limits here, everything else from the compliance rule set (`rules`,
    default the rules in force: phrases, FIN-APR, FIN-CONSISTENT, FIN-PURPOSE, FIN-CAP, SMS signature/opt-out/length,
    call opening/refusal). `brief_fields`: poster fields the brief wrote itself (checked as the brief's, by
    brief_check.check_brief and the poster checks: a re-generation cannot change them). Each finding's message
    starts with the field's name."""
    out: list[Finding] = []
    limits = lexicon().limits
    title_max, body_max = push_limits(brief)
    for name, text, limit in (("push.title", copy.push.title, title_max), ("push.body", copy.push.body, body_max),
                              ("feed.title", copy.feed.title, limits.get("feed_title", 30)),
                              ("feed.description", copy.feed.description, limits.get("feed_description", 80)),
                              ("headline", copy.headline, 30), ("subhead", copy.subhead, 40), ("cta", copy.cta, 8)):
        if limit and len(text) > limit:
            out.append(Finding("COPY-LEN", "error", f"{name} is {len(text)} characters; the limit is {limit}", name))
        if name in ("headline", "cta", "push.title", "push.body") and not text.strip():
            out.append(Finding("COPY-EMPTY", "error", f"{name} is empty", name))
    rs = rules or load_rules()
    rf = rule_facts(facts)
    cs = copy.call_script
    # FIN-APR applies to each text a customer reads as a whole; the poster's strings sit next to the typeset rate.
    # The perks are the brief's own (checked where the brief is)
    units = [(k, "text", getattr(copy, k), True) for k in ("headline", "subhead", "cta") if k not in brief_fields]
    units += [("sms", "sms", copy.sms.text, False), ("call_script", "call", cs.text, False),
              ("push", "push", copy.push.title + "\n" + copy.push.body, False),
              ("feed", "text", copy.feed.title + "\n" + copy.feed.description, False)]
    seen: set[tuple[str, str, str]] = set()
    for name, unit, text, shown in units:
        for f in rs.check_text(text, unit=unit, category=facts.category, facts=rf, apr_shown=shown, exact_rate=True):
            if f.severity == "info" or (f.rule, f.match, name) in seen:
                continue
            seen.add((f.rule, f.match, name))
            out.append(Finding(f.rule, f.severity, f"{name}: {f.message}", f.match))
    return out


def forbidden_words(words: list[str], rules: RuleSet | None = None) -> list[str]:
    """The compliance rules (error severity, pattern rules) that the words break, each word on its own and
    together (learned wording that breaks one is never used)."""
    hits: list[str] = []
    for text in (*words, "".join(words)):
        hits += [f.rule for f in check_phrases(text, rules=rules) if f.severity == "error"]
    return list(dict.fromkeys(hits))


def _steers(rs: RuleSet, purpose: str, line: str) -> bool:
    return bool(rs.purpose_hits(line, purpose))


class CopyGuard:
    """copywriting.writer.CopyGuard with a rule set (default: the rules in force)."""

    def __init__(self, rules: RuleSet | None = None):
        self.rules = rules or load_rules()
        self._screens: dict[Facts, Callable[[str], bool] | None] = {}

    def check(self, copy: Copy, facts: Facts, brief: Brief | None = None,
              brief_fields: tuple[str, ...] = ()) -> list[Finding]:
        return check_copy(copy, facts, brief, brief_fields, self.rules)

    def forbidden(self, words: list[str]) -> list[str]:
        return forbidden_words(words, self.rules)

    def screen(self, facts: Facts) -> Callable[[str], bool] | None:
        """The purpose rules' test of a line for the product (it steers the product to a use its class may not
        fund); None where no rule of kind purpose is on and covers the product's category. One test per facts."""
        if facts not in self._screens:
            on = [r for r in self.rules.text_rules("text", facts.category) if r.kind == "purpose"]
            off = not facts.purpose or not on
            self._screens[facts] = None if off else partial(_steers, self.rules, facts.purpose)
        return self._screens[facts]
