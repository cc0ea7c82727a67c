"""Optional: the key visual animated by a diffusers image-to-video pipeline (Wan 2.x) on a CUDA GPU.

`video.engine: diffusers` in a brief asks for it. The model animates the picture alone — the poster's key visual
before any text — and the clip's text overlay, timeline and checks are the same as for the embedded motion: the rate,
the legal text and the provider are typeset, never drawn by the model. Without CUDA (or without the [gpu] extra)
the video creative fails with a clear error naming the option; there is no silent downgrade to the embedded motion.

Engines follow one protocol (`animate`), registered by name like the visual engines; the built-in one loads
`WanImageToVideoPipeline` (or any diffusers pipeline whose call takes `image=` and returns `.frames`)."""
from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from functools import lru_cache
from typing import Any

from PIL import Image

from ..errors import EngineError

DEFAULT_MODEL = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"   # 720p image-to-video that fits one 24 GB+ GPU
# what the model is asked for: the picture comes to life, the camera barely moves, nothing is added (no text)
PROMPT = ("subtle natural motion, gentle light shimmer, slow cinematic camera push-in, the same scene and objects, "
          "clean commercial advertising look, no text, no captions")
NEGATIVE = "text, letters, captions, watermark, logo, subtitles, distorted, blurry, flicker, new objects"


class ImageToVideo(ABC):
    name: str = "?"

    @abstractmethod
    def animate(self, image: Image.Image, *, frames: int, fps: int, seed: int, prompt: str) -> list[Image.Image]:
        """`frames` RGB frames of the picture in motion, the first close to `image`."""


def check_i2v_available(brief) -> None:
    """Raise a clear error unless this machine can run an image-to-video pipeline (CUDA + the [gpu] extra)."""
    missing = [m for m in ("torch", "diffusers", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise EngineError("video.engine diffusers (image-to-video) needs " + ", ".join(missing),
                          "pip install 'mktcli[gpu]' on a machine with an NVIDIA GPU, or remove video.engine "
                          "(the default 'layers' animates the poster on the CPU)")
    import torch

    if not torch.cuda.is_available():
        raise EngineError("video.engine diffusers animates the key visual with an image-to-video model and needs "
                          "a CUDA GPU; torch sees none on this machine",
                          "remove video.engine from the brief (the default 'layers' animates the poster's own "
                          "layers on the CPU), or run on a machine with an NVIDIA GPU (`mkt doctor`)")


class DiffusersImageToVideo(ImageToVideo):
    name = "diffusers"

    def __init__(self, model: str | None = None, device: str = "cuda", pipe: Any = None):
        self.model = model or DEFAULT_MODEL
        self.device = device
        self._pipe = pipe          # tests hand in a tiny pipeline built in code

    def pipeline(self):
        if self._pipe is None:
            self._pipe = _load(self.model, self.device)
        return self._pipe

    def animate(self, image: Image.Image, *, frames: int, fps: int, seed: int, prompt: str) -> list[Image.Image]:
        import numpy as np
        import torch

        pipe = self.pipeline()
        W, H = image.size
        # the model's own resolution (multiples of 32, ~720p area), the frames scaled back to the canvas after
        area = 1280 * 704
        k = (area / (W * H)) ** 0.5
        w, h = max(32, int(W * k) // 32 * 32), max(32, int(H * k) // 32 * 32)
        # Wan wants 4k+1 frames; the model's own rate (16-24 fps) is resampled to the clip's afterwards
        n = min(121, max(17, (frames // 2) // 4 * 4 + 1))
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        out = pipe(image=image.convert("RGB").resize((w, h), Image.LANCZOS), prompt=prompt,
                   negative_prompt=NEGATIVE, height=h, width=w, num_frames=n, generator=gen, output_type="np")
        arr = out.frames[0]
        imgs = [Image.fromarray((np.clip(f, 0, 1) * 255).round().astype("uint8")).resize((W, H), Image.LANCZOS)
                for f in arr]
        # resample to the clip's frame count (nearest in time: deterministic, no blending ghosts)
        return [imgs[min(len(imgs) - 1, int(i * len(imgs) / frames))] for i in range(frames)]


@lru_cache(maxsize=2)
def _load(model: str, device: str):
    import torch
    from diffusers import DiffusionPipeline

    try:
        try:
            from diffusers import WanImageToVideoPipeline

            pipe = WanImageToVideoPipeline.from_pretrained(model, torch_dtype=torch.bfloat16)
        except (ValueError, TypeError):   # another image-to-video architecture: let diffusers pick its class
            pipe = DiffusionPipeline.from_pretrained(model, torch_dtype=torch.bfloat16)
    except OSError as e:
        raise EngineError(f"image-to-video model '{model}' could not be loaded ({type(e).__name__})",
                          "download it first (huggingface-cli download MODEL) or set video.model to a local "
                          "folder") from e
    return pipe.to(device)


def get_i2v(brief) -> ImageToVideo:
    from ..plugins import load_class, registered

    engines = registered("mkt.video.v1", {"diffusers": "mktcli.motion.i2v:DiffusersImageToVideo"})
    cls = load_class(engines, "diffusers", "video engine", "video engines")
    return cls(brief.video.model) if cls is DiffusersImageToVideo else cls()


def animate_background(renderer, scene, brief, engine: ImageToVideo | None = None) -> None:
    """Replace the scene's camera over the key visual by the model's frames; the overlay stays the poster's."""
    eng = engine or get_i2v(brief)
    scene.moving_picture = eng.animate(scene.background, frames=scene.n_frames, fps=scene.fps,
                                       seed=renderer.seed, prompt=PROMPT + (f", {brief.visual.scene}"
                                                                            if brief.visual.scene else ""))
