"""A finished bundle read back: complete (manifest.json present), intact (every listed file has its sha256 and
size), and packed by `export_zip` into one deterministic zip to attach to a ticket or hand to a placement system."""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import BriefError, MktError
from ..userfiles import read_user_file
from .approval import approval_html
from .files import atomic_file, safe_join

MANIFEST = "manifest.json"
STORED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".zip")   # already compressed: deflate only costs time
_MAX_NAMED = 8                                                   # problems named in one error message


# the keys every manifest entry starts with, in this order (the rest follow as each creative kind adds them)
ENTRY_HEAD = ("id", "segment", "channel", "width", "height", "path", "format", "bytes", "sha256", "texts", "engines",
              "checks")


# What rendering one creative gives the bundle writer: the written creative, or why it could not be made.
@dataclass
class Creative:
    data: dict[str, Any]             # the manifest entry
    # the approval page's thumbnail (JPEG bytes, size), made where the image was encoded: in a render worker, not
    # in the parent after every worker is done; keyed by the file's sha256 on the page, never in the manifest
    thumb: tuple[bytes, tuple[int, int]] | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> str:
        return self.data["path"]


@dataclass
class Failure:
    segment: str
    channel: str
    error: MktError


class BundleError(BriefError):
    """A bundle that is incomplete, changed after it was made, or not a bundle at all (exit 2: bad input)."""


def find_manifest(bundle: str | Path) -> Path:
    """The manifest.json of a bundle given as its folder, its manifest, or OUT holding exactly one bundle. A
    folder without one is an incomplete bundle (the manifest is written last, when every creative is done)."""
    p = Path(bundle)
    if not p.exists():
        raise BriefError(f"{p} does not exist", key="BUNDLE", hint="give a bundle folder, e.g. out/<brief name>")
    if p.is_file():
        if p.name != MANIFEST:
            raise BriefError(f"{p} is not a bundle", key="BUNDLE",
                             hint="give the bundle folder mkt poster wrote (OUT/<brief name>) or its manifest.json")
        return p
    if (p / MANIFEST).exists():   # a FIFO or a folder there is refused by load_manifest, by name
        return p / MANIFEST
    found = sorted(p.glob(f"*/{MANIFEST}"))
    if len(found) == 1:
        return found[0]
    if found:
        raise BriefError(f"{p} holds {len(found)} bundles", key="BUNDLE", hint="give one bundle folder (OUT/<name>)")
    raise BundleError(f"incomplete bundle: {p} has no {MANIFEST} (it is written last, when every creative is done; "
                      "the run that made it was interrupted or is still going)", file=p, key="BUNDLE",
                      hint="re-run mkt poster BRIEF -o OUT; a bundle is complete once its manifest.json is written")


def load_manifest(bundle: str | Path) -> tuple[Path, dict[str, Any]]:
    """(bundle folder, manifest) for a bundle (see find_manifest); refuses an incomplete or unreadable one."""
    mpath = find_manifest(bundle)
    bundle_dir = mpath.parent
    try:
        # a regular file within files.json (a FIFO or /dev/zero planted as manifest.json is refused)
        manifest = json.loads(read_user_file(mpath, MANIFEST, "json").decode("utf-8"))
    except json.JSONDecodeError as e:
        raise BundleError(f"{MANIFEST} is not valid JSON ({e.msg})", file=mpath, line=e.lineno,
                          hint="re-run mkt poster BRIEF to rewrite the bundle") from None
    except (OSError, UnicodeDecodeError, RecursionError) as e:
        raise BundleError(f"cannot read {MANIFEST}: {type(e).__name__}", file=mpath,
                          hint="check the file's permissions, or re-run mkt poster BRIEF to rewrite the bundle") \
            from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise BundleError(f"{MANIFEST} has no list of files", file=mpath, key="files",
                          hint="this is not a bundle written by mkt poster")
    if manifest.get("version") != 1:
        raise BundleError(f"manifest version {manifest.get('version')!r} is not one this mkt reads (1)", file=mpath,
                          key="version", hint="use the mkt version that wrote the bundle, or re-run mkt poster")
    return bundle_dir, manifest


def listed_files(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every file the manifest lists (its `files`, each creative's file and layered files), path → {sha256, bytes}."""
    out: dict[str, dict[str, Any]] = {}
    creatives = [c for c in manifest.get("creatives", []) if isinstance(c, dict)]
    layers = [v for c in creatives if isinstance(c.get("layers"), dict) for v in c["layers"].values()]
    for f in [*manifest.get("files", []), *creatives, *layers]:
        if isinstance(f, dict) and isinstance(f.get("path"), str) and f["path"] != MANIFEST:
            out.setdefault(f["path"], {"sha256": f.get("sha256"), "bytes": f.get("bytes")})
    return out


def _digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    n = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
    return h.hexdigest(), n


def _problem(bundle_dir: Path, rel: str, want: dict[str, Any]) -> str | None:
    try:
        p = safe_join(bundle_dir, *rel.split("/"))
    except MktError:
        return f"{rel} (outside the bundle)"
    if not p.is_file():
        return f"{rel} (missing)"
    if not want.get("sha256"):
        return f"{rel} (no sha256 in {MANIFEST})"
    digest, size = _digest(p)
    if want.get("bytes") is not None and size != want["bytes"]:
        return f"{rel} ({size} bytes, manifest says {want['bytes']})"
    if digest != want["sha256"]:
        return f"{rel} (sha256 differs)"
    return None


def verify_bundle(bundle: str | Path) -> tuple[Path, dict[str, Any]]:
    """Load a bundle and check every listed file against the manifest; raise BundleError naming the bad ones."""
    bundle_dir, manifest = load_manifest(bundle)
    verify_files(bundle_dir, manifest)
    _check_manifest_unchanged(bundle_dir, manifest)
    return bundle_dir, manifest


def verify_files(bundle_dir: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists is there with its size and sha256; a BundleError naming the others."""
    problems = [p for rel, want in listed_files(manifest).items() if (p := _problem(bundle_dir, rel, want))]
    if problems:
        named = ", ".join(problems[:_MAX_NAMED]) + (f" and {len(problems) - _MAX_NAMED} more"
                                                    if len(problems) > _MAX_NAMED else "")
        raise BundleError(f"{len(problems)} file(s) do not match {MANIFEST}: {named}", file=bundle_dir / MANIFEST,
                          key="files", hint="the bundle changed after mkt poster wrote it: restore the files or "
                          "re-run mkt poster BRIEF to rebuild it")


def _check_manifest_unchanged(bundle_dir: Path, manifest: dict[str, Any]) -> None:
    """The manifest has no hash of its own (it is written last), but approval.html is made from it alone,
    deterministically, and is listed with its sha256: re-making the page tells whether the manifest was edited."""
    listed = {f.get("path"): f for f in manifest.get("files", []) if isinstance(f, dict)}
    page = listed.get("approval.html")
    if not page:
        return
    before = dict(manifest, files=[f for f in manifest["files"]
                                   if f.get("path") not in ("approval.html", "approval.md")])
    remade = approval_html(bundle_dir, before).encode("utf-8")
    if hashlib.sha256(remade).hexdigest() != page.get("sha256"):
        raise BundleError(f"{MANIFEST} was edited after the bundle was made (it no longer matches the approval "
                          "request made from it)", file=bundle_dir / MANIFEST, key="creatives",
                          hint="restore the manifest, or re-run mkt poster BRIEF to rebuild the bundle")


def _zip_time(created: Any) -> tuple[int, int, int, int, int, int]:
    """The entries' timestamp: the manifest's `created` (its own wall-clock time), so the zip has no clock in it."""
    try:
        dt = datetime.fromisoformat(str(created))
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)
    if dt.year < 1980:   # the zip format starts in 1980
        return (1980, 1, 1, 0, 0, 0)
    return (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)


def default_zip_path(bundle_dir: Path) -> Path:
    return bundle_dir.parent / f"{bundle_dir.name}.zip"


def _target(bundle_dir: Path, out: str | Path | None) -> Path:
    if out is None:
        return default_zip_path(bundle_dir)
    out = Path(out)
    if out.is_dir():
        out = out / f"{bundle_dir.name}.zip"
    elif out.suffix.lower() != ".zip":
        raise BriefError(f"{out} is neither a .zip file name nor an existing folder", key="--out",
                         hint=f"e.g. -o {bundle_dir.name}.zip, or leave -o out for {default_zip_path(bundle_dir)}")
    b = bundle_dir.resolve()
    if b in out.resolve().parents:
        raise BriefError(f"refusing to write the zip inside the bundle ({out})", key="--out",
                         hint=f"write it next to the bundle; the default is {default_zip_path(bundle_dir)}")
    return out


def export_zip(bundle: str | Path, out: str | Path | None = None) -> Path:
    """Verify a bundle and pack manifest.json plus every listed file under `<name>/` into one zip (default
    OUT/<name>.zip beside the bundle folder). Written atomically; the same bundle gives the same bytes."""
    bundle_dir, manifest = verify_bundle(bundle)
    target = _target(bundle_dir, out)
    top = bundle_dir.resolve().name
    when = _zip_time(manifest.get("created"))
    files = listed_files(manifest)
    with atomic_file(target) as fh:   # the zip appears whole or not at all
        with zipfile.ZipFile(fh, "w") as zf:
            for rel in sorted([*files, MANIFEST]):
                data = safe_join(bundle_dir, *rel.split("/")).read_bytes()
                if rel != MANIFEST and hashlib.sha256(data).hexdigest() != files[rel]["sha256"]:
                    raise BundleError(f"{rel} changed while the zip was being written", file=bundle_dir,
                                      key="files", hint="run mkt export again once the bundle is finished")
                info = zipfile.ZipInfo(f"{top}/{rel}", date_time=when)
                stored = rel.lower().endswith(STORED_SUFFIXES)
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                info.create_system = 3                  # unix, whatever the platform: same bytes everywhere
                info.external_attr = 0o100644 << 16     # a plain rw-r--r-- file
                info.flag_bits |= 0x800                 # names are UTF-8 (Chinese segment folders)
                zf.writestr(info, data, compresslevel=None if stored else 9)
    return target
