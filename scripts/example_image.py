#!/usr/bin/env python3
"""Rebuild docs/images/example-posters.jpg, the README's picture: posters of several example briefs and categories
(a farm loan, a credit card, an insurance product without a rate, a deposit) in every size class — a splash, the
1242×290 app card, a feed image, a square, display sizes — rendered with the default embedded engine.

    python scripts/example_image.py [--out docs/images/example-posters.jpg]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SHOWN = [  # (brief, segment or None for the first, channel)
    ("examples/briefs/farm-loan.yaml", "养殖户·有优惠", "splash_1080x1920"),
    ("benchmarks/design-briefs/accident-insurance.yaml", None, "splash_1080x1920"),
    ("examples/briefs/deposit.yaml", None, "splash_1080x1920"),
    ("examples/briefs/farm-loan.yaml", "种植户·无优惠", "app_banner"),
    ("examples/briefs/credit-card.yaml", None, "moments_square"),
    ("benchmarks/design-briefs/merchant-loan.yaml", None, "oceanengine_h"),
    ("examples/briefs/credit-card.yaml", None, "dsp_728x90"),
    ("examples/briefs/wealth.yaml", None, "dsp_300x250"),
]


def render(out: Path) -> list[Image.Image]:
    from mktcli import load_brief, make_posters

    images = []
    cache: dict[str, object] = {}
    for brief_path, seg, channel in SHOWN:
        brief = load_brief(ROOT / brief_path)
        if brief_path not in cache:
            # the README shows the default engine; briefs made for the design benchmark pin procedural
            engine = "illustration" if brief.visual.engine in ("procedural", "auto") else None
            cache[brief_path] = make_posters(brief, out, engine=engine, register=False, layered=False,
                                             channels=[c for _, _, c in SHOWN
                                                       if c in brief.channels] or None)
        res = cache[brief_path]
        segs = [c for c in res.creatives if c.data["channel"] == channel
                and (seg is None or c.data["segment"] == seg)]
        if segs:
            with Image.open(res.out_dir / segs[0].path) as im:
                images.append(im.convert("RGB"))
    return images


def sheet(images: list[Image.Image], width: int = 1800) -> Image.Image:
    """Tall posters in a row, then the wide and small ones under them, on a light grey page."""
    gap = 16
    tall = [im for im in images if im.height > im.width]
    rest = [im for im in images if im.height <= im.width]
    th = 720
    row1 = [im.resize((round(im.width * th / im.height), th), Image.LANCZOS) for im in tall]
    rows = [row1]
    line, w = [], 0
    for im in rest:
        s = min(1.0, 420 / im.height, (width - 2 * gap) / im.width)
        r = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
        if line and w + r.width + gap > width - gap:
            rows.append(line)
            line, w = [], 0
        line.append(r)
        w += r.width + gap
    if line:
        rows.append(line)
    height = gap + sum(max(r.height for r in row) + gap for row in rows)
    page = Image.new("RGB", (width, height), (236, 237, 240))
    y = gap
    for row in rows:
        x = gap
        for r in row:
            page.paste(r, (x, y))
            ImageDraw.Draw(page).rectangle([x - 1, y - 1, x + r.width, y + r.height], outline=(210, 212, 218))
            x += r.width + gap
        y += max(r.height for r in row) + gap
    return page


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "example-posters.jpg")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        page = sheet(render(Path(tmp)))
    page.save(args.out, "JPEG", quality=86, optimize=True, progressive=True)
    print(f"{args.out}: {page.width}×{page.height}, {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
