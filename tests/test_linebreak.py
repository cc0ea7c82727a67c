"""Chinese line breaking (mktcli.compose.linebreak): clreq punctuation rules, unbreakable units,
space preference, balancing. A fake measure keeps widths exact: CJK / full-width = 1.0, ASCII = 0.5."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mktcli.compose.linebreak import NO_END, NO_START, break_balanced, break_lines, fits, tokenize

SPACES = " \t\u3000"
WIDTHS = [w / 2 for w in range(2, 41)]   # 1.0, 1.5, ... 20.0


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
    ("等等……", "……"), ("说明——见", "——"),
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


def test_no_start_pulls_previous_unit_down():
    # At width 4 greedy would put "，" first on line 2; the rule moves "准" down with it.
    assert break_lines("为准审批准，请", measure, 5) == ["为准审批", "准，请"]
    assert break_lines("审批为准，请", measure, 4) == ["审批为", "准，请"]


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
    assert lines == ["春耕 资金无", "忧惠农贷款"]


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


def test_max_lines_never_truncates():
    text = "贷款额度、利率以实际审批结果为准，请理性借贷。"
    assert break_lines(text, measure, 4, max_lines=2) == break_lines(text, measure, 4)
    assert len(break_lines(text, measure, 4, max_lines=2)) > 2


# --- balanced ---------------------------------------------------------------------------------------
def test_balanced_evens_out_two_lines():
    text = "春耕备耕资金无忧农贷助您增收"     # 14 ideographs
    greedy = break_lines(text, measure, 12)
    assert [len(x) for x in greedy] == [12, 2]
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
