"""When each block of a poster comes on screen in its video, and how it moves in.

The poster's recorded layers are grouped by the block they belong to (a rate plate and its figure are one group).
The legal band, the disclaimer, the provider line, the AIGC label and the brand are on screen from the first frame
to the last (the compliance rule VID-LEGAL asks for the whole clip, at least its last seconds); the message blocks
enter one by one in reading order (top to bottom), the rate as the hero beat (a longer, larger entrance with a hold
after it), the button last. Every entrance ends well before the clip does, so the last seconds show the whole
poster still — the last frame is the poster itself (the cover)."""
from __future__ import annotations

from dataclasses import dataclass

# groups on screen for the whole clip: what the law and the platforms need to see all the time, and who speaks
STATIC = ("scrim", "legal", "legal_band", "disclaimer", "provider", "ai_label", "logo", "brand")
# the hero beat: the rate (or the offer's strongest figure) and its plate
HERO = ("apr", "apr_label", "offer", "offer_label", "rate_plate", "hero")
LAST = ("cta",)
# a container the text stands on enters before what is on it
CONTAINERS = ("card",)

VERSION = 2   # bump when the motion changes (it is part of a video creative's id)


@dataclass(frozen=True)
class Beat:
    group: str            # the block's role (perk1, perk2 … each a group)
    enter: float          # seconds: the entrance starts
    settle: float         # seconds: the block stands still, fully legible, from here to the end
    motion: str           # static | rise | pop | card

    def progress(self, t: float) -> float:
        """0 before the entrance, 1 once settled."""
        if self.motion == "static" or t >= self.settle:
            return 1.0
        if t <= self.enter:
            return 0.0
        return (t - self.enter) / (self.settle - self.enter)


def group_of(role: str) -> str:
    """The animation group of a layer role: the hero's plate and figure move together, perks each alone."""
    if role in HERO:
        return "hero"
    if role in ("legal", "legal_band"):
        return "legal"
    return role


def plan_timeline(groups: list[tuple[str, float]], duration: float) -> list[Beat]:
    """One beat per group. `groups`: (group, top y of its box) in stacking order. The entrances take about the
    first 40-55% of the clip (compressed for short clips) so that the whole poster holds for the rest."""
    static = [g for g, _ in groups if g in STATIC]
    movers = [(g, y) for g, y in groups if g not in STATIC]
    containers = [g for g, _ in movers if g in CONTAINERS]
    last = [g for g, _ in movers if g in LAST]
    reading = [g for g, _ in sorted((m for m in movers if m[0] not in CONTAINERS and m[0] not in LAST),
                                    key=lambda m: m[1])]
    order = containers + reading + last
    # natural timing: 0.3 s of calm, each block 0.6 s with the next starting 0.3 s later; the hero 0.9 s and a
    # 0.5 s hold after it; the button after a further pause
    plan: list[tuple[str, float, float, str]] = []
    t = 0.3
    for g in order:
        if g in CONTAINERS:
            plan.append((g, t, 0.7, "card"))
            t += 0.35
        elif g == "hero":
            t += 0.1
            plan.append((g, t, 0.9, "pop"))
            t += 0.9 + 0.5
        elif g in LAST:
            t += 0.25
            plan.append((g, t, 0.6, "pop"))
            t += 0.6
        else:
            plan.append((g, t, 0.6, "rise"))
            t += 0.3
    end = max((s + d for _, s, d, _ in plan), default=0.0)
    budget = duration * (0.45 if duration >= 8 else 0.55)
    k = min(1.0, budget / end) if end > 0 else 1.0
    beats = [Beat(g, 0.0, 0.0, "static") for g in static]
    beats += [Beat(g, round(s * k, 4), round((s + d) * k, 4), m) for g, s, d, m in plan]
    return beats


def ease_out_cubic(x: float) -> float:
    return 1 - (1 - x) ** 3


def ease_out_back(x: float, overshoot: float = 1.3) -> float:
    """Past the target and back: the hero's figure lands with a small bounce."""
    c3 = overshoot + 1
    return 1 + c3 * (x - 1) ** 3 + overshoot * (x - 1) ** 2


def ease_in_out_sine(x: float) -> float:
    import math

    return -(math.cos(math.pi * x) - 1) / 2
