#!/usr/bin/env python3
"""Time mktcli.visual.vector.raster over every vendored object: first call, a new size, and a cache hit.

    python scripts/bench_vector.py               # 256 px
    python scripts/bench_vector.py --px 128 512 1024

first  = the first raster of an object in the process: parse the SVG, measure the artwork's box (one 256 px render)
         and render at the asked size (trimmed);
render = another size of an object already parsed and measured (what the engine pays per new size);
cached = the same (name, size) again: an in-memory cache hit plus the copy handed to the caller.
Times are wall-clock on this machine (note how busy it is); run it twice and take the lower figures.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mktcli.visual import vector  # noqa: E402


def _ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--px", type=int, nargs="+", default=[256])
    args = ap.parse_args()
    names = list(vector.objects())
    rows = {}
    for px in args.px:
        first, render, cached = [], [], []
        vector._tree.cache_clear()
        vector._content_box.cache_clear()
        vector.clear_cache()
        for n in names:
            first.append(_ms(lambda: vector.raster(n, px)))
            vector.clear_cache()
            render.append(_ms(lambda: vector.raster(n, px)))
            cached.append(_ms(lambda: vector.raster(n, px)))
        rows[px] = (first, render, cached)
    print(f"{len(names)} objects, ms per object (median / 90th percentile / max)")
    for px, cols in rows.items():
        parts = []
        for label, xs in zip(("first", "render", "cached"), cols):
            q = statistics.quantiles(xs, n=10)
            parts.append(f"{label} {statistics.median(xs):.1f} / {q[-1]:.1f} / {max(xs):.1f}")
        print(f"{px:>5} px: " + "   ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
