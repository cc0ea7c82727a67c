"""Traffic shares for the next period of one slot (channel), per segment: Thompson sampling over the slot's
creatives (mktcli.learn.bandit), from the feedback store's decayed counts. A creative with no traffic yet gets at
least the floor, so a new batch is shown instead of starved."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone
from typing import Any

from ..errors import MktError
from .bandit import Arm, ThompsonAllocator, decayed_counts
from .store import feedback

PLAN_VERSION = 1


def _seed_for(seed: int, segment: str) -> int:
    """One reproducible random stream per segment (the plan of one segment does not move when another changes)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{segment}".encode()).digest()[:8], "big")


def make_plan(reg, slot: str, *, today: date | None = None, half_life_days: float | None = 14.0,
              floor: float = 0.05, seed: int = 0, statuses: tuple[str, ...] | None = None,
              segments: list[str] | None = None, draws: int = 4000, max_new: float | None = 0.5,
              allow_errors: bool = False) -> dict[str, Any]:
    """The plan a placement system reads (see docs/learn.md): per segment, each creative's share of the slot."""
    today = today or date.today()
    allowed = set(statuses) if statuses else {"draft", "approved", "live"}
    in_slot = reg.find(channel=slot)
    # a creative with a failed error-level check is blocked from approval: it gets no traffic either
    blocked = {c.id for c in in_slot if c.status in allowed and c.errors and not allow_errors}
    creatives = [c for c in in_slot if c.status in allowed and c.id not in blocked]
    excluded = blocked | {c.id for c in in_slot if c.status == "recalled"}
    rows = [r for r in feedback(reg, channel=slot) if r["day"] < today and r["creative_id"] not in excluded]
    arms_by_segment: dict[str, dict[str, dict[str, Any]]] = {}
    for c in creatives:
        arms_by_segment.setdefault(c.segment, {})[c.id] = {"id": c.id, "status": c.status, "origin": "ai",
                                                          "brief": c.brief, "headline": c.texts.get("headline")}
    for r in rows:   # creatives made elsewhere that the slot also shows (named only by the log)
        if not r["known"]:
            arms_by_segment.setdefault(r["segment"], {}).setdefault(
                r["creative_id"], {"id": r["creative_id"], "status": "external", "origin": r["origin"],
                                   "brief": None, "headline": None})
    if segments:
        missing = [s for s in segments if s not in arms_by_segment]
        if missing:
            raise MktError(f"no creatives for segment '{missing[0]}' in slot {slot}",
                           "segments in this slot: " + ", ".join(sorted(arms_by_segment)) if arms_by_segment else None)
        arms_by_segment = {s: arms_by_segment[s] for s in segments}
    if not arms_by_segment:
        channels = sorted({c.channel for c in reg.find()})
        if slot in channels:   # the slot has creatives, just none that may get traffic
            hint = (f"its creatives are {', '.join(sorted({c.status for c in in_slot}))}"
                    + (f", {len(blocked)} blocked by failed checks" if blocked else "")
                    + ": approve them (mkt mark approved) or widen --status")
        elif channels:
            hint = "slots with creatives: " + ", ".join(channels)
        else:
            hint = "render and register creatives first (mkt poster / mkt batch)"
        raise MktError(f"no creatives for slot '{slot}' ({'/'.join(sorted(allowed))})", hint)
    plan: dict[str, Any] = {
        "version": PLAN_VERSION, "slot": slot, "period_start": today.isoformat(),
        "made": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": {"name": "thompson-beta-bernoulli", "floor": floor, "max_new": max_new,
                  "half_life_days": half_life_days, "draws": draws, "seed": seed, "statuses": sorted(allowed)},
        "segments": {}, "notes": [],
    }
    rows_by_segment: dict[str, list[tuple]] = {}
    for r in rows:
        rows_by_segment.setdefault(r["segment"], []).append((r["creative_id"], r["day"], r["impressions"],
                                                             r["clicks"]))
    drafts = 0
    for seg, arms in sorted(arms_by_segment.items()):
        seg_rows = [t for t in rows_by_segment.get(seg, []) if t[0] in arms]
        counts = decayed_counts(seg_rows, today=today, half_life_days=half_life_days)
        raw: dict[str, list[int]] = {}
        for cid, _, imp, clk in seg_rows:
            t = raw.setdefault(cid, [0, 0])
            t[0] += imp
            t[1] += clk
        bandit_arms = [Arm(cid, *counts.get(cid, (0.0, 0.0)), new=cid not in raw) for cid in arms]
        shares = ThompsonAllocator(floor=floor, seed=_seed_for(seed, seg), draws=draws,
                                   max_new_total=max_new).shares(bandit_arms)
        entries = []
        for arm in bandit_arms:
            info = arms[arm.id]
            imp, clk = raw.get(arm.id, (0, 0))
            drafts += info["status"] == "draft"
            entries.append({**info, "share": round(float(shares[arm.id]), 6), "new": arm.new,
                            "impressions": imp, "clicks": clk, "ctr": round(clk / imp, 6) if imp else None})
        entries.sort(key=lambda e: (-e["share"], e["id"]))
        if entries:   # shares rounded one by one drift from 1 by up to n × 5e-7: the largest takes the remainder
            entries[0]["share"] = round(entries[0]["share"] + 1 - sum(e["share"] for e in entries), 6)
        plan["segments"][seg] = {"creatives": entries, "impressions": sum(e["impressions"] for e in entries),
                                 "clicks": sum(e["clicks"] for e in entries)}
    if blocked:
        plan["notes"].append(f"{len(blocked)} creative(s) with a failed error-level check get no traffic "
                             "(fix them, or --allow-errors)")
    if drafts:
        plan["notes"].append(f"{drafts} creative(s) are drafts: approve them before they go live (mkt mark approved) "
                             "or plan with --status approved,live")
    return plan
