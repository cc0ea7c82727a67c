"""Font stacks: per-character fallback, CJK/Latin spacing, clear errors."""
from __future__ import annotations

import pytest

from mktcli.compose.fonts import CJK_LATIN_GAP, FontStack
from mktcli.errors import FontError


def test_runs_fall_back_per_character():
    stack = FontStack(["display", "sans-bold"])
    runs = stack.runs("限时※优惠")
    assert [(f, s) for f, s, _ in runs] == [("display", "限时"), ("sans-bold", "※"), ("display", "优惠")]


def test_gap_between_chinese_and_latin():
    stack = FontStack(["sans"])
    runs = stack.runs("最高可借30万")
    assert [(s, g) for _, s, g in runs] == [("最高可借", 0.0), ("30", CJK_LATIN_GAP), ("万", CJK_LATIN_GAP)]
    plain = sum(stack.measure(c, 40) for c in "最高可借30万") - stack.measure("3", 40) - stack.measure("0", 40) \
        + stack.measure("30", 40)
    assert stack.measure("最高可借30万", 40) == pytest.approx(plain + 2 * CJK_LATIN_GAP * 40)
    # no gap next to punctuation or inside Latin
    assert all(g == 0 for _, _, g in stack.runs("（30%）APR"))


def test_draw_advance_matches_measure():
    from PIL import Image

    stack = FontStack(["display", "sans-bold", "sans"])
    img = Image.new("RGB", (800, 100))
    text = "补栏周转★最高可借30万 APR"
    adv = stack.draw(img, (0, 80), text, 40, (255, 255, 255))
    assert img.getbbox() is not None  # something was drawn
    assert adv == pytest.approx(stack.measure(text, 40))


def test_character_in_no_font():
    with pytest.raises(FontError) as ei:
        FontStack(["sans", "display"]).check("利率𠀀")
    assert "U+20000" in ei.value.message and ei.value.hint


def test_unknown_font_id():
    with pytest.raises(FontError) as ei:
        FontStack(["nope"])
    assert "sans" in ei.value.hint


def test_the_contrast_sampler_percentiles_are_numpys():
    import numpy as np

    from mktcli.compose.color import _percentiles_2_98

    rng = np.random.default_rng(1)
    for k in range(3000):
        n = int(rng.integers(1, 5000))
        x = rng.random(n) if k % 3 else rng.integers(0, 5, n).astype(float) / 7   # ties, tiny arrays
        assert np.array_equal(_percentiles_2_98(x), np.percentile(x, [2, 98]))
