"""Brief loading: valid briefs expand correctly; every mistake names file, line, key and a fix."""
from __future__ import annotations

import pytest

from mktcli.brief import expand_segments, load_brief, rate_text
from mktcli.errors import BriefError, BriefErrors

from .conftest import EXAMPLES, GOOD


def errors_of(exc) -> list[BriefError]:
    return exc.errors if isinstance(exc, BriefErrors) else [exc]


def load_error(write_brief, text=None, raw=None) -> list[BriefError]:
    p = write_brief(text, raw=raw) if raw is not None else write_brief(text)
    with pytest.raises((BriefError, BriefErrors)) as ei:
        load_brief(p)
    errs = errors_of(ei.value)
    for e in errs:
        assert e.file == str(p)
    return errs


def the_error(write_brief, old: str, new: str, key: str, words: list[str]) -> BriefError:
    """Break GOOD by one edit; return the error reported for `key`, checking its message and hint."""
    assert old in GOOD
    errs = load_error(write_brief, GOOD.replace(old, new))
    match = [e for e in errs if e.key == key]
    assert match, [str(e) for e in errs]
    text = match[0].message + " " + (match[0].hint or "")
    for w in words:
        assert w in text, text
    return match[0]


def test_examples_load():
    names = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    assert len(names) >= 3
    for p in EXAMPLES.glob("*.yaml"):
        b = load_brief(p)
        assert b.segments()


def test_dimensions_cartesian_product_and_overrides(write_brief):
    text = GOOD.replace("""  segments: [养殖户, 种植户]""", """  dimensions:
    occupation: [养殖户, 种植户]
    coupon: [有优惠, 无优惠]
  overrides:
    种植户: {headline: 春耕备耕 资金无忧}
    无优惠: {perks: [随借随还]}
    种植户·无优惠: {cta: 马上办}""")
    b = load_brief(write_brief(text))
    segs = {s.name: s for s in expand_segments(b)}
    assert list(segs) == ["养殖户·有优惠", "养殖户·无优惠", "种植户·有优惠", "种植户·无优惠"]
    assert segs["养殖户·有优惠"].message.headline == "补栏周转 不误农时"
    assert segs["种植户·有优惠"].message.headline == "春耕备耕 资金无忧"
    assert segs["种植户·无优惠"].perks == ["随借随还"]
    assert segs["种植户·无优惠"].message.cta == "马上办"
    assert segs["养殖户·有优惠"].perks == ["首期利息8折", "最高可借30万"]


def test_segment_items_can_override_message(write_brief):
    text = GOOD.replace("segments: [养殖户, 种植户]", "segments:\n    - 养殖户\n    - {name: 种植户, headline: 春耕无忧}")
    segs = load_brief(write_brief(text)).segments()
    assert [s.message.headline for s in segs] == ["补栏周转 不误农时", "春耕无忧"]


def test_rate_text_variants(write_brief):
    b = load_brief(write_brief())
    assert rate_text(b) == ("年化利率", "3.2%", "起")
    b = load_brief(write_brief(GOOD.replace('"3.2%"', '"3.2%-7.2%"')))
    assert rate_text(b) == ("年化利率", "3.2%-7.2%", "")


@pytest.mark.parametrize("old,new,key,line,words", [
    ('apr: "3.2%"', 'apr: "3,2%"', "offer.apr", 8, ["'3,2%' is not a rate", "3.2%"]),
    ('apr: "3.2%"', "apr: 3.2", "offer.apr", 8, ["not a rate", "3.2%"]),
    ('apr: "3.2%"', 'apr: "７.２％"', "offer.apr", 8, ["not a rate", "7.2%"]),
    ('apr: "3.2%"', 'apr: "7.2%-3.2%"', "offer.apr", 8, ["range goes down"]),
    ("channels: [app_banner", "chanels: [app_banner", "chanels", 17, ["unknown key 'chanels'", "did you mean 'channels'"]),
    ("[app_banner, moments_16x9]", "[app_baner, moments_16x9]", "channels[0]", 17, ["unknown channel 'app_baner'", "app_banner"]),
    ("  category: loan", "  category: lone", "product.category", 5, ["not allowed", "loan"]),
    ("  provider: 示例农村商业银行股份有限公司\n", "", "product.provider", 3, ["missing required key 'provider'"]),
    ("  perks: [首期利息8折, 最高可借30万]", "  perks: 首期利息8折", "offer.perks", 9, ["expected a list"]),
    ("  seed: 7", "  seed: seven", "visual.seed", 16, ["whole number"]),
    ("visual:\n  seed: 7", "visual:\n  image: nothere.jpg\n  engine: image", "visual.image", 16, ["does not exist"]),
    ("name: test-loan", "name: ../../etc", "name", 2, ["not a safe file name"]),
    ("segments: [养殖户, 种植户]", "segments: [养殖户, 养殖户]", "audience.segments[1]", 11, ["listed twice"]),
    ("version: 1", "version: 2", "version", 1, ["not supported"]),
    ('  apr: "3.2%"\n', "", "offer.apr", 7, ["annualized rate", "apr"]),
])
def test_broken_briefs_name_file_line_key(write_brief, old, new, key, line, words):
    e = the_error(write_brief, old, new, key, words)
    assert e.line == line, str(e)


def test_yaml_syntax_error_has_line(write_brief):
    errs = load_error(write_brief, GOOD.replace("  name: 惠农e贷", "  name: 惠农e贷: 新"))
    assert errs[0].line == 4 and "YAML" in errs[0].message


def test_non_utf8_file(write_brief):
    errs = load_error(write_brief, raw=GOOD.encode("gbk"))
    assert "UTF-8" in errs[0].message and errs[0].line


def test_duplicate_key(write_brief):
    errs = load_error(write_brief, GOOD + "name: again\n")
    assert "duplicate key 'name'" in errs[0].message and errs[0].line == 18


def test_not_a_mapping(write_brief):
    errs = load_error(write_brief, "- just\n- a list\n")
    assert "mapping" in errs[0].message


def test_missing_file(tmp_path):
    with pytest.raises(BriefError) as ei:
        load_brief(tmp_path / "nope.yaml")
    assert "not found" in ei.value.message


def test_several_errors_reported_together(write_brief):
    text = GOOD.replace('apr: "3.2%"', 'apr: "3,2%"').replace("channels:", "chanels:")
    errs = load_error(write_brief, text)
    keys = {e.key for e in errs}
    assert "offer.apr" in keys and "chanels" in keys


@pytest.mark.parametrize("old,new,key,words", [
    ("channels: [app_banner, moments_16x9]", "channels: []", "channels", ["at least 1"]),
    ("channels: [app_banner, moments_16x9]", "channels: app_banner", "channels", ["expected a list"]),
    ("  seed: 7", "  seed: -1", "visual.seed", ["at least 0"]),
    ("  headline: 补栏周转 不误农时", "  headline: " + "长" * 40, "message.headline", ["40 characters", "at most 30"]),
    ("product:\n  name: 惠农e贷\n  category: loan\n  provider: 示例农村商业银行股份有限公司",
     "product: 惠农e贷", "product", ["expected a mapping"]),
    ("name: test-loan", "name: test-loan\nbrand: defualt", "brand", ["brand 'defualt' not found", "did you mean 'default'"]),
    ("  perks: [首期利息8折, 最高可借30万]", "  perks: [首期利息8折, 30]", "offer.perks[1]", ["expected text", "30"]),
])
def test_more_broken_briefs(write_brief, old, new, key, words):
    assert the_error(write_brief, old, new, key, words).line


def test_tabs_are_a_syntax_error_with_a_hint(write_brief):
    errs = load_error(write_brief, GOOD.replace("  name: 惠农e贷", "\tname: 惠农e贷"))
    assert errs[0].line == 4 and "YAML" in errs[0].message


def test_empty_file(write_brief):
    errs = load_error(write_brief, "")
    assert "mapping" in errs[0].message and errs[0].line == 1


def test_character_no_font_has_is_reported_at_load_with_line(write_brief):
    e = the_error(write_brief, "  headline: 补栏周转 不误农时", "  headline: 补栏周转𠀀", "message.headline",
                  ["no bundled font", "U+20000"])
    assert e.line == 13


def test_segment_forms_and_override_spellings(write_brief):
    text = GOOD.replace("  segments: [养殖户, 种植户]", """  segments:
    养殖户: {message: {headline: 补栏无忧}}
    种植户:""")
    segs = {s.name: s for s in load_brief(write_brief(text)).segments()}
    assert segs["养殖户"].message.headline == "补栏无忧" and segs["种植户"].message.headline == "补栏周转 不误农时"
    text = GOOD.replace("  segments: [养殖户, 种植户]", """  dimensions:
    occupation: [养殖户, 种植户]
    coupon: [有优惠, 无优惠]
  overrides:
    种植户×无优惠: {cta: 马上办}""")
    segs = {s.name: s for s in load_brief(write_brief(text)).segments()}
    assert segs["种植户·无优惠"].message.cta == "马上办" and segs["种植户·有优惠"].message.cta is None


@pytest.mark.parametrize("old,new,key,words", [
    ("  segments: [养殖户, 种植户]", "  segments: []", "audience.segments", ["at least 1"]),
    ("  segments: [养殖户, 种植户]", "  dimensions: {}", "audience.dimensions", ["at least 1"]),
])
def test_empty_audiences_are_errors(write_brief, old, new, key, words):
    the_error(write_brief, old, new, key, words)


def test_image_that_is_not_an_image(write_brief, tmp_path):
    (tmp_path / "hero.jpg").write_text("not a picture", encoding="utf-8")
    e = the_error(write_brief, "visual:\n  seed: 7", "visual:\n  image: hero.jpg\n  seed: 7", "visual.image",
                  ["not a readable image", "JPEG"])
    assert e.line == 16
