"""Moved to mktcli.registry.store (issue 20): this name keeps old imports working for one release (0.2.x), with a
DeprecationWarning. Import from mktcli.registry.store instead.

The names resolve on first use (PEP 562), so nothing is imported from a higher layer unless an old script asks:
the bundle layer (export/) never depends on the registry above it."""
from __future__ import annotations

import importlib
import warnings

_NEW_HOME = "mktcli.registry.store"
_NAMES = ("STATUSES", "TRANSITIONS", "BUSY_TIMEOUT_S", "SHEET_THUMB_PX", "MIGRATIONS", "RegistryError",
          "StatusRefused", "normalize", "search_text", "parse_since", "parse_sample_size", "CreativeRecord",
          "RegisterResult", "StatusChange", "Recall", "AuditItem", "Audit", "registry_path", "open_registry",
          "Registry", "allocate", "CSV_COLUMNS")
__all__ = list(_NAMES)   # what `from mktcli.export.registry import *` gave


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    warnings.warn(f"mktcli.export.registry is deprecated: import {name} from {_NEW_HOME} (removed in 0.3)",
                  DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(_NEW_HOME), name)
