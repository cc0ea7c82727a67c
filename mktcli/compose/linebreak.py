"""Chinese line breaking for short poster texts (headlines, subheads, perks, disclaimers).

Follows the basic rule set of W3C clreq (Requirements for Chinese Text Layout, §3.1.7 "禁则"):
closing punctuation never starts a line, opening punctuation never ends one, and numbers with their
units, dates, ranges, dashes and ellipses are never split. Words stay whole too (请理性消费 breaks as
请 / 理性消费, never 请理 / 性消费), and no line shows only 1–2 characters when another break gives the same
number of lines. The caller passes `measure(s) -> px`, so this module works with any font backend (Pillow,
fonttools, a fake in tests); word boundaries come from words.py (jieba), loaded only when a break must fall
between Chinese characters.

Pipeline: tokenize() -> clusters (tokens glued by the punctuation rules) -> words (clusters glued where jieba
sees one word) -> greedy fill -> orphan fix (only when greedy left a 1–2 character line).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from . import words

__all__ = ["NO_END", "NO_START", "break_balanced", "break_lines", "fits", "tokenize"]

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
# "0.05%/天" (per-period rates), "3.2%起" (a floor rate: 起 belongs to the percentage it qualifies) and
# "9.9元起", "20万起" (a floor price or amount: a line starting with 起 strands it from its figure).
_QTY = rf"[¥￥$€£]?(?:{_DATE}|{_NUM}{_UNIT}(?:/[天日月年期次])?(?:(?<=[%‰％元万亿])起)?)"
_TOKEN = re.compile(
    "|".join([
        r"\r?\n",                                        # forced break
        rf"[{_SPACES}]+",                                # a run of spaces: one break opportunity
        r"[—―]+|[…⋯]+",                                  # "——" and "……" must not be split (clreq)
        rf"{_QTY}(?:[-–~～]{_QTY})?",                     # quantity, or a range "3.2%-7.2%"
        r"[A-Za-z0-9０-９]+(?:[.'’\-][A-Za-z0-9０-９]+)*",  # Latin word / alphanumeric: "App", "5G", "Wi-Fi"
        r".[\u0300-\u036f\ufe00-\ufe0f]*(?:\u200d.[\ufe00-\ufe0f]*)*",  # one char (+ marks, emoji ZWJ)
    ]),
    re.DOTALL,
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


def _fill(units: Sequence[str], measure: Measure, width: float) -> list[str]:
    """Greedy first-fit over unbreakable units and space runs. Measures the whole candidate line, not a sum of
    pieces, so kerning and font fallback in `measure` are respected. A unit wider than `width` gets a line to
    itself. When greedy leaves a line of 1–2 characters, _no_orphans looks for a better break."""
    lines: list[str] = []
    cur = pending = ""
    for it in units:
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
    if len(lines) > 1 and any(_short(ln) for ln in lines):
        return _no_orphans(units, measure, width, len(lines))
    return lines


def _short(line: str) -> bool:
    """A line showing 1–2 characters (letters, digits, ideographs; punctuation does not count)."""
    return sum(c.isalnum() for c in line) <= 2


def _no_orphans(units: Sequence[str], measure: Measure, width: float, n: int) -> list[str]:
    """The same n lines with as few lines of 1–2 characters as the units allow, a short *last* line counting
    worst (阅读。 alone under a full line reads as a mistake). Among the best layouts, the one that fills each
    line as far as greedy would, so lines change only where a short line forces them to (and greedy's own
    layout comes back when nothing is better).

    Exact, by dynamic programming over the places a line may start: cost[r][i] is the least penalty for laying
    out the rest of the paragraph from unit i in exactly r lines. Runs only when greedy left a short line."""
    starts = [i for i, u in enumerate(units) if not _is_space(u)]
    end = len(units)

    def line(i: int, j: int) -> str:
        return "".join(units[i:j]).rstrip(_SPACES)

    def penalty(i: int, j: int) -> int:
        return (n if j == end else 1) if _short(line(i, j)) else 0   # a short last line outweighs all others

    # nexts[i]: where the line starting at unit i may end (the next line's start), as far as it fits. Lines only
    # widen as they take more units, so the scan stops at the first that does not fit; one unit always "fits"
    # (a unit wider than the line gets a line to itself, as in greedy).
    nexts: dict[int, list[int]] = {}
    for k, i in enumerate(starts):
        js = [*starts[k + 1:], end]
        ok = js[:1]
        for j in js[1:]:
            if measure(line(i, j)) > width + _EPS:
                break
            ok.append(j)
        nexts[i] = ok
    inf = 10 * n * n
    cost: list[dict[int, int]] = [{end: 0}]
    for r in range(1, n + 1):
        cost.append({i: min((penalty(i, j) + cost[r - 1][j] for j in nexts[i]
                             if j in cost[r - 1] and (j == end) == (r == 1)), default=inf) for i in starts})
    out, i = [], starts[0]
    for r in range(n, 0, -1):           # greedy among the best: the furthest end that keeps the least penalty
        j = max(j for j in nexts[i] if j in cost[r - 1] and (j == end) == (r == 1)
                and penalty(i, j) + cost[r - 1][j] == cost[r][i])
        out.append(line(i, j))
        i = j
    return out


def _chunks(items: Sequence[str]) -> list[str]:
    """Merge the clusters between spaces, keeping the spaces as separate items."""
    out: list[str] = []
    for it in items:
        if _is_space(it) or not out or _is_space(out[-1]):
            out.append(it)
        else:
            out[-1] += it
    return out


_HAN_PAIR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2}")


def _words(items: Sequence[str], split_width: float, measure: Measure) -> list[str]:
    """Glue the clusters of each word into one unit, so lines break between words. A word wider than
    `split_width` (the real line width, even during break_balanced's narrower trials) must break somewhere: at
    its smaller words first (股份 / 有限公司), between characters only when a piece is still too wide."""
    raw = "".join(items)
    if not _HAN_PAIR.search(raw):       # no two Chinese characters in a row: no word to keep whole
        return list(items)
    spans = words.word_spans(raw)   # jieba and its word list load only on the first text needing them
    # depth[i]: how many (nested) words the boundary before items[i] falls inside; 0 = a free break.
    depth, pos = [], 0
    for it in items:
        depth.append(sum(s < pos < e for s, e in spans))
        pos += len(it)
    return _glue(list(items), depth, 0, measure, split_width)


def _glue(items: list[str], depth: list[int], level: int, measure: Measure, limit: float) -> list[str]:
    """Join items across boundaries deeper than `level`; a joined unit wider than `limit` is split one level
    deeper. At the deepest level every boundary is a break, so this always ends."""
    units: list[str] = []
    start = 0
    for i in range(1, len(items) + 1):
        if i < len(items) and depth[i] > level:
            continue
        run = "".join(items[start:i])
        if i - start > 1 and measure(run) > limit + _EPS:
            units += _glue(items[start:i], [0, *depth[start + 1:i]], level + 1, measure, limit)
        else:
            units.append(run)
        start = i
    return units


def _break(text: str, measure: Measure, width: float, mode_width: float) -> list[str]:
    """Break at `width`; how a paragraph may break (anywhere, at spaces only, between words) is decided at
    `mode_width`, so that break_balanced's narrower trial widths do not drop a headline's phrase structure nor
    cut a word that fits on the real line."""
    lines: list[str] = []
    for items in _paragraphs(text):
        chunks = _chunks(items)
        phrases = [c for c in chunks if not _is_space(c)]
        whole = "".join(items).strip(_SPACES)
        if not whole or measure(whole) <= mode_width + _EPS:
            # Fits on one line: no break is needed, so no words are needed (and jieba is not loaded). Narrower
            # trial widths in break_balanced give this paragraph more lines and are rejected anyway.
            units: list[str] = list(items)
        elif len(phrases) > 1 and all(measure(w) <= mode_width + _EPS for w in phrases):
            # A space in Chinese poster copy separates phrases ("补栏周转 不误农时"): breaking inside a
            # phrase reads badly, so when every phrase fits on a line, break only at the spaces.
            units = chunks
        else:
            units = _words(items, mode_width, measure)
        lines += _fill(units, measure, width)
    return lines


# --- public API -------------------------------------------------------------------------------------
def break_lines(text: str, measure: Measure, max_width: float) -> list[str]:
    """Greedy line filling under the clreq rules, between words, without a line of 1–2 characters where
    another break gives the same number of lines. Never truncates: when the text needs more lines than the
    caller wants (or a unit is wider than `max_width`) all lines are still returned, and the caller shrinks
    the font (fit_text). Blank text gives []. Lines never contain "\\n" nor start/end with a space."""
    return _break(text, measure, max_width, max_width)


def break_balanced(text: str, measure: Measure, max_width: float) -> list[str]:
    """Like break_lines, but for headlines: keep the minimum line count n, and bisect for the
    narrowest width that still yields n lines, so lines come out of similar length ("7+7", not
    "12+2"), and no more short lines than break_lines leaves (a narrow trial width can force an
    orphan that the full width avoids). Each trial is cheap (texts are a few dozen units), ~12 trials."""
    best = break_lines(text, measure, max_width)
    n = len(best)
    if n <= 1:
        return best
    shorts = _shorts(best)
    # lo starts at 0, not max_width/n: with forced "\n" breaks max_width/n may already give n lines,
    # and bisection needs lo on the "too many lines" side (w=0 puts every cluster on its own line).
    lo, hi = 0.0, float(max_width)
    tol = max(float(max_width) * 1e-3, 1e-3)
    while hi - lo > tol:
        mid = (lo + hi) / 2
        cand = _break(text, measure, mid, max_width)
        if len(cand) <= n and _shorts(cand) <= shorts:
            hi, best = mid, cand
        else:
            lo = mid
    return best


def _shorts(lines: Sequence[str]) -> tuple[bool, int]:
    """How bad a block's short lines are: a short last line first, then how many short lines."""
    return _short(lines[-1]), sum(map(_short, lines))


def fits(lines: Sequence[str], measure: Measure, max_width: float) -> bool:
    """True when every line measures within max_width."""
    return all(measure(ln) <= max_width + _EPS for ln in lines)
