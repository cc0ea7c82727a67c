"""The key-visual protocol: one method, `render(request) -> VisualResult`, and a registry by name.

Built-in and third-party engines register through the same entry-point group, `mkt.visual.v1`
(see pyproject.toml); an engine that fails to load is reported when asked for, and the others still work."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Protocol

from PIL import Image

from .. import plugins
from ..plugins import load_class
from .. import gpu

ENTRY_POINT_GROUP = plugins.VISUAL_GROUP   # the built-in engines are listed in plugins.py

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels


class TextReader(Protocol):
    """Reads text back off pixels: checks.ocr is one. A caller hands it to an engine in the request (text_in_image),
    so engines need nothing from the checks above them."""

    def available(self) -> bool: ...

    def read_lines(self, img: Image.Image) -> list: ...   # lines with .text and .box (x0, y0, x1, y1)

    def normalise(self, text: str) -> str: ...


@dataclass(frozen=True)
class VisualRequest:
    width: int
    height: int
    palette: Any                 # brand.Palette
    category: str
    motif: str
    seed: int
    visual_zone: Box             # where the subject should sit
    scene: str | None = None
    image_path: Path | None = None
    focus: tuple[float, float] | None = None
    model: str | None = None
    options: Any = None          # engine-specific run options (hashable), e.g. diffusion.DiffusionOptions
    style: str | None = None     # the brand's visual style, in words (generative engines)
    negative_prompt: str | None = None
    headline: str | None = None  # text_in_image: the headline the model should draw …
    headline_zone: Box | None = None  # … inside this box of the canvas …
    text_reader: TextReader | None = None  # … and reads it back with this (poster.py passes checks.ocr)
    product: str = ""            # product name and scene words (the illustration engine picks objects by them)
    segment: str = ""            # the audience segment's name and dimension values
    theme: str | None = None     # visual.theme: 春节, 中秋, 618 …
    objects: tuple[str, ...] | None = None   # visual.objects: the brief's own cast (hero first)
    variant: int = 0             # --variants: another hero and arrangement per variant
    bleed: int | None = None     # a platform's UI covers the canvas below the zone down to here: decorate, no subject
    message: str = ""            # the creative's headline and subhead: a season's words there choose a theme


@dataclass
class VisualResult:
    image: Image.Image           # RGB, exactly width × height
    info: dict[str, Any] = field(default_factory=dict)  # name, seed, model … (goes into the manifest)
    generative: bool = False     # made by a generative model → AIGC labels
    calm: bool = True            # the engine left the text areas calm by construction
    drawn: dict[str, tuple[str, Box]] = field(default_factory=dict)  # role → (text, box): text the model drew
                                 # and OCR verified (text_in_image); the composer does not typeset these
    # the picture's planes for motion (video channels), back to front: (name, RGBA image, (x, y) on the canvas,
    # depth 0 = far … 1 = near). Stacked, they give back `image`. Empty: the picture is one plane.
    planes: list[tuple[str, Image.Image, tuple[int, int], float]] = field(default_factory=list, repr=False)


class VisualEngine(ABC):
    name: str = "?"
    generative: bool = False     # its pictures come from a generative model (AIGC labels; room for the visible one)
    # pure CPU work with no devices, threads or handles: `mkt poster` may render its creatives in forked worker
    # processes (both cores instead of one). A GPU engine, or a plugin that does not say so, keeps to threads.
    forkable: bool = False
    # set by the caller for long renders: receives short progress lines ("step 12/50 …")
    report: Callable[[str], None] | None = None

    @abstractmethod
    def render(self, req: VisualRequest) -> VisualResult:
        """Draw the key visual for one canvas size."""

    def prepare(self, options: Any = None) -> str | None:
        """Load what the engine needs before the first render (a model, say), so a missing model or device is
        one clear error up front. Returns a note for the user, or None."""
        return None

    def cache_key(self, req: VisualRequest) -> tuple:
        """Requests with the same key produce the same image (segments of one brief share backgrounds)."""
        return (self.name, req.width, req.height, req.palette.model_dump_json(), req.category, req.motif, req.seed,
                req.visual_zone, req.scene, str(req.image_path), req.focus, req.model)


def available() -> dict[str, str]:
    """name → 'module:Class' for every registered engine (the list a brief's visual.engine is checked against)."""
    return plugins.visual_engines()


@lru_cache(maxsize=None)
def get_engine(name: str) -> VisualEngine:
    return load_class(available(), name, "visual engine", "engines")()


def embedded_engine() -> str:
    """The engine `auto` uses without a diffusion model: the illustration engine (vector objects on a stage),
    else the procedural one."""
    return "illustration" if "illustration" in available() else "procedural"


def resolve_engine_name(requested: str, has_image: bool) -> tuple[str, str | None]:
    """Pick the engine for visual.engine; return (name, note for the user)."""
    if requested != "auto":
        return requested, None
    if has_image:
        return "image", "visual.engine auto: using your picture (engine 'image')"
    import importlib.util

    embedded = embedded_engine()
    if "diffusers" not in available():
        return embedded, f"visual.engine auto: using the embedded {embedded} engine (no diffusion engine installed)"
    if any(importlib.util.find_spec(m) is None for m in ("torch", "diffusers", "transformers")):
        return embedded, (f"visual.engine auto: using the embedded {embedded} engine (the diffusion engine needs "
                          "pip install 'mktcli[gpu]')")
    if not gpu.nvidia_gpu_present():   # microseconds, where importing torch to ask would cost ~2 s
        return embedded, f"visual.engine auto: no NVIDIA GPU found, using the embedded {embedded} engine"
    try:
        import torch  # only when the [gpu] libraries are installed and a GPU's driver is there

        if torch.cuda.is_available():
            return "diffusers", f"visual.engine auto: CUDA GPU found ({torch.cuda.get_device_name(0)}), using diffusers"
    except Exception:  # a broken CUDA install is not a reason to fail a poster: fall back, and say so
        pass
    return embedded, f"visual.engine auto: no CUDA GPU, using the embedded {embedded} engine"
