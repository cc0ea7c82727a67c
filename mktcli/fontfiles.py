"""The bundled fonts (assets/fonts/fonts.yaml) and the characters each one has a glyph for.

Below the composer (compose/fonts.py draws with them) because a brief is checked against the fonts when it is
loaded: a character no bundled font can draw is the brief's error, with its key, before anything is drawn."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .errors import FontError
from .paths import cache_root, fonts_dir


@dataclass(frozen=True)
class FontInfo:
    id: str
    path: Path
    family: str
    weight: int
    licence: str


@lru_cache(maxsize=1)
def registry() -> dict[str, FontInfo]:
    root = fonts_dir()
    path = root / "fonts.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))["fonts"]
    except (OSError, KeyError, TypeError, yaml.YAMLError) as e:
        raise FontError(f"cannot read the font registry {path}: {e}", "reinstall mktcli") from None
    return {fid: FontInfo(fid, root / d["file"], d.get("family", fid), int(d.get("weight", 400)),
                          d.get("licence", "")) for fid, d in data.items()}


@lru_cache(maxsize=None)
def coverage(font_id: str) -> frozenset[int]:
    """The code points the font has glyphs for. Parsing a CJK font's cmap costs 20–50 ms a font and every brief
    check needs all of them, so the list is kept on disk (paths.cache_root()/fonts), keyed by the font file's
    path, size and modification time."""
    import os
    import tempfile
    from array import array

    info = font_info(font_id)
    st = info.path.stat()
    key = f"{info.path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    cached = cache_root() / "fonts" / f"{font_id}-cmap-{hashlib.sha256(key.encode()).hexdigest()[:16]}.u32"
    try:
        codes = array("I")
        codes.frombytes(cached.read_bytes())
        if codes:
            return frozenset(codes)
    except (OSError, ValueError):
        pass
    from fontTools.ttLib import TTFont  # only the cmap table is parsed

    with TTFont(info.path, lazy=True) as tt:
        out = frozenset(tt.getBestCmap() or {})
    try:   # atomically; a cache that cannot be written is simply not used
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(array("I", sorted(out)).tobytes())
        os.replace(tmp, cached)
    except OSError:
        pass
    return out


def font_info(font_id: str) -> FontInfo:
    reg = registry()
    if font_id not in reg:
        raise FontError(f"unknown font '{font_id}'", "bundled fonts: " + ", ".join(sorted(reg)))
    return reg[font_id]
