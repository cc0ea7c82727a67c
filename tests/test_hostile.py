"""What does a hostile file or option do? Each case runs `mkt` as a subprocess under a memory limit
(RLIMIT_AS) and a timeout, the way a reviewer would: it must end with its documented exit code (2 for bad input),
one screen on stderr, no traceback, and nothing written into OUT. The cases are those of issue 18's adversarial
review (alias bombs, /dev/zero, FIFOs, NUL bytes, deep nesting, 20000² pictures, truncated JPEGs, 216,000
segments, 5,000-digit numbers, hostile options, click logs) and more of the same kinds; docs/reliability.md lists
them with their results."""
from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from .conftest import EXAMPLES, GOOD, ROOT

MEMORY = 3 << 30       # address space of one case: a runaway alias expansion or read of /dev/zero hits it
TIMEOUT = 90           # seconds of one case (a FIFO that blocks would hang for ever)
SCREEN = 40            # lines on stderr: one screen


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def mkt(args: list[str], home: Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "MKT_DEBUG"}
    e |= {"MKT_HOME": str(home), "PYTHONPATH": str(ROOT), "COLUMNS": "100", **(env or {})}
    try:
        return subprocess.run([sys.executable, "-m", "mktcli", *args], cwd=cwd, env=e, capture_output=True,
                              text=True, timeout=TIMEOUT, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mkt {' '.join(args)[:200]} ran past {TIMEOUT} s")


def assert_clean_error(p: subprocess.CompletedProcess, code: int = 2, *words: str) -> None:
    err = p.stderr
    assert p.returncode == code, (p.returncode, err[-2000:])
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    assert len(err.splitlines()) <= SCREEN and len(err) <= 6000, err[:3000]
    for w in words:
        assert w in err, (w, err)


@pytest.fixture
def box(tmp_path):
    """(folder for the hostile files, MKT_HOME, OUT) — OUT must stay absent after a refused run."""
    work = tmp_path / "w"
    work.mkdir()
    return work, tmp_path / "home", tmp_path / "out"


def _brief(work: Path, text: str | bytes, name: str = "brief.yaml") -> Path:
    p = work / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


def _fifo(work: Path, name: str) -> Path:
    p = work / name
    os.mkfifo(p)
    return p


BOMB = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"] + [f"{n}: &{n} [" + ", ".join([f"*{p}"] * 9) + "]"
                                                          for p, n in zip("abcdefgh", "bcdefghi")]) + "\n"

# (case id, brief text or bytes, words the message must hold)
BAD_BRIEFS = [
    ("alias-bomb", BOMB, ["aliases are expanded"]),
    ("recursive-alias", "a: &a [*a]\n", ["refers to the value that contains it"]),
    ("recursive-alias-in-brief", GOOD.replace("channels: [app_banner, moments_16x9]",
                                              "channels: &c [app_banner, *c]"), ["refers to the value"]),
    ("nesting-1000", "a: " + "[" * 1000 + "]" * 1000 + "\n", ["nested more than"]),
    ("nesting-100000", "a: " + "[" * 100000 + "]" * 100000 + "\n", ["nested more than"]),
    ("mapping-nesting", "".join("  " * i + f"k{i}:\n" for i in range(500)) + "  " * 500 + "v: 1\n",
     ["nested more than"]),
    ("nul-in-comment", GOOD.replace("version: 1", "version: 1  # \x00"), ["NUL", ":1"]),
    ("bel", GOOD.replace("补栏周转", "补栏\x07周转"), ["BEL"]),
    ("esc", GOOD.replace("补栏周转", "\x1b[31m补栏周转"), ["ESC"]),
    ("ufffe", GOOD.replace("补栏周转", "补栏\ufffe周转"), ["U+FFFE"]),
    ("not-utf8", GOOD.encode("gbk"), ["not UTF-8"]),
    ("too-big", GOOD + "#" + "x" * (2 << 20) + "\n", ["byte limit", "files.brief"]),
    ("216000-segments", GOOD.replace("  segments: [养殖户, 种植户]\n", "  dimensions:\n" + "".join(
        f"    d{d}: [" + ", ".join(f"v{d}x{i}" for i in range(60)) + "]\n" for d in range(3))), ["216,000 segments"]),
    ("duplicate-dimension-value", GOOD.replace("  segments: [养殖户, 种植户]\n",
                                               "  dimensions:\n    occupation: [养殖户, 养殖户]\n"), ["twice"]),
    ("apr-5000-digits", GOOD.replace('apr: "3.2%"', 'apr: "' + "9" * 5000 + '%"'), ["yaml.max_scalar_chars"]),
    ("apr-3000-digits", GOOD.replace('apr: "3.2%"', 'apr: "0.' + "0" * 3000 + '1%"'), ["brief.max_figure_chars"]),
    ("seed-5000-digits", GOOD.replace("seed: 7", "seed: " + "9" * 5000), ["characters"]),
    ("seed-2^32", GOOD.replace("seed: 7", "seed: 4294967296"), ["visual.seed"]),
    ("seed-negative", GOOD.replace("seed: 7", "seed: -1"), ["visual.seed"]),
    ("seed-float-inf", GOOD.replace("seed: 7", "seed: 1e999999"), ["visual.seed"]),
    ("send-window-24:30", GOOD + 'placement:\n  send_window: "24:30-24:59"\n', ["send_window", "00-23"]),
    ("send-window-25", GOOD + 'placement:\n  send_window: "08:00-25:00"\n', ["send_window"]),
    ("date-13th-month", GOOD + "placement:\n  start: 2026-13-01\n", ["placement.start"]),
    ("name-100k", GOOD.replace("name: test-loan", "name: " + "x" * 100000), ["yaml.max_scalar_chars"]),
    ("name-3000", GOOD.replace("name: test-loan", "name: " + "x" * 3000), ["3,000 characters"]),
    ("name-traversal", GOOD.replace("name: test-loan", "name: ../../etc"), ["not a safe file name"]),
    ("markup-and-emoji", GOOD.replace("name: test-loan", "name: '[bold]:x:[/bold]'"), ["[bold]:x:[/bold]"]),
    ("10000-unknown-keys", GOOD + "".join(f"k{i}: {i}\n" for i in range(10000)), ["and 9988 more"]),
    ("a-list", "[1, 2, 3]\n", ["a brief is a mapping"]),
    ("empty", "", ["a brief is a mapping"]),
    ("tabs", GOOD.replace("  name: 惠农e贷", "\tname: 惠农e贷"), ["tabs"]),
    ("mapping-bomb", "m0: &m0 {x: 1}\n" + "".join(f"m{i}: &m{i} {{x: *m{i - 1}, y: *m{i - 1}}}\n"
                                                  for i in range(1, 40)), ["aliases are expanded"]),
    ("channels-60x", GOOD.replace("[app_banner, moments_16x9]", "[" + ", ".join(["sms"] * 100) + "]"),
     ["brief.max_channels"]),
]


@pytest.mark.parametrize("case,text,words", BAD_BRIEFS, ids=[c[0] for c in BAD_BRIEFS])
def test_hostile_brief(box, case, text, words):
    work, home, out = box
    p = _brief(work, text)
    t0 = time.monotonic()
    r = mkt(["poster", str(p), "-o", str(out)], home, work)
    assert_clean_error(r, 2, *words)
    assert not out.exists()   # nothing written
    assert time.monotonic() - t0 < 30
    if case in ("alias-bomb", "nul-in-comment", "nesting-1000"):   # mkt check says the same
        assert_clean_error(mkt(["check", str(p)], home, work), 2, *words)


def _png(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (w, h), 0).save(buf, "PNG", compress_level=9)
    return buf.getvalue()


def _jpeg(w: int = 800, h: int = 600) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((w, h), 40).convert("RGB").save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _with(key: str, value: str) -> str:
    if key == "image":
        return GOOD.replace("visual:\n", f"visual:\n  engine: image\n  image: {value}\n")
    if key == "knowledge":
        return GOOD.replace("visual:\n", f"copy:\n  knowledge: {value}\nvisual:\n")
    return GOOD.replace("brand: default\n", "") .replace("name: test-loan\n", f"name: test-loan\nbrand: {value}\n")


FILES = [   # (case, key in the brief, how the named path is made, words)
    ("image-dev-zero", "image", lambda w: "/dev/zero", ["visual.image", "a device"]),
    ("image-fifo", "image", lambda w: str(_fifo(w, "hero.jpg")), ["visual.image", "FIFO"]),
    ("image-folder", "image", lambda w: str(w), ["visual.image", "a folder"]),
    ("image-20000x20000", "image", lambda w: _write(w, "huge.png", _png(20000, 20000)), ["visual.image", "pixels"]),
    ("image-30000x10", "image", lambda w: _write(w, "wide.png", _png(30000, 10)), ["visual.image", "longer side"]),
    ("image-truncated-jpeg", "image", lambda w: _write(w, "cut.jpg", _jpeg()[:20000]), ["truncated or damaged"]),
    ("image-not-an-image", "image", lambda w: _write(w, "x.jpg", b"GIF89a not really"), ["not a readable image"]),
    ("knowledge-dev-zero", "knowledge", lambda w: "/dev/zero", ["copy.knowledge", "a device"]),
    ("knowledge-fifo", "knowledge", lambda w: str(_fifo(w, "k.yaml")), ["copy.knowledge", "FIFO"]),
    ("knowledge-etc-passwd", "knowledge", lambda w: "/etc/passwd", ["/etc/passwd"]),
    ("brand-fifo", "brand", lambda w: str(_fifo(w, "b.yaml")), ["FIFO"]),
    ("brand-logo-dev-zero", "brand", lambda w: _write(w, "brand.yaml", b"logo: /dev/zero\n"), ["logo", "a device"]),
    ("brand-logo-truncated", "brand", lambda w: _write(w, "brand.yaml", b"logo: cut.jpg\n", extra=("cut.jpg", _jpeg()[:9000])),
     ["logo", "truncated"]),
]


def _write(work: Path, name: str, data: bytes, extra: tuple[str, bytes] | None = None) -> str:
    (work / name).write_bytes(data)
    if extra:
        (work / extra[0]).write_bytes(extra[1])
    return str(work / name)


@pytest.mark.parametrize("case,key,make,words", FILES, ids=[c[0] for c in FILES])
def test_hostile_file_named_by_a_brief(box, case, key, make, words):
    work, home, out = box
    p = _brief(work, _with(key, make(work)))
    r = mkt(["poster", str(p), "-o", str(out)], home, work)
    assert_clean_error(r, 2, *words)
    assert "root:" not in r.stderr   # a file's content is never echoed
    assert not out.exists()


OPTIONS = [   # (case, arguments after the command, words); {brief} {work} {out} are filled in
    ("seed-negative", ["poster", "{brief}", "-o", "{out}", "--seed", "-1"], ["--seed"]),
    ("seed-10^20", ["poster", "{brief}", "-o", "{out}", "--seed", "100000000000000000000"], ["--seed"]),
    ("jobs-zero", ["poster", "{brief}", "-o", "{out}", "--jobs", "0"], ["--jobs"]),
    ("jobs-billion", ["batch", "{brief}", "-o", "{out}", "--jobs", "1000000000"], ["--jobs"]),
    ("out-proc", ["poster", "{brief}", "-o", "/proc/mkt-x"], ["/proc/mkt-x"]),
    ("out-is-a-file", ["poster", "{brief}", "-o", "{brief}"], ["is a file"]),
    ("channels-dev-zero", ["poster", "{brief}", "-o", "{out}", "--channels", "/dev/zero"], ["a device"]),
    ("rules-fifo", ["poster", "{brief}", "-o", "{out}", "--rules", "{fifo}"], ["rules"]),
    ("check-dev-zero", ["check", "/dev/zero"], ["a device"]),
    ("check-fifo", ["check", "{fifo}"], ["FIFO"]),
    ("check-huge-png", ["check", "{huge}", "--no-ocr"], ["pixels"]),
    ("check-truncated-jpeg", ["check", "{cut}", "--no-ocr"], ["truncated"]),
    ("check-folder-not-a-bundle", ["check", "{work}"], ["incomplete bundle"]),
    ("learn-ingest-dev-zero", ["learn", "ingest", "/dev/zero"], ["a device"]),
    ("learn-ingest-fifo", ["learn", "ingest", "{fifo_csv}"], ["FIFO"]),
    ("preview-nothing", ["preview", "{work}", "--port", "0"], ["no bundles"]),
    ("export-fifo-manifest", ["export", "{fake_bundle}", "--zip"], ["FIFO"]),
    ("init-over-a-fifo", ["init", "{fifo}", "--force"], ["not a regular file"]),   # never os.replace a device
    ("plan-out-fifo", ["learn", "plan", "--slot", "app_banner", "-o", "{fifo}"], []),
    ("ls-since-year-1", ["ls", "--since", "0001-01-01"], ["--since"]),
    ("audit-record-dev-zero", ["audit", "record", "A-x", "/dev/zero"], ["a device"]),
]


@pytest.mark.parametrize("case,args,words", OPTIONS, ids=[c[0] for c in OPTIONS])
def test_hostile_option(box, case, args, words):
    work, home, out = box
    brief = _brief(work, GOOD)
    fake = work / "bundle"
    fake.mkdir()
    os.mkfifo(fake / "manifest.json")
    fill = {"{brief}": str(brief), "{work}": str(work / "empty"), "{out}": str(out),
            "{huge}": _write(work, "huge.png", _png(20000, 20000)), "{cut}": _write(work, "cut.jpg", _jpeg()[:20000]),
            "{fifo}": str(_fifo(work, "f.yaml")), "{fifo_csv}": str(_fifo(work, "f.csv")), "{fake_bundle}": str(fake)}
    (work / "empty").mkdir()
    r = mkt([fill.get(a, a) for a in args], home, work)
    assert_clean_error(r, 2, *words)
    assert not out.exists()


def test_click_logs_with_hostile_rows_are_bad_rows_not_crashes(box):
    work, home, _ = box
    head = "creative_id,segment,channel,day,impressions,clicks\n"
    rows = ["c-1,养殖户,app_banner,2026-12-01,1" + "0" * 30 + ",1",   # 10^30 impressions
            "c-1,养殖户,app_banner,0001-01-01,10,1",                  # day 1
            "c-1,养殖户,app_banner,9999-12-31,10,1",
            "c-1,养\x00殖户,app_banner,2026-12-02,10,1",              # a NUL in a name
            "c-1,养殖户,app_banner,2026-12-03,10," + "9" * 5000,     # a 5,000-digit count
            "c-2," + "x" * 100000 + ",app_banner,2026-12-01,10,1",   # a 100 KB line
            "c-3,养殖户,app_banner,2026-12-04,100,3"]                 # the good one
    log = _write(work, "clicks.csv", (head + "\n".join(rows) + "\n").encode())
    r = mkt(["learn", "ingest", log, "--json"], home, work)
    assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr[-2000:]
    f = json.loads(r.stdout)["files"][0]
    assert f["added"] == 1 and [b["line"] for b in f["bad"]] == [2, 3, 4, 5, 6, 7]
    nested = '{"creative_id": ' + "[" * 50000 + "]" * 50000 + "}\n"
    deep = "{" + '"a":{' * 2000 + "}" * 2001 + "\n"
    js = _write(work, "clicks.jsonl", (nested + deep + json.dumps(
        {"creative_id": "c-9", "segment": "s", "channel": "app_banner", "day": "2026-12-05", "impressions": 1e400,
         "clicks": 1}).replace("Infinity", "1e400") + "\n").encode())
    r = mkt(["learn", "ingest", js, "--json"], home, work)
    assert r.returncode == 3 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert [b["line"] for b in json.loads(r.stdout)["files"][0]["bad"]] == [1, 2, 3]
    r = mkt(["learn", "report", "-o", str(work / "rep")], home, work)   # the day-1 rows never got in: no crash
    assert r.returncode in (0, 2) and "Traceback" not in r.stderr and "internal error" not in r.stderr


def test_a_bad_brief_never_stops_a_batch(box):
    """A NUL byte, a recursive alias, an alias bomb, a 20000² picture, /dev/zero as knowledge, a FIFO named *.yaml:
    each is its own bad_brief event; the good brief renders; exit 3."""
    work, home, out = box
    briefs = work / "briefs"
    briefs.mkdir()
    small = GOOD.replace("[app_banner, moments_16x9]", "[dsp_300x250]").replace("segments: [养殖户, 种植户]",
                                                                                 "segments: [养殖户]")
    _brief(briefs, small, "good.yaml")
    _brief(briefs, small.replace("name: test-loan", "name: nul  # \x00"), "nul.yaml")
    _brief(briefs, "a: &a [*a]\n", "loop.yaml")
    _brief(briefs, BOMB, "bomb.yaml")
    (briefs / "huge.png").write_bytes(_png(20000, 20000))
    _brief(briefs, small.replace("name: test-loan", "name: huge").replace("visual:\n", "visual:\n  image: huge.png\n"),
           "huge.yaml")
    _brief(briefs, small.replace("name: test-loan", "name: zero").replace("visual:\n", "copy:\n  knowledge: /dev/zero\n"
                                                                                        "visual:\n"), "zero.yaml")
    os.mkfifo(briefs / "fifo.yaml")   # listed, refused by its type: never waited on
    r = mkt(["batch", str(briefs), "-o", str(out), "--json", "--no-register", "-j", "1"], home, work)
    assert r.returncode == 3, r.stderr[-2000:]
    events = [json.loads(line) for line in r.stdout.splitlines()]
    bad = {Path(e["brief"]).name: e for e in events if e["event"] == "bad_brief"}
    assert set(bad) == {"nul.yaml", "loop.yaml", "bomb.yaml", "huge.yaml", "zero.yaml", "fifo.yaml"}
    assert all(e["exit_code"] == 2 and e["errors"][0].get("file") for e in bad.values())
    assert [e["status"] for e in events if e["event"] == "bundle"] == ["written"]
    assert (out / "test-loan" / "manifest.json").is_file()


def test_a_crash_inside_one_brief_is_that_briefs_error(tmp_path, monkeypatch, capsys):
    """Whatever the exception (here a bug planted in planning one brief, and in rendering one creative), it is that
    item's error event, the rest renders, exit 3."""
    import mktcli.batch as batch
    from mktcli.cli.app import run

    briefs = tmp_path / "briefs"
    briefs.mkdir()
    small = GOOD.replace("[app_banner, moments_16x9]", "[dsp_300x250, sms]").replace("segments: [养殖户, 种植户]",
                                                                                      "segments: [养殖户]")
    for name in ("a", "b", "c"):
        (briefs / f"{name}.yaml").write_text(small.replace("name: test-loan", f"name: {name}"), encoding="utf-8")
    real_plan = batch.plan_brief

    def plan(path, opts):
        if path.name == "b.yaml":
            raise RecursionError("planted")
        return real_plan(path, opts)

    import mktcli.poster as poster

    real = poster.render_poster

    def render(renderer, job, bundle_dir, layered=True):
        if renderer.brief.name == "c":
            raise ZeroDivisionError("planted")
        return real(renderer, job, bundle_dir, layered)

    monkeypatch.setattr(batch, "plan_brief", plan)
    monkeypatch.setattr(poster, "render_poster", render)
    code = run(["batch", str(briefs), "-o", str(tmp_path / "out"), "--json", "--no-register", "-j", "1"])
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 3
    (bad,) = [e for e in events if e["event"] == "bad_brief"]
    assert bad["brief"].endswith("b.yaml") and bad["exit_code"] == 70 and "RecursionError" in bad["errors"][0]["error"]
    failed = [e for e in events if e["event"] == "creative" and e["status"] == "failed"]
    assert [(e["brief"], e["channel"]) for e in failed] == [("c", "dsp_300x250")]
    assert "ZeroDivisionError" in failed[0]["error"]
    assert {e["brief"] for e in events if e["event"] == "bundle" and e["status"] == "written"} == {"a", "c"}


# ---------------------------------------------------------------------------------------------- one OUT, one writer


def _small_brief(work: Path) -> Path:
    return _brief(work, GOOD.replace("[app_banner, moments_16x9]", "[dsp_300x250, moments_16x9, sms]"))


@pytest.mark.parametrize("runs", [2, 4])
def test_concurrent_runs_into_one_out_never_mix(box, runs):
    """N runs of one brief with different seeds into one OUT at once: each ends 0 (it waited its turn) or 2 (it
    waited too long, and says who holds the folder); the bundle left is whole: every file is the manifest's."""
    from mktcli.export.bundle import verify_bundle

    work, home, out = box
    brief = _small_brief(work)
    e = {**os.environ, "MKT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "mktcli", "poster", str(brief), "-o", str(out), "--seed",
                               str(s), "--no-register"], env=e, cwd=work, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, preexec_fn=_limit_memory) for s in range(1, runs + 1)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    for code, err in results:
        assert code in (0, 2) and "Traceback" not in err, err[-2000:]
        if code == 2:
            assert "is being written by pid" in err and str(out) in err
    assert any(code == 0 for code, _ in results)
    bundle_dir, manifest = verify_bundle(out / "test-loan")   # every listed file has its sha256: nothing mixed
    seeds = {c["engines"]["visual"]["seed"] for c in manifest["creatives"] if "visual" in c["engines"]}
    assert len(seeds) == 1 and seeds <= set(range(1, runs + 1))
    assert not list(bundle_dir.rglob(".*.tmp"))


def test_a_second_run_waits_then_names_the_holder(box):
    from mktcli.export.lock import hold_bundle, release_bundle

    work, home, out = box
    brief = _small_brief(work)
    home.mkdir()
    (home / "limits.yaml").write_text("bundle:\n  lock_wait_seconds: 1\n", encoding="utf-8")
    bundle = out / "test-loan"
    bundle.mkdir(parents=True)
    (bundle / "keep.txt").write_text("mine", encoding="utf-8")
    hold_bundle(out, bundle)   # this process writes the bundle
    try:
        t0 = time.monotonic()
        r = mkt(["poster", str(brief), "-o", str(out), "--no-register"], home, work)
        assert_clean_error(r, 2, f"pid {os.getpid()}", str(bundle))
        assert 1 <= time.monotonic() - t0 < 60 and (bundle / "keep.txt").is_file()
        assert not (bundle / "manifest.json").exists() and not (bundle / "sms").exists()
    finally:
        release_bundle(bundle)
    r = mkt(["poster", str(brief), "-o", str(out), "--no-register"], home, work)   # free now: it runs
    assert r.returncode == 0, r.stderr[-2000:]


def test_start_leaves_a_live_runs_temp_files(tmp_path):
    from mktcli.export.files import remove_stale_temp_files

    (tmp_path / "s").mkdir()
    live = tmp_path / "s" / f".a.jpg.{os.getpid()}.abc123.tmp"
    dead = tmp_path / "s" / ".b.jpg.999999999.abc123.tmp"
    old = tmp_path / ".c.jpg.xyz.tmp"   # written before temp files carried a pid
    for p in (live, dead, old):
        p.write_bytes(b"x")
    assert remove_stale_temp_files(tmp_path) == 2 and live.exists() and not dead.exists() and not old.exists()


def test_register_refuses_a_bundle_whose_files_disagree(tmp_path, capsys):
    from mktcli.cli.app import run

    brief = _small_brief(tmp_path)
    assert run(["poster", str(brief), "-o", str(tmp_path / "out"), "--no-register"]) == 0
    bundle = tmp_path / "out" / "test-loan"
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    img = next(c for c in manifest["creatives"] if c["format"] != "text")
    (bundle / img["path"]).write_bytes(_jpeg(300, 250))   # another run's picture, same name
    capsys.readouterr()
    assert run(["register", str(bundle)]) == 2
    assert "do not match" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------- nothing unescaped


XSS = {"headline": "<script>alert(1)</script>", "name": "<iframe src=javascript:alert(1)>",
       "perk": "[x](javascript:a())", "perk2": "<img src onerror=a>"}


def test_no_live_html_in_any_text_output(tmp_path):
    from mktcli.poster import make_posters

    brief = _brief(tmp_path, GOOD.replace("headline: 补栏周转 不误农时", f'headline: "{XSS["headline"]}"')
                   .replace("name: 惠农e贷", f'name: "{XSS["name"]}"')
                   .replace("perks: [首期利息8折, 最高可借30万]", f'perks: ["{XSS["perk"]}", "{XSS["perk2"]}"]')
                   .replace("segments: [养殖户, 种植户]", "segments: [养殖户]")
                   .replace("[app_banner, moments_16x9]", "[dsp_300x250, sms, push, call_script]"))
    res = make_posters(brief, tmp_path / "out", register=False)
    texts = {p.name: p.read_text(encoding="utf-8") for p in res.out_dir.rglob("*")
             if p.suffix in (".md", ".html", ".svg", ".txt", ".json") and p.is_file()}
    for name in ("approval.md", "call_script.md"):
        t = texts[name]
        assert not re.search(r"<\s*[a-zA-Z!/]", t), name   # no raw tag of any kind, not even in a code block
        assert "](javascript" not in t, name                 # no link
    assert "&lt;iframe src=javascript:alert(1)&gt;" in texts["call_script.md"]   # shown as text, not dropped
    for name in ("approval.html", "dsp_300x250.svg"):
        t = texts[name]
        assert not re.search(r"<(script|iframe)|<img[^>]*onerror|href=\"\s*javascript:", t, re.I), name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in texts["approval.html"]
    assert "<iframe" in texts["sms.txt"]   # a plain-text file keeps the words as written


def test_withdrawals_csv_neutralises_formulas(tmp_path):
    import csv

    from mktcli.cli.app import run

    brief = _small_brief(tmp_path)
    assert run(["poster", str(brief), "-o", str(tmp_path / "out")]) == 0
    reason = '=HYPERLINK("http://evil.example","x")'
    assert run(["recall", "--brief", "test-loan", "--reason", reason, "-o", str(tmp_path / "rec")]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "rec" / "withdrawals.csv").read_text(encoding="utf-8-sig"))))
    assert all(row[2] == "'" + reason for row in rows[1:])
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)


def test_error_messages_quote_at_most_80_characters(box):
    work, home, out = box
    value = "头" * 100000
    r = mkt(["poster", str(_brief(work, GOOD.replace("provider: 示例农村商业银行股份有限公司",
                                                        f"provider: {value[:3900]}"))), "-o", str(out)], home, work)
    assert_clean_error(r, 2)
    assert max(len(line) for line in r.stderr.splitlines()) < 400 and "头" * 81 not in r.stderr
    r = mkt(["poster", str(_brief(work, GOOD.replace("channels: [app_banner, moments_16x9]",
                                                      f"channels: [{'z' * 3000}]"))), "-o", str(out)], home, work)
    assert_clean_error(r, 2, "unknown channel") and "z" * 81 not in r.stderr


def test_debug_adds_the_traceback_and_keeps_the_code(box):
    work, home, out = box
    p = _brief(work, "a: &a [*a]\n")
    r = mkt(["check", str(p)], home, work, env={"MKT_DEBUG": "1"})
    assert r.returncode == 2 and "Traceback" in r.stderr and "refers to the value" in r.stderr


def test_memory_limit_is_real():
    """The harness's limit bites: a process that tries to hold 4 GB under it fails instead of growing."""
    r = subprocess.run([sys.executable, "-c", "b = bytearray(4 << 30)"], capture_output=True, timeout=60,
                       preexec_fn=_limit_memory)
    assert r.returncode != 0 and b"MemoryError" in r.stderr




def test_threads_of_one_process_exclude_each_other(tmp_path):
    """The lock is per thread: a second thread waits like another process would, and a thread's own leftover hold
    (a run that raised before writing its bundle) is taken over, not waited on."""
    import threading

    from mktcli.export.lock import BundleBusy, hold_bundle, release_bundle

    (Path(os.environ["MKT_HOME"]) / "limits.yaml").write_text("bundle:\n  lock_wait_seconds: 0.3\n",
                                                              encoding="utf-8")
    out, bundle = tmp_path / "out", tmp_path / "out" / "b"
    bundle.mkdir(parents=True)
    hold_bundle(out, bundle)
    hold_bundle(out, bundle)   # this thread again: its own hold, taken over
    seen: list = []

    def other():
        try:
            hold_bundle(out, bundle)
            seen.append("got it")
            release_bundle(bundle)
        except BundleBusy as e:
            seen.append(e.message)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert len(seen) == 1 and f"pid {os.getpid()}" in seen[0]
    release_bundle(bundle)
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen[-1] == "got it"
