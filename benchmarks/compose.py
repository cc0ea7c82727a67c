"""Compose + encode throughput of `mkt poster`, against the same layout rendered as HTML in headless Chromium.

    python benchmarks/compose.py [--seconds 2] [--no-chromium]     (Chromium path: pip install -e ".[bench]"
                                                                     and Debian's chromium at /usr/bin/chromium)

Prints creatives/s for one poster at 1080×1920 (splash) and 1242×290 (app card), steady state (the key visual is
cached, as it is across the segments of a brief) and cold (a new renderer each time: background drawn too), the
full farm-loan bundle through make_posters (4 segments × 4 sizes, threads, files and manifest written), and the
same creatives rendered by Chromium from an HTML template built from mkt's own placement record (same background
image, boxes, fonts, sizes and colours; one browser and page kept open; JPEG screenshot). Ratio = mkt / Chromium,
measured in the same run. One poster of each path is saved for a visual check: /tmp/bench_{mkt,chromium}_*.png."""
from __future__ import annotations

import argparse
import functools
import html
import http.server
import io
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import PIL
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mktcli.brief import load_brief
from mktcli.compose.flow import figure_runs
from mktcli.compose.fonts import registry
from mktcli.export.encode import encode
from mktcli.poster import PosterRenderer, make_posters, plan_jobs

BRIEF = ROOT / "examples" / "briefs" / "farm-loan.yaml"
SIZES = {"splash_1080x1920": "1080×1920", "app_banner": "1242×290"}
CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               # the fastest honest baseline: no frame pacing (screenshots otherwise wait for 60 Hz frames)
               "--disable-frame-rate-limit", "--disable-gpu-vsync"]


def _ticks_of(pids: set[int]) -> int:
    """User + system CPU clock ticks used so far by these processes (/proc/PID/stat fields 14 and 15)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:   # gone
            continue
        total += int(fields[11]) + int(fields[12])
    return total


def chromium_pids() -> set[int]:
    """Every Chromium process below this one (browser, renderer, GPU, utility; not Playwright's node driver)."""
    parent: dict[int, int] = {}
    name: dict[int, str] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                head, tail = (d / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            parent[int(d.name)], name[int(d.name)] = int(tail.split()[1]), head.split("(", 1)[1]
    me, out = os.getpid(), set()
    for pid in parent:
        p, seen = pid, 0
        while p in parent and p != me and seen < 64:
            p, seen = parent[p], seen + 1
        if p == me and "chrom" in name[pid].lower():
            out.add(pid)
    return out


def cpu_ms(fn, seconds: float, pids: set[int] | None = None, repeats: int = 3) -> float:
    """CPU milliseconds per call: this process (time.process_time) or, with `pids`, those processes (their
    /proc ticks), median over `repeats` windows of about `seconds`. Unlike wall time, other work on the machine
    barely moves it, so a ratio of two CPU costs holds on a loaded machine too."""
    fn()
    hz = os.sysconf("SC_CLK_TCK")
    out = []
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        c0 = _ticks_of(pids) / hz if pids else time.process_time()
        while time.perf_counter() - t0 < seconds:
            fn()
            n += 1
        c1 = _ticks_of(pids) / hz if pids else time.process_time()
        out.append((c1 - c0) * 1000 / n)
    return statistics.median(out)


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


def _ascent(font_id: str) -> float:
    """The font's ascent in em (hhea, as both FreeType and Chromium use it): CSS puts the baseline there."""
    from PIL import ImageFont

    return ImageFont.truetype(str(registry()[font_id].path), 1000).getmetrics()[0] / 1000


def html_for(entry: dict, bg_url: str, base: str, pal) -> str:
    """The creative as an HTML page: the same background image, then the shapes and text blocks of mkt's placement
    record (boxes, sizes, fonts, colours), each text on the baseline mkt drew it on."""
    w, h, blocks = entry["width"], entry["height"], entry["blocks"]
    plate = entry["engines"]["layout"].get("hero") or "none"
    shapes = {s["role"]: s["box"] for s in entry.get("shapes", [])}
    sh = "box-shadow:0 {0:.0f}px {1:.0f}px rgba(0,0,0,.27);"  # mkt: alpha 70 mask, blurred, offset down
    parts = [(f"<html><head><style>{font_faces(base)}body{{margin:0}}#c{{position:relative;width:{w}px;"
              f"height:{h}px;background:url('{bg_url}');overflow:hidden}}div{{position:absolute}}.b{{white-space:pre}}"
              ".p{display:flex;align-items:center;justify-content:center;white-space:pre}"
              "</style></head><body><div id='c'>")]
    if "legal_band" in shapes:  # the calm band under the legal lines (alpha 225 as in mkt)
        x0, y0, x1, y1 = shapes["legal_band"]
        parts.append(f"<div style='left:0;top:{y0:.1f}px;width:{w}px;height:{y1 - y0:.1f}px;background:{pal.band};"
                     "opacity:.88'></div>")
    if "card" in shapes:  # the opaque text card
        x0, y0, x1, y1 = shapes["card"]
        parts.append(f"<div style='left:{x0:.1f}px;top:{y0:.1f}px;width:{x1 - x0:.1f}px;height:{y1 - y0:.1f}px;"
                     f"border-radius:{min(x1 - x0, y1 - y0) * .06:.0f}px;background:{pal.light};"
                     f"{sh.format(8, 24)}'></div>")
    if "rate_plate" in shapes and plate != "none":  # the hero's opaque plate
        x0, y0, x1, y1 = shapes["rate_plate"]
        r = min(x1 - x0, y1 - y0) * 0.16
        parts.append(f"<div style='left:{x0:.1f}px;top:{y0:.1f}px;width:{x1 - x0:.1f}px;height:{y1 - y0:.1f}px;"
                     f"border-radius:{r:.0f}px;background:"
                     f"{ {'light': pal.light, 'dark': pal.primary_dark}.get(plate, pal.accent)};"
                     f"{sh.format(r * .3, r * 1.2)}'></div>")
    for b in blocks:
        x0, y0, x1, y1 = b["box"]
        fonts = ",".join(f'"{f}"' for f in b["fonts"]) or "sans-serif"
        style = f"left:{x0}px;font-size:{b['size']}px;font-family:{fonts};color:{b['color']};"
        text = html.escape(b["text"])
        if b["role"] in ("cta", "perk", "logo", "ai_label"):  # label centred on a pill / rounded square
            bw, bh = x1 - x0, y1 - y0
            chip = f"border:{max(1, int(b['size'] * .08))}px solid {pal.accent};box-sizing:border-box;"
            fill, radius, extra = {"cta": (pal.accent, bh / 2, sh.format(bh * .15, bh * .6)),
                                   "perk": (pal.primary_dark, bh / 2, chip),
                                   "logo": (pal.accent, bh * .22, ""),
                                   "ai_label": (pal.light, b["size"] * .3, "")}[b["role"]]
            parts.append(f"<div class='p' style='{style}top:{y0}px;width:{bw:.1f}px;height:{bh:.1f}px;"
                         f"background:{fill};border-radius:{radius:.0f}px;{extra}'>{text}</div>")
            continue
        # box top → baseline: legal lines use the ideographic em box, the rate label its size, the figure ~cap
        # height, every other block the font's ascent
        asc = _ascent(b["fonts"][0]) if b["fonts"] else 1.0
        down = {"disclaimer": .88, "provider": .88, "apr_label": 1.0, "offer_label": 1.0, "apr": .78 * asc,
                "offer": .78 * asc}.get(b["role"], asc)
        if b["role"] in ("apr", "offer"):  # the figure only (the label is its own block), digits large, signs smaller
            label = next((a["text"] for a in blocks if a["role"] in ("apr_label", "offer_label")), "")
            figure = b["text"][len(label):]
            suffix = "起" if figure.endswith("起") else ""
            runs = figure_runs(figure[: len(figure) - len(suffix)], suffix)
            text = "".join(f"<span style='font-size:{b['size'] * k:.0f}px'>{html.escape(t)}</span>" for t, k in runs)
        parts.append(f"<div class='b' style='{style}top:{y0 + (down - asc) * b['size']:.1f}px'>{text}</div>")
    parts.append("</div></body></html>")
    return "".join(parts)


def chromium_rates(renderer: PosterRenderer, jobs: dict, seconds: float) -> tuple[dict[str, float],
                                                                                    dict[str, float]]:
    """Creatives per second (wall) and Chromium's CPU ms per creative (all its processes) for each job."""
    from playwright.sync_api import sync_playwright

    out, cpu = {}, {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        root = Path(tmp)
        (root / "fonts").mkdir()
        for info in registry().values():
            shutil.copy(info.path, root / "fonts" / info.path.name)
        assets = _Assets(root)
        # Playwright gives every launch a fresh temporary profile itself (it refuses --user-data-dir in args)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        page = browser.new_page()
        pal = renderer.palette
        for name, job in jobs.items():
            _, entry = renderer.render(job)
            zone = tuple(entry["engines"]["layout"]["zone"])
            renderer.background(job.channel, zone).image.save(root / f"{name}.png")  # drawn once
            doc = html_for(entry, f"{assets.base}/{name}.png", assets.base, pal)
            clip = {"x": 0, "y": 0, "width": entry["width"], "height": entry["height"]}
            page.set_viewport_size({"width": clip["width"], "height": clip["height"]})

            def shot(doc=doc, clip=clip):
                page.set_content(doc, wait_until="load")
                page.evaluate("Promise.all([...document.fonts].map(f => f.load())).then(() => document.fonts.ready)"
                              ".then(() => document.fonts.size)")
                return page.screenshot(type="jpeg", quality=90, clip=clip)

            Image.open(io.BytesIO(shot())).save(f"/tmp/bench_chromium_{name}.png")
            out[name] = rate(shot, seconds)
            cpu[name] = cpu_ms(shot, seconds, chromium_pids())
        browser.close()
        assets.close()
    return out, cpu


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    try:
        chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30,
                                  check=False).stdout.strip().split("\n")[0] or f"{CHROMIUM}: no version"
    except (OSError, subprocess.TimeoutExpired):
        chromium = f"Chromium: none at {CHROMIUM}"
    try:
        pw = version("playwright")
    except PackageNotFoundError:
        pw = "not installed"
    return (f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}, Pillow {PIL.__version__}; "
            f"{chromium}, playwright {pw}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each timing window")
    ap.add_argument("--no-chromium", action="store_true", help="skip the Chromium baseline")
    args = ap.parse_args()
    brief = load_brief(BRIEF)
    renderer = PosterRenderer.for_brief(brief)
    jobs = {name: plan_jobs(brief, channels=[name])[0] for name in SIZES}

    steady = {n: rate(lambda j=j: renderer.render(j), args.seconds) for n, j in jobs.items()}
    steady_cpu = {n: cpu_ms(lambda j=j: renderer.render(j), args.seconds) for n, j in jobs.items()}
    cold = {n: rate(lambda j=j: PosterRenderer.for_brief(brief).render(j), args.seconds) for n, j in jobs.items()}
    workers = os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:  # the same steady renders spread over the cores, 8 per batch
        threaded = {n: 8 * rate(lambda j=j: list(pool.map(renderer.render, [j] * 8)), args.seconds)
                    for n, j in jobs.items()}
    encoded = {}
    for n, j in jobs.items():  # mkt's own encode step alone, on the finished poster (same settings, same metadata)
        data, entry = renderer.render(j)
        img = Image.open(io.BytesIO(data)).convert("RGB")
        img.save(f"/tmp/bench_mkt_{n}.png")
        meta = {"Software": "mkt (mktcli)", "Description": "{}"}
        encoded[n] = rate(lambda im=img, j=j, m=meta: encode(im, "jpeg", j.channel.max_bytes, m), args.seconds)
        enc_note = ", ".join(f"{k} {v}" for k, v in entry["encoder"].items())
    with tempfile.TemporaryDirectory() as tmp:
        n_bundle = len(plan_jobs(brief))
        # images only (no PSD/SVG, no registry), the figure this benchmark has always reported; the whole bundle
        # with its layered files and registry is timed by benchmarks/bundle.py and whole-process in
        # docs/benchmarks.md
        bundle = rate(lambda: make_posters(BRIEF, Path(tmp) / "out", layered=False, register=False),
                      args.seconds) * n_bundle

    chrome: dict[str, float] = {}
    chrome_cpu: dict[str, float] = {}
    why = ""
    if not args.no_chromium:
        if not Path(CHROMIUM).exists():
            why = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        else:
            try:
                chrome, chrome_cpu = chromium_rates(renderer, jobs, args.seconds)
            except ImportError:
                why = "playwright is not installed (pip install -e '.[bench]' or pip install playwright)"
            except Exception as e:  # noqa: BLE001 - a browser that will not start must not hide mkt's figures
                why = f"Chromium failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    print(f"machine: {machine()}")
    print(f"{'size':<11}{'mkt steady c/s':>16}{f'mkt {workers} threads':>15}{'mkt cold c/s':>14}"
          f"{'JPEG encode/s':>15}{'chromium c/s':>14}{'ratio':>8}")
    for name, label in SIZES.items():
        c = chrome.get(name)
        ratio = f"{steady[name] / c:.1f}×" if c else "n/a"
        print(f"{label:<11}{steady[name]:>16.1f}{threaded[name]:>15.1f}{cold[name]:>14.1f}{encoded[name]:>15.1f}"
              f"{(f'{c:.1f}' if c else 'n/a'):>14}{ratio:>8}")
    print("mkt steady = PosterRenderer.render, key visual cached by the renderer after the first call (as across a "
          "brief's segments), one thread; cold = a new renderer per poster (background drawn every time)")
    print(f"JPEG encode/s = mkt's encode step alone on the finished poster ({enc_note}); chromium = set_content + "
          "fonts ready + JPEG q90 screenshot, one page; ratio = mkt steady / chromium")
    print("per poster, one thread (ms): total = compose + encode; the encode-only floor; mkt's overhead above it")
    for name, label in SIZES.items():
        total, floor = 1000 / steady[name], 1000 / encoded[name]
        over = total - floor
        c = chrome.get(name)
        print(f"  {label:<10} total {total:6.1f}  encode floor {floor:5.1f}  overhead {over:6.1f} "
              f"({over / floor:.2f}× the encode; target ≤ 1.5×)"
              + (f"  ·  {steady[name] / c:.1f}× Chromium (target ≥ 5×)" if c else ""))
    if chrome_cpu:
        print("CPU ms per creative (user + system; mkt: this process, one thread; Chromium: all its processes, not "
              "Playwright's driver) — a cost that other load on the machine barely moves:")
        for name, label in SIZES.items():
            c = chrome_cpu.get(name)
            if c:
                print(f"  {label:<10} mkt {steady_cpu[name]:6.1f}  chromium {c:6.1f}  ratio "
                      f"{c / steady_cpu[name]:.1f}× (target ≥ 5×)")
    print(f"farm-loan bundle ({n_bundle} posters, make_posters, images + manifest, no layered files or "
          f"registry): {bundle:.1f} creatives/s")
    if why:
        print(f"chromium baseline skipped: {why}")
    ok_ratio = ("met" if all(steady[n] / chrome[n] >= 5 for n in chrome) else "MISSED") if chrome else "n/a"
    ok_cpu = ("met" if all(chrome_cpu[n] / steady_cpu[n] >= 5 for n in chrome_cpu) else "MISSED") if chrome_cpu \
        else "n/a"
    big = "splash_1080x1920"
    over_ratio = (1000 / steady[big] - 1000 / encoded[big]) / (1000 / encoded[big])
    print(f"targets: overhead ≤ 1.5× the encode at 1080×1920 {'met' if over_ratio <= 1.5 else 'MISSED'} "
          f"({over_ratio:.2f}×); ≥5× Chromium {ok_ratio} (wall), {ok_cpu} (CPU); ≥30 creatives/s for the bundle "
          f"{'met' if bundle >= 30 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
