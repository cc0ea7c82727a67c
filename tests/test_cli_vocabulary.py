"""One CLI vocabulary: every command (nested ones too) has working help, a flag name means one thing everywhere,
every command that prints results has --json, and the old spellings still parse as hidden aliases."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer.main

from mktcli.cli._options import DEPRECATED
from mktcli.cli.app import EXIT_CODES_HELP, app, run
from mktcli.errors import ExitCode

from .conftest import EXAMPLES

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
    "--verify": (bool, "OCR read-back of the finished posters", "ocr"),
    "--allow-errors": (bool, "creatives with failed error-level checks are let through", "failed error-level"),
    "--rules": (Path, "extra compliance rules file(s)", "rules file"),
    "--layers": (bool, "a layered PSD and SVG beside each poster", "psd"),
    "--register": (bool, "record the creatives in the registry", "registry"),
    "--force": (bool, "do it even where mkt would refuse or skip; never a question", "replace|again|override"),
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


REQUIRED = {"poster": ["b.yaml"], "batch": ["b.yaml"], "copy": ["b.yaml"], "quick": ["一句话"], "init": [],
            "check": []}


@pytest.mark.parametrize("command,old", sorted(DEPRECATED), ids=lambda x: x)
def test_hidden_aliases_still_parse(command, old, capsys):
    cmd = typer.main.get_command(app).commands[command]
    p = next(p for p in _options(cmd, hidden=True) if old in _names(p))
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
    assert "no feedback to report on" in capsys.readouterr().err


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
