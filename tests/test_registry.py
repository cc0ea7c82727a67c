"""The creative registry: registering real bundles, two writers at once, recall by phrase with withdrawal lists,
status rules, reproducible stratified audits with a review sheet, schema migrations, and the CLI over it all."""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import unicodedata
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from mktcli.cli.app import run
from mktcli.errors import BriefError, ExitCode
from mktcli.registry import store as registry_mod
from mktcli.registry.store import (
    MIGRATIONS,
    RegistryError,
    StatusRefused,
    allocate,
    open_registry,
    registry_path,
)

from .conftest import GOOD, ROOT

BRIEF = GOOD.replace("[app_banner, moments_16x9]", "[app_banner, sms]")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """A real bundle from make_posters: 2 segments × (app_banner + sms) = 4 creatives. Read-only for the tests."""
    from mktcli import make_posters

    root = tmp_path_factory.mktemp("bundle")
    brief = root / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MKT_HOME", str(tmp_path_factory.mktemp("home")))
        result = make_posters(brief, root / "out")
    assert not result.failures
    return result.out_dir


def manifest_of(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))


def fake_manifest(folder: Path, brief: str, sizes: dict[tuple[str, str], int], *,
                  failing: set[str] = frozenset()) -> Path:
    """A manifest.json without image files: sizes maps (channel, segment) → how many creatives; channels in
    `failing` get a failed error-level check."""
    creatives = []
    for (ch, seg), n in sizes.items():
        for k in range(n):
            cid = "c-" + hashlib.sha256(f"{brief}/{ch}/{seg}/{k}".encode()).hexdigest()[:16]
            # a stand-in file, so the bundle verifies (registering checks every file's sha256)
            body = cid.encode()
            (folder / seg).mkdir(parents=True, exist_ok=True)
            (folder / seg / f"{ch}-{k}.jpg").write_bytes(body)
            creatives.append({
                "id": cid, "segment": seg, "channel": ch, "width": 300, "height": 250, "path": f"{seg}/{ch}-{k}.jpg",
                "format": "jpeg", "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                "texts": {"headline": f"{brief} {seg} 第{k}号"},
                "engines": {"visual": {"name": "procedural", "seed": k}, "copy": {"name": "template", "seed": k}},
                "checks": [{"rule": "FIN-BAN", "severity": "error", "passed": ch not in failing, "message": "稳赚"},
                           {"rule": "SAFE-ZONE", "severity": "warning", "passed": False, "message": "edge"}],
            })
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, "brief": {"name": brief, "path": "b.yaml", "sha256": "f" * 64, "category": "loan"},
           "created": "2026-11-26T10:00:00+00:00", "generator": {"name": "mkt"}, "creatives": creatives,
           "files": [], "approval": {"ready": [], "blocked": [], "allow_errors": False}, "notes": []}
    (folder / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return folder / "manifest.json"


def squash(text: str) -> str:
    """The test's own idea of 'the same words': NFKC, no whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def out_json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------------------------------------------- register


def test_register_real_bundle(bundle):
    m = manifest_of(bundle)
    with open_registry() as reg:
        assert reg.path == registry_path() and reg.path.parent == Path(os.environ["MKT_HOME"])
        res = reg.register_manifest(bundle)
        assert sorted(res.added) == sorted(c["id"] for c in m["creatives"]) and not res.updated
        for c in m["creatives"]:
            rec = reg.get(c["id"])
            assert rec.status == "draft" and rec.brief == "test-loan" and rec.category == "loan"
            assert rec.abs_path.is_file()
            assert hashlib.sha256(rec.abs_path.read_bytes()).hexdigest() == rec.sha256 == c["sha256"]
            assert rec.texts == c["texts"] and rec.engines == c["engines"]
            assert rec.errors == sum(1 for k in c["checks"] if not k["passed"] and k["severity"] == "error")
            assert rec.brief_sha256 == m["brief"]["sha256"]
            assert [e["action"] for e in reg.history(c["id"])] == ["registered"]
        again = reg.register_manifest(bundle / "manifest.json")
        assert not again.added and sorted(again.updated) == sorted(res.added)
        assert reg.count() == len(m["creatives"])


def test_status_is_kept_on_reregister(bundle):
    ids = [c["id"] for c in manifest_of(bundle)["creatives"]]
    with open_registry() as reg:
        reg.register_manifest(bundle)
        reg.set_status(ids[:2], "approved", "ok")
        reg.recall([ids[2]], reason="wrong rate")
        res = reg.register_manifest(bundle)
        assert res.recalled == [ids[2]]
        assert [reg.get(i).status for i in ids] == ["approved", "approved", "recalled", "draft"]
        assert reg.history(ids[2])[-1]["action"] == "reregistered"


def test_register_rejects_incomplete_and_broken_bundles(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    assert run(["register", str(tmp_path / "half")]) == 2
    err = capsys.readouterr().err
    assert "incomplete bundle" in err and "re-run mkt poster" in err and "Traceback" not in err
    bad = tmp_path / "bad" / "manifest.json"
    bad.parent.mkdir()
    bad.write_text('{"version": 1, "creatives": [', encoding="utf-8")
    assert run(["register", str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    esc = fake_manifest(tmp_path / "esc", "b", {("app_banner", "s"): 1})
    doc = json.loads(esc.read_text(encoding="utf-8"))
    doc["creatives"][0]["path"] = "../../etc/passwd"
    esc.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(BriefError, match="outside the bundle"), open_registry() as reg:
        reg.register_manifest(esc)
    # a changed file, or an edited manifest, is refused: the registry's sha256 values go into withdrawal lists
    tampered = fake_manifest(tmp_path / "tam", "t", {("app_banner", "s"): 1})
    (tampered.parent / "s" / "app_banner-0.jpg").write_bytes(b"changed")
    assert run(["register", str(tampered)]) == 2
    assert "do not match" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------- writers

WORKER = r"""
import sys, time
from pathlib import Path
from mktcli.registry.store import open_registry
db, go, manifests = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
while not go.exists():
    time.sleep(0.002)
reg = open_registry(db)
for m in manifests:
    for cid in reg.register_manifest(m).added:
        reg.set_status([cid], "approved", "worker")   # one transaction per creative: many small writes
    reg.find(status="approved", limit=5)
reg.close()
print("done")
"""


def test_two_processes_write_at_once(tmp_path):
    db = tmp_path / "shared" / "registry.db"   # does not exist yet: both processes create and migrate it
    go = tmp_path / "go"
    jobs = {}
    for who in ("a", "b"):
        jobs[who] = [str(fake_manifest(tmp_path / f"{who}{i}", f"brief-{who}{i}",
                                       {("app_banner", "s1"): 4, ("sms", "s2"): 4})) for i in range(20)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, str(db), str(go), *jobs[w]], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for w in jobs]
    go.touch()
    outs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and out.strip() == "done", err
        assert "locked" not in err
    with open_registry(db) as reg:
        assert reg.count() == 2 * 20 * 8 == reg.count(status="approved")
        events = Counter(r[0] for r in reg._db.execute("SELECT action FROM events"))
        assert events == {"registered": 320, "status": 320}
        assert reg._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


# ---------------------------------------------------------------------------------------------------- recall


@pytest.mark.parametrize("phrase,channels", [
    ("补栏周转不误农时", {"app_banner"}),      # the headline is "补栏周转 不误农时"
    (" 惠农 e贷 ", {"sms"}),                   # the product name is only in the SMS bodies
    ("年化利率３．２％起", {"app_banner", "sms"}),   # full-width digits: NFKC
    ("养殖户朋友", {"sms"}),
])
def test_find_by_phrase_matches_exactly_the_creatives_that_say_it(bundle, phrase, channels):
    m = manifest_of(bundle)
    expected = {c["id"] for c in m["creatives"] if any(squash(phrase) in squash(t) for t in c["texts"].values())}
    with open_registry() as reg:
        reg.register_manifest(bundle)
        found = {r.id for r in reg.find(phrase=phrase)}
    assert found == expected
    assert expected and {c["channel"] for c in m["creatives"] if c["id"] in expected} == channels


def test_phrase_never_matches_across_two_texts(bundle):
    with open_registry() as reg:
        reg.register_manifest(bundle)
        assert reg.find(phrase="为准") and reg.find(phrase="本产品由")
        assert not reg.find(phrase="为准本产品由")   # end of the disclaimer + start of the provider line


def test_recall_by_phrase_writes_withdrawal_lists(bundle, tmp_path):
    m = manifest_of(bundle)
    by_id = {c["id"]: c for c in m["creatives"]}
    with open_registry() as reg:
        reg.register_manifest(bundle)
        sms_ids = [c["id"] for c in m["creatives"] if c["channel"] == "sms"]
        reg.set_status(sms_ids, "approved", "ok")
        rec = reg.recall(phrase="年化利率 3.2%起", reason="利率调整", out_dir=tmp_path / "w")
        assert sorted(rec.by_channel()) == ["app_banner", "sms"] and len(rec.items) == 4
        assert all(reg.get(i).status == "recalled" for i in by_id)
        ev = reg.history(sms_ids[0])[-1]
        assert ev["action"] == "recalled" and ev["recall_id"] == rec.id and ev["from_status"] == "approved"
    assert sorted(p.name for p in (tmp_path / "w").iterdir()) == ["app_banner.json", "sms.json", "withdrawals.csv"]
    for ch in ("app_banner", "sms"):
        doc = json.loads((tmp_path / "w" / f"{ch}.json").read_text(encoding="utf-8"))
        assert doc["recall_id"] == rec.id and doc["reason"] == "利率调整" and doc["channel"] == ch
        assert {c["id"] for c in doc["creatives"]} == {i for i, c in by_id.items() if c["channel"] == ch}
        for c in doc["creatives"]:
            src = by_id[c["id"]]
            assert c["sha256"] == src["sha256"] and c["segment"] == src["segment"] and c["brief"] == "test-loan"
            assert Path(c["path"]) == bundle.resolve() / src["path"]
            assert c["status_before"] == ("approved" if ch == "sms" else "draft")
    with open(tmp_path / "w" / "withdrawals.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["id"] for r in rows) == sorted(by_id) and {r["recall_id"] for r in rows} == {rec.id}


def test_recall_default_folder_dry_run_and_nothing_matched(bundle):
    with open_registry() as reg:
        reg.register_manifest(bundle)
        dry = reg.recall(phrase="补栏周转不误农时", reason="x", dry_run=True)
        assert len(dry.items) == 2 and not dry.files and reg.count(status="recalled") == 0
        none = reg.recall(phrase="稳赚不赔", reason="x")
        assert not none.items and not none.files
        rec = reg.recall(brief="test-loan", channel="sms", reason="停发短信")
        assert rec.out_dir == Path(os.environ["MKT_HOME"]) / "recalls" / rec.id
        assert sorted(p.name for p in rec.out_dir.iterdir()) == ["sms.json", "withdrawals.csv"]
        assert reg.count(status="recalled") == 2 and reg.count(status="recalled", channel="sms") == 2
        assert reg._db.execute("SELECT count(*) FROM recalls").fetchone()[0] == 1


def test_recall_that_cannot_write_its_lists_changes_nothing(bundle, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    with open_registry() as reg:
        reg.register_manifest(bundle)
        with pytest.raises(BriefError, match="cannot write the withdrawal lists") as e:
            reg.recall(brief="test-loan", reason="x", out_dir=blocker / "sub")
        assert e.value.key == "--out"
        assert reg.count(status="recalled") == 0
        assert reg._db.execute("SELECT count(*) FROM recalls").fetchone()[0] == 0
        assert not [h for h in reg.history(reg.find()[0].id) if h["action"] == "recalled"]
    assert run(["audit", "--sample", "1", "-o", str(blocker / "s.html")]) == 2
    assert "cannot write the review sheet" in capsys.readouterr().err
    with open_registry() as reg:
        assert not reg.audits()


def test_recall_bad_input(bundle):
    with open_registry() as reg:
        reg.register_manifest(bundle)
        with pytest.raises(BriefError) as e:
            reg.recall(phrase="不误农时", reason="  ")
        assert e.value.key == "--reason"
        with pytest.raises(BriefError) as e:
            reg.recall(phrase=" \u3000\u200b", reason="x")
        assert e.value.key == "--phrase"
        with pytest.raises(BriefError, match="c-nope"):
            reg.recall(["c-nope"], reason="x")
        with pytest.raises(BriefError, match="nothing selects"):
            reg.recall(reason="x")
        assert reg.count(status="recalled") == 0


# ---------------------------------------------------------------------------------------------------- status


def test_status_rules(tmp_path):
    m = fake_manifest(tmp_path / "b", "b", {("app_banner", "s"): 2, ("bad", "s"): 1}, failing={"bad"})
    with open_registry() as reg:
        ids = reg.register_manifest(m).added
        good, bad = ids[:2], ids[2]
        with pytest.raises(StatusRefused) as e:          # draft → live skips a step: the whole batch is refused
            reg.set_status(good, "live")
        assert e.value.exit_code == ExitCode.BAD_INPUT
        assert {reg.get(i).status for i in good} == {"draft"}
        with pytest.raises(StatusRefused) as e:
            reg.set_status([*good, bad], "approved")
        assert e.value.exit_code == ExitCode.CHECKS_FAILED and "FIN-BAN" in e.value.message
        assert {reg.get(i).status for i in ids} == {"draft"}
        assert len(reg.set_status(good, "approved", "ok").changed) == 2
        assert sorted(reg.set_status(good, "approved").unchanged) == sorted(good)
        reg.set_status(good[:1], "live")
        reg.recall(good[:1], reason="x")
        with pytest.raises(StatusRefused, match="recalled is final"):
            reg.set_status(good[:1], "approved")
        skipped = reg.set_status(None, "draft", brief="b")
        assert skipped.skipped == good[:1] and reg.get(good[1]).status == "draft"
        with pytest.raises(BriefError, match="reason"):
            reg.set_status([bad], "approved", force=True)
        reg.set_status([bad], "approved", "signed off by legal", force=True)
        ev = reg.history(bad)[-1]
        assert reg.get(bad).status == "approved" and ev["forced"] == 1 and ev["reason"] == "signed off by legal"


# ---------------------------------------------------------------------------------------------------- audit

SIZES = {("app_banner", "养殖户"): 30, ("app_banner", "种植户"): 9, ("sms", "养殖户"): 25, ("sms", "种植户"): 17,
         ("splash", "养殖户"): 11, ("splash", "种植户"): 8}   # 100 creatives, 6 strata


def test_allocate_largest_remainder():
    assert allocate(7, {"a": 30, "b": 9, "c": 25, "d": 17, "e": 11, "f": 8}) == {
        "a": 2, "b": 1, "c": 2, "d": 1, "e": 1, "f": 0}   # quotas 2.1 .63 1.75 1.19 .77 .56 → floors 2 0 1 1 0 0
    even = [allocate(2, {"x": 5, "y": 5, "z": 5}, seed) for seed in range(20)]
    assert all(sorted(e.values()) == [0, 1, 1] for e in even)
    assert len({tuple(sorted(k for k, v in e.items() if v)) for e in even}) > 1   # ties: the seed picks, not names


def test_sample_is_reproducible_and_stratified(tmp_path):
    with open_registry() as reg:
        reg.register_manifest(fake_manifest(tmp_path / "b", "b", SIZES))
        a1 = reg.sample(0.07, seed=11)
        a2 = reg.sample("7%", seed=11)
        a3 = reg.sample(Fraction(7, 100), seed=12)
        assert len(a1.items) == 7 == math.ceil(Fraction(7, 100) * 100)   # not 8 (0.07 * 100 = 7.000000000000001)
        assert a1.ids == a2.ids and a1.id != a2.id and a3.ids != a1.ids
        pop = {r.id: (r.channel, r.segment) for r in reg.find()}
        got = Counter(f"{pop[i][0]}/{pop[i][1]}" for i in a1.ids)
        want = allocate(7, {f"{c}/{s}": n for (c, s), n in SIZES.items()}, 11)
        assert {k: v for k, v in got.items()} == {k: v for k, v in want.items() if v}
        for k, (n_pop, n_s) in a1.strata.items():
            assert n_pop == SIZES[tuple(k.split("/"))] and n_s == want[k]
            exact = Fraction(7 * n_pop, 100)
            assert math.floor(exact) <= n_s <= math.ceil(exact)
        half = reg.sample(0.5, seed=1)   # big enough that every stratum gets a share: every one is covered
        assert len(half.items) == 50 and {it.stratum for it in half.items} == {f"{c}/{s}" for c, s in SIZES}
        assert reg.sample(0.001, seed=1).ids.__len__() == 1   # at least one
        assert len(reg.sample(count=20, seed=1).items) == 20
        # the same contents in another registry give the same draw
    with open_registry(tmp_path / "other.db") as other:
        other.register_manifest(tmp_path / "b")
        assert other.sample(0.07, seed=11).ids == a1.ids


def test_sample_filters_and_leaves_out_recalled(tmp_path):
    with open_registry() as reg:
        ids = reg.register_manifest(fake_manifest(tmp_path / "b", "b", SIZES)).added
        sms = {r.id for r in reg.find(channel="sms")}
        reg.recall(sorted(sms)[:40], reason="x")
        a = reg.sample(1.0, seed=3, channel="sms")
        assert set(a.ids) == sms - set(sorted(sms)[:40]) and a.population == 2
        assert a.filters == {"channel": ["sms"]}
        assert len(reg.sample(1.0, seed=3).items) == len(ids) - 40
        with pytest.raises(BriefError, match="no creatives to sample"):
            reg.sample(0.5, channel="nope")
        for bad in ("0", "0%", "150%", "abc", "-3"):
            with pytest.raises(BriefError):
                reg.sample(bad)


def test_review_sheet_and_decisions(bundle, tmp_path):
    with open_registry() as reg:
        reg.register_manifest(bundle)
        a = reg.sample(1.0, seed=5, sheet=tmp_path)
        assert a.sheet == tmp_path / f"{a.id}.html"
        html = a.sheet.read_text(encoding="utf-8")
        assert html.count("data:image/jpeg;base64,") == 2            # the two posters; the SMS is text
        assert "惠农e贷" in html and "补栏周转 不误农时" in html and '"seed": 7' in html
        assert re.findall(r'<section class="item" data-id="([^"]+)"', html) == a.ids
        assert "decisions-' + AUDIT + '.json" in html and "http" not in html.replace("http-equiv", "")
        # a thumbnail really is an image of at most 480 px
        import base64
        import io

        from PIL import Image

        b64 = re.search(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", html).group(1)
        with Image.open(io.BytesIO(base64.b64decode(b64))) as im:
            assert im.format == "JPEG" and max(im.size) <= 480
        done = reg.record_decisions(a.id, {"audit_id": a.id, "decisions": [
            {"id": a.ids[0], "decision": "pass", "note": ""}, {"id": a.ids[1], "decision": "fail", "note": "字太小"},
            {"id": a.ids[2], "decision": None, "note": ""}]})
        assert done.tally() == {"pass": 1, "fail": 1, "pending": 2}
        assert {i.creative_id: i.note for i in done.items}[a.ids[1]] == "字太小"
        assert reg.history(a.ids[1])[-1]["action"] == "reviewed"
        with pytest.raises(BriefError, match="not in audit"):
            reg.record_decisions(a.id, [{"id": "c-0000", "decision": "pass"}])
        with pytest.raises(BriefError, match="unknown decision"):
            reg.record_decisions(a.id, [{"id": a.ids[0], "decision": "maybe"}])
        with pytest.raises(BriefError, match="not 'a-"):
            reg.record_decisions(a.id, {"audit_id": "a-other", "decisions": []})
        with pytest.raises(BriefError, match="no audit"):
            reg.record_decisions("a-nope", [])


def test_sheet_says_when_a_file_is_missing(tmp_path):
    with open_registry() as reg:
        reg.register_manifest(fake_manifest(tmp_path / "b", "b", {("app_banner", "s"): 1}))
        (tmp_path / "b" / "s" / "app_banner-0.jpg").unlink()   # deleted after it was registered
        a = reg.sample(1.0, seed=1)
        assert "file not found" in a.sheet.read_text(encoding="utf-8")


NODE_HARNESS = r"""
const cfg = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const sections = cfg.items.map(it => {
  const radios = ['pass', 'fail'].map(v => ({value: v, checked: false}));
  const ta = {value: ''};
  return {dataset: {id: it.id}, radios, ta, want: it,
    querySelector(sel) {
      if (sel === 'input[type=radio]:checked') return radios.find(r => r.checked) || null;
      if (sel === 'textarea') return ta;
      return null; },
    querySelectorAll() { return radios; }};
});
let click = null; const listeners = {}; let downloaded = null; const blobs = {};
const el = {'audit-id': {textContent: cfg.audit_json}, 'progress': {textContent: ''},
            'download': {addEventListener(ev, fn) { click = fn; }}};
global.document = {getElementById: id => el[id], querySelectorAll: () => sections,
  addEventListener: (ev, fn) => { listeners[ev] = fn; }, body: {appendChild() {}},
  createElement: () => ({click() { downloaded = {name: this.download, href: this.href}; }, remove() {}})};
global.localStorage = {getItem: () => null, setItem: () => {}};
URL.createObjectURL = b => { const k = 'blob:' + Object.keys(blobs).length; blobs[k] = b; return k; };
eval(cfg.script);
for (const s of sections) {            // the reviewer clicks and types
  s.radios.forEach(r => { r.checked = r.value === s.want.decision; });
  s.ta.value = s.want.note; listeners.change(); listeners.input();
}
click();
blobs[downloaded.href].text().then(t => process.stdout.write(JSON.stringify(
  {name: downloaded.name, body: JSON.parse(t), progress: el.progress.textContent})));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the review sheet's script")
def test_review_sheet_download_is_what_audit_record_reads(bundle, tmp_path, capsys):
    with open_registry() as reg:
        reg.register_manifest(bundle)
        a = reg.sample(1.0, seed=2, sheet=tmp_path / "sheet.html")
    html = a.sheet.read_text(encoding="utf-8")
    script = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)[-1]
    audit_json = re.search(r'<script type="application/json" id="audit-id">(.*?)</script>', html, re.DOTALL).group(1)
    ids = re.findall(r'<section class="item" data-id="([^"]+)"', html)
    want = [{"id": i, "decision": d, "note": n} for i, d, n in zip(ids, ["pass", "fail", None, "pass"],
                                                                      ["", "AI标识太小", "待定", ""])]
    proc = subprocess.run(["node", "-e", NODE_HARNESS], input=json.dumps(
        {"script": script, "audit_json": audit_json, "items": want}), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["name"] == f"decisions-{a.id}.json" and got["progress"] == "3 of 4 decided"
    assert got["body"] == {"audit_id": a.id, "decisions": want}
    path = tmp_path / got["name"]
    path.write_text(json.dumps(got["body"], ensure_ascii=False), encoding="utf-8")
    assert run(["audit", "record", a.id, str(path), "--json"]) == 0
    rec = out_json(capsys)["audit"]
    assert rec["tally"] == {"pass": 2, "fail": 1, "pending": 1}
    assert {i["creative_id"]: i["note"] for i in rec["items"]}[ids[2]] == "待定"


# ---------------------------------------------------------------------------------------------------- migrations


def test_empty_db_at_version_0_is_migrated(tmp_path):
    p = tmp_path / "old.db"
    sqlite3.connect(p).close()
    assert sqlite3.connect(p).execute("PRAGMA user_version").fetchone()[0] == 0
    with open_registry(p) as reg:
        assert reg.schema_version() == len(MIGRATIONS)
        tables = {r[0] for r in reg._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"creatives", "events", "recalls", "audits", "audit_items"} <= tables


def test_new_migration_step_upgrades_an_existing_db_once(tmp_path, monkeypatch):
    p = tmp_path / "r.db"
    m = fake_manifest(tmp_path / "b", "b", {("app_banner", "s"): 2})
    with open_registry(p) as reg:
        reg.register_manifest(m)
    monkeypatch.setattr(registry_mod, "MIGRATIONS", [*MIGRATIONS, (
        "ALTER TABLE creatives ADD COLUMN tag TEXT; UPDATE creatives SET tag = 'migrated'")])
    with open_registry(p) as reg:
        assert reg.schema_version() == len(MIGRATIONS) + 1
        assert [r[0] for r in reg._db.execute("SELECT tag FROM creatives")] == ["migrated", "migrated"]
        reg._db.execute("UPDATE creatives SET tag = 'kept'")
    with open_registry(p) as reg:   # already at the new version: the step does not run again
        assert {r[0] for r in reg._db.execute("SELECT tag FROM creatives")} == {"kept"}
        assert reg.count() == 2


def test_db_from_the_future_is_refused(tmp_path, capsys):
    p = tmp_path / "new.db"
    con = sqlite3.connect(p)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    con.close()
    with pytest.raises(RegistryError) as e:
        open_registry(p)
    assert f"schema version {len(MIGRATIONS) + 5}" in e.value.message and "upgrade mkt" in e.value.hint
    assert run(["ls", "--registry", str(p)]) == 2
    err = capsys.readouterr().err
    assert "schema version" in err and "Traceback" not in err
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(RegistryError, match="cannot use the registry"):
        open_registry(junk)


# ---------------------------------------------------------------------------------------------------- CLI


def test_cli_register_ls_mark_json(bundle, tmp_path, capsys, monkeypatch):
    db = tmp_path / "team.db"
    monkeypatch.setenv("MKT_REGISTRY", str(db))
    assert run(["register", str(bundle), "--json"]) == 0
    res = out_json(capsys)
    assert res["ok"] and res["registry"] == str(db) and len(res["results"][0]["added"]) == 4
    assert run(["ls", "--json", "--channel", "sms"]) == 0
    listed = out_json(capsys)
    assert listed["count"] == 2 and {c["channel"] for c in listed["creatives"]} == {"sms"}
    assert all(c["status"] == "draft" and c["texts"]["body"] for c in listed["creatives"])
    sms_ids = [c["id"] for c in listed["creatives"]]
    assert run(["ls", "--phrase", "补栏周转不误农时", "--json"]) == 0
    assert {c["channel"] for c in out_json(capsys)["creatives"]} == {"app_banner"}
    assert run(["ls", "--since", "2999-01-01", "--json"]) == 0 and out_json(capsys)["count"] == 0
    assert run(["ls", "--since", "1d", "--json"]) == 0 and out_json(capsys)["count"] == 4
    assert run(["ls", "c-unknown"]) == 2 and "c-unknown" in capsys.readouterr().err
    assert run(["ls", sms_ids[0], "--json"]) == 0 and out_json(capsys)["creatives"][0]["id"] == sms_ids[0]
    assert run(["ls", "--limit", "1", "--json"]) == 0
    one = out_json(capsys)
    assert one["count"] == 4 and one["shown"] == 1
    assert run(["mark", "approved", "--brief", "test-loan", "--reason", "ticket 7", "--json"]) == 0
    assert len(out_json(capsys)["changed"]) == 4
    assert run(["mark", "live", *sms_ids]) == 0
    assert "2 marked live" in capsys.readouterr().out
    assert run(["ls", "--status", "live", "--json"]) == 0 and out_json(capsys)["count"] == 2
    assert run(["ls"]) == 0 and "4 creative(s) of test-loan" in capsys.readouterr().out
    # the --registry option wins over MKT_REGISTRY
    assert run(["ls", "--registry", str(tmp_path / "empty.db"), "--json"]) == 0 and out_json(capsys)["count"] == 0


def test_cli_mark_exit_codes(tmp_path, capsys):
    m = fake_manifest(tmp_path / "b", "b", {("app_banner", "s"): 1, ("bad", "s"): 1}, failing={"bad"})
    with open_registry() as reg:
        good, bad = reg.register_manifest(m).added
    assert run(["mark", "approved", bad]) == 1            # a failed error-level check: the checks' exit code
    assert "FIN-BAN" in capsys.readouterr().err
    assert run(["mark", "live", good, "--json"]) == 2     # draft → live skips approval
    assert out_json(capsys)["exit_code"] == 2
    assert run(["mark", "approved", "c-unknown"]) == 2
    assert "c-unknown" in capsys.readouterr().err
    assert run(["mark", "recalled", good]) == 2
    assert "mkt recall" in capsys.readouterr().err
    assert run(["mark", "approved", bad, "--override-checks", "--reason", "legal ok"]) == 0


def test_cli_recall(bundle, tmp_path, capsys):
    assert run(["register", str(bundle)]) == 0
    capsys.readouterr()
    assert run(["recall", "--phrase", "补栏周转不误农时", "--reason", "x", "--dry-run", "--json"]) == 0
    dry = out_json(capsys)["recall"]
    assert dry["dry_run"] and dry["count"] == 2 and not dry["files"]
    assert run(["recall", "--phrase", "不存在的说法", "--reason", "x", "--json"]) == 1
    none = out_json(capsys)
    assert not none["ok"] and none["exit_code"] == 1 and none["recall"]["count"] == 0
    assert run(["recall", "--phrase", "不存在的说法", "--reason", "x"]) == 1
    assert "nothing to recall" in capsys.readouterr().out
    assert run(["recall", "--phrase", "不误农时"]) == 2
    assert "--reason" in capsys.readouterr().err
    assert run(["recall", "--phrase", " ", "--reason", "x"]) == 2
    out = tmp_path / "withdraw"
    assert run(["recall", "--phrase", "惠农e贷", "--reason", "停用", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "recalled 2 creative(s)" in text and "sms" in text and "withdrawals.csv" in text
    assert sorted(p.name for p in out.iterdir()) == ["sms.json", "withdrawals.csv"]
    assert run(["ls", "--status", "recalled", "--json"]) == 0
    assert {c["channel"] for c in out_json(capsys)["creatives"]} == {"sms"}


def test_cli_audit(tmp_path, capsys):
    with open_registry() as reg:
        reg.register_manifest(fake_manifest(tmp_path / "b", "b", SIZES))
    assert run(["audit", "--sample", "5%", "--seed", "9", "--json", "-o", str(tmp_path / "s.html")]) == 0
    a = out_json(capsys)["audit"]
    assert a["size"] == 5 and a["seed"] == 9 and Path(a["sheet"]) == tmp_path / "s.html"
    assert sum(s["sampled"] for s in a["strata"].values()) == 5
    assert run(["audit", "--sample", "0.05", "--seed", "9", "--json"]) == 0
    b = out_json(capsys)["audit"]
    assert [i["creative_id"] for i in b["items"]] == [i["creative_id"] for i in a["items"]]
    assert run(["audit", "--sample", "20", "--channel", "sms", "--json"]) == 0
    c = out_json(capsys)["audit"]
    assert c["size"] == 20 and all(i["stratum"].startswith("sms/") for i in c["items"])
    first = a["items"][0]["creative_id"]
    assert run(["audit", "record", a["id"], "--id", first, "--decision", "fail", "--note", "利率字号"]) == 0
    assert "1 fail" in capsys.readouterr().out
    assert run(["audit", "--json"]) == 0
    listed = {x["id"]: x for x in out_json(capsys)["audits"]}
    assert listed[a["id"]]["tally"]["fail"] == 1 and len(listed) == 3
    assert run(["audit", "--sample", "5%", "--seed", "9"]) == 0
    shown = capsys.readouterr().out
    assert "review sheet" in shown and "mkt audit record" in shown
    for bad in (["audit", "--sample", "abc"], ["audit", "--sample", "0"], ["audit", "record", "a-nope", "--id", "x",
                                                                            "--decision", "pass"],
                ["audit", "record", a["id"]], ["audit", "record", a["id"], "--id", first, "--decision", "meh"]):
        assert run(bad) == 2, bad
        assert "Traceback" not in capsys.readouterr().err


def test_registry_commands_have_help_and_keep_help_light():
    import typer.main

    from mktcli.cli.app import app

    group = typer.main.get_command(app)
    for name in ("register", "ls", "mark", "recall", "audit"):
        cmd = group.commands[name]
        assert (cmd.help or "").strip()
        subs = [cmd, *getattr(cmd, "commands", {}).values()]
        for c in subs:
            assert (c.help or "").strip(), c.name
            for p in c.params:
                if p.name != "help":
                    assert (getattr(p, "help", None) or "").strip(), f"{name} {c.name} {p.name}"
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mktcli.cli.registry"],
                          capture_output=True, text=True, timeout=60, check=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "sqlite3" not in imported and "mktcli.registry.store" not in imported and "PIL" not in imported
