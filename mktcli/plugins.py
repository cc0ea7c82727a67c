"""Engines registered by name through entry-point groups (mkt.visual.v1, mkt.copy.v1): the built-in ones work from a
source tree without entry-point metadata, third-party ones from their own packages. Shared by every engine kind."""
from __future__ import annotations

from functools import lru_cache

from .errors import EngineError

# The engines of each kind, by the name a brief gives (visual.engine, copy.engine). The built-in ones are declared as
# entry points too (pyproject.toml); listed here for a source tree without entry-point metadata, and so that a brief's
# engine names are known without importing any engine.
VISUAL_GROUP = "mkt.visual.v1"
VISUAL_BUILTIN = {
    "procedural": "mktcli.visual.procedural:ProceduralEngine",
    "illustration": "mktcli.visual.illustration:IllustrationEngine",
    "image": "mktcli.visual.photo:ImageEngine",
    "diffusers": "mktcli.visual.diffusion:DiffusersEngine",
}
COPY_GROUP = "mkt.copy.v1"
COPY_BUILTIN = {"template": "mktcli.copywriting.template:TemplateEngine", "llm": "mktcli.copywriting.llm:LlmEngine"}


def registered(group: str, builtin: dict[str, str]) -> dict[str, str]:
    """name → 'module:Class' for an entry-point group, on top of the built-in targets."""
    from importlib.metadata import entry_points

    return {**builtin, **{ep.name: ep.value for ep in entry_points(group=group)}}


def load_class(targets: dict[str, str], name: str, what: str, listed_as: str):
    """The class registered under `name`; an unknown name or a plugin that fails to import is a clear error
    (and a broken plugin does not take the others down)."""
    import importlib

    if name not in targets:
        raise EngineError(f"unknown {what} '{name}'", f"{listed_as}: " + ", ".join(sorted(targets)))
    mod, _, attr = targets[name].partition(":")
    try:
        return getattr(importlib.import_module(mod), attr)
    except Exception as e:  # noqa: BLE001 — whatever a third-party package raises on import
        raise EngineError(f"{what} '{name}' failed to load: {e}",
                          "reinstall the package that provides it, or pick another engine") from None


@lru_cache(maxsize=1)
def visual_engines() -> dict[str, str]:
    """name → 'module:Class' for every registered visual engine (visual/base.py loads them)."""
    return registered(VISUAL_GROUP, VISUAL_BUILTIN)


@lru_cache(maxsize=1)
def copy_engines() -> dict[str, str]:
    """name → 'module:Class' for every registered copy engine (copywriting/base.py loads them)."""
    return registered(COPY_GROUP, COPY_BUILTIN)
