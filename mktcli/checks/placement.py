"""Checks on what was actually drawn (the composer's placement record), recorded in the manifest per creative.

These are the pixel-level rules of ../shared/domain/compliance-zh.md that the poster path can verify by itself:
the rate, disclaimer and provider are on the poster (FIN-APR, FIN-DISCLAIMER, FIN-PROVIDER), the small print is
legible in size and contrast (AD-SMALLPRINT, TYPO-*), and a model-generated background carries the visible
label (AIGC-LABEL). Text rules (banned words, consistency, SMS) come with the compliance rule set."""
from __future__ import annotations

from typing import Any

LEGAL_ROLES = ("disclaimer", "provider", "ai_label")


def _check(rule: str, severity: str, passed: bool, message: str = "") -> dict[str, Any]:
    return {"rule": rule, "severity": severity, "passed": bool(passed), "message": "" if passed else message}


def large_text(size: float, min_px: float) -> bool:
    """WCAG 'large text' (≥ 24 px-equivalent, i.e. about 2.2× the 11 pt legibility minimum)."""
    return size >= 2.2 * min_px and size >= 18


def placement_checks(blocks: list[dict], *, min_px: float, has_rate: bool, has_disclaimer: bool,
                     generative: bool) -> list[dict[str, Any]]:
    by_role: dict[str, list[dict]] = {}
    for b in blocks:
        by_role.setdefault(b["role"], []).append(b)
    out = []
    if has_rate:
        out.append(_check("FIN-APR", "error", "apr" in by_role, "the annualized rate is not on the poster"))
    if has_disclaimer:
        out.append(_check("FIN-DISCLAIMER", "error", "disclaimer" in by_role, "the disclaimer is not on the poster"))
    out.append(_check("FIN-PROVIDER", "error", "provider" in by_role, "the provider line is not on the poster"))
    small = [b for b in blocks if b["role"] != "logo" and b.get("size", 0) < min_px - 0.01]
    out.append(_check("TYPO-SIZE", "error", not small, "below the legible minimum of %g px: %s"
                      % (min_px, ", ".join(f"{b['role']} {b['size']} px" for b in small))))
    low = [b for b in blocks if b.get("contrast") is not None
           and b["contrast"] < (3.0 if large_text(b["size"], min_px) else 4.5)]
    legal_low = [b for b in low if b["role"] in LEGAL_ROLES]
    out.append(_check("AD-SMALLPRINT", "error", not legal_low, "small print below 4.5:1 contrast: %s"
                      % ", ".join(f"{b['role']} {b['contrast']}:1" for b in legal_low)))
    out.append(_check("TYPO-CONTRAST", "error", not low, "below the WCAG contrast minimum: %s"
                      % ", ".join(f"{b['role']} {b['contrast']}:1" for b in low)))
    if generative:
        out.append(_check("AIGC-LABEL", "error", "ai_label" in by_role,
                          "the background is model-generated but the visible AI label is missing"))
    return out
