"""The names a brief may use for its key visual and layout, read from the package's data files without loading the
engines that draw them: layout families (configs/layouts/), themes (configs/visuals.yaml `themes:`) and vector
objects (assets/visuals/fluent-emoji/objects.yaml `objects:`).

brief.py checks a brief against these when it is loaded (with a did-you-mean); the engines read the same files in
full (compose/layout.py, visual/illustration.py, visual/vector.py) and report a broken file where they use it.
tests/test_catalog.py holds the two readings to the same names."""
from __future__ import annotations

from functools import lru_cache

from .paths import configs_dir, data_root
from .yamlio import load_yaml


def _mapping(data, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


@lru_cache(maxsize=1)
def layout_families() -> list[str]:
    """The family names every layout shape offers (brief `visual.layout`, `--layout`): compose.layout.family_names."""
    shapes: dict[str, set[str]] = {}
    for p in sorted((configs_dir() / "layouts").glob("*.yaml")):
        data = load_yaml(p, what="layout").data
        shapes[str(data.get("shape") if isinstance(data, dict) else p.stem)] = set(map(str, _mapping(data, "families")))
    sets = list(shapes.values())
    return sorted(set.intersection(*sets)) if sets else []


@lru_cache(maxsize=1)
def themes() -> list[str]:
    """The seasons and festivals a brief's `visual.theme` may name: visual.illustration.themes."""
    return sorted(str(k) for k in _mapping(load_yaml(configs_dir() / "visuals.yaml", what="visuals").data, "themes"))


@lru_cache(maxsize=1)
def object_names() -> list[str]:
    """The vendored objects a brief's `visual.objects` may name: the keys of visual.vector.objects()."""
    path = data_root() / "assets" / "visuals" / "fluent-emoji" / "objects.yaml"
    return [str(k) for k in _mapping(load_yaml(path, what="vector object list").data, "objects")]
