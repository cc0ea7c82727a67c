"""A user's rules of every kind run where the shipped ones do (issue 20, item 2; the review's F1-F3): the file and
clip kinds (ocr, aigc_implicit, video_spec, video_legal) on mkt poster and mkt check BUNDLE, the segment and offer
checks of mkt check BRIEF, the rules a text creative lists; a rule whose applies_to its kind cannot check is refused
when its file is loaded."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from mktcli.brief_check import check_brief
from mktcli.bundle_check import check_bundle
from mktcli.checks.rules import load_rules
from mktcli.checks.run import text_checks
from mktcli.cli.app import run
from mktcli.errors import BriefError

from .conftest import GOOD
from .test_motion import CHANNELS

USER_KINDS = """\
version: 1
rules:
  - id: X-OCR
    severity: warning
    kind: ocr
    applies_to: [image, video]
  - id: X-VIDSPEC
    severity: warning
    kind: video_spec
    applies_to: [video]
  - id: X-VIDLEGAL
    severity: warning
    kind: video_legal
    applies_to: [video]
    limit: 60          # longer than the clip: the whole clip (VID-LEGAL: the last 3 s) — its own parameter
  - id: X-AIGCIMP
    severity: warning
    kind: aigc_implicit
    applies_to: [image, video]
"""
BRIEF = GOOD.replace("segments: [养殖户, 种植户]", "segments: [养殖户]") \
    .replace("[app_banner, moments_16x9]", "[test_video, app_banner]")


def _rules(tmp_path: Path, body: str, name: str = "extra.yaml") -> Path:
    f = tmp_path / name
    f.write_text(body if body.startswith("version") else "version: 1\nrules:\n" + body, encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A clip and a poster made with mkt poster --verify --rules (a user rule of each file and clip kind)."""
    d = tmp_path_factory.mktemp("userkinds")
    (d / "ch.yaml").write_text(CHANNELS, encoding="utf-8")
    (d / "brief.yaml").write_text(BRIEF, encoding="utf-8")
    extra = _rules(d, USER_KINDS)
    assert run(["poster", str(d / "brief.yaml"), "-o", str(d / "out"), "--verify", "--rules", str(extra),
                "--channels", str(d / "ch.yaml"), "--no-register"]) == 0
    man_path = next((d / "out").glob("*/manifest.json"))
    man = json.loads(man_path.read_text(encoding="utf-8"))
    return d, man_path.parent, man, extra


def _by_channel(man: dict, channel: str) -> dict[str, list[dict]]:
    c = next(c for c in man["creatives"] if c["channel"] == channel)
    out: dict[str, list[dict]] = {}
    for k in c["checks"]:
        out.setdefault(k["rule"], []).append(k)
    return out


def test_mkt_poster_runs_a_users_rule_of_each_file_and_clip_kind(bundle):
    _, _, man, _ = bundle
    clip = _by_channel(man, "test_video")
    for rid in ("VID-SPEC", "VID-LEGAL", "VID-READBACK", "VID-LABEL", "X-VIDSPEC", "X-VIDLEGAL", "X-AIGCIMP",
                "COVER-AIGC-IMPLICIT", "COVER-X-AIGCIMP"):
        assert rid in clip, (rid, sorted(clip))
    assert clip["VID-LEGAL"][0]["passed"] and clip["VID-LEGAL"][0]["seconds_required"] == 3
    legal = clip["X-VIDLEGAL"][0]
    assert legal["passed"] and legal["severity"] == "warning" and legal["seconds_required"] == 5   # the 5 s clip
    assert clip["X-VIDSPEC"][0]["passed"] and clip["X-AIGCIMP"][0]["passed"]
    # the clip's read-back: one result a rule (the frames read once)
    reads = [k for k in clip["X-OCR"] if isinstance(k.get("read"), list)]
    assert reads and reads[0]["read"] == clip["VID-READBACK"][0]["read"]
    poster = _by_channel(man, "app_banner")
    for rid in ("AIGC-IMPLICIT", "X-AIGCIMP", "OCR-READBACK", "X-OCR"):
        assert rid in poster and poster[rid][0]["passed"], (rid, poster.get(rid))
    assert poster["X-OCR"][0]["read"] == poster["OCR-READBACK"][0]["read"] and poster["X-OCR"][0]["sha256"]


def test_mkt_check_bundle_runs_them_too(bundle, capsys):
    _, out, _, extra = bundle
    capsys.readouterr()
    assert run(["check", str(out), "--no-ocr", "--rules", str(extra), "--json"]) in (0, 1)
    cli = {r["rule"] for i in json.loads(capsys.readouterr().out)["items"] for r in i["results"]}
    assert {"X-VIDSPEC", "X-AIGCIMP", "X-VIDLEGAL", "X-OCR"} <= cli
    rep = check_bundle(out, extra_rules=[extra], ocr=False)
    clip = {r["rule"] for i in rep.items if i.name.endswith("test_video") for r in i.results}
    assert {"X-VIDSPEC", "X-AIGCIMP", "X-VIDLEGAL", "X-OCR"} <= clip   # the last two as mkt poster recorded them
    poster = {r["rule"] for i in rep.items if i.name.endswith("app_banner") for r in i.results}
    assert "X-AIGCIMP" in poster
    rep = check_bundle(out, extra_rules=[extra])   # the poster's read-back reused for both ocr rules
    poster = {r["rule"] for i in rep.items if i.name.endswith("app_banner") for r in i.results}
    assert {"OCR-READBACK", "X-OCR"} <= poster and any("reused" in n for n in rep.notes)


def test_a_clip_rule_added_after_the_clip_was_made_says_it_was_not_checked(bundle, tmp_path):
    _, out, _, _ = bundle
    later = _rules(tmp_path, "  - id: Y-VIDLEGAL\n    kind: video_legal\n    applies_to: [video]\n"
                             "  - id: Y-VIDSPEC\n    kind: video_spec\n    applies_to: [video]\n")
    rep = check_bundle(out, extra_rules=[later], ocr=False)
    res = {r["rule"]: r for i in rep.items if i.name.endswith("test_video") for r in i.results}
    assert res["Y-VIDSPEC"]["passed"]   # read from the file now
    assert not res["Y-VIDLEGAL"]["passed"] and "not checked" in res["Y-VIDLEGAL"]["message"]


def test_mkt_check_brief_applies_a_users_apr_cap_rule(tmp_path, write_brief):
    brief = write_brief(GOOD.replace('apr: "3.2%"', 'apr: "3.2%-18%"'))
    cap = _rules(tmp_path, "  - id: X-CAP\n    kind: apr_cap\n    applies_to: [text, image]\n    limit: 15\n"
                           "    message: above our house cap\n")
    res = {r["rule"]: r for i in check_brief(brief, extra_rules=[cap]).items for r in i.results}
    assert not res["X-CAP"]["passed"] and res["X-CAP"]["message"] == "18% — above our house cap"
    assert res["X-CAP"]["where"] == "offer.apr" and res["FIN-CAP"]["passed"]   # 18% ≤ 24%
    assert "X-CAP" not in {r["rule"] for i in check_brief(brief).items for r in i.results}


def test_mkt_check_brief_guards_the_generated_copy_with_the_users_rules(tmp_path, write_brief):
    brief = write_brief(GOOD.replace("[app_banner, moments_16x9]", "[app_banner, sms]"))
    rule = _rules(tmp_path, "  - id: X-SMS-WORD\n    kind: pattern\n    applies_to: [sms]\n    pattern: 拒收\n")
    rep = check_brief(brief, extra_rules=[rule])
    found = [r for i in rep.items if i.kind == "copy" for r in i.results if r["rule"] == "X-SMS-WORD"]
    assert found and found[0]["where"] == "generated sms"


def test_a_text_creative_lists_a_users_rule_that_passes(tmp_path):
    rs = load_rules([_rules(tmp_path, "  - id: X-SMS-NOTE\n    kind: pattern\n    applies_to: [sms]\n"
                                      "    pattern: 包邮\n")])
    checks = text_checks(rs, "sms", {"body": "【示例银行】惠农e贷年化利率3.2%起。拒收请回复R"}, category="loan",
                         facts=None)
    got = {c["rule"]: c for c in checks}
    assert got["X-SMS-NOTE"]["passed"] and got["SMS-SIGN"]["passed"] and got["SMS-OPTOUT"]["passed"]
    assert [c["rule"] for c in checks][:4] == ["SMS-SIGN", "SMS-OPTOUT", "SMS-LEN", "SMS-CHARS"]   # the unit's own
    assert "SMS-GATEWAY" not in got   # an info note is not a check


def test_an_optout_rule_checks_its_own_phrase_and_the_shipped_one_its_list(tmp_path):
    rs = load_rules([_rules(tmp_path, "  - id: X-OPTOUT\n    kind: sms_optout\n    applies_to: [sms]\n"
                                      "    phrase: 回复TD退订\n")])
    failed = lambda text: {f.rule for f in rs.check_text(text, unit="sms") if f.severity != "info"}  # noqa: E731
    assert "X-OPTOUT" in failed("【示例银行】惠农e贷。拒收请回复R") and "SMS-OPTOUT" not in failed("【示例银行】惠农e贷。回T退订")
    assert failed("【示例银行】惠农e贷。回复TD退订") == {"SMS-OPTOUT"}
    f = next(f for f in rs.check_text("【示例银行】惠农e贷。拒收请回复R", unit="sms") if f.rule == "X-OPTOUT")
    assert f.message == "an SMS ends with an opt-out"   # the kind's message: the rule gave none


def test_a_rule_without_a_message_says_its_kinds(tmp_path):
    rs = load_rules([_rules(tmp_path, "  - id: X-WORD\n    kind: pattern\n    pattern: 包邮\n")])
    assert [f.message for f in rs.check_text("全国包邮")] == ["'包邮': words this rule does not allow"]


@pytest.mark.parametrize("kind,applies,can", [("video_legal", "[text]", "video"), ("ocr", "[sms]", "image, video"),
                                              ("typo_size", "[video]", "image"), ("video_spec", None, "video")])
def test_a_rule_whose_kind_cannot_check_what_it_applies_to_is_refused(tmp_path, kind, applies, can):
    body = f"  - id: X-BAD\n    kind: {kind}\n" + (f"    applies_to: {applies}\n" if applies else "")
    with pytest.raises(BriefError) as ei:
        load_rules([_rules(tmp_path, body, name="brand.yaml")])
    err = ei.value
    assert "X-BAD" in err.message and f"kind '{kind}' cannot check" in err.message and f"(it checks {can})" in err.message
    assert Path(err.file).name == "brand.yaml" and err.key == "rules[0].applies_to" and f"[{can}]" in err.hint
