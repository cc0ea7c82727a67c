"""The `mkt` command as a user runs it: exit codes, one-screen errors, --json, help text, a fast --help."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mktcli.cli.app import app, run

from .conftest import EXAMPLES, GOOD


def test_poster_writes_bundle(tmp_path, capsys):
    code = run(["poster", str(EXAMPLES / "deposit.yaml"), "-o", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert (tmp_path / "deposit-3y" / "manifest.json").exists()
    assert "5 posters" in out and "manifest" in out


def test_poster_json(tmp_path, capsys):
    code = run(["poster", str(EXAMPLES / "farm-loan.yaml"), "-o", str(tmp_path), "--json",
                "--channel", "app_banner", "--segment", "养殖户·有优惠"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["ok"] and payload["exit_code"] == 0
    assert len(payload["creatives"]) == 1 and payload["creatives"][0]["channel"] == "app_banner"
    assert payload["creatives"][0]["path"].endswith("app_banner.jpg")


@pytest.mark.parametrize("old,new,where", [
    ('apr: "3.2%"', 'apr: "3,2%"', ":8: offer.apr"),
    ("channels: [", "chanels: [", ":17: chanels"),
    ("  category: loan", "  category: loan\n   bad indent: x", ":6"),
])
def test_bad_brief_one_screen_exit_2(write_brief, tmp_path, capsys, old, new, where):
    p = write_brief(GOOD.replace(old, new))
    code = run(["poster", str(p), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert str(p) + where in err.replace("\n", ""), err
    assert "Traceback" not in err and "hint" in err
    assert len(err.splitlines()) <= 24
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("manifest.json"))


def test_missing_brief_file(tmp_path, capsys):
    code = run(["poster", str(tmp_path / "nope.yaml")])
    assert code == 2 and "not found" in capsys.readouterr().err


def test_unknown_option_is_usage_error(capsys):
    assert run(["poster", "--frobnicate"]) == 2


def test_partial_failure_exit_3(write_brief, tmp_path, capsys):
    # a 38-character brand name cannot be set on the 1242×290 card at its legible minimum; the feed size can hold it
    (tmp_path / "long.yaml").write_text("version: 1\nname: long\nshort_name: " + "示例农村商业银行" * 4 + "示例农村商\n",
                                        encoding="utf-8")
    p = write_brief(GOOD.replace("version: 1\n", f"version: 1\nbrand: {tmp_path / 'long.yaml'}\n"))
    code = run(["poster", str(p), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 3 and "failed" in out


def test_nothing_rendered_uses_the_errors_code(write_brief, tmp_path, capsys):
    p = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 补栏𠀀"))
    assert run(["poster", str(p), "-o", str(tmp_path)]) == 2


def test_internal_errors_are_one_screen_with_hint(monkeypatch, tmp_path, capsys):
    import mktcli.poster as poster

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(poster, "make_posters", broken)
    code = run(["poster", str(EXAMPLES / "deposit.yaml"), "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 70 and "MKT_DEBUG=1" in err and "Traceback" not in err
    monkeypatch.setenv("MKT_DEBUG", "1")   # the traceback is added; the exit code stays
    assert run(["poster", str(EXAMPLES / "deposit.yaml"), "-o", str(tmp_path)]) == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: boom" in err and "internal error" in err


def test_debug_keeps_the_exit_code_of_an_expected_error(write_brief, tmp_path, monkeypatch, capsys):
    p = write_brief(GOOD.replace('apr: "3.2%"', 'apr: "3,2%"'))
    assert run(["poster", str(p), "-o", str(tmp_path)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    monkeypatch.setenv("MKT_DEBUG", "1")
    assert run(["poster", str(p), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "offer.apr" in err


def test_channels_json(capsys):
    assert run(["channels", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["app_banner"]["width"] == 1242 and data["app_banner"]["checked"]


def test_user_channel_file_adds_presets(tmp_path, write_brief, capsys):
    chan = tmp_path / "mine.yaml"
    chan.write_text("channels:\n  bank_tile:\n    width: 600\n    height: 600\n    checked: 2026-11-24\n",
                    encoding="utf-8")
    p = write_brief(GOOD.replace("[app_banner, moments_16x9]", "[bank_tile]"))
    code = run(["poster", str(p), "-o", str(tmp_path / "o"), "--channels", str(chan), "--json"])
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["creatives"][0]["width"] == 600


def _walk_commands():
    import typer.main

    group = typer.main.get_command(app)
    yield group
    for name, cmd in group.commands.items():
        yield cmd


def test_every_command_and_option_has_help():
    for cmd in _walk_commands():
        assert (cmd.help or "").strip(), cmd.name
        for p in cmd.params:
            if getattr(p, "param_type_name", "") == "option" or hasattr(p, "help"):
                if p.name in ("help",):
                    continue
                assert (getattr(p, "help", None) or "").strip(), f"{cmd.name} --{p.name} has no help"


def test_help_is_fast_and_light():
    """What keeps `mkt --help` fast is what it imports; the seconds themselves depend on the machine's load, so they
    are measured by benchmarks/startup.py, not asserted here."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mktcli", "--help"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0 and "poster" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    for heavy in ("torch", "diffusers", "transformers", "onnxruntime", "rapidocr_onnxruntime", "numpy", "PIL", "resvg"):
        assert heavy not in imported, f"`mkt --help` imports {heavy}"


def test_failed_error_check_exits_1(tmp_path, capsys, write_brief):
    brief = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 稳赚周转 秒批到账"))
    code = run(["poster", str(brief), "-o", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "FIN-BAN" in out
