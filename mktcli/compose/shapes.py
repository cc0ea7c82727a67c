"""Antialiased rounded rectangles as masks and as pieces to paste.

Pillow's ImageDraw draws shapes without antialiasing: a 1080-px card's corners showed stair steps, and drawing the
whole mask of a large card cost more than the rest of its text. Here a corner's coverage is computed once (the
exact signed distance to the corner's arc, a 1-px ramp) and cached; a large shape is pasted as its four corners
through those masks plus three solid rectangles, so its cost grows with its corners, not its area."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

Piece = tuple[int, int, int, int, "Image.Image | None"]   # x0, y0, x1, y1 relative to the shape, mask (None: solid)


def _radius(w: int, h: int, r: float) -> float:
    return max(0.0, min(float(r), w / 2, h / 2))


@lru_cache(maxsize=512)
def _corner(rx: int, ry: int, r: float) -> np.ndarray:
    """Coverage (0..1, float32) of the top-left rx×ry quadrant of a rounded rectangle with corner radius r: inside
    the corner's square the distance to the arc decides, elsewhere the distance to the nearer straight edge."""
    px = np.arange(rx, dtype=np.float64)[None, :] + 0.5
    py = np.arange(ry, dtype=np.float64)[:, None] + 0.5
    in_corner = (px < r) & (py < r)
    arc = np.hypot(r - px, r - py) - r
    edge = -np.minimum(px, py)
    d = np.where(in_corner, arc, edge)
    return np.clip(0.5 - d, 0.0, 1.0).astype(np.float32)


def _split(w: int, h: int, r: float) -> tuple[int, int, float]:
    """The corner quadrants' size: the radius rounded up, at most half the shape (a pill's corners meet)."""
    r = _radius(w, h, r)
    c = int(np.ceil(r))
    return min(c, w // 2), min(c, h // 2), r


def coverage(w: int, h: int, r: float) -> np.ndarray:
    """Coverage (h×w, 0..1) of a whole w×h rounded rectangle."""
    out = np.ones((h, w), np.float32)
    rx, ry, r = _split(w, h, r)
    if rx and ry:
        tl = _corner(rx, ry, round(r, 3))
        out[:ry, :rx] = tl
        out[:ry, w - rx:] = tl[:, ::-1]
        out[h - ry:, :rx] = tl[::-1, :]
        out[h - ry:, w - rx:] = tl[::-1, ::-1]
    return out


def _as_mask(a: np.ndarray, alpha: int) -> Image.Image:
    return Image.fromarray(np.rint(a * alpha).astype(np.uint8), "L")


@lru_cache(maxsize=256)
def mask(w: int, h: int, r: float, alpha: int = 255) -> Image.Image:
    """The whole shape as one L mask (small shapes: chips, marks, plates). Callers must not modify it."""
    return _as_mask(coverage(w, h, r), alpha)


@lru_cache(maxsize=256)
def ring(w: int, h: int, r: float, width: float) -> Image.Image:
    """An outline `width` px wide just inside the shape's edge (a chip's thin accent ring), antialiased."""
    inner = np.zeros((h, w), np.float32)
    iw, ih = int(round(w - 2 * width)), int(round(h - 2 * width))
    if iw > 0 and ih > 0:
        ox, oy = (w - iw) // 2, (h - ih) // 2
        inner[oy:oy + ih, ox:ox + iw] = coverage(iw, ih, max(0.0, r - (w - iw) / 2))
    return _as_mask(np.clip(coverage(w, h, r) - inner, 0.0, 1.0), 255)


@lru_cache(maxsize=256)
def _corner_masks(rx: int, ry: int, r: float, alpha: int) -> tuple[Image.Image, ...]:
    tl = _as_mask(_corner(rx, ry, r), alpha)
    return (tl, tl.transpose(Image.Transpose.FLIP_LEFT_RIGHT), tl.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
            tl.transpose(Image.Transpose.ROTATE_180))


def pieces(w: int, h: int, r: float, alpha: int = 255) -> list[Piece]:
    """The shape as non-overlapping pieces: four corners through their masks, the rest solid (alpha 255) or
    through a flat mask. Pasting them all gives the same pixels as pasting mask(w, h, r, alpha)."""
    rx, ry, r = _split(w, h, r)
    flat = (lambda pw, ph: None) if alpha == 255 else (lambda pw, ph: Image.new("L", (pw, ph), alpha))
    out: list[Piece] = []
    if rx and ry:
        tl, tr, bl, br = _corner_masks(rx, ry, round(r, 3), alpha)
        out += [(0, 0, rx, ry, tl), (w - rx, 0, w, ry, tr), (0, h - ry, rx, h, bl), (w - rx, h - ry, w, h, br)]
        for x0, y0, x1, y1 in ((rx, 0, w - rx, ry), (rx, h - ry, w - rx, h)):
            if x1 > x0:
                out.append((x0, y0, x1, y1, flat(x1 - x0, y1 - y0)))
    if h - 2 * ry > 0:
        out.append((0, ry, w, h - ry, flat(w, h - 2 * ry)))
    return out
