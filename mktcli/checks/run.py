"""`mkt check` as a library: a brief before rendering, a finished bundle, one image, or a piece of text, against
the compliance rule set. Each returns a Report: items (a segment, a creative, a file), each with its results."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .image import end_card_blocks, end_card_checks, facts_from, implicit_label, implicit_label_check, poster_checks_from
from . import readback   # read_back_file through the module: tests and plugins may swap it
from .readback import readback_result
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


# the rules each text channel is checked against (any other rule that fails is recorded too)
CHANNEL_RULES = {
    "sms": ["SMS-SIGN", "SMS-OPTOUT", "SMS-LEN", "FIN-APR", "FIN-CONSISTENT", "FIN-PURPOSE", "FIN-CAP", "AD-ABS",
            "AD-STATE", "AD-BAIT", "FIN-BAN", "FIN-BAN-RANGE", "FIN-SOFT"],
    "call_script": ["CALL-OPEN", "CALL-REFUSAL", "FIN-APR", "FIN-CONSISTENT", "FIN-PURPOSE", "FIN-CAP", "AD-ABS",
                    "AD-STATE", "AD-BAIT", "FIN-BAN", "FIN-BAN-RANGE", "FIN-SOFT"],
    "push": ["COPY-LEN", "COPY-EMPTY", "FIN-APR", "FIN-CONSISTENT", "FIN-PURPOSE", "FIN-CAP", "AD-ABS", "AD-STATE",
             "AD-BAIT", "FIN-BAN", "FIN-BAN-RANGE", "FIN-SOFT"],
}
_PASSED_SEVERITY = {"SMS-LEN": "warning", "FIN-SOFT": "warning", "FIN-CAP": "warning"}
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
    records them, and `mkt check BUNDLE`, which evaluates them again from the manifest's texts and inputs."""
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
    for f in rs.check_text(text, unit=unit, category=category, facts=facts, apr_shown=False):
        if f.severity != "info":
            fail(f.rule, f.severity, f.message, **{k: v for k, v in (("match", f.match), ("fix", f.fix)) if v})
    phrase = facts.apr_phrase if facts else None
    if phrase and phrase not in text and channel == "call_script":
        fail("FIN-APR", "error", f"the call must state '{phrase}'")
    if phrase and phrase not in text and channel == "sms":
        fail("FIN-APR", "warning", f"the SMS does not state '{phrase}'")
    rules = list(CHANNEL_RULES.get(channel, []))
    if category == "wealth":
        rules.append("FIN-RISK")
    out = []
    for r in rules:
        if r in failed:
            out += failed.pop(r)
        elif (sev := rs.severity(r, _PASSED_SEVERITY.get(r, "error"))) is not None:   # None: switched off
            out.append({"rule": r, "severity": sev, "passed": True, "message": ""})
    return out + [r for rs_ in failed.values() for r in rs_]


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


def check_bundle(path: str | Path, *, ocr: bool = True, extra_rules: list = (), jobs: int | None = None) -> Report:
    """A finished bundle, checked as `mkt poster` checked it — the same functions on the inputs its manifest records
    (`check_inputs`: poster_checks for an image, text_checks for a text creative) with the rules in force now —
    plus what only the files can tell: every file re-hashed against the manifest, each image's implicit label, and
    (ocr) the required strings read back from the pixels. The poster's own read-back (--verify) is reused for a
    file whose sha256 is the one it read; the others are read in `jobs` processes (default: one per core)."""
    import hashlib

    from ..export.bundle import load_manifest

    root, man = load_manifest(path)
    rs = load_rules(extra_rules)
    rep = Report(str(root / "manifest.json"), "bundle")
    if ocr:
        from . import ocr as ocr_mod

        if not ocr_mod.available():
            rep.notes.append("OCR read-back skipped: pip install 'mktcli[ocr]'")
            ocr = False
    to_read: list[tuple[Item, dict, Path]] = []
    reused = 0
    for c in man.get("creatives", []):
        if not isinstance(c, dict) or not isinstance(c.get("path"), str):
            continue
        item = Item(f"{c.get('segment')} / {c.get('channel')}", "text" if c.get("format") == "text" else "image")
        rep.items.append(item)
        f = _inside(root, c["path"])
        if f is None or not f.is_file():
            item.results.append({"rule": "BUNDLE-FILE", "severity": "error", "passed": False,
                                 "message": f"missing file {c['path']}"})
            continue
        data = f.read_bytes()
        unchanged = hashlib.sha256(data).hexdigest() == c.get("sha256")
        if not unchanged:
            item.results.append({"rule": "BUNDLE-FILE", "severity": "error", "passed": False,
                                 "message": f"{c['path']} changed after the bundle was made (sha256 differs)"})
        inputs = c.get("check_inputs")
        if c.get("format") == "text":
            if isinstance(inputs, dict):

                limits = tuple(inputs.get("push_limits") or (20, 50))
                item.results += text_checks(rs, c["channel"], c.get("texts") or {}, category=inputs.get("category"),
                                            facts=facts_from(inputs.get("facts")), push_limits=limits)
            else:   # a bundle made before check_inputs were recorded: the recorded checks and the text rules on the
                # texts alone, each finding once
                text, unit = text_unit(c["channel"], c.get("texts") or {})
                item.results = _merged(item.results + [r for r in c.get("checks", []) if not r.get("passed")],
                                       _findings(rs, text.strip(), unit=unit, category=_category(man, c)))
            continue
        generative = bool(inputs.get("generative")) if isinstance(inputs, dict) else \
            c.get("engines", {}).get("visual", {}).get("name") not in (None, "procedural", "illustration", "image")
        if c.get("format") == "mp4":   # a clip: its label and spec from the file; its read-back as recorded
            _video_item(rs, item, c, data, generative, unchanged)
            continue
        lab = implicit_label_check(rs, data, content_id=c.get("id"), generative=generative)
        if isinstance(inputs, dict):
            item.results += poster_checks_from(rs, c.get("blocks", []), inputs)
        else:   # before check_inputs: the recorded checks and the text rules again, each finding once
            rerun = []
            for role, text in c.get("texts", {}).items():
                if role in ("headline", "subhead", "cta") or role.startswith("perk"):
                    rerun += _findings(rs, text, category=_category(man, c), apr_shown="apr" in c["texts"],
                                       where=role)
            item.results = _merged(item.results + [r for r in c.get("checks", []) if not r.get("passed")], rerun)
        if lab:
            item.results.append(lab)
        if ocr:
            recorded = next((k for k in c.get("checks", []) if k.get("rule") == "OCR-READBACK"
                             and k.get("sha256") and "read" in k), None)
            if recorded is not None and unchanged and recorded["sha256"] == c.get("sha256"):
                item.results.append(recorded)   # the poster read these very bytes (mkt poster --verify)
                reused += 1
            else:
                to_read.append((item, c, f))
    if to_read:

        for (item, c, _), res in zip(to_read, _read_back_all([(str(f), c.get("blocks", []), c.get("texts", {}))
                                                              for _, c, f in to_read], jobs)):
            r = readback_result(rs, res)
            if r:
                item.results.append(r)
    if ocr and (reused or to_read):
        rep.notes.append(f"OCR read-back: {len(to_read)} image(s) read now"
                         + (f", {reused} reused from mkt poster --verify (files unchanged)" if reused else ""))
    for item in rep.items:
        if not item.results:
            item.results.append({"rule": "ALL", "severity": "info", "passed": True, "message": ""})
    return rep


def _video_item(rs, item, c: dict, data: bytes, generative: bool, unchanged: bool) -> None:
    """A video creative of a bundle: the still's checks on its recorded blocks, the clip's spec and implicit label
    read from the file, and the clip's OCR read-back as `mkt poster` recorded it (while the file is unchanged)."""
    from ..export.video import probe
    from . import video as vchecks

    inputs = c.get("check_inputs")
    if isinstance(inputs, dict):
        item.results += poster_checks_from(rs, c.get("blocks", []), inputs)
        end = end_card_blocks(c)
        if end:
            item.results += end_card_checks(rs, end, inputs)
    v = c.get("video") if isinstance(c.get("video"), dict) else {}
    lim = v.get("limits") or {}
    try:
        info = probe(data)
    except Exception as e:  # noqa: BLE001 — a file that is not a clip is a failed check, not a crash
        item.results.append({"rule": "VID-SPEC", "severity": "error", "passed": False,
                             "message": f"{c.get('path')} is not a readable video ({type(e).__name__})"})
        return
    item.results += vchecks.spec_check(rs, info, size=(c.get("width") or 0, c.get("height") or 0),
                                       fps=int(v.get("fps") or 0), min_s=float(lim.get("min_s") or 0),
                                       max_s=float(lim.get("max_s") or 1e9), max_bytes=lim.get("max_bytes"),
                                       min_kbps=lim.get("min_kbps"))
    lab = vchecks.label_check(rs, info, content_id=c.get("id"), generative=generative)
    if lab:
        item.results.append(lab)
    if unchanged:
        item.results += [k for k in c.get("checks", []) if k.get("rule") in ("VID-LEGAL", "VID-READBACK")]


def _inside(root: Path, rel: str) -> Path | None:
    from ..errors import MktError
    from ..export.files import safe_join

    try:
        return safe_join(root, *rel.split("/"))
    except MktError:
        return None


def _ocr_worker(threads: int) -> None:
    import os

    os.environ["MKT_OCR_THREADS"] = str(threads)


def _read_back_all(jobs_in: list[tuple[str, list, dict]], jobs: int | None) -> list[list[dict]]:
    """read_back of many image files, in worker processes when there are enough of them (each worker loads the
    OCR models once, ~1 s; ONNX threads shared out so the workers do not oversubscribe the cores)."""
    import os

    cores = os.cpu_count() or 1
    n = max(1, min(jobs or cores, len(jobs_in)))
    if n == 1 or len(jobs_in) < 4:
        return [readback.read_back_file(*j) for j in jobs_in]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_ocr_worker,
                             initargs=(max(1, cores // n),)) as pool:
        return list(pool.map(readback.read_back_file, *zip(*jobs_in), chunksize=max(1, len(jobs_in) // (n * 4))))


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
    from ..userfiles import load_image, read_user_file
    from . import ocr as ocr_mod

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
