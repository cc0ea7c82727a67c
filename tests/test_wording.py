"""Domain words moved from code to configs/ (configs/wording.yaml, configs/categories.yaml `scene`): the configs hold
exactly what the code had hard-coded, and the code reads them from there. Also: the test scaffolding (tiny models
built in code) lives in tests/, and nothing in the package imports it."""
from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

import mktcli
from mktcli import wording as wording_mod
from mktcli.errors import MktError
from mktcli.paths import configs_dir
from mktcli.wording import rate_label_pattern, wording

# ------------------------------------------------------------------ what the code had before the move (4391dfd)

OLD_APR_LABELS = "年化利率|年化费率|年化综合成本|年利率|业绩比较基准|年化收益率"            # checks/rules.py _APR_ANY
OLD_QUICK_LEAD = "年化利率|年化收益率|年利率|年化|利率|业绩比较基准|收益率"                # quick.py _RATE_LEAD
OLD_IMPERATIVE = ("立即", "马上", "快来", "点击", "申请", "办理", "了解", "领取", "查看", "试试", "赶快", "速来", "来",
                  "抢", "开通", "注册", "下载", "预约", "咨询", "存入", "购买", "参与")
OLD_ADDRESS = ("您", "朋友")
OLD_PARTICLES = frozenset("的了和与及在是就也都很把被给让对从向而或并等着过吗呢吧啊呀哦之")
OLD_EXTRA_WORDS = ["随借随还", "随用随取"]
OLD_SCENES = {
    "loan": "春天的田野与农舍，晨光洒在绿色的庄稼上，写实摄影",
    "credit_card": "现代都市的生活方式场景，咖啡馆与购物街，柔和的景深，写实摄影",
    "deposit": "温馨的家庭客厅，窗外是城市天际线，安稳宁静，写实摄影",
    "wealth": "开阔的湖面与远山，清晨的薄雾，稳健而宁静，写实摄影",
    "insurance": "一家人在公园里散步，阳光温暖，写实摄影",
    "other": "简洁明亮的金融服务场景，柔和光线，写实摄影",
}

TEXTS = ["年化利率3.2%起", "年利率 2.15%", "业绩比较基准2.6%-3.3%", "年化5%", "利率低至3.45%", "年化收益率为4%",
         "分期年化利率7.2%-14.4%", "年化费率0.6%", "年化综合成本不超过12%", "日利率0.02%", "收益率：3%", "3.2%起",
         "惠农e贷年化利率（单利）3.2%起，首期利息8折", "最高可借30万，利率3.2%到7.2%", "年化利率是3.85%",
         "种植户贷款，年化3.2%起，最高可借30万", "存款年利率只要1.9%", "年化收益率3.5%，稳健"]


@pytest.fixture(autouse=True)
def _fresh_caches():
    yield
    wording.cache_clear()
    rate_label_pattern.cache_clear()


def test_rate_labels_are_the_two_old_lists_in_one():
    labels = [r.label for r in wording().rate_labels]
    assert len(labels) == len(set(labels))
    assert set(rate_label_pattern(annual_only=True).split("|")) == set(OLD_APR_LABELS.split("|"))
    # the looser leads `mkt quick` read; unified, it also reads the annual labels it lacked (年化费率, 年化综合成本)
    assert set(rate_label_pattern().split("|")) == set(OLD_QUICK_LEAD.split("|")) | set(OLD_APR_LABELS.split("|"))


def test_the_compliance_apr_pattern_finds_what_it_found():
    from mktcli.checks.text_kinds import APR_ANY as _APR_ANY

    old = re.compile(rf"({OLD_APR_LABELS})[^，。；\n]{{0,10}}?\d+(?:\.\d+)?\s*%")
    for t in TEXTS:
        assert bool(_APR_ANY.search(t)) == bool(old.search(t)), t
    assert rate_label_pattern(annual_only=True) in _APR_ANY.pattern    # read from the config


def test_quick_reads_the_rates_it_read():
    from mktcli import quick

    lead = f"(?:{OLD_QUICK_LEAD})"
    num = r"\d+(?:\.\d+)?"
    old_range = re.compile(rf"(?:{lead}\s*(?:为|是|:)?\s*)?(?:低至)?({num})\s*%?\s*(?:-|~|–|—|至|到)\s*({num})\s*%")
    old_one = re.compile(rf"{lead}\s*(?:为|是|:|仅|只要)?\s*(低至)?\s*({num})\s*%\s*(起)?")
    for t in TEXTS:
        if "年化费率" in t or "年化综合成本" in t:     # the labels unification added
            continue
        for old, new in ((old_range, quick._RATE_RANGE), (old_one, quick._RATE_ONE)):
            assert [(m.span(), m.groups()) for m in old.finditer(t)] == \
                [(m.span(), m.groups()) for m in new.finditer(t)], t
    assert f"(?:{rate_label_pattern()})" == quick._RATE_LEAD                # read from the config
    assert quick._RATE_ONE.search("年化综合成本3.6%起").group(2) == "3.6"     # … and now with every annual label


def test_learn_words_are_what_features_had():
    learn = wording().learn
    assert tuple(learn.imperative) == OLD_IMPERATIVE
    assert tuple(learn.address) == OLD_ADDRESS
    assert frozenset(learn.particles) == OLD_PARTICLES and len(learn.particles) == len(OLD_PARTICLES)
    assert learn.words == OLD_EXTRA_WORDS


def test_default_scenes_are_what_the_diffusion_engine_had():
    from mktcli.brief import category_defaults
    from mktcli.visual.diffusion import default_scene

    for cat in [*category_defaults(), "no-such-category"]:
        assert default_scene(cat) == OLD_SCENES.get(cat, OLD_SCENES["other"]), cat


def _with_wording(monkeypatch, tmp_path, text: str) -> None:
    (tmp_path / "wording.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr(wording_mod, "configs_dir", lambda: tmp_path)
    wording.cache_clear()
    rate_label_pattern.cache_clear()


def test_the_code_reads_the_config(monkeypatch, tmp_path):
    pytest.importorskip("jieba")
    from mktcli.learn import features

    shipped = (configs_dir() / "wording.yaml").read_text(encoding="utf-8")
    edited = (shipped.replace("address: [您, 朋友]", "address: [您, 朋友, 乡亲]")
              .replace("imperative: [立即,", "imperative: [快快, 立即,")
              .replace("  - {label: 收益率, annual: false}\n", "  - {label: 收益率, annual: false}\n"
                                                               "  - {label: 综合息费, annual: true}\n"))
    assert edited.count("乡亲") == edited.count("快快") == edited.count("综合息费") == 1
    features._particles.cache_clear()
    _with_wording(monkeypatch, tmp_path, edited)
    try:
        assert features.tones(["乡亲们看过来"], {"cta": "快快申请"}) == {"tone:address", "tone:imperative"}
        assert "综合息费" in rate_label_pattern(annual_only=True).split("|")
    finally:
        features._particles.cache_clear()
    monkeypatch.undo()
    wording.cache_clear()
    assert features.tones(["乡亲们看过来"], {"cta": "快快申请"}) == set()


def test_the_diffusion_engine_reads_its_scene_from_the_categories(monkeypatch):
    from mktcli.brief import category_defaults
    from mktcli.visual import diffusion

    cats = {k: dict(v) for k, v in category_defaults().items()}
    cats["loan"]["scene"] = "夏夜的稻田，萤火虫"
    monkeypatch.setattr(diffusion, "category_defaults", lambda: cats)
    assert diffusion.default_scene("loan") == "夏夜的稻田，萤火虫"
    del cats["other"]["scene"]
    with pytest.raises(MktError, match="no default scene") as ei:
        diffusion.default_scene("no-such-category")
    assert ei.value.key == "categories.other.scene"


@pytest.mark.parametrize("change, message", [
    (("  - {label: 利率, annual: false}\n", "  - {label: 利率, annual: false}\n  - {label: 利率, annual: true}\n"),
     "listed twice"),
    (("particles: 的了和", "particles: 的 了和"), "without spaces"),
    (("address: [您, 朋友]", "address: []"), "address"),
    (("  - {label: 年化, annual: false}\n", "  - {label: 年化, annual: false, weight: 2}\n"), "weight"),
])
def test_a_broken_wording_file_is_refused_with_its_place(monkeypatch, tmp_path, change, message):
    shipped = (configs_dir() / "wording.yaml").read_text(encoding="utf-8")
    assert change[0] in shipped
    _with_wording(monkeypatch, tmp_path, shipped.replace(change[0], change[1], 1))
    with pytest.raises(MktError) as ei:
        wording()
    assert message in str(ei.value) + str(getattr(ei.value, "key", "")), str(ei.value)


def test_test_scaffolding_is_not_in_the_package():
    assert importlib.util.find_spec("mktcli.visual.random_models") is None
    assert importlib.util.find_spec("mktcli.copywriting.tiny_chat") is None
    # tests/ is not in the wheel: nothing the package runs may import from it
    for path in Path(mktcli.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            assert not any(n == "tests" or n.startswith("tests.") for n in names), path
