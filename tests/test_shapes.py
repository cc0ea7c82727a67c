"""Rounded shapes (compose/shapes.py) and the painting shortcuts of the canvas: the fast paths paint the pixels the
plain ones would."""
from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from mktcli.compose import shapes
from mktcli.compose.canvas import Canvas
from mktcli.compose.color import worst_contrast


@pytest.mark.parametrize("w,h,r,alpha", [(900, 700, 54.0, 255), (640, 131, 65.5, 255), (131, 640, 80.0, 255),
                                         (500, 300, 30.3, 200), (40, 40, 0.0, 255), (17, 9, 20.0, 128)])
def test_pieces_paint_exactly_the_whole_mask(w, h, r, alpha):
    one = Image.new("RGB", (w + 20, h + 20), (10, 60, 30))
    many = one.copy()
    one.paste((250, 240, 200), (10, 10, 10 + w, 10 + h), shapes.mask(w, h, r, alpha))
    covered = np.zeros((h, w), int)
    for a, b, c, d, m in shapes.pieces(w, h, r, alpha):
        many.paste((250, 240, 200), (10 + a, 10 + b, 10 + c, 10 + d), m)
        covered[b:d, a:c] += 1
    assert (covered == 1).all()          # the pieces tile the shape: no gap, no pixel painted twice
    assert np.array_equal(np.asarray(one), np.asarray(many))


def test_corners_are_antialiased_and_the_area_is_right():
    w, h, r = 400, 300, 60.0
    cov = shapes.coverage(w, h, r)
    corner = np.asarray(shapes.mask(w, h, r))[:60, :60]
    partial = ((corner > 0) & (corner < 255)).sum()
    assert partial >= 60                 # an antialiased arc, not stair steps (Pillow's ImageDraw gives none)
    assert cov[h // 2].min() == 1.0 and cov[:, w // 2].min() == 1.0   # straight edges are solid
    assert abs(cov.sum() - (w * h - (4 - math.pi) * r * r)) < 0.01 * w * h
    assert np.array_equal(cov, cov[::-1, ::-1]) and np.array_equal(cov, cov[:, ::-1])


def test_a_pill_is_round_at_both_ends():
    cov = shapes.coverage(300, 81, 40.5)
    assert cov[40, 0] > 0.9 and cov[0, 0] == 0.0 and cov[0, 150] == 1.0


def test_ring_is_an_outline():
    m = np.asarray(shapes.ring(200, 60, 30.0, 3.0))
    assert m[30, 100] == 0 and m[1, 100] == 255 and m[30, 1] == 255    # hollow inside, solid at the edges
    assert m[5, 100] == 0                                                 # no wider than asked


def test_blend_paints_what_a_flat_mask_paste_paints():
    bg = Image.effect_noise((300, 200), 60).convert("RGB")
    c = Canvas(bg, None, {}, min_px=12)
    c.blend((12, 34, 56), (10.4, 20.6, 250.2, 180.5), 200)
    ref = bg.copy()
    ref.paste((12, 34, 56), (10, 21, 250, 180), Image.new("L", (240, 159), 200))
    assert np.array_equal(np.asarray(c.img), np.asarray(ref))


def test_worst_contrast_samples_the_whole_box():
    img = Image.new("RGB", (1000, 400), (255, 255, 255))
    assert worst_contrast(img, (0, 0, 1000, 400), (0, 0, 0)) == pytest.approx(21.0)
    img.paste((0, 0, 0), (0, 0, 1000, 100))     # a dark quarter anywhere in the box is seen, sampled or not
    assert worst_contrast(img, (0, 0, 1000, 400), (0, 0, 0)) == pytest.approx(1.0)
    img2 = Image.new("RGB", (1000, 400), (255, 255, 255))
    img2.paste((0, 0, 0), (0, 300, 1000, 400))
    assert worst_contrast(img2, (0, 0, 1000, 400), (255, 255, 255)) == pytest.approx(1.0)


@pytest.mark.parametrize("box,radius", [((240, 300, 660, 390), 45.0), ((100, 100, 800, 700), 30.0),
                                        ((300, 500, 420, 540), 20.0)])
def test_a_drop_shadow_fades_out_before_its_box_ends(box, radius):
    """A button's shadow on a plain backdrop: nothing changes along the edges of the area it paints, so no seam
    (its box ended 1.5 blur radii below the button: the shadow was cut at ~20% strength, a line across the picture
    under every 9:16 video's button)."""
    bg = Image.new("RGB", (900, 900), (200, 200, 200))
    c = Canvas(bg, None, {}, min_px=12)
    c._shadow(box, radius, 255, "cta")
    drop = 200 - np.asarray(c.img.convert("L"), np.int16)
    ys, xs = np.nonzero(drop > 0)
    assert drop.max() >= 20                                   # there is a shadow …
    rows = [drop[y, xs.min():xs.max() + 1].max() for y in range(ys.max() - 3, ys.max() + 1)]
    assert max(rows) <= 1                                     # … and it has faded to nothing where it stops
    assert drop[ys.min():ys.max() + 1, xs.max()].max() <= 1 and drop[ys.min():ys.max() + 1, xs.min()].max() <= 1
