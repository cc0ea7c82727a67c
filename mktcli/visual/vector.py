"""Vector objects for key visuals: the vendored Fluent Emoji subset, rasterised crisply at any size.

    from mktcli.visual import vector
    vector.objects()["tractor"]        # ObjectInfo(name, icon, label, label_zh, tags, path, credit) + .box, .aspect
    vector.tags()                      # the tag vocabulary: tag -> what it means
    vector.raster("tractor", 300)      # RGBA image, 300 px tall, trimmed to the artwork

The list (names, labels, tags) is data: assets/visuals/fluent-emoji/objects.yaml; the SVG files beside it are made
by scripts/vendor_fluent_emoji.py. SVGs are drawn by resvg (the `resvg` wheel: a Rust renderer, no system
libraries), imported only when something is rasterised so `mkt --help` stays fast. Rasters are cached in memory per
(name, height, trim): an engine asks for the same object at the same size for every segment and channel.
"""
from __future__ import annotations

import difflib
import io
import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import AssetError, ConfigError
from ..paths import cache_root, data_root
from ..yamlio import load_yaml

MAX_HEIGHT = 8192
_REFERENCE_PX = 256   # the artwork's bounds are measured once, on a render this tall (1/256 of the viewBox)


def objects_dir() -> Path:
    return data_root() / "assets" / "visuals" / "fluent-emoji"


@dataclass(frozen=True)
class ObjectInfo:
    name: str                 # mkt's name (the file is <name>.svg); what configs and briefs use
    icon: str                 # the upstream Fluent Emoji / iconify icon name
    label: str                # short English label
    label_zh: str             # short Chinese label
    tags: tuple[str, ...]
    path: Path                # the SVG file
    credit: str               # attribution for a manifest or a credits page

    @cached_property
    def box(self) -> tuple[float, float, float, float]:
        """Where the artwork's visible pixels lie, as fractions (x0, y0, x1, y1) of the SVG's viewBox."""
        return _content_box(self.name)

    @cached_property
    def aspect(self) -> float:
        """Width / height of the visible artwork (what raster(..., trim=True) returns)."""
        x0, y0, x1, y1 = self.box
        vw, vh = _tree_size(self.name)
        return (x1 - x0) * vw / ((y1 - y0) * vh)


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, ObjectInfo], dict[str, str]]:
    folder = objects_dir()
    loaded = load_yaml(folder / "objects.yaml", what="vector object list")
    data = loaded.data
    f = loaded.path

    def fail(msg: str, keypath: tuple, hint: str | None = None) -> ConfigError:
        return ConfigError(msg, file=f, line=loaded.line_of(keypath), key=".".join(map(str, keypath)), hint=hint)

    if not isinstance(data, dict) or not isinstance(data.get("objects"), dict) or not isinstance(data.get("tags"), dict):
        raise fail("expected mappings 'tags:' and 'objects:'", ())
    vocab = {str(k): str(v) for k, v in data["tags"].items()}
    source = data.get("source") or {}
    credit = str(source.get("credit") or "Fluent Emoji by Microsoft Corporation (MIT)")
    out: dict[str, ObjectInfo] = {}
    for name, spec in data["objects"].items():
        kp = ("objects", name)
        if not isinstance(spec, dict):
            raise fail("expected a mapping {icon, en, zh, tags}", kp)
        for key in ("icon", "en", "zh"):
            if not isinstance(spec.get(key), str) or not spec[key].strip():
                raise fail(f"missing or empty '{key}'", (*kp, key))
        tags = spec.get("tags")
        if not isinstance(tags, list) or not tags:
            raise fail("'tags' must be a non-empty list", (*kp, "tags"))
        for i, t in enumerate(tags):
            if str(t) not in vocab:
                close = difflib.get_close_matches(str(t), vocab, n=3)
                raise fail(f"unknown tag '{t}'", (*kp, "tags", i),
                           hint=(f"did you mean {', '.join(close)}? " if close else "") + "tags are listed under 'tags:'")
        path = folder / f"{name}.svg"
        if not path.is_file():
            raise fail(f"{path.name} is missing", kp, hint="run: python scripts/vendor_fluent_emoji.py")
        out[str(name)] = ObjectInfo(str(name), spec["icon"], spec["en"], spec["zh"], tuple(str(t) for t in tags),
                                    path, credit)
    return out, vocab


def objects() -> dict[str, ObjectInfo]:
    """Every vendored object by name (a fresh dict; the ObjectInfo values are shared and immutable)."""
    return dict(_load()[0])


def tags() -> dict[str, str]:
    """The tag vocabulary of objects.yaml: tag -> what it covers (theme tags are the Chinese theme names)."""
    return dict(_load()[1])


def _info(name: str) -> ObjectInfo:
    known = _load()[0]
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        raise AssetError(f"no vector object named '{name}'",
                         (f"did you mean {', '.join(close)}? " if close else "")
                         + f"the {len(known)} objects are listed in assets/visuals/fluent-emoji/objects.yaml")
    return known[name]


_local = threading.local()


def _tree(name: str) -> Any:
    """The parsed SVG (a resvg usvg.Tree), kept per object and per thread: parsing is a good part of a small render,
    and a Tree is 'unsendable' (pyo3): one made in a worker thread must neither be used nor dropped in another."""
    trees = getattr(_local, "trees", None)
    if trees is None:
        trees = _local.trees = {}
    if name not in trees:
        trees[name] = _parse(name)
    return trees[name]


def _parse(name: str) -> Any:
    from resvg import usvg  # Rust SVG renderer; imported here so that `mkt --help` never loads it

    info = _info(name)
    try:
        return usvg.Tree.from_str(info.path.read_text(encoding="utf-8"), usvg.Options.default())
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # resvg reports a parse failure as a Rust panic (a BaseException)
        raise AssetError(f"{info.path} is not a valid SVG ({type(e).__name__}: {e})",
                         "regenerate it: python scripts/vendor_fluent_emoji.py") from None


def _tree_size(name: str) -> tuple[int, int]:
    return _geometry(name)[1]


@lru_cache(maxsize=None)
def _geometry(name: str) -> tuple[tuple[float, float, float, float], tuple[int, int]]:
    """(content box, SVG size) of an object. Finding the box renders the SVG once (10–20 ms); every poster run
    needs the boxes of the objects it places (their aspect sizes the group), so they are kept on disk, keyed by the
    SVG's bytes, beside the rasterised objects."""
    import hashlib
    import json
    import os
    import tempfile

    digest = hashlib.sha256(_info(name).path.read_bytes()).hexdigest()[:16]
    cached = cache_root() / "visuals" / f"{name}-geometry-{digest}.json"
    try:
        box, size = json.loads(cached.read_text(encoding="utf-8"))
        if len(box) == 4 and len(size) == 2:
            return tuple(float(v) for v in box), (int(size[0]), int(size[1]))
    except (OSError, ValueError, TypeError):
        pass
    size = tuple(_tree(name).int_size())  # the SVG's width/height (its viewBox is mapped onto them)
    box = _measure_box(name, size)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump([box, size], f)
        os.replace(tmp, cached)
    except OSError:
        pass
    return box, size


def _render(name: str, scale: float, dx: float, dy: float, size: tuple[int, int]) -> Image.Image:
    from resvg import render

    png = render(_tree(name), (scale, 0.0, dx, 0.0, scale, dy), bg_size=size)
    im = Image.open(io.BytesIO(bytes(png)))
    im.load()
    return im.convert("RGBA") if im.mode != "RGBA" else im


def _content_box(name: str) -> tuple[float, float, float, float]:
    return _geometry(name)[0]


def _measure_box(name: str, size: tuple[int, int]) -> tuple[float, float, float, float]:
    vw, vh = size
    s = _REFERENCE_PX / vh
    w, h = max(1, round(vw * s)), _REFERENCE_PX
    bbox = _render(name, s, 0.0, 0.0, (w, h)).getchannel("A").getbbox()
    if bbox is None:
        raise AssetError(f"vector object '{name}' draws nothing", "check its SVG and objects.yaml")
    x0, y0, x1, y1 = bbox  # one reference pixel of margin on each side, so no antialiased edge is cut
    return (max(0, x0 - 1) / w, max(0, y0 - 1) / h, min(w, x1 + 1) / w, min(h, y1 + 1) / h)


@lru_cache(maxsize=256)
def _raster(name: str, height_px: int, trim: bool) -> Image.Image:
    vw, vh = _tree_size(name)
    if not trim:
        s = height_px / vh
        return _render(name, s, 0.0, 0.0, (max(1, round(vw * s)), height_px))
    x0, y0, x1, y1 = _content_box(name)
    s = height_px / ((y1 - y0) * vh)
    width = max(1, round((x1 - x0) * vw * s))
    return _render(name, s, -x0 * vw * s, -y0 * vh * s, (width, height_px))


def raster(name: str, height_px: int, *, trim: bool = True) -> Image.Image:
    """The object as an RGBA image exactly `height_px` tall, rendered from its SVG at that size (crisp, not scaled).

    trim=True (default): the artwork fills the image (its width follows `ObjectInfo.aspect`), so the bottom edge is
    where the object stands: put a contact shadow there. trim=False: the whole square viewBox, emoji padding
    included. The same call always gives the same pixels; results are cached per (name, height, trim) and each
    call returns its own copy, so callers may draw on it."""
    if not isinstance(height_px, int) or isinstance(height_px, bool) or not 1 <= height_px <= MAX_HEIGHT:
        raise ValueError(f"height_px must be an int from 1 to {MAX_HEIGHT}, not {height_px!r}")
    _info(name)
    return _raster(name, height_px, bool(trim)).copy()


def clear_cache() -> None:
    """Forget cached rasters (e.g. to measure a cold render, or to free memory after a large batch)."""
    _raster.cache_clear()
