"""Bundle benchmark: what the placement-ready extras cost, against the plain poster run (the baseline, same run,
same briefs), and how the registry scales.

    python benchmarks/bundle.py [--rounds 2] [--registry-creatives 20000]

1. `make_posters` on the four example briefs: posters only (no layers, no registry) vs the full bundle (PSD + SVG
   per poster, placement.json, approval.html/md, registry) — seconds and the ratio, and where the full bundle's
   time went (`full_bundle_phases_s`: brief, copy, layout, visuals, compose, encode, psd, svg, approval, registry …,
   summed over the render threads).
2. The byte-limit search: encodes per image and the quality reached, on channels whose limit bites.
3. The registry: creatives registered per second, `find(phrase=…)` and `recall(phrase=…)` latency over N rows,
   and two processes registering at once."""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mktcli import make_posters  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BRIEFS = ["farm-loan", "credit-card", "deposit", "wealth"]


def _run(out: Path, **kw) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = 0
    for b in BRIEFS:
        res = make_posters(ROOT / "examples" / "briefs" / f"{b}.yaml", out, **kw)
        n += sum(1 for c in res.creatives if c.data["format"] != "text")
    return time.perf_counter() - t0, n


def _fake_manifest(folder: Path, i: int, n: int) -> Path:
    """A manifest with n creatives and a 1-byte file each."""
    import hashlib

    d = folder / f"b{i}"
    (d / "seg").mkdir(parents=True, exist_ok=True)
    for k in range(n):   # stand-in files: registering verifies every file's sha256
        (d / "seg" / f"{k}.jpg").write_bytes(b"x")
    x = hashlib.sha256(b"x").hexdigest()
    creatives = [{"id": f"c-{i:04d}{k:08d}", "segment": f"seg{k % 7}", "channel": f"ch{k % 5}", "width": 800,
                  "height": 450, "path": f"seg/{k}.jpg", "format": "jpeg", "bytes": 1, "sha256": x,
                  "texts": {"headline": f"补栏周转 不误农时 {k}", "apr": "年化利率3.2%起"},
                  "engines": {"visual": {"name": "procedural", "seed": k}}, "checks": []} for k in range(n)]
    (d / "manifest.json").write_text(json.dumps({"version": 1, "brief": {"name": f"b{i}", "sha256": "x"},
                                                 "created": "2026-11-26T00:00:00+00:00", "creatives": creatives,
                                                 "files": []}, ensure_ascii=False), encoding="utf-8")
    return d / "manifest.json"


def _writer(db: str, manifests: list[str]) -> float:
    from mktcli.registry.store import open_registry

    t0 = time.perf_counter()
    for m in manifests:
        with open_registry(db) as reg:
            reg.register_manifest(m)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--registry-creatives", type=int, default=20000)
    args = ap.parse_args()
    out: dict = {"machine": f"{platform.machine()} · {os.cpu_count()} cores · {platform.python_version()}"}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MKT_HOME"] = str(Path(tmp) / "home")
        _run(Path(tmp) / "warm", layered=False, register=False)    # fonts, caches
        plain = min(_run(Path(tmp) / f"p{r}", layered=False, register=False)[0] for r in range(args.rounds))
        from mktcli import timings

        full_runs = []
        for r in range(args.rounds):   # the phases of the last full round (mktcli/timings.py), summed over threads
            timings.reset()
            full_runs.append(_run(Path(tmp) / f"f{r}"))
        phases = {row["phase"]: row["seconds"] for row in timings.report(wall=full_runs[-1][0])["phases"]}
        out["full_bundle_phases_s"] = {k: round(v, 3) for k, v in phases.items()}
        full, n = min(t for t, _ in full_runs), full_runs[0][1]
        out["posters"] = n
        out["posters_only_s"] = round(plain, 2)
        out["full_bundle_s"] = round(full, 2)
        out["full_over_posters_only"] = round(full / plain, 2)
        out["ms_per_poster_extra"] = round((full - plain) / n * 1000, 1)
        # what a bundle weighs
        b = Path(tmp) / "f0" / "farm-loan-spring"
        man = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
        kinds: dict[str, int] = {}
        for f in man["files"]:
            kinds[Path(f["path"]).suffix] = kinds.get(Path(f["path"]).suffix, 0) + f["bytes"]
        out["farm_loan_bundle_kb_by_type"] = {k: round(v / 1024) for k, v in sorted(kinds.items())}
        # 2. the byte-limit search, on the sizes whose limit is tight for a busy picture
        from PIL import Image

        from mktcli.export.encode import encode
        import numpy as np
        rng = np.random.default_rng(0)
        img = Image.fromarray(np.clip(np.linspace(0, 255, 1242)[None, :, None] + rng.normal(0, 30, (290, 1242, 3)),
                                      0, 255).astype("uint8"))
        t0 = time.perf_counter()
        data, info = encode(img, ["jpeg"], 204800)
        out["busy_1242x290_under_200KB"] = {"bytes": len(data), "quality": info.get("quality"),
                                           "encodes": info["tries"],
                                           "ms": round((time.perf_counter() - t0) * 1000, 1)}
        # 3. registry
        from mktcli.registry.store import open_registry

        N = args.registry_creatives
        per = 500
        mans = [_fake_manifest(Path(tmp) / "fake", i, per) for i in range(N // per)]
        db = Path(tmp) / "reg.db"
        t = _writer(str(db), [str(m) for m in mans])
        out["registry_register_per_s"] = round(N / t)
        with open_registry(db) as reg:
            t0 = time.perf_counter()
            hits = reg.find(phrase="补栏周转不误农时 123", limit=0)
            out["registry_find_phrase_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            out["registry_find_phrase_hits"] = len(hits)
            t0 = time.perf_counter()
            rec = reg.recall(phrase="不误农时 499", reason="benchmark", out_dir=Path(tmp) / "recall")
            out["registry_recall_phrase_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            out["registry_recalled"] = len(rec.items)
        # two writers at once, against one writer doing both halves
        db2 = Path(tmp) / "reg2.db"
        half = [str(m) for m in mans[: len(mans) // 2]], [str(m) for m in mans[len(mans) // 2:]]
        ctx = mp.get_context("spawn")
        t0 = time.perf_counter()
        with ctx.Pool(2) as pool:
            pool.starmap(_writer, [(str(db2), half[0]), (str(db2), half[1])])
        both = time.perf_counter() - t0
        with open_registry(db2) as reg:
            out["registry_two_writers_rows"] = reg.count()
        out["registry_two_writers_s"] = round(both, 2)
        out["registry_one_writer_s"] = round(t, 2)
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
