"""Batch throughput: creatives per second for one batch of generated briefs on 1 vs N worker processes (CPU).

    python benchmarks/batch.py --briefs 40 --procs 1 2            # local worker pool (mkt batch --jobs N)
    python benchmarks/batch.py --briefs 40 --procs 1 2 --accelerate   # also accelerate launch --num_processes N
    python benchmarks/batch.py --make-briefs DIR --briefs 200 --broken 5   # just write the briefs

Every run renders the same briefs into a fresh OUT (nothing cached), with the procedural engine and without the
registry, and the ratio to the 1-process run is printed (near N on N free cores is the target). The figures
go into docs/benchmarks.md with the machine they ran on."""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CATEGORIES = {
    "loan": ("惠农e贷", ["首期利息8折", "最高可借30万", "随借随还", "线上申请"], "贷款额度、利率以实际审批结果为准",
             ["补栏周转 不误农时", "经营周转 随借随还", "春耕备耕 资金无忧"], ["3.2%", "3.45%", "3.85%-7.2%"]),
    "deposit": ("三年期大额存单", ["20万元起存", "可转让", "受存款保险保障"], "存款利率以办理时本行挂牌利率为准",
                ["稳稳的幸福 存下来", "安心储蓄 稳健增值"], ["2.15%", "1.95%"]),
    "credit_card": ("金穗信用卡", ["新户首刷礼", "账单分期最长24期", "线上秒速办卡"],
                    "分期年化利率以实际账单为准，请理性消费", ["大额消费 轻松分期", "分期还款 更从容"],
                    ["7.2%-14.4%"]),
}
SEGMENTS = ["养殖户", "种植户", "个体工商户", "工薪族", "新市民"]
CHANNELS = ["app_banner", "moments_16x9", "dsp_300x250", "dsp_728x90", "baidu_feed", "wechat_cover",
            "splash_1080x1920"]
TEXT_CHANNELS = ["sms", "push", "call_script"]
# ways a brief goes wrong in real life: each must be reported with its file and the rest of the batch must complete
BROKEN = [
    ("offer.apr", lambda t: t.replace('apr: "', 'apr: "3,2', 1)),                       # not a rate
    ("channels", lambda t: t.replace("channels: [", "channels: [no_such_channel, ", 1)),  # unknown channel
    ("yaml", lambda t: t.replace("product:\n", "product:\n  name: [unclosed\n", 1)),       # YAML syntax
    ("product", lambda t: t.replace("product:", "produkt:", 1)),                           # missing / unknown key
]


def brief_text(i: int, rng: random.Random) -> str:
    cat = rng.choice(list(CATEGORIES))
    name, perks, disclaimer, heads, rates = CATEGORIES[cat]
    segs = rng.sample(SEGMENTS, rng.randint(1, 2))
    chans = rng.sample(CHANNELS, rng.randint(2, 3)) + rng.sample(TEXT_CHANNELS, rng.randint(0, 1))
    seg_yaml = "".join(f"    - {s}\n" for s in segs)
    return (f"# generated brief {i}\nversion: 1\nname: gen-{i:04d}-{cat.replace('_', '-')}\nbrand: default\n"
            f"product:\n  name: {name}\n  category: {cat}\n  provider: 示例农村商业银行股份有限公司\n"
            f"offer:\n  apr: \"{rng.choice(rates)}\"\n  perks: [{', '.join(rng.sample(perks, 2))}]\n"
            f"audience:\n  segments:\n{seg_yaml}"
            f"message:\n  headline: {rng.choice(heads)}\n  cta: 立即办理\n  disclaimer: {disclaimer}\n"
            f"visual:\n  engine: procedural\n  seed: {rng.randint(1, 999)}\n"
            f"channels: [{', '.join(chans)}]\n")


def make_briefs(folder: Path, n: int, broken: int = 0, seed: int = 0) -> list[Path]:
    """n briefs in folder (deterministic for a seed); `broken` of them spoilt in one of the BROKEN ways."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    bad = set(rng.sample(range(n), broken)) if broken else set()
    paths = []
    for i in range(n):
        text = brief_text(i, rng)
        if i in bad:
            text = BROKEN[i % len(BROKEN)][1](text)
        p = folder / f"brief-{i:04d}.yaml"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    return paths


def _run(cmd: list[str], env: dict) -> tuple[float, dict]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t
    summary = next((json.loads(line) for line in reversed(proc.stdout.splitlines())
                    if line.startswith('{"event": "summary"')), None)
    if summary is None:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return secs, summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--briefs", type=int, default=40)
    ap.add_argument("--broken", type=int, default=0)
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--accelerate", action="store_true", help="also time accelerate launch --num_processes N")
    ap.add_argument("--make-briefs", type=Path, help="only write the generated briefs into this folder")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = ap.parse_args()
    if args.make_briefs:
        make_briefs(args.make_briefs, args.briefs, args.broken)
        print(f"wrote {args.briefs} briefs ({args.broken} broken) to {args.make_briefs}")
        return
    work = Path(tempfile.mkdtemp(prefix="mkt-bench-batch-"))
    briefs = work / "briefs"
    make_briefs(briefs, args.briefs, args.broken)
    env = dict(os.environ, MKT_HOME=str(work / "home"))
    mkt = [sys.executable, "-m", "mktcli", "batch", str(briefs), "--no-register", "--json"]
    rows = []
    for n in args.procs:
        modes = [("pool", mkt + ["-o", str(work / f"out-pool-{n}"), "--jobs", str(n)])]
        if args.accelerate and n > 1:
            modes.append(("accelerate", [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
                                         "--num_processes", str(n), "--num_machines", "1", "--mixed_precision", "no",
                                         "--dynamo_backend", "no", "-m", "mktcli", "batch", str(briefs),
                                         "--no-register", "--json", "--jobs", "1",
                                         "-o", str(work / f"out-acc-{n}")]))
        for mode, cmd in modes:
            secs, s = _run(cmd, env)
            made = s["rendered"] + s["by_other_processes"]
            rows.append({"mode": mode, "processes": n, "creatives": made, "seconds": round(secs, 2),
                         "per_second": round(made / secs, 2)})
    base = next(r for r in rows if r["processes"] == min(args.procs))
    print(f"{platform.machine()} · {os.cpu_count()} cores · python {platform.python_version()} · "
          f"{args.briefs} briefs")
    print(f"{'mode':<11}{'procs':>6}{'creatives':>11}{'seconds':>9}{'per s':>8}{'× 1 proc':>10}")
    for r in rows:
        r["speedup"] = round(r["per_second"] / base["per_second"], 2)
        print(f"{r['mode']:<11}{r['processes']:>6}{r['creatives']:>11}{r['seconds']:>9}{r['per_second']:>8}"
              f"{r['speedup']:>10}")
    if args.json:
        args.json.write_text(json.dumps({"machine": platform.platform(), "cores": os.cpu_count(),
                                         "briefs": args.briefs, "rows": rows}, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
