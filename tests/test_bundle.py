"""Placement-ready bundles: byte-limit fitting, sRGB and metadata, layered PSD/SVG, placement.json, and a killed
run that leaves no manifest and finishes on the next run."""
from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mktcli import load_brief, make_posters
from mktcli.errors import LayoutError
from mktcli.export.encode import Q_BEST, encode, srgb_icc

from .conftest import GOOD

SVG = "{http://www.w3.org/2000/svg}"


def _busy(w: int, h: int, seed: int = 1) -> Image.Image:
    """Hard to compress: noise over a gradient (what a detailed photo does to JPEG sizes)."""
    rng = np.random.default_rng(seed)
    grad = np.linspace(0, 255, w)[None, :, None].repeat(h, 0).repeat(3, 2)
    return Image.fromarray(np.clip(grad + rng.normal(0, 40, (h, w, 3)), 0, 255).astype("uint8"))


# ---- encoder ---------------------------------------------------------------------------------------------------
def test_limit_is_met_at_the_highest_quality_that_fits():
    img = _busy(400, 300)
    free, info = encode(img, ["jpeg"], None, {"Description": "x"})
    assert info["quality"] == Q_BEST
    limit = len(free) // 2
    data, info = encode(img, ["jpeg"], limit, {"Description": "x"})
    assert len(data) <= limit and info["quality"] < Q_BEST and info["tries"] <= 8
    # one step better would not fit: the search found the best, not just something that fits
    from mktcli.export.encode import _exif, _jpeg

    assert len(_jpeg(img, info["quality"] + 1, True, _exif({"Description": "x"}))) > limit
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (400, 300) and im.mode == "RGB"
        assert im.info["icc_profile"] == srgb_icc()
        assert im.getexif()[0x010E] == "x"


def test_format_order_and_fallback():
    img = _busy(200, 200)
    png, info = encode(img, ["png", "jpeg"], None)
    assert info["format"] == "png" and png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as im:
        assert im.info["icc_profile"] == srgb_icc()
    # PNG cannot fit 20 KB of noise: the next allowed format is searched instead
    data, info = encode(img, ["png", "jpeg"], 20_000)
    assert info["format"] == "jpeg" and len(data) <= 20_000
    data, info = encode(img, ["webp"], 16_000, {"Description": "w"})
    assert info["format"] == "webp" and len(data) <= 16_000 and data[8:12] == b"WEBP"


def test_a_creative_that_cannot_fit_says_why():
    with pytest.raises(LayoutError) as e:
        encode(_busy(600, 600), ["png", "jpeg"], 3_000)
    msg = e.value.message
    assert "3,000 bytes" in msg and "png is" in msg and "jpeg is" in msg and "quality 40" in msg
    assert "max_bytes" in e.value.hint


def test_wrong_pixel_size_is_refused():
    with pytest.raises(LayoutError):
        encode(_busy(100, 100), ["jpeg"], None, size=(100, 101))


def test_icc_bytes_are_stable():
    assert srgb_icc() == srgb_icc() and len(srgb_icc()) > 300 and srgb_icc()[36:40] == b"acsp"


# ---- a bundle --------------------------------------------------------------------------------------------------
TIGHT = """channels:
  tight_tile: {width: 800, height: 450, max_bytes: 60000, checked: 2026-11-26}
  hopeless: {width: 800, height: 800, max_bytes: 2000, formats: [png, jpeg], checked: 2026-11-26}
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    d = tmp_path_factory.mktemp("bundle")
    brief = d / "brief.yaml"
    brief.write_text(GOOD.replace("channels: [app_banner, moments_16x9]",
                                  "channels: [app_banner, splash_1080x1920, tight_tile, hopeless, sms, push]")
                     .replace("visual:\n  seed: 7", "visual:\n  seed: 7\nplacement:\n"
                              "  landing_url: https://m.example-bank.cn/loan?from=ad\n"
                              "  start: 2026-12-01\n  end: 2026-12-31\n"
                              "  landing: {种植户: 'https://m.example-bank.cn/farm'}"), encoding="utf-8")
    chans = d / "chans.yaml"
    chans.write_text(TIGHT, encoding="utf-8")
    res = make_posters(brief, d / "out", channel_files=[chans], register=False)
    return res, json.loads(res.manifest_path.read_text(encoding="utf-8")), load_brief(brief, channel_files=[chans])


def test_every_listed_file_exists_with_its_sha_and_size(bundle):
    res, man, _ = bundle
    assert {f["path"] for f in man["files"]} >= {"placement.json", "approval.html", "approval.md"}
    for f in man["files"]:
        data = (res.out_dir / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"], f["path"]
    for c in man["creatives"]:
        assert c["path"] in {f["path"] for f in man["files"]}


def test_images_are_within_their_channel_limits(bundle):
    res, man, brief = bundle
    images = [c for c in man["creatives"] if c["format"] != "text"]
    assert {c["channel"] for c in images} == {"app_banner", "splash_1080x1920", "tight_tile"}
    for c in images:
        ch = brief.channel(c["channel"])
        with Image.open(res.out_dir / c["path"]) as im:
            assert im.size == (ch.width, ch.height)
            assert im.info["icc_profile"] == srgb_icc()
            label = json.loads(im.getexif()[0x010E])
            assert label["content_id"] == c["id"]
        if ch.max_bytes:
            assert c["bytes"] <= ch.max_bytes
    tight = next(c for c in images if c["channel"] == "tight_tile")
    assert tight["encoder"]["quality"] < Q_BEST and tight["encoder"]["limit"] == 60000


def test_a_channel_that_cannot_fit_is_a_failure_with_the_reason(bundle):
    res, man, _ = bundle
    fails = [f for f in man["failures"] if f["channel"] == "hopeless"]
    assert len(fails) == 2 and all("2,000 bytes" in f["error"] for f in fails)
    assert not (res.out_dir / "养殖户" / "hopeless.jpg").exists()


def test_psd_has_the_listed_layers_with_the_right_text(bundle):
    from psd_tools import PSDImage

    res, man, _ = bundle
    for c in [c for c in man["creatives"] if c["format"] != "text"]:
        layers = c["layers"]
        psd = PSDImage.open(res.out_dir / layers["psd"]["path"])
        assert psd.size == (c["width"], c["height"])
        names = [lay.name for lay in psd]
        assert names == [x["name"] for x in layers["list"]]
        assert names[0] == "background"
        text_layers = {x["text"]: x for x in layers["list"] if x["kind"] == "text"}
        for role in ("headline", "apr", "disclaimer", "provider", "cta"):
            if role in c["texts"]:
                assert c["texts"][role] in text_layers, role
        for lay in psd:
            if lay.name in text_layers:   # each text layer holds its glyphs: transparent around them
                alpha = np.asarray(lay.topil())[..., 3]
                assert alpha.max() == 255 and alpha.min() == 0
                assert list(lay.bbox) == text_layers[lay.name]["box"]


def test_layers_stack_back_into_the_poster(bundle):
    """Background + every layer, composited in order, is the flat poster (the PSD is not a lie)."""
    from psd_tools import PSDImage

    res, man, _ = bundle
    c = next(c for c in man["creatives"] if c["channel"] == "splash_1080x1920")
    psd = PSDImage.open(res.out_dir / c["layers"]["psd"]["path"])
    W, H = psd.size
    out = Image.new("RGBA", (W, H))
    for lay in psd:
        out.alpha_composite(lay.topil().convert("RGBA"), (lay.left, lay.top))
    with Image.open(res.out_dir / c["path"]) as im:
        flat = np.asarray(im.convert("RGB")).astype(int)
    diff = np.abs(np.asarray(out.convert("RGB")).astype(int) - flat)
    assert diff.mean() < 2.0          # JPEG noise only
    # and the background layer has no text on it: where the headline is, it differs from the poster
    bg = np.asarray(next(iter(psd)).topil().convert("RGB")).astype(int)
    hb = next(b for b in c["blocks"] if b["role"] == "headline")["box"]
    x0, y0, x1, y1 = (int(v) for v in hb)
    assert np.abs(bg[y0:y1, x0:x1] - flat[y0:y1, x0:x1]).mean() > 20


def test_svg_parses_and_holds_the_exact_strings_with_fonts(bundle):
    res, man, _ = bundle
    for c in [c for c in man["creatives"] if c["format"] != "text"]:
        root = ET.parse(res.out_dir / c["layers"]["svg"]["path"]).getroot()
        assert root.get("width") == str(c["width"]) and root.get("height") == str(c["height"])
        strings = {"".join(t.itertext()) for t in root.iter(SVG + "text")}
        for role, text in c["texts"].items():
            if role not in ("logo", "brand"):
                assert text in strings, (role, text)
        fams = {s.get("font-family") for s in root.iter(SVG + "tspan")}
        assert any("Noto Sans CJK SC" in f for f in fams) and all(s.get("font-size") for s in root.iter(SVG + "tspan"))
        images = list(root.iter(SVG + "image"))
        assert images and all(i.get("{http://www.w3.org/1999/xlink}href").startswith("data:image/") for i in images)


def test_placement_json(bundle):
    res, man, brief = bundle
    pl = json.loads((res.out_dir / "placement.json").read_text(encoding="utf-8"))
    assert pl["version"] == 1 and pl["campaign"] == "test-loan"
    assert pl["schedule"] == {"start": "2026-12-01", "end": "2026-12-31", "timezone": "Asia/Shanghai"}
    assert set(pl["channels"]) == {"app_banner", "splash_1080x1920", "tight_tile", "sms", "push"}
    assert pl["channels"]["sms"]["send_window"] == "08:00-20:00"
    assert pl["channels"]["app_banner"]["send_window"] is None
    by_id = {c["id"]: c for c in man["creatives"]}
    for name, slot in pl["channels"].items():
        for e in slot["creatives"]:
            c = by_id[e["id"]]
            assert e["path"] == c["path"] and e["sha256"] == c["sha256"] and e["targeting"]["segment"] == c["segment"]
            assert f"utm_content={e['id']}" in e["landing_url"] and f"utm_source={name}" in e["landing_url"]
            if c["segment"] == "种植户":
                assert e["landing_url"].startswith("https://m.example-bank.cn/farm?")
            else:
                assert e["landing_url"].startswith("https://m.example-bank.cn/loan?from=ad&")
            if c["format"] == "text":
                assert e["copy"] == c["texts"]
            else:
                assert e["copy"]["apr"] == "年化利率3.2%起" and (e["width"], e["height"]) == (c["width"], c["height"])
        assert set(slot["blocked"]) <= set(man["approval"]["blocked"])
    listed = {e["id"] for s in pl["channels"].values() for e in s["creatives"]}
    assert listed == set(man["approval"]["ready"])


def test_blocked_creatives_stay_out_of_placement(tmp_path, write_brief):
    p = write_brief(GOOD.replace("headline: 补栏周转 不误农时", "headline: 全网最低 秒批到账")
                    .replace("segments: [养殖户, 种植户]", "segments: [养殖户]")
                    .replace("[app_banner, moments_16x9]", "[moments_16x9]"))
    res = make_posters(p, tmp_path / "o", register=False)
    pl = json.loads((res.out_dir / "placement.json").read_text(encoding="utf-8"))
    slot = pl["channels"]["moments_16x9"]
    assert slot["creatives"] == [] and slot["blocked"] == [res.creatives[0].data["id"]]


@pytest.mark.parametrize("yaml_bit,key", [
    ("placement:\n  landing_url: m.example.cn/loan\n", "placement.landing_url"),
    ("placement:\n  send_window: '20:00-08:00'\n", "placement.send_window"),
    ("placement:\n  start: 2026-12-31\n  end: 2026-12-01\n", "placement.end"),
    ("placement:\n  start: 2026-13-01\n", "placement.start"),       # not a calendar date: no crash
    ("placement:\n  end: tomorrow\n", "placement.end"),
    ("placement:\n  timezone: Mars/Olympus\n", "placement.timezone"),
    ("placement:\n  landing:\n    养殖户: https://m.example.cn/a\n    种植户: m.example.cn/b\n", "placement.landing.种植户"),
    ("placement:\n  landing: {种值户: 'https://m.example.cn/x'}\n", "placement.landing.种值户"),
])
def test_bad_placement_section_is_a_located_error(write_brief, yaml_bit, key):
    from mktcli.errors import BriefError

    p = write_brief(GOOD + yaml_bit)
    with pytest.raises(BriefError) as e:
        load_brief(p)
    assert e.value.key == key and e.value.line and e.value.hint


def test_no_layers_option(tmp_path, write_brief):
    p = write_brief(GOOD.replace("segments: [养殖户, 种植户]", "segments: [养殖户]"))
    res = make_posters(p, tmp_path / "o", layered=False, register=False)
    assert all("layers" not in c.data for c in res.creatives)
    assert not list(res.out_dir.rglob("*.psd")) and not list(res.out_dir.rglob("*.svg"))


def _children(pid: int) -> list[int]:
    """The live processes whose parent is `pid` (Linux /proc; [] elsewhere)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


# ---- killed mid-way --------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])   # one thread; two forked render workers
def test_killed_run_leaves_no_manifest_and_the_next_run_finishes(tmp_path, write_brief, jobs):
    p = write_brief(GOOD.replace("segments: [养殖户, 种植户]", "segments: [养殖户, 种植户, 渔民, 个体户]")
                    .replace("[app_banner, moments_16x9]",
                             "[splash_1080x1920, oceanengine_v, kuaishou_v, app_banner, moments_16x9, sms]"))
    out = tmp_path / "o"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "mktcli", "poster", str(p), "-o", str(out), "-j", jobs, "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bundle_dir = out / "test-loan"
    deadline = time.time() + 120
    while time.time() < deadline and not list(bundle_dir.rglob("*.psd")):
        time.sleep(0.05)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # the workers leave with the run they worked for (and hold no bundle lock meanwhile: the re-run below would wait)
    gone = time.time() + 10
    while time.time() < gone and any(Path(f"/proc/{w}").exists() for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if Path(f"/proc/{w}").exists()], "render workers outlived their run"
    written = list(bundle_dir.rglob("*.jpg"))
    assert written, "the run was killed before it wrote anything"
    assert not (bundle_dir / "manifest.json").exists()        # incomplete, and recognisably so
    r = subprocess.run([sys.executable, "-m", "mktcli", "check", str(bundle_dir), "--json"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 2 and "incomplete" in r.stdout + r.stderr
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    man = json.loads((bundle_dir / "manifest.json").read_text(encoding="utf-8"))
    assert len([c for c in man["creatives"] if c["format"] != "text"]) == 4 * 5
    for f in man["files"]:
        data = (bundle_dir / f["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
    assert not [q for q in bundle_dir.rglob(".*.tmp")]        # no half-written temp files left behind


def test_an_edited_manifest_is_refused_by_export_and_register(bundle, tmp_path, capsys):
    import shutil

    from mktcli.cli.app import run

    res, man, _ = bundle
    copy = tmp_path / "b"
    shutil.copytree(res.out_dir, copy)
    assert run(["export", str(copy), "--zip", "-o", str(tmp_path / "ok.zip")]) == 0   # an intact copy exports
    doc = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    doc["creatives"][0]["texts"]["headline"] = "全网最低 稳赚不赔"
    (copy / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    capsys.readouterr()
    assert run(["export", str(copy), "--zip", "-o", str(tmp_path / "bad.zip")]) == 2
    assert "edited" in capsys.readouterr().err and not (tmp_path / "bad.zip").exists()
    assert run(["register", str(copy)]) == 2
    assert "edited" in capsys.readouterr().err


def test_svg_embeds_its_fonts_subset_to_what_it_shows(bundle):
    """The SVG renders the same on a machine without the bundled fonts: each family it names is embedded (WOFF,
    subset) and covers every character drawn in it."""
    import base64
    import re

    from fontTools.ttLib import TTFont

    res, man, _ = bundle
    c = next(c for c in man["creatives"] if c["channel"] == "splash_1080x1920")
    root = ET.parse(res.out_dir / c["layers"]["svg"]["path"]).getroot()
    css = "".join(s.text or "" for s in root.iter(SVG + "style"))
    faces = re.findall(r"font-family: '([^']+)'; font-weight: (\d+); src: url\(data:font/woff;base64,([^)]+)\)", css)
    assert faces
    covered: dict[tuple[str, str], set[int]] = {}
    for fam, weight, b64 in faces:
        raw = base64.b64decode(b64)
        assert raw[:4] == b"wOFF"
        font = TTFont(io.BytesIO(raw))
        covered[(fam, weight)] = set(font.getBestCmap())
    for span in root.iter(SVG + "tspan"):
        fam = span.get("font-family").split(",")[0].strip("'")
        cmap = covered[(fam, span.get("font-weight"))]
        assert all(ord(ch) in cmap for ch in (span.text or "").strip()), span.text


def test_embedded_font_subsets_are_deterministic():
    """Same characters → same WOFF bytes, whenever they are cut (no clock in the font's head table)."""
    import time as _time

    from mktcli.export.layered import _font_subset

    chars = frozenset("年化利率3.2%起补栏周转")
    first = _font_subset.__wrapped__("sans", chars)
    _time.sleep(1.1)
    assert _font_subset.__wrapped__("sans", chars) == first


def test_no_layers_removes_the_layered_files_of_an_earlier_run(tmp_path):
    from mktcli.poster import make_posters
    from tests.conftest import GOOD

    brief = tmp_path / "b.yaml"
    brief.write_text(GOOD, encoding="utf-8")
    res = make_posters(brief, tmp_path / "out", register=False, segments=["养殖户"], channels=["app_banner"])
    stem = (res.out_dir / res.creatives[0].path).with_suffix("")
    assert stem.with_suffix(".psd").is_file() and stem.with_suffix(".svg").is_file()
    make_posters(brief, tmp_path / "out", register=False, segments=["养殖户"], channels=["app_banner"], layered=False)
    assert not stem.with_suffix(".psd").exists() and not stem.with_suffix(".svg").exists()
