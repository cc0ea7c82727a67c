"""`mkt check` as a library: a brief before rendering, a finished bundle, one image, or a piece of text, against
the compliance rule set. Each returns a Report: items (a segment, a creative, a file), each with its results."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AssetError
from .rules import Facts, RuleSet, load_rules

UNITS = {"sms": "sms", "call_script": "call", "push": "text"}


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
    """One text; unit text | sms | call | push (push: first line the title ≤ 20, the rest the body ≤ 50)."""
    rs = rules or load_rules()
    rep = Report(name, "text")
    results = []
    if unit == "push":
        title, _, body = text.strip().partition("\n")
        for part, limit in (("title", 20), ("body", 50)):
            n = len((title if part == "title" else body).strip())
            if n > limit:
                results.append({"rule": "COPY-LEN", "severity": "error", "passed": False,
                                "message": f"push {part} is {n} characters; the limit is {limit}"})
        unit = "text"
    results += _findings(rs, text, unit=unit, category=category, facts=facts)
    rep.items.append(Item(name, "text", results))
    return rep


def check_brief(path: str | Path, *, extra_rules: list = ()) -> Report:
    """Before rendering: every string the brief will put in front of customers, per segment, and the offer."""
    from ..brief import load_brief, rate_text
    from ..copywriting.writer import facts_for, rule_facts

    b = load_brief(path)
    rs = load_rules(extra_rules)
    rep = Report(str(path), "brief")
    rate = rate_text(b)
    for seg in b.segments():
        facts = rule_facts(facts_for(b, seg))
        item = Item(seg.name, "brief-segment")
        strings = {k: getattr(seg.message, k) for k in ("headline", "subhead", "cta", "disclaimer")
                   if getattr(seg.message, k)}
        strings |= {f"perks[{i}]": p for i, p in enumerate(seg.perks)}
        seen = set()
        for key, text in strings.items():
            for r in _findings(rs, text, category=b.product.category, facts=facts, apr_shown=rate is not None,
                               where=f"message.{key}" if not key.startswith("perks") else f"offer.{key}"):
                if (r["rule"], r.get("match")) not in seen and r["severity"] != "info":
                    seen.add((r["rule"], r.get("match")))
                    item.results.append(r)
        cap = rs.get("FIN-CAP")
        if cap and cap.limit and facts.apr_figures and (not cap.categories or b.product.category in cap.categories):
            top = max(facts.apr_figures)
            item.results.append({"rule": "FIN-CAP", "severity": cap.severity, "passed": top <= cap.limit,
                                 "message": "" if top <= cap.limit else f"{top:g}% — {cap.message}",
                                 "where": "offer.apr"})
        for rid in ("FIN-RISK",):
            r = rs.get(rid)
            if r and r.phrase and (not r.categories or b.product.category in r.categories):
                from ..brief import resolved_message

                disc = resolved_message(b, seg).get("disclaimer", "")
                ok = r.phrase in disc
                item.results.append({"rule": rid, "severity": r.severity, "passed": ok,
                                     "message": "" if ok else f"'{r.phrase}' is not the disclaimer",
                                     "where": "message.disclaimer", "fix": r.fix})
        rep.items.append(item)
    return rep


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
        if c.get("format") == "text":
            unit = UNITS.get(c["channel"], "text")
            text = data.decode("utf-8", "replace")
            if unit == "sms":
                text = c["texts"].get("body", text)
            item.results += _findings(rs, text.strip(), unit=unit, category=_category(man, c))
            continue
        generative = bool(c.get("engines", {}).get("visual", {}).get("name") not in (None, "procedural", "image"))
        lab = implicit_label_check(rs, data, content_id=c.get("id"), generative=generative)
        if lab:
            item.results.append(lab)
        item.results += [r for r in c.get("checks", []) if not r.get("passed")]
        for role, text in c.get("texts", {}).items():
            if role in ("headline", "subhead", "cta") or role.startswith("perk"):
                item.results += _findings(rs, text, category=_category(man, c), apr_shown="apr" in c["texts"],
                                          where=role)
        if ocr:
            with Image.open(f) as im:
                r = readback_check(rs, im, c.get("blocks", []), c.get("texts", {}))
            if r:
                item.results.append(r)
        if not item.results:
            item.results.append({"rule": "ALL", "severity": "info", "passed": True, "message": ""})
    return rep


def _category(man: dict, c: dict) -> str | None:
    return man.get("brief", {}).get("category") or c.get("category")


def check_image(path: str | Path, *, ocr: bool = True, extra_rules: list = (), category: str | None = None) -> Report:
    """One image on its own: its implicit label, and (ocr) every text line read off it against the text rules
    (no brief: FIN-APR looks for any annualized rate in the image's text)."""
    from . import ocr as ocr_mod
    from .image import implicit_label

    from ..userfiles import load_image, read_user_file

    p = Path(path)
    data = read_user_file(p, "image", "image")   # regular file, within files.image
    img = load_image(p, "image").convert("RGB")   # within image.max_pixels / max_side, decoded whole
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
