"""Traffic allocation for one segment's slot from click feedback (pure numpy; see docs/learn-bandit.md).

The feedback arrives as a daily log, so the allocator plans a whole period at once: each creative's share of the
next period's impressions. Beta-Bernoulli Thompson sampling gives each creative its probability of being the best
one; creatives that have had no traffic yet get at least a floor, so a new batch is always shown. UCB1 and a
uniform split are here as baselines for benchmarks/bandit.py."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Sequence

import numpy as np


@dataclass
class Arm:
    """One creative in the slot. Counts may be decayed (hence float). `new`: no traffic before this period."""
    id: str
    impressions: float
    clicks: float
    new: bool = False


def decayed_counts(rows: Iterable[tuple[str, date, float, float]], *, today: date,
                   half_life_days: float | None) -> dict[str, tuple[float, float]]:
    """Sum (impressions, clicks) per arm, each day's counts weighted by 0.5 ** (age_days / half_life_days).

    Old data fades so a creative that wore out (or a season that ended) stops dominating; None or inf: no decay.
    Rows are (arm_id, day, impressions, clicks); a day after `today` or clicks > impressions is an error, not data."""
    if half_life_days is not None and not half_life_days > 0:
        raise ValueError(f"half_life_days must be > 0 (or None for no decay), got {half_life_days}")
    decay = half_life_days is not None and math.isfinite(half_life_days)
    out: dict[str, list[float]] = {}
    for arm_id, day, imps, clicks in rows:
        age = (today - day).days
        if age < 0:
            raise ValueError(f"{arm_id}: feedback for {day} is after today ({today})")
        if imps < 0 or clicks < 0 or clicks > imps:
            raise ValueError(f"{arm_id} {day}: need 0 <= clicks <= impressions, got {clicks} / {imps}")
        w = 0.5 ** (age / half_life_days) if decay else 1.0
        t = out.setdefault(arm_id, [0.0, 0.0])
        t[0] += w * imps
        t[1] += w * clicks
    return {k: (v[0], v[1]) for k, v in out.items()}


def _sorted(arms: Sequence[Arm]) -> list[Arm]:
    """Arms in id order, so the result for a seed does not depend on the order the caller lists them in."""
    ids = [a.id for a in arms]
    if len(set(ids)) != len(ids):
        raise ValueError("arm ids must be unique")
    if not arms:
        raise ValueError("no arms to allocate")
    for a in arms:
        if a.impressions < 0 or a.clicks < 0 or a.clicks > a.impressions:
            raise ValueError(f"{a.id}: need 0 <= clicks <= impressions, got {a.clicks} / {a.impressions}")
    return sorted(arms, key=lambda a: a.id)


def apply_floor(shares: np.ndarray, is_new: np.ndarray, floor: float) -> np.ndarray:
    """Raise every new arm to at least `floor`, taking the mass proportionally from the others (water-filling:
    an arm pushed below the floor by the rescaling is raised in the next round). Sums to 1."""
    p = np.asarray(shares, dtype=float).copy()
    fixed = np.zeros(len(p), dtype=bool)
    while True:
        low = is_new & ~fixed & (p < floor)
        if not low.any():
            return p
        fixed |= low
        p[fixed] = floor
        free = ~fixed
        rest = 1.0 - floor * fixed.sum()
        mass = p[free].sum()
        if not free.any():
            return p / p.sum()
        p[free] = p[free] * (rest / mass) if mass > 0 else rest / free.sum()


@dataclass
class ThompsonAllocator:
    """Beta-Bernoulli Thompson sampling for one segment's slot.

    floor: each new arm's minimum share of the next period; when there are many new arms the floors together take at
      most `max_floor_total` (each gets max_floor_total / n_new), so proven creatives keep most of the traffic.
    prior_strength: arms start from Beta(s * p0, s * (1 - p0)) with s = prior_strength pseudo-impressions and p0 the
      segment's typical creative CTR: the mean over creatives with data of their CTRs, each shrunk toward the pooled
      CTR (`default_ctr` when the segment has no data yet). Not the pooled CTR itself: under a bandit most impressions
      go to the leaders, so the pooled CTR is close to the best creative's and would make every newcomer look as good
      as the leader (in benchmarks/bandit.py, at s = 500, that gave newcomers a median ~15% of their first period
      instead of ~5.5%, and ~7% fewer clicks). A flat Beta(1, 1) would be worse still: "CTR around 50%" for an arm without data, so every
      new arm would win nearly every draw and take the slot. s = 500 at a 2% CTR is ~10 pseudo-clicks: a prior
      spread of about ±45% of the CTR, about how much creatives in one slot differ, which the arm's own clicks
      override within a few thousand impressions.
    new_lift: multiplies p0 for new arms (1.0 = no optimism, the default: the floor already guarantees them
      traffic, and a lifted prior would hand them extra share on no evidence).
    draws: Monte Carlo samples for the probability that each arm is best. seed: int or numpy Generator; the same
      seed and the same calls give the same shares."""
    floor: float = 0.05
    max_floor_total: float = 0.5
    max_new_total: float | None = None   # at most this share for all new arms together (None: no cap)
    prior_strength: float = 500.0
    new_lift: float = 1.0
    default_ctr: float = 0.02
    draws: int = 4000
    seed: int | np.random.Generator | None = 0

    def __post_init__(self) -> None:
        if self.max_new_total is not None and not 0 < self.max_new_total <= 1:
            raise ValueError("max_new_total must be in (0, 1]")
        if not 0 <= self.floor < 1 or not 0 <= self.max_floor_total < 1:
            raise ValueError("floor and max_floor_total must be in [0, 1)")
        if self.prior_strength <= 0 or self.draws < 1 or self.new_lift <= 0 or not 0 < self.default_ctr < 1:
            raise ValueError("prior_strength, draws and new_lift must be > 0 and default_ctr in (0, 1)")
        self.rng = self.seed if isinstance(self.seed, np.random.Generator) else np.random.default_rng(self.seed)

    def posterior(self, arms: Sequence[Arm]) -> tuple[np.ndarray, np.ndarray]:
        """Beta (alpha, beta) per arm, in the order given."""
        imps = np.array([a.impressions for a in arms], dtype=float)
        clicks = np.array([a.clicks for a in arms], dtype=float)
        seen = imps > 0
        if seen.any() and clicks.sum() > 0:
            pooled = clicks[seen].sum() / imps[seen].sum()
            s = self.prior_strength
            p0 = float(np.mean((clicks[seen] + s * pooled) / (imps[seen] + s)))
        else:
            p0 = self.default_ctr    # a segment with no clicks yet still has a proper prior
        p0 = min(p0, 0.5)
        mean = np.where([a.new for a in arms], min(p0 * self.new_lift, 0.99), p0)
        return self.prior_strength * mean + clicks, self.prior_strength * (1 - mean) + imps - clicks

    def win_probability(self, arms: Sequence[Arm]) -> dict[str, float]:
        """Fraction of `draws` joint posterior samples in which each arm has the highest CTR (no floor)."""
        arms = _sorted(arms)
        a, b = self.posterior(arms)
        samples = self.rng.beta(a, b, size=(self.draws, len(arms)))
        wins = np.bincount(samples.argmax(axis=1), minlength=len(arms)) / self.draws
        return {arm.id: float(w) for arm, w in zip(arms, wins)}

    def shares(self, arms: Sequence[Arm]) -> dict[str, float]:
        """Each arm's share of the next period: probability of being best, then floors for new arms; sums to 1."""
        arms = _sorted(arms)
        p = np.array(list(self.win_probability(arms).values()))
        is_new = np.array([a.new for a in arms])
        n_new = int(is_new.sum())
        cap = self.max_new_total
        if n_new and cap is not None and n_new < len(arms) and p[is_new].sum() > cap:
            # many untried arms each have a wide posterior, so one of them wins most draws: without a cap a batch
            # of new creatives would take nearly the whole slot from proven ones
            old = p[~is_new].sum()
            p[is_new] *= cap / p[is_new].sum()
            p[~is_new] = p[~is_new] * ((1 - cap) / old) if old > 0 else (1 - cap) / (~is_new).sum()
        if n_new and self.floor > 0:
            total = self.max_floor_total if cap is None else min(self.max_floor_total, cap)
            p = apply_floor(p, is_new, min(self.floor, total / n_new))
        return {arm.id: float(x) for arm, x in zip(arms, p)}

    def choose(self, arms: Sequence[Arm], rng: np.random.Generator | None = None) -> str:
        """One Thompson draw: the arm to show for a single impression (no floor; for per-impression simulation)."""
        arms = _sorted(arms)
        a, b = self.posterior(arms)
        return arms[int((rng or self.rng).beta(a, b).argmax())].id


def ucb1_index(impressions: np.ndarray, clicks: np.ndarray, c: float = 1.0) -> np.ndarray:
    """UCB1 (Auer et al. 2002): mean + c * sqrt(2 ln N / n); an untried arm (n = 0) gets +inf, so it is played first.

    c = 1 is the textbook index. Its bonus is built for rewards in [0, 1]: at CTRs of 1-3% it is ten times the gap
    between creatives, so UCB1 keeps exploring and serves a newcomer until its n nears the incumbents'. Deployed UCBs
    often scale it down (c < 1) to exploit more; then a newcomer whose first batch brought few clicks falls below
    the leader and is not served again for a long time (benchmarks/bandit.py shows both)."""
    n = np.asarray(impressions, dtype=float)
    total = n.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        idx = np.asarray(clicks, dtype=float) / n + c * np.sqrt(2 * math.log(max(total, 1.0)) / n)
    return np.where(n > 0, idx, np.inf)


def ucb1_shares(arms: Sequence[Arm], total_impressions: int, *, batch: int = 100,
                c: float = 1.0) -> dict[str, float]:
    """UCB1 as a per-period allocation when clicks only come back with the next period's log.

    The period's `total_impressions` are handed out `batch` at a time, each batch to the arm with the highest UCB1
    index; the served impressions raise n (the ad server knows what it served) but the means stay where the log left
    them (clicks not yet known). Untried arms go first, in id order. batch = total_impressions is "the whole period
    to the argmax". c as in ucb1_index. Deterministic: UCB1 has no randomness."""
    arms = _sorted(arms)
    n = np.array([a.impressions for a in arms], dtype=float)
    clicks = np.array([a.clicks for a in arms], dtype=float)
    mean = np.divide(clicks, n, out=np.zeros_like(n), where=n > 0)
    served = np.zeros(len(arms))
    left = int(total_impressions)
    while left > 0:
        k = min(batch, left)
        seen = n + served
        with np.errstate(divide="ignore", invalid="ignore"):
            idx = mean + c * np.sqrt(2 * math.log(max(seen.sum(), 1.0)) / seen)
        i = int(np.argmax(np.where(seen > 0, idx, np.inf)))
        served[i] += k
        left -= k
    return {a.id: float(s / total_impressions) for a, s in zip(arms, served)}


def uniform_shares(arms: Sequence[Arm]) -> dict[str, float]:
    """Every arm the same share."""
    arms = _sorted(arms)
    return {a.id: 1.0 / len(arms) for a in arms}
