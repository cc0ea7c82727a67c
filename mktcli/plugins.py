"""Engines registered by name through entry-point groups (mkt.visual.v1, mkt.copy.v1): the built-in ones work from a
source tree without entry-point metadata, third-party ones from their own packages. Shared by every engine kind."""
from __future__ import annotations

from .errors import EngineError


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
