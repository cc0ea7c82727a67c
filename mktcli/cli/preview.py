"""`mkt preview OUT`: a local gallery of one bundle or a batch output folder (mktcli/preview/)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ._options import JsonOpt
from ._console import console, output

HELP = """Show the creatives of a bundle, or of every bundle in a batch output folder, in a local gallery: each image
at true size and in a phone mock-up, text creatives as messages, with their copy, checks, approval and registry
status, and filters by status, brief, segment and channel. Served on 127.0.0.1 only, until Ctrl-C; reload the page
to re-read the manifests. --html writes the same page as a file instead.
Example: mkt preview out/ · mkt preview out/farm-loan-spring --port 0 · mkt preview out/ --html out/preview.html"""


def preview(
    out: Annotated[Path, typer.Argument(help="A bundle folder (OUT/<brief name>), or a folder of bundles (a batch's OUT).", show_default=False)],
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 to serve on; 0 picks any free port.")] = 8765,
    html: Annotated[Path | None, typer.Option("--html", help="Write the gallery to this HTML file (images linked by relative path) and exit instead of serving.", show_default=False)] = None,
    registry: Annotated[Path | None, typer.Option("--registry", help="Registry file to read statuses from (default: $MKT_REGISTRY, else <MKT_HOME>/registry.db).", show_default=False)] = None,
    as_json: JsonOpt = False,
) -> int:
    from ..preview.gallery import gallery_data, load_gallery, relative_href
    from ..preview.server import make_server, write_gallery_html

    if html is not None:
        target, gallery = write_gallery_html(out, html, registry=registry)
        if as_json:
            data = gallery_data(gallery, relative_href(target, gallery.root))
            _emit({"html": str(target), **data})
        else:
            _say(f"gallery written: {target} ({_counts(gallery_data(gallery))})")
        return 0
    load_gallery(out, registry=registry, require_bundle=True)   # nothing to show is a mistake, said before serving
    server = make_server(out, port, registry=registry)
    try:
        if as_json:   # one line, flushed: a script reads the URL (useful with --port 0), then the server runs
            _emit(gallery_data(server.refresh(), server.absolute_href, server.url), indent=None)
        else:
            _say(f"mkt preview: {server.url} ({_counts(gallery_data(server.refresh()))}) · Ctrl-C to stop")
        server.serve_forever()
    except KeyboardInterrupt:   # the way to stop a server: not an error
        if not as_json:
            _say("stopped")
    finally:
        server.server_close()
    return 0


def _counts(data: dict) -> str:
    n = data["counts"]
    return (f"{n['bundles']} bundle(s), {n['creatives']} creatives, {n['blocked']} blocked"
            + (f", {n['incomplete']} incomplete" if n["incomplete"] else ""))


def _emit(payload: dict, indent: int | None = 2) -> None:

    output(True).result(payload, indent=indent, flush=True)


def _say(text: str) -> None:
    from rich.markup import escape

    console(soft_wrap=True).print(escape(text))   # soft-wrapped: a URL stays one clickable line
    sys.stdout.flush()
