"""Checks on a finished poster: what was drawn (the composer's placement record: sizes, contrast, where), the text
of every placed string (the rule set's text rules), the file's implicit AIGC label, and — optionally — an OCR
read-back of the pixels. Each result: rule, severity, passed, message, and where/fix when it failed.

The checks of each rule kind are in poster_kinds.py (the placement record, the file's label) and text_kinds.py (the
placed strings); this module runs them on a poster and records their inputs for `mkt check BUNDLE`."""
from __future__ import annotations

from typing import Any

# implicit_label(_check), large_text and the role lists moved to poster_kinds.py; imported from here too
from .poster_kinds import (  # noqa: F401
    LEGAL_ROLES,
    TEXT_ROLES,
    PosterSubject,
    implicit_label,
    implicit_label_check,
    large_text,
)
from .registry import check_for, checks_on
from .rules import Facts, RuleSet


def poster_checks(rs: RuleSet, blocks: list[dict], *, min_px: float, canvas: tuple[int, int], safe, category: str,
                  channel: str, facts: Facts, has_rate: bool, disclaimer: str, generative: bool,
                  label_visible: bool, sources: dict[str, str] | None = None,
                  unplaced: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every poster rule on the placement record. `sources`: the brief key each placed text came from (role →
    'message.headline', a perk's text → 'offer.perks[1]'); a text finding names it, one finding per violation.
    `unplaced`: the segment's texts this size had no room for ({brief key: text}) — checked too: the creative is
    the brief's, and a violation in its copy blocks it wherever it lands."""
    p = PosterSubject(rs, blocks, min_px, canvas, safe, category, channel, facts, has_rate, disclaimer, generative,
                      label_visible)
    out: list[dict | None] = []
    for check in checks_on("poster"):   # kind by kind in registration order; a kind's rules in file order
        for r in p.rules_of(check.kind):
            if r.enabled and (check.own_categories or p.covers(r)) and not (r.channels and channel
                                                                             and channel not in r.channels):
                out.append(check.fn(p, r))
    out += _placed_text_checks(rs, blocks, category=category, channel=channel, facts=facts, has_rate=has_rate,
                               sources=sources, unplaced=unplaced)
    return [c for c in out if c is not None]


def _placed_text_checks(rs: RuleSet, blocks: list[dict], *, category: str, channel: str, facts: Facts,
                        has_rate: bool, sources: dict[str, str] | None, unplaced: dict[str, str] | None) -> list[dict]:
    """The text rules on every placed string (the rate is typeset on the poster, so a mention of a rate needs no
    APR of its own), one finding per violation: rule, where (the brief key), the words. A rule of a `listed` kind
    that does not fire is recorded as passed."""
    failed: dict[str, list[dict]] = {}
    seen: set[tuple] = set()
    texts = [(b["text"], text_source(b, sources), b["role"] == "perk", "") for b in blocks
             if b["role"] in ("headline", "subhead", "perk", "cta", "disclaimer")]
    texts += [(t, key, "perks[" in key, " (in the brief; not placed on this size)") for key, t in
              (unplaced or {}).items()]
    for text, where, is_perk, note in texts:
        perk = is_perk and where != "perk"
        for f in rs.check_text(text, category=category, channel=channel, apr_shown=has_rate, perk=perk,
                               facts=facts.without(where) if perk else facts):
            if f.severity != "info" and (f.rule, where, f.match) not in seen:
                seen.add((f.rule, where, f.match))
                failed.setdefault(f.rule, []).append(
                    {"rule": f.rule, "severity": f.severity, "passed": False,
                     "message": f"{where}: {f.message}{note}", "where": where,
                     **({"match": f.match} if f.match else {}), **({"fix": f.fix} if f.fix else {})})
    out: list[dict] = []
    for r in rs.rules.values():
        check = check_for(r.kind, "text")
        if r.enabled and "text" in r.applies_to and check is not None and check.listed \
                and (not r.categories or category in r.categories):
            out += failed.pop(r.id, None) or [{"rule": r.id, "severity": r.severity, "passed": True, "message": ""}]
    return out + [r for rs_ in failed.values() for r in rs_]


def text_source(block: dict, sources: dict[str, str] | None) -> str:
    """The brief key a placed text came from (message.headline, offer.perks[1] …), else its role."""
    if not sources:
        return block["role"]
    if block["role"] == "perk":
        return sources.get("perk:" + block.get("text", ""), "perk")
    return sources.get(block["role"], block["role"])


def check_inputs(*, min_px: float, canvas: tuple[int, int], safe, category: str, channel: str, facts: Facts,
                 has_rate: bool, disclaimer: str, generative: bool, label_visible: bool,
                 sources: dict[str, str] | None = None, unplaced: dict[str, str] | None = None) -> dict[str, Any]:
    """poster_checks' inputs besides the rule set and the blocks, as JSON for the manifest (`check_inputs`), so
    `mkt check BUNDLE` evaluates the very same function on the very same inputs as `mkt poster` did."""
    return {"min_px": min_px, "canvas": list(canvas), "category": category, "channel": channel,
            "safe": None if safe is None else {k: getattr(safe, k) for k in ("left", "top", "right", "bottom")},
            "facts": facts_json(facts), "has_rate": has_rate, "disclaimer": disclaimer, "generative": generative,
            "label_visible": label_visible, "sources": sources or {}, "unplaced": unplaced or {}}


def facts_json(facts: Facts | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    return {"apr_phrase": facts.apr_phrase, "apr_figures": list(facts.apr_figures),
            "numbers_from": list(facts.numbers_from), "provider": facts.provider, "apr": facts.apr,
            "offer_sources": [list(s) for s in facts.offer_sources], "purpose": facts.purpose}


def facts_from(d: dict[str, Any] | None) -> Facts | None:
    if not isinstance(d, dict):
        return None
    return Facts(d.get("apr_phrase"), tuple(float(x) for x in d.get("apr_figures") or ()),
                 tuple(str(x) for x in d.get("numbers_from") or ()), d.get("provider"), apr=d.get("apr"),
                 offer_sources=tuple((str(k), str(t)) for k, t in d.get("offer_sources") or ()
                                     if isinstance(k, str)), purpose=d.get("purpose"))


def poster_checks_from(rs: RuleSet, blocks: list[dict], inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """poster_checks on inputs recorded with check_inputs (a manifest's creative)."""
    from types import SimpleNamespace

    safe = inputs.get("safe")
    return poster_checks(rs, blocks, min_px=float(inputs["min_px"]), canvas=tuple(inputs["canvas"]),
                         safe=SimpleNamespace(**safe) if isinstance(safe, dict) else None,
                         category=inputs.get("category"), channel=inputs.get("channel"),
                         facts=facts_from(inputs.get("facts")) or Facts(), has_rate=bool(inputs.get("has_rate")),
                         disclaimer=str(inputs.get("disclaimer") or ""), generative=bool(inputs.get("generative")),
                         label_visible=bool(inputs.get("label_visible")),
                         sources=inputs.get("sources") if isinstance(inputs.get("sources"), dict) else None,
                         unplaced=inputs.get("unplaced") if isinstance(inputs.get("unplaced"), dict) else None)


END_KEPT = ("disclaimer", "provider", "ai_label")   # the poster's rows that stay on screen under the end card


def end_card_blocks(c: dict[str, Any]) -> list[dict[str, Any]] | None:
    """What a clip's end card shows (manifest entry `c`): its own blocks and the poster's legal rows, or None."""
    v = c.get("video") if isinstance(c.get("video"), dict) else {}
    end = v.get("end_card") if isinstance(v.get("end_card"), dict) else None
    if not end:
        return None
    return list(end.get("blocks") or []) + [b for b in c.get("blocks", []) if b.get("role") in END_KEPT]


def end_card_checks(rs, blocks: list[dict[str, Any]], inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """The still's checks (sizes, contrast, the APR's label and prominence, text rules …) on the end card's blocks:
    its failures, each named as the end card's (what passes there passed on the poster already)."""
    sources = dict(inputs.get("sources") or {}) | {"headline": "product.name"}
    out = []
    for r in poster_checks_from(rs, blocks, dict(inputs, sources=sources, unplaced={})):
        if not r.get("passed", True) and r.get("severity") in ("error", "warning"):
            out.append(dict(r, message=f"end card: {r.get('message', '')}", frame="end card"))
    return out
