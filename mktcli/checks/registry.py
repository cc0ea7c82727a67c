"""The rule-check registry: one small function per rule kind, registered with @rule_check.

A rule in configs/compliance/*.yaml names its `kind` and its parameters (pattern, phrase, limit, scale …); the
dispatcher for a subject (a text, a poster's placement record, a file, a clip) looks the kind up here and calls its
function with the subject and the rule. No code branches on rule ids, so a new rule of an existing kind is a YAML
entry, and a new kind is one function plus its decorator (docs/compliance.md, "Adding a rule").

This module is the bottom of mktcli.checks: it imports nothing from the package, so the modules that hold the
checks (text_kinds, poster_kinds, readback, video) and the rule set (rules) can all import it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# what a check reads. text: one customer-facing string (rules.RuleSet.check_text); poster: a poster's placement
# record (image.poster_checks); file: an image file's bytes or its OCR read-back; clip: a video file, its frames;
# segment: a brief's resolved message for one segment and offer: the brief's offer, before anything is rendered
# (brief_check.check_brief)
SUBJECTS = ("text", "poster", "file", "clip", "segment", "offer")

# a rule's applies_to → the subjects whose checks evaluate it. A kind must have a check on one of them for every
# target a rule of it names (rules.Rule refuses the rule otherwise); the brief's subjects (segment, offer) only add
# an early look at what a poster will check, they never make a rule "run"
APPLIES_TO: dict[str, tuple[str, ...]] = {"text": ("text",), "sms": ("text",), "call": ("text",),
                                          "push": ("text",), "image": ("poster", "file"), "video": ("clip",)}
# the applies_to target a pipeline subject reads (a file or clip check runs the rules that apply to it)
TARGET_OF = {"poster": "image", "file": "image", "clip": "video"}


@dataclass(frozen=True)
class RuleCheck:
    kind: str
    on: str
    fn: Callable[..., Any]
    listed: bool = False          # text: a poster records the rule as passed when it does not fire
    own_categories: bool = False  # poster: the function applies the rule's categories itself


_CHECKS: dict[str, dict[str, RuleCheck]] = {s: {} for s in SUBJECTS}
_MESSAGES: dict[str, str] = {}   # kind → the message of a rule of it that gives none


def rule_check(*kinds: str, on: str, listed: bool = False, own_categories: bool = False, message: str = ""):
    """Register the decorated function as the check of rule `kinds` on subject `on`. The function's signature
    is the subject's: text and poster checks take (subject, rule); file and clip checks take (rule set, rule, what
    their pipeline stage has: the bytes, frames or read-back) and are run for every rule of their kind by
    run_kind. `message`: the kind's default message, for a rule that gives none."""
    if on not in _CHECKS:
        raise ValueError(f"unknown subject '{on}' (one of {', '.join(SUBJECTS)})")

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        for kind in kinds:
            if kind in _CHECKS[on]:
                raise ValueError(f"rule kind '{kind}' on {on} is registered twice "
                                 f"({_CHECKS[on][kind].fn.__qualname__}, {fn.__qualname__})")
            _CHECKS[on][kind] = RuleCheck(kind, on, fn, listed, own_categories)
            if message:
                _MESSAGES.setdefault(kind, message)
        return fn
    return deco


def check_for(kind: str, on: str) -> RuleCheck | None:
    return _CHECKS[on].get(kind)


def checks_on(on: str) -> list[RuleCheck]:
    """The checks of one subject, in the order they were registered (a poster's results come in this order)."""
    return list(_CHECKS[on].values())


def known_kinds() -> list[str]:
    """Every registered kind, each once, in registration order."""
    return list(dict.fromkeys(k for checks in _CHECKS.values() for k in checks))


def default_message(kind: str) -> str:
    """What a finding of `kind` says when its rule gives no `message:`."""
    return _MESSAGES.get(kind, f"the {kind.replace('_', ' ')} rule is not met")


def targets_of(kind: str) -> list[str]:
    """The applies_to targets a rule of `kind` may name: those with a check of the kind on one of their subjects."""
    return [t for t, subjects in APPLIES_TO.items() if any(kind in _CHECKS[s] for s in subjects)]


def rules_for(rs: Any, kind: str, on: str, *, category: str | None = None, channel: str | None = None) -> list:
    """The rules in force of `kind` that a check on subject `on` (file or clip) evaluates: enabled, applying to
    the subject's target (image, video), covering `category` and `channel` where they are known."""
    target = TARGET_OF[on]
    return [r for r in rs.rules.values() if r.enabled and r.kind == kind and target in r.applies_to
            and not (r.categories and category and category not in r.categories)
            and not (r.channels and channel and channel not in r.channels)]


def run_kind(rs: Any, kind: str, on: str, *args: Any, category: str | None = None, channel: str | None = None,
             **kw: Any) -> list[dict[str, Any]]:
    """The results of every rule of `kind` in force on a file or clip (rules_for), each from the kind's registered
    check called as fn(rs, rule, *args, **kw), in the rules files' order."""
    check = check_for(kind, on)
    out: list[dict[str, Any]] = []
    for r in rules_for(rs, kind, on, category=category, channel=channel) if check is not None else ():
        res = check.fn(rs, r, *args, **kw)
        out += res if isinstance(res, list) else [res] if res is not None else []
    return out


@dataclass(frozen=True)
class Finding:
    """One failed rule: what, how bad, the words that triggered it, the fix, and where (a field, a block)."""
    rule: str
    severity: str
    message: str
    match: str = ""
    fix: str = ""
    where: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = {"rule": self.rule, "severity": self.severity, "message": self.message}
        for k in ("match", "fix", "where"):
            if getattr(self, k):
                d[k] = getattr(self, k)
        return d


def result(rs: Any, rule: str, passed: bool, message: str = "", where: str = "",
           default: str = "error") -> dict[str, Any] | None:
    """One rule's recorded result (rule, severity, passed, message; where and fix when it failed), or None when the
    rule is switched off. `default`: the severity of a rule the rule set does not define."""
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
