"""Compliance checks: the rule set as data, a corpus of known violations and clean copy, SMS/call rules, posters
whose pixels were altered after rendering (OCR read-back), implicit AIGC labels, and `mkt check`."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml
from PIL import Image, ImageDraw

from mktcli import make_posters
from mktcli.checks.rules import Facts, load_rules
from mktcli.cli.app import run
from mktcli.errors import BriefError

from .conftest import EXAMPLES, GOOD

# (text, category, the error rules it must trigger)
VIOLATIONS = [
    ("全网最低利率，秒批到账", "loan", {"AD-ABS", "FIN-BAN", "FIN-APR"}),
    ("稳赚不赔的理财，保本保息", "wealth", {"FIN-BAN"}),
    ("国家级品牌，行业第一", None, {"AD-ABS"}),
    ("唯一一款不看征信的贷款", "loan", {"AD-ABS", "FIN-BAN"}),
    ("日息低至万分之三，借一万每天只要3元", "loan", {"FIN-APR"}),
    ("月息0.5%，当天放款", "loan", {"FIN-APR"}),
    ("人民银行认证的放心贷", "loan", {"AD-STATE"}),
    ("恭喜您获得20万额度，点击领取", "loan", {"AD-BAIT"}),
    ("系统提示：您的账户额度已提升", None, {"AD-BAIT"}),
    ("零门槛 高额度 轻松借", "loan", {"FIN-BAN-RANGE"}),
    ("低息贷款等您来", "loan", {"FIN-BAN-RANGE"}),
    ("分期手续费率低至0.6%", "credit_card", {"FIN-CARD", "FIN-APR"}),
    ("收益最高的理财产品", "wealth", {"AD-ABS", "AD-ABS-FIN"}),
    ("100%通过，包过", "loan", {"AD-ABS", "FIN-BAN"}),
    ("无风险高收益，承诺收益8%", "wealth", {"FIN-BAN"}),
    ("顶级理财 极致收益", "wealth", {"AD-ABS"}),
    ("首家推出零利息分期", "credit_card", {"AD-ABS", "FIN-BAN"}),
    ("黑户也能贷，必下款", "loan", {"FIN-BAN"}),
    ("独家优惠，史上最低", None, {"AD-ABS"}),
    ("银保监会推荐产品", None, {"AD-STATE"}),
]

CLEAN = [
    "首期利息8折", "最高可借30万", "补栏周转 不误农时", "线上申请 审批便捷", "年化利率3.2%起",
    "贷款额度、利率以实际审批结果为准", "本产品由示例农村商业银行股份有限公司提供", "随借随还 按日计息",
    "春耕备耕 资金无忧", "分期年化利率7.2%-14.4%", "账单分期最长24期", "新户首刷礼", "三年期年利率2.15%",
    "20万元起存，可转让", "理财非存款，产品有风险，投资须谨慎", "业绩比较基准2.6%-3.3%", "1元起购，中低风险R2",
    "立即申请", "了解详情", "手机银行 随时办理", "进货周转 生意不停", "旺季备货 从容应对", "存款利率以办理时本行挂牌利率为准",
    "分期年化利率以实际账单为准，请理性消费", "年化利率(单利)3.6%起，日利率0.01%", "最长期限36个月", "首月还款日可自选",
    "最低还款额以账单为准", "第一期账单减免年费", "稳健配置 按需选择", "期限多样 灵活安排", "安家创业 有人帮衬",
    "装修教育 轻松规划", "打开手机银行申请", "【示例农村商业银行】养殖户朋友您好，惠农e贷，年化利率3.2%起。拒收请回复R",
    "活动期间新客专享", "闲钱打理 有规划", "网点、手机都能办", "办卡即享账单分期", "家庭备用金的稳妥安排",
    "贷款用途需合法合规", "请理性借贷，按时还款", "按时还款 保持良好信用", "额度循环使用", "线上提交 进度可查",
    "扫码了解产品详情", "客服热线95555", "周末也能办理", "专属客户经理一对一服务", "资金到账后按日计息",
]


@pytest.mark.parametrize("text,category,rules", VIOLATIONS)
def test_every_known_violation_is_caught(text, category, rules):
    found = {f.rule for f in load_rules().check_text(text, category=category) if f.severity == "error"}
    assert rules <= found, (text, found)


def test_clean_marketing_copy_raises_no_alarm():
    rs = load_rules()
    alarms = [(t, f.rule) for t in CLEAN for f in rs.check_text(t, category="loan") if f.severity == "error"]
    assert len(alarms) <= 0.02 * len(CLEAN), alarms


def test_numbers_must_be_the_briefs():
    rs = load_rules()
    facts = Facts(apr_phrase="年化利率3.2%起", apr_figures=(3.2,), numbers_from=("3.2%", "首期利息8折", "最高可借30万"))
    assert not [f for f in rs.check_text("年化利率3.2%起，最高可借30万", facts=facts, category="loan")]
    bad = [f for f in rs.check_text("年化利率3.5%起，最高可借50万", facts=facts, category="loan")]
    # an annualized rate is stated (FIN-APR is met); that it is not the brief's is FIN-CONSISTENT's, with both figures
    assert {f.rule for f in bad} == {"FIN-CONSISTENT"} and {f.match for f in bad} == {"3.5%", "50万"}
    assert any("3.2%" in f.message for f in bad) and any("最高可借30万" in f.message for f in bad)


def test_apr_cap_warns_above_24_percent():
    found = [f for f in load_rules().check_text("年化利率18%-36%", category="loan") if f.rule == "FIN-CAP"]
    assert found and found[0].severity == "warning" and "36%" in found[0].message
    # a share of the price beside the rate is not a rate: no cap warning, no figure mismatch
    for text in ("最高可贷车价80%，年化利率3.5%起", "年化利率4%起，首付30%"):
        assert not [f for f in load_rules().check_text(text, category="loan") if f.rule == "FIN-CAP"], text


def test_sms_and_call_rules():
    rs = load_rules()
    rules = lambda t, u: {f.rule: f.severity for f in rs.check_text(t, unit=u, category="loan")}  # noqa: E731
    assert rules("惠农e贷年化利率3.2%起，详询网点", "sms").keys() >= {"SMS-SIGN", "SMS-OPTOUT"}
    assert "SMS-SIGN" not in rules("【示例农商行】年化利率3.2%起。拒收请回复R", "sms")
    assert rules("【示例农商行】" + "年化利率3.2%起。" * 8 + "拒收请回复R", "sms")["SMS-LEN"] == "warning"
    assert rules("【示例农商行】" + "年化利率3.2%起。" * 60 + "拒收请回复R", "sms")["SMS-LEN"] == "error"
    assert rules("【示例农商行】¥100立减★拒收请回复R", "sms")["SMS-CHARS"] == "warning"
    good_call = ("您好，我是示例银行股份有限公司的客户经理……年化利率3.2%起。如果您不希望再接到此类来电，请告诉我。")
    assert not {"CALL-OPEN", "CALL-REFUSAL"} & rules(good_call, "call").keys()
    assert {"CALL-OPEN", "CALL-REFUSAL"} <= rules("喂，给您推荐个贷款，利息很低。", "call").keys()


# ------------------------------------------------------------------------------------------- rules as data

def test_user_file_changes_severity_allows_phrases_and_adds_rules(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text("""version: 1
overrides:
  AD-DATA: {severity: error}
allow: [唯一指定]
rules:
  - id: BRAND-NICKNAME
    severity: error
    kind: pattern
    pattern: "小农贷"
    message: the old product nickname
""", encoding="utf-8")
    rs = load_rules([f])
    assert rs.rules["AD-DATA"].severity == "error"
    assert {x.rule for x in rs.check_text("10万用户的选择")} == {"AD-DATA"}
    assert not rs.check_text("唯一指定")                               # allowed by the brand
    assert [x.rule for x in rs.check_text("小农贷来了")] == ["BRAND-NICKNAME"]


@pytest.mark.parametrize("body,where", [
    ("rules:\n  - id: AD-X\n    severity: fatal\n    pattern: x\n", "severity"),
    ("rules:\n  - id: AD-Y\n    kind: magic\n", "kind"),
    ("overrides:\n  NOPE-1: {severity: warning}\n", "NOPE-1"),
    ("rules:\n  - id: AD-Z\n    pattern: '(unclosed'\n", "pattern"),
])
def test_invalid_rule_files_name_file_line_and_key(tmp_path, body, where):
    f = tmp_path / "bad.yaml"
    f.write_text("version: 1\n" + body, encoding="utf-8")
    with pytest.raises(BriefError) as ei:   # ConfigError or a located schema error, both with file and line
        load_rules([f])
    assert where in str(ei.value) + (ei.value.key or "") and ei.value.file


def test_mkt_check_with_a_broken_rules_file_is_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("version: 1\nrules:\n  - id: AD-X\n    severity: fatal\n    pattern: x\n", encoding="utf-8")
    assert run(["check", "--text", "你好", "--rules", str(f)]) == 2
    assert "bad.yaml:4" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- posters

@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle")
    res = make_posters(EXAMPLES / "farm-loan.yaml", out, segments=["养殖户·有优惠"])
    return res.out_dir


def _copy_bundle(bundle, tmp_path):
    dst = tmp_path / "b"
    shutil.copytree(bundle, dst)
    return dst


def test_clean_bundle_checks_clean(bundle):
    pytest.importorskip("rapidocr_onnxruntime")
    from mktcli.bundle_check import check_bundle

    rep = check_bundle(bundle)
    assert rep.errors() == 0, [(i.name, i.failed) for i in rep.items if i.failed]
    reads = [r for i in rep.items for r in i.results if r["rule"] == "OCR-READBACK"]
    assert len(reads) == 4 and all(r["passed"] for r in reads)


def _paint(path, box, text, size_factor=0.8):
    from mktcli.compose.fonts import registry, truetype

    fid = next(i for i, f in registry().items() if f.weight == 700)
    img = Image.open(path).convert("RGB")
    x0, y0, x1, y1 = box
    d = ImageDraw.Draw(img)
    bg = img.getpixel((int(x0) + 1, int(y0) + 1))
    d.rectangle([x0, y0, x1, y1], fill=bg)
    d.text((x0, y0), text, font=truetype(fid, max(8, int((y1 - y0) * size_factor))), fill=(20, 90, 50))
    img.save(path, quality=92)


@pytest.mark.parametrize("channel", ["splash_1080x1920", "app_banner", "moments_16x9", "dsp_300x250"])
def test_a_number_altered_in_the_pixels_is_caught(bundle, tmp_path, channel):
    pytest.importorskip("rapidocr_onnxruntime")
    from mktcli.bundle_check import check_bundle

    b = _copy_bundle(bundle, tmp_path)
    man = json.loads((b / "manifest.json").read_text())
    c = next(c for c in man["creatives"] if c["channel"] == channel)
    apr = next(x for x in c["blocks"] if x["role"] == "apr")
    _paint(b / c["path"], apr["box"], "3.5%起")
    rep = check_bundle(b)
    item = next(i for i in rep.items if i.name.endswith(channel))
    rules = {r["rule"] for r in item.failed}
    assert "OCR-READBACK" in rules and "BUNDLE-FILE" in rules
    assert rep.errors() and all(not i.failed for i in rep.items if not i.name.endswith(channel))


def test_a_removed_disclaimer_is_caught(bundle, tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    from mktcli.bundle_check import check_bundle

    b = _copy_bundle(bundle, tmp_path)
    man = json.loads((b / "manifest.json").read_text())
    c = next(c for c in man["creatives"] if c["channel"] == "splash_1080x1920")
    disc = next(x for x in c["blocks"] if x["role"] == "disclaimer")
    _paint(b / c["path"], disc["box"], "")
    item = next(i for i in check_bundle(b).items if i.name.endswith("splash_1080x1920"))
    assert any(r["rule"] == "OCR-READBACK" and "disclaimer" in r.get("where", "") for r in item.failed)


def test_implicit_label_stripped_from_the_file_is_caught(bundle, tmp_path):
    from mktcli.bundle_check import check_bundle
    from mktcli.checks.run import check_image

    b = _copy_bundle(bundle, tmp_path)
    man = json.loads((b / "manifest.json").read_text())
    c = next(c for c in man["creatives"] if c["channel"] == "app_banner")
    Image.open(b / c["path"]).save(b / c["path"], quality=90)             # re-saved without EXIF
    item = next(i for i in check_bundle(b, ocr=False).items if i.name.endswith("app_banner"))
    assert "AIGC-IMPLICIT" in {r["rule"] for r in item.failed}
    assert check_image(bundle / c["path"], ocr=False).items[0].results[0]["passed"]   # the original has it


def test_poster_records_text_rule_failures_and_blocks_approval(tmp_path, write_brief):
    brief = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 稳赚周转 秒批到账"))
    res = make_posters(brief, tmp_path, channels=["app_banner"], segments=["养殖户"])
    c = res.creatives[0].data
    bans = [k for k in c["checks"] if k["rule"] == "FIN-BAN"]
    # one finding per banned term, each naming the brief key it came from
    assert [(k["passed"], k["where"], k["match"]) for k in bans] == [(False, "message.headline", "稳赚"),
                                                                     (False, "message.headline", "秒批")]
    assert all(k["fix"] and k["match"] in k["message"] for k in bans)
    man = json.loads(res.manifest_path.read_text())
    assert man["approval"]["blocked"] == [c["id"]] and man["approval"]["ready"] == []
    res2 = make_posters(brief, tmp_path, channels=["app_banner"], segments=["养殖户"], allow_errors=True)
    assert json.loads(res2.manifest_path.read_text())["approval"]["ready"] == [res2.creatives[0].data["id"]]


def test_apr_must_be_the_most_prominent_rate():
    from mktcli.channels import SafeZone
    from mktcli.checks.image import poster_checks

    blocks = [{"role": "apr", "text": "年化利率3.2%起", "box": [10, 10, 100, 40], "size": 30, "contrast": 7},
              {"role": "perk", "text": "日利率0.01%", "box": [10, 50, 100, 100], "size": 48, "contrast": 7},
              {"role": "provider", "text": "本产品由示例银行提供", "box": [10, 110, 100, 120], "size": 14,
               "contrast": 7}]
    checks = poster_checks(load_rules(), blocks, min_px=10, canvas=(200, 200), safe=SafeZone(), category="loan",
                           channel="x", facts=Facts(provider="示例银行"), has_rate=True, disclaimer="",
                           generative=False, label_visible=True)
    prom = next(k for k in checks if k["rule"] == "FIN-APR-PROMINENCE")
    assert not prom["passed"] and "日利率0.01%" in prom["message"]


# ------------------------------------------------------------------------------------------- mkt check

def test_mkt_check_text_json_and_exit_codes(capsys):
    assert run(["check", "--text", "稳赚不赔，秒批到账", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == 2 and {r["rule"] for r in out["items"][0]["results"]} == {"FIN-BAN"}
    assert run(["check", "--text", "【示例银行】年化利率3.2%起。拒收请回复R", "--json"]) == 0
    assert run(["check", "--text", "年化利率3.2%起", "--as", "sms", "--json"]) == 1   # no signature, no opt-out
    capsys.readouterr()
    assert run(["check", "--text", "x", "--as", "fax"]) == 2


def test_mkt_check_brief_names_the_key(tmp_path, capsys, write_brief):
    assert run(["check", str(EXAMPLES / "farm-loan.yaml")]) == 0
    capsys.readouterr()
    brief = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 全网最低利率 秒批"))
    assert run(["check", str(brief), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    res = [r for i in out["items"] for r in i["results"] if not r["passed"]]
    assert {"AD-ABS", "FIN-BAN"} <= {r["rule"] for r in res}
    assert all(r["where"] == "message.headline" for r in res if r["rule"] == "FIN-BAN")


def test_mkt_check_bundle_image_and_text_file(bundle, tmp_path, capsys):
    assert run(["check", str(bundle), "--no-ocr"]) == 0
    assert "without problems" in capsys.readouterr().out
    img = next(bundle.glob("*/app_banner.jpg"))
    assert run(["check", str(img), "--no-ocr", "--json"]) == 0
    capsys.readouterr()
    sms = tmp_path / "sms.txt"
    sms.write_text("【示例银行】稳赚理财，点击领取。拒收请回复R", encoding="utf-8")
    assert run(["check", str(sms), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert {"FIN-BAN", "AD-BAIT"} <= {r["rule"] for r in out["items"][0]["results"]}
    assert run(["check", str(tmp_path / "missing.yaml")]) == 2


def test_mkt_check_on_one_of_our_own_images_is_clean(bundle, capsys):
    pytest.importorskip("rapidocr_onnxruntime")
    for ch in ("app_banner", "splash_1080x1920"):
        img = next(bundle.glob(f"*/{ch}.jpg"))
        assert run(["check", str(img), "--category", "loan", "--json"]) == 0, capsys.readouterr().out
        capsys.readouterr()


def test_json_errors_reach_stdout_and_ok_follows_the_exit_code(tmp_path, capsys, write_brief):
    assert run(["check", str(tmp_path / "nope.yaml"), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["exit_code"] == 2 and "does not exist" in out["error"]
    brief = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 稳赚周转 秒批到账"))
    assert run(["poster", str(brief), "-o", str(tmp_path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["exit_code"] == 1 and out["failed_checks"]


def test_wealth_texts_carry_the_risk_phrase_and_high_rates_warn(tmp_path, write_brief):
    from mktcli import load_brief
    from mktcli.brief_copy import write_copy

    w = load_brief(EXAMPLES / "wealth.yaml")
    for vs in write_copy(w, n=2).variants.values():
        for v in vs:
            assert "理财非存款，产品有风险，投资须谨慎" in v.copy.sms.text and v.ok
            assert "理财非存款" in v.copy.push.body and len(v.copy.push.body) <= 50
    assert "FIN-RISK" in {f.rule for f in load_rules().check_text(
        "【示例理财】稳享理财，业绩比较基准2.6%-3.3%。拒收请回复R", unit="sms", category="wealth")}
    hot = write_brief(GOOD.replace('apr: "3.2%"', 'apr: "36%"').replace(
        "channels: [app_banner, moments_16x9]", "channels: [app_banner, sms]"))
    res = make_posters(hot, tmp_path, segments=["养殖户"])
    sms = next(c.data for c in res.creatives if c.data["channel"] == "sms")
    img = next(c.data for c in res.creatives if c.data["channel"] == "app_banner")
    assert not next(k for k in sms["checks"] if k["rule"] == "FIN-CAP")["passed"]
    cap = next(k for k in img["checks"] if k["rule"] == "FIN-CAP")
    assert not cap["passed"] and cap["where"] == "apr" and cap["severity"] == "warning"


def test_check_bundle_agrees_with_poster_on_every_rule(tmp_path, write_brief):
    """One code path: the checks mkt poster records and the ones mkt check BUNDLE evaluates again from the manifest
    are the same, rule by rule, for images and text creatives — including a segment name (高额度客户) that reads as
    an easy-credit claim in call_script.md's heading, which the customer never hears (it made check fail alone)."""
    from mktcli.bundle_check import check_bundle

    brief = write_brief(GOOD.replace("  segments: [养殖户, 种植户]\n", "  segments: [养殖户, 高额度客户]\n  overrides:\n"
                                     "    养殖户: {headline: 稳赚周转 秒批到账}\n")
                        .replace("[app_banner, moments_16x9]", "[app_banner, dsp_300x250, sms, push, call_script]"))
    res = make_posters(brief, tmp_path, register=False)
    man = json.loads(res.manifest_path.read_text(encoding="utf-8"))
    rep = check_bundle(res.out_dir, ocr=False)
    assert len(rep.items) == len(man["creatives"]) == 10
    for c, item in zip(man["creatives"], rep.items):
        assert item.name == f"{c['segment']} / {c['channel']}"
        recorded = {(k["rule"], k["severity"], k["passed"]) for k in c["checks"]}
        again = {(k["rule"], k["severity"], k["passed"]) for k in item.results}
        assert again == recorded, (item.name, again ^ recorded)
    failed = {(c["segment"], c["channel"]) for c in man["creatives"] if any(not k["passed"] and k["severity"] == "error"
                                                                            for k in c["checks"])}
    assert ("养殖户", "app_banner") in failed and not any(seg == "高额度客户" for seg, _ in failed)
    assert rep.errors() == sum(1 for c in man["creatives"] for k in c["checks"]
                               if not k["passed"] and k["severity"] == "error")


def test_check_bundle_reuses_the_posters_readback_while_files_are_unchanged(tmp_path, write_brief, monkeypatch):
    pytest.importorskip("rapidocr_onnxruntime")
    import mktcli.checks.readback as readback
    from mktcli.bundle_check import check_bundle

    brief = write_brief(GOOD.replace("segments: [养殖户, 种植户]", "segments: [养殖户]"))
    res = make_posters(brief, tmp_path, verify=True, register=False)
    reads = []
    real = readback.read_back_file
    monkeypatch.setattr(readback, "read_back_file", lambda *a: reads.append(a[0]) or real(*a))
    rep = check_bundle(res.out_dir)
    assert reads == [] and "2 reused" in " ".join(rep.notes)
    ocr_results = [r for i in rep.items for r in i.results if r["rule"] == "OCR-READBACK"]
    assert len(ocr_results) == 2 and all(r["passed"] for r in ocr_results)
    c = next(c for c in res.creatives if c.data["channel"] == "app_banner").data
    _paint(res.out_dir / c["path"], next(x for x in c["blocks"] if x["role"] == "apr")["box"], "3.5%起")
    rep = check_bundle(res.out_dir)
    assert len(reads) == 1 and reads[0].endswith("app_banner.jpg")   # only the changed file is read again
    item = next(i for i in rep.items if i.name.endswith("app_banner"))
    assert {"OCR-READBACK", "BUNDLE-FILE"} <= {r["rule"] for r in item.failed}


# ------------------------------------------------------------------------------------------- issue 15

BIZ = """\
version: 1
name: biz-loan
product:
  name: 商户经营贷
  category: loan
  provider: 示例银行股份有限公司
offer:
  apr: "3.45%-12%"
  perks: [最高可借50万, 最长36期]
audience:
  dimensions:
    who: [新市民, 个体工商户]
    coupon: [有优惠, 无优惠]
  overrides:
    新市民: {headline: 租房安家 轻松周转}
message:
  headline: 年化利率2.8%起 轻松借
  subhead: 经营周转 随借随还
  disclaimer: 贷款额度、利率以实际审批结果为准
visual: {engine: procedural}
channels: [app_banner, dsp_300x250, sms, push]
"""


def _failed(out: dict) -> list[dict]:
    return [r for i in out["items"] for r in i["results"] if not r["passed"] and r["severity"] != "info"]


def test_brief_figures_are_compared_with_the_offer_and_each_violation_counts_once(tmp_path, capsys, write_brief,
                                                                                   monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")   # the rich table on one line per row
    brief = write_brief(BIZ)
    assert run(["check", str(brief), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    errors = [r for r in _failed(out) if r["severity"] == "error"]
    # the base headline is on 2 of the 4 segments (新市民 has its own) and is reported once, at its key, with the
    # figure and the brief's value; the override's purpose violation at the override's key
    assert sorted((r["rule"], r["where"]) for r in errors) == [
        ("FIN-CONSISTENT", "message.headline"), ("FIN-PURPOSE", "audience.overrides.新市民.headline")]
    cons = next(r for r in errors if r["rule"] == "FIN-CONSISTENT")
    assert "2.8%" in cons["message"] and "3.45%-12%" in cons["message"]
    assert out["errors"] == len(errors) == 2
    assert run(["check", str(brief)]) == 1
    rich = capsys.readouterr().out
    assert "2 errors" in rich and "message.headline" in rich and "audience.overrides.新市民.headline" in rich


def test_mkt_poster_blocks_a_brief_figure_that_is_not_the_offers(tmp_path, capsys, write_brief):
    brief = write_brief(BIZ.replace("    新市民: {headline: 租房安家 轻松周转}\n", "    新市民: {headline: 最高可借一百万}\n"))
    code = run(["poster", str(brief), "-o", str(tmp_path / "out"), "--no-register", "--no-layers", "--json",
                "-c", "app_banner"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    got = {(k["segment"], k["rule"], k["where"]) for k in out["failed_checks"]}
    assert ("个体工商户·有优惠", "FIN-CONSISTENT", "message.headline") in got
    over = [k for k in out["failed_checks"] if k["where"] == "audience.overrides.新市民.headline"]
    assert over and all(k["rule"] == "FIN-CONSISTENT" and "一百万" in k["message"] and "最高可借50万" in k["message"]
                        for k in over)


def test_bundle_report_lists_each_finding_once_and_its_totals_match(tmp_path, capsys, write_brief):
    brief = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 稳赚周转 秒批到账"))
    res = make_posters(brief, tmp_path, channels=["app_banner", "moments_16x9"])
    recorded = [k for c in res.creatives for k in c.data["checks"] if not k["passed"] and k["severity"] == "error"]
    assert len(recorded) == 2 * 2 * 2           # 2 segments × 2 posters × 2 banned terms
    assert run(["check", str(res.out_dir), "--no-ocr", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    failed = [r for r in _failed(out) if r["severity"] == "error"]
    assert out["errors"] == len(failed) == len(recorded)
    assert len({(i["name"], r["rule"], r.get("where"), r.get("match")) for i in out["items"] for r in i["results"]
                if not r["passed"] and r["severity"] == "error"}) == len(failed)
    assert run(["check", str(res.out_dir), "--no-ocr"]) == 1
    assert f"{len(recorded)} errors" in capsys.readouterr().out


def test_check_text_takes_the_offer_of_a_brief(capsys, write_brief):
    brief = write_brief(BIZ)
    sms = "【示例银行】商户经营贷年化利率3.45%起，最高可借八十万元。拒收请回复R"
    assert run(["check", "--text", sms, "--as", "sms", "--json"]) == 0       # no offer to compare with
    capsys.readouterr()
    assert run(["check", "--text", sms, "--as", "sms", "--brief", str(brief), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [(r["rule"], r["match"]) for r in _failed(out)] == [("FIN-CONSISTENT", "八十万元")]
    assert run(["check", str(brief), "--brief", str(brief)]) == 2          # --brief is for texts


def test_a_headline_below_a_headline_size_is_a_typo_size_error_and_the_layout_never_places_one(tmp_path,
                                                                                               write_brief):
    long = "春耕备耕资金无忧线上申请审批便捷随借随还按日计息好"   # 25 characters
    brief = write_brief(GOOD.replace("headline: 补栏周转 不误农时", f"headline: {long}")
                        .replace("channels: [app_banner, moments_16x9]", "channels: [dsp_728x90, moments_16x9]"))
    res = make_posters(brief, tmp_path, segments=["养殖户"])
    by_ch = {c.data["channel"]: c.data for c in res.creatives}
    strip = by_ch["dsp_728x90"]
    # the layout takes TYPO-SIZE's headline minimum (4/3 × the leaderboard's 10 px): the 25 characters do not fit
    # one row at 13.4 px, so the headline is left out of this size, never squeezed to 12 px
    assert not [b for b in strip["blocks"] if b["role"] == "headline" and b["size"] < 10 * 4 / 3 - 0.01]
    assert next(k for k in strip["checks"] if k["rule"] == "TYPO-SIZE")["passed"]
    # the rule itself: the same creative with its headline squeezed to 12 px fails it
    from mktcli.checks.image import poster_checks_from

    blocks = [b for b in strip["blocks"] if b["role"] != "headline"] + [
        {"role": "headline", "text": long, "size": 12, "box": [150, 20, 450, 34]}]
    typo = next(k for k in poster_checks_from(load_rules(), blocks, strip["check_inputs"]) if k["rule"] == "TYPO-SIZE")
    assert not typo["passed"] and typo["severity"] == "error" and "headline 12 px" in typo["message"]
    assert next(k for k in by_ch["moments_16x9"]["checks"] if k["rule"] == "TYPO-SIZE")["passed"]


@pytest.mark.parametrize("text", ["第一张卡 从悦享开始", "第一笔借款 线上申请", "首张信用卡 就选悦享", "新户消费满额返50元",
                                  "满100元减10元", "保额最高50万", "首付最低20%，年化利率3.8%起", "年化利率最高12%"])
def test_ordinals_amounts_and_stated_bounds_are_no_alarm(text):
    assert not [f for f in load_rules().check_text(text, category="credit_card") if f.severity != "info"]


def test_chinese_numerals_and_figures_are_read_with_their_meaning():
    from mktcli.checks.figures import cn_number, parse_figures

    assert [cn_number(s) for s in ("三十万", "五十万", "一百万", "两万", "一百五十万", "十二", "一万五", "百万")] == \
        [300000, 500000, 1000000, 20000, 1500000, 12, 15000, 1000000]
    figs = parse_figures("最高可借五十万元，最长三年，年化利率3.45%-12%，日息万分之二", load_rules().vocab, "loan")
    assert [(f.kind, f.value, f.qual) for f in figs] == [("amount", 500000, "most"), ("term", 36, "most"),
                                                          ("rate", 3.45, ""), ("rate", pytest.approx(7.3), "")]
    assert figs[2].hi == 12 and figs[3].unit == "day"
    assert not parse_figures("客服热线95588，2026年12月1日，第一期，一次授信，R2，T+1，7×24小时", load_rules().vocab)


# wordings the corpus lacks, written by the implementer after it (not blind): each in a brief of its own context
PROBE_BRIEFS = {
    "biz": ("商户经营贷", "loan", "3.45%-12%", ["最高可借50万", "最长36期"]),
    "consumer": ("悦享消费贷", "loan", "3.6%-18%", ["最高可借20万", "最长可分36期"]),
    "card": ("悦享白金信用卡", "credit_card", "6.2%-16.8%", ["新户消费满额返50元", "刷卡满6次免次年年费", "最长可分24期"]),
    "deposit": ("三年期大额存单", "deposit", "1.9%", ["20万元起存"]),
    "insurance": ("安心住院医疗险", "insurance", None, ["首年保费9.9元起", "保额最高50万"]),
    "car": ("安心车贷", "loan", "3.5%-9.8%", ["最高可贷车价80%", "最长60期"]),
}
PROBE_BAD = [("biz", "年化3%起 经营无忧", "FIN-CONSISTENT"), ("biz", "3.2%起 轻松借", "FIN-CONSISTENT"),
             ("biz", "额度可达100万", "FIN-CONSISTENT"), ("consumer", "可借5年 慢慢还", "FIN-CONSISTENT"),
             ("consumer", "月供低至300元", "FIN-APR"), ("consumer", "买车买房都能用", "FIN-PURPOSE"),
             ("consumer", "开个小店 消费贷帮你", "FIN-PURPOSE"), ("biz", "投资股票 资金灵活", "FIN-PURPOSE"),
             ("card", "刷卡返现10%", "FIN-CONSISTENT"), ("card", "最划算的信用卡", "AD-ABS"),
             ("deposit", "一年期年利率2.1%", "FIN-CONSISTENT"), ("insurance", "保额高达一百万", "FIN-CONSISTENT")]
PROBE_OK = [("biz", "借款期限1-36期"), ("biz", "额度1万-50万"), ("biz", "最终额度以审批为准"),
            ("consumer", "贷款资金请勿用于购房"), ("card", "最多可分24期 刷卡满六次免年费"),
            ("deposit", "存50万元也可以"), ("insurance", "投保年龄：出生满28天至60周岁"),
            ("consumer", "代发工资客户 线上申请"), ("car", "最高可贷车价80% 轻松提车")]


def _probe(tmp_path, key: str, headline: str) -> dict:
    name, cat, apr, perks = PROBE_BRIEFS[key]
    data = {"version": 1, "name": "probe", "product": {"name": name, "category": cat,
                                                         "provider": "示例银行股份有限公司"},
            "offer": {"perks": perks, **({"apr": apr} if apr else {})}, "message": {"headline": headline},
            "channels": ["app_banner"]}
    p = tmp_path / "probe.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    from mktcli.brief_check import check_brief

    return check_brief(p).as_dict()


@pytest.mark.parametrize("key,text,rule", PROBE_BAD)
def test_wordings_beyond_the_corpus_are_caught(tmp_path, key, text, rule):
    out = _probe(tmp_path, key, text)
    assert any(r["rule"] == rule and r.get("where") == "message.headline" for r in _failed(out)), _failed(out)


@pytest.mark.parametrize("key,text", PROBE_OK)
def test_ordinary_lines_beyond_the_corpus_pass(tmp_path, key, text):
    assert _probe(tmp_path, key, text)["errors"] == 0
