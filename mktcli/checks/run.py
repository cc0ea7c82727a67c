"""`mkt check` as a library, for one image or a piece of text against the compliance rule set, and what every
check shares: the Report (items — a segment, a creative, a file — each with its results), the text rules' findings,
and a text creative's checks (text_checks: `mkt poster` records them, `mkt check BUNDLE` evaluates them again).

A brief before rendering (brief_check.py) and a finished bundle (bundle_check.py) are checked in the orchestration
layer: the first writes the brief's copy (engines, rules and learned knowledge), the second reads the bundle's
files (export/)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..brief import load_brief
from ..userfiles import load_image, read_user_file
from . import ocr as ocr_mod
from .copy_guard import rule_facts_for
from .image import implicit_label
from .registry import rules_for
from .rules import Facts, RuleSet, load_rules

UNITS = {"sms": "sms", "call_script": "call", "push": "push"}


@dataclass
class Item:
    name: str
    kind: str                 # brief-segment | image | text | file
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.results if not r["passed"] and r["severity"] != "info"]


@dataclass
class Report:
    target: str
    kind: str
    items: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def errors(self) -> int:
        return sum(1 for i in self.items for r in i.failed if r["severity"] == "error")

    def warnings(self) -> int:
        return sum(1 for i in self.items for r in i.failed if r["severity"] == "warning")

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "kind": self.kind, "errors": self.errors(), "warnings": self.warnings(),
                "items": [{"name": i.name, "kind": i.kind, "results": i.results} for i in self.items],
                "notes": self.notes}


def text_findings(rs: RuleSet, text: str, **kw) -> list[dict]:
    return [{**f.as_dict(), "passed": False} for f in rs.check_text(text, **kw)]


def check_text(text: str, *, unit: str = "text", category: str | None = None, rules: RuleSet | None = None,
               facts: Facts | None = None, name: str = "text") -> Report:
    """One text; unit text | sms | call | push (push: two lines are the title ≤ 20 and the body ≤ 50; one line is
    the body). `facts` (a brief's, copy_guard.rule_facts_for) adds the rules that compare with the offer."""
    rs = rules or load_rules()
    rep = Report(name, "text")
    results = []
    if unit == "push":
        title, sep, body = text.strip().partition("\n")
        if not sep:
            title, body = "", title
        for part, limit in (("title", 20), ("body", 50)):
            n = len((title if part == "title" else body).strip())
            if n > limit:
                results.append({"rule": "COPY-LEN", "severity": "error", "passed": False,
                                "message": f"push {part} is {n} characters; the limit is {limit}"})
    results += text_findings(rs, text, unit=unit, category=category, facts=facts)
    rep.items.append(Item(name, "text", results))
    return rep


# a push's own limits (not compliance rules: the channel's title and body lengths), listed first on a push
PUSH_CHECKS = ("COPY-LEN", "COPY-EMPTY")
CALL_PARTS = (("opening", "开场"), ("value", "介绍"), ("apr", "利率"), ("refusal", "拒绝选项"), ("closing", "结束"))


def text_unit(channel: str, texts: dict[str, str]) -> tuple[str, str]:
    """(the text a customer reads or hears, its unit for the rules) of a text creative, from its `texts`: what the
    copy guard checked — never the file's decoration (call_script.md's heading names the segment, which is not
    said to the customer)."""
    if channel == "sms":
        return texts.get("body", ""), "sms"
    if channel == "call_script":
        return "\n".join(f"{label}：{texts[k]}" for k, label in CALL_PARTS if texts.get(k)), "call"
    return f"{texts.get('title', '')}\n{texts.get('body', '')}", "push"


def text_checks(rs: RuleSet, channel: str, texts: dict[str, str], *, category: str | None, facts: Facts | None,
                push_limits: tuple[int, int] = (20, 50)) -> list[dict[str, Any]]:
    """Every rule result of one text creative (sms, call_script, push): one code path for `mkt poster`, which
    records them, and `mkt check BUNDLE`, which evaluates them again from the manifest's texts and inputs. Every
    rule that applies to the unit (RuleSet.text_rules: the unit's own rules first, then the text rules, each in
    the rules files' order) is listed, passed or with its findings."""
    text, unit = text_unit(channel, texts)
    failed: dict[str, list[dict]] = {}

    def fail(rule: str, severity: str, message: str, **extra) -> None:   # each violation once (a rule, its words)
        if not any(r["message"] == message for r in failed.get(rule, [])):
            failed.setdefault(rule, []).append({"rule": rule, "severity": severity, "passed": False,
                                                "message": message, **extra})

    if channel == "push":
        for part, limit in (("title", push_limits[0]), ("body", push_limits[1])):
            value = texts.get(part, "")
            if limit and len(value) > limit:
                fail("COPY-LEN", "error", f"push {part} is {len(value)} characters; the limit is {limit}")
            if not value.strip():
                fail("COPY-EMPTY", "error", f"push {part} is empty")
    for f in rs.check_text(text, unit=unit, category=category, facts=facts, apr_shown=False, exact_rate=True):
        if f.severity != "info":
            fail(f.rule, f.severity, f.message, **{k: v for k, v in (("match", f.match), ("fix", f.fix)) if v})
    applying = [r for r in rs.text_rules(unit, category) if r.severity != "info"]
    listed = [(rid, "error") for rid in (PUSH_CHECKS if channel == "push" else ())]
    listed += [(r.id, r.severity) for r in sorted(applying, key=lambda r: unit not in r.applies_to)]
    out = []
    for rid, sev in listed:
        out += failed.pop(rid, None) or [{"rule": rid, "severity": sev, "passed": True, "message": ""}]
    return out + [r for rs_ in failed.values() for r in rs_]


def brief_facts(path: str | Path, category: str | None = None) -> tuple[Facts, str]:
    """(the facts a text is compared with, the category) from a brief: its offer (APR, perks, product name),
    provider and purpose — those of its first segment."""
    b = load_brief(path)
    return rule_facts_for(b, b.segments()[0]), category or b.product.category


_QUOTED = re.compile(r"'([^']+)'")


def _identity(r: dict) -> tuple[str, str, str]:
    """What makes a finding one violation: its rule, where, and the words (from the message of a record that
    predates 'match')."""
    match = r.get("match")
    if not match:
        m = _QUOTED.search(r.get("message", ""))
        match = m.group(1) if m else r.get("message", "")
    return r["rule"], r.get("where") or "", match


def merged_findings(*lists: list[dict]) -> list[dict]:
    """The findings of several lists, each violation once (the first list's record wins)."""
    out, seen = [], set()
    for r in (r for lst in lists for r in lst):
        k = _identity(r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def check_image(path: str | Path, *, ocr: bool = True, extra_rules: list = (), category: str | None = None) -> Report:
    """One image on its own: its implicit label, and (ocr) every text line read off it against the text rules
    (no brief: FIN-APR looks for any annualized rate in the image's text)."""
    p = Path(path)
    data = read_user_file(p, "image", "image")   # regular file, within files.image
    img = load_image(p, "image").convert("RGB")   # within image.max_pixels / max_side, decoded whole
    rs = load_rules(extra_rules)
    rep = Report(str(p), "image")
    item = Item(p.name, "image")
    rep.items.append(item)
    label = implicit_label(data)
    for r in rules_for(rs, "aigc_implicit", "file", category=category):   # no content id to compare on its own
        ok = label is not None and bool(label.get("producer")) and "aigc" in label
        item.results.append({"rule": r.id, "severity": "warning" if label is None else r.severity,
                             "passed": ok, "message": "" if ok else "no implicit label (producer, content id, "
                             "aigc) in the file's metadata", **({"label": label} if label else {})})
    if ocr and ocr_mod.available():
        lines = ocr_mod.read_lines(img)
        text = " ".join(ln.text for ln in lines)   # the badge's 年化利率 and 3.2%起 are separate lines
        item.results += text_findings(rs, text, category=category, where="OCR")
        rep.notes.append("read off the image: " + " / ".join(ln.text for ln in lines)[:300])
    elif ocr:
        rep.notes.append("OCR skipped: pip install 'mktcli[ocr]'")
    return rep
