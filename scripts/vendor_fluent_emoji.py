#!/usr/bin/env python3
"""Regenerate ``assets/visuals/fluent-emoji/*.svg``, the vector objects of mkt's key visuals, from the npm tarball.

Input: ``assets/visuals/fluent-emoji/objects.yaml`` (which icons, under which names, and the ``edits`` that adapt
the artwork for Chinese posters) and the tarball of the npm package it names (``@iconify-json/fluent-emoji``, the
version pinned there). The package ships every icon of Microsoft's Fluent Emoji (colour style, MIT) as an SVG body in
``package/icons.json``; each object becomes one standalone SVG document with the icon's viewBox. Output is a pure
function of the two inputs, so the same tarball always gives the same bytes; ``*.svg`` files in the folder that are
not in the list are removed. Run from the repository root::

    python scripts/vendor_fluent_emoji.py                       # runs `npm pack` for the pinned version
    python scripts/vendor_fluent_emoji.py --tarball iconify-json-fluent-emoji-1.2.7.tgz
    python scripts/vendor_fluent_emoji.py --check               # exit 1 if the vendored files differ

Only the standard library and PyYAML are used (no rasteriser), so the bytes do not depend on a renderer's version.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "assets" / "visuals" / "fluent-emoji"
SVG_NS = "http://www.w3.org/2000/svg"
_REF = re.compile(r"url\(#([^)]+)\)")


class VendorError(Exception):
    pass


def npm_pack(package: str, version: str, dest: Path, timeout: float = 300) -> Path:
    """Download the package tarball with npm (the registry's ordinary client) into dest."""
    npm = shutil.which("npm")
    if not npm:
        raise VendorError("npm is not installed; pass --tarball PATH (from `npm pack " f"{package}@{version}`)")
    try:
        res = subprocess.run([npm, "pack", f"{package}@{version}", "--pack-destination", str(dest), "--silent"],
                             capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise VendorError(f"npm pack {package}@{version} took over {timeout:.0f} s (is the npm registry reachable?)")
    if res.returncode != 0:
        raise VendorError(f"npm pack {package}@{version} failed: {res.stderr.strip()[-500:]}")
    found = sorted(dest.glob("*.tgz"))
    if len(found) != 1:
        raise VendorError(f"npm pack left {len(found)} tarballs in {dest}")
    return found[0]


def read_package(tarball: Path) -> tuple[dict, dict]:
    """(package.json, icons.json) from the tarball."""
    with tarfile.open(tarball, "r:gz") as tar:
        def member(name: str) -> dict:
            try:
                f = tar.extractfile(f"package/{name}")
            except KeyError:
                raise VendorError(f"{tarball} has no package/{name}: not an iconify icon-set package") from None
            return json.load(f)
        return member("package.json"), member("icons.json")


def _icon(icons: dict, name: str) -> dict:
    if name in icons["icons"]:
        return icons["icons"][name]
    alias = icons.get("aliases", {}).get(name)
    if alias is None:
        raise VendorError(f"no icon '{name}' in icons.json")
    if set(alias) - {"parent"}:  # flips / rotations are not needed by any object yet
        raise VendorError(f"icon '{name}' is an alias with a transformation ({sorted(alias)}); pick its parent")
    return _icon(icons, alias["parent"])


def _apply_edits(svg: str, name: str, edit: dict) -> str:
    ET.register_namespace("", SVG_NS)
    root = ET.fromstring(svg)
    parents = {child: parent for parent in root.iter() for child in parent}
    for i, step in enumerate(edit.get("steps", [])):
        prefix = step["match"]
        hits = [el for el in root.iter(f"{{{SVG_NS}}}path") if el.get("d", "").startswith(prefix)]
        if len(hits) != 1:
            raise VendorError(f"edits.{name}.steps[{i}]: {len(hits)} paths start with d=\"{prefix}\" (need exactly "
                              "1); the upstream artwork changed: look at it again and update the edit")
        el = hits[0]
        if step.get("remove"):
            parent = parents[el]
            parent.remove(el)
            while parent is not root and len(parent) == 0 and parent.tag == f"{{{SVG_NS}}}g":
                grand = parents[parent]
                grand.remove(parent)
                parent = grand
        else:
            old = dict(el.attrib)
            for key, value in step["set"].items():
                el.set(key, str(value).replace("{fill}", old.get("fill", "none")))
    _drop_unused_defs(root)
    return ET.tostring(root, encoding="unicode")


def _drop_unused_defs(root: ET.Element) -> None:
    """Remove gradients/filters that nothing outside <defs> refers to (directly or through another def)."""
    defs = [d for d in root.iter(f"{{{SVG_NS}}}defs")]
    by_id = {el.get("id"): el for d in defs for el in d if el.get("id")}

    def refs(el: ET.Element) -> set[str]:
        out = set()
        for sub in el.iter():
            for key, value in sub.attrib.items():
                out.update(_REF.findall(value))
                if key.endswith("href") and value.startswith("#"):
                    out.add(value[1:])
        return out

    used: set[str] = set()
    for child in root:
        if child.tag != f"{{{SVG_NS}}}defs":
            used |= refs(child)
    todo = list(used)
    while todo:
        el = by_id.get(todo.pop())
        if el is not None:
            new = refs(el) - used
            used |= new
            todo.extend(new)
    for d in defs:
        for el in list(d):
            if el.get("id") and el.get("id") not in used:
                d.remove(el)


def build(objects_yaml: Path, tarball: Path) -> dict[str, bytes]:
    """File name -> bytes of every vendored SVG."""
    spec = yaml.safe_load(objects_yaml.read_text(encoding="utf-8"))
    package, version = spec["source"]["package"], str(spec["source"]["version"])
    pkg, icons = read_package(tarball)
    if pkg.get("name") != package or pkg.get("version") != version:
        raise VendorError(f"{tarball} is {pkg.get('name')} {pkg.get('version')}, but {objects_yaml.name} pins "
                          f"{package} {version}: update source.version there (and look at the contact sheet again)")
    edits = spec.get("edits") or {}
    unknown = set(edits) - set(spec["objects"])
    if unknown:
        raise VendorError(f"edits for objects not in the list: {sorted(unknown)}")
    out: dict[str, bytes] = {}
    for name, obj in spec["objects"].items():
        icon_name = obj["icon"]
        icon = _icon(icons, icon_name)
        w, h = icon.get("width", icons.get("width", 16)), icon.get("height", icons.get("height", 16))
        left, top = icon.get("left", icons.get("left", 0)), icon.get("top", icons.get("top", 0))
        svg = (f'<svg xmlns="{SVG_NS}" width="{w}" height="{h}" viewBox="{left} {top} {w} {h}">'
               f'{icon["body"]}</svg>')
        changed = ""
        if name in edits:
            svg = _apply_edits(svg, name, edits[name])
            changed = f"; changed by mkt: {objects_yaml.name}, edits.{name}"
        head = (f'<!-- Fluent Emoji "{icon_name}" by Microsoft Corporation, MIT licence (see LICENSE); '
                f"from the npm package {package} {version}{changed} -->\n")
        out[f"{name}.svg"] = (head + svg + "\n").encode("utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tarball", type=Path, help="the package tarball (default: run `npm pack` for the pinned version)")
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="the folder with objects.yaml (written in place)")
    ap.add_argument("--check", action="store_true", help="compare with the files there instead of writing; exit 1 "
                    "if any differs, is missing or is extra")
    args = ap.parse_args(argv)
    objects_yaml = args.dir / "objects.yaml"
    try:
        spec = yaml.safe_load(objects_yaml.read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory() as tmp:
            tarball = args.tarball or npm_pack(spec["source"]["package"], str(spec["source"]["version"]), Path(tmp))
            files = build(objects_yaml, tarball)
    except VendorError as e:
        print(f"vendor_fluent_emoji: {e}", file=sys.stderr)
        return 2
    present = {p.name for p in args.dir.glob("*.svg")}
    if args.check:
        bad = sorted(n for n, b in files.items() if n not in present or (args.dir / n).read_bytes() != b)
        extra = sorted(present - set(files))
        for n in bad:
            print(f"differs or missing: {n}")
        for n in extra:
            print(f"not in objects.yaml: {n}")
        print(f"{len(files) - len(bad)}/{len(files)} files identical" + (f", {len(extra)} extra" if extra else ""))
        return 1 if bad or extra else 0
    for n, b in files.items():
        tmp = args.dir / (n + ".tmp")
        tmp.write_bytes(b)
        tmp.replace(args.dir / n)
    for n in sorted(present - set(files)):
        (args.dir / n).unlink()
    print(f"wrote {len(files)} SVG files to {args.dir}" + (f", removed {len(present - set(files))}"
                                                           if present - set(files) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
