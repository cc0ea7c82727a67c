"""When each block of a poster comes on screen in its video, how it moves in, what keeps moving once it is in, and
when the end card takes over.

The poster's recorded layers are grouped by the block they belong to (a rate plate and its figure are one group).
The legal band, the disclaimer, the provider line, the AIGC label and the brand are on screen from the first frame
to the last (the compliance rule VID-LEGAL asks for the whole clip, at least its last seconds).

The message comes first: the headline (and the text card it stands on) is on screen from frame 0 and settled,
fully legible, by 0.3 s, and the rate beside it from frame 0 too, whole and opaque, growing into place by 0.5 s —
a clip that autoplays in a feed has well under a second to say what it is, and the rate is what stops the thumb.
Then the rest enters in reading order (top to bottom): the subhead, the chips one by one, the button last. Once
everything is in, the clip does not sit still: the camera keeps pushing in, the button pulses gently and a light
sweeps across it and across the rate plate, and the beats (`Live.spots`) give the middle its rhythm: each chip in
turn in a spotlight (~1.2 s each), then a pulse on the rate plate — a change of scale, never of the figure, and
clear of the frames the read-back samples. The last quarter (1.5–3 s) is the end card (endcard.py): the poster's message
blocks make way for the brand, the product, the rate and the button, typeset once for the clip's canvas; the legal
band stays where it was."""
from __future__ import annotations

import math
from dataclasses import dataclass

# groups on screen for the whole clip: what the law and the platforms need to see all the time, and who speaks
STATIC = ("scrim", "legal", "legal_band", "disclaimer", "provider", "ai_label", "logo", "brand")
# the hero beat: the rate (or the offer's strongest figure) and its plate
HERO = ("apr", "apr_label", "offer", "offer_label", "rate_plate", "hero")
LAST = ("cta",)
# a container the text stands on: on screen with the headline from the first frame
CONTAINERS = ("card",)
# the message: on screen from frame 0, settled by FIRST_READ
FIRST = ("headline",)
FIRST_READ = 0.3     # seconds: the headline is fully legible from here
HERO_READ = 0.5      # seconds: the rate, on screen from frame 0 beside the headline, has settled by here
END_PREFIX = "end:"  # the end card's own groups (end:brand, end:headline, end:hero, end:cta)

VERSION = 6   # bump when the motion changes (it is part of a video creative's id)
# 6: the end card holds a quarter of the clip (2.5 s of 10 s, was 1.8 s) and comes in as the poster makes way
# 5: no light sweep over the end card's rate; a spotlit chip grows inside the safe area; the end card of a picture
#    without planes drops its subject (no blurred objects beside the button)
# 4: the rate on screen from frame 0 with the headline (settled by 0.5 s); beats in the live phase (each chip in
#    turn in a spotlight, a pulse on the rate plate); a stronger camera push
# 3: headline legible by 0.3 s, chips one by one, a live phase (button pulse, light sweeps, the camera moving until
#    the end card), an end card for the last ~1.8 s


@dataclass(frozen=True)
class Beat:
    group: str            # the block's role (perk1, perk2 … each a group)
    enter: float          # seconds: the entrance starts
    settle: float         # seconds: the block stands still, fully legible, from here …
    motion: str           # static | settle | rise | pop | card
    leave: float | None = None   # … until here (the end card takes over), then fades out
    gone: float | None = None    # fully gone from here

    def progress(self, t: float) -> float:
        """0 before the entrance, 1 once settled."""
        if self.motion == "static" or t >= self.settle:
            return 1.0
        if t <= self.enter:
            return 0.0
        return (t - self.enter) / (self.settle - self.enter)

    def presence(self, t: float) -> float:
        """1 until the block makes way for the end card, then down to 0."""
        if self.leave is None or t <= self.leave:
            return 1.0
        if self.gone is None or t >= self.gone:
            return 0.0
        return 1.0 - (t - self.leave) / (self.gone - self.leave)

    def until(self, duration: float) -> float:
        """The last second the block is fully legible."""
        return self.leave if self.leave is not None else duration


@dataclass(frozen=True)
class Live:
    """What moves once everything is in: the button pulses (a gentle swell every `period` seconds) and a light
    sweeps across the button after each swell, and across the rate plate now and then; the beats (`spots`: each
    chip in turn in a spotlight, then a pulse on the rate plate). From `start` (the button has settled) to `end`
    (the clip's end: the end card's button keeps pulsing)."""

    start: float
    end: float
    period: float = 1.4
    pulse: float = 0.05        # the button swells by 5% at the top of a pulse
    pulse_s: float = 0.5       # … over half a second
    sweep_s: float = 0.55      # a light sweep takes this long
    hero_every: int = 2        # the rate plate's sweep: every second period
    spots: tuple[tuple[str, float, float], ...] = ()   # (group, from s, to s): a block in the spotlight (beats)
    spot_in: float = 0.25      # a spotlight comes up over this long, and goes down over spot_out
    spot_out: float = 0.3

    def spot(self, t: float, group: str) -> float:
        """How far `group` is in the spotlight at t: 0 (not) … 1 (fully), eased up and down."""
        for g, a, b in self.spots:
            if g != group or not a <= t < b:
                continue
            up = min(1.0, (t - a) / self.spot_in)
            down = min(1.0, (b - t) / self.spot_out)
            return ease_in_out_sine(max(0.0, min(up, down)))
        return 0.0

    def pulse_scale(self, t: float) -> float:
        """The button's scale at t: 1, or a smooth swell at the start of each period."""
        if t < self.start or t >= self.end:
            return 1.0
        x = ((t - self.start) % self.period) / self.pulse_s
        if x >= 1:
            return 1.0
        return 1.0 + self.pulse * math.sin(math.pi * x) ** 2

    def sweep(self, t: float, what: str) -> float | None:
        """Where a light sweep is across `what` (cta | hero): 0 … 1, or None when there is none."""
        if t < self.start or t >= self.end:
            return None
        k, x = divmod(t - self.start, self.period)
        if what == "cta":
            x -= self.pulse_s * 0.6                 # just after the swell
        else:
            if int(k) % self.hero_every != self.hero_every - 1:
                return None
            x -= self.period * 0.45
        if not 0 <= x < self.sweep_s:
            return None
        return x / self.sweep_s


def plan_spots(chips: list[str], start: float, stop: float, avoid: tuple[float, ...] = ()
               ) -> tuple[tuple[str, float, float], ...]:
    """The live phase's beats between `start` (everything is in) and `stop` (the end card): each chip in turn in
    the spotlight (~1.2 s each, shorter when the phase is short), then a pulse on the rate plate (0.7 s; a clip
    without chips pulses the rate every ~1.6 s instead). The rate's
    pulse keeps clear of the times in `avoid` (the frames the read-back samples for the exact rate)."""
    room = stop - start - 0.25
    if room <= 0.6:
        return ()
    hero_s = 0.7
    each = min(1.2, (room - hero_s - 0.1) / len(chips)) if chips else 0.0
    out: list[tuple[str, float, float]] = []
    t = start + 0.1
    if each >= 0.5:
        for g in chips:
            out.append((g, round(t, 4), round(t + each, 4)))
            t += each
    # the rate's pulse: after the chips (without chips: every ~1.6 s), clear of the sampled frames (±0.1 s)
    h0 = t + 0.05
    while True:
        for a in sorted(avoid):
            if h0 - 0.1 < a < h0 + hero_s + 0.1:
                h0 = a + 0.11
        if h0 + hero_s > stop - 0.15:
            break
        out.append(("hero", round(h0, 4), round(h0 + hero_s, 4)))
        if chips:
            break
        h0 += hero_s + 0.9
    return tuple(out)


def group_of(role: str) -> str:
    """The animation group of a layer role: the hero's plate and figure move together, perks each alone."""
    if role in HERO:
        return "hero"
    if role in ("legal", "legal_band"):
        return "legal"
    return role


def end_card_seconds(duration: float) -> float:
    """How long the end card holds: a quarter of the clip, 1.5 s at least and 3 s at most (2.5 s of a 10 s clip).
    The end card is the frame a viewer leaves on and the one to act on; at 1.8 s of 10 s a designer found it gone
    before it had been read."""
    return min(3.0, max(1.5, round(duration * 0.25, 2)))


def plan_timeline(groups: list[tuple[str, float]], duration: float, end_at: float | None = None) -> list[Beat]:
    """One beat per group. `groups`: (group, top y of its box) in stacking order. `end_at`: when the end card
    takes over (None: no end card, the poster holds to the end). The entrances take the first ~30% of the clip
    (compressed for short clips) so that the whole poster is alive on screen for a while before the end card."""
    static = [g for g, _ in groups if g in STATIC]
    movers = [(g, y) for g, y in groups if g not in STATIC]
    first = [g for g, _ in movers if g in CONTAINERS] + [g for g, _ in movers if g in FIRST]
    last = [g for g, _ in movers if g in LAST]
    opening = [g for g, _ in movers if g == "hero"]   # the rate: what stops the thumb, there from frame 0
    reading = [g for g, _ in sorted((m for m in movers if m[0] not in first and m[0] not in LAST
                                     and m[0] not in opening), key=lambda m: m[1])]
    # natural timing: the message (and the rate, `open`) settled at 0.3 / 0.5 s; the next block 0.1 s later, each 0.5 s with the next 0.25 s
    # after it; the hero 0.8 s and a 0.45 s hold after it; chips 0.16 s apart; the button after a short pause
    plan: list[tuple[str, float, float, str]] = []
    t = (HERO_READ if opening else FIRST_READ) + 0.05
    for g in reading:
        if g == "hero":
            t += 0.1
            plan.append((g, t, 0.8, "pop"))
            t += 0.8 + 0.45
        elif g.startswith("perk") and g[4:].isdigit():
            plan.append((g, t, 0.4, "pop"))
            t += 0.16
        else:
            plan.append((g, t, 0.5, "rise"))
            t += 0.25
    for g in last:
        t += 0.3
        plan.append((g, t, 0.55, "pop"))
        t += 0.55
    natural = max((s + d for _, s, d, _ in plan), default=0.0)
    stop = end_at if end_at is not None else duration
    budget = min(natural, max(FIRST_READ + 0.5, min(duration * 0.32, stop - 1.2)))
    # squeeze what comes after the first read (the headline's 0.3 s stays)
    k = (budget - FIRST_READ) / (natural - FIRST_READ) if natural > budget else 1.0
    beats = [Beat(g, 0.0, 0.0, "static") for g in static]
    # the poster's blocks make way quickly (0.25 s) while the end card's first blocks are already coming in: the
    # change reads as one cut, not as a fade through an empty frame
    leave = (end_at, round(end_at + 0.25, 4)) if end_at is not None else (None, None)
    beats += [Beat(g, 0.0, FIRST_READ, "settle", *leave) for g in first]
    beats += [Beat(g, 0.0, HERO_READ, "open", *leave) for g in opening]

    def at(x: float) -> float:
        return round(FIRST_READ + (x - FIRST_READ) * k, 4)

    beats += [Beat(g, at(s), at(s + d), m, *leave) for g, s, d, m in plan]
    return beats


def plan_end_card(groups: list[tuple[str, float]], start: float) -> list[Beat]:
    """The end card's beats: its blocks come in from `start` (while the poster's make way), top to bottom, the
    button last; each holds to the end."""
    order = [g for g, _ in sorted(groups, key=lambda m: m[1]) if not g.endswith("cta")]
    order += [g for g, _ in groups if g.endswith("cta")]
    out, t = [], start + 0.05
    for g in order:
        base = g.removeprefix(END_PREFIX)
        if base == "hero":
            out.append(Beat(g, round(t, 4), round(t + 0.45, 4), "pop"))
            t += 0.12
        elif base == "cta":
            out.append(Beat(g, round(t + 0.05, 4), round(t + 0.4, 4), "pop"))
        else:
            out.append(Beat(g, round(t, 4), round(t + 0.35, 4), "rise"))
            t += 0.07
    return out


def ease_out_cubic(x: float) -> float:
    return 1 - (1 - x) ** 3


def ease_out_back(x: float, overshoot: float = 1.3) -> float:
    """Past the target and back: the hero's figure lands with a small bounce."""
    c3 = overshoot + 1
    return 1 + c3 * (x - 1) ** 3 + overshoot * (x - 1) ** 2


def ease_in_out_sine(x: float) -> float:
    return -(math.cos(math.pi * x) - 1) / 2
