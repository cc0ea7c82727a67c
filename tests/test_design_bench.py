"""benchmarks/design.py: each design-hygiene figure on small synthetic pictures and manifests whose answer is known
(so each can fail), the PSD reading path on a PSD built here, and one end-to-end run over a rendered bundle."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from benchmarks import design as D

# ---- pictures ---------------------------------------------------------------------------------------------------


def flat(h=200, w=300, v=120):
    return np.full((h, w, 3), v, dtype=np.uint8)


def checker(h=200, w=300, cell=4):
    yy, xx = np.mgrid[0:h, 0:w]
    a = (((yy // cell) + (xx // cell)) % 2 * 255).astype(np.uint8)
    return np.repeat(a[:, :, None], 3, axis=2)


def half_checker(h=200, w=300):
    """Left half a checkerboard, right half flat grey."""
    im = flat(h, w)
    im[:, : w // 2] = checker(h, w // 2)
    return im


# ---- edge map ----------------------------------------------------------------------------------------------------


def test_edge_map_is_zero_on_flat_and_one_at_the_sharpest_edge():
    assert D.edge_map(flat()).max() == 0.0
    g = D.edge_map(checker())
    assert g.max() == pytest.approx(1.0)
    assert g.mean() > 0.3


def test_edge_map_does_not_blow_up_a_smooth_gradient():
    """RALF divides by the image's own maximum; the floor keeps an 8-bit gradient's steps from becoming 'edges'."""
    ramp = np.tile(np.linspace(90, 130, 300).astype(np.uint8), (200, 1))
    g = D.edge_map(np.repeat(ramp[:, :, None], 3, axis=2))
    assert g.mean() < 0.01


def test_edge_map_matches_opencv_sobel_form():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(0)
    im = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    gray = (im[..., 0] * 0.299 + im[..., 1] * 0.587 + im[..., 2] * 0.114).astype(np.float32) / 255
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    ref = np.sqrt((gx ** 2 + gy ** 2) / 2)
    ref = ref / max(ref.max(), D.NORM_FLOOR)
    assert np.allclose(D.edge_map(im), ref, atol=1e-5)


# ---- unreadability ------------------------------------------------------------------------------------------------


def test_unreadability_text_over_checkerboard_fails_over_flat_passes():
    g = D.edge_map(half_checker())
    over_checker = D.unreadability(g, [(20, 50, 120, 80)], [])
    over_flat = D.unreadability(g, [(180, 50, 280, 80)], [])
    assert over_checker > D.UNREAD_MAX
    assert over_flat == 0.0


def test_unreadability_leaves_out_what_a_plate_covers():
    g = D.edge_map(half_checker())
    assert D.unreadability(g, [(20, 50, 120, 80)], [(10, 40, 130, 90)]) == 0.0
    part = D.unreadability(g, [(100, 50, 200, 80)], [])          # half over the checkerboard, half flat
    assert 0.0 < part < D.unreadability(g, [(20, 50, 120, 80)], [])


# ---- crowding ring ----------------------------------------------------------------------------------------------


def test_ring_with_and_without_edges():
    im = flat(200, 300)
    calm = D.ring_energy(D.edge_map(im), (100, 80, 200, 120))
    im[60:140, 80:220] = checker(80, 140)           # a busy picture right around the element
    im[80:120, 100:200] = 120                       # under the element itself: hidden, calm
    busy = D.ring_energy(D.edge_map(im), (100, 80, 200, 120))
    assert calm == 0.0
    assert busy > D.CROWD_MAX


def test_ring_width_is_half_the_element_height():
    im = flat(200, 300)
    im[:55] = checker(55, 300)                      # a busy band over rows 0..55
    g = D.edge_map(im)
    # element rows 80..120 (height 40): its ring reaches 20 px up, to row 60 — short of the band
    assert D.ring_energy(g, (100, 80, 200, 120)) == pytest.approx(0.0, abs=1e-6)
    # a taller element (rows 80..140, height 60) has a 30 px ring reaching row 50: it meets the band
    assert D.ring_energy(g, (100, 80, 200, 140)) > 0.0


def test_ring_skips_pixels_under_other_plates():
    im = flat(200, 300)
    im[60:140, 200:260] = checker(80, 60)           # busy only to the right of the element
    g = D.edge_map(im)
    box = (100, 80, 200, 120)
    assert D.ring_energy(g, box) > 0.0
    assert D.ring_energy(g, box, [(198, 50, 270, 150)]) == 0.0   # a neighbouring chip hides it (and its edge)


# ---- alignment ----------------------------------------------------------------------------------------------------


def test_alignment_aligned_boxes_score_zero():
    assert D.alignment([(10, 10, 110, 40), (10, 60, 200, 90)], 400, 400) == 0.0   # same left edge


def test_alignment_misaligned_boxes_score_the_layoutganpp_formula():
    # no shared line: the closest pair of lines is left 10 vs 30 → d = 20/400 = 0.05 (centres/rights further)
    boxes = [(10, 10, 110, 40), (30, 100, 240, 130)]
    d = 20 / 400
    assert D.alignment(boxes, 400, 400) == pytest.approx(-math.log(1 - d))
    assert D.alignment(boxes, 400, 400) > D.alignment([(10, 10, 110, 40), (10, 100, 240, 130)], 400, 400)
    assert D.alignment([(0, 0, 10, 10)], 100, 100) == 0.0


# ---- empty stretch ----------------------------------------------------------------------------------------------


def test_empty_stretch_measures_the_gap_between_blocks():
    g = np.zeros((1000, 400), dtype=np.float32)
    boxes = [(50, 0, 350, 100), (50, 300, 350, 400), (50, 700, 350, 800)]
    share, at = D.empty_stretch(g, (50, 350), boxes, 0, 900)
    assert share == pytest.approx(0.3) and at == [400, 700]


def test_empty_stretch_ignores_blocks_outside_the_column_and_counts_busy_rows_as_filled():
    g = np.zeros((1000, 400), dtype=np.float32)
    boxes = [(50, 0, 350, 100), (50, 300, 350, 400), (360, 400, 400, 700), (50, 700, 350, 800)]
    assert D.empty_stretch(g, (50, 350), boxes, 0, 900)[0] == pytest.approx(0.3)   # x 360+ is outside
    g[450:650, 50:350] = 0.5                                                        # the picture fills 450..650
    share, at = D.empty_stretch(g, (50, 350), boxes, 0, 900)
    assert share == pytest.approx(0.2) and at == [100, 300]     # the 400..700 gap is no longer empty
    g[450:650, 50:350] = D.BUSY_ROW * 0.9                                           # a faint texture is calm
    assert D.empty_stretch(g, (50, 350), boxes, 0, 900)[0] == pytest.approx(0.3)


def test_empty_stretch_is_bounded_by_the_scan_range():
    g = np.zeros((1000, 400), dtype=np.float32)
    share, at = D.empty_stretch(g, (50, 350), [(50, 300, 350, 400)], 100, 900)
    assert share == pytest.approx(0.5) and at == [400, 900]


# ---- overlaps, hero, gates --------------------------------------------------------------------------------------


def block(role, box, text="字", size=20):
    return {"role": role, "text": text, "box": list(box), "size": size}


def test_overlap_pairs_counts_text_pairs_but_not_a_text_on_its_plate():
    blocks = [block("headline", (0, 0, 100, 40)), block("subhead", (90, 30, 200, 60)),
              block("rate_plate", (0, 100, 200, 200), text=""), block("apr", (10, 110, 190, 190))]
    assert D.overlap_pairs(blocks) == [("headline", "subhead")]
    blocks[1]["box"] = [0, 45, 100, 60]
    assert D.overlap_pairs(blocks) == []


def test_hero_ratio_rate_or_offer_against_the_largest_other_text():
    blocks = [block("headline", (0, 0, 1, 1), size=60), block("apr_label", (0, 0, 1, 1), size=100),
              block("apr", (0, 0, 1, 1), size=90), block("cta", (0, 0, 1, 1), size=30)]
    assert D.hero_ratio(blocks) == (pytest.approx(1.5), "apr")
    blocks.append(block("offer", (0, 0, 1, 1), size=45))
    assert D.hero_ratio(blocks) == (pytest.approx(45 / 60), "offer")
    assert D.hero_ratio([block("headline", (0, 0, 1, 1))]) == (None, None)


def figures(**kw):
    f = {"banner": False, "missing": [], "legal": 0.1, "empty": 0.05, "overlaps": 0, "unreadability": 0.001,
         "crowding": 0.01, "hero": 1.2}
    f.update(kw)
    return f


def test_gates_apply_the_banner_targets_only_to_short_canvases():
    assert all(D.gates(figures()).values())
    assert D.gates(figures(legal=0.2))["legal"] is False
    assert D.gates(figures(legal=0.2, banner=True))["legal"] is True
    assert D.gates(figures(hero=0.9))["hero"] is False
    assert D.gates(figures(hero=0.9, banner=True))["hero"] is True
    assert D.gates(figures(hero=None))["hero"] is None
    assert D.gates(figures(missing=["cta"]))["kept"] is False
    assert D.gates(figures(overlaps=1))["overlaps"] is False
    assert D.gates(figures(empty=0.13))["empty"] is False
    assert D.gates(figures(crowding=0.05))["crowding"] is False
    assert D.gates(figures(unreadability=0.02))["unreadability"] is False


# ---- a PSD built here: the reading path -------------------------------------------------------------------------


def write_psd(path, background: np.ndarray, shapes: dict[str, np.ndarray]):
    from PIL import Image
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer

    bg = Image.fromarray(background).convert("RGBA")
    psd = PSDImage.frompil(bg)
    PixelLayer.frompil(bg, psd, "background", 0, 0)
    for name, rgba in shapes.items():
        ys, xs = np.nonzero(rgba[:, :, 3])
        y0, x0 = int(ys.min()), int(xs.min())
        crop = Image.fromarray(rgba[y0:ys.max() + 1, x0:xs.max() + 1], "RGBA")
        PixelLayer.frompil(crop, psd, name, y0, x0)
    psd.save(str(path))


def test_analyse_reads_the_background_and_plates_from_the_psd(tmp_path):
    W, H = 300, 400
    bg = flat(H, W)
    bg[250:320, 150:300] = checker(70, 150)                 # a busy motif right of the CTA
    plate = np.zeros((H, W, 4), np.uint8)
    plate[80:180, 10:230] = (0, 0, 0, 60)                    # soft shadow, wider than the plate
    plate[90:170, 20:220] = (250, 250, 250, 245)             # the plate itself
    band = np.zeros((H, W, 4), np.uint8)
    band[340:400, :] = (20, 20, 20, 225)
    write_psd(tmp_path / "p.psd", bg, {"rate plate": plate, "legal band": band})
    entry = {
        "segment": "s", "channel": "unknown_channel", "width": W, "height": H, "path": "p.jpg", "dropped": [],
        "layers": {"psd": {"path": "p.psd"}, "list": [
            {"name": "background", "kind": "image", "role": "background"},
            {"name": "legal band", "kind": "shape", "role": "legal"},
            {"name": "rate plate", "kind": "shape", "role": "apr"}]},
        "blocks": [block("brand", (20, 20, 120, 40), size=16), block("headline", (20, 50, 200, 80), size=30),
                   block("apr", (30, 100, 210, 160), size=50), block("cta", (20, 260, 140, 300), size=20),
                   block("disclaimer", (20, 350, 280, 362), size=10), block("provider", (20, 368, 280, 380), size=10)],
    }
    f = D.analyse(entry, tmp_path, {})
    assert f["background"] is True
    assert f["legal_source"] == "band" and f["legal"] == pytest.approx(60 / 400)
    assert f["bare_text"] == ["brand", "headline"]       # apr sits on the (shadowless) plate; cta is its own plate
    assert f["unreadability"] == 0.0                     # both over flat grey
    assert f["crowding_by"]["cta"] > D.CROWD_MAX         # the motif touches the button
    assert f["crowding_by"]["rate_plate"] == 0.0
    assert f["hero"] == pytest.approx(50 / 30) and f["overlaps"] == 0
    # empty: column x 20..210; rows from the default safe top 16 to the band top 340; filled 20..80, 90..170
    # (plate), 250..320 (CTA; the motif is beside it, in the column's rows 250..320 only for x ≥ 150)
    assert f["empty_rows"][0] >= 170 and f["empty_rows"][1] <= 260
    assert f["gates"]["crowding"] is False and f["passed"] is False
    assert f["missing"] == []


def test_analyse_without_a_brand_name_or_with_a_dropped_cta_is_not_kept(tmp_path):
    write_psd(tmp_path / "p.psd", flat(100, 300), {})
    entry = {"segment": "s", "channel": "c", "width": 300, "height": 100, "path": "p.jpg",
             "layers": {"psd": {"path": "p.psd"}, "list": []}, "dropped": ["cta"],
             "blocks": [block("logo", (5, 5, 20, 20)), block("headline", (30, 5, 200, 40), size=30),
                        block("disclaimer", (5, 80, 290, 92), size=10)]}
    f = D.analyse(entry, tmp_path, {})
    assert f["missing"] == ["brand name", "cta"] and f["gates"]["kept"] is False
    assert f["banner"] is True and f["legal_source"] == "texts" and f["legal"] == pytest.approx(0.12)


# ---- end to end: a rendered bundle --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from mktcli import make_posters

    from .conftest import EXAMPLES

    out = tmp_path_factory.mktemp("design")
    res = make_posters(EXAMPLES / "credit-card.yaml", out, segments=["工薪族"],
                       channels=["moments_square", "dsp_728x90", "push"], engine="procedural", register=False)
    return res.manifest_path.parent


def test_end_to_end_reads_a_real_bundle(bundle, capsys):
    from psd_tools import PSDImage

    assert D.main([str(bundle.parent), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    images = [c for c in manifest["creatives"] if "blocks" in c]
    assert len(images) == 2 and len(data["creatives"]) == 2           # the push text is not an image creative
    for f in data["creatives"]:
        c = next(c for c in images if c["id"] == f["id"])
        assert f["background"] is True and f["legal_source"] == "band"
        # the legal band as the manifest records it (its solid part; the PSD layer also holds its soft fade-in)
        band = next(sh["box"] for sh in c["shapes"] if sh["role"] == "legal_band")
        assert f["legal"] == pytest.approx((band[3] - band[1]) / c["height"], abs=1e-6)   # JSON: 6 dp
        psd = PSDImage.open(bundle / c["layers"]["psd"]["path"])
        layer = next(lay for lay in psd if lay.name == "legal band")
        assert layer.bbox[1] <= band[1] + 1 and layer.bbox[3] >= band[3] - 1
        assert f["hero_role"] == "apr" and f["hero"] > 0
        assert f["empty"] is not None and 0 <= f["empty"] < 1
        assert f["unreadability"] is not None and f["crowding"] is not None
        brand_shown = any(b["role"] == "brand" for b in c["blocks"])
        assert (not f["missing"]) == (brand_shown and not {"cta", "brand name", "logo"} & set(c["dropped"]))
        assert f["passed"] == all(v is not False for v in f["gates"].values())
    assert data["overall"]["creatives"] == 2
    gate_rc = D.main([str(bundle), "--gate"])
    capsys.readouterr()
    assert gate_rc == (1 if any(not f["passed"] for f in data["creatives"]) else 0)


def test_bad_input_exits_2(tmp_path, capsys):
    assert D.main([str(tmp_path / "nope")]) == 2
    assert "no such folder" in capsys.readouterr().out
    assert D.main([str(tmp_path)]) == 2               # a folder with no bundle in it
    assert "no bundle here" in capsys.readouterr().out
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text("{not json", encoding="utf-8")
    assert D.main([str(tmp_path / "b")]) == 2
    assert "not a readable manifest" in capsys.readouterr().out
