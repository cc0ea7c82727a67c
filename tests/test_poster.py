"""End-to-end poster rendering: files, manifest contract, geometry, legibility, determinism, failures."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from mktcli import load_brief, make_posters
from mktcli.compose.color import hex_rgb
from mktcli.errors import BriefError, FontError, LayoutError

from .conftest import EXAMPLES, GOOD

LARGE_FACTOR = 2.2  # mirrors the WCAG large-text rule the composer applies


def _render(brief_path, out, **kw):
    return make_posters(brief_path, out, **kw)


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    out = tmp_path_factory.mktemp("farm")
    res = _render(EXAMPLES / "farm-loan.yaml", out)
    return res, json.loads(res.manifest_path.read_text(encoding="utf-8"))


def images(man):
    return [c for c in man["creatives"] if c["format"] != "text"]


def test_farm_bundle_files_and_manifest(farm):
    res, man = farm
    brief = load_brief(EXAMPLES / "farm-loan.yaml")
    assert man["version"] == 1 and man["brief"]["name"] == "farm-loan-spring"
    assert man["brief"]["sha256"] == hashlib.sha256((EXAMPLES / "farm-loan.yaml").read_bytes()).hexdigest()
    image_channels = [c for c in brief.channels if brief.channel(c).is_image]
    assert len(images(man)) == 4 * len(image_channels) == 16
    assert not res.failures
    ids = set()
    for c in images(man):
        for key in ("id", "segment", "channel", "width", "height", "path", "format", "bytes", "sha256", "texts",
                    "engines"):
            assert key in c, key
        p = res.out_dir / c["path"]
        data = p.read_bytes()
        assert hashlib.sha256(data).hexdigest() == c["sha256"] and len(data) == c["bytes"]
        ch = brief.channel(c["channel"])
        with Image.open(p) as im:
            assert im.size == (ch.width, ch.height) == (c["width"], c["height"])
        if ch.max_bytes:
            assert c["bytes"] <= ch.max_bytes
        assert c["texts"]["apr"] == "年化利率3.2%起"
        assert c["texts"]["disclaimer"] == "贷款额度、利率以实际审批结果为准"
        assert c["texts"]["provider"] == "本产品由示例农村商业银行股份有限公司提供"
        assert c["engines"]["visual"]["name"] == "illustration" and c["engines"]["visual"]["seed"] == 7
        assert not Path(c["path"]).is_absolute() and ".." not in Path(c["path"]).parts
        ids.add(c["id"])
    assert len(ids) == 16
    listed = {f["path"] for f in man["files"]}
    layered = {c["layers"][k]["path"] for c in images(man) for k in ("psd", "svg")}
    assert listed == {c["path"] for c in man["creatives"]} | layered | {"placement.json", "approval.html",
                                                                          "approval.md"}
    for f in man["files"]:   # every listed file is there with its sha256 and size
        data = (res.out_dir / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"], f["path"]
    # segment overrides reached the pixels' text record
    heads = {c["segment"]: c["texts"]["headline"] for c in images(man)}
    assert heads["种植户·有优惠"] == "春耕备耕 资金无忧" and heads["养殖户·无优惠"] == "补栏周转 不误农时"


def test_blocks_inside_canvas_no_overlap_and_legible(farm):
    res, man = farm
    brief = load_brief(EXAMPLES / "farm-loan.yaml")
    groups = {"apr": "rate", "apr_label": "rate", "logo": "logo", "brand": "logo"}
    for c in images(man):
        W, H = c["width"], c["height"]
        min_px = brief.channel(c["channel"]).legible_px()
        blocks = c["blocks"]
        for b in blocks:
            x0, y0, x1, y1 = b["box"]
            assert -0.5 <= x0 < x1 <= W + 0.5 and -0.5 <= y0 < y1 <= H + 0.5, (c["channel"], b)
            if b["role"] != "logo":
                assert b["size"] >= min_px - 0.01, (c["channel"], b["role"], b["size"], min_px)
            if b.get("contrast") is not None:
                need = 3.0 if b["size"] >= LARGE_FACTOR * min_px and b["size"] >= 18 else 4.5
                assert b["contrast"] >= need, (c["channel"], b)
        for i, a in enumerate(blocks):
            for b in blocks[i + 1:]:
                if groups.get(a["role"], id(a)) == groups.get(b["role"], id(b)):
                    continue
                ax0, ay0, ax1, ay1 = a["box"]
                bx0, by0, bx1, by1 = b["box"]
                overlap = ax0 < bx1 - 0.5 and bx0 < ax1 - 0.5 and ay0 < by1 - 0.5 and by0 < ay1 - 0.5
                assert not overlap, (c["channel"], a["role"], b["role"])


def test_same_brief_and_seed_give_same_bytes(tmp_path):
    a = _render(EXAMPLES / "deposit.yaml", tmp_path / "a")
    b = _render(EXAMPLES / "deposit.yaml", tmp_path / "b")
    assert [c.data["sha256"] for c in a.creatives] == [c.data["sha256"] for c in b.creatives]
    c = _render(EXAMPLES / "deposit.yaml", tmp_path / "c", seed=99)
    assert [x.data["sha256"] for x in c.creatives] != [x.data["sha256"] for x in a.creatives]


def test_filters_by_segment_and_channel(tmp_path):
    res = _render(EXAMPLES / "farm-loan.yaml", tmp_path, segments=["种植户·无优惠"], channels=["app_banner"])
    assert [(c.data["segment"], c.data["channel"]) for c in res.creatives] == [("种植户·无优惠", "app_banner")]


def test_light_brand_stays_legible(tmp_path, write_brief):
    (tmp_path / "light.yaml").write_text("""version: 1
name: light
palette: {primary: "#F6F1E7", primary_dark: "#E9E0CF", accent: "#C8102E", accent_text: "#FFFFFF",
          light: "#FFFFFF", dark: "#222222", band: "#EFE8DA"}
""", encoding="utf-8")
    p = write_brief(GOOD.replace("version: 1\n", "version: 1\nbrand: light.yaml\n"))
    res = _render(p, tmp_path / "out")
    assert not res.failures
    for c in res.creatives:
        for b in c.data["blocks"]:
            if b.get("contrast") is not None:
                assert b["contrast"] >= 3.0, (c.data["channel"], b)
        # the headline on a light background must have been set dark, not white
        head = next(b for b in c.data["blocks"] if b["role"] == "headline")
        assert sum(hex_rgb(head["color"])) < 200


def test_fallback_font_for_missing_glyph(tmp_path, write_brief):
    # ★ is not in the display face (Smiley Sans): it must come from the next font in the stack, not a tofu box
    p = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 补栏周转★不误农时"))
    res = _render(p, tmp_path)
    head = next(b for b in res.creatives[0].data["blocks"] if b["role"] == "headline")
    assert head["text"] == "补栏周转★不误农时"
    from mktcli.compose.fonts import FontStack

    runs = FontStack(head["fonts"]).runs(head["text"])
    assert [f for f, s, _ in runs if "★" in s] == ["sans-bold"]


def test_character_in_no_font_is_a_clear_error(tmp_path, write_brief):
    with pytest.raises(BriefError) as ei:  # caught at load time, with the line
        _render(write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 补栏周转𠀀")), tmp_path)
    assert ei.value.key == "message.headline" and "U+20000" in ei.value.message


def test_brand_stack_without_the_glyph_fails_that_creative(tmp_path, write_brief):
    # a brand that allows only the display face for headlines: ※ is not in it, and there is no fallback
    (tmp_path / "strict.yaml").write_text("version: 1\nname: strict\nfonts: {display: [display]}\n",
                                          encoding="utf-8")
    p = write_brief(GOOD.replace("version: 1\n", "version: 1\nbrand: strict.yaml\n")
                    .replace("headline: 补栏周转 不误农时", "headline: 补栏周转※不误农时"))
    res = _render(p, tmp_path / "out")
    assert res.failures and not res.creatives
    err = res.failures[0].error
    assert isinstance(err, FontError) and "U+203B" in err.message


def test_text_that_cannot_fit_fails_that_creative_only(tmp_path, write_brief):
    # a 38-character brand name: no layout family can set it at 30 px on the 1242×290 card (1142 px of safe width)
    # — the brand is never dropped there, so it is a located error; the 800×450 feed (16 px) holds it
    (tmp_path / "long.yaml").write_text("version: 1\nname: long\nshort_name: 示例农村商业银行示例农村商业银行示例农村商业银行示例农村商业银行示例农村商业银行示例\n",
                                        encoding="utf-8")
    p = write_brief(GOOD.replace("version: 1\n", "version: 1\nbrand: long.yaml\n"))
    res = _render(p, tmp_path / "out")
    failed = {(f.segment, f.channel) for f in res.failures}
    assert failed == {("养殖户", "app_banner"), ("种植户", "app_banner")}
    assert {c.data["channel"] for c in res.creatives} == {"moments_16x9"}
    man = json.loads(res.manifest_path.read_text(encoding="utf-8"))
    assert man["failures"] and "brand name" in man["failures"][0]["error"] and "1242×290" in man["failures"][0]["error"]
    assert "short_name" in man["failures"][0]["hint"]


def test_manifest_is_removed_while_rewriting(tmp_path, monkeypatch):
    res = _render(EXAMPLES / "deposit.yaml", tmp_path)
    assert res.manifest_path.exists()
    import mktcli.poster as poster

    def boom(self, job, layered=True):
        raise KeyboardInterrupt

    monkeypatch.setattr(poster.PosterRenderer, "render_layered", boom)
    with pytest.raises(KeyboardInterrupt):
        _render(EXAMPLES / "deposit.yaml", tmp_path)
    assert not res.manifest_path.exists()  # an interrupted bundle is recognisably incomplete
    monkeypatch.undo()
    again = _render(EXAMPLES / "deposit.yaml", tmp_path)
    assert again.manifest_path.exists() and len(again.creatives) == 5
    assert not list(tmp_path.rglob("*.tmp"))


def test_image_engine_keeps_the_subject(tmp_path, write_brief):
    # a dark photo with one bright, detailed subject in its upper-left quarter
    import numpy as np

    arr = np.full((900, 1600, 3), 40, np.uint8)
    rng = np.random.default_rng(0)
    arr[150:350, 200:450] = rng.integers(0, 255, (200, 250, 3), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "hero.jpg")
    p = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: image\n  image: hero.jpg\n  seed: 7"))
    res = _render(p, tmp_path / "out")
    assert not res.failures
    c = next(c for c in res.creatives if c.data["channel"] == "moments_16x9")
    info = c.data["engines"]["visual"]
    assert info["name"] == "image"
    fx, fy = info["focus"]
    assert 0.1 < fx < 0.3 and 0.15 < fy < 0.4
    # the subject is inside the crop and sits in the layout's visual zone (the right side of a landscape)
    x0, y0, x1, y1 = info["crop"]
    assert x0 <= 325 <= x1 and y0 <= 250 <= y1


def test_unsafe_names_never_leave_out(tmp_path):
    from mktcli.errors import PathEscapeError
    from mktcli.export.files import safe_join

    with pytest.raises(PathEscapeError):
        safe_join(tmp_path, "..", "evil")
    assert safe_join(tmp_path, "a", "b.jpg") == (tmp_path / "a" / "b.jpg").resolve()


def test_thumbnail_keeps_rate_and_legal_text_when_space_runs_out(tmp_path, write_brief):
    text = (GOOD.replace('apr: "3.2%"', 'apr: "18.25%-23.99%"\n  apr_note: 单利')
            .replace("headline: 补栏周转 不误农时", "headline: 经营周转不用愁，线上申请最快当天放款到账")
            .replace("disclaimer: 贷款额度、利率以实际审批结果为准",
                     "disclaimer: 贷款额度、利率以实际审批结果为准，请理性借贷，按时还款，具体以合同约定为准。年化利率采用单利计算。")
            .replace("[app_banner, moments_16x9]", "[kuaishou_small, dsp_320x100]"))
    res = _render(write_brief(text), tmp_path)
    assert not res.failures
    for c in res.creatives:
        roles = {b["role"] for b in c.data["blocks"]}
        assert {"apr", "disclaimer", "provider"} <= roles, (c.data["channel"], roles)
        assert c.data["texts"]["apr"] == "年化利率(单利)18.25%-23.99%"
        assert "headline" in c.data["dropped"]


def test_long_headline_on_a_real_poster_is_set_legibly_or_is_an_error_never_dropped(tmp_path, write_brief):
    # 26 characters: the 800×450 feed and the 1242×290 card both hold it on two lines at or above the channel's
    # legible minimum (a family with a two-line headline column); it is never dropped on a real poster
    text = GOOD.replace("headline: 补栏周转 不误农时", "headline: " + "补栏周转不误农时" * 3 + "春耕")
    res = _render(write_brief(text), tmp_path)
    assert not res.failures
    for c in res.creatives:
        assert "headline" not in c.data["dropped"] and c.data["texts"]["headline"] == "补栏周转不误农时" * 3 + "春耕"
        min_px = 30 if c.data["channel"] == "app_banner" else 16
        head = next(b for b in c.data["blocks"] if b["role"] == "headline")
        assert head["size"] >= min_px
    # 80 characters cannot be set at 30 px in two lines in any family of the card: a located error, not a tiny one
    text = GOOD.replace("headline: 补栏周转 不误农时", "headline: " + "补栏周转不误农时" * 3 + "春耕")
    brief = load_brief(write_brief(text))
    from mktcli.compose.render import Content, plan
    from mktcli.compose.fonts import FontStack

    stacks = {r: FontStack(["sans-bold", "sans"]) for r in ("display", "hero", "body", "emphasis", "small")}
    long = Content("示例农村商业银行", "补栏周转不误农时" * 10, "立即申请", "贷款额度、利率以实际审批结果为准",
                   "本产品由示例农村商业银行股份有限公司提供", None)
    ch = brief.channel("app_banner")
    with pytest.raises(LayoutError) as e:
        plan(ch.width, ch.height, long, stacks, safe=ch.safe, min_px=ch.legible_px())
    assert "headline" in e.value.message and "1242×290" in e.value.message and e.value.hint


def test_checks_recorded_per_creative(farm):
    _, man = farm
    for c in images(man):
        rules = {k["rule"]: k for k in c["checks"]}
        assert {"FIN-APR", "FIN-DISCLAIMER", "FIN-PROVIDER", "TYPO-SIZE", "AD-SMALLPRINT", "TYPO-CONTRAST"} <= set(rules)
        assert all(k["passed"] for k in c["checks"]), [k for k in c["checks"] if not k["passed"]]
        assert "AIGC-LABEL" not in rules  # procedural background: not generated


def test_placement_checks_fail_when_they_should():
    from mktcli.channels import SafeZone
    from mktcli.checks.image import poster_checks
    from mktcli.checks.rules import Facts, load_rules

    disclaimer = "贷款额度、利率以实际审批结果为准"
    blocks = [{"role": "disclaimer", "text": disclaimer, "box": [20, 900, 400, 910], "size": 8, "contrast": 2.1},
              {"role": "headline", "text": "补栏周转 不误农时", "box": [20, 40, 600, 100], "size": 60, "contrast": 3.2}]
    res = {c["rule"]: c for c in poster_checks(load_rules(), blocks, min_px=10, canvas=(1000, 1000), safe=SafeZone(),
                                               category="loan", channel="x", facts=Facts(provider="示例银行"),
                                               has_rate=True, disclaimer=disclaimer, generative=True,
                                               label_visible=True)}
    assert not res["FIN-APR"]["passed"] and not res["FIN-PROVIDER"]["passed"] and res["FIN-DISCLAIMER"]["passed"]
    assert not res["TYPO-SIZE"]["passed"] and "disclaimer 8 px" in res["TYPO-SIZE"]["message"]
    assert not res["AD-SMALLPRINT"]["passed"]
    assert "headline" not in res["TYPO-CONTRAST"]["message"]  # 3.2:1 is enough for large text
    assert not res["AIGC-LABEL"]["passed"]


@pytest.mark.parametrize("brand", ["default", "light.yaml"])
def test_busy_photo_text_stays_legible(tmp_path, write_brief, brand):
    """A bright, busy photo (the hard case for overlays): every check passes, on dark and light brands."""
    import numpy as np
    from PIL import ImageDraw

    rng = np.random.default_rng(3)
    img = Image.fromarray(np.clip(rng.normal(210, 45, (900, 1600, 3)), 0, 255).astype(np.uint8))
    d = ImageDraw.Draw(img)
    for _ in range(80):
        x, y, r = int(rng.integers(0, 1600)), int(rng.integers(0, 900)), int(rng.integers(10, 90))
        d.ellipse([x - r, y - r, x + r, y + r], fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    img.save(tmp_path / "busy.jpg")
    (tmp_path / "light.yaml").write_text("""version: 1
name: light
palette: {primary: "#F6F1E7", primary_dark: "#E9E0CF", accent: "#C8102E", accent_text: "#FFFFFF",
          light: "#FFFFFF", dark: "#222222", band: "#EFE8DA"}
""", encoding="utf-8")
    p = write_brief(GOOD.replace("version: 1\n", f"version: 1\nbrand: {brand}\n")
                    .replace("visual:\n  seed: 7", "visual:\n  image: busy.jpg\n  seed: 7")
                    .replace("[app_banner, moments_16x9]", "[app_banner, moments_16x9, splash_1080x1920, dsp_300x250]"))
    res = _render(p, tmp_path / "out")
    assert not res.failures
    for c in res.creatives:
        failed = [k for k in c.data["checks"] if not k["passed"]]
        assert not failed, (c.data["channel"], failed)


def test_every_image_channel_preset_renders_cleanly(tmp_path, write_brief):
    from mktcli import load_channels

    names = [n for n, c in load_channels().items() if c.kind == "image" and not c.refuse]   # videos: test_motion
    p = write_brief(GOOD.replace("segments: [养殖户, 种植户]", "segments: [养殖户]")
                    .replace("[app_banner, moments_16x9]", "[" + ", ".join(names) + "]"))
    res = _render(p, tmp_path)
    assert not res.failures, [(f.channel, str(f.error)) for f in res.failures]
    assert len(res.creatives) == len(names) >= 19
    for c in res.creatives:
        assert all(k["passed"] for k in c.data["checks"]), (c.data["channel"], c.data["checks"])
        assert "headline" not in c.data["dropped"] or min(c.data["width"], c.data["height"]) < 200


def test_refused_channel_is_a_brief_error(write_brief):
    from mktcli import load_brief

    with pytest.raises(BriefError) as ei:
        load_brief(write_brief(GOOD.replace("[app_banner, moments_16x9]", "[dsp_320x50]")))
    assert ei.value.key == "channels[0]" and "320×50" in ei.value.message


def test_brand_logo_png_is_placed(tmp_path, write_brief):
    logo = Image.new("RGBA", (240, 80), (0, 0, 0, 0))
    from PIL import ImageDraw

    ImageDraw.Draw(logo).rounded_rectangle([0, 0, 239, 79], radius=16, fill=(200, 16, 46, 255))
    logo.save(tmp_path / "logo.png")
    (tmp_path / "mine.yaml").write_text("version: 1\nname: mine\nlogo: logo.png\n", encoding="utf-8")
    res = _render(write_brief(GOOD.replace("version: 1\n", "version: 1\nbrand: mine.yaml\n")), tmp_path / "o")
    for c in res.creatives:
        box = next(b for b in c.data["blocks"] if b["role"] == "logo")["box"]
        with Image.open(res.out_dir / c.data["path"]) as im:
            px = im.convert("RGB").getpixel((int((box[0] + box[2]) / 2), int((box[1] + box[3]) / 2)))
        assert px[0] > 150 and px[1] < 80, px  # the logo's red is on the poster where the record says


def test_missing_logo_file_names_the_brand_file(tmp_path, write_brief):
    (tmp_path / "mine.yaml").write_text("version: 1\nname: mine\nlogo: nope.png\n", encoding="utf-8")
    with pytest.raises(BriefError) as ei:
        _render(write_brief(GOOD.replace("version: 1\n", "version: 1\nbrand: mine.yaml\n")), tmp_path / "o")
    assert ei.value.file.endswith("mine.yaml") and ei.value.key == "logo" and ei.value.line == 3


def test_png_channel_and_byte_limit(tmp_path, write_brief):
    chan = tmp_path / "chans.yaml"
    chan.write_text("""channels:
  tile_png: {width: 600, height: 600, formats: [png], checked: 2026-11-24}
  tile_small: {width: 600, height: 600, max_bytes: 40000, checked: 2026-11-24}
""", encoding="utf-8")
    p = write_brief(GOOD.replace("[app_banner, moments_16x9]", "[tile_png, tile_small]")
                    .replace("segments: [养殖户, 种植户]", "segments: [养殖户]"))
    res = make_posters(p, tmp_path / "o", channel_files=[chan])
    by = {c.data["channel"]: c.data for c in res.creatives}
    assert by["tile_png"]["format"] == "png" and by["tile_png"]["path"].endswith(".png")
    with Image.open(res.out_dir / by["tile_png"]["path"]) as im:
        assert im.format == "PNG" and json.loads(im.info["Description"])["content_id"] == by["tile_png"]["id"]
    small = by["tile_small"]
    assert small["format"] == "jpeg" and small["bytes"] <= 40000 and small["encoder"]["quality"] < 90


def test_timings_say_where_the_time_went(tmp_path, monkeypatch, capsys):
    """--timings: every phase of the run with its seconds and calls (per-poster phases once per poster), in --json
    and as a table; without it (and without MKT_TIMINGS) nothing is added."""
    from mktcli.cli.app import run

    from .conftest import EXAMPLES

    monkeypatch.setenv("MKT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MKT_TIMINGS", raising=False)
    args = ["poster", str(EXAMPLES / "farm-loan.yaml"), "-o", str(tmp_path / "out"), "-s", "养殖户·有优惠",
            "-c", "app_banner", "-c", "dsp_300x250", "--engine", "procedural", "--json"]
    assert run([*args, "--timings"]) in (0, 1)
    spent = json.loads(capsys.readouterr().out)["timings"]
    rows = {r["phase"]: r for r in spent["phases"]}
    for name in ("brief", "copy", "layout", "visuals", "compose", "encode", "checks", "psd", "svg", "write files",
                 "approval", "manifest", "registry"):
        assert name in rows and rows[name]["seconds"] >= 0, name
    for name in ("layout", "visuals", "compose", "encode", "psd", "svg"):
        assert rows[name]["calls"] == 2, name
    assert spent["wall"] > 0 and rows["psd"]["seconds"] > 0
    assert [r["phase"] for r in spent["phases"]].index("brief") < [r["phase"] for r in spent["phases"]].index("psd")
    assert run(args) in (0, 1)
    assert "timings" not in json.loads(capsys.readouterr().out)
    monkeypatch.setenv("MKT_TIMINGS", "1")
    assert run(args[:-1]) in (0, 1)
    err = capsys.readouterr().err
    assert "where the time went" in err and "psd" in err


@pytest.mark.parametrize("engine", ["illustration", "procedural"])
def test_forked_workers_write_the_same_bytes_as_one_thread(tmp_path, monkeypatch, engine):
    """jobs=2 renders in forked worker processes (both cores); jobs=1 in this process: every file, byte for byte,
    the manifest included, and the creatives in the same order."""
    import mktcli.poster as P

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    here = []   # posters rendered in this process (a forked worker counts into its own copy of the list)
    real = P.render_poster
    monkeypatch.setattr(P, "render_poster", lambda *a, **k: (here.append(1), real(*a, **k))[1])
    kw = dict(segments=["养殖户·有优惠", "种植户·无优惠"], engine=engine, register=False)
    one = make_posters(EXAMPLES / "farm-loan.yaml", tmp_path / "one", jobs=1, **kw)
    assert len(here) == 8
    two = make_posters(EXAMPLES / "farm-loan.yaml", tmp_path / "two", jobs=2, **kw)
    assert len(here) == 8   # all eight of the second run were rendered by the forked workers
    files = sorted(p.relative_to(one.out_dir) for p in one.out_dir.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two.out_dir) for p in two.out_dir.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".psd"]) == 8
    for f in files:
        assert (one.out_dir / f).read_bytes() == (two.out_dir / f).read_bytes(), f
    assert [c.data["id"] for c in one.creatives] == [c.data["id"] for c in two.creatives]
    # the approval page the workers' thumbnails went into is the page re-made from the files (mkt register's check)
    from mktcli.export.bundle import verify_bundle

    verify_bundle(two.out_dir)


def test_a_gpu_engine_or_a_plugin_that_does_not_say_so_keeps_to_threads():
    from mktcli.poster import PosterRenderer, _can_fork
    from mktcli.visual.base import VisualEngine
    from mktcli.visual.diffusion import DiffusersEngine

    r = PosterRenderer.for_brief(load_brief(EXAMPLES / "farm-loan.yaml"), engine="procedural")

    class Plugin(VisualEngine):
        name = "plugin"

        def render(self, req):
            raise AssertionError

    for engine in (DiffusersEngine(), Plugin()):
        r.engine = engine
        assert not _can_fork(r)


def test_svg_font_subsets_are_kept_on_disk_and_a_damaged_one_is_cut_again(tmp_path, monkeypatch):
    from mktcli.export import layered

    monkeypatch.setenv("MKT_CACHE", str(tmp_path / "cache"))
    chars = frozenset("补栏周转 不误农时3.2%")
    layered._font_subset.cache_clear()
    first = layered._font_subset("sans", chars)
    kept = list((tmp_path / "cache" / "fonts").glob("sans-*.woff.b64"))
    assert len(kept) == 1 and kept[0].read_text(encoding="ascii") == first and first.startswith("d09GR")
    layered._font_subset.cache_clear()
    calls = []
    real = layered._cut_font
    monkeypatch.setattr(layered, "_cut_font", lambda *a: (calls.append(a), real(*a))[1])
    assert layered._font_subset("sans", chars) == first and not calls          # read back, not cut again
    kept[0].write_text("garbage", encoding="ascii")
    layered._font_subset.cache_clear()
    assert layered._font_subset("sans", chars) == first and len(calls) == 1    # a damaged file is remade
    layered._font_subset.cache_clear()
    assert layered._font_subset("sans", chars | {"起"}) != first               # other characters, another cut
