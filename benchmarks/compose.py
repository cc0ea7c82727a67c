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
import base64
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


def font_faces() -> str:
    return "".join(f"@font-face{{font-family:'{fid}';src:url('{info.path.as_uri()}');}}"
                   for fid, info in registry().items())


def html_for(entry: dict, bg_uri: str) -> str:
    """The creative as an HTML page: background image plus absolutely positioned blocks from mkt's placement record."""
    w, h = entry["width"], entry["height"]
    parts = [f"<html><head><style>{font_faces()}body{{margin:0}}#c{{position:relative;width:{w}px;height:{h}px;"
             f"background:url('{bg_uri}');overflow:hidden}}.b{{position:absolute;white-space:pre;line-height:1.25}}"
             ".p{position:absolute;border-radius:999px}</style></head><body><div id='c'>"]
    for b in entry["blocks"]:
        x0, y0, x1, y1 = b["box"]
        fonts = ",".join(f"'{f}'" for f in b["fonts"]) or "sans-serif"
        if b["role"] in ("cta", "perk", "ai_label"):  # pill shapes behind these labels
            bg = "#F6C445" if b["role"] == "cta" else "rgba(11,51,32,.9)" if b["role"] == "perk" else "#fff"
            parts.append(f"<div class='p' style='left:{x0}px;top:{y0}px;width:{x1 - x0}px;height:{y1 - y0}px;"
                         f"background:{bg};display:flex;align-items:center;justify-content:center;"
                         f"font:{b['size']}px {fonts};color:{b['color']}'>{html.escape(b['text'])}</div>")
            continue
        plate = ""
        if b["role"] == "apr":
            plate = "background:#fff;border-radius:12px;padding:4px 12px;"
        text = "<br>".join(html.escape(line) for line in (b.get("lines") or [b["text"]]))
        parts.append(f"<div class='b' style='left:{x0}px;top:{y0}px;font:{b['size']}px {fonts};"
                     f"color:{b['color']};{plate}'>{text}</div>")
    parts.append("</div></body></html>")
    return "".join(parts)


def chromium_rates(renderer: PosterRenderer, jobs: dict, seconds: float) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    out = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        for name, job in jobs.items():
            _, entry = renderer.render(job)
            bg = renderer.background(job.channel, pick_layout(job.channel.width, job.channel.height)).image
            bg_path = Path(tmp) / f"{name}.png"
            bg.save(bg_path)
            doc = html_for(entry, bg_path.as_uri())
            page.set_viewport_size({"width": entry["width"], "height": entry["height"]})

            def shot():
                page.set_content(doc)
                page.evaluate("document.fonts.ready")
                return page.screenshot(type="jpeg", quality=90,
                                       clip={"x": 0, "y": 0, "width": entry["width"], "height": entry["height"]})

            Path(f"/tmp/bench_chromium_{name}.png").write_bytes(_to_png(shot()))
            out[name] = rate(shot, seconds)
        browser.close()
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
    print(f"{'size':<11}{'mkt steady c/s':>16}{'mkt cold c/s':>14}{'JPEG encode/s':>15}{'chromium c/s':>14}"
          f"{'ratio':>8}")
    for name, label in SIZES.items():
        c = chrome.get(name)
        ratio = f"{steady[name] / c:.1f}×" if c else "n/a"
        print(f"{label:<11}{steady[name]:>16.1f}{cold[name]:>14.1f}{encode[name]:>15.1f}"
              f"{(f'{c:.1f}' if c else 'n/a'):>14}{ratio:>8}")
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
