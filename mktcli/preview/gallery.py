"""`mkt preview`: a local gallery of one bundle or a whole batch output folder — every creative at true size and
in a phone mock-up, with its copy, checks, approval status and registry status.

The gallery is served on 127.0.0.1 only and sends nothing but the page and the files a loaded manifest lists,
resolved inside OUT; `write_gallery_html` writes the same page as a static file that links the images by relative
path. The page is rebuilt from the manifests on every load, so a batch that is still running shows new bundles."""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..checks import failed_errors
from ..errors import BriefError, MktError, clip
from ..export.approval import statuses
from ..export.bundle import MANIFEST, listed_files, load_manifest, verify_files
from ..registry.store import open_registry, registry_path

FILES_PREFIX = "/files/"              # URL prefix of the bundle files (the page itself is at /)

Href = Callable[[str], str]   # a file's path relative to OUT → the link the page uses for it


# ---------------------------------------------------------------------------------------------------- reading OUT


@dataclass
class BundleView:
    """One bundle folder under OUT: loaded (`manifest` set) or not (`problem` says why: incomplete, unreadable)."""

    name: str
    rel: str                      # folder relative to OUT, POSIX ('' when OUT is the bundle itself)
    manifest: dict[str, Any] | None = None
    problem: str | None = None
    refused: bool = False         # a manifest was read, but the files do not match it (sha256, size)
    stats: dict[str, Any] = field(default_factory=dict)   # listed file → its stat when its sha256 was checked

    def file_rel(self, path: str) -> str:
        """A path the manifest lists (relative to the bundle) as a path relative to OUT."""
        return f"{self.rel}/{path}" if self.rel else path

    @property
    def creatives(self) -> list[dict[str, Any]]:
        if not self.manifest:
            return []
        return [c for c in self.manifest.get("creatives", []) if isinstance(c, dict)]


@dataclass
class Gallery:
    root: Path
    bundles: list[BundleView] = field(default_factory=list)
    registry: dict[str, str] = field(default_factory=dict)   # creative id → draft | approved | live | recalled

    def listed(self) -> frozenset[str]:
        """Every file (relative to OUT) some loaded manifest lists: all the server may send besides the page."""
        return frozenset(b.file_rel(p) for b in self.bundles if b.manifest for p in listed_files(b.manifest))

    def verified_stats(self) -> dict[str, Any]:
        """Listed file (relative to OUT) → its stat when its sha256 was found to match the manifest."""
        return {b.file_rel(p): st for b in self.bundles if b.manifest for p, st in b.stats.items()}


def gallery_root(out: str | Path) -> Path:
    """OUT as a folder: a bundle folder, a folder of bundles, or a manifest.json (its folder)."""
    p = Path(out)
    if not p.exists():
        raise BriefError(f"{p} does not exist", key="OUT",
                         hint="give the folder mkt poster or mkt batch wrote, e.g. mkt preview out/")
    if p.is_file():
        if p.name != MANIFEST:
            raise BriefError(f"{p} is not a bundle folder", key="OUT",
                             hint="give a bundle folder (OUT/<brief name>), a folder of bundles, or a manifest.json")
        p = p.parent
    return p


def _visible_dirs(folder: Path, root: Path) -> list[Path]:
    """Sub-folders worth looking at: not hidden (OUT/.mkt, temp folders), not a symlink that leads outside OUT."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    out = []
    for d in entries:
        if d.name.startswith(".") or not d.is_dir():
            continue
        resolved = d.resolve()
        if resolved != root and root not in resolved.parents:
            continue
        out.append(d)
    return out


def find_bundle_dirs(root: Path) -> list[tuple[Path, bool]]:
    """(folder, has manifest.json) for each bundle under OUT: OUT itself, OUT/<name>, or OUT/<group>/<name>.

    A folder is a group when a sub-folder of it holds a manifest; otherwise a folder without a manifest is an
    incomplete bundle (its sub-folders are its segments, still being rendered)."""
    if (root / MANIFEST).is_file():
        return [(root, True)]
    real = root.resolve()
    found: list[tuple[Path, bool]] = []
    for d in _visible_dirs(root, real):
        if (d / MANIFEST).is_file():
            found.append((d, True))
            continue
        inner = _visible_dirs(d, real)
        if any((s / MANIFEST).is_file() for s in inner):
            found += [(s, (s / MANIFEST).is_file()) for s in inner]
        else:
            found.append((d, False))
    return found


BundleCache = dict   # folder → (fingerprint, BundleView, manifest read): what a server keeps between requests


def stat_key(p: Path) -> tuple | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _fingerprint(folder: Path, manifest: dict[str, Any] | None) -> tuple:
    """What a bundle's view depends on: its manifest's stat and, once it is read, every listed file's stat. Equal
    fingerprints: the manifest is not parsed again, nor the files hashed again."""
    head = stat_key(folder / MANIFEST)
    if manifest is None:
        return (head,)
    files = tuple((rel, stat_key(folder / rel)) for rel in sorted(listed_files(manifest)))
    return (head, files)


def _load_bundle(root: Path, folder: Path, complete: bool, cache: BundleCache | None = None) -> BundleView:
    rel = folder.relative_to(root).as_posix()
    rel = "" if rel == "." else rel
    view = BundleView(name=folder.name if rel else folder.resolve().name, rel=rel)
    if not complete:
        view.problem = (f"incomplete bundle: no {MANIFEST} yet (it is written last; the run is still going or "
                        "was interrupted)")
        return view
    key = str(folder)
    if cache is not None and key in cache:
        fp, cached, read = cache[key]
        if fp == _fingerprint(folder, read):
            return cached
    read = None
    fp = _fingerprint(folder, None)
    try:
        _, read = load_manifest(folder)
        fp = _fingerprint(folder, read)    # before the files are hashed: a change meanwhile is seen next time
        verify_files(folder, read)   # a bundle whose files are not the ones its manifest lists is not shown
        view.manifest = read
        view.stats = dict(fp[1])
        view.name = str((read.get("brief") or {}).get("name") or view.name)
    except MktError as e:
        view.problem = f"{e.message} ({e.hint})" if e.hint else e.message
        view.refused = read is not None
    if cache is not None:
        cache[key] = (fp, view, read)
    return view


def registry_statuses(ids: list[str], path: str | Path | None = None) -> dict[str, str]:
    """Registry status of the creatives it knows. Read only, and best effort: the gallery works without a registry
    (none yet, locked, broken), so it neither creates one nor lets one stop the page."""
    if not ids:
        return {}
    if not registry_path(path).is_file():   # opening would create an empty one
        return {}
    try:
        with open_registry(path) as reg:
            return {r.id: r.status for r in reg.find(ids=ids)}
    except (MktError, sqlite3.Error, OSError):
        return {}


def load_gallery(out: str | Path, *, registry: str | Path | None = None, require_bundle: bool = False,
                 cache: BundleCache | None = None, statuses: bool = True) -> Gallery:
    """Read every bundle under OUT (see find_bundle_dirs) and the registry status of its creatives (`registry`:
    the registry file, default as `mkt ls` finds it; `statuses=False` skips it). A bundle whose files do not match
    its manifest (sha256, size) is listed with that problem, and none of its files is served. `cache` keeps each
    bundle's view while its manifest and files are unchanged (the server's)."""
    root = gallery_root(out)
    gallery = Gallery(root, [_load_bundle(root, d, ok, cache) for d, ok in find_bundle_dirs(root)])
    if require_bundle and not any(b.manifest for b in gallery.bundles):
        refused = next((b for b in gallery.bundles if b.refused), None)
        if refused is not None:
            raise BriefError(f"{clip(refused.rel or str(out))}: {refused.problem}", key="OUT",
                             hint="re-run mkt poster BRIEF to rebuild the bundle")
        raise BriefError(f"no bundles in {clip(str(out))} (no manifest.json in it or its subfolders)", key="OUT",
                         hint="preview what mkt poster or mkt batch wrote, e.g. mkt preview out/ (a bundle still "
                              "being written shows once its manifest.json lands)")
    if statuses:
        ids = [str(c.get("id")) for b in gallery.bundles for c in b.creatives if c.get("id")]
        gallery.registry = registry_statuses(ids, registry)
    return gallery


# ---------------------------------------------------------------------------------------------------- gallery data


def mockup_kind(c: dict[str, Any]) -> str:
    """How a phone shows this creative: a banner atop an app screen, a full-screen splash, a card in a feed, or
    (text creatives) an SMS bubble, a lock-screen push or an outbound-call script."""
    if c.get("format") == "text":
        return {"sms": "sms", "push": "push", "call_script": "call"}.get(str(c.get("channel")), "note")
    w, h = c.get("width") or 0, c.get("height") or 0
    if not (isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0):
        return "feed"
    if w >= 2.5 * h:
        return "banner"
    if h >= 1.4 * w:
        return "splash"
    return "feed"


def approval_status(manifest: dict[str, Any]) -> dict[str, str]:
    return statuses(manifest)


def server_href(rel: str) -> str:
    return FILES_PREFIX + quote(rel, safe="/")


def relative_href(page: Path, root: Path) -> Href:
    """Links from a static page at `page` to files under OUT, relative so the folder can move or be zipped."""
    base = page.resolve().parent
    real_root = root.resolve()

    def href(rel: str) -> str:
        try:
            return quote(Path(os.path.relpath(real_root / rel, base)).as_posix(), safe="/")
        except ValueError:   # another drive (Windows): no relative path exists
            return (real_root / rel).as_uri()
    return href


def _creative_data(b: BundleView, c: dict[str, Any], status: str, reg: str | None, href: Href) -> dict[str, Any]:
    checks = [k for k in c.get("checks", []) if isinstance(k, dict)]
    layers = c.get("layers") if isinstance(c.get("layers"), dict) else {}
    paths = {k: (v.get("path") if isinstance(v, dict) else v) for k, v in layers.items() if k in ("psd", "svg")}
    path = str(c.get("path", ""))
    return {
        "id": c.get("id"), "brief": b.name, "segment": c.get("segment"), "channel": c.get("channel"),
        "width": c.get("width"), "height": c.get("height"), "format": c.get("format"), "bytes": c.get("bytes"),
        "mockup": mockup_kind(c), "status": status, "registry": reg,
        "path": b.file_rel(path), "url": href(b.file_rel(path)),
        "layers": {k: href(b.file_rel(p)) for k, p in paths.items() if isinstance(p, str) and p},
        "texts": c.get("texts") or {},
        "checks": {"total": len(checks), "failed_errors": len(failed_errors(checks)),
                   "failed": [k for k in checks if not k.get("passed", True)]},
    }


def gallery_data(gallery: Gallery, href: Href = server_href, base_url: str | None = None) -> dict[str, Any]:
    """The gallery as plain data (what --json prints): bundles, their creatives with links, and counts."""
    bundles, counts = [], {"bundles": 0, "incomplete": 0, "creatives": 0, "ready": 0, "blocked": 0}
    for b in gallery.bundles:
        entry: dict[str, Any] = {"name": b.name, "folder": b.rel or ".", "complete": b.manifest is not None,
                                 "problem": b.problem, "creatives": []}
        if b.manifest is None:
            counts["incomplete"] += 1
        else:
            counts["bundles"] += 1
            st = approval_status(b.manifest)
            entry["created"] = b.manifest.get("created")
            entry["failures"] = b.manifest.get("failures", [])
            if "approval.html" in listed_files(b.manifest):
                entry["approval"] = href(b.file_rel("approval.html"))
            for c in b.creatives:
                status = st.get(c.get("id"), "ready")
                entry["creatives"].append(_creative_data(b, c, status, gallery.registry.get(str(c.get("id"))),
                                                         href))
                counts["creatives"] += 1
                counts["blocked" if status == "blocked" else "ready"] += 1
        bundles.append(entry)
    return {"root": str(gallery.root), "url": base_url, "counts": counts, "bundles": bundles}
