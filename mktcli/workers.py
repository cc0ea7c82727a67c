"""What a worker process does first: leave when its parent is gone, and drop what it inherited but must not keep.

Shared by `mkt poster`'s forked render workers and `mkt batch`'s lanes."""
from __future__ import annotations

import os
import threading
import time

from .export import lock


def watch_parent(parent: int) -> None:
    """Exit when the parent process is gone (killed), instead of rendering on for nobody — and holding, through
    inherited descriptors, what the parent held."""

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="mkt-watch-parent").start()


def forget_inherited_locks() -> None:
    """In a forked child: close the descriptors of the bundle locks the parent holds (closing, not unlocking: the
    lock belongs to the parent's open file, which this would release for the parent too). A child that outlives a
    killed parent then keeps no bundle locked."""
    lock.close_inherited()
