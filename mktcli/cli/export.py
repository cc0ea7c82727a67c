"""`mkt export BUNDLE --zip`: verify a finished bundle against its manifest and pack it into one zip."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._options import JsonOpt
from ..errors import BriefError
from ._console import output

HELP = """Pack a finished bundle into one zip for a ticket or a placement system: manifest.json and every file it
lists, under <name>/, after checking each file's sha256 and size. Deterministic (same bundle → same bytes).
Exit 2 when the bundle is incomplete (no manifest.json) or a file does not match the manifest.
Example: mkt export out/farm-loan-spring --zip"""


def export(
    bundle: Annotated[Path, typer.Argument(help="The bundle folder (OUT/<brief name>) or its manifest.json.", show_default=False)],
    as_zip: Annotated[bool, typer.Option("--zip", help="Write a zip of the bundle (the one export format for now).")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="The zip file, or an existing folder to put it in (default: OUT/<name>.zip beside the bundle).", show_default=False)] = None,
    as_json: JsonOpt = False,
) -> int:
    from ..export.bundle import export_zip, load_manifest

    if not as_zip:
        raise BriefError("say what to export", key="--zip", hint=f"mkt export {bundle} --zip")
    path = export_zip(bundle, out)
    summary = _summary(path, load_manifest(bundle)[1])
    out_ = output(as_json)
    if as_json:
        return out_.result(summary)
    from rich.markup import escape

    con = out_.con
    con.print(f"[green]zip[/green] {escape(summary['zip'])}: {summary['files']} files, "
              f"{summary['bytes'] / 1024:,.0f} KB (sha256 {summary['sha256'][:12]}…)")
    a = summary["approval"]
    colour = "red" if a["blocked"] else "green"
    con.print(f"[{colour}]{a['ready']} ready for approval · {a['blocked']} blocked[/{colour}]"
              + (f" · {summary['failures']} failed to render" if summary["failures"] else ""))
    return 0


def _summary(path: Path, manifest: dict) -> dict:
    import hashlib
    import zipfile

    from ..export.approval import statuses

    with zipfile.ZipFile(path) as zf:
        n = len(zf.namelist())
    data = path.read_bytes()
    st = list(statuses(manifest).values())
    return {"zip": str(path), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "files": n,
            "name": (manifest.get("brief") or {}).get("name"), "creatives": len(st),
            "approval": {"ready": len(st) - st.count("blocked"), "blocked": st.count("blocked")},
            "failures": len(manifest.get("failures", []))}
