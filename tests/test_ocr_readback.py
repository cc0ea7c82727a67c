"""Read finished posters back with a real OCR engine (RapidOCR ships its models in the wheel): the exact rate,
disclaimer and provider strings must be on the pixels, on dark and light brands, in every layout family."""
from __future__ import annotations

import re
import unicodedata

import pytest

from mktcli import make_posters

from .conftest import GOOD

rapidocr = pytest.importorskip("rapidocr_onnxruntime")


@pytest.fixture(scope="module")
def ocr():
    return rapidocr.RapidOCR()


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


LIGHT_BRAND = """version: 1
name: light
palette: {primary: "#F6F1E7", primary_dark: "#E9E0CF", accent: "#C8102E", accent_text: "#FFFFFF",
          light: "#FFFFFF", dark: "#222222", band: "#EFE8DA"}
"""


@pytest.mark.slow
@pytest.mark.parametrize("brand,apr,channels", [
    ("default", "4.35%", "[splash_1080x1920, app_banner, moments_square, dsp_728x90]"),
    ("light.yaml", "3.65%-18%", "[oceanengine_h, dsp_300x250, dsp_970x250, wechat_cover]"),
])
def test_required_strings_read_back(ocr, tmp_path, write_brief, brand, apr, channels):
    (tmp_path / "light.yaml").write_text(LIGHT_BRAND, encoding="utf-8")
    text = (GOOD.replace("version: 1\n", f"version: 1\nbrand: {brand}\n")
            .replace('apr: "3.2%"', f'apr: "{apr}"')
            .replace("segments: [养殖户, 种植户]", "segments: [养殖户]")
            .replace("[app_banner, moments_16x9]", channels)
            .replace("provider: 示例农村商业银行股份有限公司", "provider: 某某村镇银行股份有限公司"))
    res = make_posters(write_brief(text), tmp_path / "out")
    assert len(res.creatives) == 4 and not res.failures
    for c in res.creatives:
        d = c.data
        result, _ = ocr(str(res.out_dir / d["path"]))
        seen = norm("".join(r[1] for r in result or []))
        assert norm(apr.split("-")[0]) in seen, (d["channel"], seen)
        if min(d["width"], d["height"]) >= 250:
            assert norm("贷款额度、利率以实际审批结果为准") in seen, (d["channel"], seen)
            assert norm("本产品由某某村镇银行股份有限公司提供") in seen, (d["channel"], seen)


def test_altered_number_is_not_what_ocr_reads(ocr, tmp_path, write_brief):
    """The read-back is a real check: paint over the rate figure and the APR is no longer found."""
    from PIL import Image, ImageDraw

    res = make_posters(write_brief(GOOD.replace("[app_banner, moments_16x9]", "[moments_16x9]")
                                   .replace("segments: [养殖户, 种植户]", "segments: [养殖户]")), tmp_path / "o")
    d = res.creatives[0].data
    path = res.out_dir / d["path"]
    apr_box = next(b for b in d["blocks"] if b["role"] == "apr")["box"]
    with Image.open(path) as im:
        im = im.convert("RGB")
    ImageDraw.Draw(im).rectangle(apr_box, fill=(255, 255, 255))
    im.save(tmp_path / "altered.png")
    before = norm("".join(r[1] for r in (ocr(str(path))[0] or [])))
    after = norm("".join(r[1] for r in (ocr(str(tmp_path / "altered.png"))[0] or [])))
    assert "3.2%" in before and "3.2%" not in after
