"""Bundled fonts and font stacks with per-character fallback.

A character missing from the preferred font is drawn with the next font in the stack (never a tofu box); a
character missing from every font is a FontError naming it. Coverage comes from each font's cmap (fontTools),
read once per process."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from ..errors import FontError
# The registry and each font's coverage live in fontfiles.py (a brief is checked against them when it is loaded);
# `registry` is still imported from here by export/layered.py, doctor.py and the tests.
from ..fontfiles import coverage, registry  # noqa: F401
from ..fontfiles import font_info as _info

# Characters that need no glyph of their own (layout controls).
_IGNORABLE = {"\n", "\u200b", "\ufeff"}
CJK_LATIN_GAP = 0.125  # em


def _script(ch: str) -> str:
    if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff":
        return "han"
    if ch.isascii() and ch.isalnum():
        return "latin"
    return "other"


@lru_cache(maxsize=512)
def truetype(font_id: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_info(font_id).path), size=size, layout_engine=ImageFont.Layout.BASIC)


class FontStack:
    """An ordered list of font ids; splits text into runs each drawn with the first font that has the glyphs."""

    def __init__(self, font_ids: list[str] | tuple[str, ...]):
        self.ids = tuple(font_ids)
        for fid in self.ids:
            _info(fid)

    def __repr__(self) -> str:
        return f"FontStack({', '.join(self.ids)})"

    @property
    def primary(self) -> str:
        return self.ids[0]

    def runs(self, text: str) -> list[tuple[str, str, float]]:
        """[(font_id, substring, gap_before_em)]: consecutive characters with the same font merged; a new run
        starts where Chinese meets Latin letters or digits, with a small gap (clreq: at most 1/4 em; we use
        1/8 em) so "最高可借30万" does not read as one cramped block."""
        return list(_runs(self.ids, text))

    def check(self, text: str) -> None:
        """Raise FontError for the first character no font can draw."""
        self.runs(text)

    def measure(self, text: str, size: int) -> float:
        return _measure(self.ids, text, size)

    def metrics(self, size: int) -> tuple[int, int]:
        """(ascent, descent) of the primary font at `size`."""
        return truetype(self.primary, size).getmetrics()

    def draw(self, img: Image.Image, xy: tuple[float, float], text: str, size: int, fill, **kw) -> float:
        """Draw `text` on `img` with its left end at x and its baseline at y; return the advance width.
        Each run's coverage mask is rendered once and reused (segments repeat the same strings)."""
        x = xy[0]
        for fid, s, rx, ry in self.place_runs(xy, text, size):
            mask, (ox, oy) = _glyph_mask(fid, s, int(size))
            if mask is not None:
                px, py = int(round(rx)) + ox, int(round(ry)) + oy
                img.paste(tuple(fill), (px, py, px + mask.width, py + mask.height), mask)
            x = rx + _advance(fid, s, int(size))
        return x - xy[0]

    def place_runs(self, xy: tuple[float, float], text: str, size: int) -> list[tuple[str, str, float, float]]:
        """[(font_id, substring, x, baseline y)]: where draw() puts each run (layered exports reuse it)."""
        x, y = xy
        out = []
        for fid, s, gap in _runs(self.ids, text):
            x += gap * size
            out.append((fid, s, x, y))
            x += _advance(fid, s, int(size))
        return out

# Layout measures the same strings at the same sizes many times while fitting: cache by (stack, text, size).
@lru_cache(maxsize=65536)
def _font_for(ids: tuple[str, ...], ch: str) -> str:
    cp = ord(ch)
    for fid in ids:
        if cp in coverage(fid):
            return fid
    # a space variant or similar with no glyph anywhere: draw it as a plain space
    if unicodedata.category(ch) == "Zs":
        return ids[0]
    raise FontError(f"no bundled font can draw '{ch}' (U+{cp:04X})",
                    "replace the character (e.g. a rare or traditional form) or add a font that has it")


@lru_cache(maxsize=32768)
def _runs(ids: tuple[str, ...], text: str) -> tuple[tuple[str, str, float], ...]:
    out: list[tuple[str, str, float]] = []
    prev_kind = ""
    for ch in text:
        if ch in _IGNORABLE:
            continue
        fid = _font_for(ids, ch)
        kind = _script(ch)
        gap = CJK_LATIN_GAP if {prev_kind, kind} == {"han", "latin"} else 0.0
        if out and out[-1][0] == fid and not gap:
            out[-1] = (fid, out[-1][1] + ch, out[-1][2])
        else:
            out.append((fid, ch, gap))
        prev_kind = kind
    return tuple(out)


@lru_cache(maxsize=65536)
def _advance(font_id: str, run: str, size: int) -> float:
    """One run's advance width (a long disclaimer's costs 60 µs to shape, and placing and drawing both ask)."""
    return truetype(font_id, size).getlength(run)


@lru_cache(maxsize=65536)
def _measure(ids: tuple[str, ...], text: str, size: int) -> float:
    return sum(_advance(fid, s, size) + gap * size for fid, s, gap in _runs(ids, text))


@lru_cache(maxsize=1024)
def _glyph_mask(fid: str, text: str, size: int) -> tuple[Image.Image | None, tuple[int, int]]:
    """Anti-aliased coverage of `text` and its offset from the (left, baseline) origin."""
    font = truetype(fid, size)
    x0, y0, x1, y1 = font.getbbox(text, anchor="ls")
    if x1 <= x0 or y1 <= y0:
        return None, (0, 0)
    mask = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(mask).text((-x0, -y0), text, font=font, fill=255, anchor="ls")
    return mask, (x0, y0)
