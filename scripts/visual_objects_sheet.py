#!/usr/bin/env python3
"""Draw every vendored vector object (assets/visuals/fluent-emoji) into one PNG contact sheet, to look at.

Each tile shows the object at 128 px (its whole viewBox) on a light and a dark half, so a stray dark or light edge
shows, with its name, Chinese label and tags. Run from the repository root; the sheet is not kept in git::

    python scripts/visual_objects_sheet.py                 # writes /tmp/fluent-sheet.png
    python scripts/visual_objects_sheet.py -o sheet.png --size 96 --tag farm
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from mktcli.paths import fonts_dir  # noqa: E402
from mktcli.visual import vector  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=Path("/tmp/fluent-sheet.png"))
    ap.add_argument("--size", type=int, default=128, help="object height in px (default 128)")
    ap.add_argument("--cols", type=int, default=10)
    ap.add_argument("--tag", help="only objects with this tag")
    args = ap.parse_args()
    objs = [o for o in vector.objects().values() if not args.tag or args.tag in o.tags]
    s, cols = args.size, args.cols
    tw, th = s + 72, s + 58
    rows = (len(objs) + cols - 1) // cols
    sheet = Image.new("RGB", (cols * tw, rows * th), "#f4f6fa")
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.truetype(str(fonts_dir() / "NotoSansSC-Regular.otf"), 13)
    small = ImageFont.truetype(str(fonts_dir() / "NotoSansSC-Regular.otf"), 10)
    t0 = time.perf_counter()
    for i, o in enumerate(objs):
        x, y = (i % cols) * tw, (i // cols) * th
        draw.rectangle((x + 20 + s // 2, y + 4, x + 20 + s, y + 4 + s), fill="#2b3040")
        im = vector.raster(o.name, s, trim=False)
        sheet.paste(im, (x + 20 + (s - im.width) // 2, y + 4), im)
        draw.text((x + 6, y + s + 8), f"{o.name} {o.label_zh}", fill="#111", font=font)
        draw.text((x + 6, y + s + 28), " ".join(o.tags)[:40], fill="#666", font=small)
    took = time.perf_counter() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"{len(objs)} objects at {s} px in {took:.2f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
