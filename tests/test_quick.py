"""`mkt quick` (one sentence → brief → bundle), `mkt init` (starter brief) and `mkt poster --watch`."""
from __future__ import annotations

import json
import threading
import time
import zipfile
from pathlib import Path

import pytest

from mktcli.brief import load_brief
from mktcli.channels import load_channels
from mktcli.cli.app import run
from mktcli.errors import BriefError
from mktcli.quick import brief_data, brief_text, make_brief, parse_sentence, quick, sentence_name

from .conftest import GOOD

PROVIDER = "示例农村商业银行股份有限公司"
DEFAULT_POSTERS = ["app_banner", "moments_16x9", "dsp_300x250", "splash_1080x1920"]


@pytest.fixture(autouse=True)
def _provider(monkeypatch):
    monkeypatch.delenv("MKT_PROVIDER", raising=False)


def parse(sentence: str):
    return parse_sentence(sentence, load_channels())


# ------------------------------------------------------------------------------------------- the rules

@pytest.mark.parametrize("sentence,category,apr,apr_from", [
    ("给养殖户做一张贷款海报，年化利率3.2%起，最高可借30万", "loan", "3.2%", True),
    ("给养殖户做贷款海报，利率3.2%-7.2%", "loan", "3.2%-7.2%", None),
    ("贷款海报，年化3.2%", "loan", "3.2%", False),
    ("贷款海报，年化利率低至3.45%", "loan", "3.45%", True),
    ("贷款海报，年化利率３.２％起", "loan", "3.2%", True),                     # full-width digits and ％
    ("贷款海报，3.2%起", "loan", "3.2%", True),                               # 起 alone marks a rate
    ("信用卡分期，分期年化利率7.2%~14.4%，首年免年费", "credit_card", "7.2%-14.4%", None),
    ("三年期大额存单，年利率2.15%，20万元起存", "deposit", "2.15%", False),
    ("理财产品，业绩比较基准2.6%至3.3%，1元起购", "wealth", "2.6%-3.3%", None),
    ("给老年客户推荐一款保险，保障全面", "insurance", None, None),
    ("给工薪族做一张海报，线上申请", "other", None, None),
])
def test_category_and_rate(sentence, category, apr, apr_from):
    p = parse(sentence)
    assert (p.category, p.apr, p.apr_from) == (category, apr, apr_from)


@pytest.mark.parametrize("sentence,perks", [
    ("给养殖户做一张贷款海报，年化利率3.2%起，最高可借30万", ["最高可借30万"]),
    ("贷款，年化利率3.2%起，额度最高50万元，首期利息8折，随借随还", ["额度最高50万元", "首期利息8折", "随借随还"]),
    ("贷款，年化利率3.2%起，最高可借5千", ["最高可借5千"]),
    ("贷款，年化利率3.2%起，最高可借三十万", ["最高可借三十万"]),           # Chinese numerals, as written
    ("贷款，年化利率3.2%起，可借5千-30万，免抵押", ["可借5千-30万", "免抵押"]),
    ("贷款，年化利率3.2%起，30万额度，先息后本", ["30万额度", "先息后本"]),
    ("信用卡，年化利率7.2%起，首年免年费，新户首刷礼，账单分期最长24期", ["首年免年费", "新户首刷礼", "账单分期最长24期"]),
    ("贷款，年化利率3.2%起", []),
])
def test_amounts_and_perks_exactly_as_written(sentence, perks):
    assert parse(sentence).perks == perks


@pytest.mark.parametrize("sentence,segments,offers", [
    ("给养殖户做一张贷款海报，年化利率3.2%起", ["养殖户"], []),
    ("给种粮大户做贷款海报，年化利率3.2%起", ["种植户"], []),                 # a lexicon match word
    ("给养殖大户做贷款海报，年化利率3.2%起", ["养殖户"], []),                 # 大户 is not a second segment here
    ("给小微商户和个体户做贷款海报，年化利率3.2%起", ["个体工商户"], []),     # two words, one segment
    ("给养殖户、种植户和个体工商户做贷款海报，年化利率3.2%起", ["养殖户", "种植户", "个体工商户"], []),
    ("给个体工商户做贷款海报，有优惠和无优惠两版，年化利率3.2%起", ["个体工商户"], ["有优惠", "无优惠"]),
    ("做一张贷款海报，年化利率3.2%起", [], []),
])
def test_segments(sentence, segments, offers):
    p = parse(sentence)
    assert (p.segments, p.offers) == (segments, offers)


@pytest.mark.parametrize("sentence,channels", [
    ("给养殖户做一张贷款海报，年化利率3.2%起", DEFAULT_POSTERS),
    ("给养殖户做贷款，年化利率3.2%起", DEFAULT_POSTERS),                     # no channel word: the poster sizes
    ("给养殖户做贷款横幅，年化利率3.2%起", ["app_banner"]),
    ("给养殖户做贷款Banner，年化利率3.2%起", ["app_banner"]),
    ("贷款朋友圈海报和开屏，年化利率3.2%起", ["moments_16x9", "splash_1080x1920"]),
    ("贷款，发短信，年化利率3.2%起", ["sms"]),
    ("贷款海报和短信，年化利率3.2%起", DEFAULT_POSTERS + ["sms"]),
    ("贷款外呼和推送，年化利率3.2%起", ["call_script", "push"]),
    ("贷款 dsp_300x250，年化利率3.2%起", ["dsp_300x250"]),                  # a preset's own name
])
def test_channels(sentence, channels):
    assert parse(sentence).channels == channels


def test_quoted_product_and_headline_and_what_was_not_understood():
    p = parse("给养殖户做一张「惠农e贷」海报，标题“补栏周转 不误农时”，年化利率3.2%起，要喜庆一点")
    assert (p.product, p.headline, p.category) == ("惠农e贷", "补栏周转 不误农时", "loan")
    assert p.ignored == ["要喜庆一点"]


@pytest.mark.parametrize("sentence,says", [
    ("给养殖户做一张贷款海报，最高可借30万", "annualized rate"),
    ("信用卡海报，首年免年费", "annualized rate"),
    ("贷款海报，日利率0.02%", "daily rate"),
    ("贷款海报，月息3厘", "monthly rate"),
    ("贷款海报，年化3.2厘", "ambiguous"),
    ("贷款海报，年化利率3.2%起，利率4.5%", "several rates"),
    ("   ", "empty"),
])
def test_what_must_not_be_guessed_is_an_error_naming_what_to_add(sentence, says):
    with pytest.raises(BriefError) as ei:
        make_brief(sentence, provider=PROVIDER)
    assert says in ei.value.message and ei.value.key == "SENTENCE" and ei.value.hint


def test_a_deposit_without_a_rate_is_fine_and_nothing_is_invented():
    p, text, _ = make_brief("给老年客户做一张存款海报，20万元起存", provider=PROVIDER)
    assert p.apr is None and "apr" not in text and "20万元起存" in text


def test_name_is_ascii_and_deterministic():
    s = "给养殖户做一张贷款海报，年化利率3.2%起"
    a, b = sentence_name(s, "loan"), sentence_name(s, "loan")
    assert a == b and a.isascii() and a.startswith("quick-loan-")
    assert sentence_name(s + "。", "loan") != a
    assert sentence_name(s, "credit_card").startswith("quick-credit-card-")


# ------------------------------------------------------------------------------------------- the brief

@pytest.mark.parametrize("sentence", [
    "给养殖户做一张贷款海报，年化利率3.2%起，最高可借30万",
    "给种粮大户和小微商户做贷款横幅和短信，有优惠和无优惠两版，利率3.2%-7.2%，额度最高50万元，首期利息8折，随借随还",
    "信用卡分期，年化利率７.２％起，首年免年费，给工薪族发推送",
    "三年期大额存单，年利率2.15%，20万元起存，给老年客户发短信",
    "理财产品「稳享180天」，业绩比较基准2.6%-3.3%，1元起购，外呼",
])
def test_written_brief_loads_with_the_rule_facts(tmp_path, sentence):
    res = quick(sentence, provider=PROVIDER, brief_out=tmp_path / "b.yaml", run=False)
    b = load_brief(res.brief_path)
    p = res.parsed
    assert b.product.provider == PROVIDER and b.product.category == p.category
    assert b.offer.apr == p.apr and b.offer.perks == p.perks and b.channels == p.channels
    assert {v for s in b.segments() for v in (s.values.values() or [s.name])} >= set(p.segments)
    assert res.text.startswith("# Made by `mkt quick` from the sentence:\n#   " + sentence)


def test_several_segments_become_a_dimension():
    p = parse("给养殖户和种植户做贷款海报，年化利率3.2%起")
    data = brief_data(p, PROVIDER)
    assert data["audience"] == {"dimensions": {"segment": ["养殖户", "种植户"]}}
    assert brief_data(parse("给养殖户做贷款海报，年化利率3.2%起"), PROVIDER)["audience"] == {"segments": ["养殖户"]}
    assert "audience" not in brief_data(parse("做贷款海报，年化利率3.2%起"), PROVIDER)


def test_rates_are_quoted_in_the_yaml():
    p = parse("贷款海报，年化利率3.2%起")
    assert 'apr: "3.2%"' in brief_text(p, brief_data(p, PROVIDER), [])


def test_provider_from_env_else_a_clear_error(tmp_path, monkeypatch, capsys):
    s = "给养殖户做一张贷款海报，年化利率3.2%起"
    code = run(["quick", s, "--brief-out", str(tmp_path / "a.yaml"), "--no-run"])
    err = capsys.readouterr().err
    assert code == 2 and "--provider" in err and "MKT_PROVIDER" in err and "Traceback" not in err
    monkeypatch.setenv("MKT_PROVIDER", "示例银行股份有限公司")
    assert run(["quick", s, "--brief-out", str(tmp_path / "a.yaml"), "--no-run"]) == 0
    assert load_brief(tmp_path / "a.yaml").product.provider == "示例银行股份有限公司"


def test_an_existing_different_brief_is_kept_unless_forced(tmp_path, capsys):
    target = tmp_path / "b.yaml"
    target.write_text("# mine\n", encoding="utf-8")
    args = ["quick", "给养殖户做贷款海报，年化利率3.2%起", "--provider", PROVIDER, "--brief-out", str(target), "--no-run"]
    assert run(args) == 2 and "--force" in capsys.readouterr().err
    assert target.read_text(encoding="utf-8") == "# mine\n"
    assert run(args + ["--force"]) == 0 and load_brief(target).offer.apr == "3.2%"
    assert run(args) == 0          # the same brief again: not a conflict


def test_channel_options(tmp_path, capsys):
    s = "给养殖户做一张贷款海报，年化利率3.2%起"
    out = tmp_path / "b.yaml"
    assert run(["quick", s, "--provider", PROVIDER, "--brief-out", str(out), "--no-run", "-c", "app_banner,sms"]) == 0
    assert load_brief(out).channels == ["app_banner", "sms"]
    capsys.readouterr()
    code = run(["quick", s, "--provider", PROVIDER, "--no-run", "--channels", "app_banner"])
    assert code == 2 and "--channel app_banner" in capsys.readouterr().err


def test_end_to_end_cli_writes_brief_bundle_and_zip(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = run(["quick", "给养殖户做一张贷款横幅和短信，年化利率3.2%起，最高可借30万，首期利息8折", "--provider", PROVIDER,
                "-o", "out", "--json"])
    cap = capsys.readouterr()
    payload = json.loads(cap.out)
    assert code == 0 and payload["exit_code"] == 0 and payload["ok"]
    brief = Path(payload["brief"])
    assert brief.parent.name == "briefs" and brief.name.startswith("quick-loan-")
    assert "apr:" in cap.err and "quick-loan-" in cap.err                # the brief is shown on stderr
    manifest = json.loads(Path(payload["manifest"]).read_text(encoding="utf-8"))
    assert {c["channel"] for c in manifest["creatives"]} == {"app_banner", "sms"}
    banner = next(c for c in manifest["creatives"] if c["channel"] == "app_banner")
    assert banner["texts"]["apr"] == "年化利率3.2%起"
    assert load_brief(brief).offer.perks == ["最高可借30万", "首期利息8折"]
    with zipfile.ZipFile(payload["zip"]) as zf:
        assert f"{brief.stem}/manifest.json" in zf.namelist()
    assert payload["understood"]["segments"] == ["养殖户"]


def test_end_to_end_summary_says_what_was_not_understood(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = run(["quick", "给养殖户做贷款横幅，年化利率3.2%起，要喜庆一点", "--provider", PROVIDER, "--no-register"])
    out = capsys.readouterr().out
    assert code == 0 and "not understood" in out and "要喜庆一点" in out and ".zip" in out


# ------------------------------------------------------------------------------------------- mkt init

CATEGORIES = ["loan", "credit_card", "deposit", "wealth", "insurance", "retail", "other"]


def test_init_has_a_starter_for_every_category_the_brief_accepts():
    from typing import get_args

    from mktcli.brief import Product

    assert set(get_args(Product.model_fields["category"].annotation)) == set(CATEGORIES)


@pytest.mark.parametrize("category", CATEGORIES)
def test_init_writes_a_commented_brief_that_loads(tmp_path, category):
    path = tmp_path / f"{category}.yaml"
    assert run(["init", str(path), "--category", category]) == 0
    b = load_brief(path)
    assert b.product.category == category
    text = path.read_text(encoding="utf-8")
    data_lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert all("#" in ln for ln in data_lines), [ln for ln in data_lines if "#" not in ln]   # every key explained


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_starter_checks_and_renders_clean(tmp_path, capsys, category):
    """mkt init --category X writes a brief that mkt check passes and that renders every channel with no failed
    error-level check (its text channels included)."""
    path = tmp_path / "brief.yaml"
    assert run(["init", str(path), "--category", category]) == 0
    assert run(["check", str(path), "--json"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    code = run(["poster", str(path), "-o", str(tmp_path / "out"), "--no-register", "--no-layers", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and not out["failed_checks"] and not out["failures"], out
    assert {c["channel"] for c in out["creatives"]} == set(load_brief(path).channels)


def test_init_renders_and_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "brief.yaml"
    assert run(["init", str(path)]) == 0
    assert run(["poster", str(path), "-o", str(tmp_path / "out"), "--no-register", "-c", "dsp_300x250"]) == 0
    assert (tmp_path / "out" / "my-loan" / "manifest.json").exists()
    capsys.readouterr()
    path.write_text("# mine\n", encoding="utf-8")
    assert run(["init", str(path)]) == 2 and "--force" in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == "# mine\n"
    assert run(["init", str(path), "--force", "--category", "deposit"]) == 0
    assert load_brief(path).product.category == "deposit"
    assert run(["init", str(tmp_path / "x.yaml"), "--category", "loans"]) == 2
    assert "did you mean 'loan'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- watch

def _wait(cond, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def _headline(manifest: Path) -> str | None:
    try:
        return json.loads(manifest.read_text(encoding="utf-8"))["creatives"][0]["texts"]["headline"]
    except (OSError, ValueError, KeyError, IndexError):
        return None


def test_watch_rerenders_on_edit_reports_a_broken_brief_and_keeps_going(tmp_path):
    from mktcli.poster import make_posters
    from mktcli.watch import watch_brief

    brief = tmp_path / "brief.yaml"
    brief.write_text(GOOD.replace("channels: [app_banner, moments_16x9]", "channels: [dsp_300x250]")
                     .replace("segments: [养殖户, 种植户]", "segments: [养殖户]"), encoding="utf-8")
    out, manifest = tmp_path / "out", tmp_path / "out" / "test-loan" / "manifest.json"
    errors, renders, stop = [], [], threading.Event()

    def render(path):
        renders.append(path)
        make_posters(path, out, register=False, layered=False)

    t = threading.Thread(target=watch_brief, args=(brief, render),
                         kwargs={"stop_event": stop, "on_error": errors.append, "debounce_ms": 50}, daemon=True)
    t.start()
    try:
        assert _wait(lambda: _headline(manifest) == "补栏周转 不误农时")
        brief.write_text(brief.read_text(encoding="utf-8").replace("补栏周转 不误农时", "春耕备耕 资金无忧"), encoding="utf-8")
        assert _wait(lambda: _headline(manifest) == "春耕备耕 资金无忧"), renders
        brief.write_text(brief.read_text(encoding="utf-8").replace('apr: "3.2%"', 'apr: "3,2%"'), encoding="utf-8")
        assert _wait(lambda: errors)
        assert "offer.apr" in str(errors[0]) and t.is_alive()
        assert _headline(manifest) == "春耕备耕 资金无忧"            # the previous bundle stays
    finally:
        stop.set()
        t.join(timeout=15)
    assert not t.is_alive()


def test_watch_follows_the_files_a_brief_uses(tmp_path):
    from PIL import Image

    from mktcli.watch import dependencies

    Image.new("RGB", (64, 64), "red").save(tmp_path / "hero.jpg")
    (tmp_path / "brand.yaml").write_text("version: 1\nname: mine\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\n", encoding="utf-8")
    brief = tmp_path / "brief.yaml"
    brief.write_text(GOOD.replace("visual:\n", "visual:\n  image: hero.jpg\n").replace(
        "name: test-loan\n", "name: test-loan\nbrand: brand.yaml\n"), encoding="utf-8")
    deps = dependencies(brief, rules=[rules])
    assert {p.name for p in deps} >= {"brief.yaml", "hero.jpg", "brand.yaml", "rules.yaml"}


def test_poster_watch_ctrl_c_exits_0(monkeypatch, write_brief, tmp_path):
    import mktcli.watch

    seen = {}

    def fake_watch(path, render, **kw):
        seen["path"] = path
        raise KeyboardInterrupt

    monkeypatch.setattr(mktcli.watch, "watch_brief", fake_watch)
    assert run(["poster", str(write_brief()), "-o", str(tmp_path), "--watch"]) == 0 and seen["path"].name == "brief.yaml"


# ------------------------------------------------------------------------------------------- the llm path

@pytest.mark.slow
def test_llm_fills_the_gaps_and_the_rule_facts_win(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from .tiny_models.chat import save_tiny_chat
    from mktcli.quick import model_messages

    sentence = "给养殖户做一张贷款海报，年化利率3.2%起，最高可借30万"
    answer = json.dumps({"headline": "补栏周转 有我帮忙", "subhead": "年化利率9.9%起", "scene": "清晨的养殖场，金色阳光",
                         "apr": "9.9%", "perks": ["最高可借99万"], "segments": ["种植户"]}, ensure_ascii=False)
    model = save_tiny_chat(tmp_path / "chat", prompts=[model_messages(parse_sentence(sentence))], answer=answer)
    res = quick(sentence, provider=PROVIDER, brief_out=tmp_path / "b.yaml", run=False, engine="llm", model=str(model))
    b = load_brief(res.brief_path)
    assert b.message.headline == "补栏周转 有我帮忙" and b.visual.scene == "清晨的养殖场，金色阳光"   # the model's words
    assert b.offer.apr == "3.2%" and b.offer.perks == ["最高可借30万"]                                 # the rules' facts
    assert [s.name for s in b.segments()] == ["养殖户"] and b.message.subhead is None
    assert any("subhead" in n and "number" in n for n in res.notes)
    assert b.copy.engine == "llm" and b.copy.model == str(model)
    code = run(["quick", sentence, "--provider", PROVIDER, "--brief-out", str(tmp_path / "c.yaml"), "--no-run",
                "--engine", "llm", "--model", str(model), "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["understood"]["apr"] == "3.2%"
    assert load_brief(tmp_path / "c.yaml").message.headline == "补栏周转 有我帮忙"


def test_brief_out_that_is_a_folder_is_a_clear_error(tmp_path, capsys):
    from mktcli.cli.app import run

    (tmp_path / "d").mkdir()
    for extra in ([], ["--force"]):
        code = run(["quick", "给养殖户做一张贷款海报，年化利率3.2%起", "--provider", "示例农村商业银行股份有限公司",
                    "--no-run", "--brief-out", str(tmp_path / "d"), *extra])
        assert code == 2 and "is a folder" in capsys.readouterr().err
