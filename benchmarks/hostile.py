"""What each hostile brief and file of tests/test_hostile.py does to `mkt poster`, measured: exit code, wall time and
peak memory (RSS, by /usr/bin/time) of the whole process, under the same address-space limit as the tests.

    python benchmarks/hostile.py > table.md          # a Markdown table, one row per case (docs/reliability.md)"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_hostile import BAD_BRIEFS, FILES, MEMORY, _brief, _with  # noqa: E402


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(args: list[str], work: Path, home: Path) -> tuple[int, float, int, str]:
    env = {**os.environ, "MKT_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("MKT_DEBUG", None)
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", sys.executable, "-m", "mktcli", *args], cwd=work, env=env,
                       capture_output=True, text=True, timeout=300, preexec_fn=_limit)
    wall = time.perf_counter() - t
    lines = p.stderr.strip().splitlines()
    rss = int(lines[-1]) if lines and lines[-1].isdigit() else -1
    first = next((ln for ln in lines if ln.startswith(("error", "Error", "internal"))), lines[0] if lines else "")
    return p.returncode, wall, rss, first


def main() -> None:
    print("| case | exit | wall s | peak RSS MB | first line of the message |")
    print("|---|---:|---:|---:|---|")
    for case, text, _ in BAD_BRIEFS:
        with tempfile.TemporaryDirectory() as d:
            work = Path(d)
            p = _brief(work, text)
            code, wall, rss, msg = run(["poster", str(p), "-o", str(work / "out")], work, work / "home")
            print(f"| brief: {case} | {code} | {wall:.1f} | {rss / 1024:.0f} | {_cell(msg, work)} |")
    for case, key, make, _ in FILES:
        with tempfile.TemporaryDirectory() as d:
            work = Path(d)
            p = _brief(work, _with(key, make(work)))
            code, wall, rss, msg = run(["poster", str(p), "-o", str(work / "out")], work, work / "home")
            print(f"| {key}: {case} | {code} | {wall:.1f} | {rss / 1024:.0f} | {_cell(msg, work)} |")


def _cell(msg: str, work: Path) -> str:
    msg = msg.replace(str(work), "…").replace("|", "\\|")
    return msg if len(msg) <= 110 else msg[:107] + "…"


if __name__ == "__main__":
    main()
