"""`mkt check` as a library: a brief before rendering, a finished bundle, one image, or a piece of text, against
the compliance rule set. Each returns a Report: items (a segment, a creative, a file), each with its results."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AssetError
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


def _findings(rs: RuleSet, text: str, **kw) -> list[dict]:
    return [{**f.as_dict(), "passed": False} for f in rs.check_text(text, **kw)]


def check_text(text: str, *, unit: str = "text", category: str | None = None, rules: RuleSet | None = None,
               facts: Facts | None = None, name: str = "text") -> Report:
    """One text; unit text | sms | call | push (push: two lines are the title ≤ 20 and the body ≤ 50; one line is
    the body). `facts` (a brief's, copywriting.writer.rule_facts) adds the rules that compare with the offer."""
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
    results += _findings(rs, text, unit=unit, category=category, facts=facts)
    rep.items.append(Item(name, "text", results))
    return rep


def brief_facts(path: str | Path, category: str | None = None) -> tuple[Facts, str]:
    """(the facts a text is compared with, the category) from a brief: its offer (APR, perks, product name),
    provider and purpose — those of its first segment."""
    from ..brief import load_brief
    from ..copywriting.writer import facts_for, rule_facts

    b = load_brief(path)
    return rule_facts(facts_for(b, b.segments()[0])), category or b.product.category


def _owner(where: str) -> str:
    """The part of the brief a key belongs to: message.headline → message, offer.perks[2] → offer,
    audience.overrides.新市民.message.headline → audience.overrides.新市民."""
    head = re.sub(r"\[\d+\]$", "", where).rsplit(".", 1)[0] if "." in where else re.sub(r"\[\d+\]$", "", where)
    return head[:-len(".message")] if head.endswith(".message") else head


def check_brief(path: str | Path, *, extra_rules: list = ()) -> Report:
    """Before rendering: every string the brief puts in front of customers, each checked once at its own key
    (message.headline, offer.perks[2], audience.overrides.种植户.headline …) against the facts of every segment
    that shows it — one finding per violation — plus the offer (FIN-CAP) and, with the template engine, the copy
    mkt would generate for what the brief leaves out (headline, subhead, SMS, push, call script)."""
    from ..brief import load_brief, rate_text, resolved_message
    from ..copywriting.writer import facts_for, rule_facts

    b = load_brief(path)
    rs = load_rules(extra_rules)
    rep = Report(str(path), "brief")
    rate = rate_text(b)
    cat = b.product.category
    items: dict[str, Item] = {}
    seen: set[tuple] = set()

    def item(owner: str, kind: str = "brief-field") -> Item:
        if owner not in items:
            items[owner] = Item(owner, kind)
        return items[owner]

    def add(owner: str, result: dict, kind: str = "brief-field") -> None:
        key = (result["rule"], result.get("where"), result.get("match"), result["passed"])
        if key not in seen and result["severity"] != "info":
            seen.add(key)
            item(owner, kind).results.append(result)

    for owner in ("offer", "message"):
        item(owner)
    segs = b.segments()
    for seg in segs:
        facts = rule_facts(facts_for(b, seg))
        for k in ("headline", "subhead", "cta", "disclaimer"):
            text = getattr(seg.message, k)
            if text:
                where = seg.key(k)
                item(_owner(where))
                for r in _findings(rs, text, category=cat, facts=facts, apr_shown=rate is not None, where=where):
                    add(_owner(where), r)
        for i, perk in enumerate(seg.perks):
            where = seg.key(f"perks[{i}]")
            item(_owner(where))
            for r in _findings(rs, perk, category=cat, facts=facts.without(where), apr_shown=rate is not None,
                               where=where, perk=True):
                add(_owner(where), r)
        r = rs.get("FIN-RISK")
        if r and r.phrase and (not r.categories or cat in r.categories):
            disc = resolved_message(b, seg).get("disclaimer", "")
            ok = r.phrase in disc
            add(_owner(seg.key("disclaimer")), {"rule": r.id, "severity": r.severity, "passed": ok,
                                                "message": "" if ok else f"'{r.phrase}' is not the disclaimer",
                                                "where": seg.key("disclaimer"), "fix": r.fix})
    cap = rs.get("FIN-CAP")
    facts = rule_facts(facts_for(b, segs[0]))
    if cap and cap.limit and facts.apr_figures and (not cap.categories or cat in cap.categories):
        top = max(facts.apr_figures)
        add("offer", {"rule": "FIN-CAP", "severity": cap.severity, "passed": top <= cap.limit,
                      "message": "" if top <= cap.limit else f"{top:g}% — {cap.message}", "where": "offer.apr"})
    _check_generated(b, rs, segs, seen, add, rep)
    rep.items = list(items.values())
    rep.notes.append(f"{len(segs)} segment(s): " + "、".join(s.name for s in segs[:8])
                     + (" …" if len(segs) > 8 else ""))
    return rep


def _check_generated(b, rs: RuleSet, segs, seen: set, add, rep: Report) -> None:
    """The copy the template engine would write for what the brief leaves out, per segment: the generated
    headline and subhead (when the brief has none) and the brief's text channels. A finding the brief's own
    field already has (an echo of its headline) is not counted again."""
    if b.copy.engine != "template":
        rep.notes.append(f"generated copy (engine {b.copy.engine}) is checked when it is written: mkt copy / mkt poster")
        return
    from ..copywriting.writer import write_copy

    chans = [c for c in ("sms", "push", "call_script") if c in b.channels]
    brief_matches = {(k[0], k[2]) for k in seen}
    res = write_copy(b, engine="template", n=1)
    for seg in segs:
        v = res.first(seg.name)
        wanted = chans + [k for k in ("headline", "subhead") if not getattr(seg.message, k)]
        for f in v.findings:
            unit = f.message.split(":", 1)[0].split(" ", 1)[0].split(".", 1)[0]
            if unit not in wanted or f.severity == "info" or (f.rule, f.match) in brief_matches:
                continue
            add(f"copy · {seg.name}", {**f.as_dict(), "passed": False, "where": f"generated {unit}"}, "copy")


def check_bundle(path: str | Path, *, ocr: bool = True, extra_rules: list = ()) -> Report:
    """A finished bundle: each image's implicit label, its recorded checks re-evaluated on the placement record,
    its placed strings against the text rules, and (ocr) the required strings read back from the pixels; each
    text creative against the text and SMS/call rules. Files are re-hashed against the manifest."""
    import hashlib

    from PIL import Image

    from ..export.bundle import find_manifest
    from .image import implicit_label_check
    from .readback import readback_check

    mp = find_manifest(path)
    try:
        man = json.loads(mp.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AssetError(f"cannot read {mp}: {e}", "is it a bundle's manifest.json written by mkt?") from None
    rs = load_rules(extra_rules)
    root = mp.parent
    rep = Report(str(mp), "bundle")
    if ocr:
        from . import ocr as ocr_mod

        if not ocr_mod.available():
            rep.notes.append("OCR read-back skipped: pip install 'mktcli[ocr]'")
            ocr = False
    for c in man.get("creatives", []):
        item = Item(f"{c.get('segment')} / {c.get('channel')}", "text" if c.get("format") == "text" else "image")
        rep.items.append(item)
        f = root / c["path"]
        if not f.is_file():
            item.results.append({"rule": "BUNDLE-FILE", "severity": "error", "passed": False,
                                 "message": f"missing file {c['path']}"})
            continue
        data = f.read_bytes()
        if hashlib.sha256(data).hexdigest() != c.get("sha256"):
            item.results.append({"rule": "BUNDLE-FILE", "severity": "error", "passed": False,
                                 "message": f"{c['path']} changed after the bundle was made (sha256 differs)"})
        facts = Facts(purpose=man.get("brief", {}).get("purpose"))
        recorded = [r for r in c.get("checks", []) if not r.get("passed")]
        if c.get("format") == "text":
            unit = UNITS.get(c["channel"], "text")
            text = data.decode("utf-8", "replace")
            if unit == "sms":
                text = c["texts"].get("body", text)
            item.results = _merged(item.results + recorded, _findings(rs, text.strip(), unit=unit, facts=facts,
                                                                      category=_category(man, c)))
            continue
        generative = bool(c.get("engines", {}).get("visual", {}).get("name") not in (None, "procedural", "image"))
        lab = implicit_label_check(rs, data, content_id=c.get("id"), generative=generative)
        if lab:
            item.results.append(lab)
        # the recorded checks, and the text rules again on the placed strings (a rules file may have changed):
        # a finding both hold is listed once
        rerun = []
        for role, text in c.get("texts", {}).items():
            if role in ("headline", "subhead", "cta") or role.startswith("perk"):
                rerun += _findings(rs, text, category=_category(man, c), apr_shown="apr" in c["texts"], facts=facts,
                                   where=c.get("sources", {}).get(role, "perk" if role.startswith("perk") else role))
        item.results = _merged(item.results + recorded, rerun)
        if ocr:
            with Image.open(f) as im:
                r = readback_check(rs, im, c.get("blocks", []), c.get("texts", {}))
            if r:
                item.results.append(r)
        if not item.results:
            item.results.append({"rule": "ALL", "severity": "info", "passed": True, "message": ""})
    return rep


_QUOTED = re.compile(r"'([^']+)'")


def _identity(r: dict) -> tuple[str, str, str]:
    """What makes a finding one violation: its rule, where, and the words (from the message of a record that
    predates 'match')."""
    match = r.get("match")
    if not match:
        m = _QUOTED.search(r.get("message", ""))
        match = m.group(1) if m else r.get("message", "")
    return r["rule"], r.get("where") or "", match


def _merged(*lists: list[dict]) -> list[dict]:
    """The findings of several lists, each violation once (the first list's record wins)."""
    out, seen = [], set()
    for r in (r for lst in lists for r in lst):
        k = _identity(r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def _category(man: dict, c: dict) -> str | None:
    return man.get("brief", {}).get("category") or c.get("category")


def check_image(path: str | Path, *, ocr: bool = True, extra_rules: list = (), category: str | None = None) -> Report:
    """One image on its own: its implicit label, and (ocr) every text line read off it against the text rules
    (no brief: FIN-APR looks for any annualized rate in the image's text)."""
    from PIL import Image, UnidentifiedImageError

    from . import ocr as ocr_mod
    from .image import implicit_label

    p = Path(path)
    try:
        data = p.read_bytes()
        with Image.open(p) as im:
            im.load()
            img = im.convert("RGB")
    except (OSError, UnidentifiedImageError) as e:
        raise AssetError(f"cannot read image {p}: {e}", "give a JPEG or PNG file") from None
    rs = load_rules(extra_rules)
    rep = Report(str(p), "image")
    item = Item(p.name, "image")
    rep.items.append(item)
    label = implicit_label(data)
    sev = rs.severity("AIGC-IMPLICIT")
    if sev:
        ok = label is not None and bool(label.get("producer")) and "aigc" in label
        item.results.append({"rule": "AIGC-IMPLICIT", "severity": "warning" if label is None else sev,
                             "passed": ok, "message": "" if ok else "no implicit label (producer, content id, "
                             "aigc) in the file's metadata", **({"label": label} if label else {})})
    if ocr and ocr_mod.available():
        lines = ocr_mod.read_lines(img)
        text = " ".join(ln.text for ln in lines)   # the badge's 年化利率 and 3.2%起 are separate lines
        item.results += _findings(rs, text, category=category, where="OCR")
        rep.notes.append("read off the image: " + " / ".join(ln.text for ln in lines)[:300])
    elif ocr:
        rep.notes.append("OCR skipped: pip install 'mktcli[ocr]'")
    return rep
