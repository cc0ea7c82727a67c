"""FIN-CONSISTENT: every rate, amount, term, count, discount and price a text states, read with its meaning, and
compared with what the brief's offer states.

A figure is read with its unit (%, 万分之, 元/万/亿, 期/个月/年/天, 次/笔/张, 折, 倍), Arabic or Chinese numerals
(三十万, 五十万元, 一百万, 两万, 三年期), a qualifier (最高/最长/高达 … = the most; 起/最低/低至/起存 … = the least),
and what it is about (a rate and its basis: yearly, daily, monthly, per instalment; an amount as a credit limit, a
price, a reward, a threshold or a cost). The words that decide this are data (`figures:` in
configs/compliance/zh-CN.yaml). Dates, years, phone numbers, ordinals (第一期), codes (R2, T+1) and durations of
service (24小时, 3分钟) are not offer figures.

The offer (`OfferFacts`) is what the brief states in `offer`: the APR (one figure, or a range), the perks, and the
product's name (三年期大额存单 states a term). A text's figure must equal or lie within it:
- a rate on a yearly basis: the APR, or inside the APR range (起 only with the lower bound, 最高 only with the upper;
  a written range must be the brief's range); a daily or monthly rate is annualized first (×365, ×12);
- a 最高/最长 figure: the offer's most; a 起/最低 figure: the offer's least;
- any other amount or term: one the offer states, or (credit amounts and terms) within the offer's most;
- prices, rewards, thresholds, counts, discounts and multiples: one the offer states.
Perks are the offer themselves: a perk is only checked against the APR and against the other perks it
contradicts (最高可借100万 beside 最高可借50万)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

# ------------------------------------------------------------------------------------------------ numerals

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL = "零〇一二两三四五六七八九十百千万亿"


def cn_number(s: str) -> float | None:
    """Chinese numerals → a number: 三十万 → 300000, 一百五十万 → 1500000, 两万 → 20000, 十二 → 12, 一万五 → 15000.
    (Hand-written: the grammar mkt needs is these twenty lines; cn2an would be a dependency for them.)"""
    if not s or any(c not in CN_NUMERAL for c in s):
        return None
    total, section, num, last_unit = 0, 0, 0, 1
    for ch in s:
        if ch in _CN_DIGITS:
            num = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            section += (num or 1) * _CN_UNITS[ch]
            num, last_unit = 0, _CN_UNITS[ch]
        else:
            section += num
            total += (section or 1) * _CN_BIG[ch]
            section, num, last_unit = 0, 0, _CN_BIG[ch]
    if num and last_unit >= 100 and s[-1] in _CN_DIGITS and s[-2:-1] not in ("零", "〇"):
        num *= last_unit // 10   # 一万五 = 15000, 三千五 = 3500
    return float(total + section + num)


# ------------------------------------------------------------------------------------------------ vocabulary

@dataclass(frozen=True)
class Vocabulary:
    """The words that give a figure its meaning (configs/compliance/zh-CN.yaml `figures:`), compiled."""
    most: re.Pattern           # 最高 最长 高达 …: the figure is the offer's most
    least: re.Pattern          # 最低 最短 低至 …: its least
    least_after: re.Pattern    # 起 起存 起购 … right after the figure
    most_after: re.Pattern     # 以内 以下 封顶 … right after the figure
    rate_words: re.Pattern     # 利率 利息 年化 收益 基准 …: a % is this product's rate
    other_percent: re.Pattern  # 首付 返现 积分 …: a % that is not a rate
    day_basis: re.Pattern      # 日息 日利率 每天 /天 …
    month_basis: re.Pattern    # 月息 月利率 每月 /月 …
    year_basis: re.Pattern     # 年化 年利率 …
    fee_basis: re.Pattern      # 手续费 每期费率 /期 …: a per-instalment fee rate
    ignore: re.Pattern         # 罚息 逾期 违约 …: a figure about something else than the offer
    roles: tuple[tuple[str, re.Pattern], ...]   # amount roles by nearest word: limit, price, reward, threshold, cost
    principal: re.Pattern      # 借 借款 每借 …: the amount a cost example is computed on


def compile_vocabulary(v: dict[str, Any]) -> Vocabulary:
    def rx(key: str) -> re.Pattern:
        words = v.get(key) or []
        return re.compile("|".join(words)) if words else re.compile(r"(?!x)x")

    roles = tuple((name, re.compile("|".join(words))) for name, words in (v.get("roles") or {}).items() if words)
    return Vocabulary(rx("most"), rx("least"), rx("least_after"), rx("most_after"), rx("rate_words"),
                      rx("other_percent"), rx("day_basis"), rx("month_basis"), rx("year_basis"), rx("fee_basis"),
                      rx("ignore"), roles, rx("principal"))


# ------------------------------------------------------------------------------------------------ figures

@dataclass(frozen=True)
class Figure:
    kind: str                  # rate | percent | amount | term | count | discount | multiple
    value: float               # rate: % a year (daily/monthly annualized); amount: 元; term: months or days
    written: str               # as in the text: 年化利率2.8%起 → '2.8%起'
    start: int = 0
    qual: str = ""             # most | least | ''
    hi: float | None = None    # a written range's upper value
    unit: str = ""             # term: month | day; rate: year | day | month | fee
    role: str = ""             # amount: limit | price | reward | threshold | cost | ''
    context: str = ""          # the clause it sits in (for messages)

    def same_measure(self, other: "Figure") -> bool:
        return self.kind == other.kind and self.unit == other.unit


_NUM = r"\d+(?:\.\d+)?"
_UNITS = r"%|‰|亿元|亿|万元|万|千元|元|块钱|块|个月|年期|期|年|天|折|倍|笔|次|张|单"
_TOKEN = re.compile(
    rf"(?P<frac>[百千万]分之)(?P<fnum>{_NUM}|[{CN_NUMERAL}]+(?:点[{CN_NUMERAL}]+)?)"
    rf"|(?P<num>{_NUM})\s*(?P<unit>{_UNITS})?"
    rf"|(?P<cn>[{CN_NUMERAL}]+)(?P<cunit>{_UNITS})?"
    rf"|(?P<half>半)(?P<hunit>年|个月)")
_RANGE_SEP = re.compile(r"^\s*[-~～–—至到]\s*$")
_CLAUSE_END = "，,。；;！!？?\n"
_UNIT_KIND = {"%": ("percent", 1), "‰": ("percent", 0.1), "亿元": ("amount", 1e8), "亿": ("amount", 1e8),
              "万元": ("amount", 1e4), "万": ("amount", 1e4), "千元": ("amount", 1e3), "元": ("amount", 1),
              "块钱": ("amount", 1), "块": ("amount", 1), "个月": ("term", 1), "年期": ("term", 12),
              "期": ("term", 1), "年": ("term", 12), "天": ("term", 1), "折": ("discount", 1),
              "倍": ("multiple", 1), "笔": ("count", 1), "次": ("count", 1), "张": ("count", 1), "单": ("count", 1)}
_FRACTION = {"百分之": 1.0, "千分之": 0.1, "万分之": 0.01}
# what a 万 amount is not: 10万人, 3万户, 5万+
_NOT_MONEY_AFTER = re.compile(r"^[+＋]?(人|户|用户|客户|家|名|位|笔|张|次|份|单|条|个)")


def normalize(text: str) -> str:
    """Full-width figures and signs (３．６％), thousands separators (10,000元) and spaces inside a figure."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)
    return re.sub(r"(?<=\d)\s+(?=[%.])|(?<=[%.])\s+(?=\d)", "", t)


def _clause(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the figure's clause before and after it (clauses end at ，。；！？ and line ends)."""
    a = max((text.rfind(c, 0, start) for c in _CLAUSE_END), default=-1) + 1
    ends = [i for i in (text.find(c, end) for c in _CLAUSE_END) if i >= 0]
    return text[a:start], text[end:min(ends) if ends else len(text)]


def _nearest(patterns: Iterable[tuple[str, re.Pattern]], before: str) -> str:
    """The name of the pattern whose last match ends nearest the end of `before`."""
    best, at = "", -1
    for name, pat in patterns:
        for m in pat.finditer(before):
            if m.end() >= at:
                best, at = name, m.end()
    return best


def _tokens(t: str) -> list[tuple[float, str | None, int, int]]:
    """(value, unit, start, end) for every number in a normalized text; unit None for a bare Arabic number (it
    may open a range: 3-5年, 3.2-7.2%). Amounts are in 元, 年 terms in months, fractions (万分之二) in %."""
    out: list[tuple[float, str | None, int, int]] = []
    for m in _TOKEN.finditer(t):
        s, e = m.span()
        if t[max(0, s - 1):s] == "第":
            continue                                    # an ordinal: 第一笔, 第2期
        if m.group("frac"):
            fnum = m.group("fnum")
            v = float(fnum) if re.fullmatch(_NUM, fnum) else cn_number(fnum.split("点")[0])
            if v is not None:
                out.append((v * _FRACTION[m.group("frac")], m.group("frac"), s, e))
            continue
        if m.group("half"):
            out.append((6.0 if m.group("hunit") == "年" else 0.5, "个月", s, e))   # 半年, 半个月
            continue
        if m.group("num"):
            unit, v = m.group("unit"), float(m.group("num"))
            if unit in ("年", "年期") and (v >= 1900 or re.match(r"\d+月", t[e:])):
                continue                                # 2026年, 2026年12月
            if unit is None and (re.match(r"\d*[:：/]|\d*月", t[e:]) or t[max(0, s - 1):s].isascii()
                                 and t[max(0, s - 1):s].isalpha()):
                continue                                # 12:00, 12/31, 12月, R2, T+1
            out.append((v, unit, s, e))
            continue
        cn, unit = m.group("cn"), m.group("cunit")
        if (cn.startswith("千万") and unit != "元") or cn in ("万", "亿", "十", "百", "千", "零", "〇"):
            continue                                    # 千万别…, 万事, 十足
        if unit is None:
            if cn[-1] not in "万亿":
                continue
            unit = "元"                                 # 三十万 → an amount
        elif cn == "一" and unit in ("次", "张", "笔", "单", "天", "年", "期", "块") and not (
                unit in ("年", "天") and re.search(r"(期|限|长|达|为|满|借|存|有|保障)$", t[max(0, s - 3):s])):
            continue                                    # 一次 / 一张 / 一天 read as 'a'; 持有期一年 is a term
        v = cn_number(cn)
        if v is not None:
            out.append((v, unit, s, e))
    return out


def parse_figures(text: str, vocab: Vocabulary, category: str | None = None) -> list[Figure]:
    """Every offer figure in a text, with its meaning (see the module docstring)."""
    t = normalize(text)
    toks = _tokens(t)
    figures: list[Figure] = []
    prev_end = 0
    i = 0
    while i < len(toks):
        v, unit, s, e = toks[i]
        hi = None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and nxt[1] is not None and _RANGE_SEP.match(t[e:nxt[2]]) and (
                unit is None or _UNIT_KIND.get(unit, ("percent",))[0] == _UNIT_KIND.get(nxt[1], ("percent",))[0]):
            unit = unit or nxt[1]                       # a range: 3.45%-12%, 3-5年
            hi, e = nxt[0], nxt[3]
            i += 1
        i += 1
        if unit is None:
            continue
        if unit in _FRACTION:
            kind, mult = "percent", 1.0
        else:
            kind, mult = _UNIT_KIND[unit]
        if kind == "amount" and unit in ("万", "亿") and _NOT_MONEY_AFTER.match(t[e:]):
            continue
        if hi is not None and unit not in _FRACTION:
            hi *= mult
        before, after = _clause(t, s, e)
        own = before[max(0, len(before) - (s - prev_end)):] if s - prev_end < len(before) else before
        f = _meaning(v * mult if unit not in _FRACTION else v, hi, kind, unit, t[s:e], s, before, own, after,
                     vocab, category)
        prev_end = e
        if f is not None:
            figures.append(f)
    return figures


_RATE_CATEGORIES = ("loan", "credit_card", "deposit", "wealth")


def _meaning(v: float, hi: float | None, kind: str, unit: str, written: str, start: int, before: str, own: str,
             after: str, vocab: Vocabulary, category: str | None) -> Figure | None:
    """`before`: the clause before the figure; `own`: the part of it after the previous figure (a qualifier or a
    role word belongs to the figure it precedes, not to the next one)."""
    if vocab.ignore.search(before):
        return None                                     # 逾期罚息…, 违约金…
    if v == 0 and hi is None:
        return None                                     # 0元, 0利率: the free / zero-rate rules' business
    ctx = before + written + after
    if vocab.least_after.match(after):
        qual = "least"
    elif vocab.most_after.match(after):
        qual = "most"
    else:
        qual = _nearest((("most", vocab.most), ("least", vocab.least)), own[-8:])
    if kind == "percent":
        near = before[-12:]
        tail = after[:4]
        bases = (("year", vocab.year_basis), ("fee", vocab.fee_basis), ("day", vocab.day_basis),
                 ("month", vocab.month_basis))
        basis = next((n for n, p in bases if p.match(tail)), "") or _nearest(bases, near) or (
            "day" if unit == "万分之" else "year")
        is_rate = bool(unit in _FRACTION or basis != "year" or vocab.rate_words.search(near))
        if not is_rate and (vocab.other_percent.search(near) or category not in _RATE_CATEGORIES):
            return Figure("percent", v, written, start, qual, hi, "", "", ctx)
        factor = {"day": 365.0, "month": 12.0}.get(basis, 1.0)
        return Figure("rate", v * factor, written, start, qual, hi * factor if hi is not None else None, basis, "",
                      ctx)
    if kind == "amount":
        role = _nearest(vocab.roles, own) or _nearest(vocab.roles, before)
        if vocab.day_basis.search(own[-6:]) or vocab.month_basis.search(own[-6:]):
            role = "cost"
        elif vocab.least_after.match(after):
            role = role or "limit"
        return Figure("amount", v, written, start, qual, hi, "", role, ctx)
    if kind == "term":
        return Figure("term", v, written, start, qual, hi, "day" if unit == "天" else "month", "", ctx)
    if kind == "discount" and v >= 10:
        v, hi = v / 10, (hi / 10 if hi is not None else None)   # 85折 = 8.5折
    role = (_nearest(vocab.roles, own) or _nearest(vocab.roles, before)) if kind == "count" else ""
    return Figure(kind, v, written, start, qual, hi, "", role, ctx)


# ------------------------------------------------------------------------------------------------ the offer

@dataclass(frozen=True)
class Stated:
    figure: Figure
    source: str                # the brief key: offer.apr, offer.perks[1], product.name
    text: str                  # the source text


@dataclass(frozen=True)
class OfferFacts:
    apr: tuple[float, ...] = ()          # (lo,) or (lo, hi), % a year
    apr_text: str = ""                   # as written in the brief: 3.45%-12%
    stated: tuple[Stated, ...] = ()      # every figure the offer states (perks, product name)


def offer_facts(apr: str | None, sources: Iterable[tuple[str, str]], vocab: Vocabulary,
                category: str | None = None) -> OfferFacts:
    """The offer's figures: `apr` (the brief's offer.apr), and (key, text) pairs whose figures are stated
    (offer.perks[i], product.name …). A rate in a perk is not a second APR: rates are the APR's alone."""
    figs: tuple[float, ...] = ()
    if apr:
        nums = [float(x) for x in re.findall(_NUM, normalize(apr))]
        figs = tuple(nums[:2])
    stated = []
    for key, text in sources:
        for f in parse_figures(text or "", vocab, category):
            if f.kind != "rate" or f.unit == "fee":
                stated.append(Stated(f, key, text))
    return OfferFacts(figs, apr or "", tuple(stated))


# ------------------------------------------------------------------------------------------------ comparing

@dataclass(frozen=True)
class Mismatch:
    figure: Figure
    message: str


def _eq(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= max(tol, 1e-9 * max(abs(a), abs(b)))


def _fmt(v: float) -> str:
    return f"{v:,.4f}".rstrip("0").rstrip(".")


def _describe(f: Figure) -> str:
    if f.kind == "amount":
        return f"{_fmt(f.value)}元"
    if f.kind == "term":
        return f"{_fmt(f.value)}{'天' if f.unit == 'day' else '个月'}"
    if f.kind == "rate":
        basis = {"day": "daily", "month": "monthly"}.get(f.unit)
        return f"{_fmt(f.value)}% a year" + (f" (a {basis} rate annualized)" if basis else "")
    return f.written


def _stated_list(items: list[Stated]) -> str:
    return "; ".join(f"{s.source} '{s.text}'" for s in items[:3])


def _check_rate(f: Figure, offer: OfferFacts) -> str | None:
    apr = offer.apr
    if f.unit == "fee":
        same = [s for s in offer.stated if s.figure.kind == "rate" and s.figure.unit == "fee"
                and _eq(s.figure.value, f.value)]
        return None if same else (f"'{f.written}' is a per-instalment fee rate the offer does not state; the "
                                  f"offer's annualized rate is {offer.apr_text or 'not stated'}")
    if not apr:
        return f"'{f.written}' states a rate, but the offer states none (offer.apr)"
    tol = 0.02 if f.unit in ("day", "month") else 1e-6    # an annualized daily rate is rounded
    lo, hi = apr[0], apr[-1]
    close = lambda a, b: abs(a - b) <= tol * max(1.0, b) if tol > 1e-6 else _eq(a, b)  # noqa: E731
    want = f"offer.apr is {offer.apr_text}"
    label = f"'{f.written}'" + (f" ({_describe(f)})" if f.unit in ("day", "month") else "")
    if f.hi is not None:
        if close(f.value, lo) and close(f.hi, hi):
            return None
        return f"{label}: the range is not the brief's; {want}"
    if f.qual == "least":
        return None if close(f.value, lo) else f"{label}: 起/最低 only with the lowest rate; {want}"
    if f.qual == "most":
        return None if close(f.value, hi) else f"{label}: 最高 only with the highest rate; {want}"
    if lo - (tol * lo if tol > 1e-6 else 1e-6) <= f.value <= hi + (tol * hi if tol > 1e-6 else 1e-6):
        return None
    return f"{label} is not the brief's rate; {want}"


def _perk_contradiction(f: Figure, most: list[Stated], least: list[Stated], top: float | None) -> str | None:
    """A perk's figure against the offer's other perks: only a contradiction is an error (a perk states the offer)."""
    if f.qual == "most" and most and not any(_eq(s.figure.value, f.value) for s in most):
        return f"'{f.written}' ({_describe(f)}) contradicts {_stated_list(most)}"
    if f.qual == "least" and least and not any(_eq(s.figure.value, f.value) for s in least):
        return f"'{f.written}' ({_describe(f)}) contradicts {_stated_list(least)}"
    if not f.qual and top is not None and f.kind in ("amount", "term") and f.role in ("", "limit") \
            and f.value > top + 1e-9:
        return f"'{f.written}' ({_describe(f)}) is more than {_stated_list(most)}"
    return None


def _check_other(f: Figure, offer: OfferFacts, perk: bool) -> str | None:
    same = [s for s in offer.stated if s.figure.same_measure(f)]
    if f.kind == "percent":
        same = [s for s in offer.stated if s.figure.kind == "percent"]
    equal = [s for s in same if _eq(s.figure.value, f.value) and (f.hi is None or s.figure.hi is None
                                                                   or _eq(s.figure.hi, f.hi))]
    role_ok = lambda s: not f.role or not s.figure.role or s.figure.role == f.role  # noqa: E731
    most = [s for s in same if s.figure.qual == "most" and role_ok(s)]
    least = [s for s in same if s.figure.qual == "least" and role_ok(s)]
    top = max((s.figure.hi or s.figure.value for s in most), default=None)
    what = {"amount": "amount", "term": "term", "count": "count", "discount": "discount", "multiple": "multiple",
            "percent": "percentage"}[f.kind]
    if perk:   # a perk states the offer: only a contradiction of another perk is an error
        return _perk_contradiction(f, most, least, top)
    no_such = f"'{f.written}': the offer states no such {what}" + (f" (it states {_stated_list(same)})" if same else "")
    if f.qual in ("most", "least"):
        bound = most if f.qual == "most" else least
        if bound:
            return None if any(_eq(s.figure.value, f.value) for s in bound) else \
                f"'{f.written}' ({_describe(f)}): the offer's {f.qual} is {_stated_list(bound)}"
        return None if equal else no_such
    if equal:
        return None
    lows = [s for s in least if s.figure.role in ("", "limit")]
    if f.kind in ("amount", "term") and f.role in ("", "limit") and (top is not None or lows):
        # within the offer's most and least (存50万 where 20万元起存; 12期 where 最长36期)
        low = min((s.figure.value for s in lows), default=0.0)
        if (top is None or (f.hi or f.value) <= top + 1e-9) and f.value >= low - 1e-9:
            return None
        return f"'{f.written}' ({_describe(f)}) is outside the offer: {_stated_list(most + lows)}"
    return no_such


def _cost_rate(figs: list[Figure], cost: Figure, vocab: Vocabulary) -> float | None:
    """The yearly rate a cost example implies (借1万元，每天利息约1元 → 3.65%), or None without a principal."""
    principal = next((f for f in figs if f.kind == "amount" and f.role in ("limit", "") and f.start < cost.start
                      and vocab.principal.search(f.context[:f.context.find(f.written)][-6:] or "")), None)
    if principal is None or principal.value <= 0:
        return None
    before = cost.context[:cost.context.find(cost.written)]
    per = 365.0 if vocab.day_basis.search(before) else 12.0 if vocab.month_basis.search(before) else 1.0
    return cost.value * per / principal.value * 100


def _skeleton(text: str, figs: list[Figure]) -> str:
    """The text with its figures masked: 满100元减30元 → 满#减#."""
    t = normalize(text)
    for f in sorted(figs, key=lambda f: -f.start):
        t = t[:f.start] + "#" + t[f.start + len(f.written):]
    return re.sub(r"\s+", "", t)


def _perk_twins(text: str, figs: list[Figure], offer: OfferFacts, vocab: Vocabulary, category: str | None
                ) -> list[Mismatch]:
    """A perk worded like another perk but with other figures for the same condition contradicts it:
    满100元减30元 beside 满100元减10元, 首期利息5折 beside 首期利息8折 (tiers — 满100减10, 满200减30 — differ in
    every figure and stand)."""
    if not figs:
        return []
    mine = _skeleton(text, figs)
    out = []
    for src, other in dict.fromkeys((s.source, s.text) for s in offer.stated):
        ofigs = parse_figures(other, vocab, category)
        if len(ofigs) != len(figs) or _skeleton(other, ofigs) != mine:
            continue
        same = [_eq(a.value, b.value) for a, b in zip(figs, ofigs)]
        if all(same) or (len(figs) > 1 and not any(same)):
            continue
        f = figs[same.index(False)]
        out.append(Mismatch(f, f"'{f.written}' contradicts {src} '{other}'"))
        break
    return out


def check_figures(text: str, offer: OfferFacts, vocab: Vocabulary, *, category: str | None = None,
                  perk: bool = False) -> list[Mismatch]:
    """The figures of `text` that are not the offer's. `perk`: the text is one of the offer's perks (pass the
    offer without it: `offer.without(key)`)."""
    out: list[Mismatch] = []
    figs = parse_figures(text, vocab, category)
    yearly = any(f.kind == "rate" and f.unit == "year" for f in figs)
    for f in figs:
        if f.kind == "rate" and f.unit == "fee" and yearly:
            why = None   # a per-instalment fee beside its annualized rate (checked itself): the disclosure PBOC asks
        elif f.kind == "rate":
            why = _check_rate(f, offer)
        elif f.kind == "amount" and f.role == "cost":
            implied = _cost_rate(figs, f, vocab)
            if implied is not None and offer.apr:
                why = _check_rate(Figure("rate", implied, f.written, f.start, "", None, "day", "", f.context), offer)
            else:
                why = None if any(s.figure.kind == "amount" and _eq(s.figure.value, f.value) for s in offer.stated) \
                    else f"'{f.written}' is a cost the offer does not state (state it as the annualized rate)"
        else:
            why = _check_other(f, offer, perk)
        if why:
            out.append(Mismatch(f, why))
    if perk and not out:
        out = _perk_twins(text, [f for f in figs if f.kind != "rate"], offer, vocab, category)
    return out


def non_annual_rates(text: str, vocab: Vocabulary, category: str | None = None) -> list[Figure]:
    """Rate or cost figures that are not yearly (日息万分之二, 月息0.5%, 手续费率0.6%/期, 每天仅需2元): the PBOC
    rule wants the annualized rate beside them, at least as prominent."""
    return [f for f in parse_figures(text, vocab, category)
            if (f.kind == "rate" and f.unit in ("day", "month", "fee")) or (f.kind == "amount" and f.role == "cost")]


__all__ = ["Figure", "Mismatch", "OfferFacts", "Stated", "Vocabulary", "check_figures", "cn_number",
           "compile_vocabulary", "non_annual_rates", "normalize", "offer_facts", "parse_figures"]
