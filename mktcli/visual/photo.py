"""`image` engine: the user's own photo, smart-cropped to each canvas so its focal area lands in the layout's
visual zone (not simply the centre), never squashed. The focal point is `visual.focus` when given, else the
centre of edge energy (where the detail is), which finds the subject of most product and lifestyle photos."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from ..errors import AssetError, MktError, clip
from ..userfiles import load_image
from .base import VisualEngine, VisualRequest, VisualResult


@lru_cache(maxsize=8)
def _open(path: Path) -> Image.Image:
    try:   # a regular file within the limits (configs/limits.yaml image:), decoded whole: truncated is refused
        im = load_image(path, "image")
    except MktError as e:
        raise AssetError(e.message, e.hint) from None
    try:
        im = ImageOps.exif_transpose(im)  # phone photos carry their rotation in EXIF
        return im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise AssetError(f"cannot read image {clip(path)}: {clip(e)}", "use a JPEG or PNG file") from None


def detect_focus(img: Image.Image) -> tuple[float, float]:
    """Centre of edge energy, as fractions; biased to the centre so flat photos stay centred."""
    small = img.convert("L").resize((96, max(1, round(96 * img.height / img.width))), Image.BILINEAR)
    e = np.asarray(small.filter(ImageFilter.FIND_EDGES), np.float32)
    e[:2, :], e[-2:, :], e[:, :2], e[:, -2:] = 0, 0, 0, 0   # FIND_EDGES lights up the borders
    total = float(e.sum())
    if total < 1e-6:
        return 0.5, 0.5
    ys, xs = np.mgrid[0:e.shape[0], 0:e.shape[1]]
    fx = float((xs * e).sum() / total) / max(1, e.shape[1] - 1)
    fy = float((ys * e).sum() / total) / max(1, e.shape[0] - 1)
    return 0.5 + (fx - 0.5) * 0.85, 0.5 + (fy - 0.5) * 0.85


def crop_box(src_w: int, src_h: int, dst_w: int, dst_h: int, focus: tuple[float, float],
             target: tuple[float, float]) -> tuple[int, int, int, int]:
    """Largest crop of the source with the destination's aspect ratio that puts `focus` (fractions of the source)
    as close as possible to `target` (fractions of the destination)."""
    aspect = dst_w / dst_h
    cw, ch = (src_w, src_w / aspect) if src_w / src_h < aspect else (src_h * aspect, src_h)
    fx, fy = focus[0] * src_w, focus[1] * src_h
    x0 = min(max(fx - target[0] * cw, 0), src_w - cw)
    y0 = min(max(fy - target[1] * ch, 0), src_h - ch)
    return round(x0), round(y0), round(x0 + cw), round(y0 + ch)


class ImageEngine(VisualEngine):
    name = "image"
    forkable = True

    def cache_key(self, req: VisualRequest) -> tuple:
        return (self.name, req.width, req.height, str(req.image_path), req.focus, req.visual_zone)

    def render(self, req: VisualRequest) -> VisualResult:
        if req.image_path is None:
            raise AssetError("engine 'image' needs visual.image", "add visual.image: hero.jpg to the brief")
        src = _open(Path(req.image_path))
        focus = req.focus or detect_focus(src)
        x0, y0, x1, y1 = req.visual_zone
        target = ((x0 + x1) / 2 / req.width, (y0 + y1) / 2 / req.height)
        box = crop_box(src.width, src.height, req.width, req.height, focus, target)
        out = src.resize((req.width, req.height), Image.LANCZOS, box=box)
        return VisualResult(out, {"name": self.name, "source": Path(req.image_path).name,
                                  "focus": [round(focus[0], 3), round(focus[1], 3)], "crop": list(box)},
                            calm=False)
