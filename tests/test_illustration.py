"""The illustration engine (mktcli/visual/illustration.py): who appears is data (configs/visuals.yaml) chosen by
product, segment, theme and the brief's own objects; the picture stays in the layout's visual zone, is
deterministic, and differs by segment and variant."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mktcli import load_brief, make_posters
from mktcli.brand import load_brand
from mktcli.errors import BriefError, BriefErrors
from mktcli.visual.base import VisualRequest, get_engine
from mktcli.visual.illustration import IllustrationEngine, choose_cast, themes
from mktcli.visual.vector import objects


def test_every_object_the_config_names_is_vendored():
    from mktcli.visual.illustration import visuals_config

    cfg, known = visuals_config(), set(objects())
    names = set()
    for c in cfg["categories"].values():
        names |= set(c["hero"]) | set(c["support"]) | set(c["accents"])
    for rules in (cfg["products"], cfg["segments"]):
        for r in rules:
            names |= set(r.get("hero", [])) | set(r.get("support", []))
    for t in cfg["themes"].values():
        names |= set(t["objects"]) | set(t["accents"])
    assert names <= known, sorted(names - known)


def test_the_cast_follows_product_segment_theme_and_the_brief():
    loan = choose_cast("loan")
    assert loan.hero == "money-bag" and loan.source == "category"
    shop = choose_cast("loan", product="商户经营贷")
    assert shop.hero == "convenience-store" and shop.source == "product"        # no farm on a shop loan
    assert not {"tractor", "pig", "cow"} & {shop.hero, *shop.support}
    farm = choose_cast("loan", product="惠农e贷", segment="养殖户 有优惠")
    assert farm.hero == "tractor" and farm.stage == "ground" and farm.support[:3] == ["pig", "cow", "chicken"]
    rider = choose_cast("insurance", product="安心意外险", segment="外卖骑手")
    assert rider.hero == "motor-scooter" and rider.source == "segment"
    elder = choose_cast("deposit", segment="退休人群")
    assert "teacup" in elder.support
    spring = choose_cast("credit_card", theme="春节")
    assert spring.hero == "red-envelope" and spring.accent_colors and spring.source == "theme"
    own = choose_cast("loan", objects=("tractor", "coin"))
    assert own.hero == "tractor" and own.support[0] == "coin" and own.source == "objects"
    unknown = choose_cast("loan", segment="宇航员")
    assert unknown.hero in ("money-bag", "yen-banknote", "bank") and any("宇航员" in n for n in unknown.notes)
    # segments the data does not name still differ from each other (each takes its own turn of the heroes)
    assert len({choose_cast("loan", segment=s).hero for s in ("一线城市", "二线城市", "三线城市", "县域客户")}) >= 2
    # a season's words in the headline choose its theme when the brief names none
    assert choose_cast("loan", message="秋收备耕 资金到位").theme == "秋收"
    assert choose_cast("retail", message="新年焕新 年货到家").hero == "red-envelope"
    # no rising chart on a loan or a low-risk wealth product (it reads as promised returns)
    for cat in ("loan", "wealth", "deposit"):
        assert all(choose_cast(cat, variant=v).hero != "chart-increasing" for v in range(3))
    # variants: another hero where the data offers several
    assert len({choose_cast("loan", variant=v).hero for v in range(3)}) == 3


def _request(**kw):
    brand = load_brand("default")
    base = dict(width=800, height=450, palette=brand.palette_for("loan"), category="loan", motif="fields", seed=7,
                visual_zone=(440, 0, 800, 380), product="惠农e贷", segment="养殖户")
    return VisualRequest(**(base | kw))


def test_render_is_deterministic_inside_its_zone_and_differs_by_segment_and_variant():
    eng = IllustrationEngine()
    a, b = eng.render(_request()), eng.render(_request())
    assert a.image.tobytes() == b.image.tobytes() and not a.generative
    assert a.info["name"] == "illustration" and a.info["objects"][0] == "tractor" and a.info["stage"] == "ground"
    bare = eng.render(_request(motif="none"))          # the backdrop alone: no room for a subject
    assert bare.info["objects"] == []
    # another cast on the same backdrop (the spotlight falls on the zone either way): only the zone changes
    shop = eng.render(_request(product="商户经营贷", segment="个体工商户"))
    diff = np.abs(np.asarray(a.image, np.int16) - np.asarray(shop.image, np.int16)).max(axis=2)
    ys, xs = np.nonzero(diff > 8)
    assert xs.min() >= 440 - 1 and ys.max() <= 380 + 1      # objects, stage and accents never leave the zone
    assert diff[:, 440:].mean() > 10                          # and there is something there
    other = eng.render(_request(segment="种植户"))
    assert other.image.tobytes() != a.image.tobytes()
    assert other.info["objects"][1:3] == ["sheaf-of-rice", "ear-of-corn"]
    assert eng.render(_request(variant=1)).image.tobytes() != a.image.tobytes()


def test_auto_uses_it_and_the_manifest_says_what_it_drew(tmp_path, write_brief):
    p = write_brief()
    res = make_posters(p, tmp_path / "out", channels=["moments_16x9"], layered=False)
    c = res.creatives[0].data
    v = c["engines"]["visual"]
    assert v["name"] == "illustration" and v["objects"] and v["stage"] and v["cast_from"] in ("product", "segment")
    assert get_engine("illustration").generative is False
    assert not any(k["rule"] == "AIGC-LABEL" for k in c["checks"])   # drawn from vendored objects, not generated


def test_a_wide_banner_shows_its_hero_object_beside_the_text(tmp_path, write_brief):
    # 1242×290: the picture slot between the rate and the button is ~130 px wide once clear of the text — a hero
    # object alone, large, not an empty stretch or a row of thumbnails
    res = make_posters(write_brief(), tmp_path / "out", channels=["app_banner"], layered=False)
    for c in res.creatives:
        v, lay = c.data["engines"]["visual"], c.data["engines"]["layout"]
        zx0, zy0, zx1, zy1 = lay["zone"]
        assert zx1 - zx0 < c.data["width"] / 3 and len(v["objects"]) == 1, (lay, v)
        assert not any(b["box"][0] < zx1 and b["box"][2] > zx0 and b["box"][1] < zy1 and b["box"][3] > zy0
                       for b in c.data["blocks"] if b["role"] not in ("disclaimer", "provider", "ai_label"))


def test_theme_and_objects_in_the_brief(tmp_path, write_brief):
    from tests.conftest import GOOD

    p = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  seed: 7\n  theme: 春节\n  objects: [red-envelope, coin]"))
    res = make_posters(p, tmp_path / "out", channels=["moments_16x9"], layered=False, register=False)
    v = res.creatives[0].data["engines"]["visual"]
    assert v["theme"] == "春节" and v["objects"][:2] == ["red-envelope", "coin"] and v["cast_from"] == "objects"
    assert "春节" in themes()
    bad = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  seed: 7\n  theme: 春季\n  objects: [trackter]"))
    with pytest.raises((BriefError, BriefErrors)) as e:
        load_brief(bad)
    keys = {x.key for x in getattr(e.value, "errors", [e.value])}
    assert {"visual.theme", "visual.objects[0]"} <= keys


def test_the_design_gates_hold_on_every_size(tmp_path, write_brief, capsys):
    """benchmarks/design.py's gates on an illustrated bundle of every size class: the picture stays out of the ring
    around the button, the hero plate and the chips (crowding), text never sits on a busy part of it
    (unreadability), no holes in the text column, nothing overlaps, the hero is the largest text."""
    from benchmarks import design as D
    from tests.conftest import GOOD

    p = write_brief(GOOD.replace("channels: [app_banner, moments_16x9]",
                                 "channels: [app_banner, moments_16x9, moments_square, splash_1080x1920, dsp_300x250, "
                                 "dsp_728x90, oceanengine_v]"))
    res = make_posters(p, tmp_path / "out", register=False)
    assert not res.failures
    capsys.readouterr()
    D.main([str(res.out_dir), "--json"])
    data = json.loads(capsys.readouterr().out)
    for f in data["creatives"]:
        g = f["gates"]
        bad = {k: f.get(k) for k in ("crowding", "unreadability", "empty", "overlaps", "hero")
               if g.get(k) is False}
        assert not bad, (f["segment"], f["channel"], f["layout"], bad)


@pytest.mark.parametrize("size,zone", [((1080, 1350), (65, 860, 1015, 1080)), ((800, 1100), (40, 700, 760, 1000)),
                                       ((1080, 1920), (0, 1150, 1080, 1650))])
def test_the_glow_fades_out_inside_the_zone(size, zone):
    """The light behind the hero ends before the zone's feathered top edge does: a glow running past it was cut
    into a lit box with a hard top edge (a designer's first remark on the 4:5 video covers)."""
    r = IllustrationEngine().render(_request(width=size[0], height=size[1], visual_zone=zone, product="安心消费贷",
                                             segment="教师"))
    backdrop = dict((n, p) for n, p, *_ in r.planes)["backdrop"]
    lift = np.abs(np.asarray(r.image, np.int16) - np.asarray(backdrop, np.int16)).max(axis=2)
    x0, y0, x1, y1 = zone
    top_band = lift[y0:y0 + int((y1 - y0) * 0.16), x0:x1]      # the feather's rows: the glow was 15-32 levels here
    assert np.percentile(top_band, 90) < 10
    assert lift[y0:y1, x0:x1].max() > 60                         # … and the zone still has its subject
