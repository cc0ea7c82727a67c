"""One CLI vocabulary: every command (nested ones too) has working help, a flag name means one thing everywhere,
every command that prints results has --json and answers with `ok` and `exit_code`, every list option takes names
repeated or comma-separated, usage errors take the error path (JSON too), a reader that leaves gives exit 141, and
the old spellings still parse as hidden aliases."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from mktcli.cli._options import DEPRECATED
from mktcli.cli.app import EXIT_CODES_HELP, app, run
from mktcli.errors import ExitCode

from .conftest import EXAMPLES, GOOD

ROOT = Path(__file__).resolve().parents[1]

# a flag shared by commands → (the type of its value, what it means, a word its help must use)
VOCABULARY = {
    "--out": (Path, "where the command writes (folder or file)", "write|folder|file"),
    "--channel": (str, "a channel name (repeatable where several make sense)", "channel"),
    "--channels": (Path, "extra channel preset file(s)", "channel preset"),
    "--segment": (str, "an audience segment of the brief", "segment"),
    "--brief": (str, "a brief by its name, in the registry", "brief"),
    "--seed": (int, "a random seed: same seed, same result", "seed"),
    "--visual-engine": (str, "the key-visual engine", "visual engine|key-visual engine"),
    "--diffusion-model": (str, "a diffusers model: hub id or folder", "diffusion model"),
    "--profile": (str, "a diffusion profile", "diffusion profile"),
    "--device": (str, "where the model runs: cuda or cpu", "cuda"),
    "--copy-engine": (str, "the copy engine: template or llm", "template"),
    "--chat-model": (str, "a transformers chat model: hub id or folder", "chat model"),
    "--jobs": (int, "parallel workers", "worker"),
    "--variants": (int, "distinct creatives per segment × channel", "distinct"),
    "--verify": (bool, "OCR read-back of the finished posters (poster, batch, check)", "ocr"),
    "--allow-errors": (bool, "creatives with failed error-level checks are let through", "failed error-level"),
    "--rules": (Path, "extra compliance rules file(s)", "rules file"),
    "--layers": (bool, "a layered PSD and SVG beside each poster", "psd"),
    "--register": (bool, "record the creatives in the registry", "registry"),
    "--force": (bool, "replace what is already there instead of keeping it (a file; a creative, rendered again)",
                "replace|again"),
    "--override-checks": (bool, "go past the status rules; recorded with a reason", "status rules"),
    "--json": (bool, "machine-readable output on stdout", "json"),
    "--registry": (Path, "the registry file", "registry file"),
    "--since": (str, "on or after: a date, a time, or an age like 7d", "7d"),
    "--status": (str, "a creative's status: draft, approved, live, recalled", "draft"),
    "--phrase": (str, "a phrase in a creative's texts", "phrase"),
    "--reason": (str, "why, kept in the registry", "why"),
    "--category": (str, "a product category: loan, credit_card …", "loan"),
    "--limit": (int, "show at most N", "at most"),
    "--count": (int, "how many to make", "per segment"),
    "--field": (str, "a copy field: headline, sms …", "headline"),
    "--brief-file": (Path, "a brief YAML file", "brief file"),
}
# meanings no flag may have besides its own: --force replaces what is there, it never overrides a rule
NOT_MEANING = {"--force": "override|rule"}
# a short name always stands for the same long one
SHORT = {"-o": "--out", "-c": "--channel", "-s": "--segment", "-j": "--jobs", "-n": "--limit", "-p": "--phrase",
         "-r": "--reason", "-t": "--text", "-f": "--field", "-h": "--help"}
# commands that print nothing a script would read (none today: `mkt init --json` says which file it wrote)
NO_JSON: set[str] = set()


def _commands():
    """(path, command) for the root and every command below it, groups and their subcommands too."""
    def walk(cmd, path):
        yield path, cmd
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            yield from walk(sub, path + (name,))

    yield from walk(typer.main.get_command(app), ())


def _options(cmd, hidden: bool = False):
    return [p for p in cmd.params if p.param_type_name == "option" and bool(getattr(p, "hidden", False)) == hidden]


def _base_type(p):
    """The Python type of one value of an option (a repeatable option's item type), across Typer versions."""
    td = getattr(p, "type_descriptor", None)
    if td is not None:
        t = td.annotation
        args = getattr(t, "__args__", None)
        return args[0] if args else t
    name = p.type.name   # click's own types (older Typer)
    return {"text": str, "path": Path, "integer": int, "integer range": int, "boolean": bool,
            "float": float, "float range": float}.get(name, name)


def _names(p):
    return list(p.opts) + list(p.secondary_opts)


def test_the_walk_reaches_nested_commands():
    paths = {" ".join(p) for p, _ in _commands()}
    assert {"poster", "ls", "audit", "audit record", "learn plan", "learn report"} <= paths


@pytest.mark.parametrize("path", [p for p, _ in _commands()], ids=lambda p: " ".join(p) or "mkt")
def test_help_works(path, capsys):
    assert run([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage" in out and f"mkt {' '.join(path)}".strip() in " ".join(out.split())


def test_no_flag_name_means_two_things():
    uses: dict[str, list[tuple[str, object]]] = {}
    for path, cmd in _commands():
        for p in _options(cmd):
            for name in _names(p):
                if name.startswith("--"):
                    uses.setdefault(name, []).append((" ".join(path), p))
                else:   # a short name is one long name's, wherever it is used
                    assert name in SHORT, f"mkt {' '.join(path)}: short flag {name} is not in the vocabulary"
                    long_names = [n.removeprefix("--no-") for n in _names(p) if n.startswith("--")]
                    assert SHORT[name].removeprefix("--") in [n.removeprefix("--") for n in long_names], \
                        f"mkt {' '.join(path)}: {name} stands for {long_names}, elsewhere for {SHORT[name]}"
    problems = []
    for name, where in uses.items():
        key = name if name in VOCABULARY else "--" + name.removeprefix("--no-")
        if len(where) < 2 and key not in VOCABULARY:
            continue
        if key not in VOCABULARY:
            problems.append(f"{name} is used by {[w for w, _ in where]} but not declared in VOCABULARY")
            continue
        kind, meaning, words = VOCABULARY[key]
        for cmd_path, p in where:
            if _base_type(p) is not kind:
                problems.append(f"mkt {cmd_path} {name}: takes {_base_type(p)}, the vocabulary says {kind} ({meaning})")
            if not re.search(words, (p.help or "").lower()):
                problems.append(f"mkt {cmd_path} {name}: its help does not speak of '{words}' ({meaning})")
            if key in NOT_MEANING and re.search(NOT_MEANING[key], (p.help or "").lower()):
                problems.append(f"mkt {cmd_path} {name}: its help speaks of '{NOT_MEANING[key]}', not {meaning}")
    assert not problems, "\n".join(problems)


def test_old_spellings_are_hidden_everywhere():
    old = {name for _, name in DEPRECATED} - set(VOCABULARY)   # --channel and --brief live on, with one meaning
    for path, cmd in _commands():
        visible = {n for p in _options(cmd) for n in _names(p)}
        assert not visible & old, f"mkt {' '.join(path)} shows {visible & old}"


def test_every_command_that_prints_results_has_json():
    for path, cmd in _commands():
        if not path or getattr(cmd, "commands", None) and not getattr(cmd, "invoke_without_command", False):
            continue   # the root and pure groups print only help
        name = " ".join(path)
        if name in NO_JSON:
            continue
        assert "--json" in {n for p in _options(cmd) for n in _names(p)}, f"mkt {name} has no --json"


# the arguments each command needs before an option can be parsed on its own
REQUIRED = {"poster": ["b.yaml"], "batch": ["b.yaml"], "copy": ["b.yaml"], "quick": ["一句话"], "init": [],
            "check": [], "mark": ["approved"], "register": ["out/b"], "export": ["out/b"], "preview": ["out"],
            "audit record": ["a-1"], "learn ingest": ["clicks.csv"], "learn plan": ["--slot", "sms"]}


@pytest.mark.parametrize("command,old", sorted(DEPRECATED), ids=lambda x: x)
def test_hidden_aliases_still_parse(command, old, capsys):
    cmd = typer.main.get_command(app).commands[command]
    p = next(p for p in _options(cmd, hidden=True) if old in _names(p))
    capsys.readouterr()
    value = [] if p.is_flag else ["1" if _base_type(p) is int else "x"]
    ctx = cmd.make_context(command, REQUIRED[command] + [old, *value])
    assert ctx.params[p.name] not in (None, False, [], ())
    err = capsys.readouterr().err
    assert f"{old} is deprecated" in err and DEPRECATED[(command, old)] in err
    assert run([command, "--help"]) == 0
    assert old not in re.findall(r"(?<![\w-])--?[a-z][a-z-]*", capsys.readouterr().out)   # hidden from help


def test_old_copy_spellings_do_what_the_new_ones_do(tmp_path, capsys):
    brief = str(EXAMPLES / "farm-loan.yaml")
    assert run(["copy", brief, "-o", str(tmp_path / "new"), "--copy-engine", "template", "--count", "1",
                "--field", "sms", "--json"]) == 0
    new = json.loads(capsys.readouterr().out)
    assert run(["copy", brief, "-o", str(tmp_path / "old"), "--engine", "template", "--n", "1", "-c", "sms",
                "--json"]) == 0
    old = json.loads(capsys.readouterr().out)
    assert {s: len(v) for s, v in old["segments"].items()} == {s: len(v) for s, v in new["segments"].items()}
    assert all(len(v) == 1 for v in new["segments"].values())
    assert old["segments"] == new["segments"]
    assert run(["copy", brief, "-o", str(tmp_path), "--field", "nope"]) == 2
    assert "--field" in capsys.readouterr().err


def test_since_is_one_grammar(tmp_path, monkeypatch, capsys):
    """ls, audit and learn read --since the same way: an age like 7d works in learn too, and a bad value is the
    same error everywhere."""
    monkeypatch.setenv("MKT_HOME", str(tmp_path))
    for args in (["ls"], ["audit", "--sample", "1"], ["learn", "report", "-o", str(tmp_path / "r")],
                 ["learn", "distill"]):
        assert run([*args, "--since", "last tuesday"]) == 2, args
        assert "cannot read 'last tuesday' as a time" in capsys.readouterr().err, args
    assert run(["learn", "report", "-o", str(tmp_path / "r"), "--since", "7d"]) == 2   # parsed; no feedback yet
    err = " ".join(capsys.readouterr().err.split())
    assert "no feedback to report on or after" in err and "on on" not in err


def test_json_errors_follow_the_parsed_option_not_argv(capsys):
    # --json given after the option that fails: still answered in JSON (--json is read first)
    assert run(["ls", "--since", "bogus", "--json"]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False and payload["exit_code"] == 2 and payload["key"] == "--since"
    # "--json" as the value of another option is text, not the flag: no JSON on stdout
    assert run(["check", "--text", "--json", "--as", "bogus"]) == 2
    assert capsys.readouterr().out == ""


def test_every_exit_code_is_in_exit_code_and_documented():
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 70, 130, 141]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for c in ExitCode:
        assert f"{int(c)} " in EXIT_CODES_HELP
        assert re.search(rf"\|\s*{int(c)}\s*\|", readme), f"README's exit-code table lacks {int(c)}"
    # the CLI returns codes through ExitCode, not as bare numbers
    for f in (ROOT / "mktcli" / "cli").glob("*.py"):
        src = f.read_text(encoding="utf-8")
        assert not re.search(r"return (1|2|3|70|130|141)\b|code = (1|2|3|70|130|141)\b", src), f.name


# -- every list option: repeated or comma-separated, the same way everywhere --------------------------------------
LIST_NAMES = {"--channel", "--segment", "--status", "--field", "--id"}   # always a list where they are used


def _list_options():
    for path, cmd in _commands():
        for p in _options(cmd) + _options(cmd, hidden=True):
            if p.multiple and _base_type(p) is str:
                yield pytest.param(" ".join(path), cmd, p, id=f"{' '.join(path)} {p.opts[0]}")


def test_the_list_names_are_lists_everywhere():
    """`mkt learn report -c a -c b` once kept only b: a name that is a list somewhere is a list everywhere."""
    for path, cmd in _commands():
        for p in _options(cmd):
            if set(_names(p)) & LIST_NAMES:
                assert p.multiple, f"mkt {' '.join(path)} {p.opts[0]} takes one value; it is a list elsewhere"


@pytest.mark.parametrize("path,cmd,p", list(_list_options()))
def test_every_list_option_takes_commas_and_repetition(path, cmd, p, capsys):
    flag = p.opts[0]
    for given in ([flag, "a,b"], [flag, "a", flag, "b"], [flag, "a，b"], [flag, "a, b", flag, "a"]):
        ctx = cmd.make_context(path, REQUIRED.get(path, []) + given)
        assert ctx.params[p.name] == ["a", "b"], (path, given, ctx.params[p.name])


def test_list_options_work_end_to_end(tmp_path, capsys, monkeypatch):
    """The review's cases: poster -c a,b renders both; ls -c a,b and --status a,b filter by both."""
    brief = tmp_path / "b.yaml"
    brief.write_text(GOOD, encoding="utf-8")
    assert run(["poster", str(brief), "-o", str(tmp_path / "out"), "--no-layers", "-s", "养殖户,种植户",
                "-c", "app_banner,moments_16x9", "--json"]) in (0, 1)
    made = json.loads(capsys.readouterr().out)["creatives"]
    assert {(c["segment"], c["channel"]) for c in made} == {(s, c) for s in ("养殖户", "种植户")
                                                           for c in ("app_banner", "moments_16x9")}
    assert run(["ls", "-c", "app_banner,moments_16x9", "--status", "draft,live", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 4
    assert run(["ls", "-c", "app_banner", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 2


# -- one output shape: ok and exit_code in every JSON result ---------------------------------------------------------
def _shape(doc: dict, code: int, where: str) -> None:
    assert isinstance(doc, dict), where
    assert doc.get("ok") is (code == 0) and doc.get("exit_code") == code, (where, code, doc.get("ok"),
                                                                           doc.get("exit_code"))
    assert "error" not in doc or code != 0, where


def test_every_json_output_has_ok_and_exit_code(tmp_path, capsys):
    """Every command (nested ones too) run for real with --json: one JSON object with ok and exit_code (mkt batch:
    JSON lines, the summary line with them). A command without a recipe here fails the test."""
    brief = tmp_path / "b.yaml"
    brief.write_text(GOOD, encoding="utf-8")
    out, bundle = tmp_path / "out", tmp_path / "out" / "test-loan"
    seen: dict[str, dict] = {}

    def go(*args, codes=(0,)):
        capsys.readouterr()
        code = run([*map(str, args), "--json"])
        text = capsys.readouterr().out
        name = " ".join(a for a in map(str, args) if not a.startswith("-"))
        path = next(p for p in sorted(_paths(), key=len, reverse=True) if name.startswith(p))
        assert code in codes, (args, code, text[:500])
        if path == "batch":
            lines = [json.loads(line) for line in text.splitlines()]
            assert lines[-1]["event"] == "summary"
            doc = lines[-1]
        else:
            doc = json.loads(text)
        _shape(doc, code, path)
        seen[path] = doc
        return doc

    go("init", tmp_path / "starter.yaml")
    go("channels")
    go("models")
    go("doctor")
    go("quick", "给养殖户做一张贷款海报，年化利率3.2%起，最高可借30万", "--no-run", "--brief-out", tmp_path / "q.yaml",
       "--provider", "示例农村商业银行股份有限公司")
    go("poster", brief, "-o", out, "--no-layers", codes=(0, 1))
    go("batch", brief, "-o", tmp_path / "batch", "--no-layers", "--no-register", codes=(0, 1))
    go("copy", brief, "-o", out, "--count", "1", codes=(0, 1))
    go("check", bundle, "--no-verify", codes=(0, 1))
    go("export", bundle, "--zip")
    go("preview", out, "--html", tmp_path / "gallery.html")
    go("register", bundle)
    ids = [c["id"] for c in go("ls")["creatives"]]
    go("mark", "approved", ids[0], "--override-checks", "--reason", "signed off")
    go("recall", "--brief", "test-loan", "--reason", "test", "--dry-run")
    a = go("audit", "--sample", "1", "--seed", "1")["audit"]
    go("audit", "record", a["id"], "--id", a["items"][0]["creative_id"], "--decision", "pass")
    log = tmp_path / "clicks.csv"
    with log.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["creative_id", "segment", "channel", "day", "impressions", "clicks"])
        for c in seen["ls"]["creatives"]:
            for day in range(1, 4):
                w.writerow([c["id"], c["segment"], c["channel"], f"2026-12-0{day}", 1000, 20 + day])
    go("learn", "ingest", log)
    go("learn", "plan", "--slot", "app_banner")
    go("learn", "distill", "-o", tmp_path / "knowledge.yaml")
    go("learn", "report", "-o", tmp_path / "report")
    assert set(seen) == set(_paths()), f"no recipe for: {set(_paths()) - set(seen)}"
    assert "app_banner" in seen["channels"]   # the channels by name, as before, beside ok and exit_code


def _paths() -> list[str]:
    """Every command that runs (the root and pure groups only print help)."""
    return [" ".join(p) for p, cmd in _commands()
            if p and (not getattr(cmd, "commands", None) or getattr(cmd, "invoke_without_command", False))]


def test_json_output_goes_through_the_one_path():
    """Commands write JSON with Output.result (ok/exit_code) or Output.line (JSON lines), never a bare document."""
    for f in (ROOT / "mktcli" / "cli").glob("*.py"):
        if f.name == "_console.py":
            continue
        src = f.read_text(encoding="utf-8")
        assert ".document(" not in src and "stdout.write(" not in src, f"{f.name} writes JSON around Output.result"


# -- usage errors take the error path --------------------------------------------------------------------------------
@pytest.mark.parametrize("args,key", [
    (["ls", "--limit", "abc", "--json"], "--limit"),
    (["ls", "--json", "--bogus"], "--bogus"),
    (["poster", "B", "--seed", "-1", "--json"], "--seed"),
    (["copy", "B", "--count", "0", "--json"], "--count"),
    (["learn", "plan", "--json"], "--slot"),
    (["poster", "--json"], "BRIEF"),
    (["audit", "record", "--json", "--bogus", "a-1"], "--bogus"),
], ids=lambda x: " ".join(x) if isinstance(x, list) else x)
def test_usage_errors_with_json_answer_in_json(args, key, capsys):
    args = [str(EXAMPLES / "farm-loan.yaml") if a == "B" else a for a in args]
    assert run(args) == 2
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["ok"] is False and doc["exit_code"] == 2 and doc["key"] == key and doc["hint"]
    err = captured.err
    assert err.startswith("error:") and key in err and len(err.splitlines()) <= 3   # one screen, mkt's own words
    assert "Usage:" not in err and "Traceback" not in err


def test_usage_errors_without_json_are_one_message_on_stderr(capsys):
    assert run(["ls", "--limit", "abc"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: --limit") and "mkt ls --help" in captured.err
    assert run(["ls", "--limitt", "3"]) == 2
    assert "did you mean --limit" in capsys.readouterr().err


def test_bare_mkt_and_bare_groups_print_help_and_exit_2(capsys):
    """Documented in README: no command given is a usage error (exit 2) that shows the help; --help exits 0."""
    for args in ([], ["learn"]):
        assert run(args) == 2
        captured = capsys.readouterr()
        assert "Usage" in captured.out + captured.err
    assert run(["--help"]) == 0


# -- a reader that leaves: exit 141 ------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["poster", "--help"], ["ls", "--json"], ["channels"], ["channels", "--json"],
                                  ["ls", "--bogus", "--json"]], ids=" ".join)
def test_a_closed_reader_gives_exit_141(args, tmp_path):
    """`mkt … | head -c1`: the pipe's read end is closed before mkt writes (it is still importing), so every write
    meets EPIPE — Typer's loop once turned that into exit 1, rich's console too."""
    env = {**os.environ, "MKT_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    r, w = os.pipe()
    os.close(r)   # the reader left before a byte was written
    try:
        proc = subprocess.run([sys.executable, "-m", "mktcli", *args], stdout=w, stderr=subprocess.PIPE, env=env,
                              timeout=60, text=True)
    finally:
        os.close(w)
    assert proc.returncode == int(ExitCode.BROKEN_PIPE), proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


# -- the renamed flags ---------------------------------------------------------------------------------------------------
def test_mark_override_checks_and_its_old_spelling(tmp_path, capsys):
    from mktcli.registry.store import open_registry

    from .test_registry import fake_manifest

    m = fake_manifest(tmp_path / "b", "b", {("bad", "s"): 1}, failing={"bad"})
    with open_registry() as reg:
        (bad,) = reg.register_manifest(m).added
    assert run(["mark", "approved", bad]) == 1
    assert run(["mark", "live", bad]) == 2                                     # draft → live skips a step
    assert "--override-checks --reason" in " ".join(capsys.readouterr().err.split())   # the hint: the new flag
    assert run(["mark", "approved", bad, "--override-checks"]) == 2             # a reason is required
    assert "--override-checks needs a --reason" in capsys.readouterr().err
    assert run(["mark", "approved", bad, "--override-checks", "--reason", "legal ok"]) == 0
    assert run(["mark", "draft", bad, "--force", "--reason", "old spelling"]) == 0
    assert "--force is deprecated" in capsys.readouterr().err


def test_check_verify_and_its_old_spelling(tmp_path, monkeypatch, capsys):
    """The OCR read-back is --verify/--no-verify in check too (on by default there); --ocr/--no-ocr still work."""
    import mktcli.bundle_check
    from mktcli.checks.run import Report

    asked = []
    monkeypatch.setattr(mktcli.bundle_check, "check_bundle",
                        lambda path, ocr, extra_rules: asked.append(ocr) or Report(str(path), "bundle"))
    for args, want in (([], True), (["--no-verify"], False), (["--verify"], True), (["--no-ocr"], False),
                       (["--ocr"], True), (["--verify", "--no-ocr"], True)):
        assert run(["check", str(tmp_path), *args, "--json"]) == 0, args
        assert asked.pop() is want, args
        assert json.loads(capsys.readouterr().out)["ok"] is True
    run(["check", str(tmp_path), "--no-ocr"])
    assert "--no-ocr is deprecated and goes in the next release; use --no-verify" in capsys.readouterr().err
