"""Compliance-check benchmark: checks per second on finished posters without OCR (placement record, text rules,
implicit label) and with the OCR read-back of the placed boxes, against reading the whole image (the baseline,
same run, same posters).

    python benchmarks/checks.py [--rounds 3]

Posters come from the four example briefs (39 images, 1080×1920 down to 728×90)."""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image  # noqa: E402

from mktcli import make_posters  # noqa: E402
from mktcli.checks import ocr  # noqa: E402
from mktcli.checks.image import implicit_label_check  # noqa: E402
from mktcli.checks.readback import read_back  # noqa: E402
from mktcli.checks.rules import load_rules  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rs = load_rules()
    with tempfile.TemporaryDirectory() as tmp:
        items = []
        for b in ("farm-loan", "credit-card", "deposit", "wealth"):
            res = make_posters(ROOT / "examples" / "briefs" / f"{b}.yaml", tmp)
            for c in res.creatives:
                if c.data["format"] != "text":
                    p = res.out_dir / c.data["path"]
                    items.append((c.data, p.read_bytes(), Image.open(p).convert("RGB")))
        n = len(items)
        # 1. without OCR: text rules on every placed string + the implicit label read from the file
        t0 = time.perf_counter()
        for _ in range(args.rounds):
            for d, data, _img in items:
                for b in d["blocks"]:
                    rs.check_text(b["text"], category="loan", apr_shown=True)
                implicit_label_check(rs, data, content_id=d["id"], generative=False)
        no_ocr = n * args.rounds / (time.perf_counter() - t0)
        out = {"machine": platform.processor() or platform.machine(), "posters": n,
               "checks_per_s_without_ocr": round(no_ocr, 1)}
        if ocr.available():
            ocr._reader()   # load the ONNX models once, outside the timing
            found = 0
            t0 = time.perf_counter()
            for d, _data, img in items:
                res = read_back(img, d["blocks"], d["texts"])
                found += all(r["found"] for r in res)
            crop = time.perf_counter() - t0
            t0 = time.perf_counter()
            for d, _data, img in items:
                ocr.read_lines(img)
            full = time.perf_counter() - t0
            splash = [(d, img) for d, _x, img in items if (d["width"], d["height"]) == (1080, 1920)]
            t0 = time.perf_counter()
            for d, img in splash:
                read_back(img, d["blocks"], d["texts"])
            per_splash = (time.perf_counter() - t0) / max(1, len(splash))
            out.update({"ocr_readback_per_s": round(n / crop, 2), "ocr_readback_s_per_poster": round(crop / n, 3),
                        "ocr_readback_s_per_1080x1920": round(per_splash, 3),
                        "whole_image_ocr_s_per_poster": round(full / n, 3),
                        "crop_vs_whole_speedup": round(full / crop, 2), "read_back_exactly": f"{found}/{n}"})
        print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
