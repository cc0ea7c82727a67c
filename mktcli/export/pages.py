"""What the HTML pages share (approval.html, the `mkt preview` gallery, the audit review sheet, the learn report):
one Jinja2 environment with autoescape on, and the filters that show a manifest's values.

The templates and their CSS/JS live in mktcli/templates/ (package data, shipped in the wheel). A page module hands
the template plain data; the template decides the markup, and every value it prints is escaped on the way out unless
it is Markup already (a macro's output, our own CSS/JS) — no page builds HTML in Python strings, so no value can be
printed unescaped by forgetting a call."""
from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

# display order and labels of the text roles (the manifest's keys stay as they are; unknown roles follow)
ROLE_LABELS = {
    "headline": "标题", "subhead": "副标题", "apr": "利率", "cta": "按钮", "disclaimer": "免责声明",
    "provider": "提供方", "brand": "品牌", "ai_label": "AI 标识", "title": "标题", "body": "正文",
    "opening": "开场", "value": "介绍", "refusal": "拒绝选项", "closing": "结束",
}
_ROLE_ORDER = ["headline", "subhead", "apr", "perk", "cta", "disclaimer", "provider", "brand", "ai_label", "title",
               "body", "opening", "value", "refusal", "closing"]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


# ---------------------------------------------------------------- filters (also used by approval.md)


def sorted_texts(texts: dict[str, Any]) -> list[tuple[str, str]]:
    """A creative's texts as (role, text) in reading order: headline first, perks in number order, unknown last."""
    def rank(role: str) -> tuple[int, str]:
        base = "perk" if role.startswith("perk") and role[4:].isdigit() else role
        return (_ROLE_ORDER.index(base) if base in _ROLE_ORDER else len(_ROLE_ORDER), role.zfill(8))
    return [(r, str(texts[r])) for r in sorted(texts, key=rank)]


def role_label(role: str) -> str:
    if role.startswith("perk") and role[4:].isdigit():
        return f"权益{role[4:]}"
    return ROLE_LABELS.get(role, role)


def failed_checks(c: dict) -> list[dict]:
    """A creative's failed checks, errors first."""
    return sorted((k for k in c.get("checks", []) if not k.get("passed", True)),
                  key=lambda k: _SEVERITY_ORDER.get(k.get("severity"), 3))


def passed_checks(c: dict) -> list[dict]:
    return [k for k in c.get("checks", []) if k.get("passed", True)]


def size(c: dict) -> str:
    return f"{c['width']}×{c['height']}" if c.get("width") and c.get("height") else "text"


def kb(n: Any) -> str:
    if not isinstance(n, int):
        return "?"
    return f"{n} B" if n < 1024 else f"{n / 1024:.0f} KB"


def href(path: Any) -> str:
    """A bundle path as a relative link: percent-encoded, so it can never become `javascript:` or leave the path
    (the template escapes it for the attribute like any value)."""
    return quote(str(path), safe="/")


# ---------------------------------------------------------------- escaping


def _escaped(value: Any) -> Any:
    """Jinja's finalize: every printed value is escaped here, before autoescape sees it — with html.escape's
    entities (&quot; &#x27;), the ones these pages have always written (markupsafe writes &#34; &#39;), so their bytes
    stay the same: `mkt check`/`mkt register` re-make approval.html to tell whether a manifest was edited, and a
    bundle made by an earlier version must still match. Markup (a macro's output, our CSS/JS) passes as it is."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


def element_text(value: Any) -> Markup:
    """Escaped for an element's content only (< > &; quotes stay as they are, e.g. JSON in a <pre>). Never use it in
    an attribute value: there only the default escaping is safe."""
    return Markup(html.escape(str(value), quote=False))


# ---------------------------------------------------------------- environment


@lru_cache(maxsize=None)
def static_text(name: str) -> str:
    """A CSS or JS file of mktcli/templates/static/ as text (inlined into the pages, which stay self-contained)."""
    return resources.files("mktcli").joinpath("templates", "static", name).read_text(encoding="utf-8")


def _static(name: str) -> Markup:
    return Markup(static_text(name))   # our own file, not user data


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=PackageLoader("mktcli", "templates"), autoescape=True, finalize=_escaped,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      auto_reload=False)
    env.filters.update(sorted_texts=sorted_texts, role_label=role_label, failed_checks=failed_checks,
                       passed_checks=passed_checks, size=size, kb=kb, href=href, element_text=element_text)
    env.globals["static"] = _static
    return env


def render(template: str, **context: Any) -> str:
    """A page from mktcli/templates/<template> (deterministic: the same data gives the same text)."""
    return environment().get_template(template).render(**context)
