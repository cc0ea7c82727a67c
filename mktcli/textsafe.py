"""User text made inert for the text format it is written into (layer 1: used by copywriting and export alike).

HTML pages escape through their Jinja2 templates (export/pages.py); these are the other two formats mkt writes: Markdown
(approval.md, call_script.md) and CSV (withdrawals.csv)."""
from __future__ import annotations

import re
from html import escape
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*\[\]!|])")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def md(v: Any) -> str:
    """Text from a brief or a manifest as inert Markdown on one line: HTML's <, > and & as entities (a ticket system
    that renders HTML inside Markdown shows `<script>` as text), Markdown's link, image, emphasis (*), code and table
    characters backslash-escaped (so `[x](javascript:…)` is text, not a link), line breaks as spaces."""
    text = escape(str(v), quote=False).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(v: Any) -> str:
    """An inline code span that no backtick inside can close early (nothing in a code span is rendered)."""
    text = str(v).replace("\r", " ").replace("\n", " ")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def csv_cell(v: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ (or a tab or carriage return) would be run
    as a formula (=HYPERLINK(…) in a recall reason), so it gets a leading apostrophe, as OWASP advises."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v
