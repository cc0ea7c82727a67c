"""Chinese line breaking for short poster texts (headlines, subheads, perks, disclaimers).

Follows the basic rule set of W3C clreq (Requirements for Chinese Text Layout, §3.1.7 "禁则"):
closing punctuation never starts a line, opening punctuation never ends one, and numbers with their
units, dates, ranges, dashes and ellipses are never split. Pure standard library: the caller passes
`measure(s) -> px`, so this module works with any font backend (Pillow, fonttools, a fake in tests).

Pipeline: tokenize() -> clusters (tokens glued by the punctuation rules) -> greedy fill.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

__all__ = ["NO_START", "NO_END", "tokenize", "break_lines", "break_balanced", "fits"]

Measure = Callable[[str], float]

# clreq: 点号 (、，。：；！？), closing quotes/brackets, 连接号 (–～), 间隔号 (·) may not begin a line.
# Full-width and ASCII forms both, since marketing copy mixes them freely.
NO_START = frozenset("、，。．：；！？”’）》〉」』】〕］｝〗｠·・–～%％‰,.;:!?)]}")
# Opening quotes/brackets may not end a line: they belong to the text that follows them.
NO_END = frozenset("“‘（《〈「『【〔［｛〖｟([{")

_SPACES = " \t\u3000"   # break opportunities; NBSP (U+00A0) deliberately excluded: it means "do not break"
_EPS = 1e-6             # float slack so a line measuring exactly max_width counts as fitting

# --- tokenizer -------------------------------------------------------------------------------------
_D = "[0-9０-９]"
# A number: 5000, 3.2, 5,000. The lookahead stops "3.5G"/"4K" from being read as the number 3 + "G":
# a number directly followed by a Latin letter is a Latin word (handled by the word pattern below).
_NUM = rf"{_D}+(?:[.,．]{_D}+)*(?![A-Za-z0-9０-９]|[.,．]{_D})"
# Units that read as part of the quantity ("30万", "10万元", "12个月", "3.2%"): splitting them strands
# a bare number at the end of a line, which in financial copy changes what the reader sees first.
_UNIT = r"[万亿千百]*(?:个月|[元角分折倍期年月日天号次人家岁]|[%‰℃％])?"
_DATE = rf"{_D}{{1,4}}年{_D}{{1,2}}月(?:{_D}{{1,2}}[日号])?|{_D}{{1,2}}月{_D}{{1,2}}[日号]"
# "0.05%/天" (per-period rates) and "3.2%起" (a floor rate: 起 belongs to the percentage it qualifies).
_QTY = rf"[¥￥$€£]?(?:{_DATE}|{_NUM}{_UNIT}(?:/[天日月年期次])?(?:(?<=[%‰％])起)?)"
_TOKEN = re.compile(
    "|".join([
        r"\r?\n",                                        # forced break
        rf"[{_SPACES}]+",                                # a run of spaces: one break opportunity
        r"[—―]+|[…⋯]+",                                  # "——" and "……" must not be split (clreq)
        rf"{_QTY}(?:[-–~～]{_QTY})?",                     # quantity, or a range "3.2%-7.2%"
        r"[A-Za-z0-9０-９]+(?:[.'’\-][A-Za-z0-9０-９]+)*",  # Latin word / alphanumeric: "App", "5G", "Wi-Fi"
        r".[\u0300-\u036f\ufe00-\ufe0f]*(?:\u200d.[\ufe00-\ufe0f]*)*",  # one char (+ marks, emoji ZWJ)
    ]),
    re.S,
)


def tokenize(text: str) -> list[str]:
    """Split text into unbreakable units: each ideograph / punctuation mark alone, Latin words, numbers
    with their units (dates and ranges whole), "——", "……", space runs, and "\\n" (forced break).
    "".join(tokenize(t)) == t always."""
    return [m.group() for m in _TOKEN.finditer(text)]


def _is_space(s: str) -> bool:
    return bool(s) and s[0] in _SPACES


# --- clusters --------------------------------------------------------------------------------------
def _paragraphs(text: str) -> list[list[str]]:
    """Paragraphs (split at explicit newlines), each a list of items: space runs, and clusters that
    must not be broken. Applying the punctuation rules here, by gluing, rather than during filling
    means the filler can never violate them, whatever the width.

    Gluing a no-start mark onto the cluster before it is exactly clreq's "push in/out" in its
    simplest form: the previous unit moves down to the next line together with the punctuation.
    """
    paras: list[list[str]] = [[]]
    glue = False  # the last cluster ends with an opening bracket: the next token joins it
    for tok in tokenize(text):
        items = paras[-1]
        if tok.endswith("\n"):
            paras.append([])
            glue = False
            continue
        if _is_space(tok):
            if glue:
                items[-1] += tok        # "（ 注" stays together: an opening bracket never ends a line
            else:
                items.append(tok)
            continue
        if tok in NO_START and any(not _is_space(i) for i in items):
            # Pull the previous cluster (and any spaces between) down with the mark. Only impossible
            # at the very start of a paragraph, where the mark begins the line whatever we do.
            while _is_space(items[-1]):
                tok = items.pop() + tok
            items[-1] += tok
        elif glue:
            items[-1] += tok
        else:
            items.append(tok)
        glue = tok[-1] in NO_END
    # Blank leading/trailing paragraphs come from YAML block scalars ("|" keeps a final newline);
    # they would only add empty lines to a poster block.
    while paras and not any(not _is_space(i) for i in paras[-1]):
        paras.pop()
    while paras and not any(not _is_space(i) for i in paras[0]):
        paras.pop(0)
    return paras


def _fill(items: Sequence[str], measure: Measure, width: float) -> list[str]:
    """Greedy first-fit. Measures the whole candidate line, not a sum of pieces, so kerning and
    font fallback in `measure` are respected. A cluster wider than `width` gets a line to itself."""
    lines: list[str] = []
    cur = pending = ""
    for it in items:
        if _is_space(it):
            if cur:                     # spaces at line start are dropped
                pending += it
            continue
        cand = cur + pending + it
        if not cur or measure(cand) <= width + _EPS:
            cur = cand
        else:
            lines.append(cur)           # the pending spaces become the break and are dropped
            cur = it
        pending = ""
    lines.append(cur.rstrip(_SPACES))
    return lines


def _chunks(items: Sequence[str]) -> list[str]:
    """Merge the clusters between spaces, keeping the spaces as separate items."""
    out: list[str] = []
    for it in items:
        if _is_space(it) or not out or _is_space(out[-1]):
            out.append(it)
        else:
            out[-1] += it
    return out


def _break(text: str, measure: Measure, width: float, mode_width: float) -> list[str]:
    """Break at `width`; whether a paragraph breaks only at spaces is decided at `mode_width`, so
    that break_balanced's narrower trial widths do not drop a headline's phrase structure."""
    lines: list[str] = []
    for items in _paragraphs(text):
        words = [c for c in _chunks(items) if not _is_space(c)]
        whole = "".join(items).strip(_SPACES)
        # A space in Chinese poster copy separates phrases ("补栏周转 不误农时"): breaking inside a
        # phrase reads badly, so when every phrase fits on a line, break only at the spaces.
        if (len(words) > 1 and whole and measure(whole) > mode_width + _EPS
                and all(measure(w) <= mode_width + _EPS for w in words)):
            lines += _fill(_chunks(items), measure, width)
        else:
            lines += _fill(items, measure, width)
    return lines


# --- public API -------------------------------------------------------------------------------------
def break_lines(text: str, measure: Measure, max_width: float, *, max_lines: int | None = None) -> list[str]:
    """Greedy line filling under the clreq rules. Never truncates: when the text needs more than
    `max_lines` lines (or a unit is wider than `max_width`) all lines are still returned, and the
    caller shrinks the font. `max_lines` is accepted for signature symmetry with callers that pass
    it. Blank text gives []. Lines never contain "\\n" nor start/end with a space."""
    del max_lines  # deciding what to do about too many lines is the caller's job (fit_text shrinks)
    return _break(text, measure, max_width, max_width)


def break_balanced(text: str, measure: Measure, max_width: float, *,
                   max_lines: int | None = None) -> list[str]:
    """Like break_lines, but for headlines: keep the minimum line count n, and bisect for the
    narrowest width that still yields n lines, so lines come out of similar length ("7+7", not
    "12+2"). Each trial is cheap (texts are a few dozen units), ~12 trials."""
    best = break_lines(text, measure, max_width, max_lines=max_lines)
    n = len(best)
    if n <= 1:
        return best
    # lo starts at 0, not max_width/n: with forced "\n" breaks max_width/n may already give n lines,
    # and bisection needs lo on the "too many lines" side (w=0 puts every cluster on its own line).
    lo, hi = 0.0, float(max_width)
    tol = max(float(max_width) * 1e-3, 1e-3)
    while hi - lo > tol:
        mid = (lo + hi) / 2
        cand = _break(text, measure, mid, max_width)
        if len(cand) <= n:
            hi, best = mid, cand
        else:
            lo = mid
    return best


def fits(lines: Sequence[str], measure: Measure, max_width: float) -> bool:
    """True when every line measures within max_width."""
    return all(measure(ln) <= max_width + _EPS for ln in lines)
