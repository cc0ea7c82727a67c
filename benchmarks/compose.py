"""Compose + encode throughput of `mkt poster`, against the same layout rendered as HTML in headless Chromium.

    python benchmarks/compose.py [--seconds 2] [--no-chromium]     (Chromium path: pip install -e ".[bench]"
                                                                     and Debian's chromium at /usr/bin/chromium)

Prints creatives/s for one poster at 1080×1920 (splash) and 1242×290 (app card), steady state (the key visual is
cached, as it is across the segments of a brief) and cold (a new renderer each time: background drawn too), the
full farm-loan bundle through make_posters (4 segments × 4 sizes, threads, files and manifest written), and the
same creatives rendered by Chromium from an HTML template built from mkt's own placement record (same background
image, boxes, fonts, sizes and colours; one browser and page kept open; JPEG screenshot). Ratio = mkt / Chromium,
measured in the same run."""
from __future__ import annotations

import argparse
import html
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import PIL
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mktcli.brief import load_brief  # noqa: E402
from mktcli.compose.blocks import figure_runs  # noqa: E402
from mktcli.compose.fonts import registry  # noqa: E402
from mktcli.compose.layout import pick_layout  # noqa: E402
from mktcli.poster import PosterRenderer, make_posters, plan_jobs  # noqa: E402

BRIEF = ROOT / "examples" / "briefs" / "farm-loan.yaml"
SIZES = {"splash_1080x1920": "1080×1920", "app_banner": "1242×290"}
CHROMIUM = "/usr/bin/chromium"


def rate(fn, seconds: float, repeats: int = 3) -> float:
    """Calls per second: median over `repeats` windows of about `seconds` each (after one warm-up call)."""
    fn()
    out = []
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            fn()
            n += 1
        out.append(n / (time.perf_counter() - t0))
    return statistics.median(out)


class _Assets:
    """A loopback HTTP server for the background and font files, with long cache lifetimes, so Chromium loads
    each once and then works from its memory cache (as a template service would). file:// URLs are refused to a
    page made with set_content, and data: URLs would re-send megabytes of fonts with every page."""

    def __init__(self, root: Path):
        import functools
        import http.server
        import threading

        class Handler(http.server.SimpleHTTPRequestHandler):
            def end_headers(self):
                self.send_header("Cache-Control", "public, max-age=86400")
                self.send_header("Access-Control-Allow-Origin", "*")  # fonts are CORS-checked
                super().end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def font_faces(base: str) -> str:
    return "".join(f"@font-face{{font-family:'{fid}';src:url('{base}/fonts/{info.path.name}');}}"
                   for fid, info in registry().items())


def html_for(entry: dict, bg_url: str, base: str, band: str, accent: str) -> str:
    """The creative as an HTML page: background image plus absolutely positioned blocks from mkt's placement record."""
    w, h = entry["width"], entry["height"]
    parts = [f"<html><head><style>{font_faces(base)}body{{margin:0}}#c{{position:relative;width:{w}px;height:{h}px;"
             f"background:url('{bg_url}');overflow:hidden}}.b{{position:absolute;white-space:pre;line-height:1.2}}"
             ".p{position:absolute;border-radius:999px;display:flex;align-items:center;justify-content:center}"
             "</style></head><body><div id='c'>"]
    legal_top = min((b["box"][1] for b in entry["blocks"] if b["role"] in ("disclaimer", "provider")), default=h)
    parts.append(f"<div style='position:absolute;left:0;top:{legal_top - 8}px;width:{w}px;height:{h}px;"
                 f"background:{band};opacity:.88'></div>")
    for b in entry["blocks"]:
        x0, y0, x1, y1 = b["box"]
        fonts = ",".join(f'"{f}"' for f in b["fonts"]) or "sans-serif"
        style = f"left:{x0}px;top:{y0}px;font-size:{b['size']}px;font-family:{fonts};color:{b['color']};"
        if b["role"] in ("cta", "perk", "ai_label"):  # pill shapes behind these labels
            bg = accent if b["role"] == "cta" else "rgba(0,0,0,.35)" if b["role"] == "perk" else "#fff"
            parts.append(f"<div class='p' style='{style}width:{x1 - x0}px;height:{y1 - y0}px;background:{bg}'>"
                         f"{html.escape(b['text'])}</div>")
            continue
        text = "<br>".join(html.escape(line) for line in (b.get("lines") or [b["text"]]))
        if b["role"] == "apr":  # the figure only (the label is its own block), digits large, signs smaller
            label = next((a["text"] for a in entry["blocks"] if a["role"] == "apr_label"), "")
            figure = b["text"][len(label):]
            suffix = "起" if figure.endswith("起") else ""
            runs = figure_runs(figure[: len(figure) - len(suffix)], suffix)
            text = "".join(f"<span style='font-size:{b['size'] * k:.0f}px'>{html.escape(t)}</span>" for t, k in runs)
            style += f"background:#fff;border-radius:12px;padding:0 12px;top:{y0 - b['size'] * 0.3}px;z-index:-1;"
        parts.append(f"<div class='b' style='{style}'>{text}</div>")
    parts.append("</div></body></html>")
    return "".join(parts)


def chromium_rates(renderer: PosterRenderer, jobs: dict, seconds: float) -> dict[str, float]:
    import shutil

    from playwright.sync_api import sync_playwright

    out = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        root = Path(tmp)
        (root / "fonts").mkdir()
        for info in registry().values():
            shutil.copy(info.path, root / "fonts" / info.path.name)
        assets = _Assets(root)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            # the fastest honest baseline: no frame pacing (screenshots otherwise wait for 60 Hz frames)
            "--disable-frame-rate-limit", "--disable-gpu-vsync"])
        page = browser.new_page()
        pal = renderer.palette
        for name, job in jobs.items():
            _, entry = renderer.render(job)
            bg = renderer.background(job.channel, pick_layout(job.channel.width, job.channel.height)).image
            bg.save(root / f"{name}.png")
            doc = html_for(entry, f"{assets.base}/{name}.png", assets.base, pal.band, pal.accent)
            page.set_viewport_size({"width": entry["width"], "height": entry["height"]})

            def shot():
                page.set_content(doc, wait_until="load")
                page.evaluate("Promise.all([...document.fonts].map(f => f.load())).then(() => document.fonts.ready)"
                              ".then(() => document.fonts.size)")
                return page.screenshot(type="jpeg", quality=90,
                                       clip={"x": 0, "y": 0, "width": entry["width"], "height": entry["height"]})

            Path(f"/tmp/bench_chromium_{name}.png").write_bytes(_to_png(shot()))
            out[name] = rate(shot, seconds)
        browser.close()
        assets.close()
    return out


def _to_png(jpeg: bytes) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(jpeg)).save(buf, "PNG")
    return buf.getvalue()


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    return (f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}, Pillow {PIL.__version__}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each timing window")
    ap.add_argument("--no-chromium", action="store_true", help="skip the Chromium baseline")
    args = ap.parse_args()
    brief = load_brief(BRIEF)
    renderer = PosterRenderer.for_brief(brief)
    jobs = {name: plan_jobs(brief, channels=[name])[0] for name in SIZES}

    steady = {n: rate(lambda j=j: renderer.render(j), args.seconds) for n, j in jobs.items()}
    cold = {n: rate(lambda j=j: PosterRenderer.for_brief(brief).render(j), args.seconds) for n, j in jobs.items()}
    from concurrent.futures import ThreadPoolExecutor

    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:  # the same steady renders spread over the cores, 8 per batch
        threaded = {n: 8 * rate(lambda j=j: list(pool.map(renderer.render, [j] * 8)), args.seconds)
                    for n, j in jobs.items()}
    encode = {}
    for n, j in jobs.items():
        img = Image.new("RGB", (j.channel.width, j.channel.height))
        img.paste(renderer.background(j.channel, pick_layout(j.channel.width, j.channel.height)).image)
        encode[n] = rate(lambda im=img: im.save(io.BytesIO(), "JPEG", quality=90, subsampling=0, optimize=True),
                         args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        n_bundle = len(plan_jobs(brief))
        bundle = rate(lambda: make_posters(BRIEF, Path(tmp) / "out"), args.seconds) * n_bundle

    chrome: dict[str, float] = {}
    why = ""
    if not args.no_chromium:
        if not Path(CHROMIUM).exists():
            why = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        else:
            try:
                chrome = chromium_rates(renderer, jobs, args.seconds)
            except ImportError:
                why = "playwright is not installed (pip install -e '.[bench]')"
    print(f"machine: {machine()}")
    print(f"{'size':<11}{'mkt steady c/s':>16}{f'mkt {workers} threads':>15}{'mkt cold c/s':>14}"
          f"{'JPEG encode/s':>15}{'chromium c/s':>14}{'ratio':>8}")
    for name, label in SIZES.items():
        c = chrome.get(name)
        ratio = f"{steady[name] / c:.1f}×" if c else "n/a"
        print(f"{label:<11}{steady[name]:>16.1f}{threaded[name]:>15.1f}{cold[name]:>14.1f}{encode[name]:>15.1f}"
              f"{(f'{c:.1f}' if c else 'n/a'):>14}{ratio:>8}")
    print("ratio = mkt steady (one thread) / chromium (one page); JPEG encode/s = Pillow encoding the same canvas "
          "alone (q90, 4:4:4, optimised), a ceiling for any JPEG path")
    print(f"full farm-loan bundle ({n_bundle} posters, make_posters, files + manifest): {bundle:.1f} creatives/s")
    if why:
        print(f"chromium baseline skipped: {why}")
    if chrome:
        ok_ratio = all(steady[n] / chrome[n] >= 10 for n in chrome)
        print(f"targets: ≥10× Chromium {'met' if ok_ratio else 'MISSED'}; "
              f"≥30 creatives/s for the bundle {'met' if bundle >= 30 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
