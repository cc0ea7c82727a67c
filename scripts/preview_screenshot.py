"""Rebuild docs/images/preview.png: the `mkt preview` gallery of examples/briefs/farm-loan.yaml in headless Chromium.

    python scripts/preview_screenshot.py [docs/images/preview.png]

Needs playwright (the test extra) and Debian's chromium on PATH. The page's Chinese labels use system fonts; a
machine without a CJK font would show boxes, so Chromium is pointed at the bundled Noto Sans SC (assets/fonts)."""
from __future__ import annotations

import io
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
FONTS_CONF = """<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{fonts}</dir></fontconfig>
"""


def main(target: Path) -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from mktcli.preview.server import make_server
    from mktcli.poster import make_posters

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MKT_HOME"] = tmp   # never touch the user's registry
        out = Path(tmp) / "out"
        make_posters(ROOT / "examples" / "briefs" / "farm-loan.yaml", out, register=False, layered=False)
        conf = Path(tmp) / "fonts.conf"
        conf.write_text(FONTS_CONF.format(fonts=ROOT / "assets" / "fonts"), encoding="utf-8")
        server = make_server(out, 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"],
                                            env={**os.environ, "FONTCONFIG_FILE": str(conf)})
                page = browser.new_page(viewport={"width": 1200, "height": 2000})
                page.goto(server.url + "#segment=" + quote("养殖户·有优惠"))   # one segment: its five creatives
                page.wait_for_load_state("networkidle")
                shot = page.screenshot()
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    # a 256-colour PNG: the page is flat colour and a few posters; keeps the repository light (~4x smaller)
    with Image.open(io.BytesIO(shot)) as im:
        im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(target,
                                                                                                         optimize=True)
    print(f"{target}: {target.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images" / "preview.png")
