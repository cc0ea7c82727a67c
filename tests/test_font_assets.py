"""The bundled fonts in assets/fonts/ are present, loadable, licensed and cover the text we set.

The files are produced by scripts/subset_fonts.py; these tests check the committed
outputs independently (the GB 2312 character set is recomputed here, not imported
from the script).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fontTools.ttLib import TTFont
from PIL import ImageFont

FONT_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"
REGISTRY = FONT_DIR / "fonts.yaml"
MAX_BYTES = 8 * 1024 * 1024

ASCII = [chr(cp) for cp in range(0x20, 0x7F)]
CJK_PUNCT = "，。、；：？！（）《》「」【】“”‘’…—％"
COMMON_MARKETING = "年化利率起立即申请"


def _gb2312() -> list[str]:
    chars = []
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


GB2312 = _gb2312()


def _registry() -> dict[str, dict]:
    with REGISTRY.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return data["fonts"]


FONTS = _registry()


def _missing(role: str, chars) -> list[str]:
    cmap = TTFont(FONT_DIR / FONTS[role]["file"], lazy=True).getBestCmap()
    return sorted({c for c in chars if ord(c) not in cmap})


def test_registry_has_required_roles():
    assert {"sans", "sans-bold", "display", "kai"} <= set(FONTS)
    assert len(GB2312) == 7445  # 682 symbols + 6763 hanzi: sanity check of the enumeration
    for role, entry in FONTS.items():
        for field in ("file", "family", "weight", "style", "licence", "licence_file", "source"):
            assert field in entry, f"{role}: missing {field}"
        assert entry["licence"] == "OFL-1.1"
    assert FONTS["sans"]["weight"] == 400 and FONTS["sans-bold"]["weight"] == 700


@pytest.mark.parametrize("role", sorted(FONTS))
def test_font_file_exists_is_small_and_loads(role):
    entry = FONTS[role]
    path = FONT_DIR / entry["file"]
    assert path.is_file(), path
    assert path.stat().st_size < MAX_BYTES, f"{path} is {path.stat().st_size} bytes"
    font = ImageFont.truetype(str(path), 48)
    left, top, right, bottom = font.getbbox("年化利率3.65%")
    assert right - left > 0 and bottom - top > 0


@pytest.mark.parametrize("role", sorted(FONTS))
def test_licence_file(role):
    lic = FONT_DIR / FONTS[role]["licence_file"]
    assert lic.is_file(), lic
    text = lic.read_text(encoding="utf-8")
    assert "SIL Open Font License" in text
    assert "Copyright" in text
    flat = " ".join(text.split())
    for marker in (
        "SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007",
        "PREAMBLE",
        "PERMISSION & CONDITIONS",
        "5) The Font Software, modified or unmodified",
        "TERMINATION",
        "DISCLAIMER",
        "OTHER DEALINGS IN THE FONT SOFTWARE.",
    ):
        assert marker in flat, f"{lic.name} lacks {marker!r}"


def test_licence_texts_are_the_same_ofl():
    bodies = set()
    for entry in FONTS.values():
        text = (FONT_DIR / entry["licence_file"]).read_text(encoding="utf-8")
        body = text[text.index("SIL OPEN FONT LICENSE Version 1.1"):]
        bodies.add(" ".join(body.replace("-", " ").split()))
    assert len(bodies) == 1


@pytest.mark.parametrize("role", ["sans", "sans-bold"])
def test_sans_covers_gb2312_ascii_and_punctuation(role):
    missing = _missing(role, [*GB2312, *ASCII, *CJK_PUNCT])
    assert not missing, f"{role} lacks {len(missing)} characters: {''.join(missing[:80])}"


@pytest.mark.parametrize("role", ["display", "kai"])
def test_display_and_kai_cover_digits_percent_and_common_text(role):
    missing = _missing(role, [*"0123456789", "%", *COMMON_MARKETING])
    assert not missing, f"{role} lacks {''.join(missing)}"


@pytest.mark.parametrize("role", ["display", "kai"])
def test_display_and_kai_cover_all_gb2312_hanzi(role):
    hanzi = [c for c in GB2312 if 0x4E00 <= ord(c) <= 0x9FFF]
    assert len(hanzi) == 6763
    missing = _missing(role, hanzi)
    assert not missing, f"{role} lacks {len(missing)} GB 2312 hanzi: {''.join(missing[:80])}"
