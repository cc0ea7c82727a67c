"""Text rules from configs/compliance/zh-CN.yaml (banned and absolute terms), and the numbers check: every rate,
amount, term and date in generated copy must be one the brief states (FIN-CONSISTENT), and a text that talks
about rates or cost must carry the brief's exact annualized rate (FIN-APR)."""
from __future__ import annotations

import re

from .registry import Finding
from .rules import RuleSet, load_rules


def check_phrases(text: str, category: str | None = None, rules: RuleSet | None = None) -> list[Finding]:
    """Banned / absolute / bait phrases in a text (the pattern rules of the compliance rule set, default the rules
    in force; allow-lists applied)."""
    rs = rules or load_rules()
    return [f for f in rs.check_text(text, category=category, apr_shown=True) if rs.rules[f.rule].kind == "pattern"]


# ------------------------------------------------------------------------------------------------ numbers

_NUM = re.compile(r"(\d+(?:\.\d+)?)\s*(%|‰|万元|万|元|期|个月|月|天|日|年|倍|折|岁|小时|分钟|秒)?")


def numbers_in(text: str) -> list[tuple[float, str, str]]:
    """(value, unit, as written) for every Arabic-numeral figure in a text."""
    return [(float(m.group(1)), m.group(2) or "", m.group(0).strip()) for m in _NUM.finditer(text)]


def allowed_numbers(*texts: str) -> set[tuple[float, str]]:
    """The figures the brief states (value, unit), plus each value without its unit (a template may say
    '30万' where the brief says '30万元')."""
    out: set[tuple[float, str]] = set()
    for t in texts:
        for v, unit, _ in numbers_in(t or ""):
            out.add((v, unit))
            out.add((v, "*"))
    return out


def unstated_figures(text: str, allowed: set[tuple[float, str]]) -> list[str]:
    """Figures in the text (as written) that the brief does not state; an amount may drop or change its money
    unit (30万 for the brief's 30万元)."""
    return [written for v, unit, written in numbers_in(text)
            if (v, unit) not in allowed and not (unit in ("", "万", "万元", "元") and (v, "*") in allowed)]


def check_numbers(text: str, allowed: set[tuple[float, str]], apr_phrase: str | None) -> list[Finding]:
    out = [Finding("FIN-CONSISTENT", "error", f"'{w}' is not a figure the brief states", w)
           for w in unstated_figures(text, allowed)]
    if apr_phrase and apr_phrase not in text:   # the rule set's FIN-APR words, with its allow-list
        rs = load_rules()
        rule = rs.rules["FIN-APR"]
        pat, _, _ = rs.patterns["FIN-APR"]
        m = pat.search(rs.without_allowed(rule, text)) if pat else None
        if m:
            out.append(Finding("FIN-APR", rule.severity, f"mentions a rate or cost without the exact '{apr_phrase}'",
                               m.group(0)))
    return out
