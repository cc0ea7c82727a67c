"""Watch mode: render a brief, then render it again whenever the brief or a file it uses changes.

The files a brief uses are found the way the renderer finds them: visual.image (relative to the brief), the brand
file and its logo, the channel preset files and the rules files (given and per user, MKT_HOME). The folders that hold
them are watched (not the files: an editor's atomic save replaces the file, and a watch on the old one would go
quiet), and only changes to those exact paths count. A brief made invalid by an edit is reported through
`on_error`; the watcher keeps going and the previous bundle stays as it was (a brief is validated before anything
is written). `watchfiles` is imported here only, so `mkt --help` does not pay for it."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from .brand import load_brand, resolve_brand_path
from .brief import load_brief
from .errors import MktError
from .paths import user_dir

DEBOUNCE_MS = 300   # an editor's save is often several writes; one render for them


def dependencies(brief_path: str | Path, channel_files: Iterable = (), rules: Iterable = ()) -> set[Path]:
    """Every file a render of the brief reads that a user may edit. Raises the brief's own error when it is invalid."""
    channel_files, rules = list(channel_files or ()), list(rules or ())
    deps = {Path(brief_path), user_dir() / "channels.yaml", user_dir() / "compliance.yaml",
            *map(Path, channel_files), *map(Path, rules)}
    brief = load_brief(brief_path, channel_files=channel_files)
    if brief.image_path():
        deps.add(brief.image_path())
    brand_file = resolve_brand_path(brief.brand, brief.base_dir)
    if brand_file is not None:
        deps.add(brand_file)
        logo = load_brand(brief.brand, brief.base_dir, brief_file=brief.path).logo_path()
        if logo is not None:
            deps.add(logo)
    return {_real(p) for p in deps}


def _real(p: str | Path) -> Path:
    return Path(os.path.realpath(p))


def _snapshot(paths: Iterable[Path]) -> dict[Path, tuple[int, int] | None]:
    """(mtime, size) per file, None when missing: catches a change made while no watcher was running."""
    out: dict[Path, tuple[int, int] | None] = {}
    for p in paths:
        try:
            st = p.stat()
            out[p] = (st.st_mtime_ns, st.st_size)
        except OSError:
            out[p] = None
    return out


class _Round:
    """One render and the files to watch after it (the last good set, plus the brief, when the brief is broken)."""

    def __init__(self, path: Path, render: Callable[[Path], Any], channel_files, rules,
                 on_error: Callable[[MktError], Any] | None):
        self.path, self.render, self.channel_files, self.rules = path, render, channel_files, rules
        self.on_error = on_error
        self.deps: set[Path] = {_real(path)}
        self.errors = 0

    def run(self) -> dict[Path, tuple[int, int] | None]:
        before = _snapshot(self.deps)
        try:
            self.render(self.path)
        except MktError as e:
            self.errors += 1
            if self.on_error:
                self.on_error(e)
        try:
            self.deps = dependencies(self.path, self.channel_files, self.rules)
        except MktError:
            self.deps = self.deps | {_real(self.path)}   # keep watching what the last good brief used
        # what changed during the render is caught by comparing with the snapshot taken before it
        return {p: before.get(p, _snapshot([p])[p]) for p in self.deps}


def watch_brief(path: str | Path, render: Callable[[Path], Any], *, channel_files: Iterable = (),
                rules: Iterable = (), stop_event: threading.Event | None = None, max_rounds: int | None = None,
                debounce_ms: int = DEBOUNCE_MS, on_error: Callable[[MktError], Any] | None = None,
                on_wait: Callable[[list[Path]], Any] | None = None) -> int:
    """Call `render(path)` now and after every change to the brief or a file it uses, until `stop_event` is set
    or `max_rounds` renders are done (Ctrl-C raises KeyboardInterrupt to the caller). A `MktError` from `render`
    goes to `on_error` and the watch goes on. Returns the number of renders."""
    import watchfiles

    rnd = _Round(Path(path), render, list(channel_files or ()), list(rules or ()), on_error)
    seen = rnd.run()
    rounds = 1
    while (max_rounds is None or rounds < max_rounds) and not (stop_event and stop_event.is_set()):
        if on_wait:
            on_wait(sorted(rnd.deps))
        if _snapshot(seen) == seen and not _wait_for_change(watchfiles, rnd.deps, seen, stop_event, debounce_ms):
            break   # stopped
        seen = rnd.run()
        rounds += 1
    return rounds


def _wait_for_change(watchfiles, deps: set[Path], seen: dict, stop_event, debounce_ms: int) -> bool:
    """Block until one of `deps` changes (True) or `stop_event` is set (False)."""
    folders = sorted({p.parent for p in deps if p.parent.is_dir()})
    wanted = {str(p) for p in deps}

    def relevant(_change, changed: str) -> bool:
        return changed in wanted or os.path.realpath(changed) in wanted

    for _ in watchfiles.watch(*folders, watch_filter=relevant, debounce=debounce_ms, step=50,
                              stop_event=stop_event, recursive=False, rust_timeout=1000, yield_on_timeout=True):
        if stop_event is not None and stop_event.is_set():
            return False
        if _snapshot(seen) != seen:   # a real change (a touch that rewrote the same bytes still counts: mtime)
            return True
    return False
