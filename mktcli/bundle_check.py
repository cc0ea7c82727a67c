"""`mkt check BUNDLE` as a library: a finished bundle checked as `mkt poster` checked it, with the rules in force
now, plus what only its files can tell (hashes, implicit labels, the OCR read-back of the pixels).

It reads the bundle (export/: the manifest, the clips, paths inside the bundle) and runs the checks (checks/) on
what it finds: above both, in the orchestration layer. checks/run.py keeps what `mkt poster` shares with it (the
Report, the text rules' findings, a text creative's checks)."""
from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .checks import ocr as ocr_mod
from .checks import readback   # read_back_file through the module: tests and plugins may swap it
from .checks import video as vchecks
from .checks.image import end_card_blocks, end_card_checks, facts_from, implicit_label_check, poster_checks_from
from .checks.readback import readback_result
from .checks.registry import rules_for
from .checks.rules import load_rules
from .checks.run import Item, Report, merged_findings, text_checks, text_findings, text_unit
from .errors import MktError
from .export.bundle import load_manifest
from .export.files import safe_join
from .export.video import probe


def check_bundle(path: str | Path, *, ocr: bool = True, extra_rules: list = (), jobs: int | None = None) -> Report:
    """A finished bundle, checked as `mkt poster` checked it — the same functions on the inputs its manifest records
    (`check_inputs`: poster_checks for an image, text_checks for a text creative) with the rules in force now —
    plus what only the files can tell: every file re-hashed against the manifest, each image's implicit label, and
    (ocr) the required strings read back from the pixels. The poster's own read-back (--verify) is reused for a
    file whose sha256 is the one it read; the others are read in `jobs` processes (default: one per core)."""
    root, man = load_manifest(path)
    rs = load_rules(extra_rules)
    rep = Report(str(root / "manifest.json"), "bundle")
    if ocr and not ocr_mod.available():
        rep.notes.append("OCR read-back skipped: pip install 'mktcli[ocr]'")
        ocr = False
    to_read: list[tuple[Item, dict, Path]] = []
    reused = 0
    for c in man.get("creatives", []):
        if not isinstance(c, dict) or not isinstance(c.get("path"), str):
            continue
        item = Item(f"{c.get('segment')} / {c.get('channel')}", "text" if c.get("format") == "text" else "image")
        rep.items.append(item)
        found = _file_of(root, c, item)
        if found is None:
            continue
        f, data, unchanged = found
        if c.get("format") == "text":
            _text_item(rs, item, man, c)
        elif c.get("format") == "mp4":   # a clip: its label and spec from the file; its read-back as recorded
            _video_item(rs, item, c, data, _generative(c), unchanged)
        else:
            _image_item(rs, item, man, c, data)
            if ocr and _ocr_rules(rs, c):
                recorded = _recorded_readback(rs, c, unchanged)
                if recorded is not None:
                    item.results += recorded   # the poster read these very bytes (mkt poster --verify)
                    reused += 1
                else:
                    to_read.append((item, c, f))
    if to_read:
        for (item, c, _), res in zip(to_read, _read_back_all([(str(f), c.get("blocks", []), c.get("texts", {}))
                                                              for _, c, f in to_read], jobs)):
            item.results += readback_result(rs, res, **_where(c))
    if ocr and (reused or to_read):
        rep.notes.append(f"OCR read-back: {len(to_read)} image(s) read now"
                         + (f", {reused} reused from mkt poster --verify (files unchanged)" if reused else ""))
    for item in rep.items:
        if not item.results:
            item.results.append({"rule": "ALL", "severity": "info", "passed": True, "message": ""})
    return rep


def _file_of(root: Path, c: dict, item: Item) -> tuple[Path, bytes, bool] | None:
    """The creative's file, its bytes and whether they are the ones the manifest hashed (None, with the finding on
    `item`, when it is missing)."""
    f = _inside(root, c["path"])
    if f is None or not f.is_file():
        item.results.append({"rule": "BUNDLE-FILE", "severity": "error", "passed": False,
                             "message": f"missing file {c['path']}"})
        return None
    data = f.read_bytes()
    unchanged = hashlib.sha256(data).hexdigest() == c.get("sha256")
    if not unchanged:
        item.results.append({"rule": "BUNDLE-FILE", "severity": "error", "passed": False,
                             "message": f"{c['path']} changed after the bundle was made (sha256 differs)"})
    return f, data, unchanged


def _where(c: dict) -> dict:
    """The category and channel a creative was made for (which rules are in force on it)."""
    inputs = c.get("check_inputs") if isinstance(c.get("check_inputs"), dict) else {}
    return {"category": inputs.get("category"), "channel": c.get("channel")}


def _ocr_rules(rs, c: dict) -> list:
    return rules_for(rs, "ocr", "file", **_where(c))


def _generative(c: dict) -> bool:
    inputs = c.get("check_inputs")
    if isinstance(inputs, dict):
        return bool(inputs.get("generative"))
    return c.get("engines", {}).get("visual", {}).get("name") not in (None, "procedural", "illustration", "image")


def _text_item(rs, item: Item, man: dict, c: dict) -> None:
    """A text creative (SMS, call script, push): its checks on the recorded inputs with the rules in force now."""
    inputs = c.get("check_inputs")
    if isinstance(inputs, dict):
        limits = tuple(inputs.get("push_limits") or (20, 50))
        item.results += text_checks(rs, c["channel"], c.get("texts") or {}, category=inputs.get("category"),
                                    facts=facts_from(inputs.get("facts")), push_limits=limits)
        return
    # a bundle made before check_inputs were recorded: the recorded checks and the text rules on the texts alone,
    # each finding once
    text, unit = text_unit(c["channel"], c.get("texts") or {})
    item.results = merged_findings(item.results + [r for r in c.get("checks", []) if not r.get("passed")],
                                   text_findings(rs, text.strip(), unit=unit, category=_category(man, c)))


def _image_item(rs, item: Item, man: dict, c: dict, data: bytes) -> None:
    """A poster: its checks on the recorded blocks and inputs, and the implicit label in its file."""
    labels = implicit_label_check(rs, data, content_id=c.get("id"), generative=_generative(c), **_where(c))
    inputs = c.get("check_inputs")
    if isinstance(inputs, dict):
        item.results += poster_checks_from(rs, c.get("blocks", []), inputs)
    else:   # before check_inputs: the recorded checks and the text rules again, each finding once
        rerun = []
        for role, text in c.get("texts", {}).items():
            if role in ("headline", "subhead", "cta") or role.startswith("perk"):
                rerun += text_findings(rs, text, category=_category(man, c), apr_shown="apr" in c["texts"],
                                       where=role)
        item.results = merged_findings(item.results + [r for r in c.get("checks", []) if not r.get("passed")], rerun)
    item.results += labels


def _recorded_readback(rs, c: dict, unchanged: bool) -> list[dict] | None:
    """The OCR read-back `mkt poster --verify` recorded for every ocr rule in force, while the file is the one it
    read (None: read it again)."""
    recorded = {k["rule"]: k for k in c.get("checks", []) if isinstance(k, dict) and k.get("sha256") and "read" in k}
    out = [recorded.get(r.id) for r in _ocr_rules(rs, c)]
    if unchanged and out and all(k is not None and k["sha256"] == c.get("sha256") for k in out):
        return out
    return None


def _video_item(rs, item, c: dict, data: bytes, generative: bool, unchanged: bool) -> None:
    """A video creative of a bundle: the still's checks on its recorded blocks, the clip's spec and implicit label
    read from the file, and the clip's OCR read-back as `mkt poster` recorded it (while the file is unchanged)."""
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
        item.results += [{"rule": r.id, "severity": "error", "passed": False,
                          "message": f"{c.get('path')} is not a readable video ({type(e).__name__})"}
                         for r in rules_for(rs, "video_spec", "clip", **_where(c))]
        return
    item.results += vchecks.spec_check(rs, info, size=(c.get("width") or 0, c.get("height") or 0),
                                       fps=int(v.get("fps") or 0), min_s=float(lim.get("min_s") or 0),
                                       max_s=float(lim.get("max_s") or 1e9), max_bytes=lim.get("max_bytes"),
                                       min_kbps=lim.get("min_kbps"), **_where(c))
    item.results += vchecks.label_check(rs, info, content_id=c.get("id"), generative=generative, **_where(c))
    if unchanged:
        item.results += _recorded_clip_checks(rs, c)


def _recorded_clip_checks(rs, c: dict) -> list[dict]:
    """The clip's video_legal and ocr results as `mkt poster` recorded them (they need the rendered scene, or
    frames read at render time), for every such rule in force; a rule in force that the clip was not checked
    against when it was made is a warning that says so."""
    wanted = [r for kind in ("video_legal", "ocr") for r in rules_for(rs, kind, "clip", **_where(c))]
    ids = {r.id for r in wanted}
    out = [k for k in c.get("checks", []) if isinstance(k, dict) and k.get("rule") in ids]
    found = {k["rule"] for k in out}
    return out + [{"rule": r.id, "severity": "warning", "passed": False,
                   "message": "not checked: the clip was made before this rule was in force; re-render it with "
                              "mkt poster to check it"} for r in wanted if r.id not in found]


def _inside(root: Path, rel: str) -> Path | None:
    try:
        return safe_join(root, *rel.split("/"))
    except MktError:
        return None


def _ocr_worker(threads: int) -> None:
    os.environ["MKT_OCR_THREADS"] = str(threads)


def _read_back_all(jobs_in: list[tuple[str, list, dict]], jobs: int | None) -> list[list[dict]]:
    """read_back of many image files, in worker processes when there are enough of them (each worker loads the
    OCR models once, ~1 s; ONNX threads shared out so the workers do not oversubscribe the cores)."""
    cores = os.cpu_count() or 1
    n = max(1, min(jobs or cores, len(jobs_in)))
    if n == 1 or len(jobs_in) < 4:
        return [readback.read_back_file(*j) for j in jobs_in]
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_ocr_worker,
                             initargs=(max(1, cores // n),)) as pool:
        return list(pool.map(readback.read_back_file, *zip(*jobs_in), chunksize=max(1, len(jobs_in) // (n * 4))))


def _category(man: dict, c: dict) -> str | None:
    return man.get("brief", {}).get("category") or c.get("category")
