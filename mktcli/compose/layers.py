"""The record of how a poster was painted, layer by layer, for the designer's editable files (PSD, SVG).

Every paint on the canvas is "a solid colour through a coverage mask" (text glyphs, plates, bands, chips, the
CTA button) or a pasted picture (a logo). The composer paints the flat poster as before and, when recording,
also hands each paint here with the block it belongs to. A layer is then exactly its paints composited in order:
stacking the layers over the background gives back the flat poster (up to 8-bit rounding), each text block is a
layer of its own, and the background layer has no text on it — so a designer can hide or retype any string."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

Box = tuple[int, int, int, int]

# what a shape layer is called after the block it serves (text layers are named by their exact text)
SHAPE_NAMES = {"scrim": "scrim", "legal": "legal band", "headline": "headline plate", "subhead": "subhead plate",
               "apr": "rate plate", "perks": "perk chips", "cta": "cta button", "logo": "logo mark",
               "ai_label": "ai label pill", "disclaimer": "disclaimer plate", "provider": "provider plate",
               "brand": "brand plate"}


@dataclass
class TextRun:
    """One run of one font, placed: SVG writes it as a <tspan> at exactly this spot."""

    font: str          # font id (assets/fonts/fonts.yaml)
    text: str
    x: float
    y: float           # baseline
    size: int
    fill: tuple[int, int, int]


@dataclass
class Layer:
    role: str
    kind: str                            # text | shape | image
    pieces: list[tuple[Any, Box, Image.Image]] = field(default_factory=list)   # (fill or RGBA image, box, mask)
    runs: list[TextRun] = field(default_factory=list)
    text: str = ""                       # text layers: the block's exact string (LayerRecorder.name_texts)
    _rendered: dict = field(default_factory=dict, repr=False)   # (W, H) → render(): PSD and SVG both need it

    @property
    def name(self) -> str:
        if self.kind == "text":
            return self.text or self.role
        if self.kind == "image":
            return self.role
        return SHAPE_NAMES.get(self.role, f"{self.role} shape")

    def bbox(self, W: int, H: int) -> Box | None:
        boxes = [b for _, b, _ in self.pieces]
        if not boxes:
            return None
        x0, y0 = max(0, min(b[0] for b in boxes)), max(0, min(b[1] for b in boxes))
        x1, y1 = min(W, max(b[2] for b in boxes)), min(H, max(b[3] for b in boxes))
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None

    def render(self, W: int, H: int) -> tuple[Image.Image, Box] | None:
        """The layer as an RGBA image cropped to what it covers, and where it goes (composited once)."""
        if (W, H) not in self._rendered:
            self._rendered[(W, H)] = self._composite(W, H)
        return self._rendered[(W, H)]

    def _composite(self, W: int, H: int) -> tuple[Image.Image, Box] | None:
        bb = self.bbox(W, H)
        if bb is None:
            return None
        out = Image.new("RGBA", (bb[2] - bb[0], bb[3] - bb[1]), (0, 0, 0, 0))
        for fill, box, mask in self.pieces:
            # clip the piece to the layer (a shadow may reach past the canvas edge)
            cx0, cy0, cx1, cy1 = max(box[0], bb[0]), max(box[1], bb[1]), min(box[2], bb[2]), min(box[3], bb[3])
            if cx1 <= cx0 or cy1 <= cy0:
                continue
            crop = (cx0 - box[0], cy0 - box[1], cx1 - box[0], cy1 - box[1])
            if isinstance(fill, Image.Image):       # a picture with its own alpha (logo)
                piece = fill.crop(crop)
            elif mask is None:                      # a solid piece (the inside of a card or plate)
                piece = Image.new("RGBA", (cx1 - cx0, cy1 - cy0), (*fill[:3], 255))
            else:
                piece = Image.new("RGBA", (cx1 - cx0, cy1 - cy0), (*fill[:3], 0))
                piece.putalpha(mask.crop(crop))
            out.alpha_composite(piece, (cx0 - bb[0], cy0 - bb[1]))
        return out, bb


class _Surface:
    """What FontStack.draw paints on while recording: the real canvas, with each glyph run also kept."""

    def __init__(self, img: Image.Image, layer: Layer):
        self.img, self.layer = img, layer

    def paste(self, fill, box, mask=None):
        self.img.paste(fill, box, mask)
        self.layer.pieces.append((tuple(fill), tuple(int(v) for v in box), mask))


class LayerRecorder:
    def __init__(self, background: Image.Image):
        self.background = background          # the key visual as it came in: no scrim, no text
        self.layers: list[Layer] = []
        self._by_key: dict[tuple[str, str], Layer] = {}

    def layer(self, role: str, kind: str) -> Layer:
        key = (role, kind)
        if key not in self._by_key:
            self._by_key[key] = Layer(role, kind)
            self.layers.append(self._by_key[key])
        return self._by_key[key]

    def paint(self, role: str, fill, box: Box, mask: Image.Image, kind: str = "shape") -> None:
        self.layer(role, kind).pieces.append((tuple(fill), tuple(int(v) for v in box), mask))

    def picture(self, role: str, im: Image.Image, xy: tuple[int, int]) -> None:
        self.layer(role, "image").pieces.append((im, (xy[0], xy[1], xy[0] + im.width, xy[1] + im.height), None))

    def surface(self, img: Image.Image, role: str) -> _Surface:
        return _Surface(img, self.layer(role, "text"))

    def runs(self, role: str, placed: list[tuple[str, str, float, float]], size: int, fill) -> None:
        lay = self.layer(role, "text")
        lay.runs += [TextRun(fid, s, x, y, int(size), tuple(fill)[:3]) for fid, s, x, y in placed]

    def name_texts(self, placed) -> None:
        """Each text layer takes its block's exact string from what was placed (perks numbered in order, as the
        manifest's texts number them; the rate label and figure share the one "apr" block)."""
        n = 0
        for p in placed:
            role = p.role
            if role == "perk":
                n += 1
                role = f"perk{n}"
            if p.text and (role, "text") in self._by_key:
                self._by_key[(role, "text")].text = p.text

    def listing(self) -> list[dict[str, Any]]:
        """The layers as the manifest lists them (bottom to top), background first."""
        W, H = self.background.size
        out: list[dict[str, Any]] = [{"name": "background", "kind": "image", "role": "background",
                                      "box": [0, 0, W, H]}]
        for lay in self.layers:
            bb = lay.bbox(W, H)
            if bb is None:
                continue
            d: dict[str, Any] = {"name": lay.name, "kind": lay.kind, "role": lay.role, "box": list(bb)}
            if lay.kind == "text":
                d["text"] = lay.text
            out.append(d)
        return out
