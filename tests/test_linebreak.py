"""Chinese line breaking (mktcli.compose.linebreak): clreq punctuation rules, unbreakable units,
space preference, balancing, words kept whole, no orphans. A fake measure keeps widths exact:
CJK / full-width = 1.0, ASCII = 0.5."""
from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mktcli.compose import words
from mktcli.compose.linebreak import NO_END, NO_START, break_balanced, break_lines, fits, tokenize

SPACES = " \t\u3000"
WIDTHS = [w / 2 for w in range(2, 41)]   # 1.0, 1.5, ... 20.0


@pytest.fixture
def no_words(monkeypatch):
    """Line breaking as if no word were known (every break between Chinese characters allowed)."""
    monkeypatch.setattr(words, "word_spans", lambda text: ())


def measure(s: str) -> float:
    return sum(0.5 if ord(c) < 128 else 1.0 for c in s)


def spans(text: str, lines: list[str]) -> list[tuple[int, int]]:
    """Where each line sits in text. Fails unless text == lines joined by separators made only of
    spaces and newlines, i.e. nothing was lost, reordered or inserted, and only break spaces dropped."""
    sep = r"[ \t\u3000]*(?:\r?\n[ \t\u3000]*)*"
    pat = "^" + sep + sep.join(f"({re.escape(ln)})" for ln in lines) + sep + "$"
    m = re.match(pat, text)
    assert m, f"text not preserved: {text!r} -> {lines!r}"
    return [m.span(i + 1) for i in range(len(lines))]


def check_rules(text: str, lines: list[str], width: float) -> None:
    """Every invariant break_lines / break_balanced promise, checked against the original text."""
    toks = tokenize(text)
    assert "".join(toks) == text
    bounds, pos = {0}, 0
    for t in toks:
        pos += len(t)
        bounds.add(pos)
    for ln in lines:
        assert "\n" not in ln
        if ln:
            assert ln[0] not in SPACES and ln[-1] not in SPACES, f"space at line edge: {ln!r}"
    sp = spans(text, lines)
    for ln, (s, e) in zip(lines, sp):
        if not ln:
            continue
        assert s in bounds and e in bounds, f"unit split at {ln!r} in {toks!r}"
        para_before = text[:s].rsplit("\n", 1)[-1]
        para_after = text[e:].split("\n", 1)[0]
        if ln[0] in NO_START:   # allowed only where the paragraph itself starts with the mark
            assert para_before.strip(SPACES) == "", f"line starts with {ln[0]!r}: {lines!r}"
        if ln[-1] in NO_END:    # allowed only where the paragraph itself ends with the bracket
            assert para_after.strip(SPACES) == "", f"line ends with {ln[-1]!r}: {lines!r}"
        if measure(ln) > width + 1e-6:
            # Overflow is only allowed for one unit that is wider than the line (plus the punctuation
            # the rules glue onto it): everything else must have wrapped.
            inner = [t for t, a in _tok_spans(toks) if s <= a < e]
            core = [t for t in inner if t[0] not in SPACES and t not in NO_START and t not in NO_END]
            assert len(core) <= 1, f"line too wide without cause: {ln!r} at {width}"
    # Every explicit newline forces a break: at least one line per paragraph.
    assert len(lines) >= len(text.strip(SPACES + "\n").split("\n")) or not text.strip(SPACES + "\n")


def _tok_spans(toks: list[str]):
    pos = 0
    for t in toks:
        yield t, pos
        pos += len(t)


# --- tokenize --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, unit", [
    ("年化利率3.2%起", "3.2%起"), ("利率3.2%每年", "3.2%"), ("最高可借30万", "30万"),
    ("首期利息8折", "8折"), ("分12个月还款", "12个月"), ("最长24期", "24期"),
    ("截至2026年3月31日止", "2026年3月31日"), ("3月31日前", "3月31日"), ("额度5000元", "5000元"),
    ("提额10万元", "10万元"), ("立减¥5000", "¥5000"), ("规模1.5亿", "1.5亿"), ("积分3倍", "3倍"),
    ("日息0.05%/天", "0.05%/天"), ("区间3.2%-7.2%", "3.2%-7.2%"), ("惠农e贷App", "App"),
    ("等等……", "……"), ("说明——见", "——"), ("首年保费9.9元起", "9.9元起"), ("20万起存", "20万起"),
])
def test_tokenize_keeps_units_whole(text, unit):
    toks = tokenize(text)
    assert unit in toks, toks
    assert "".join(toks) == text


def test_tokenize_ideographs_spaces_newlines():
    assert tokenize("补栏 周转\n农时") == ["补", "栏", " ", "周", "转", "\n", "农", "时"]
    assert tokenize("4G和3.5G") == ["4G", "和", "3.5G"]          # a number glued to letters is a word
    assert tokenize("利率，") == ["利", "率", "，"]                 # punctuation is its own unit


# --- punctuation rules ------------------------------------------------------------------------------
SENTENCES = [
    "贷款额度、利率以实际审批结果为准，请理性借贷。",
    "（最高可借30万）首期利息8折！",
    "“惠农e贷”：补栏周转，不误农时；详询《产品说明书》。",
    "年化利率3.2%起，最高可借30万，分12个月还，活动截至2026年3月31日，区间3.2%-7.2%。",
]


@pytest.mark.parametrize("text", SENTENCES)
@pytest.mark.parametrize("width", WIDTHS)
def test_rules_hold_at_every_width(text, width):
    lines = break_lines(text, measure, width)
    check_rules(text, lines, width)
    assert not any(ln[0] in NO_START for ln in lines[1:])
    assert not any(ln[-1] in NO_END for ln in lines[:-1])
    assert "".join(lines) == text           # no spaces in these sentences: plain concatenation


def test_no_start_pulls_previous_unit_down(no_words):
    # At width 4 greedy would put "，" first on line 2; the rule moves "准" down with it. (Word boundaries are
    # switched off here to test the punctuation rule alone: with them, 批准 and 为准 are words and move whole.)
    # (A third character after the mark keeps the orphan rule out of the way too.)
    assert break_lines("为准审批准，请您", measure, 5) == ["为准审批", "准，请您"]
    assert break_lines("审批为准，请您", measure, 4) == ["审批为", "准，请您"]


def test_opening_bracket_moves_to_next_line():
    assert break_lines("最高可借（30万）", measure, 5) == ["最高可借", "（30万）"]


@pytest.mark.parametrize("unit", ["3.2%", "30万", "2026年3月31日", "3.2%-7.2%", "12个月", "3.2%起"])
@pytest.mark.parametrize("width", range(1, 21))
def test_units_never_split(unit, width):
    text = f"年化利率低至{unit}，详询客户经理"
    lines = break_lines(text, measure, width)
    assert any(unit in ln for ln in lines), (unit, width, lines)
    check_rules(text, lines, width)


# --- spaces, newlines, overflow --------------------------------------------------------------------
def test_space_is_preferred_break():
    assert break_lines("补栏周转 不误农时", measure, 5) == ["补栏周转", "不误农时"]
    # At 6 plain greedy would give "补栏周转 不" / "误农时"; the phrase boundary wins.
    assert break_lines("补栏周转 不误农时", measure, 6) == ["补栏周转", "不误农时"]
    assert break_lines("补栏周转 不误农时", measure, 8.5) == ["补栏周转 不误农时"]   # fits: space kept


def test_space_preference_falls_back_when_a_phrase_is_too_long():
    # "资金无忧惠农贷款" (8) cannot fit in 6, so break anywhere allowed.
    lines = break_lines("春耕 资金无忧惠农贷款", measure, 6)
    assert lines == ["春耕 资金", "无忧惠农贷款"]      # ... between words: not 资金无 / 忧惠农贷款


def test_explicit_newline_forces_break():
    assert break_lines("补栏周转\n不误农时", measure, 100) == ["补栏周转", "不误农时"]
    assert break_lines("补栏\n\n农时\n", measure, 100) == ["补栏", "", "农时"]   # trailing \n dropped
    assert break_lines("", measure, 10) == [] and break_lines(" \n ", measure, 10) == []


def test_spaces_dropped_at_line_edges_only():
    lines = break_lines("  惠农 e贷  好用  ", measure, 100)
    assert lines == ["惠农 e贷  好用"]


def test_unit_wider_than_line_is_alone():
    text = "截至2026年3月31日止"     # the date measures 6.5
    lines = break_lines(text, measure, 4)
    assert "2026年3月31日" in lines
    check_rules(text, lines, 4)
    assert not fits(lines, measure, 4) and fits(["截至"], measure, 4)


def test_never_truncates():
    text = "贷款额度、利率以实际审批结果为准，请理性借贷。"
    lines = break_lines(text, measure, 4)
    assert len(lines) > 2 and "".join(lines) == text     # every line comes back; the caller shrinks the font


# --- balanced ---------------------------------------------------------------------------------------
def test_balanced_evens_out_two_lines():
    text = "春耕备耕资金无忧农贷助您增收"     # 14 ideographs
    greedy = break_lines(text, measure, 12)
    assert [len(x) for x in greedy] == [11, 3]     # greedy, with the 2-character orphan 增收 fixed
    lines = break_balanced(text, measure, 12)
    assert len(lines) == 2 and "".join(lines) == text
    assert abs(len(lines[0]) - len(lines[1])) <= 2
    assert fits(lines, measure, 12)


def test_balanced_keeps_phrase_breaks_and_line_count():
    assert break_balanced("补栏周转 不误农时", measure, 7) == ["补栏周转", "不误农时"]
    assert break_balanced("补栏周转", measure, 10) == ["补栏周转"]
    text = "贷款额度、利率以实际审批结果为准，请理性借贷。"
    for w in WIDTHS:
        bal = break_balanced(text, measure, w)
        assert len(bal) == len(break_lines(text, measure, w))
        check_rules(text, bal, w)


# --- property ---------------------------------------------------------------------------------------
PIECES = list("贷款利率额度审批结果为准请理性借") + list("、，。：；！？”’）》」】“‘（《「【") + \
    list("0123456789") + [".", "%", "万", "年", "月", "日", "起", " ", "  ", "\u3000", "\n", "ab", "e",
                          "——", "……", ",", "(", ")", "-"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join), st.sampled_from(WIDTHS),
       st.booleans())
def test_property_rules_hold_and_text_preserved(text, width, balanced):
    breaker = break_balanced if balanced else break_lines
    lines = breaker(text, measure, width)
    check_rules(text, lines, width)
    if balanced:
        assert len(lines) == len(break_lines(text, measure, width))


# --- words kept whole, no orphans ------------------------------------------------------------------
# Real copy from bank posters: disclaimers, provider lines, perks, subheads. Broken at every width from 3 to 24
# characters, no line boundary may fall inside a word that fits on a line, and the last line may not be 1–2
# characters when another break with the same number of lines exists.
COPY = [
    "分期年化利率以实际账单为准，请理性消费",
    "具体保障内容以保险合同条款为准，请仔细阅读",
    "理财非存款，产品有风险，投资须谨慎。业绩比较基准不代表实际收益",
    "存款利率以办理时本行挂牌利率为准",
    "贷款额度、利率以实际审批结果为准，请理性借贷。",
    "本产品由示例农村商业银行股份有限公司提供",
    "本产品由示例理财有限责任公司发行，示例银行代销",
    "首年保费9.9元起，保额50万，投保前请仔细阅读保险条款及免责说明",
    "投资有风险，过往业绩不预示其未来表现，请根据自身风险承受能力审慎选择",
    "本活动最终解释权在法律允许范围内归示例银行所有",
    "以上信息仅供参考，不构成投资建议",
    "账单分期按期还款更安心",
    "受存款保险保障，二十万元起存",
    "新户首刷礼，线上秒速办卡",
    "意外伤害保险由示例财产保险股份有限公司承保",
    "请您合理使用信贷资金，不得用于购房和投资",
]
# Words a reader sees as one, from the copy above: a fixed list, so the test does not only trust the segmenter.
WORDS = ["理性", "消费", "仔细", "阅读", "合同", "条款", "年化利率", "账单", "利率", "挂牌", "存款", "风险",
         "谨慎", "业绩比较基准", "收益", "审批", "结果", "借贷", "商业银行", "股份有限公司", "有限责任公司",
         "保额", "首年保费", "投保", "免责", "说明", "过往", "业绩", "未来", "表现", "承受", "能力", "审慎",
         "选择", "解释权", "法律", "允许", "范围", "仅供参考", "投资", "建议", "分期", "还款", "安心",
         "存款保险", "保障", "起存", "首刷礼", "线上", "办卡", "意外", "伤害", "保险", "承保", "信贷",
         "资金", "购房", "合理", "使用"]
CHARS = range(3, 25)


def _segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of every word of 2+ Chinese characters, and of the smaller words inside the longer ones, as
    the line breaker's tokenizer sees them."""
    return list(words.word_spans(text))


def _fits_whole(text: str, s: int, e: int, width: float) -> bool:
    """Does the word text[s:e] fit on a line together with the punctuation clreq binds to it (a closing mark
    after it may not start the next line, an opening one before it may not end the previous)? Only then is a
    break inside it avoidable."""
    while e < len(text) and text[e] in NO_START:
        e += 1
    while s > 0 and text[s - 1] in NO_END:
        s -= 1
    return measure(text[s:e]) <= width


def _cuts(text: str, lines: list[str]) -> list[int]:
    """Offsets in text where one line ends and the next begins (texts here have no spaces)."""
    assert "".join(lines) == text
    cuts, pos = [], 0
    for ln in lines[:-1]:
        pos += len(ln)
        cuts.append(pos)
    return cuts


def _short(line: str) -> bool:
    return sum(c.isalnum() for c in line) <= 2


def _layout_exists(text: str, n: int, width: float, strict: bool) -> bool:
    """Is there a break into n lines, every line fitting, no word cut unless it (and so every word around the
    cut) is wider than the line, the clreq rules kept, and no short last line (strict: no short line at all)?
    Dynamic programming over every allowed break position, written apart from the implementation."""
    toks = tokenize(text)
    pos, cuts = 0, []
    for a, b in itertools.pairwise(toks):
        pos += len(a)
        if b in NO_START or a[-1] in NO_END:
            continue
        if any(s < pos < e and _fits_whole(text, s, e, width) for s, e in _segments(text)):
            continue
        cuts.append(pos)

    def ok(a: int, b: int, last: bool) -> bool:
        return measure(text[a:b]) <= width and not ((strict or last) and _short(text[a:b]))

    reach = {0}                                    # ends of k fitting lines
    for _ in range(n - 1):
        reach = {b for b in cuts if any(a < b and ok(a, b, False) for a in reach)}
    return any(ok(a, len(text), True) for a in reach)


@pytest.mark.parametrize("text", COPY)
@pytest.mark.parametrize("balanced", [False, True])
def test_words_whole_and_no_orphan_at_every_width(text, balanced):
    breaker = break_balanced if balanced else break_lines
    for width in CHARS:
        lines = breaker(text, measure, width)
        check_rules(text, lines, width)
        cuts = _cuts(text, lines)
        for w in WORDS:   # the fixed list: no boundary inside a word that fits on the line
            for m in re.finditer(w, text):
                if _fits_whole(text, m.start(), m.end(), width):
                    assert not any(m.start() < c < m.end() for c in cuts), (w, width, lines)
        for s, e in _segments(text):   # and every word jieba sees
            if _fits_whole(text, s, e, width):
                assert not any(s < c < e for c in cuts), (text[s:e], width, lines)
        _check_orphans(text, lines, width)


def _check_orphans(text: str, lines: list[str], width: float) -> None:
    """A short line only where no layout with as many lines avoids it (a short last line: none without one)."""
    if len(lines) >= 2 and any(_short(ln) for ln in lines):
        assert not _layout_exists(text, len(lines), width, strict=True), (width, lines)
    if len(lines) >= 2 and _short(lines[-1]):
        assert not _layout_exists(text, len(lines), width, strict=False), (width, lines)


@pytest.mark.parametrize("text, width, bad", [
    ("分期年化利率以实际账单为准，请理性消费", w, ["请理", "请理性消"]) for w in range(3, 19)
] + [
    ("具体保障内容以保险合同条款为准，请仔细阅读", w, ["请仔", "合同条", "请仔细阅"]) for w in range(3, 21)
])
def test_reported_broken_words_are_gone(text, width, bad):
    # The words the review found cut on posters: 请理/性消费, 请仔/细阅读, 合同条/款.
    lines = break_lines(text, measure, width)
    assert not any(ln.endswith(b) for ln in lines[:-1] for b in bad), lines


def test_orphan_pulled_down_with_same_line_count():
    text = "具体保障内容以保险合同条款为准，请仔细阅读"     # 21 characters
    # Greedy: 19 + 阅读 alone. Fixed: the first line as long as it can be without leaving a short last line.
    assert break_lines(text, measure, 19) == ["具体保障内容以保险合同条款为准，请", "仔细阅读"]
    assert break_lines("存款利率以办理时本行挂牌利率为准", measure, 14) == ["存款利率以办理时本行", "挂牌利率为准"]
    # No fix possible: 股份有限公司 fills the line and 提供 cannot join it (the word is not cut to avoid the orphan).
    assert break_lines("本产品由示例农村商业银行股份有限公司提供", measure, 7)[-2:] == ["股份有限公司", "提供"]
    # The fix may move more than one line: 示例 / 银行所有 would leave 示例 short, so 归 comes down too.
    text = "本活动最终解释权在法律允许范围内归示例银行所有"
    lines = break_lines(text, measure, 4)
    assert len(lines) == 7 and not any(len(ln) <= 2 for ln in lines[-2:]), lines


def test_word_wider_than_line_breaks_at_its_pieces_then_characters():
    assert break_lines("业绩比较基准", measure, 4) == ["业绩", "比较基准"]     # not 业绩比较 / 基准: no short last line
    assert break_lines("示例股份有限公司", measure, 5) == ["示例股份", "有限公司"]
    assert break_lines("股份有限公司", measure, 3) == ["股份", "有限", "公司"]
    assert break_lines("股份有限公司", measure, 1) == list("股份有限公司")


def test_doubled_characters_stay_together():
    # 稳稳 is not in the word list, but a doubled character reads as one word; 今天天气 keeps 今天 / 天气.
    for w in range(2, 8):
        assert not any(ln.endswith("稳") and nx.startswith("稳")
                       for ln, nx in itertools.pairwise(break_lines("闲钱稳稳安心打理", measure, w)))
    assert break_lines("今天天气很好", measure, 4) == ["今天", "天气很好"]


def test_balanced_headline_does_not_cut_words():
    # 春耕 备耕 资金 无忧 are words: a balanced 7+7 would cut nothing here, 8+6 neither; never 春耕备耕资金无 / 忧…
    lines = break_balanced("春耕备耕资金无忧农贷助您增收", measure, 12)
    assert len(lines) == 2 and lines[0] in ("春耕备耕资金无忧", "春耕备耕资金")


def test_poster_words_are_in_the_tokenizer():
    # Every entry of configs/lexicon/words-zh.txt comes out of the tokenizer as one word.
    for w, _ in words.user_words():
        assert words.tokenizer().lcut(w, HMM=False) == [w], w


def test_user_words_file_errors_name_the_line(tmp_path):
    from mktcli.errors import ConfigError

    f = tmp_path / "w.txt"
    f.write_text("# comment\n保额 30\n\n年化利率\n随借 随还\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        words.user_words(f)
    assert e.value.line == 5 and "w.txt" in e.value.file
    f.write_text("# comment\n保额 30\n\n年化利率\n", encoding="utf-8")
    assert words.user_words(f) == [("保额", 30), ("年化利率", None)]


def test_word_spans_nest_and_cover_only_chinese():
    text = "年化利率3.2%起，AppStore里由示例股份有限公司提供"
    spans = words.word_spans(text)
    assert (0, 4) in spans and (0, 2) in spans and (2, 4) in spans          # 年化利率 > 年化, 利率
    s = text.index("股份有限公司")
    assert {(s, s + 6), (s, s + 2), (s + 2, s + 6), (s + 2, s + 4), (s + 4, s + 6)} <= set(spans)
    assert all(re.fullmatch("[\u4e00-\u9fff]{2,}", text[a:b]) for a, b in spans)
    assert words.pieces("业绩比较基准") == ("业绩", "比较", "基准")
    assert words.pieces("保额") == ("保", "额")


_LAZY = """
import json, sys
from mktcli.compose import words
from mktcli.compose.linebreak import break_balanced, break_lines
m = lambda s: sum(0.5 if ord(c) < 128 else 1.0 for c in s)
out = {}
break_lines("分期年化利率以实际账单为准，请理性消费", m, 40)          # fits on one line
break_balanced("补栏周转 不误农时", m, 6)                             # breaks at the space
break_lines("年化利率3.2%起 最高可借30万 随借随还", m, 8)            # phrases at spaces
break_lines("Apply now, pay later: 12 months", m, 6)                # no Chinese run to keep whole
out["before"] = ["jieba" in sys.modules, words.tokenizer.cache_info().currsize]
out["lines"] = break_lines("分期年化利率以实际账单为准，请理性消费", m, 8)
out["after"] = ["jieba" in sys.modules, words.tokenizer.cache_info().currsize]
print(json.dumps(out, ensure_ascii=False))
"""


def test_tokenizer_loaded_only_when_a_break_needs_words():
    # A fresh interpreter: texts that fit, or break at spaces, must not pay for jieba; and loading prints nothing.
    root = Path(words.__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _LAZY], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""                       # jieba's loggers print nothing
    out = json.loads(proc.stdout)
    assert out["before"] == [False, 0]
    assert out["after"] == [True, 1]
    assert out["lines"] == ["分期年化利率以", "实际账单为准，请", "理性消费"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(COPY + ["，", "。", "3.2%", "30万元", "12个月", " "]), min_size=1, max_size=4)
       .map("".join), st.sampled_from(CHARS), st.booleans())
def test_property_words_whole_on_real_copy(text, width, balanced):
    breaker = break_balanced if balanced else break_lines
    lines = breaker(text, measure, width)
    check_rules(text, lines, width)
    if " " in text:
        return                                     # phrase breaks at spaces: covered by the tests above
    cuts = _cuts(text, lines)
    for s, e in _segments(text):
        if _fits_whole(text, s, e, width):
            assert not any(s < c < e for c in cuts), (text[s:e], width, lines)
    _check_orphans(text, lines, width)


def test_vendored_word_list_is_what_the_script_makes():
    # assets/jieba/dict.small.txt is scripts/jieba_subset.py's output for the installed jieba: same bytes.
    import importlib.util

    import jieba

    if jieba.__version__ != "0.42.1":
        pytest.skip(f"the list was made from jieba 0.42.1, this is {jieba.__version__}")
    root = Path(words.__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("jieba_subset", root / "scripts" / "jieba_subset.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.subset(Path(jieba.__file__).with_name("dict.txt"), 50_000, 10)
    assert "".join(f"{w} {c}\n" for w, c in rows) == words.dict_path().read_text(encoding="utf-8")
