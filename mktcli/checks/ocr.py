"""Read text back off a finished image with an OCR engine that ships its models (RapidOCR, the [ocr] extra).

Used where mkt must not trust a model's pixels: a headline the diffusion model drew is kept only when OCR reads
it back exactly. onnxruntime is imported on first use only."""
from __future__ import annotations

import os
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Line:
    text: str
    box: Box          # x0, y0, x1, y1 in the image's pixels
    score: float


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


@lru_cache(maxsize=1)
def _reader():
    from rapidocr_onnxruntime import RapidOCR

    # mkt reads crops of known, horizontal text: no angle classifier, and the detector never upscales a crop
    # past 960 px on its long side (its default, min side ≥ 736, made a 1242×120 strip 7,600 px wide)
    # MKT_OCR_THREADS: the ONNX threads of one reader (a worker of a parallel check sets it, so N workers do not
    # each start a thread per core)
    threads = int(os.environ.get("MKT_OCR_THREADS", "-1") or -1)
    return RapidOCR(det_limit_type="max", det_limit_side_len=960, use_cls=False, intra_op_num_threads=threads,
                    inter_op_num_threads=threads)


_lock = threading.Lock()   # one ONNX session, shared by render threads


def read_lines(img: Image.Image) -> list[Line]:
    """Every text line found, top to bottom then left to right."""
    import numpy as np

    with _lock:
        result, _ = _reader()(np.asarray(img.convert("RGB")))
    lines = []
    for quad, text, score in result or []:
        xs, ys = [p[0] for p in quad], [p[1] for p in quad]
        lines.append(Line(text, (min(xs), min(ys), max(xs), max(ys)), float(score)))
    return reading_order(lines)


def reading_order(lines: list[Line]) -> list[Line]:
    """Lines as a reader takes them: rows of lines whose vertical extents overlap (a small label beside a large
    figure on one baseline is one row: 年化利率 3.2%起), rows top to bottom, each row left to right."""
    rows: list[list[Line]] = []
    for ln in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        cy = (ln.box[1] + ln.box[3]) / 2
        row = rows[-1] if rows else None
        if row is not None and any(o.box[1] <= cy <= o.box[3] or ln.box[1] <= (o.box[1] + o.box[3]) / 2 <= ln.box[3]
                                   for o in row):
            row.append(ln)
        else:
            rows.append([ln])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.box[0])]


def read_line(img: Image.Image) -> str:
    """The text of an image holding one line (a crop of a one-line block), by the recogniser alone: no detection."""
    import numpy as np

    with _lock:
        result, _ = _reader()(np.asarray(img.convert("RGB")), use_det=False, use_cls=False, use_rec=True)
    return "".join(r[0] for r in result or [] if r and isinstance(r[0], str))


_SKIP = re.compile(r"[\s\u3000]")


_KEEP = set(".%")   # part of a figure: 3.2% and 32% must stay different


def normalise(text: str) -> str:
    """Text as a reader compares it: NFKC (full-width → half-width), no spaces, no punctuation except the
    decimal point and the percent sign; the dashes of a range become '-'."""
    t = unicodedata.normalize("NFKC", text)
    t = re.sub(r"(?<=[\d%])\s*[-~～–—至]\s*(?=\d)", "-", _SKIP.sub("", t))
    return "".join(ch for ch in t if ch in _KEEP or ch == "-" or not unicodedata.category(ch).startswith("P"))
