"""Fitting text to a box: the largest size that fits (down to the legible minimum), with Chinese line breaking.
Order of resort: shrink to the minimum size, then wrap (up to the block's line limit), then give up — the
caller drops an optional block or raises a LayoutError. Text never overflows or gets clipped."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .fonts import FontStack
from .linebreak import break_balanced, break_lines


@dataclass
class Fitted:
    lines: list[str]
    size: int
    line_height: float       # px between baselines
    width: float             # widest line
    height: float            # total block height

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _layout(text: str, stack: FontStack, size: int, max_w: float, lh: float, balanced: bool) -> Fitted:
    def measure(s: str) -> float:
        return stack.measure(s, size)

    breaker = break_balanced if balanced else break_lines
    lines = breaker(text, measure, max_w)
    width = max((measure(ln) for ln in lines), default=0.0)
    ascent, descent = stack.metrics(size)
    line_px = size * lh
    height = (len(lines) - 1) * line_px + ascent + descent
    return Fitted(lines, size, line_px, width, height)


def fit_text(text: str, stack: FontStack, max_w: float, max_h: float, *, min_size: float, max_size: float,
             max_lines: int, line_height: float = 1.25, balanced: bool = False) -> Fitted | None:
    """Largest integer size in [min_size, max_size] whose layout fits; None when even min_size does not.
    Memoised: the segments of a brief fit the same strings into the same boxes over and over."""
    stack.check(text)
    hit = _fit_cached(text, stack.ids, round(max_w, 2), round(max_h, 2), float(min_size), float(max_size),
                      max_lines, line_height, balanced)
    return None if hit is None else Fitted(list(hit.lines), hit.size, hit.line_height, hit.width, hit.height)


@lru_cache(maxsize=4096)
def _fit_cached(text: str, ids: tuple[str, ...], max_w: float, max_h: float, min_size: float, max_size: float,
                max_lines: int, line_height: float, balanced: bool) -> Fitted | None:
    stack = FontStack(ids)
    lo, hi = int(-(-min_size // 1)), int(max_size)
    if hi < lo:
        return None
    phrases = text.split()

    def ok(size: int, whole: bool) -> Fitted | None:
        f = _layout(text, stack, size, max_w, line_height, balanced)
        if whole and len(f.lines) > 1 and not _at_spaces(f.lines, phrases):
            return None
        return f if len(f.lines) <= max_lines and f.width <= max_w + 0.5 and f.height <= max_h + 0.5 else None

    # a headline written in phrases (补栏周转 不误农时) breaks between them: the largest size at which it does, when
    # there is one in range, rather than a larger one that cuts a phrase in two
    for whole in ((True, False) if balanced and len(phrases) > 1 else (False,)):
        a, b = lo, hi
        best = ok(a, whole)
        if best is None:
            continue
        while a < b:  # fitting is monotone in size (bigger never fits where smaller does not), so bisect
            mid = (a + b + 1) // 2
            f = ok(mid, whole)
            if f is not None:
                best, a = f, mid
            else:
                b = mid - 1
        return best
    return None


def _at_spaces(lines: list[str], phrases: list[str]) -> bool:
    """Every line is whole phrases of the text (its breaks fall at the spaces between them)."""
    i = 0
    for ln in lines:
        words = ln.split()
        if words != phrases[i:i + len(words)]:
            return False
        i += len(words)
    return i == len(phrases)
