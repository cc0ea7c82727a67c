"""`mkt check BUNDLE` against the render it checks: one brief with many segments × image channels, rendered with
`mkt poster` (make_posters, default threads and layers), then checked with OCR read-back — read now in worker
processes, and reused from `mkt poster --verify` (the files unchanged).

    python benchmarks/check_bundle.py --segments 20 --out /tmp/bench-check      # prints one JSON object

Every figure is wall-clock seconds on this machine; `cores` says how many the OCR workers had."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

CHANNELS = ["app_banner", "splash_1080x1920", "moments_16x9", "dsp_300x250", "baidu_feed", "oceanengine_small"]


def brief_text(segments: int) -> str:
    names = [f"客群{i:02d}" for i in range(segments)]
    return f"""version: 1
name: bench-check
product: {{name: 惠农e贷, category: loan, provider: 示例农村商业银行股份有限公司}}
offer: {{apr: "3.2%", perks: [首期利息8折, 最高可借30万]}}
audience:
  segments: [{", ".join(names)}]
message: {{headline: 补栏周转 不误农时, disclaimer: 贷款额度、利率以实际审批结果为准}}
visual: {{seed: 7}}
channels: [{", ".join(CHANNELS)}]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segments", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path("/tmp/mkt-bench-check"))
    ap.add_argument("--jobs", type=int, default=None, help="OCR worker processes (default: one per core)")
    args = ap.parse_args()
    os.environ.setdefault("MKT_HOME", str(args.out / "home"))
    from mktcli.bundle_check import check_bundle
    from mktcli.poster import make_posters

    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    brief = args.out / "brief.yaml"
    brief.write_text(brief_text(args.segments), encoding="utf-8")
    fig: dict = {"segments": args.segments, "channels": len(CHANNELS), "cores": os.cpu_count(),
                 "ocr_jobs": args.jobs or os.cpu_count()}

    t = time.perf_counter()
    res = make_posters(brief, args.out / "a", register=False)
    fig["render_s"] = round(time.perf_counter() - t, 2)
    fig["posters"] = len(res.creatives)
    t = time.perf_counter()
    rep = check_bundle(res.out_dir, jobs=args.jobs)
    fig["check_ocr_now_s"] = round(time.perf_counter() - t, 2)
    fig["check_errors"] = rep.errors()
    t = time.perf_counter()
    check_bundle(res.out_dir, jobs=1)
    fig["check_ocr_one_process_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    check_bundle(res.out_dir, ocr=False)
    fig["check_no_ocr_s"] = round(time.perf_counter() - t, 2)

    t = time.perf_counter()
    res = make_posters(brief, args.out / "b", register=False, verify=True)
    fig["render_verify_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    rep = check_bundle(res.out_dir, jobs=args.jobs)
    fig["check_reusing_verify_s"] = round(time.perf_counter() - t, 2)
    fig["notes"] = rep.notes
    fig["check_over_render"] = round(fig["check_ocr_now_s"] / fig["render_s"], 2)
    json.dump(fig, sys.stdout, ensure_ascii=False, indent=2)
    print()


if __name__ == "__main__":
    main()
