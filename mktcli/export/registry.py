"""Moved to mktcli.registry.store (issue 20): this name keeps old imports working for one release (0.2.x).
Import from mktcli.registry.store instead."""
from __future__ import annotations

from ..registry import store as _store
from ..registry.store import *  # noqa: F401,F403 — the public names, as before
from ..registry.store import MIGRATIONS, Registry, open_registry, registry_path  # noqa: F401 — named for readers


def __getattr__(name: str):
    # private names scripts may have reached for (`_write_withdrawals` …) still resolve
    return getattr(_store, name)
