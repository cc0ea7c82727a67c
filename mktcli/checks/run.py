"""`mkt check` as a library: a brief before rendering, a finished bundle, one image, or a piece of text, against
the compliance rule set. Each returns a Report: items (a segment, a creative, a file), each with its results."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


# the rules each text channel is checked against (any other rule that fails is recorded too)
CHANNEL_RULES = {
    "sms": ["SMS-SIGN", "SMS-OPTOUT", "SMS-LEN", "FIN-APR", "FIN-CONSISTENT", "FIN-CAP", "AD-ABS", "AD-STATE",
            "AD-BAIT", "FIN-BAN", "FIN-SOFT"],
    "call_script": ["CALL-OPEN", "CALL-REFUSAL", "FIN-APR", "FIN-CONSISTENT", "FIN-CAP", "AD-ABS", "AD-STATE",
                    "AD-BAIT", "FIN-BAN", "FIN-SOFT"],
    "push": ["COPY-LEN", "COPY-EMPTY", "FIN-APR", "FIN-CONSISTENT", "FIN-CAP", "AD-ABS", "AD-STATE", "AD-BAIT",
             "FIN-BAN", "FIN-SOFT"],
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
    return f"{texts.get('title', '')}\n{texts.get('body', '')}", "text"


def text_checks(rs: RuleSet, channel: str, texts: dict[str, str], *, category: str | None, facts: Facts | None,
                push_limits: tuple[int, int] = (20, 50)) -> list[dict[str, Any]]:
    """Every rule result of one text creative (sms, call_script, push): one code path for `mkt poster`, which
    records them, and `mkt check BUNDLE`, which evaluates them again from the manifest's texts and inputs."""
    text, unit = text_unit(channel, texts)
    failed: dict[str, dict] = {}

    def fail(rule: str, severity: str, message: str, **extra) -> None:
        failed.setdefault(rule, {"rule": rule, "severity": severity, "passed": False, "message": message, **extra})

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
    if channel in ("sms", "call_script") and category == "wealth":
        rules.append("FIN-RISK")
    out = []
    for r in rules:
        if r in failed:
            out.append(failed.pop(r))
        elif (sev := rs.severity(r, _PASSED_SEVERITY.get(r, "error"))) is not None:   # None: switched off
            out.append({"rule": r, "severity": sev, "passed": True, "message": ""})
    return out + list(failed.values())


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


def check_bundle(path: str | Path, *, ocr: bool = True, extra_rules: list = (), jobs: int | None = None) -> Report:
    """A finished bundle, checked as `mkt poster` checked it — the same functions on the inputs its manifest records
    (`check_inputs`: poster_checks for an image, text_checks for a text creative) with the rules in force now —
    plus what only the files can tell: every file re-hashed against the manifest, each image's implicit label, and
    (ocr) the required strings read back from the pixels. The poster's own read-back (--verify) is reused for a
    file whose sha256 is the one it read; the others are read in `jobs` processes (default: one per core)."""
    import hashlib

    from ..export.bundle import load_manifest
    from .image import implicit_label_check, poster_checks_from

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
                from .image import facts_from

                limits = tuple(inputs.get("push_limits") or (20, 50))
                item.results += text_checks(rs, c["channel"], c.get("texts") or {}, category=inputs.get("category"),
                                            facts=facts_from(inputs.get("facts")), push_limits=limits)
            else:   # a bundle made before check_inputs were recorded: the text rules on the texts alone
                text, unit = text_unit(c["channel"], c.get("texts") or {})
                item.results += _findings(rs, text.strip(), unit=unit, category=_category(man, c))
            continue
        generative = bool(inputs.get("generative")) if isinstance(inputs, dict) else \
            c.get("engines", {}).get("visual", {}).get("name") not in (None, "procedural", "illustration", "image")
        lab = implicit_label_check(rs, data, content_id=c.get("id"), generative=generative)
        if isinstance(inputs, dict):
            item.results += poster_checks_from(rs, c.get("blocks", []), inputs)
        else:
            item.results += [r for r in c.get("checks", []) if not r.get("passed")]
            for role, text in c.get("texts", {}).items():
                if role in ("headline", "subhead", "cta") or role.startswith("perk"):
                    item.results += _findings(rs, text, category=_category(man, c), apr_shown="apr" in c["texts"],
                                              where=role)
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
        from .readback import readback_result

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

    from .readback import read_back_file

    cores = os.cpu_count() or 1
    n = max(1, min(jobs or cores, len(jobs_in)))
    if n == 1 or len(jobs_in) < 4:
        return [read_back_file(*j) for j in jobs_in]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_ocr_worker,
                             initargs=(max(1, cores // n),)) as pool:
        return list(pool.map(read_back_file, *zip(*jobs_in), chunksize=max(1, len(jobs_in) // (n * 4))))


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
