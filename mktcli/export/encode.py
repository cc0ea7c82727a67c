"""Encoding creatives to fit a channel: exact pixel size, sRGB (with the ICC profile embedded), the implicit label
in the file's metadata, and the file under the channel's byte limit — found by searching the encoder's quality
(binary search, highest quality that fits) in each format the channel accepts, never by changing the pixel size.
Deterministic: same pixels → same bytes."""
from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image

from ..errors import LayoutError

Q_BEST = 90         # what a creative gets when there is no limit, or when it fits
Q_FLOOR = 40        # below this JPEG/WebP artefacts eat small text: the creative cannot fit, and says so
SUBSAMPLE_BELOW = 80  # 4:4:4 chroma keeps small red/gold text crisp; 4:2:0 only where the byte limit needs it


@lru_cache(maxsize=1)
def srgb_icc() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in), with its creation date fixed so the bytes never change."""
    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = bytes([0x07, 0xEA, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])   # 2026-01-01 00:00:00
    return bytes(data)


def _exif(meta: dict[str, str]) -> bytes | None:
    if not meta:
        return None
    ex = Image.Exif()
    ex[0x0131] = meta.get("Software", "mkt")                  # Software
    ex[0x010E] = meta.get("Description", "")                  # ImageDescription: the implicit label
    ex[0xA001] = 1                                            # ColorSpace: sRGB
    return ex.tobytes()


def _png(img: Image.Image, meta: dict[str, str]) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for k, v in meta.items():
        info.add_itxt(k, v)
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=info, optimize=False, compress_level=6, icc_profile=srgb_icc())
    return buf.getvalue()


def _jpeg(img: Image.Image, q: int, optimize: bool, exif: bytes | None) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=q, subsampling=0 if q >= SUBSAMPLE_BELOW else 2, optimize=optimize,
             icc_profile=srgb_icc(), **({"exif": exif} if exif else {}))
    return buf.getvalue()


def _webp(img: Image.Image, q: int, exif: bytes | None) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "WEBP", quality=q, method=4, icc_profile=srgb_icc(), **({"exif": exif} if exif else {}))
    return buf.getvalue()


def _search(encode_at, max_bytes: int) -> tuple[int, bytes, int] | tuple[None, bytes, int]:
    """Highest quality in [Q_FLOOR, Q_BEST) whose file fits: (quality, bytes, tries), or (None, smallest, tries).
    Size grows with quality, so a binary search needs ~6 encodes instead of a sweep."""
    lo, hi = Q_FLOOR, Q_BEST - 1
    best: tuple[int, bytes] | None = None
    smallest = b""
    tries = 0
    while lo <= hi:
        q = (lo + hi) // 2
        data = encode_at(q)
        tries += 1
        if len(data) <= max_bytes:
            best = (q, data)
            lo = q + 1
        else:
            if not smallest or len(data) < len(smallest):
                smallest = data
            hi = q - 1
    if best:
        return best[0], best[1], tries
    return None, smallest, tries


def encode(img: Image.Image, fmt: str | list[str], max_bytes: int | None, metadata: dict[str, str] | None = None,
           size: tuple[int, int] | None = None) -> tuple[bytes, dict]:
    """Encode `img` in the first of the channel's formats (`fmt`, preference order) whose file fits `max_bytes`.

    Returns (bytes, info): info has the format, the quality found, how many encodes the search took and the ICC
    profile. Raises LayoutError naming the smallest file each format reached when nothing fits."""
    formats = [fmt] if isinstance(fmt, str) else list(fmt) or ["jpeg"]
    if size is not None and img.size != tuple(size):
        raise LayoutError(f"the creative is {img.size[0]}×{img.size[1]} but the channel needs {size[0]}×{size[1]}",
                          "this is a layout bug: please report it")
    if img.mode != "RGB":
        img = img.convert("RGB")
    meta = metadata or {}
    exif = _exif(meta)
    tried: list[str] = []
    for f in formats:
        if f == "png":
            data = _png(img, meta)
            if not max_bytes or len(data) <= max_bytes:
                return data, {"format": "png", "icc": "sRGB", "tries": 1}
            tried.append(f"png is {len(data):,} bytes (lossless)")
        elif f in ("jpeg", "jpg"):
            # the no-limit setting first: most creatives fit at once and keep the fast, unoptimised encode
            data = _jpeg(img, Q_BEST, False, exif)
            if not max_bytes or len(data) <= max_bytes:
                return data, {"format": "jpeg", "quality": Q_BEST, "optimized": False, "icc": "sRGB", "tries": 1}
            # Huffman optimisation: ~9% fewer bytes at the same quality, worth it once the limit bites
            q, data, n = _search(lambda q: _jpeg(img, q, True, exif), max_bytes)
            if q is not None:
                return data, {"format": "jpeg", "quality": q, "optimized": True, "icc": "sRGB", "tries": n + 1,
                              "limit": max_bytes}
            tried.append(f"jpeg is {len(data):,} bytes at quality {Q_FLOOR}")
        elif f == "webp":
            data = _webp(img, Q_BEST, exif)
            if not max_bytes or len(data) <= max_bytes:
                return data, {"format": "webp", "quality": Q_BEST, "icc": "sRGB", "tries": 1}
            q, data, n = _search(lambda q: _webp(img, q, exif), max_bytes)
            if q is not None:
                return data, {"format": "webp", "quality": q, "icc": "sRGB", "tries": n + 1, "limit": max_bytes}
            tried.append(f"webp is {len(data):,} bytes at quality {Q_FLOOR}")
        else:
            raise LayoutError(f"unknown image format '{f}'", "channel formats are jpeg, png or webp")
    raise LayoutError(f"cannot fit the {img.size[0]}×{img.size[1]} creative under the channel's limit of "
                      f"{max_bytes:,} bytes: " + "; ".join(tried),
                      "use a calmer key visual (fewer fine details), allow another format in the channel's "
                      "'formats', or raise max_bytes in your channel file")


EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
