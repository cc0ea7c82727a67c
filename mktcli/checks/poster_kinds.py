"""The poster rule kinds: one function per kind, each given a poster's placement record and one rule.

image.poster_checks calls, for every enabled rule that applies to images (its category, its channel), the function
registered for its kind here, and records what it returns (one result, or None when the rule has nothing to say on
this poster). Results come in the order the kinds are registered below — the order a reviewer reads a poster: the
rate, the legal text, the provider, type size and contrast, the rate's prominence and cap, placement, the AI label
— and, within a kind, in the rules files' order. Also here: the image file's implicit AIGC label (kind
aigc_implicit), checked on the file's bytes where mkt writes or reads the file."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from .figures import non_annual_rates
from .registry import result, rule_check, run_kind

LEGAL_ROLES = ("disclaimer", "provider", "ai_label")
TEXT_ROLES = ("headline", "subhead", "perk", "cta", "disclaimer", "provider", "apr_label", "apr", "brand", "ai_label")


def large_text(size: float, min_px: float) -> bool:
    """WCAG 'large text' (≥ 24 px-equivalent, i.e. about 2.2× the 11 pt legibility minimum)."""
    return size >= 2.2 * min_px and size >= 18


@dataclass
class PosterSubject:
    """A poster as the poster rules see it: the composer's blocks (role, text, box, size, contrast) and
    poster_checks' inputs."""
    rs: Any                       # the RuleSet
    blocks: list[dict]
    min_px: float
    canvas: tuple[int, int]
    safe: Any                     # channels.SafeZone (fractions of the canvas) or None
    category: str
    channel: str
    facts: Any                    # rules.Facts
    has_rate: bool
    disclaimer: str
    generative: bool
    label_visible: bool
    by_role: dict[str, list[dict]] = field(default_factory=dict)

    def __post_init__(self):
        for b in self.blocks:
            self.by_role.setdefault(b["role"], []).append(b)

    def covers(self, r) -> bool:
        """The rule is on and covers this product's category."""
        return r.enabled and (not r.categories or self.category in r.categories)

    def rules_of(self, kind: str) -> list:
        return [r for r in self.rs.rules.values() if r.kind == kind and "image" in r.applies_to]

    def low_contrast(self) -> list[dict]:
        """Blocks below the WCAG minimum (3:1 for large text, else 4.5:1)."""
        return [b for b in self.blocks if b.get("contrast") is not None
                and b["contrast"] < (3.0 if large_text(b["size"], self.min_px) else 4.5)]


def _norm(t: str) -> str:
    return t.replace("，", "").replace(",", "").replace(" ", "")


@rule_check("apr", on="poster", message="the annualized rate is not on the poster")
def apr_badge(p: PosterSubject, r) -> dict | None:
    """A poster of an offer with a rate shows the annualized rate (its badge)."""
    if not p.has_rate:
        return None
    return result(p.rs, r.id, "apr" in p.by_role, "the annualized rate is not on the poster")


@rule_check("required_phrase", on="poster", own_categories=True, message="a required phrase is not on the poster")
def required_phrase(p: PosterSubject, r) -> dict | None:
    """The rule's `phrase` in the legal band (or, with `brief_disclaimer`, the brief's own disclaimer); with
    `brief_disclaimer`, where no required_phrase rule covers the product, the brief's disclaimer is placed."""
    placed = " ".join(b["text"] for b in p.by_role.get("disclaimer", []))
    if p.covers(r):
        if not r.phrase:
            return None
        ok = _norm(r.phrase) in _norm(placed) or (r.brief_disclaimer and bool(p.disclaimer)
                                                  and _norm(p.disclaimer) in _norm(placed))
        return result(p.rs, r.id, ok, f"'{r.phrase}' is not on the poster", "legal band")
    if r.brief_disclaimer and p.disclaimer and not any(p.covers(x) for x in p.rules_of("required_phrase")):
        return result(p.rs, r.id, "disclaimer" in p.by_role, "the disclaimer is not on the poster")
    return None


@rule_check("provider", on="poster", message="the provider's legal name is missing")
def provider(p: PosterSubject, r) -> dict | None:
    """The provider line, or a disclaimer that names the provider itself (本产品由…承保)."""
    name = p.facts.provider
    ok = bool(name) and any(name in b["text"] for role in ("provider", "disclaimer") for b in p.by_role.get(role, []))
    return result(p.rs, r.id, ok, "the provider's legal name is not on the poster")


@rule_check("typo_size", on="poster", message="text below the legible minimum")
def typo_size(p: PosterSubject, r) -> dict | None:
    """Each block against the channel's legible minimum times its role's `scale` (a headline must read as one:
    4/3× on the shipped rules, so a 25-character headline squeezed to 12-13 px on 728×90 is an error)."""
    scale = r.scale or {}
    need = lambda b: p.min_px * scale.get(b["role"], 1.0)  # noqa: E731
    small = [b for b in p.blocks if b["role"] in TEXT_ROLES and b["role"] != "brand"
             and b.get("size", 0) < need(b) - 0.01
             and not (b.get("fonts") and str(b["fonts"][0]).startswith("model:"))]
    return result(p.rs, r.id, not small, "below the legible minimum: %s"
                  % ", ".join(f"{b['role']} {b['size']} px < {need(b):g} px" for b in small),
                  ", ".join(b["role"] for b in small))


@rule_check("smallprint", on="poster", message="legal text below the legible size or 4.5:1 contrast")
def smallprint(p: PosterSubject, r) -> dict | None:
    """The legal text (disclaimer, provider, AI label) at the legible size and 4.5:1."""
    legal_low = [b for b in p.low_contrast() if b["role"] in LEGAL_ROLES]
    legal_small = [b for b in p.blocks if b["role"] in LEGAL_ROLES and b.get("size", 0) < p.min_px - 0.01]
    return result(p.rs, r.id, not legal_low and not legal_small, "small print below 4.5:1 or the legible size: "
                  + ", ".join(f"{b['role']} {b.get('contrast')}:1 {b['size']} px" for b in legal_low + legal_small))


@rule_check("typo_contrast", on="poster", message="text below the WCAG contrast minimum")
def typo_contrast(p: PosterSubject, r) -> dict | None:
    """Every text block at the WCAG contrast minimum."""
    low = p.low_contrast()
    return result(p.rs, r.id, not low, "below the WCAG contrast minimum: %s"
                  % ", ".join(f"{b['role']} {b['contrast']}:1" for b in low), ", ".join(b["role"] for b in low))


@rule_check("apr_prominence", on="poster", message="another rate figure is larger than the annualized rate")
def apr_prominence(p: PosterSubject, r) -> dict | None:
    """No other rate figure (a %, a daily or monthly rate) larger than the APR."""
    if not p.has_rate:
        return None
    apr_size = max((b["size"] for b in p.by_role.get("apr", [])), default=0)
    rival = [b for b in p.blocks if b["role"] not in ("apr", "apr_label") and b["size"] > apr_size
             and ("%" in b.get("text", "") or non_annual_rates(b.get("text", ""), p.rs.vocab, p.category))]
    return result(p.rs, r.id, not rival, "larger than the APR: " + ", ".join(
        f"{b['role']} '{b['text']}' {b['size']} px" for b in rival))


@rule_check("apr_cap", on="poster", message="the annualized rate is above the limit")
def apr_cap(p: PosterSubject, r) -> dict | None:
    """The offer's top annualized rate at most the rule's `limit`."""
    if not (p.has_rate and r.limit and p.facts.apr_figures):
        return None
    top = max(p.facts.apr_figures)
    return result(p.rs, r.id, top <= r.limit, f"{top:g}% — {r.message}", "apr", default="warning")


@rule_check("safe_zone", on="poster", message="text outside the channel's safe zone")
def safe_zone(p: PosterSubject, r) -> dict | None:
    """Text blocks (the legal band aside) inside the channel's safe zone."""
    if p.safe is None:
        return None
    W, H, safe = *p.canvas, p.safe
    x0, y0 = W * safe.left - 0.5, H * safe.top - 0.5
    x1, y1 = W * (1 - safe.right) + 0.5, H * (1 - safe.bottom) + 0.5
    outside = [b for b in p.blocks if b["role"] in TEXT_ROLES and b["role"] not in LEGAL_ROLES
               and (b["box"][0] < x0 or b["box"][1] < y0 or b["box"][2] > x1 or b["box"][3] > y1)]
    return result(p.rs, r.id, not outside, "outside the safe zone: " + ", ".join(b["role"] for b in outside),
                  default="warning")


@rule_check("aigc_visible", on="poster",
            message="the background is model-generated but the visible AI label is missing or illegible")
def aigc_visible(p: PosterSubject, r) -> dict | None:
    """A model-generated background carries a legible visible AI label (where the brand kit shows one)."""
    if not p.generative:
        return None
    labels = p.by_role.get("ai_label", [])
    legible = all(b.get("size", 0) >= p.min_px - 0.01 and (b.get("contrast") or 0) >= 4.5 for b in labels)
    return result(p.rs, r.id, (bool(labels) and legible) or not p.label_visible,
                  "the background is model-generated but the visible AI label is missing or illegible")


@rule_check("info", on="poster")
def info_note(p: PosterSubject, r) -> dict | None:
    """An operator's note on an image (the rule's message): nothing on the pixels to evaluate, so nothing is
    recorded — the note is read where the rules are (the rules file, docs/compliance.md)."""
    return None


# ------------------------------------------------------------------------------------------------ the file

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


@rule_check("aigc_implicit", on="file",
            message="the file's metadata does not carry the implicit label (producer, content id, aigc)")
def implicit_label_rule(rs, r, data: bytes, *, content_id: str | None, generative: bool) -> dict | None:
    """The image file's implicit label: producer, this creative's content id, and aigc (true when generated)."""
    label = implicit_label(data)
    ok = label is not None and bool(label.get("producer")) and bool(label.get("content_id")) \
        and (content_id is None or label.get("content_id") == content_id) \
        and (label.get("aigc") is True if generative else "aigc" in label)
    why = "no implicit label in the file's metadata" if label is None else \
        f"implicit label does not match (content_id {label.get('content_id')}, aigc {label.get('aigc')})"
    return result(rs, r.id, ok, why)


def implicit_label_check(rs, data: bytes, *, content_id: str | None, generative: bool, category: str | None = None,
                         channel: str | None = None) -> list[dict]:
    """Every aigc_implicit rule in force on an image file (AIGC-IMPLICIT and a user's), one result each."""
    return run_kind(rs, "aigc_implicit", "file", data, content_id=content_id, generative=generative,
                    category=category, channel=channel)
