"""Start-up benchmark: how long `mkt --help` and `mkt poster` take before any work, against a bare interpreter
(the baseline, same run).

    python benchmarks/startup.py [--rounds 7]

Prints JSON: the median wall seconds of `python -c pass`, `python -m mktcli --help`, `python -m mktcli poster
--help`, and whether `mkt poster` on a machine without an NVIDIA GPU imported torch (it must not: mktcli/gpu.py),
with each command's ratio to the bare interpreter. The tests check what these commands import, not their
seconds (a loaded machine would fail a timed test); the seconds live here."""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _wall(cmd: list[str], env: dict, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    py = sys.executable
    out: dict = {"machine": f"{platform.machine()} · {os.cpu_count()} cores · {platform.python_version()}",
                 "rounds": args.rounds}
    base = _wall([py, "-c", "pass"], env, args.rounds)
    out["python_s"] = round(base, 3)
    for name, cmd in (("mkt_help_s", [py, "-m", "mktcli", "--help"]),
                      ("mkt_poster_help_s", [py, "-m", "mktcli", "poster", "--help"])):
        s = _wall(cmd, env, args.rounds)
        out[name] = round(s, 3)
        out[name.replace("_s", "_over_python")] = round(s / base, 1)
    with tempfile.TemporaryDirectory() as tmp:   # does a real poster run import torch here?
        code = ("import sys, runpy; sys.argv = ['mkt', 'poster', %r, '-o', %r, '-c', 'app_banner', '-s', "
                "'养殖户·有优惠', '--no-register', '--no-layers']\n"
                "try:\n    runpy.run_module('mktcli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')"
                % (str(ROOT / "examples" / "briefs" / "farm-loan.yaml"), tmp))
        r = subprocess.run([py, "-c", code], capture_output=True, text=True, env={**env, "MKT_HOME": tmp})
        out["poster_imports_torch"] = r.stdout.strip().splitlines()[-1] == "TORCH" if r.stdout.strip() else None
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
