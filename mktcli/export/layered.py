"""Layered, editable files for designers: a PSD (psd-tools) with the background and every text and overlay block
as its own named layer, and an SVG with real <text> elements naming the fonts — so a word can be fixed without
re-rendering. Both come from the paints the composer recorded (compose/layers.py)."""
from __future__ import annotations

import base64
import io
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

from PIL import Image

from ..compose.fonts import registry
from ..compose.layers import LayerRecorder
from ..paths import cache_root


# zlib level of the PSD's ZIP channels. psd-tools compresses at zlib's default (6); 3 writes twice as fast for
# 13% more bytes (a 1080×1920 RGBA layer: 0.046 vs 0.09 s, 1.12 vs 0.99 MB), and the layered files were half of
# a bundle's time (benchmarks/bundle.py, full_bundle_phases_s). Any zlib level reads back the same pixels.
PSD_ZIP_LEVEL = 3


def _zip_level(level: int) -> None:
    """psd-tools has no switch for the level: give its compression module a zlib whose compress() uses `level`
    (decompress and everything else are zlib's own). Idempotent; affects only psd-tools' writing."""
    import functools
    import types
    import zlib

    from psd_tools import compression

    if getattr(compression.zlib, "mkt_level", None) == level:
        return
    proxy = types.ModuleType("zlib")
    proxy.__dict__.update(zlib.__dict__)
    proxy.compress = functools.partial(zlib.compress, level=level)
    proxy.mkt_level = level
    compression.zlib = proxy


def psd_bytes(rec: LayerRecorder, flat: Image.Image) -> bytes:
    """A layered PSD: 'background' (the key visual, no text), then each block bottom to top. Text layers are
    pixel layers named by their exact text (Photoshop's own convention for type layers); the document's
    composite preview is the finished poster."""
    import logging

    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer
    from psd_tools.constants import Compression

    logging.getLogger("psd_tools").setLevel(logging.ERROR)
    _zip_level(PSD_ZIP_LEVEL)
    W, H = flat.size
    # ZIP rather than psd-tools' default RLE: ~40% smaller files (a 1080×1920 layer: 1.7 vs 2.9 MB), though RLE
    # writes faster (0.04 vs 0.15 s); an RGBA document: each layer's alpha is its transparency channel (as Photoshop makes them), not a mask
    psd = PSDImage.frompil(flat.convert("RGBA"), compression=Compression.ZIP)
    PixelLayer.frompil(rec.background.convert("RGBA"), psd, "background", 0, 0, Compression.ZIP)  # appends
    for lay in rec.layers:
        r = lay.render(W, H)
        if r is None:
            continue
        im, (x0, y0, _, _) = r
        layer = PixelLayer.frompil(im, psd, "layer", y0, x0, Compression.ZIP)   # appends to psd
        layer.name = lay.name[:255]      # a Unicode name goes in the 'luni' block; psd-tools writes both
    # the stored composite is already the finished poster: skip psd-tools' own re-compositing on save
    psd._updated = False  # noqa: SLF001 — psd-tools has no public switch for this
    buf = io.BytesIO()
    psd.save(buf)
    return buf.getvalue()


@lru_cache(maxsize=None)
def _font_face(font_id: str) -> tuple[str, int]:
    info = registry()[font_id]
    return info.family, info.weight


@lru_cache(maxsize=64)
def _font_subset(font_id: str, chars: frozenset[str]) -> str:
    """The font cut down to `chars`, as a base64 WOFF (fontTools; OFL fonts may be subset and embedded).
    Posters of one run share a character set, so each font is cut once per run, not once per poster; and the cut is
    kept on disk (keyed by the font file's bytes and the characters), so re-rendering a brief — a designer's loop,
    `mkt poster --watch` — does not cut it again: 0.1–0.3 s a font in every render worker."""
    import hashlib
    import os
    import tempfile

    path = registry()[font_id].path
    key = hashlib.sha256(f"{_file_digest(str(path))}|{''.join(sorted(chars))}".encode()).hexdigest()[:24]
    cached = cache_root() / "fonts" / f"{font_id}-{key}.woff.b64"
    try:
        text = cached.read_text(encoding="ascii")
        if text.startswith("d09GR") and len(text) % 4 == 0:   # base64 of a WOFF ('wOFF…'), whole
            return text
    except (OSError, ValueError):
        pass
    out = _cut_font(font_id, chars)
    try:   # atomically, so a run that reads it never sees half a file; a cache that cannot be written is not used
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(out)
        os.replace(tmp, cached)
    except OSError:
        pass
    return out


@lru_cache(maxsize=16)
def _file_digest(path: str) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()[:16]


def _cut_font(font_id: str, chars: frozenset[str]) -> str:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]                 # keep the family name and the OFL licence notice
    opts.notdef_outline = True
    # recalcTimestamp=False: fontTools would stamp head.modified with the clock, and the same brief must give the
    # same bytes. WOFF (zlib) below: woff2 would need brotli.
    font = TTFont(str(registry()[font_id].path), recalcTimestamp=False, lazy=True)   # half the time, same bytes
    sub = subset.Subsetter(opts)
    sub.populate(text="".join(sorted(chars)))
    sub.subset(font)
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _font_faces(rec: LayerRecorder, charset: str) -> str:
    """@font-face rules embedding every font the SVG uses (subset), so it renders the same on any machine."""
    used: dict[str, set[str]] = {}
    for lay in rec.layers:
        for run in lay.runs:
            used.setdefault(run.font, set()).update(run.text)
    rules = []
    for fid in sorted(used):
        chars = frozenset(charset) | frozenset(used[fid])
        family, weight = _font_face(fid)
        rules.append(f"@font-face {{ font-family: {repr(family)}; font-weight: {weight}; "
                     f"src: url(data:font/woff;base64,{_font_subset(fid, chars)}) format('woff'); }}")
    return "\n".join(rules)


def _data_uri(im: Image.Image, fmt: str) -> str:
    buf = io.BytesIO()
    if fmt == "jpeg":
        im.convert("RGB").save(buf, "JPEG", quality=92)
    else:
        im.save(buf, "PNG", optimize=False, compress_level=6)
    return f"data:image/{fmt};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _spans(text: str, runs) -> list[tuple[str, object]]:
    """Pair each drawn run with the slice of the block's exact text it shows; characters that were not drawn
    (the space where a headline breaks onto a new line) go to the run before them, so the <text> element's
    content is exactly the string on the poster."""
    out: list[tuple[str, object]] = []
    pos = 0
    for run in runs:
        at = text.find(run.text, pos)
        if at < 0:           # not a substring (should not happen): keep what was drawn
            out.append((run.text, run))
            continue
        if out and at > pos:
            out[-1] = (out[-1][0] + text[pos:at], out[-1][1])
        elif at > pos:
            out.append((text[pos:at], None))
        out.append((run.text, run))
        pos = at + len(run.text)
    if pos < len(text):
        if out:
            out[-1] = (out[-1][0] + text[pos:], out[-1][1])
        else:
            out.append((text[pos:], None))
    return out


def svg_bytes(rec: LayerRecorder, title: str = "", *, embed_fonts: bool = True, charset: str = "") -> bytes:
    """An SVG of the poster: the background and shapes as embedded images, every text block as a real <text>
    (one <tspan> per font run at its exact position, font family and weight named) inside a <g> whose id is
    the block's role and whose aria-label is its exact string. `embed_fonts` adds the fonts, subset to the
    characters drawn plus `charset` (the run's texts, so posters share one subset per font)."""
    W, H = rec.background.size
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           f'width="{W}" height="{H}" viewBox="0 0 {W} {H}">']
    if title:
        out.append(f"<title>{escape(title)}</title>")
    if embed_fonts:
        out.append(f"<defs><style>\n{_font_faces(rec, charset)}\n</style></defs>")
    out.append(f'<image id="background" x="0" y="0" width="{W}" height="{H}" '
               f'xlink:href="{_data_uri(rec.background, "jpeg")}"/>')
    for lay in rec.layers:
        if lay.kind != "text":
            r = lay.render(W, H)
            if r is None:
                continue
            im, (x0, y0, x1, y1) = r
            out.append(f'<image id={quoteattr(lay.role + "-" + lay.kind)} x="{x0}" y="{y0}" width="{x1 - x0}" '
                       f'height="{y1 - y0}" xlink:href="{_data_uri(im, "png")}"/>')
            continue
        if not lay.runs:
            continue
        text = lay.text or "".join(r.text for r in lay.runs)
        parts = []   # no whitespace between the tspans: the element's text must be exactly the string
        for s, run in _spans(text, lay.runs):
            if run is None:
                parts.append(escape(s))
                continue
            family, weight = _font_face(run.font)
            fill = "#{:02X}{:02X}{:02X}".format(*run.fill)
            parts.append(f'<tspan x="{run.x:.1f}" y="{run.y:.1f}" font-family={quoteattr(repr(family) + ", sans-serif")} '
                         f'font-weight="{weight}" font-size="{run.size}" fill="{fill}">{escape(s)}</tspan>')
        out.append(f'<g id={quoteattr(lay.role)} aria-label={quoteattr(text)}>'
                   f'<text xml:space="preserve">{"".join(parts)}</text></g>')
    out.append("</svg>")
    return ("\n".join(out) + "\n").encode("utf-8")
