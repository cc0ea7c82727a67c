"""Copy for every segment × channel: the template engine on unseen briefs, the guard (limits, banned phrases, the
brief's numbers), `mkt copy`, text channels in the poster bundle, and the llm engine on tiny chat models built in
code (a random one, one taught a correct answer, one taught an answer with a wrong rate)."""
from __future__ import annotations

import difflib
import json
import random

import pytest
import yaml

from mktcli import load_brief, make_posters
from mktcli.checks.copy_guard import rule_facts
from mktcli.checks.rules import Facts, load_rules
from mktcli.checks.text import check_phrases
from mktcli.cli.app import run
from mktcli.copywriting.template import lexicon, resolve_segment
from mktcli.brief_copy import write_copy
from mktcli.checks.copy_guard import check_copy
from mktcli.copywriting.writer import facts_for

from .conftest import EXAMPLES, GOOD

PRODUCTS = [("惠农e贷", "loan", "3.2%"), ("薪享贷", "loan", "4.35%-12.6%"), ("金穗信用卡", "credit_card", "7.2%-14.4%"),
            ("三年期大额存单", "deposit", "2.15%"), ("稳享理财90天", "wealth", "2.4%-3.1%")]
PERKS = ["首期利息8折", "最高可借30万", "随借随还", "新户首刷礼", "1元起购", "20万元起存", "最长可分24期"]
SEGMENTS = [["养殖户", "种植户"], ["个体工商户", "工薪族"], ["老年客户", "年轻客群"], ["渔业合作社", "新市民"]]


def _unseen_brief(tmp_path, rng: random.Random, i: int):
    name, cat, apr = rng.choice(PRODUCTS)
    segs = rng.choice(SEGMENTS)
    data = {"version": 1, "name": f"unseen-{i}",
            "product": {"name": name, "category": cat, "provider": rng.choice(
                ["示例农村商业银行股份有限公司", "示例银行股份有限公司", "城东信用合作联社"])},
            "offer": {"apr": apr, "perks": rng.sample(PERKS, rng.randint(0, 3))},
            "audience": {"dimensions": {"who": segs, "coupon": ["有优惠", "无优惠"]}},
            "visual": {"seed": rng.randint(0, 999)},
            "channels": ["app_banner", "sms", "call_script", "push"]}
    p = tmp_path / f"unseen-{i}.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_brief(p)


@pytest.mark.parametrize("i", range(6))
def test_template_copy_for_unseen_briefs_fits_and_is_exact(tmp_path, i):
    b = _unseen_brief(tmp_path, random.Random(100 + i), i)
    res = write_copy(b, n=3)
    for seg in b.segments():
        facts = facts_for(b, seg)
        for v in res.variants[seg.name]:
            c = v.copy
            assert v.ok, [f.as_dict() for f in v.findings if f.severity == "error"]
            assert c.headline and c.cta and c.sms.body and c.push.title and c.feed.title
            # one 70-character segment, except a wealth SMS: its risk phrase may take it to two (a warning)
            assert len(c.sms.text) <= (134 if b.product.category == "wealth" else 70), c.sms.text
            assert c.sms.text.startswith("【") and c.sms.text.endswith("拒收请回复R")
            assert len(c.push.title) <= 20 and len(c.push.body) <= 50 and len(c.headline) <= 14
            for text in (c.sms.text, c.call_script.text, c.push.title + c.push.body, c.feed.description):
                assert not [f for f in check_phrases(text) if f.severity == "error"], text
                if any(w in text for w in ("利率", "利息", "收益", "业绩比较基准")):
                    assert facts.apr_phrase in text, text
                assert not [f for f in load_rules().check_text(text, facts=rule_facts(facts), apr_shown=True)
                            if f.rule == "FIN-CONSISTENT"], text
            assert facts.provider in c.call_script.opening and "不再打扰" in c.call_script.refusal
            assert facts.apr_phrase in c.call_script.apr


def test_segments_read_differently_not_one_sentence_with_a_word_swapped(tmp_path):
    b = _unseen_brief(tmp_path, random.Random(1), 1)
    res = write_copy(b, n=2)
    by_who: dict[str, list[str]] = {}
    for seg in b.segments():
        who = seg.values["who"]
        by_who.setdefault(who, []).extend(v.copy.sms.body + v.copy.push.title + v.copy.call_script.value
                                          for v in res.variants[seg.name])
    a, c = list(by_who.values())[:2]
    best = max(difflib.SequenceMatcher(None, x, y).ratio() for x in a for y in c)
    assert best < 0.85, best


def test_deterministic_by_seed_and_variants_differ():
    b = load_brief(EXAMPLES / "farm-loan.yaml")
    one = write_copy(b, n=3, seed=5)
    two = write_copy(b, n=3, seed=5)
    assert [v.copy for v in one.variants["养殖户·有优惠"]] == [v.copy for v in two.variants["养殖户·有优惠"]]
    texts = {v.copy.sms.text + v.copy.push.title for v in one.variants["养殖户·有优惠"]}
    assert len(texts) >= 2
    other = write_copy(b, n=3, seed=6)
    assert [v.copy for v in other.variants["养殖户·有优惠"]] != [v.copy for v in one.variants["养殖户·有优惠"]]


def test_unknown_segment_falls_back_and_says_so(write_brief):
    b = load_brief(write_brief(GOOD.replace("segments: [养殖户, 种植户]", "segments: [渔业合作社, 种粮大户]")))
    res = write_copy(b)
    assert any("渔业合作社" in n and "generic" in n for n in res.notes)
    assert res.first("种粮大户").info["lexicon_segment"] == "种植户"        # matched by keyword
    assert res.first("渔业合作社").info["lexicon_segment"] is None and res.first("渔业合作社").ok


def test_lexicon_itself_passes_the_phrase_rules():
    lex = lexicon()
    phrases = [p for s in [*lex.segments.values(), lex.generic] for p in (*s.hooks, *s.needs)]
    phrases += [p for c in lex.categories.values() for p in (*c.value, *c.lead, *c.hooks, *c.needs)]
    phrases += [t for ts in lex.templates.values() for t in ts] + list(lex.call.model_dump().values())
    bad = [(p, f.rule) for p in phrases for f in check_phrases(p) if f.severity == "error"]
    assert not bad


def test_segment_matching_prefers_one_that_fits_the_category():
    assert resolve_segment(("年轻白领",), "wealth")[1] == "年轻客群"
    assert resolve_segment(("年轻白领",), "loan")[1] == "工薪族"
    assert resolve_segment(("养殖户", "有优惠"), "loan")[2].uses_perks is True


def test_numbers_guard():
    rs, facts = load_rules(), Facts("年化利率3.2%起", (3.2,), ("首期利息8折", "最高可借30万"), apr="3.2%")
    assert not rs.check_text("年化利率3.2%起，首期利息8折，最高可借30万元", facts=facts)
    assert [(f.rule, f.match) for f in rs.check_text("年化利率3.5%起", facts=facts)] == [("FIN-CONSISTENT", "3.5%")]
    assert sorted((f.rule, f.match) for f in rs.check_text("日息低，最高可借50万", facts=facts)) == \
        [("FIN-APR", "日息"), ("FIN-CONSISTENT", "50万")]
    assert [f.match for f in check_phrases("稳赚不赔，秒批到账")] == ["稳赚", "秒批"]   # every term, one each
    assert not check_phrases("首期利息8折，最高可借30万")          # allowed factual phrases


def test_guard_catches_a_wrong_number_in_otherwise_good_copy():
    b = load_brief(EXAMPLES / "farm-loan.yaml")
    seg = b.segments()[0]
    v = write_copy(b).first(seg.name)
    broken = v.copy.model_copy(update={"push": v.copy.push.model_copy(update={"body": "惠农e贷年化利率2.8%起，点击了解"})})
    found = [f for f in check_copy(broken, facts_for(b, seg), b) if f.severity == "error"]
    # an annualized rate is stated, but not the brief's: FIN-CONSISTENT names the figure and the brief's rate
    assert any(f.rule == "FIN-CONSISTENT" and f.match == "2.8%" and "3.2%" in f.message
               and f.message.startswith("push") for f in found), found


def test_brief_wins_and_segment_override_wins_over_both():
    b = load_brief(EXAMPLES / "farm-loan.yaml")
    res = write_copy(b)
    assert res.first("养殖户·有优惠").copy.headline == "补栏周转 不误农时"          # brief message
    assert res.first("种植户·有优惠").copy.headline == "春耕备耕 资金无忧"          # segment override


# ------------------------------------------------------------------------------------------- CLI and bundle

def test_mkt_copy_json_and_files(tmp_path, capsys):
    code = run(["copy", str(EXAMPLES / "farm-loan.yaml"), "-o", str(tmp_path), "--n", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["engine"]["name"] == "template"
    assert set(out["segments"]) == {"养殖户·有优惠", "养殖户·无优惠", "种植户·有优惠", "种植户·无优惠"}
    v = out["segments"]["养殖户·有优惠"][1]
    assert v["variant"] == 1 and v["sms_text"].startswith("【") and "年化利率3.2%起" in v["call_script_text"]
    assert json.loads((tmp_path / "farm-loan-spring" / "copy.json").read_text())["brief"] == "farm-loan-spring"
    assert run(["copy", str(EXAMPLES / "farm-loan.yaml"), "-o", str(tmp_path), "--channel", "call_script"]) == 0
    assert "call_script" in capsys.readouterr().out and "客户经理" in v["call_script"]["opening"]


def test_mkt_copy_bad_segment_is_exit_2(tmp_path, capsys):
    assert run(["copy", str(EXAMPLES / "farm-loan.yaml"), "-o", str(tmp_path), "--segment", "渔民"]) == 2
    assert "养殖户·有优惠" in capsys.readouterr().err


def test_text_channels_are_creatives_in_the_bundle(tmp_path, write_brief):
    brief = write_brief(GOOD.replace("channels: [app_banner, moments_16x9]",
                                     "channels: [app_banner, sms, call_script, push]")
                        .replace("  headline: 补栏周转 不误农时\n", ""))
    res = make_posters(brief, tmp_path)
    man = json.loads(res.manifest_path.read_text())
    texts = [c for c in man["creatives"] if c["format"] == "text"]
    assert {(c["segment"], c["channel"]) for c in texts} == {(s, ch) for s in ("养殖户", "种植户")
                                                             for ch in ("sms", "call_script", "push")}
    for c in texts:
        data = (res.out_dir / c["path"]).read_text(encoding="utf-8")
        assert all(v in data for v in c["texts"].values())
        assert all(k["passed"] for k in c["checks"] if k["severity"] == "error"), c["checks"]
        assert c["engines"]["copy"]["name"] == "template"
    sms = next(c for c in texts if c["channel"] == "sms" and c["segment"] == "养殖户")
    assert sms["texts"]["body"].endswith("拒收请回复R") and sms["sms_segments"] == 1
    # the brief left the headline out: the poster's headline is the copy engine's, not the product name
    img = next(c for c in man["creatives"] if c["channel"] == "app_banner" and c["segment"] == "养殖户")
    assert img["texts"]["headline"] in lexicon().segments["养殖户"].hooks
    assert img["engines"]["copy"]["generated"] == ["headline", "subhead"]


# ------------------------------------------------------------------------------------------- llm engine

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from mktcli.copywriting.base import CopyRequest  # noqa: E402
from mktcli.copywriting.llm import LlmEngine, build_messages  # noqa: E402
from .tiny_models.chat import save_tiny_chat  # noqa: E402
from mktcli.errors import EngineError  # noqa: E402

LLM_BRIEF = GOOD.replace("  headline: 补栏周转 不误农时\n", "")


def _answer(rate: str) -> str:
    return json.dumps({
        "headline": "养殖周转 e贷帮忙", "subhead": "线上申请 审批便捷", "cta": "立即申请",
        "sms_body": f"养殖户朋友您好，惠农e贷年化利率{rate}起，首期利息8折，打开手机银行申请。",
        "call_value": "惠农e贷适合补栏进苗的资金周转，线上申请，审批便捷。",
        "push_title": "养殖周转 e贷帮忙", "push_body": f"惠农e贷年化利率{rate}起，首期利息8折，点击了解",
        "feed_title": f"养殖户看过来：惠农e贷年化利率{rate}起",
        "feed_description": f"补栏进苗的资金周转，试试惠农e贷，年化利率{rate}起。贷款额度、利率以实际审批结果为准。"},
        ensure_ascii=False)


@pytest.fixture(scope="session")
def chat_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("chat")
    (root / "b.yaml").write_text(LLM_BRIEF, encoding="utf-8")
    b = load_brief(root / "b.yaml")
    msgs = [build_messages(CopyRequest(facts_for(b, s), s.name, (s.name,), 7, 0)) for s in b.segments()]
    return {"brief": root / "b.yaml",
            "good": save_tiny_chat(root / "good", prompts=msgs, answer=_answer("3.2%")),
            "bad": save_tiny_chat(root / "bad", prompts=msgs, answer=_answer("3.5%")),
            "random": save_tiny_chat(root / "random", corpus=[_answer("3.2%")])}


def test_llm_engine_end_to_end_with_a_taught_model(chat_models):
    b = load_brief(chat_models["brief"])
    eng = LlmEngine(model=str(chat_models["good"]), temperature=0)
    res = write_copy(b, engine=eng)
    for seg in ("养殖户", "种植户"):
        v = res.first(seg)
        assert v.info["engine"] == "llm" and not v.repairs and v.ok, v.repairs
        assert v.copy.headline == "养殖周转 e贷帮忙"                                # the model's words …
        assert v.copy.sms.text == "【示例农村商业银行】养殖户朋友您好，惠农e贷年化利率3.2%起，首期利息8折，打开手机银行申请。拒收请回复R"
        assert "示例农村商业银行股份有限公司" in v.copy.call_script.opening          # … in mkt's frame
    assert eng.stats["batches"] == 1                                              # two segments, one batch
    assert res.engine["model"] == str(chat_models["good"])


def test_llm_batches_with_left_padding_match_one_at_a_time(chat_models):
    b = load_brief(chat_models["brief"])
    eng = LlmEngine(model=str(chat_models["good"]), temperature=0)
    f = facts_for(b, b.segments()[0])
    reqs = [CopyRequest(f, "养殖户", ("养殖户",), 7, 0), CopyRequest(f, "新市民·有优惠", ("新市民", "有优惠"), 7, 0)]
    tok, _ = eng.load()
    assert tok.padding_side == "left"
    assert len({len(tok(p)["input_ids"]) for p in eng.prompts(reqs)}) == 2          # really padded
    batched = eng.generate_texts(reqs)
    single = [eng.generate_texts([r])[0] for r in reqs]
    assert batched == single


def test_chat_template_has_thinking_off(chat_models):
    b = load_brief(chat_models["brief"])
    eng = LlmEngine(model=str(chat_models["good"]))
    p = eng.prompts([CopyRequest(facts_for(b, b.segments()[0]), "养殖户", ("养殖户",), 7, 0)])[0]
    assert p.startswith("<|im_start|>system\n") and p.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert "年化利率3.2%起" in p and "补栏" in p                                  # facts and the segment's cares


def test_wrong_rate_from_the_model_is_repaired_never_shipped(chat_models):
    b = load_brief(chat_models["brief"])
    res = write_copy(b, engine=LlmEngine(model=str(chat_models["bad"]), temperature=0), retries=1)
    v = res.first("养殖户")
    assert [r["action"] for r in v.repairs] == ["regenerate", "template"]
    assert any("3.5%" in p and "FIN-CONSISTENT" in p for p in v.repairs[0]["problems"])
    assert v.info["replaced"] == "llm" and v.ok
    assert "3.5%" not in json.dumps(v.copy.model_dump(), ensure_ascii=False)
    assert any("repaired" in n for n in res.notes)


def test_unparseable_output_is_retried_then_replaced(chat_models):
    b = load_brief(chat_models["brief"])
    res = write_copy(b, engine=LlmEngine(model=str(chat_models["random"]), temperature=0.8, max_new_tokens=40))
    v = res.first("种植户")
    assert v.repairs and "unusable model output" in v.repairs[0]["problems"][0]
    assert v.info["engine"] == "template" and v.ok


def test_brief_selects_the_llm_engine_for_posters(chat_models, tmp_path):
    text = chat_models["brief"].read_text(encoding="utf-8").replace(
        "channels:", f"copy:\n  engine: llm\n  model: {chat_models['good']}\nchannels:")
    p = tmp_path / "b.yaml"
    p.write_text(text, encoding="utf-8")
    res = make_posters(p, tmp_path, channels=["app_banner"], segments=["养殖户"])
    d = res.creatives[0].data
    assert d["texts"]["headline"] == "养殖周转 e贷帮忙" and d["engines"]["copy"]["name"] == "llm"


def test_missing_chat_model_is_a_clear_error(monkeypatch, tmp_path, capsys):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read at import; set it as a user would
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(EngineError) as ei:
        LlmEngine(model="example-org/no-such-chat").load()
    assert "hf download example-org/no-such-chat" in ei.value.hint
    code = run(["copy", str(EXAMPLES / "farm-loan.yaml"), "-o", str(tmp_path), "--engine", "llm", "--model",
                "example-org/no-such-chat"])
    assert code == 2 and "not in the local cache" in " ".join(capsys.readouterr().err.split())


def test_llm_without_transformers_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "transformers" else real(n, *a))
    with pytest.raises(EngineError) as ei:
        LlmEngine(model="x").generate_texts([])
    assert "transformers" in ei.value.message and "--engine template" in ei.value.hint


def test_text_channels_echo_the_briefs_headline_and_greet_unknown_segments_by_name(write_brief):
    b = load_brief(write_brief(GOOD.replace("segments: [养殖户, 种植户]", "segments: [渔民, 种植户]")))
    res = write_copy(b, n=2)
    for seg in ("渔民", "种植户"):
        assert all(v.copy.push.title == "补栏周转 不误农时" for v in res.variants[seg])   # the brief's headline
    assert any("渔民朋友" in v.copy.sms.text + v.copy.call_script.text for v in res.variants["渔民"])


def test_no_phrase_is_said_twice_and_no_invented_product_terms():
    for name in ("farm-loan", "credit-card", "deposit", "wealth"):
        b = load_brief(EXAMPLES / f"{name}.yaml")
        brief_text = json.dumps(b.model_dump(mode="json"), ensure_ascii=False)
        for vs in write_copy(b, n=3).variants.values():
            for v in vs:
                for text in (v.copy.subhead, v.copy.sms.body, v.copy.feed.description):
                    parts = [p for p in __import__("re").split(r"[，。：！、\s｜]", text) if len(p) >= 2]
                    assert len(parts) == len(set(parts)), text
                for term in ("随借随还", "按日计息", "期限多样"):
                    dumped = json.dumps(v.copy.model_dump(), ensure_ascii=False)
                    assert term not in dumped or term in brief_text, (name, term)


def test_segments_differ_even_when_the_brief_gives_one_headline():
    b = load_brief(EXAMPLES / "credit-card.yaml")
    res = write_copy(b, n=2)
    a, c = list(res.variants)[:2]
    for va, vc in zip(res.variants[a], res.variants[c]):
        for x, y in ((va.copy.sms.body, vc.copy.sms.body), (va.copy.push.body, vc.copy.push.body)):
            assert difflib.SequenceMatcher(None, x, y).ratio() < 0.85, (x, y)


# ------------------------------------------------------------------------------------------- issue 15

# filler a blind review flagged: lines that say nothing a customer can use
FILLER = ("线上可办", "购买前可查", "安排从容", "随时可查", "专为")
PRODUCTS_R2 = [("惠农e贷", "loan", "3.2%"), ("商户经营贷", "loan", "3.45%-12%"), ("悦享消费贷", "loan", "3.6%-18%"),
               ("示例e贷", "loan", "4.5%"), ("悦享白金信用卡", "credit_card", "6.2%-16.8%"),
               ("三年期大额存单", "deposit", "1.9%"), ("稳享182天持有期理财", "wealth", "2.6%-3.2%"),
               ("安心住院医疗险", "insurance", None), ("周末生活特惠", "retail", None), ("手机银行新客礼", "other", None)]


def _needs(b, seg) -> set[str]:
    lex = lexicon()
    out = {n for w in (*lex.segments.values(), lex.generic) for n in w.needs}
    out |= {n for w in lex.segments.values() for own in w.by_category.values() for n in own.needs}
    return out | {n for c in lex.categories.values() for n in c.needs}


@pytest.mark.parametrize("product,category,apr", PRODUCTS_R2)
def test_generated_subheads_say_a_real_need_never_repeat_and_never_steer(tmp_path, product, category, apr):
    """Every lexicon segment (and one the lexicon does not know) × offer framing × 3 variants: a generated subhead
    is a segment's real need from the lexicon (or left out), says no phrase or word twice, is no filler, and no
    generated line steers the product to a use it may not fund (FIN-PURPOSE)."""
    from mktcli.copywriting.template import _repeats

    segs = [*lexicon().segments, "渔业合作社"]
    data = {"version": 1, "name": "r2", "product": {"name": product, "category": category,
                                                      "provider": "示例银行股份有限公司"},
            "offer": {"perks": ["首期利息8折"] if category == "loan" else []},
            "audience": {"dimensions": {"who": segs, "coupon": ["有优惠", "无优惠"]}},
            "channels": ["app_banner", "sms", "call_script", "push"]}
    if apr:
        data["offer"]["apr"] = apr
    p = tmp_path / "b.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    b = load_brief(p)
    res = write_copy(b, n=3)
    needs = _needs(b, None)
    said = 0
    for seg in b.segments():
        for v in res.variants[seg.name]:
            c = v.copy
            sub = c.subhead
            if sub:
                said += 1
                assert any(n in sub for n in needs), sub
                assert not _repeats(sub, words=True) and sub != c.headline, sub
                assert not any(f in sub for f in FILLER), sub
            for text in (c.headline, c.sms.body, c.push.title, c.push.body, c.call_script.value, c.feed.description):
                parts = [x for x in __import__("re").split(r"[，。：！、\s｜]", text) if len(x) >= 2]
                assert len(parts) == len(set(parts)), text
            purpose = [f for f in v.findings if f.rule == "FIN-PURPOSE"]
            assert not purpose, (seg.name, [f.message for f in purpose])
            assert v.ok, [f.as_dict() for f in v.findings if f.severity == "error"]
    assert said, "no segment got a subhead"   # known segments have real needs


def test_a_business_loan_never_offers_housing_and_a_card_never_start_up_capital(tmp_path):
    for product, category, apr, banned in (("商户经营贷", "loan", "3.45%-12%", ("租房", "安家", "购房")),
                                          ("悦享白金信用卡", "credit_card", "6.2%-16.8%", ("创业", "进货", "生意"))):
        data = {"version": 1, "name": "p", "product": {"name": product, "category": category,
                                                        "provider": "示例银行股份有限公司"},
                "offer": {"apr": apr}, "audience": {"segments": ["新市民", "个体工商户", "养殖户"]},
                "channels": ["app_banner", "sms", "push", "call_script"]}
        p = tmp_path / f"{category}.yaml"
        p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        for vs in write_copy(load_brief(p), n=3).variants.values():
            for v in vs:
                dumped = json.dumps(v.copy.model_dump(), ensure_ascii=False)
                assert not any(w in dumped for w in banned), (product, v.segment, dumped)
