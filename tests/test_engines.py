"""Visual engines: registry by entry point, plugins, determinism, AIGC labelling of generated backgrounds."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from mktcli import make_posters
from mktcli import plugins
from mktcli.errors import BriefError, EngineError
from mktcli.visual import base

from .conftest import GOOD


def test_builtins_registered_by_entry_point():
    names = base.available()
    assert names["procedural"] == "mktcli.visual.procedural:ProceduralEngine"
    assert names["image"] == "mktcli.visual.photo:ImageEngine"


def test_diffusers_requested_explicitly_is_an_error_not_a_downgrade(tmp_path, write_brief):
    p = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: diffusers\n  seed: 7"))
    with pytest.raises(EngineError) as ei:
        make_posters(p, tmp_path)
    assert "diffusers" in ei.value.message and ei.value.hint


def test_unknown_engine_named_in_brief(write_brief):
    from mktcli import load_brief

    with pytest.raises(BriefError) as ei:
        load_brief(write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: procedurl\n  seed: 7")))
    assert ei.value.key == "visual.engine" and "procedural" in ei.value.message


def test_auto_without_gpu_uses_the_illustration_engine_and_says_so():
    name, note = base.resolve_engine_name("auto", has_image=False)
    assert name == "illustration" and "illustration" in note


@pytest.fixture
def plugin(monkeypatch):
    # as if a package registered the engine under mkt.visual.v1: the brief's check and get_engine both see it
    regs = {**base.available(), "genstub": "tests.fake_engines:GenerativeStub"}
    monkeypatch.setattr(plugins, "visual_engines", lambda: regs)
    base.get_engine.cache_clear()
    yield
    base.get_engine.cache_clear()


def test_generated_background_gets_visible_and_metadata_labels(plugin, tmp_path, write_brief):
    p = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: genstub\n  seed: 7"))
    res = make_posters(p, tmp_path)
    assert not res.failures and res.creatives
    for c in res.creatives:
        d = c.data
        assert d["engines"]["visual"] == {"name": "genstub", "model": "stub/model", "seed": 7}
        assert d["texts"]["ai_label"] == "AI生成"
        label = next(b for b in d["blocks"] if b["role"] == "ai_label")
        assert label["contrast"] >= 4.5
        with Image.open(res.out_dir / d["path"]) as im:
            desc = im.getexif().get(0x010E)
        meta = json.loads(desc)
        assert meta["aigc"] is True and meta["content_id"] == d["id"]


def test_procedural_backgrounds_have_no_visible_ai_label(tmp_path, write_brief):
    res = make_posters(write_brief(), tmp_path)
    for c in res.creatives:
        assert "ai_label" not in c.data["texts"]
        with Image.open(res.out_dir / c.data["path"]) as im:
            assert json.loads(im.getexif().get(0x010E))["aigc"] is False


def test_procedural_is_deterministic_and_seed_sensitive():
    from mktcli.brand import load_brand
    from mktcli.visual.procedural import ProceduralEngine

    pal = load_brand("default").palette_for("loan")
    req = base.VisualRequest(400, 300, pal, "loan", "fields", 7, (200, 0, 400, 240))
    a, b = ProceduralEngine().render(req).image, ProceduralEngine().render(req).image
    assert a.tobytes() == b.tobytes()
    c = ProceduralEngine().render(base.VisualRequest(400, 300, pal, "loan", "fields", 8, (200, 0, 400, 240))).image
    assert c.tobytes() != a.tobytes()
    # the text side (left) stays calm: low local variance compared with the motif side
    import numpy as np

    g = np.asarray(a.convert("L"), np.float32)
    assert g[:, :150].std() < g[:, 220:].std()


@pytest.mark.parametrize("seed", range(8))
def test_procedural_coin_stacks_rise_from_left_to_right(seed):
    """A deposit's coins: three stacks, each taller than the one on its left (stacks falling to the right read as
    money running out)."""
    import numpy as np
    from PIL import Image, ImageDraw

    from mktcli.brand import load_brand
    from mktcli.visual.procedural import _coins

    layer = Image.new("RGBA", (600, 300), (0, 0, 0, 0))
    _coins(ImageDraw.Draw(layer), 600, 300, load_brand("default").palette_for("deposit"), np.random.default_rng(seed))
    alpha = np.asarray(layer.getchannel("A"))
    tops = []
    for x0, x1 in ((110, 220), (240, 350), (370, 480)):     # the three stacks' columns (centres at 28/50/72%)
        rows = np.nonzero(alpha[:, x0:x1].max(axis=1))[0]
        tops.append(int(rows.min()))
    assert tops[0] > tops[1] > tops[2], tops


def test_broken_plugin_fails_when_asked_for_not_before(monkeypatch):
    regs = {**base.available(), "broken": "no_such_module:Engine"}
    monkeypatch.setattr(base, "available", lambda: regs)
    base.get_engine.cache_clear()
    with pytest.raises(EngineError) as ei:
        base.get_engine("broken")
    assert "failed to load" in ei.value.message
    assert base.get_engine("procedural").name == "procedural"
    base.get_engine.cache_clear()
