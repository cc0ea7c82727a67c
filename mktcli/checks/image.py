"""Checks on a finished poster: what was drawn (the composer's placement record: sizes, contrast, where), the text
of every placed string (the rule set's text rules), the file's implicit AIGC label, and — optionally — an OCR
read-back of the pixels. Each result: rule, severity, passed, message, and where/fix when it failed."""
from __future__ import annotations

import io
import json
from typing import Any

from .figures import non_annual_rates
from .rules import Facts, RuleSet

LEGAL_ROLES = ("disclaimer", "provider", "ai_label")


def large_text(size: float, min_px: float) -> bool:
    """WCAG 'large text' (≥ 24 px-equivalent, i.e. about 2.2× the 11 pt legibility minimum)."""
    return size >= 2.2 * min_px and size >= 18


TEXT_ROLES = ("headline", "subhead", "perk", "cta", "disclaimer", "provider", "apr_label", "apr", "brand", "ai_label")


def _result(rs: RuleSet, rule: str, passed: bool, message: str = "", where: str = "", default: str = "error"):
    sev = rs.severity(rule, default)
    if sev is None:
        return None
    r = rs.rules.get(rule)
    d = {"rule": rule, "severity": sev, "passed": bool(passed), "message": "" if passed else message}
    if not passed:
        if where:
            d["where"] = where
        if r is not None and r.fix:
            d["fix"] = r.fix
    return d


def poster_checks(rs: RuleSet, blocks: list[dict], *, min_px: float, canvas: tuple[int, int], safe, category: str,
                  channel: str, facts: Facts, has_rate: bool, disclaimer: str, generative: bool,
                  label_visible: bool, sources: dict[str, str] | None = None,
                  unplaced: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every poster rule on the placement record. `sources`: the brief key each placed text came from (role →
    'message.headline', a perk's text → 'offer.perks[1]'); a text finding names it, one finding per violation.
    `unplaced`: the segment's texts this size had no room for ({brief key: text}) — checked too: the creative is
    the brief's, and a violation in its copy blocks it wherever it lands."""
    W, H = canvas
    by_role: dict[str, list[dict]] = {}
    for b in blocks:
        by_role.setdefault(b["role"], []).append(b)
    out: list[dict | None] = []
    add = out.append
    cat_rules = lambda rid: (r := rs.get(rid)) is not None and (not r.categories or category in r.categories)  # noqa: E731
    if has_rate and cat_rules("FIN-APR"):
        add(_result(rs, "FIN-APR", "apr" in by_role, "the annualized rate is not on the poster"))
    for rid in ("FIN-DISCLAIMER", "FIN-RISK"):
        r = rs.get(rid)
        if r is not None and cat_rules(rid) and r.phrase:
            placed = " ".join(b["text"] for b in by_role.get("disclaimer", []))
            norm = lambda t: t.replace("，", "").replace(",", "").replace(" ", "")  # noqa: E731
            # the shipped phrase, or the brief's own disclaimer where the rule is configurable (loans)
            ok = norm(r.phrase) in norm(placed) or (rid == "FIN-DISCLAIMER" and bool(disclaimer)
                                                     and norm(disclaimer) in norm(placed))
            add(_result(rs, rid, ok, f"'{r.phrase}' is not on the poster", "legal band"))
    if not any(cat_rules(rid) for rid in ("FIN-DISCLAIMER", "FIN-RISK")) and disclaimer:
        add(_result(rs, "FIN-DISCLAIMER", "disclaimer" in by_role, "the disclaimer is not on the poster"))
    # the provider line, or a disclaimer that names the provider itself (本产品由…承保)
    add(_result(rs, "FIN-PROVIDER", bool(facts.provider) and any(
        facts.provider in b["text"] for role in ("provider", "disclaimer") for b in by_role.get(role, [])),
        "the provider's legal name is not on the poster"))
    # each block against the channel's legible minimum, scaled per role (a headline must read as one: 4/3× on
    # the shipped rules, so a 25-character headline squeezed to 12-13 px on 728×90 is an error, not a pass)
    typo = rs.get("TYPO-SIZE")
    scale = (typo.scale if typo is not None else {}) or {}
    need = lambda b: min_px * scale.get(b["role"], 1.0)  # noqa: E731
    small = [b for b in blocks if b["role"] in TEXT_ROLES and b["role"] != "brand" and b.get("size", 0) < need(b) - 0.01
             and not (b.get("fonts") and str(b["fonts"][0]).startswith("model:"))]
    add(_result(rs, "TYPO-SIZE", not small, "below the legible minimum: %s"
                % ", ".join(f"{b['role']} {b['size']} px < {need(b):g} px" for b in small),
                ", ".join(b["role"] for b in small)))
    low = [b for b in blocks if b.get("contrast") is not None
           and b["contrast"] < (3.0 if large_text(b["size"], min_px) else 4.5)]
    legal_low = [b for b in low if b["role"] in LEGAL_ROLES]
    legal_small = [b for b in blocks if b["role"] in LEGAL_ROLES and b.get("size", 0) < min_px - 0.01]
    add(_result(rs, "AD-SMALLPRINT", not legal_low and not legal_small, "small print below 4.5:1 or the legible "
                "size: " + ", ".join(f"{b['role']} {b.get('contrast')}:1 {b['size']} px"
                                     for b in legal_low + legal_small)))
    add(_result(rs, "TYPO-CONTRAST", not low, "below the WCAG contrast minimum: %s"
                % ", ".join(f"{b['role']} {b['contrast']}:1" for b in low), ", ".join(b["role"] for b in low)))
    if has_rate:
        apr_size = max((b["size"] for b in by_role.get("apr", [])), default=0)
        rival = [b for b in blocks if b["role"] not in ("apr", "apr_label") and b["size"] > apr_size
                 and ("%" in b.get("text", "") or non_annual_rates(b.get("text", ""), rs.vocab, category))]
        add(_result(rs, "FIN-APR-PROMINENCE", not rival, "larger than the APR: " + ", ".join(
            f"{b['role']} '{b['text']}' {b['size']} px" for b in rival)))
    cap = rs.get("FIN-CAP")
    if has_rate and cap is not None and cap.limit and facts.apr_figures and cat_rules("FIN-CAP"):
        top = max(facts.apr_figures)
        add(_result(rs, "FIN-CAP", top <= cap.limit, f"{top:g}% — {cap.message}", "apr", default="warning"))
    if safe is not None:
        x0, y0 = W * safe.left - 0.5, H * safe.top - 0.5
        x1, y1 = W * (1 - safe.right) + 0.5, H * (1 - safe.bottom) + 0.5
        outside = [b for b in blocks if b["role"] in TEXT_ROLES and b["role"] not in ("disclaimer", "provider",
                                                                                        "ai_label")
                   and (b["box"][0] < x0 or b["box"][1] < y0 or b["box"][2] > x1 or b["box"][3] > y1)]
        add(_result(rs, "SAFE-ZONE", not outside, "outside the safe zone: " + ", ".join(b["role"] for b in outside),
                    default="warning"))
    if generative:
        labels = by_role.get("ai_label", [])
        legible = all(b.get("size", 0) >= min_px - 0.01 and (b.get("contrast") or 0) >= 4.5 for b in labels)
        add(_result(rs, "AIGC-LABEL", (bool(labels) and legible) or not label_visible,
                    "the background is model-generated but the visible AI label is missing or illegible"))
    # the text rules on every placed string (the rate is typeset on the poster, so a mention of a rate needs no
    # APR of its own), one finding per violation: rule, where (the brief key), the words
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
    text_rules = [r.id for r in rs.rules.values() if r.enabled and "text" in r.applies_to
                  and r.kind in ("pattern", "numbers", "purpose") and (not r.categories or category in r.categories)]
    for rid in text_rules:
        out += failed.pop(rid, None) or [{"rule": rid, "severity": rs.rules[rid].severity, "passed": True,
                                          "message": ""}]
    out += [r for rs_ in failed.values() for r in rs_]
    return [c for c in out if c is not None]


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


def implicit_label(data: bytes) -> dict | None:
    """The implicit AIGC label written into a JPEG's EXIF ImageDescription or a PNG's text chunk, or None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            raw = im.getexif().get(0x010E) or im.info.get("Description")
    except Exception:  # noqa: BLE001 — unreadable image: no label
        return None
    if not raw:
        return None
    try:
        label = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return label if isinstance(label, dict) else None


def implicit_label_check(rs: RuleSet, data: bytes, *, content_id: str | None, generative: bool) -> dict | None:
    label = implicit_label(data)
    ok = label is not None and bool(label.get("producer")) and bool(label.get("content_id")) \
        and (content_id is None or label.get("content_id") == content_id) \
        and (label.get("aigc") is True if generative else "aigc" in label)
    why = "no implicit label in the file's metadata" if label is None else \
        f"implicit label does not match (content_id {label.get('content_id')}, aigc {label.get('aigc')})"
    return _result(rs, "AIGC-IMPLICIT", ok, why)
