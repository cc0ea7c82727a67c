"""Colour helpers: WCAG contrast measured on the actual pixels behind a text box (worst case, not the average)."""
from __future__ import annotations

import numpy as np
from PIL import Image

RGB = tuple[int, int, int]


def hex_rgb(h: str) -> RGB:
    return (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))


def rgb_hex(c: RGB) -> str:
    return "#%02X%02X%02X" % tuple(int(v) for v in c[:3])


def _lin(c: np.ndarray) -> np.ndarray:
    c = c / 255.0
    return np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def luminance(rgb) -> np.ndarray | float:
    a = _lin(np.asarray(rgb, dtype=np.float64))
    return a[..., 0] * 0.2126 + a[..., 1] * 0.7152 + a[..., 2] * 0.0722


def contrast(l1: float, l2: float) -> float:
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def worst_contrast(img: Image.Image, box, color: RGB) -> float:
    """Lowest contrast between `color` and the background in `box` (2nd/98th luminance percentiles, so a few
    anti-aliased pixels don't decide it)."""
    return contrast_to_range(color, luminance_range(img, box))


def contrast_to_range(color: RGB, rng: tuple[float, float] | None) -> float:
    """The lower of `color`'s contrasts with the darkest and the lightest of a background (luminance_range)."""
    if rng is None:
        return 21.0
    lt = float(luminance(color))
    return min(contrast(lt, rng[0]), contrast(lt, rng[1]))


def luminance_range(img: Image.Image, box) -> tuple[float, float] | None:
    """The 2nd and 98th percentiles of the luminance of the pixels in `box` (~4k of them sampled on a grid)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(img.width, max(x1, x0 + 1)), min(img.height, max(y1, y0 + 1))
    if x1 <= x0 or y1 <= y0:   # nothing behind the box (off the canvas): nothing to clash with
        return None
    step = max(1, int(np.sqrt((x1 - x0) * (y1 - y0) / 4096)))  # sample ~4k pixels: every step-th row and column
    if step > 1:   # Pillow picks them (nearest neighbour over the box) without copying the whole box first
        part = img.resize((max(1, (x1 - x0) // step), max(1, (y1 - y0) // step)), Image.NEAREST,
                          box=(x0, y0, x1, y1))
    else:
        part = img.crop((x0, y0, x1, y1))
    px = np.asarray(part if part.mode == "RGB" else part.convert("RGB")).reshape(-1, 3)
    lum = _LUT[0][px[:, 0]] + _LUT[1][px[:, 1]] + _LUT[2][px[:, 2]]
    lo, hi = _percentiles_2_98(lum)
    return float(lo), float(hi)


_Q = np.array([0.02, 0.98])


def _percentiles_2_98(x: np.ndarray) -> np.ndarray:
    """np.percentile(x, [2, 98]) — the same numbers (its 'linear' method and its interpolation formula, tested
    against it), without its generality: a third of the time, and every text on every poster asks."""
    n = x.shape[0]
    v = _Q * (n - 1)
    lo = np.floor(v).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    part = np.partition(x, np.unique(np.concatenate([lo, hi])))
    a, b = part[lo], part[hi]
    t = v - lo
    d = b - a
    return np.where(t >= 0.5, b - d * (1 - t), a + d * t)


# Per-channel linear-light contributions for every 8-bit value: luminance of many pixels by table lookup.
_LUT = tuple(_lin(np.arange(256, dtype=np.float64)) * w for w in (0.2126, 0.7152, 0.0722))


def edge_energy(img: Image.Image, box, ring: float = 0.0) -> float:
    """Mean Sobel gradient magnitude of the pixels in `box` (grey in 0..1, RALF's form, not rescaled), or — with
    `ring` > 0 — in a ring that wide around it: how busy the picture is under a text, or around a button."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    r = int(round(ring))
    W, H = img.size
    ox0, oy0, ox1, oy1 = max(0, x0 - r), max(0, y0 - r), min(W, x1 + r), min(H, y1 + r)
    if ox1 - ox0 < 3 or oy1 - oy0 < 3:
        return 0.0
    g = np.asarray(img.crop((ox0, oy0, ox1, oy1)).convert("L"), np.float32) / 255.0
    gx = (g[1:-1, 2:] - g[1:-1, :-2]) * 2 + (g[:-2, 2:] - g[:-2, :-2]) + (g[2:, 2:] - g[2:, :-2])
    gy = (g[2:, 1:-1] - g[:-2, 1:-1]) * 2 + (g[2:, :-2] - g[:-2, :-2]) + (g[2:, 2:] - g[:-2, 2:])
    mag = np.sqrt((gx * gx + gy * gy) / 2)
    if r:
        mask = np.ones_like(mag, bool)
        ix0, iy0 = max(0, x0 - ox0 - 1), max(0, y0 - oy0 - 1)
        mask[iy0:max(iy0, y1 - oy0 - 1), ix0:max(ix0, x1 - ox0 - 1)] = False
        return float(mag[mask].mean()) if mask.any() else 0.0
    return float(mag.mean())
