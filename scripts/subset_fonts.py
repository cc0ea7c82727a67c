#!/usr/bin/env python3
"""Build the bundled, subset Chinese fonts in ``assets/fonts/``.

The fonts are not downloaded: they are taken from Debian packages that must be
installed on the machine that runs this script::

    sudo apt-get install fonts-noto-cjk fonts-smiley-sans fonts-lxgw-wenkai

Sources (found by file name anywhere under ``--src-dir``, default
``/usr/share/fonts``):

* ``NotoSansCJK-Regular.ttc`` / ``NotoSansCJK-Bold.ttc`` (fonts-noto-cjk): the face
  whose name-table family (name ID 1) is exactly "Noto Sans CJK SC" is extracted
  (not "Noto Sans Mono CJK SC") and written as ``NotoSansSC-Regular.otf`` /
  ``NotoSansSC-Bold.otf`` (CFF outlines, so .otf).
* ``SmileySans-Oblique.ttf`` (or ``.otf``) (fonts-smiley-sans), 得意黑, the display face.
* ``LXGWWenKai-Regular.ttf`` (fonts-lxgw-wenkai), 霞鹜文楷; falls back to the Light
  weight if the package ships no Regular.

Every font is subset with ``fontTools.subset`` to one fixed character set: all of
GB 2312 (every valid two-byte code 0xA1A1-0xF7FE decoded with Python's ``gb2312``
codec), printable ASCII, CJK Symbols and Punctuation (U+3000-303F), Halfwidth and
Fullwidth Forms (U+FF00-FFEF), General Punctuation U+2010-2027 and U+2030-203B, and
a few marketing symbols (¥ × ÷ · ° ± ‰ ℃ ①-⑩ ※ ★ ☆ √ 〇). Characters a source font
does not have are simply absent from its subset; the script prints how many.

The default OpenType layout features of fontTools plus kern, liga, palt, halt, vert,
vrt2, locl and ccmp are kept; hinting is dropped; the whole name table (all name
IDs, all languages, Mac and Windows records) and OS/2 are kept; timestamps are not
recalculated, so the same inputs and the same fontTools version give the same bytes.

The script also writes ``assets/fonts/LICENSES/<Family>-OFL.txt`` (the SIL OFL 1.1
text extracted from ``/usr/share/doc/<package>/copyright`` with each family's
copyright and Reserved Font Name lines) and the registry ``assets/fonts/fonts.yaml``
(package versions from ``dpkg-query``).

Licensing note: a subset is a "Modified Version" under the OFL. Smiley Sans
(Reserved Font Names "Smiley", "得意黑") and LXGW WenKai ("霞鹜", "LXGW") declare
Reserved Font Names that a Modified Version may not use as its primary font name
without permission. By default the original names are kept unchanged (honest
provenance; see assets/fonts/README.md); ``--rename-reserved`` rewrites the
primary names (name IDs 1, 3, 4, 6, 16, 18, 21) of those two families to neutral
names, leaving the copyright (ID 0) and licence (IDs 13, 14) records untouched.

Usage::

    python scripts/subset_fonts.py [--src-dir /usr/share/fonts] [--doc-dir /usr/share/doc]
                                   [--out-dir assets/fonts] [--rename-reserved]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 8 * 1024 * 1024  # per-file git limit for this repo

# Layout features kept on top of fontTools' defaults (explicit, so a change in the
# defaults never silently drops one of these).
REQUIRED_FEATURES = ("kern", "liga", "palt", "halt", "vert", "vrt2", "locl", "ccmp")

EXTRA_CHARS = "¥×÷·°±‰℃①②③④⑤⑥⑦⑧⑨⑩※★☆√〇"


@dataclass(frozen=True)
class Family:
    key: str  # licence file stem, e.g. "NotoSansCJK"
    package: str  # Debian package
    copyright_lines: tuple[str, ...]  # upstream copyright + Reserved Font Name statements
    reserved_names: tuple[str, ...]  # OFL Reserved Font Names (may be empty)
    # (old, new) substring replacements used only with --rename-reserved
    renames: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Target:
    role: str  # key in fonts.yaml
    family: Family
    sources: tuple[str, ...]  # candidate source file names, first found wins
    out_stem: str | None  # output name without extension; None = source stem
    collection_family: str | None  # for .ttc: exact name ID 1 of the face to extract
    weight: int
    style: str
    registry_family: str  # family as written to fonts.yaml
    renamed_family: str | None = None  # family written to fonts.yaml with --rename-reserved


NOTO = Family(
    key="NotoSansCJK",
    package="fonts-noto-cjk",
    copyright_lines=(
        "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'.",
        "(upstream LICENSE of https://github.com/notofonts/noto-cjk; the font's own name"
        " table reads: (c) 2014-2021 Adobe (http://www.adobe.com/).)",
        "Debian fonts-noto-cjk debian/copyright: Copyright 2010-2012, Google Corporation.",
        "Noto is a trademark of Google Inc.",
    ),
    # 'Source' is reserved; the Noto names do not use it, so no rename is needed.
    reserved_names=("Source",),
)

SMILEY = Family(
    key="SmileySans",
    package="fonts-smiley-sans",
    copyright_lines=(
        "Copyright (c) 2022--2023, atelierAnchor <https://atelier-anchor.com>,",
        "with Reserved Font Name <Smiley> and <得意黑>.",
        "(upstream LICENSE of https://github.com/atelier-anchor/smiley-sans; the font's own"
        " name table reads: Copyright (c) 2022-2023 atelierAnchor. All rights reserved.)",
    ),
    reserved_names=("Smiley", "得意黑"),
    renames=(("Smiley Sans", "MKT Display"), ("SmileySans", "MKTDisplay"), ("得意黑", "MKT Display")),
)

LXGW = Family(
    key="LXGWWenKai",
    package="fonts-lxgw-wenkai",
    copyright_lines=(
        "Copyright 2021-2023 LXGW (https://github.com/lxgw/LxgwWenKai)",
        "Copyright 2020 The Klee Project Authors (https://github.com/fontworks-fonts/Klee)",
        'With Reserved Font Names "霞鹜" and "LXGW" (Debian fonts-lxgw-wenkai debian/copyright;'
        " upstream README: derived fonts may not use these names).",
        "Klee is a trademark of Fontworks Inc.",
    ),
    reserved_names=("霞鹜", "LXGW"),
    renames=(("LXGW WenKai", "MKT Kai"), ("LXGWWenKai", "MKTKai"), ("霞鹜文楷", "MKT Kai")),
)

TARGETS = (
    Target("sans", NOTO, ("NotoSansCJK-Regular.ttc",), "NotoSansSC-Regular", "Noto Sans CJK SC",
           400, "sans", "Noto Sans CJK SC"),
    Target("sans-bold", NOTO, ("NotoSansCJK-Bold.ttc",), "NotoSansSC-Bold", "Noto Sans CJK SC",
           700, "sans", "Noto Sans CJK SC"),
    Target("display", SMILEY, ("SmileySans-Oblique.ttf", "SmileySans-Oblique.otf"), None, None,
           400, "display", "Smiley Sans", "MKT Display"),
    Target("kai", LXGW, ("LXGWWenKai-Regular.ttf", "LXGWWenKai-Light.ttf"), None, None,
           400, "kai", "LXGW WenKai", "MKT Kai"),
)

RENAMED_NAME_IDS = (1, 3, 4, 6, 16, 18, 21)

OFL_MARKERS = (
    "SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007",
    "PREAMBLE",
    "DEFINITIONS",
    "PERMISSION & CONDITIONS",
    "1) Neither the Font Software",
    "2) Original or Modified Versions",
    "3) No Modified Version",
    "4) The name(s) of the Copyright Holder(s)",
    "5) The Font Software, modified or unmodified",
    "TERMINATION",
    "DISCLAIMER",
    "OTHER DEALINGS IN THE FONT SOFTWARE.",
)


# --------------------------------------------------------------------------- charset


def gb2312_chars() -> list[str]:
    """Every character of GB 2312: valid two-byte codes 0xA1A1-0xF7FE."""
    out = []
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                out.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return out


def target_codepoints() -> list[int]:
    cps: set[int] = {ord(c) for c in gb2312_chars()}
    cps.update(range(0x20, 0x7F))  # printable ASCII
    cps.update(range(0x3000, 0x3040))  # CJK Symbols and Punctuation
    cps.update(range(0xFF00, 0xFFF0))  # Halfwidth and Fullwidth Forms
    cps.update(range(0x2010, 0x2028))  # General Punctuation (dashes, quotes, ellipsis)
    cps.update(range(0x2030, 0x203C))  # General Punctuation (per mille ... reference mark)
    cps.update(ord(c) for c in EXTRA_CHARS)
    return sorted(cps)


# --------------------------------------------------------------------------- helpers


def find_source(src_dir: Path, names: tuple[str, ...]) -> Path:
    for name in names:
        hits = sorted(src_dir.rglob(name))
        if hits:
            return hits[0]
    raise SystemExit(
        f"error: none of {', '.join(names)} found under {src_dir}; "
        "install fonts-noto-cjk fonts-smiley-sans fonts-lxgw-wenkai or pass --src-dir"
    )


def load_font(path: Path, collection_family: str | None) -> TTFont:
    kwargs = dict(recalcTimestamp=False, recalcBBoxes=False)
    if path.suffix.lower() not in (".ttc", ".otc"):
        return TTFont(path, **kwargs)
    coll = TTCollection(path, **kwargs)
    faces = [f for f in coll.fonts if f["name"].getDebugName(1) == collection_family]
    if len(faces) != 1:
        names = [f["name"].getDebugName(1) for f in coll.fonts]
        raise SystemExit(f"error: expected one face '{collection_family}' in {path}, found {names}")
    return faces[0]


def subset_options() -> subset.Options:
    opts = subset.Options()
    opts.layout_features = sorted(set(opts.layout_features) | set(REQUIRED_FEATURES))
    opts.hinting = False  # drops hint tables / TrueType instructions / CFF hints
    opts.desubroutinize = False  # keep CFF subroutines: smaller files
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.name_legacy = True  # keep Mac records too
    opts.notdef_glyph = True
    opts.notdef_outline = True
    opts.glyph_names = False
    opts.legacy_kern = False
    opts.recalc_timestamp = False
    opts.recalc_bounds = True  # deterministic: derived from the glyphs
    opts.prune_unicode_ranges = True
    opts.ignore_missing_unicodes = True
    return opts


def rename_reserved(font: TTFont, family: Family) -> None:
    name = font["name"]
    for rec in name.names:
        if rec.nameID not in RENAMED_NAME_IDS:
            continue
        text = rec.toUnicode()
        new = text
        for old, repl in family.renames:
            new = new.replace(old, repl)
        if new != text:
            rec.string = new
    for rec in name.names:
        if rec.nameID in RENAMED_NAME_IDS:
            text = rec.toUnicode()
            bad = [r for r in family.reserved_names if r in text]
            if bad:
                raise SystemExit(f"error: name ID {rec.nameID} still uses reserved name(s) {bad}: {text!r}")


def dpkg_version(package: str) -> str:
    try:
        res = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package],
            check=True, capture_output=True, text=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"error: cannot read the version of Debian package {package}: {exc}")
    return res.stdout.strip()


def extract_ofl(copyright_file: Path) -> str:
    """Return the OFL 1.1 text from a machine-readable debian/copyright file."""
    paragraphs = copyright_file.read_text(encoding="utf-8").split("\n\n")
    for para in paragraphs:
        lines = para.strip("\n").split("\n")
        head = lines[0]
        if not head.startswith("License:") or len(lines) < 10:
            continue
        if "SIL OPEN FONT LICENSE" not in para.upper():
            continue
        body = []
        for line in lines[1:]:
            line = line[1:] if line.startswith(" ") else line  # continuation marker
            body.append("" if line.strip() == "." else line.rstrip())
        text = textwrap.dedent("\n".join(body)).strip("\n")
        missing = [m for m in OFL_MARKERS if m not in " ".join(text.split()) and m not in text]
        if missing:
            raise SystemExit(f"error: OFL text in {copyright_file} lacks {missing}")
        return text + "\n"
    raise SystemExit(f"error: no SIL OFL 1.1 licence paragraph in {copyright_file}")


def licence_text(family: Family, ofl: str, version: str, outputs: list[str], renamed: bool) -> str:
    provenance = (
        f"Bundled in mktcli as {', '.join(outputs)}: subsets (Modified Versions under the OFL)"
        f" of the fonts in Debian package {family.package} {version}, made by"
        f" scripts/subset_fonts.py. The licence text below is the one in"
        f" /usr/share/doc/{family.package}/copyright."
    )
    if renamed and family.renames:
        new = family.renames[0][1]
        provenance += (
            f" Because of the Reserved Font Names above, the primary font name of the"
            f" subset was changed to \"{new}\"."
        )
    header = [
        *(textwrap.fill(line, 78) for line in family.copyright_lines),
        "",
        "This Font Software is licensed under the SIL Open Font License, Version 1.1.",
        "This license is copied below, and is also available with a FAQ at:",
        "https://openfontlicense.org",
        "",
        textwrap.fill(provenance, 78),
        "",
        "",
    ]
    return "\n".join(header) + ofl


def registry_yaml(rows: list[tuple[Target, str, str, str]], renamed: bool) -> str:
    lines = [
        "# Bundled fonts (SIL OFL 1.1), subset to GB2312 + ASCII + punctuation by scripts/subset_fonts.py",
        "fonts:",
    ]
    for target, file_name, licence_file, source in rows:
        family = target.renamed_family if (renamed and target.renamed_family) else target.registry_family
        key = f"{target.role}:".ljust(13)
        lines.append(
            f"  {key}{{file: {file_name}, family: \"{family}\", weight: {target.weight}, "
            f"style: {target.style}, licence: OFL-1.1, licence_file: {licence_file}, "
            f"source: \"{source}\"}}"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Subset the bundled OFL Chinese fonts from Debian font packages into assets/fonts/.",
        epilog="Needs Debian packages fonts-noto-cjk, fonts-smiley-sans and fonts-lxgw-wenkai.",
    )
    parser.add_argument("--src-dir", type=Path, default=Path("/usr/share/fonts"),
                        help="directory searched recursively for the source fonts (default: %(default)s)")
    parser.add_argument("--doc-dir", type=Path, default=Path("/usr/share/doc"),
                        help="where <package>/copyright is read for the licence text (default: %(default)s)")
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "assets" / "fonts",
                        help="output directory (default: assets/fonts in this repository)")
    parser.add_argument("--rename-reserved", action="store_true",
                        help="rename the primary font names of families with OFL Reserved Font Names"
                             " that the subset would otherwise keep (Smiley Sans, LXGW WenKai)")
    args = parser.parse_args(argv)

    out_dir: Path = args.out_dir
    lic_dir = out_dir / "LICENSES"
    out_dir.mkdir(parents=True, exist_ok=True)
    lic_dir.mkdir(parents=True, exist_ok=True)

    codepoints = target_codepoints()
    print(f"character set: {len(codepoints)} code points ({len(gb2312_chars())} from GB 2312)")

    versions: dict[str, str] = {}
    outputs_by_family: dict[str, list[str]] = {}
    rows: list[tuple[Target, str, str, str]] = []
    total = 0
    for target in TARGETS:
        fam = target.family
        version = versions.setdefault(fam.package, dpkg_version(fam.package))
        src = find_source(args.src_dir, target.sources)
        font = load_font(src, target.collection_family)
        cmap = font.getBestCmap()
        missing = [cp for cp in codepoints if cp not in cmap]

        subsetter = subset.Subsetter(options=subset_options())
        subsetter.populate(unicodes=codepoints)
        subsetter.subset(font)
        if args.rename_reserved and fam.renames:
            rename_reserved(font, fam)

        stem = target.out_stem or src.stem
        ext = ".otf" if "CFF " in font or "CFF2" in font else ".ttf"
        out_name = stem + ext
        out_path = out_dir / out_name
        font.save(out_path, reorderTables=True)
        glyphs = len(font.getGlyphOrder())
        font.close()

        size = out_path.stat().st_size
        total += size
        digest = hashlib.sha256(out_path.read_bytes()).hexdigest()[:16]
        print(f"{out_name:28s} {size / 1e6:6.2f} MB  {glyphs:6d} glyphs  sha256:{digest}  <- {src}")
        if missing:
            sample = "".join(chr(cp) for cp in missing[:40])
            print(f"    {len(missing)} requested code points not in source font, e.g. {sample}")
        if size >= MAX_BYTES:
            raise SystemExit(f"error: {out_path} is {size} bytes, over the {MAX_BYTES}-byte limit")

        outputs_by_family.setdefault(fam.key, []).append(out_name)
        licence_file = f"LICENSES/{fam.key}-OFL.txt"
        rows.append((target, out_name, licence_file, f"Debian {fam.package} {version}"))

    families = {t.family.key: t.family for t in TARGETS}
    for key, fam in families.items():
        ofl = extract_ofl(args.doc_dir / fam.package / "copyright")
        text = licence_text(fam, ofl, versions[fam.package], outputs_by_family[key], args.rename_reserved)
        (lic_dir / f"{key}-OFL.txt").write_text(text, encoding="utf-8")
        print(f"LICENSES/{key}-OFL.txt written from {args.doc_dir / fam.package / 'copyright'}")

    (out_dir / "fonts.yaml").write_text(registry_yaml(rows, args.rename_reserved), encoding="utf-8")
    print(f"fonts.yaml written; total font bytes {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
