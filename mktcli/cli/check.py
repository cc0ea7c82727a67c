"""`mkt check PATH`: a brief (before rendering), a bundle (folder or manifest.json), an image, or a text file,
against the compliance rules; `--text` checks a string. Exit 1 when an error-level rule fails."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._options import JsonOpt, alias, pick
from ..errors import BriefError, ExitCode
from ._console import output

HELP = """Check a brief, a bundle, an image or a text against the compliance rules (configs/compliance/zh-CN.yaml):
banned and absolute terms, the annualized rate, the brief's figures, SMS and call-script rules, AIGC labels,
legibility, and the numbers read back off the pixels. Exit 1 when an error-level rule fails.
Each violation is one finding (rule, severity, the field or block, message, fix), counted once.
Examples: mkt check out/farm-loan-spring · mkt check brief.yaml · mkt check --text '稳赚不赔，秒批到账' ·
mkt check --text '【示例银行】…拒收请回复R' --as sms --brief-file brief.yaml (the brief's offer: figures, purpose)"""


def check(
    path: Annotated[Optional[Path], typer.Argument(help="A brief (.yaml), a bundle folder or manifest.json, an image (.jpg/.png) or a text file (.txt/.md).", show_default=False)] = None,
    text: Annotated[Optional[str], typer.Option("--text", "-t", help="Check this text instead of a file.")] = None,
    kind: Annotated[Optional[str], typer.Option("--as", help="For text: text (default), sms, call_script or push.")] = None,
    category: Annotated[Optional[str], typer.Option("--category", help="Product category for text and images (loan, credit_card, deposit, wealth …).")] = None,
    brief: Annotated[Optional[Path], typer.Option("--brief-file", help="For text: compare its figures and purpose with this brief file's offer (rate, amounts, terms), as mkt poster does.", show_default=False)] = None,
    rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra rules file(s): add rules, change severities, allow phrases.")] = None,
    verify: Annotated[Optional[bool], typer.Option("--verify/--no-verify", help="Read the finished pixels back with OCR (bundles, images; on unless --no-verify).", show_default=False)] = None,
    as_json: JsonOpt = False,
    brief_alias: Annotated[Optional[Path], alias("--brief", "--brief-file", help="A brief file to compare a text with.")] = None,
    ocr_alias: Annotated[Optional[bool], alias("--ocr/--no-ocr", "--verify", help="OCR read-back.")] = None,
) -> int:
    from ..checks import run as runner
    from ..checks.rules import load_rules

    brief = pick(brief, brief_alias)   # --brief elsewhere is a brief's name in the registry; here it is a file
    ocr = next((v for v in (verify, ocr_alias) if v is not None), True)   # on unless said off; --verify wins
    extra = [str(r) for r in rules or []]
    if text is None and path is None:
        raise BriefError("nothing to check", key="PATH", hint="give a brief, a bundle, an image, a text file, "
                         "or --text '…'")
    unit = {"sms": "sms", "call_script": "call", "call": "call", "text": "text", "push": "push",
            None: None}.get(kind, "bad")
    if unit == "bad":
        raise BriefError(f"unknown --as '{kind}'", key="--as", hint="text, sms, call_script or push")
    if text is not None and not text.strip():
        raise BriefError("--text is empty", key="--text", hint="give the text to check")
    facts = None
    if brief is not None:
        if text is None and (path is None or Path(path).suffix.lower() not in (".txt", ".md", "")):
            raise BriefError("--brief-file is for a text (--text or a .txt file)", key="--brief-file",
                             hint="to check a brief itself: mkt check brief.yaml")
        facts, category = runner.brief_facts(brief, category)
    if text is not None:
        rep = runner.check_text(text, unit=unit or _guess_unit(text), category=category, rules=load_rules(extra),
                                facts=facts)
    else:
        p = Path(path)
        if not p.exists():
            raise BriefError(f"{p} does not exist", key="PATH", hint="check the path")
        suffix = p.suffix.lower()
        if p.is_dir() or p.name == "manifest.json":
            from ..bundle_check import check_bundle

            rep = check_bundle(p, ocr=ocr, extra_rules=extra)
        elif suffix in (".yaml", ".yml"):
            from ..brief_check import check_brief

            rep = check_brief(p, extra_rules=extra)
        elif suffix in (".jpg", ".jpeg", ".png", ".webp"):
            rep = runner.check_image(p, ocr=ocr, extra_rules=extra, category=category)
        elif suffix in (".txt", ".md", ""):
            from ..userfiles import read_user_file

            try:   # a regular file within files.text: /dev/zero or a FIFO is refused, not read forever
                content = read_user_file(p, "text file", "text").decode("utf-8").strip()
            except UnicodeDecodeError as e:
                raise BriefError(f"{p} is not UTF-8 text (byte {e.start})", key="PATH",
                                 hint="save it as UTF-8") from None
            guess = "call" if p.stem.startswith("call") else _guess_unit(content)
            rep = runner.check_text(content, unit=unit or guess, category=category, rules=load_rules(extra),
                                    name=p.name, facts=facts)
        else:
            raise BriefError(f"cannot check a {suffix} file", key="PATH",
                             hint="a brief (.yaml), a bundle folder, an image (.jpg/.png) or a text file (.txt)")
    code = int(ExitCode.CHECKS_FAILED if rep.errors() else ExitCode.OK)
    if as_json:
        return output(True).result(rep.as_dict(), code)
    _show(rep)
    return code


def _guess_unit(text: str) -> str:
    return "sms" if text.lstrip().startswith("【") else "text"


def _show(rep) -> None:
    from rich.markup import escape
    from rich.table import Table

    con = output().con
    failed_items = [i for i in rep.items if i.failed]
    for item in failed_items[:40]:
        t = Table(title=f"{escape(item.name)}", title_justify="left", show_header=True)
        for col in ("rule", "severity", "field", "message", "fix"):
            t.add_column(col, overflow="fold")
        for r in item.failed:
            colour = {"error": "red", "warning": "yellow"}.get(r["severity"], "dim")
            where = r.get("where", "")
            msg = r.get("message", "")
            if where and msg.startswith(where + ": "):   # the record names the field in its message too
                msg = msg[len(where) + 2:]
            t.add_row(r["rule"], f"[{colour}]{r['severity']}[/{colour}]", escape(where), escape(msg),
                      escape(r.get("fix", "")))
        con.print(t)
    if len(failed_items) > 40:
        con.print(f"… {len(failed_items) - 40} more items with problems (--json has them all)")
    for n in rep.notes:
        con.print(f"[dim]note: {escape(n)}[/dim]")
    ok = len(rep.items) - len(failed_items)
    verdict = "[red]errors[/red]" if rep.errors() else "[yellow]warnings[/yellow]" if rep.warnings() else \
        "[green]clean[/green]"
    con.print(f"{rep.kind} {escape(rep.target)}: {len(rep.items)} checked, {ok} without problems, "
              f"{rep.errors()} errors, {rep.warnings()} warnings — {verdict}")
