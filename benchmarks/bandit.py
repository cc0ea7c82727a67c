"""Bandit benchmark: a simulated slot where new creatives arrive every period; Thompson sampling with a floor for new
creatives (mktcli.learn.bandit) against UCB1, a uniform split and an oracle, in the same run on the same worlds.

    python benchmarks/bandit.py [--seeds 5] [--periods 30] [--per-period 20000] [--json FILE]

A world (one seed): `--initial` creatives at period 0, `--new` more at the start of every later period, each with a
fixed CTR drawn log-normally around 1.8% (90% between 1.0% and 3.2%), so some newcomers beat the incumbents and most
do not. Every policy sees the same world (same arrivals, same CTRs); clicks ~ Binomial(impressions, CTR).

  thompson    per period: shares from the log's decayed counts (half-life `--half-life` days), impressions split
              by those shares (largest remainder, as an ad server splits by weight), clicks come back at period end.
  ucb1        classic UCB1 online, re-deciding every `--ucb-batch` impressions with the clicks of every earlier batch
              (immediate feedback: more than a daily log gives it), undecayed counts. Batches of 100 rather than single
              impressions keep the run fast; the index hardly moves within 100 impressions.
  ucb1-daily  mktcli.learn.bandit.ucb1_shares from the log once per period (clicks come back at period end).
  ucb-tuned   as ucb1 with the bonus scaled by `--ucb-c` (default 0.05, the best of 1, 0.3, 0.1, 0.05, 0.03,
              0.02, 0.01 on these worlds: tuned here, so the strongest UCB this benchmark knows): how UCBs are
              often deployed when the textbook bonus explores too much at 1-3% CTRs.
  thompson-nofloor  thompson with floor 0: what the floor costs in clicks.
  uniform     every live creative the same share.
  oracle      the whole period to the creative with the highest true CTR (for regret).

Targets (exit 1 and FAIL if missed): thompson gets more clicks than ucb1 and ucb1-daily (mean over seeds), and every
creative that arrives after period 0 gets at least the floor in its first period under thompson, in every seed
(to one impression's rounding)."""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mktcli.learn.bandit import (  # noqa: E402
    Arm, ThompsonAllocator, decayed_counts, ucb1_index, ucb1_shares, uniform_shares)

POLICIES = ("thompson", "thompson-nofloor", "ucb1", "ucb1-daily", "ucb-tuned", "uniform", "oracle")
DAY0 = date(2026, 1, 1)


def make_world(seed: int, periods: int, initial: int, new: int) -> tuple[np.ndarray, np.ndarray]:
    """CTR and arrival period of every creative (creative i arrives at arrive[i])."""
    rng = np.random.default_rng([seed, 0])
    arrive = np.concatenate([np.zeros(initial, int), np.repeat(np.arange(1, periods), new)])
    ctr = np.clip(np.exp(rng.normal(np.log(0.018), 0.35, size=len(arrive))), 0.002, 0.2)
    return ctr, arrive


def apportion(shares: np.ndarray, total: int) -> np.ndarray:
    """Integer impressions summing to `total`, as close to shares * total as possible (largest remainder)."""
    raw = np.asarray(shares, float) * total
    out = np.floor(raw + 1e-9).astype(int)
    left = total - out.sum()
    if left > 0:
        out[np.argsort(-(raw - out), kind="stable")[:left]] += 1
    return out


def simulate(seed: int, *, periods: int = 30, per_period: int = 20000, initial: int = 5, new: int = 2,
             floor: float = 0.05, half_life: float | None = 14.0, ucb_batch: int = 100, ucb_c: float = 0.05,
             draws: int = 4000, policies: tuple[str, ...] = POLICIES) -> dict[str, dict]:
    """Run every policy on the same world; per policy: clicks, expected clicks, first-period share of newcomers."""
    ctr, arrive = make_world(seed, periods, initial, new)
    ids = [f"c{i:03d}" for i in range(len(ctr))]
    out = {}
    for pi, name in enumerate(policies):
        rng = np.random.default_rng([seed, pi + 1])
        alloc = ThompsonAllocator(floor=0.0 if name == "thompson-nofloor" else floor, draws=draws, seed=rng)
        imps = np.zeros(len(ctr))            # cumulative, undecayed
        clicks = np.zeros(len(ctr))
        rows = []                            # the daily log: (id, day, impressions, clicks)
        first_share: list[float] = []
        total_clicks = expected = 0.0
        for t in range(periods):
            live = np.flatnonzero(arrive <= t)
            today = DAY0 + timedelta(days=t)
            if name in ("ucb1", "ucb-tuned"):   # online: decide, serve a batch, see its clicks, decide again
                c = 1.0 if name == "ucb1" else ucb_c
                n_t = np.zeros(len(live))
                c_t = np.zeros(len(live))
                for k in range(0, per_period, ucb_batch):
                    size = min(ucb_batch, per_period - k)
                    j = int(np.argmax(ucb1_index(imps[live] + n_t, clicks[live] + c_t, c)))
                    n_t[j] += size
                    c_t[j] += rng.binomial(size, ctr[live[j]])
            else:
                if name.startswith("thompson"):
                    counts = decayed_counts(rows, today=today, half_life_days=half_life)
                    arms = [Arm(ids[i], *counts.get(ids[i], (0.0, 0.0)), new=imps[i] == 0) for i in live]
                    sh = alloc.shares(arms)
                elif name == "ucb1-daily":
                    sh = ucb1_shares([Arm(ids[i], imps[i], clicks[i], new=imps[i] == 0) for i in live], per_period,
                                     batch=ucb_batch)
                elif name == "uniform":
                    sh = uniform_shares([Arm(ids[i], 0, 0) for i in live])
                else:                        # oracle
                    best = live[np.argmax(ctr[live])]
                    sh = {ids[i]: float(i == best) for i in live}
                n_t = apportion(np.array([sh[ids[i]] for i in live]), per_period).astype(float)
                c_t = rng.binomial(n_t.astype(int), ctr[live]).astype(float)
            for j, i in enumerate(live):
                if arrive[i] == t and t > 0:
                    first_share.append(n_t[j] / per_period)
                if n_t[j]:
                    rows.append((ids[i], today, n_t[j], c_t[j]))
            imps[live] += n_t
            clicks[live] += c_t
            total_clicks += c_t.sum()
            expected += float(n_t @ ctr[live])
        out[name] = {"clicks": total_clicks, "expected_clicks": expected, "first_period_share": first_share}
    if "oracle" in out:
        for r in out.values():
            r["regret"] = out["oracle"]["expected_clicks"] - r["expected_clicks"]
    return out


def _ms(xs: list[float], fmt: str) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{format(statistics.mean(xs), fmt)} ± {format(sd, fmt)}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--periods", type=int, default=30)
    ap.add_argument("--per-period", type=int, default=20000)
    ap.add_argument("--initial", type=int, default=5)
    ap.add_argument("--new", type=int, default=2, help="new creatives arriving each period after the first")
    ap.add_argument("--floor", type=float, default=0.05)
    ap.add_argument("--half-life", type=float, default=14.0)
    ap.add_argument("--ucb-batch", type=int, default=100)
    ap.add_argument("--ucb-c", type=float, default=0.05, help="bonus scale of ucb-tuned")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    t0 = time.perf_counter()
    runs = [simulate(s, periods=a.periods, per_period=a.per_period, initial=a.initial, new=a.new, floor=a.floor,
                     half_life=a.half_life, ucb_batch=a.ucb_batch, ucb_c=a.ucb_c) for s in range(a.seeds)]
    secs = time.perf_counter() - t0
    print(f"{a.seeds} seeds × {a.periods} periods × {a.per_period:,} impressions; {a.initial} creatives at start, "
          f"{a.new} new per period; floor {a.floor:.0%}, half-life {a.half_life:g} days, UCB batch {a.ucb_batch}, "
          f"ucb-tuned c {a.ucb_c:g}; "
          f"{secs:.1f} s\n")
    print("| policy | clicks (mean ± sd) | regret vs oracle (expected clicks) | clicks ÷ ucb1 | "
          "new creative's first-period share: min | median | new creatives below the floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    figures = {}
    for p in POLICIES:
        clicks = [r[p]["clicks"] for r in runs]
        regret = [r[p]["regret"] for r in runs]
        ratio = [r[p]["clicks"] / r["ucb1"]["clicks"] for r in runs]
        firsts = [r[p]["first_period_share"] for r in runs]
        mins = [min(f) for f in firsts]
        meds = [float(np.median(f)) for f in firsts]
        below = [float(np.mean(np.array(f) < a.floor - 1 / a.per_period)) for f in firsts]
        figures[p] = {"clicks": clicks, "regret": regret, "clicks_vs_ucb1": ratio,
                      "first_period_share_min": mins, "first_period_share_median": meds,
                      "new_below_floor": below}
        print(f"| {p} | {_ms(clicks, ',.0f')} | {_ms(regret, ',.0f')} | {_ms(ratio, '.3f')} | "
              f"{_ms(mins, '.2%')} | {_ms(meds, '.2%')} | {_ms(below, '.0%')} |")
    th = figures["thompson"]
    checks = {
        "thompson_more_clicks_than_ucb1": statistics.mean(th["clicks"]) > statistics.mean(figures["ucb1"]["clicks"]),
        "thompson_more_clicks_than_ucb1_daily":
            statistics.mean(th["clicks"]) > statistics.mean(figures["ucb1-daily"]["clicks"]),
        "every_new_creative_gets_floor": min(th["first_period_share_min"]) >= a.floor - 1 / a.per_period,
    }
    wins = sum(r["thompson"]["clicks"] > r["ucb1"]["clicks"] for r in runs)
    print(f"\nthompson beats ucb1 on clicks in {wins}/{a.seeds} seeds; smallest first-period share of a new creative "
          f"under thompson: {min(th['first_period_share_min']):.2%} (floor {a.floor:.0%})")
    checks = {k: bool(v) for k, v in checks.items()}
    for k, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {k}")
    if a.json:
        a.json.write_text(json.dumps({"machine": platform.machine(), "python": platform.python_version(),
                                      "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
                                      "seconds": round(secs, 1), "figures": figures, "checks": checks}, indent=1))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
