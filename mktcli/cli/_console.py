"""The rich consoles every command prints through: no emoji codes and no highlighting, so a user's text is shown
as written (':x:' in a brief stays ':x:'; markup in user text is escaped where it is printed)."""
from __future__ import annotations

from typing import Any


def console(stderr: bool = False, **kw: Any):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, emoji=False, **kw)
