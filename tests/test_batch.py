"""mkt batch: many briefs, bad ones reported, cache, resume after a kill, same bundles as mkt poster, sharding with
accelerate (2 CPU processes over gloo)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.batch import make_briefs
from mktcli.cli.app import run
from tests.conftest import GOOD, ctrl_c_reaches_child

EPOCH = {"SOURCE_DATE_EPOCH": "1764000000"}   # manifests carry a creation time; fixed, bundles compare byte for byte


def _events(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _batch(args: list[str], capsys) -> tuple[int, list[dict]]:
    capsys.readouterr()
    code = run(["batch", *args, "--json"])
    return code, _events(capsys.readouterr().out)


def _summary(events):
    return next(e for e in events if e["event"] == "summary")


def _tree(folder: Path, skip_state: bool = True) -> dict[str, str]:
    """Every file of OUT (relative path → sha256), without the batch's own state."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and not (skip_state and ".mkt-batch" in p.parts)}


def _mkt(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mktcli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, **kw)


@pytest.fixture
def briefs(tmp_path):
    return make_briefs(tmp_path / "briefs", 8, broken=2, seed=3)


def test_bad_briefs_are_reported_and_the_rest_complete_then_nothing_is_rendered_again(briefs, tmp_path, capsys):
    out = tmp_path / "out"
    code, ev = _batch([str(briefs[0].parent), "-o", str(out), "--jobs", "2", "--no-register"], capsys)
    assert code == 3
    bad = [e for e in ev if e["event"] == "bad_brief"]
    assert len(bad) == 2
    for e in bad:   # each names its file, and the line and key where they apply
        assert Path(e["brief"]).name.startswith("brief-") and e["errors"][0]["file"] == e["brief"]
        assert e["errors"][0]["line"]
    s = _summary(ev)
    assert s["bad_briefs"] == 2 and s["failed"] == 0 and s["rendered"] == s["creatives"] > 0
    bundles = [e for e in ev if e["event"] == "bundle"]
    assert len(bundles) == 6 and all(b["status"] == "written" for b in bundles)
    from mktcli.export.bundle import verify_bundle

    for b in bundles:   # every good brief's bundle is complete and consistent
        man = json.loads(Path(b["manifest"]).read_text())
        assert len(man["creatives"]) == b["creatives"]
        verify_bundle(Path(b["manifest"]).parent)   # raises on a missing, changed or unlisted file
    before = _tree(out)
    code, ev = _batch([str(briefs[0].parent), "-o", str(out), "--no-register"], capsys)
    s = _summary(ev)
    assert code == 3 and s["rendered"] == 0 and s["cached"] == s["creatives"] and s["bundles_unchanged"] == 6
    assert _tree(out) == before   # not a byte changed, manifests included


def test_a_batch_bundle_is_the_bundle_mkt_poster_writes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH["SOURCE_DATE_EPOCH"])
    monkeypatch.chdir(tmp_path)   # relative paths, as an operator types them: recorded as given by both
    (tmp_path / "briefs").mkdir()
    brief = tmp_path / "briefs" / "b.yaml"
    brief.write_text(GOOD.replace("channels: [app_banner, moments_16x9]", "channels: [app_banner, dsp_300x250, sms]"),
                     encoding="utf-8")
    assert run(["poster", "briefs/b.yaml", "-o", "single", "--no-register"]) == 0
    code, _ = _batch(["briefs", "-o", "batch", "--jobs", "2", "--no-register"], capsys)
    assert code == 0
    assert _tree(tmp_path / "batch") == _tree(tmp_path / "single")
    assert json.loads((tmp_path / "batch" / "test-loan" / "manifest.json").read_text())["brief"]["path"] == \
        "briefs/b.yaml"


def test_output_folder_that_is_a_file_is_a_clear_error(tmp_path, capsys, write_brief):
    brief = write_brief()
    (tmp_path / "afile").write_text("x")
    for cmd in (["batch", str(brief)], ["poster", str(brief)]):
        for out in ("afile", "afile/sub"):
            capsys.readouterr()
            assert run([*cmd, "-o", str(tmp_path / out), "--no-register", "--json"]) == 2
            assert "is a file" in capsys.readouterr().out


def test_only_changed_creatives_render_again(tmp_path, capsys):
    d = tmp_path / "briefs"
    d.mkdir()
    (d / "a.yaml").write_text(GOOD, encoding="utf-8")
    (d / "b.yaml").write_text(GOOD.replace("name: test-loan", "name: other-loan"), encoding="utf-8")
    out = tmp_path / "out"
    assert _batch([str(d), "-o", str(out), "--no-register", "--no-layers"], capsys)[0] == 0
    # a landing page added: the creatives are the same, only the bundle's closing files change
    (d / "a.yaml").write_text(GOOD + "placement:\n  landing_url: https://m.example.cn/a\n", encoding="utf-8")
    code, ev = _batch([str(d), "-o", str(out), "--no-register", "--no-layers"], capsys)
    s = _summary(ev)
    assert code == 0 and s["rendered"] == 0
    assert {e["brief"]: e["status"] for e in ev if e["event"] == "bundle"} == {"test-loan": "written",
                                                                              "other-loan": "unchanged"}
    assert "m.example.cn/a" in (out / "test-loan" / "placement.json").read_text()
    # a new headline: that brief's creatives render again, the other brief's stay
    (d / "a.yaml").write_text(GOOD.replace("补栏周转 不误农时", "春耕备耕 资金无忧"), encoding="utf-8")
    code, ev = _batch([str(d), "-o", str(out), "--no-register", "--no-layers"], capsys)
    rendered = {(e["brief"], e["status"]) for e in ev if e["event"] == "creative"}
    assert rendered == {("test-loan", "rendered"), ("other-loan", "cached")}
    man = json.loads((out / "test-loan" / "manifest.json").read_text())
    assert all(c["texts"]["headline"] == "春耕备耕 资金无忧" for c in man["creatives"])
    # --force renders everything; a file changed behind the batch's back is rendered again
    code, ev = _batch([str(d), "-o", str(out), "--no-register", "--no-layers", "--force"], capsys)
    assert _summary(ev)["rendered"] == _summary(ev)["creatives"]
    victim = out / "other-loan" / man["creatives"][0]["path"]
    victim.write_bytes(b"not a poster")
    code, ev = _batch([str(d), "-o", str(out), "--no-register", "--no-layers"], capsys)
    assert _summary(ev)["rendered"] == 1 and victim.read_bytes()[:2] == b"\xff\xd8"


def test_a_failed_creative_fails_alone_and_exit_codes(tmp_path, capsys):
    d = tmp_path / "briefs"
    d.mkdir()
    # a 38-character brand name: no family can set it at 30 px on the 1242×290 card; the small feed leaves the brand
    # row out (a thumbnail), so it renders
    (tmp_path / "long-brand.yaml").write_text("version: 1\nname: long\nshort_name: " + "示例农村商业银行" * 4
                                              + "示例农村商\n", encoding="utf-8")
    (d / "long.yaml").write_text(
        GOOD.replace("version: 1\n", "version: 1\nbrand: ../long-brand.yaml\n")
        .replace("channels: [app_banner, moments_16x9]", "channels: [app_banner, kuaishou_small]"),
        encoding="utf-8")
    out = tmp_path / "out"
    code, ev = _batch([str(d), "-o", str(out), "--no-register", "--no-layers"], capsys)
    failed = [e for e in ev if e["event"] == "creative" and e["status"] == "failed"]
    assert code == 3 and failed and all(e["channel"] == "app_banner" and "brand name" in e["error"] for e in failed)
    man = json.loads((out / "test-loan" / "manifest.json").read_text())
    assert {f["channel"] for f in man["failures"]} == {"app_banner"}
    assert {c["channel"] for c in man["creatives"]} == {"kuaishou_small"}
    # the failure is remembered (same inputs, same result): a re-run does not render it again
    code, ev = _batch([str(d), "-o", str(out), "--no-register", "--no-layers"], capsys)
    assert code == 3 and _summary(ev)["rendered"] == 0 and _summary(ev)["failed"] == len(failed)
    # a check that fails: exit 1; nothing valid at all: exit 2
    (d / "long.yaml").write_text(GOOD.replace("headline: 补栏周转 不误农时", "headline: 稳赚周转 秒批到账"),
                                 encoding="utf-8")
    code, ev = _batch([str(d), "-o", str(out), "--no-register", "--no-layers"], capsys)
    assert code == 1 and _summary(ev)["failed_checks"] == 4   # 2 segments × 2 channels
    (d / "long.yaml").write_text("version: 1\nname: x\n", encoding="utf-8")
    assert _batch([str(d), "-o", str(out), "--no-register"], capsys)[0] == 2
    capsys.readouterr()
    assert run(["batch", str(tmp_path / "nothing-here"), "--json"]) == 2


def test_fail_fast_and_duplicate_names(tmp_path, capsys):
    d = tmp_path / "briefs"
    d.mkdir()
    (d / "a.yaml").write_text(GOOD, encoding="utf-8")
    (d / "b.yaml").write_text(GOOD, encoding="utf-8")   # the same name: both would write out/test-loan/
    code, ev = _batch([str(d), "-o", str(tmp_path / "out"), "--no-register", "--no-layers"], capsys)
    bad = [e for e in ev if e["event"] == "bad_brief"]
    assert code == 3 and len(bad) == 1 and bad[0]["errors"][0]["key"] == "name"
    assert "a.yaml" in bad[0]["errors"][0]["error"]
    code, ev = _batch([str(d), "-o", str(tmp_path / "out2"), "--no-register", "--fail-fast"], capsys)
    s = _summary(ev)
    assert code == 3 and s["stopped_early"] and s["rendered"] == 0 and not (tmp_path / "out2").exists()


@pytest.mark.slow
def test_killed_batch_resumes_to_the_same_bytes(tmp_path):
    src = make_briefs(tmp_path / "briefs", 6, seed=5)[0].parent
    env = {**EPOCH, "MKT_HOME": str(tmp_path / "home")}
    args = ["batch", str(src), "--no-register", "--jobs", "2"]
    clean = _mkt(*args, "-o", str(tmp_path / "clean"), env=env)
    assert clean.returncode == 0, clean.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "mktcli", *args, "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, **env}, text=True)
    seen = 0
    for line in proc.stdout:   # kill -9 once some creatives are finished, mid-batch
        seen += '"event": "creative"' in line
        if seen >= 3:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    time.sleep(1.0)   # the workers notice their parent is gone and leave
    assert not list(out.glob("*/manifest.json")) or len(list(out.glob("*/manifest.json"))) < 6
    again = _mkt(*args, "-o", str(out), env=env)
    assert again.returncode == 0, again.stderr
    s = _summary(_events(again.stdout))
    assert s["cached"] >= 3 and s["rendered"] + s["cached"] == s["creatives"]
    assert _tree(out) == _tree(tmp_path / "clean")


def test_interrupt_keeps_finished_work(tmp_path):
    src = make_briefs(tmp_path / "briefs", 6, seed=5)[0].parent
    env = {**os.environ, "MKT_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen([sys.executable, "-m", "mktcli", "batch", str(src), "-o", str(tmp_path / "out"),
                             "--no-register", "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True, preexec_fn=ctrl_c_reaches_child)
    for line in proc.stdout:
        if '"event": "creative"' in line:
            proc.send_signal(signal.SIGINT)   # Ctrl-C
            break
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    s = _summary(_events(out))
    assert s["interrupted"] and s["not_done"] > 0
    again = _mkt("batch", str(src), "-o", str(tmp_path / "out"), "--no-register", env=env)
    assert again.returncode == 0 and _summary(_events(again.stdout))["cached"] >= 1


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("accelerate") is None and not Path(sys.executable).with_name("accelerate").exists(),
                    reason="accelerate is in the test extra")
def test_accelerate_launch_two_processes_shard_and_merge_to_the_single_process_result(tmp_path):
    src = make_briefs(tmp_path / "briefs", 6, broken=1, seed=9)[0].parent
    env = {**EPOCH, "MKT_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    single = _mkt("batch", str(src), "-o", str(tmp_path / "single"), "--no-register", "--jobs", "1", env=env)
    assert single.returncode == 3, single.stderr
    # no GPU here: accelerate's multi-process launcher (torch.distributed.run), gloo on the CPU
    launch = subprocess.run([sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                             "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                             "-m", "mktcli", "batch", str(src), "-o", str(tmp_path / "sharded"), "--no-register",
                             "--json"], capture_output=True, text=True, env={**os.environ, **env}, timeout=600)
    ev = _events(launch.stdout)
    s = _summary(ev)
    # the main process reports on the whole batch; the other rendered its share
    assert s["exit_code"] == 3 and s["bad_briefs"] == 1, launch.stderr[-3000:]
    assert 0 < s["rendered"] < s["creatives"] and s["rendered"] + s["by_other_processes"] == s["creatives"]
    assert len([e for e in ev if e["event"] == "summary"]) == 1
    assert _tree(tmp_path / "sharded") == _tree(tmp_path / "single")
