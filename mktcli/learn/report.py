"""`mkt learn report`: CTR by segment × creative family with confidence intervals, the daily trend, and the uplift
of AI-made creatives over human ones where a segment has both — as data (for the table and --json) and as an HTML
page with PNG charts (matplotlib, drawn with the bundled CJK font so segment names are readable)."""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..errors import MktError
from ..export.files import atomic_write
from ..export.pages import render
from ..paths import fonts_dir

Z95 = 1.959964
FAMILIES = ("brief", "headline", "channel", "origin", "layout")
MAX_FAMILIES_CHARTED = 8


def wilson(clicks: float, impressions: float, z: float = Z95) -> tuple[float, float]:
    """95% Wilson interval of a click rate (sane at 0 clicks and for small n, unlike the normal interval)."""
    if impressions <= 0:
        return (0.0, 1.0)
    p = clicks / impressions
    d = 1 + z * z / impressions
    centre = (p + z * z / (2 * impressions)) / d
    half = z * math.sqrt(p * (1 - p) / impressions + z * z / (4 * impressions * impressions)) / d
    return (max(0.0, centre - half), min(1.0, centre + half))


def ratio_interval(c1: float, n1: float, c0: float, n0: float, z: float = Z95) -> tuple[float, float, float] | None:
    """Relative uplift of rate 1 over rate 0 (p1/p0 − 1) with a 95% interval (delta method on the log ratio)."""
    if min(c1, c0) <= 0 or min(n1, n0) <= 0:
        return None
    log_r = math.log((c1 / n1) / (c0 / n0))
    se = math.sqrt(max(1 / c1 - 1 / n1, 0) + max(1 / c0 - 1 / n0, 0))
    return (math.exp(log_r) - 1, math.exp(log_r - z * se) - 1, math.exp(log_r + z * se) - 1)


def uplift_interval(ai: dict[str, list[int]], human: dict[str, list[int]], *, draws: int = 2000,
                    seed: int = 0) -> tuple[float, float, float] | None:
    """Uplift of AI over human click rates with a 95% interval that respects how much creatives differ: the
    creatives of each group are resampled (cluster bootstrap), not the impressions. With fewer than 2 creatives on
    a side the spread between creatives cannot be seen: the binomial interval (delta method) is used instead."""
    import numpy as np

    a = np.array(list(ai.values()), dtype=float).reshape(-1, 2)
    h = np.array(list(human.values()), dtype=float).reshape(-1, 2)
    if a[:, 1].sum() <= 0 or h[:, 1].sum() <= 0:
        return None
    point = (a[:, 1].sum() / a[:, 0].sum()) / (h[:, 1].sum() / h[:, 0].sum()) - 1
    if len(a) < 2 or len(h) < 2:
        r = ratio_interval(a[:, 1].sum(), a[:, 0].sum(), h[:, 1].sum(), h[:, 0].sum())
        return r
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(a), (draws, len(a)))
    ih = rng.integers(0, len(h), (draws, len(h)))
    ra = a[ia, 1].sum(1) / np.maximum(a[ia, 0].sum(1), 1)
    rh = h[ih, 1].sum(1) / np.maximum(h[ih, 0].sum(1), 1)
    ok = rh > 0
    u = ra[ok] / rh[ok] - 1
    lo, hi = np.percentile(u, [2.5, 97.5]) if len(u) else (point, point)
    return (float(point), float(lo), float(hi))


@dataclass
class Cell:
    segment: str
    family: str
    impressions: int = 0
    clicks: int = 0
    creatives: set = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        lo, hi = wilson(self.clicks, self.impressions)
        return {"segment": self.segment, "family": self.family, "impressions": self.impressions,
                "clicks": self.clicks, "ctr": self.clicks / self.impressions if self.impressions else None,
                "ci95": [lo, hi], "creatives": len(self.creatives)}


def _family(row: dict[str, Any], by: str) -> str:
    if by == "brief":
        return row.get("brief") or "(made elsewhere)"
    if by == "headline":
        return (row.get("texts") or {}).get("headline") or "(no headline)"
    if by == "layout":   # the poster's layout family (text creatives have none)
        return (row.get("look") or {}).get("family") or "(text)"
    return str(row.get(by) or "—")


def summarize(rows: list[dict[str, Any]], by: str = "brief") -> dict[str, Any]:
    """The report's numbers from feedback rows (mktcli.learn.store.feedback)."""
    cells: dict[tuple[str, str], Cell] = {}
    seg_tot: dict[str, list[int]] = {}
    days: dict[tuple[str, date], list[int]] = {}
    origin: dict[tuple[str, str], list[int]] = {}
    per_creative: dict[tuple[str, str], dict[str, list[int]]] = {}   # (segment, origin) → creative → [imp, clk]
    for r in rows:
        key = (r["segment"], _family(r, by))
        c = cells.setdefault(key, Cell(*key))
        c.impressions += r["impressions"]
        c.clicks += r["clicks"]
        c.creatives.add(r["creative_id"])
        pc = per_creative.setdefault((r["segment"], r["origin"]), {}).setdefault(r["creative_id"], [0, 0])
        pc[0] += r["impressions"]
        pc[1] += r["clicks"]
        for d, k in ((seg_tot, r["segment"]), (days, (r["segment"], r["day"])), (origin, (r["segment"], r["origin"]))):
            t = d.setdefault(k, [0, 0])
            t[0] += r["impressions"]
            t[1] += r["clicks"]
    uplift = []
    for seg in sorted(seg_tot):
        ai, hu = origin.get((seg, "ai")), origin.get((seg, "human"))
        if ai and hu:
            u = uplift_interval(per_creative[(seg, "ai")], per_creative[(seg, "human")])
            if u:
                uplift.append({"segment": seg, "ai_ctr": ai[1] / ai[0], "human_ctr": hu[1] / hu[0],
                               "uplift": u[0], "ci95": [u[1], u[2]], "ai_impressions": ai[0],
                               "human_impressions": hu[0]})
    tot_ai = [sum(v[i] for (s, o), v in origin.items() if o == "ai") for i in (0, 1)]
    tot_hu = [sum(v[i] for (s, o), v in origin.items() if o == "human") for i in (0, 1)]
    overall = None
    if tot_ai[0] and tot_hu[0]:
        def pooled(kind):   # a creative shown in several segments counts as one creative per segment
            return {f"{s}|{cid}": v for (s, o), cs in per_creative.items() if o == kind for cid, v in cs.items()}

        u = uplift_interval(pooled("ai"), pooled("human"))
        if u:
            overall = {"uplift": u[0], "ci95": [u[1], u[2]], "ai_ctr": tot_ai[1] / tot_ai[0],
                       "human_ctr": tot_hu[1] / tot_hu[0],
                       "ai_click_share": tot_ai[1] / (tot_ai[1] + tot_hu[1]) if tot_ai[1] + tot_hu[1] else None}
    return {
        "by": by,
        "days": [min(r["day"] for r in rows).isoformat(), max(r["day"] for r in rows).isoformat()] if rows else None,
        "segments": [{"segment": s, "impressions": v[0], "clicks": v[1], "ctr": v[1] / v[0] if v[0] else None,
                      "ci95": list(wilson(v[1], v[0]))} for s, v in sorted(seg_tot.items())],
        "cells": [c.as_dict() for c in sorted(cells.values(), key=lambda c: (c.segment, -c.impressions, c.family))],
        "trend": [{"segment": s, "day": d.isoformat(), "impressions": v[0], "clicks": v[1]}
                  for (s, d), v in sorted(days.items())],
        "ai_vs_human": {"by_segment": uplift, "overall": overall},
    }


# ---- charts and page --------------------------------------------------------------------------------------

def _matplotlib():
    try:
        import matplotlib
    except ImportError:
        raise MktError("the report's charts need matplotlib", "pip install 'mktcli[learn]'") from None
    matplotlib.use("Agg")   # files only, never a window
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    font = fonts_dir() / "NotoSansSC-Regular.otf"
    if font.is_file():   # matplotlib's default font has no Chinese: segment names would be empty boxes
        font_manager.fontManager.addfont(str(font))
        plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(font)).get_name()
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def charts(summary: dict[str, Any]) -> dict[str, bytes]:
    """PNG charts: ctr_by_family.png, trend.png, ai_vs_human.png (when there are both)."""
    plt = _matplotlib()
    out: dict[str, bytes] = {}
    segs = [s["segment"] for s in summary["segments"]]
    cells = summary["cells"]
    if cells:
        top = []
        for fam in sorted({c["family"] for c in cells},
                          key=lambda f: -sum(c["impressions"] for c in cells if c["family"] == f)):
            top.append(fam)
        top = top[:MAX_FAMILIES_CHARTED]
        fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(segs) * max(1, len(top)) ** 0.5), 4.2))
        width = 0.8 / max(1, len(top))
        for i, fam in enumerate(top):
            xs, ys, lo, hi = [], [], [], []
            for j, seg in enumerate(segs):
                c = next((c for c in cells if c["segment"] == seg and c["family"] == fam), None)
                if c and c["ctr"] is not None:
                    xs.append(j - 0.4 + width * (i + 0.5))
                    ys.append(c["ctr"] * 100)
                    lo.append((c["ctr"] - c["ci95"][0]) * 100)
                    hi.append((c["ci95"][1] - c["ctr"]) * 100)
            ax.bar(xs, ys, width=width * 0.92, yerr=[lo, hi], capsize=2, label=fam[:24])
        ax.set_xticks(range(len(segs)), segs, rotation=20 if len(segs) > 4 else 0)
        ax.set_ylabel("CTR %")
        n_fam = len({c["family"] for c in cells})
        shown = "" if n_fam <= len(top) else f" — the {len(top)} largest of {n_fam}; all in the table"
        ax.set_title(f"CTR by segment × {summary['by']} (95% intervals){shown}")
        ax.legend(fontsize=8, ncols=2 if len(top) > 4 else 1)
        out["ctr_by_family.png"] = _png(fig)
        plt.close(fig)
    if summary["trend"]:
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for seg in segs:
            pts = [t for t in summary["trend"] if t["segment"] == seg and t["impressions"]]
            ax.plot([date.fromisoformat(t["day"]) for t in pts], [100 * t["clicks"] / t["impressions"] for t in pts],
                    marker="o", markersize=3, label=seg)
        ax.set_ylabel("CTR %")
        ax.set_title("daily CTR by segment")
        ax.legend(fontsize=8)
        fig.autofmt_xdate()
        out["trend.png"] = _png(fig)
        plt.close(fig)
    rows = summary["ai_vs_human"]["by_segment"]
    if rows:
        fig, ax = plt.subplots(figsize=(6, 0.5 * len(rows) + 1.6))
        ys = range(len(rows))
        ax.errorbar([r["uplift"] * 100 for r in rows], ys,
                    xerr=[[100 * (r["uplift"] - r["ci95"][0]) for r in rows],
                          [100 * (r["ci95"][1] - r["uplift"]) for r in rows]], fmt="o", capsize=3)
        ax.axvline(0, color="grey", linewidth=1)
        ax.set_yticks(list(ys), [r["segment"] for r in rows])
        ax.set_xlabel("AI vs human CTR uplift % (95% interval)")
        out["ai_vs_human.png"] = _png(fig)
        plt.close(fig)
    return out


def _pct(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x * 100:.{digits}f}%"


def page(summary: dict[str, Any], pngs: dict[str, bytes], title: str) -> str:
    """One self-contained HTML page (templates/learn_report.html.j2; charts embedded as data: URIs, also written
    beside it)."""
    rows = [{"segment": c["segment"], "family": c["family"], "impressions": f"{c['impressions']:,}",
             "clicks": f"{c['clicks']:,}", "ctr": _pct(c["ctr"]), "ci": f"{_pct(c['ci95'][0])} – {_pct(c['ci95'][1])}",
             "creatives": c["creatives"]} for c in summary["cells"]]
    o = summary["ai_vs_human"]["overall"]
    ai = o and {"ai_ctr": _pct(o["ai_ctr"]), "human_ctr": _pct(o["human_ctr"]), "uplift": f"{o['uplift'] * 100:+.1f}%",
                "lo": f"{o['ci95'][0] * 100:+.1f}%", "hi": f"{o['ci95'][1] * 100:+.1f}%",
                "share": _pct(o["ai_click_share"], 0)}
    charts = [(name, f"data:image/png;base64,{base64.b64encode(b).decode()}") for name, b in pngs.items()]
    return render("learn_report.html.j2", title=title, days=summary["days"] or ["—", "—"], by=summary["by"], ai=ai,
                  charts=charts, rows=rows)


def write_report(summary: dict[str, Any], out_dir: Path, title: str) -> Path:
    """report.html plus the PNG charts in out_dir (atomic writes); returns the page's path."""
    pngs = charts(summary)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, blob in pngs.items():
        atomic_write(out_dir / name, blob)
    path = out_dir / "report.html"
    atomic_write(path, page(summary, pngs, title).encode("utf-8"))
    return path
