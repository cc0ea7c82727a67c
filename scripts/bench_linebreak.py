#!/usr/bin/env python3
"""Time Chinese line breaking with word boundaries: the one-time cost of the first break that needs words (jieba
imported, the vendored word list and configs/lexicon/words-zh.txt loaded) and the cost per string after that,
with the bundled font's real measure, against the same breaks with word boundaries switched off.

    PYTHONPATH=$PWD python scripts/bench_linebreak.py

Run it in a fresh process: the first figure is only true once per process.
"""
from __future__ import annotations

import statistics
import sys
import time

COPY = [
    "分期年化利率以实际账单为准，请理性消费", "具体保障内容以保险合同条款为准，请仔细阅读",
    "理财非存款，产品有风险，投资须谨慎。业绩比较基准不代表实际收益", "存款利率以办理时本行挂牌利率为准",
    "贷款额度、利率以实际审批结果为准，请理性借贷。", "本产品由示例农村商业银行股份有限公司提供",
    "首年保费9.9元起，保额50万，投保前请仔细阅读保险条款及免责说明", "账单分期按期还款更安心",
    "投资有风险，过往业绩不预示其未来表现，请根据自身风险承受能力审慎选择", "春耕备耕资金无忧农贷助您增收",
]
SIZE = 24
WIDTHS = [150, 220, 300, 420]   # px: 6 to 17 characters of a 24 px font


def main() -> None:
    from mktcli.compose import fonts, linebreak, words

    stack = fonts.FontStack(["sans"])

    def measure(s: str) -> float:
        return stack.measure(s, SIZE)

    measure("预热")   # load the font file outside the timings
    assert "jieba" not in sys.modules
    t = time.perf_counter()
    linebreak.break_lines(COPY[0], measure, WIDTHS[1])
    first = time.perf_counter() - t
    print(f"first break that needs words (jieba import + word list + poster words): {first * 1000:.0f} ms")

    def per_string(breaker) -> float:
        runs = []
        for _ in range(5):
            fonts._measure.cache_clear()          # as in a fresh poster run: nothing measured yet
            getattr(words.word_spans, "cache_clear", lambda: None)()
            t = time.perf_counter()
            for text in COPY:
                for w in WIDTHS:
                    breaker(text, measure, w)
            runs.append((time.perf_counter() - t) / (len(COPY) * len(WIDTHS)))
        return statistics.median(runs) * 1e6

    for name, breaker in (("break_lines", linebreak.break_lines), ("break_balanced", linebreak.break_balanced)):
        on = per_string(breaker)
        real = words.word_spans
        words.word_spans = lambda text: ()       # word boundaries off: the breaker as it was before them
        try:
            off = per_string(breaker)
        finally:
            words.word_spans = real
        print(f"{name}: {on:.0f} µs per string with words, {off:.0f} µs without "
              f"({len(COPY)} strings × {len(WIDTHS)} widths, {SIZE} px Noto Sans SC, median of 5)")


if __name__ == "__main__":
    main()
