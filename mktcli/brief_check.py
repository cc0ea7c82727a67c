"""`mkt check BRIEF` as a library: a brief before rendering — every string it puts in front of customers, its offer,
and the copy mkt would write for what it leaves out — against the compliance rule set.

Writing that copy takes the copy engines, the guard and the learned knowledge (brief_copy.write_copy), so this
check lives in the orchestration layer with it; checks/run.py holds the Report and the text rules' findings."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .brief import load_brief, rate_text, resolved_message
from .brief_copy import write_copy
from .checks.copy_guard import rule_facts_for
from .checks.registry import checks_on, rule_check
from .checks.rules import Facts, RuleSet, load_rules
from .checks.run import Item, Report, text_findings


@dataclass(frozen=True)
class BriefSubject:
    """What a brief says before anything is rendered, as the segment and offer rules see it: one segment's
    resolved disclaimer (at its brief key), the offer's facts, the product's category."""
    rs: Any
    category: str | None
    facts: Facts
    disclaimer: str = ""
    where: str = ""


@rule_check("required_phrase", on="segment")
def disclaimer_phrase(b: BriefSubject, r) -> dict | None:
    """A required phrase that posters carry (applies_to image) is in the segment's disclaimer already. A
    `brief_disclaimer` rule is met by the brief's own disclaimer, so there is nothing to check on the brief."""
    if "image" not in r.applies_to or not r.phrase or r.brief_disclaimer:
        return None
    ok = r.phrase in b.disclaimer
    return {"rule": r.id, "severity": r.severity, "passed": ok,
            "message": "" if ok else f"'{r.phrase}' is not the disclaimer", "where": b.where, "fix": r.fix}


@rule_check("apr_cap", on="offer")
def offer_cap(b: BriefSubject, r) -> dict | None:
    """The offer's top annualized rate at most the rule's `limit`."""
    if not r.limit or not b.facts.apr_figures:
        return None
    top = max(b.facts.apr_figures)
    return {"rule": r.id, "severity": r.severity, "passed": top <= r.limit,
            "message": "" if top <= r.limit else f"{top:g}% — {r.message}", "where": "offer.apr"}


def brief_rules(subject: BriefSubject, on: str) -> list[dict]:
    """The results of every enabled rule covering the product's category whose kind has a check on `on`
    (segment, offer), kind by kind in registration order, a kind's rules in the rules files' order."""
    out = []
    for check in checks_on(on):
        for r in subject.rs.rules.values():
            if r.kind == check.kind and r.enabled and (not r.categories or subject.category in r.categories):
                res = check.fn(subject, r)
                if res is not None:
                    out.append(res)
    return out


def _owner(where: str) -> str:
    """The part of the brief a key belongs to: message.headline → message, offer.perks[2] → offer,
    audience.overrides.新市民.message.headline → audience.overrides.新市民."""
    head = re.sub(r"\[\d+\]$", "", where).rsplit(".", 1)[0] if "." in where else re.sub(r"\[\d+\]$", "", where)
    return head[:-len(".message")] if head.endswith(".message") else head


def check_brief(path: str | Path, *, extra_rules: list = ()) -> Report:
    """Before rendering: every string the brief puts in front of customers, each checked once at its own key
    (message.headline, offer.perks[2], audience.overrides.种植户.headline …) against the facts of every segment
    that shows it — one finding per violation — plus each segment's disclaimer and the offer (the rules whose kind
    has a segment or offer check: required phrases, the rate cap) and, with the template engine, the copy mkt
    would generate for what the brief leaves out (headline, subhead, SMS, push, call script), all with the rules
    in force (`extra_rules` too)."""
    b = load_brief(path)
    rs = load_rules(extra_rules)
    rep = Report(str(path), "brief")
    rate = rate_text(b)
    cat = b.product.category
    items: dict[str, Item] = {}
    seen: set[tuple] = set()

    def item(owner: str, kind: str = "brief-field") -> Item:
        if owner not in items:
            items[owner] = Item(owner, kind)
        return items[owner]

    def add(owner: str, result: dict, kind: str = "brief-field") -> None:
        key = (result["rule"], result.get("where"), result.get("match"), result["passed"])
        if key not in seen and result["severity"] != "info":
            seen.add(key)
            item(owner, kind).results.append(result)

    for owner in ("offer", "message"):
        item(owner)
    segs = b.segments()
    for seg in segs:
        facts = rule_facts_for(b, seg)
        for k in ("headline", "subhead", "cta", "disclaimer"):
            text = getattr(seg.message, k)
            if text:
                where = seg.key(k)
                item(_owner(where))
                for r in text_findings(rs, text, category=cat, facts=facts, apr_shown=rate is not None, where=where):
                    add(_owner(where), r)
        for i, perk in enumerate(seg.perks):
            where = seg.key(f"perks[{i}]")
            item(_owner(where))
            for r in text_findings(rs, perk, category=cat, facts=facts.without(where), apr_shown=rate is not None,
                               where=where, perk=True):
                add(_owner(where), r)
        seg_subject = BriefSubject(rs, cat, facts, resolved_message(b, seg).get("disclaimer", ""),
                                   seg.key("disclaimer"))
        for r in brief_rules(seg_subject, "segment"):
            add(_owner(r["where"]), r)
    for r in brief_rules(BriefSubject(rs, cat, rule_facts_for(b, segs[0])), "offer"):
        add(_owner(r["where"]), r)
    _check_generated(b, rs, segs, seen, add, rep)
    rep.items = list(items.values())
    rep.notes.append(f"{len(segs)} segment(s): " + "、".join(s.name for s in segs[:8])
                     + (" …" if len(segs) > 8 else ""))
    return rep


def _check_generated(b, rs: RuleSet, segs, seen: set, add, rep: Report) -> None:
    """The copy the template engine would write for what the brief leaves out, per segment: the generated
    headline and subhead (when the brief has none) and the brief's text channels. A finding the brief's own
    field already has (an echo of its headline) is not counted again."""
    if b.copy.engine != "template":
        rep.notes.append(f"generated copy (engine {b.copy.engine}) is checked when it is written: mkt copy / mkt poster")
        return
    chans = [c for c in ("sms", "push", "call_script") if c in b.channels]
    brief_matches = {(k[0], k[2]) for k in seen}
    res = write_copy(b, engine="template", n=1, rules=rs)
    for seg in segs:
        v = res.first(seg.name)
        wanted = chans + [k for k in ("headline", "subhead") if not getattr(seg.message, k)]
        for f in v.findings:
            unit = f.message.split(":", 1)[0].split(" ", 1)[0].split(".", 1)[0]
            if unit not in wanted or f.severity == "info" or (f.rule, f.match) in brief_matches:
                continue
            add(f"copy · {seg.name}", {**f.as_dict(), "passed": False, "where": f"generated {unit}"}, "copy")
