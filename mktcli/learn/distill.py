"""`distill`: attribute clicks to copy features per segment, with a model that copes with sparse data, and keep
only the effects that survive false-discovery control.

The model (one joint fit over all segments; numpy, Newton's method on aggregated counts):

  clicks_i ~ Binomial(impressions_i, p_i),  logit p_i = a[segment, channel] + Σ_j x_ij · β[segment, j]
  β[s, j] = μ_j + δ[s, j],   μ_j ~ N(0, sd_all²),   δ[s, j] ~ N(0, sd_seg²)

so a segment with little data borrows from the others (its effect is shrunk towards the all-segment effect, and
that towards 0). The priors are fixed, not estimated: sd_all 0.2 and sd_seg 0.1 on the log-odds say that a
wording moves CTR by ±20% or so, rarely by ±50% — true of copy, and what keeps a regression with nearly as many
features as creatives from fitting noise (in simulated logs where a planted +30% phrase is in one creative in
seven, sd 0.5 / 0.35 found it in 14 of 30 logs, sd 0.2 / 0.1 in 25 of 30, with no false discoveries either way). An empirical-Bayes
variance fitted to a log where most features do nothing would shrink the few real effects hardest. Creatives
differ by more than binomial noise (pictures, placements): the extra-binomial correlation rho (Williams: a row's
variance is n·p·(1-p)·(1 + (n-1)·rho)) is chosen so the Pearson χ² equals its residual degrees of freedom (N
minus the fit's effective number of parameters), and each row's likelihood is tempered by it (quasi-likelihood),
so the intervals are not too narrow. Posterior means and intervals come from the Laplace approximation (the
inverse Hessian), on the part of each segment's effects its data identify (see `_identified`).

The tests: for each segment × feature with enough support (≥ min_impressions impressions and ≥ min_creatives
creatives both with and without the feature, in that segment), the posterior's z against an interval null
|β| ≤ log(1 + min_lift) — an effect smaller than min_lift is not worth a line — gives a two-sided p-value;
Benjamini–Hochberg at `fdr` over all tested pairs keeps the discoveries. Features that appear in exactly the same
creatives are one group before the fit ('补栏/周转'): the data cannot tell them apart, so neither is claimed alone.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import numpy as np

from ..errors import MktError
from .features import features, look_features
from .knowledge import Effect, Knowledge, SegmentKnowledge, default_knowledge_path, forbidden, load_knowledge

__all__ = ["Observation", "distill", "Knowledge", "load_knowledge", "default_knowledge_path"]


@dataclass
class Observation:
    """One creative × segment × channel, summed over days."""
    creative_id: str
    segment: str
    channel: str
    texts: dict = field(default_factory=dict)
    impressions: int = 0
    clicks: int = 0
    look: dict = field(default_factory=dict)    # engines.layout: the poster's layout family and hero plate


_LABELS = {"rate:起": "rate framed as 起/低至", "rate:range": "rate as a range", "rate:fixed": "rate as one figure",
           "rate:none": "no rate shown", "tone:question": "a question (？)", "tone:exclaim": "an exclamation (！)",
           "tone:imperative": "an opening action verb", "tone:address": "speaking to the reader (您/朋友)",
           "len:short": "short headline (≤ 8)", "len:medium": "medium headline (9–12)",
           "len:long": "long headline (≥ 13)"}


def _label(feature: str) -> str:
    parts = []
    for part in feature.split(" + "):
        kind, _, value = part.partition(":")
        parts.append(f"{value} wording" if kind == "phrase" else f"perk {value}" if kind == "perk"
                     else f"the '{value}' layout" if kind == "layout" else f"the hero on a {value} plate"
                     if kind == "plate" else f"a {value} in the key visual" if kind == "object"
                     else f"the {value} stage" if kind == "stage" else f"the {value} theme" if kind == "theme"
                     else _LABELS.get(part, part))
    return " + ".join(parts)


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _group_name(members: list[str], texts: list[str]) -> str:
    """'phrase:补栏/周转' for words (in reading order), other kinds joined with ' + '."""
    joined = "\n".join(texts)
    phrases = [m for m in members if m.startswith("phrase:")]
    phrases.sort(key=lambda m: (joined.find(m[7:]) if m[7:] in joined else 1 << 30, m))
    rest = sorted(m for m in members if not m.startswith("phrase:"))
    out = ["phrase:" + "/".join(m[7:] for m in phrases)] if phrases else []
    return " + ".join(out + rest)


def _kind(name: str) -> str:
    kinds = list(dict.fromkeys(p.partition(":")[0] for p in name.split(" + ")))
    return kinds[0] if len(kinds) == 1 else "group"


class _Fit:
    """Penalized (MAP) logistic regression with the hierarchical prior, by Newton's method."""

    def __init__(self, X, y, n, seg, icpt, S, K, sd_all, sd_seg):
        self.X, self.y, self.n, self.seg, self.icpt = X, y, n, seg, icpt
        self.S, self.K, self.J = S, K, X.shape[1]
        self.P = K + S * self.J
        cov = sd_seg ** 2 * np.eye(S) + sd_all ** 2 * np.ones((S, S))   # prior of β[·, j] over segments
        Q = np.linalg.inv(cov)
        prec = np.zeros((self.P, self.P))
        prec[np.arange(K), np.arange(K)] = 1e-4                          # channel baselines: flat in effect
        J = self.J
        for s in range(S):
            for t in range(S):
                idx_s = K + s * J + np.arange(J)
                idx_t = K + t * J + np.arange(J)
                prec[idx_s, idx_t] = Q[s, t]
        self.prec = prec
        self.rows = [np.flatnonzero(seg == s) for s in range(S)]
        self.cols = [np.concatenate([np.unique(icpt[r]), K + s * J + np.arange(J)]) for s, r in enumerate(self.rows)]

    def eta(self, theta):
        B = theta[self.K:].reshape(self.S, self.J)
        return theta[self.icpt] + np.einsum("ij,ij->i", self.X, B[self.seg])

    def objective(self, theta, phi):
        eta = self.eta(theta)
        ll = np.sum((self.y * eta - self.n * np.logaddexp(0, eta)) / phi)
        return ll - 0.5 * theta @ self.prec @ theta

    def hessian(self, theta, phi):
        p = _expit(self.eta(theta))
        w = self.n * p * (1 - p) / phi
        H = np.zeros((self.P, self.P))
        for s, r in enumerate(self.rows):
            if not len(r):
                continue
            ks = self.cols[s][: len(self.cols[s]) - self.J]
            Z = np.hstack([(self.icpt[r][:, None] == ks[None, :]).astype(float), self.X[r]])
            H[np.ix_(self.cols[s], self.cols[s])] += Z.T @ (w[r][:, None] * Z)
        return H, p

    def gradient(self, theta, p, phi):
        r = (self.y - self.n * p) / phi
        g = np.zeros(self.P)
        g[: self.K] = np.bincount(self.icpt, r, self.K)
        for s, rows in enumerate(self.rows):
            g[self.K + s * self.J: self.K + (s + 1) * self.J] = self.X[rows].T @ r[rows]
        return g - self.prec @ theta

    def run(self, theta, phi, max_iter=60):
        obj = self.objective(theta, phi)
        for _ in range(max_iter):
            H_lik, p = self.hessian(theta, phi)
            H = H_lik + self.prec
            step = np.linalg.solve(H, self.gradient(theta, p, phi))
            t = 1.0
            while t > 1e-4:
                new = theta + t * step
                new_obj = self.objective(new, phi)
                if new_obj >= obj - 1e-9:
                    break
                t /= 2
            theta, obj = new, new_obj
            if np.max(np.abs(t * step)) < 1e-7:
                break
        H_lik, p = self.hessian(theta, phi)
        cov = np.linalg.inv(H_lik + self.prec)
        edf = float(np.sum(H_lik * cov))   # tr(H_lik Σ): the fit's effective number of parameters
        return theta, cov, p, edf


def distill(observations: Iterable[Observation], *, min_impressions: int = 5000, min_creatives: int = 3,
            fdr: float = 0.05, min_lift: float = 0.02, prior_sd: tuple[float, float] = (0.2, 0.1),
            creative_sd: float = 0.1,
            level: float = 0.95, locale: str = "zh-CN") -> Knowledge:
    """What copy features went with more or fewer clicks, per segment (see the module docstring for the model).
    `prior_sd`: (all-segment sd, segment-deviation sd) on the log-odds."""
    obs = [o for o in observations if o.impressions > 0]
    for o in obs:
        if o.clicks < 0 or o.clicks > o.impressions:
            raise MktError(f"creative {o.creative_id} ({o.segment}, {o.channel}): {o.clicks} clicks for "
                           f"{o.impressions} impressions", "clicks must be between 0 and the impressions")
    if not obs:
        raise MktError("no observations with impressions to learn from", "ingest click logs first")
    if not 0 < fdr < 1:
        raise MktError(f"fdr {fdr} is not a rate", "use a value such as 0.05")

    # ---------------------------------------------------------------- features, support, groups
    cache: dict[tuple, frozenset[str]] = {}
    feats: list[frozenset[str]] = []
    for o in obs:
        texts = json.loads(o.texts) if isinstance(o.texts, str) else dict(o.texts or {})
        key = (o.creative_id, o.channel, json.dumps(texts, ensure_ascii=False, sort_keys=True))
        if key not in cache:
            cache[key] = frozenset(features(texts, o.channel) | look_features(o.look))
        feats.append(cache[key])
    creative = [(o.creative_id, o.channel) for o in obs]
    all_creatives = set(creative)
    has: dict[str, set] = {}
    for c, fs in zip(creative, feats):
        for f in fs:
            has.setdefault(f, set()).add(c)
    kept = [f for f, cs in has.items() if len(cs) >= min_creatives and len(all_creatives - cs) >= min_creatives]
    by_sig: dict[frozenset, list[str]] = {}
    for f in sorted(kept):
        by_sig.setdefault(frozenset(has[f]), []).append(f)
    sample_texts = [" ".join(str(v) for v in (o.texts.values() if isinstance(o.texts, dict) else [o.texts]))
                    for o in obs[:2000]]
    groups = [(_group_name(ms, sample_texts), ms) for ms in by_sig.values()]
    groups.sort()
    J = len(groups)

    segments = sorted({o.segment for o in obs})
    S = len(segments)
    seg_ix = {s: i for i, s in enumerate(segments)}
    pairs = sorted({(o.segment, o.channel) for o in obs})
    pair_ix = {p: i for i, p in enumerate(pairs)}
    N = len(obs)
    X = np.zeros((N, J))
    for j, (_, ms) in enumerate(groups):
        m0 = ms[0]
        X[:, j] = [1.0 if m0 in fs else 0.0 for fs in feats]
    y = np.array([o.clicks for o in obs], float)
    n = np.array([o.impressions for o in obs], float)
    seg = np.array([seg_ix[o.segment] for o in obs])
    icpt = np.array([pair_ix[(o.segment, o.channel)] for o in obs])

    # ---------------------------------------------------------------- the fit, with the dispersion
    sd_all, sd_seg = prior_sd
    fit = _Fit(X, y, n, seg, icpt, S, len(pairs), sd_all, sd_seg)
    theta = np.zeros(fit.P)
    for (s_name, ch), k in pair_ix.items():   # start the baselines at each pair's observed CTR
        m = (seg == seg_ix[s_name]) & (icpt == k)
        rate = (y[m].sum() + 0.5) / (n[m].sum() + 1.0)
        theta[k] = math.log(rate / (1 - rate))
    rho = 0.0   # extra-binomial variation between creatives (Williams): var = n p (1-p) (1 + (n-1) rho)
    phi = np.ones(N)
    for _ in range(5):
        theta, cov, p, edf = fit.run(theta, phi)
        new_rho = _williams_rho(y, n, p, N - edf)
        done = abs(new_rho - rho) <= 0.05 * max(rho, 1e-6)
        # Creatives always differ a little in click rate for reasons other than their words (picture, placement
        # luck). With few creatives per feature the data cannot measure that spread (the model uses most degrees
        # of freedom), and assuming pure binomial noise then claims effects that are not there: the spread is at
        # least `creative_sd` on the log-odds (var of p ≈ sd² (p(1-p))², i.e. rho ≈ sd² p(1-p)).
        floor = creative_sd ** 2 * p * (1 - p)
        rho, phi = new_rho, 1.0 + (n - 1.0) * np.maximum(new_rho, floor)
        if done:
            break
    theta, cov, p, edf = fit.run(theta, phi)
    eta = fit.eta(theta)
    B, sd = _identified(fit, theta, cov, p, phi)

    # ---------------------------------------------------------------- tests
    zq = _z_quantile(0.5 + level / 2)
    d0 = math.log1p(min_lift)
    tests = []   # (p, s, j, support)
    for s in range(S):
        rows = fit.rows[s]
        for j in range(J):
            on = rows[X[rows, j] > 0]
            off = rows[X[rows, j] == 0]
            sup = (int(n[on].sum()), len({creative[i] for i in on}), int(n[off].sum()),
                   len({creative[i] for i in off}))
            if min(sup[0], sup[2]) < min_impressions or min(sup[1], sup[3]) < min_creatives:
                continue
            z = (abs(B[s, j]) - d0) / sd[s, j] if sd[s, j] > 0 else 0.0
            tests.append((min(1.0, 2 * _norm_sf(z)), s, j, sup))
    m_tests = len(tests)
    tests.sort(key=lambda t: t[0])
    cut = 0
    for k, t in enumerate(tests, 1):
        if t[0] <= fdr * k / m_tests:
            cut = k
    qvals = _bh_adjust([t[0] for t in tests])

    # ---------------------------------------------------------------- the knowledge
    know = Knowledge(locale=locale, made={
        "date": date.today().isoformat(), "observations": N, "impressions": int(n.sum()), "clicks": int(y.sum()),
        "segments": S, "features": J, "tests": m_tests, "fdr": fdr, "min_lift": min_lift,
        "min_impressions": min_impressions, "min_creatives": min_creatives, "sd_all": sd_all, "sd_seg": sd_seg,
        "dispersion": float(f"{rho:.3g}"), "creative_sd": creative_sd, "level": level})
    for s_name in segments:
        rows = fit.rows[seg_ix[s_name]]
        know.segments[s_name] = SegmentKnowledge(
            s_name, float(y[rows].sum() / n[rows].sum()), int(n[rows].sum()), len({creative[i] for i in rows}))
    for k in range(cut):
        _, s, j, sup = tests[k]
        rows = fit.rows[s]
        base = eta[rows] - X[rows, j] * B[s, j]
        mean = float(np.sum(n[rows] * _expit(eta[rows])))

        def lift(b):
            return float(np.sum(n[rows] * _expit(base + b))) / mean - 1

        name = groups[j][0]
        b, half = float(B[s, j]), zq * float(sd[s, j])
        e = Effect(name, _kind(name), lift(b), b, (lift(b - half), lift(b + half)), sup[0], sup[1], qvals[k])
        e.note = f"{_label(name)} {_pct_note(e.lift)} CTR vs segment mean, n={sup[0]:,} impressions / {sup[1]} creatives"
        sk = know.segments[segments[s]]
        rules = forbidden(e.words) if e.words else []
        if rules and b > 0:   # compliance wins: a forbidden phrase that 'works' is shown, never used
            e.rules = tuple(rules)
            e.note += f" — blocked by {', '.join(rules)}"
            sk.blocked.append(e)
        elif b > 0:
            sk.works.append(e)
        else:
            e.rules = tuple(rules)
            sk.avoid.append(e)
    for sk in know.segments.values():
        sk.works.sort(key=lambda e: -e.lift)
        sk.avoid.sort(key=lambda e: e.lift)
        sk.blocked.sort(key=lambda e: -e.lift)
    return know


def _williams_rho(y, n, p, df: float) -> float:
    """The extra-binomial correlation rho that makes the Pearson χ² equal its degrees of freedom (0 when the
    binomial already explains the spread, or when there are too few degrees of freedom to tell)."""
    v = np.maximum(n * p * (1 - p), 1e-12)
    r2 = (y - n * p) ** 2 / v

    def chi2(rho):
        return float(np.sum(r2 / (1.0 + (n - 1.0) * rho)))

    if df < 5 or chi2(0.0) <= df:
        return 0.0
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if chi2(mid) > df else (lo, mid)
    return (lo + hi) / 2


def _identified(fit: _Fit, theta, cov, p, phi) -> tuple[np.ndarray, np.ndarray]:
    """Each segment's effects and their posterior sd, on the part the data identify.

    Copy made from templates often has exact dependencies: every headline has two phrases, every creative one
    length bucket and one rate framing. Then 'all these features +c, baseline −2c' fits the data equally well, and
    only the prior decides c — which would add the prior's variance to every effect and hide real ones. The
    effects are projected (in feature coordinates; the baseline absorbs the constant) onto the directions the
    segment's data identify: for two phrases per headline, each phrase's effect is then relative to the average
    phrase (they sum to zero), which is what 'vs segment mean' means there; the fitted values do not change."""
    S, J, K = fit.S, fit.J, fit.K
    B = theta[K:].reshape(S, J).copy()
    sd = np.zeros((S, J))
    w_all = fit.n * p * (1 - p) / phi
    for s, rows in enumerate(fit.rows):
        idx = K + s * J + np.arange(J)
        C = cov[np.ix_(idx, idx)]
        if len(rows):
            w = w_all[rows]
            Xs = fit.X[rows]
            Xc = Xs - (w @ Xs) / max(w.sum(), 1e-12)
            lam, vec = np.linalg.eigh(Xc.T @ (w[:, None] * Xc))
            null = vec[:, lam <= 1e-9 * max(lam.max(initial=0.0), 1e-12)]
            proj = np.eye(J) - null @ null.T
            B[s] = proj @ B[s]
            C = proj @ C @ proj
        sd[s] = np.sqrt(np.maximum(np.diag(C), 0))
    return B, sd


def _pct_note(x: float) -> str:
    return f"{x * 100:+.1f}%" if abs(x) < 0.1 else f"{x * 100:+.0f}%"


def _bh_adjust(ps: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q) for p-values sorted ascending."""
    m = len(ps)
    q = [0.0] * m
    running = 1.0
    for i in range(m - 1, -1, -1):
        running = min(running, ps[i] * m / (i + 1))
        q[i] = running
    return q


def _z_quantile(p: float) -> float:
    """Inverse of the standard normal CDF (bisection; only called once)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 1 - _norm_sf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
