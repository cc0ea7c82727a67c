"""Rule checks as a registry (issue 20, item 2): a rule is data (a kind and its parameters), each kind one
registered function. A rule of an existing kind needs only a YAML entry — in a --rules file or the user's
~/.mkt/compliance.yaml — an unknown kind is a located error, and no shipped rule or registered kind is an orphan."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mktcli.channels import SafeZone
from mktcli.checks import registry
from mktcli.checks.image import poster_checks
from mktcli.checks.rules import Facts, load_rules
from mktcli.brief_check import check_brief
from mktcli.errors import BriefError

from .conftest import GOOD

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "configs" / "compliance" / "zh-CN.yaml"
# a rule's applies_to → the subjects whose checks evaluate it
SUBJECTS = {"text": ("text",), "sms": ("text",), "call": ("text",), "push": ("text",), "image": ("poster", "file"),
            "video": ("clip",)}


def _rules_file(tmp_path: Path, body: str, name: str = "extra.yaml") -> Path:
    f = tmp_path / name
    f.write_text("version: 1\nrules:\n" + body, encoding="utf-8")
    return f


def _failed(report) -> set[str]:
    return {r["rule"] for i in report.items for r in i.results if not r["passed"]}


def _poster(rs, disclaimer: str = "贷款额度、利率以实际审批结果为准", headline_px: float = 40, category: str = "loan"):
    blocks = [{"role": "headline", "text": "补栏周转", "box": [20, 40, 600, 100], "size": headline_px, "contrast": 9},
              {"role": "apr", "text": "年化利率3.2%起", "box": [20, 120, 600, 180], "size": 48, "contrast": 9},
              {"role": "disclaimer", "text": disclaimer, "box": [20, 900, 600, 920], "size": 14, "contrast": 9},
              {"role": "provider", "text": "本产品由示例银行提供", "box": [20, 930, 600, 950], "size": 14, "contrast": 9}]
    return poster_checks(rs, blocks, min_px=12, canvas=(1000, 1000), safe=SafeZone(), category=category,
                         channel="app_banner", facts=Facts(provider="示例银行", apr_figures=(3.2,)), has_rate=True,
                         disclaimer=disclaimer, generative=False, label_visible=True)


def test_a_rule_of_an_existing_kind_added_in_yaml_fires_only_on_a_brief_that_violates_it(tmp_path, write_brief):
    rules = _rules_file(tmp_path, """\
  - id: BRAND-SLOGAN
    severity: error
    kind: pattern
    applies_to: [text]
    pattern: "不误农时"
    message: the retired campaign slogan
    fix: use this season's line
""")
    bad = write_brief(GOOD, name="bad.yaml")   # headline: 补栏周转 不误农时
    good = write_brief(GOOD.replace("补栏周转 不误农时", "补栏周转 资金及时"), name="good.yaml")
    assert "BRAND-SLOGAN" in _failed(check_brief(bad, extra_rules=[rules]))
    assert "BRAND-SLOGAN" not in _failed(check_brief(good, extra_rules=[rules]))
    assert "BRAND-SLOGAN" not in _failed(check_brief(bad))   # the rule is the file's, not code's


def test_a_poster_rule_of_an_existing_kind_added_in_yaml(tmp_path):
    rs = load_rules([_rules_file(tmp_path, """\
  - id: BRAND-INSURED
    kind: required_phrase
    applies_to: [image]
    categories: [loan]
    phrase: 存款保险
    message: the deposit-insurance line
""")])
    res = {c["rule"]: c for c in _poster(rs)}
    assert not res["BRAND-INSURED"]["passed"] and "'存款保险' is not on the poster" in res["BRAND-INSURED"]["message"]
    res = {c["rule"]: c for c in _poster(rs, disclaimer="贷款额度、利率以实际审批结果为准。存款保险")}
    assert res["BRAND-INSURED"]["passed"] and res["FIN-DISCLAIMER"]["passed"]
    assert "BRAND-INSURED" not in {c["rule"] for c in _poster(rs, category="deposit")}   # not its category


def test_a_users_rule_file_adds_rules_of_text_and_poster_kinds(monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MKT_HOME", str(home))
    _rules_file(home, """\
  - id: BRAND-NICKNAME
    kind: pattern
    pattern: "小农贷"
    message: the old product nickname
  - id: BRAND-HEADLINE
    severity: warning
    kind: typo_size
    applies_to: [image]
    scale: {headline: 4}
    message: our headlines are at least 4× the legible minimum
""", name="compliance.yaml")
    rs = load_rules()
    assert str(home / "compliance.yaml") in rs.sources
    assert [f.rule for f in rs.check_text("小农贷来了")] == ["BRAND-NICKNAME"]
    head = {c["rule"]: c for c in _poster(rs, headline_px=40)}["BRAND-HEADLINE"]
    assert (head["passed"], head["severity"]) == (False, "warning") and "headline 40 px < 48 px" in head["message"]
    assert {c["rule"]: c for c in _poster(rs, headline_px=50)}["BRAND-HEADLINE"]["passed"]


@pytest.mark.parametrize("kind", registry.known_kinds())
def test_a_rules_file_may_add_a_rule_of_every_registered_kind(tmp_path, kind):
    on = next(c.on for s in registry.SUBJECTS for c in registry.checks_on(s) if c.kind == kind)
    applies = {"text": "text", "poster": "image", "file": "image", "clip": "video"}[on]
    rs = load_rules([_rules_file(tmp_path, f"  - id: USER-RULE\n    kind: {kind}\n    applies_to: [{applies}]\n")])
    assert rs.rules["USER-RULE"].kind == kind


@pytest.mark.parametrize("kind,said", [("magic", "unknown kind 'magic'"),
                                       ("patern", "unknown kind 'patern' — did you mean 'pattern'?")])
def test_an_unknown_kind_names_the_file_line_and_rule(tmp_path, kind, said):
    f = _rules_file(tmp_path, f"  - id: BRAND-X\n    kind: {kind}\n    pattern: x\n", name="brand.yaml")
    with pytest.raises(BriefError) as ei:
        load_rules([f])
    err = ei.value
    assert said in err.message and "BRAND-X" in err.message
    assert Path(err.file).name == "brand.yaml" and err.line == 4 and err.key == "rules[0].kind"
    assert "pattern" in err.hint and "typo_size" in err.hint   # the known kinds


def test_every_shipped_rule_has_a_registered_check_for_each_thing_it_applies_to():
    assert registry.APPLIES_TO == SUBJECTS
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["rules"]
    unchecked = []
    for r in shipped:
        kind = r.get("kind", "pattern")
        assert kind in registry.known_kinds(), (r["id"], kind)
        for unit in r.get("applies_to", ["text"]):
            if not any(registry.check_for(kind, s) for s in SUBJECTS[unit]):
                unchecked.append((r["id"], unit))
    # AD-LABEL (an operator's note on feed images) is an info rule, which has a poster check that records nothing
    assert unchecked == []


def test_every_registered_kind_is_used_or_documented():
    shipped = {r.get("kind", "pattern") for r in yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))["rules"]}
    doc = (ROOT / "docs" / "compliance.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+)`", doc))
    assert [k for k in registry.known_kinds() if k not in shipped and k not in documented] == []
    # and each registered function says what it checks
    for s in registry.SUBJECTS:
        for c in registry.checks_on(s):
            assert (c.fn.__doc__ or "").strip(), (s, c.kind)


def test_poster_results_come_kind_by_kind_in_registration_order():
    order = [c.kind for c in registry.checks_on("poster")]
    rs = load_rules()
    kinds = [rs.rules[c["rule"]].kind for c in _poster(rs)]
    stage = [k for k in kinds if k in order]   # the placed texts' results (pattern …) follow these
    assert len(set(stage)) >= 8 and stage == sorted(stage, key=order.index)


def test_registering_a_kind_twice_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        registry.rule_check("pattern", on="text")(lambda t, r: [])


def test_checks_rules_no_longer_imports_checks_text():
    """The cycle checks.rules ↔ checks.text is gone: text.py builds on rules.py, not the other way round."""
    src = (ROOT / "mktcli" / "checks" / "rules.py").read_text(encoding="utf-8")
    assert not re.search(r"from \.text import|from \.\s*import[^\n]*\btext\b|checks\.text", src)
