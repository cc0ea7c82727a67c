"""The phrase rules of configs/compliance/zh-CN.yaml (banned, absolute and bait terms) on one text. The figures a
text states (FIN-CONSISTENT) and its rate wording (FIN-APR) are rule kinds of the rule set (checks/text_kinds.py),
run with the brief's facts by RuleSet.check_text."""
from __future__ import annotations

from .registry import Finding
from .rules import RuleSet, load_rules


def check_phrases(text: str, category: str | None = None, rules: RuleSet | None = None) -> list[Finding]:
    """Banned / absolute / bait phrases in a text (the pattern rules of the compliance rule set, default the rules
    in force; allow-lists applied)."""
    rs = rules or load_rules()
    return [f for f in rs.check_text(text, category=category, apr_shown=True) if rs.rules[f.rule].kind == "pattern"]

