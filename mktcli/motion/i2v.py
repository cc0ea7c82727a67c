"""Optional: the key visual animated by a diffusers image-to-video pipeline (Wan 2.x) on a CUDA GPU.

`video.engine: diffusers` in a brief asks for it. The model animates the picture alone — the poster's key visual
before any text — and the clip's text overlay, timeline and checks are the same as for the embedded motion: the rate,
the legal text and the provider are typeset, never drawn by the model. Without CUDA (or without the [gpu] extra)
the video creative fails with a clear error naming the option; there is no silent downgrade to the embedded motion.

Engines follow one protocol (`animate`), registered by name like the visual engines. The built-in one loads any
Wan 2.x image-to-video folder as `WanImageToVideoPipeline`, the default Wan2.2-TI2V-5B included: its
model_index.json names `WanPipeline` (text-to-video, no `image=`) with `expand_timesteps: true`, and diffusers runs
its image-to-video mode only through `WanImageToVideoPipeline` (the picture as the clean first latent frame, no
CLIP image encoder: diffusers PR #12006 "[wan2.2] add 5b i2v"; `WanPipeline` on that model takes no image, diffusers
issue #13258). A folder of another architecture loads as the class it names, if its call takes `image=`; a
text-to-video model is refused with a clear error. The real loading and generation code runs in the tests on a tiny
random Wan 2.2 TI2V pipeline built in code (tests/tiny_wan.py); the 5B model itself needs a GPU run."""
from __future__ import annotations

import importlib.util
import inspect
import os
import warnings
from abc import ABC, abstractmethod
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import EngineError
from ..hub import cache_dir, local_copy, offline, reachable
from ..plugins import load_class, registered

DEFAULT_MODEL = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"   # 720p image-to-video that fits one 24 GB+ GPU
# what the model is asked for: the picture comes to life, the camera barely moves, nothing is added (no text)
PROMPT = ("subtle natural motion, gentle light shimmer, slow cinematic camera push-in, the same scene and objects, "
          "clean commercial advertising look, no text, no captions")
NEGATIVE = "text, letters, captions, watermark, logo, subtitles, distorted, blurry, flicker, new objects"
# Wan2.2-TI2V-5B's published settings (diffusers PR #12006): 50 steps, guidance 5, 1280×704 area, 121 frames
STEPS = 50
GUIDANCE = 5.0
MAX_AREA = 1280 * 704
MAX_FRAMES = 121
# the libraries the engine imports: ftfy cleans the prompt in diffusers' Wan pipelines (a NameError without it)
MODULES = ("torch", "diffusers", "transformers", "ftfy")


class ImageToVideo(ABC):
    name: str = "?"

    @abstractmethod
    def animate(self, image: Image.Image, *, frames: int, fps: int, seed: int, prompt: str) -> list[Image.Image]:
        """`frames` RGB frames of the picture in motion, the first close to `image`."""


def _missing() -> list[str]:
    return [m for m in MODULES if importlib.util.find_spec(m) is None]


def _missing_error(missing: list[str]) -> EngineError:
    return EngineError("video.engine diffusers (image-to-video) needs " + ", ".join(missing),
                       "pip install 'mktcli[gpu]' on a machine with an NVIDIA GPU, or remove video.engine "
                       "(the default 'layers' animates the poster on the CPU)")


def check_i2v_available(brief) -> None:
    """Raise a clear error unless this machine can run an image-to-video pipeline (CUDA + the [gpu] extra)."""
    missing = _missing()
    if missing:
        raise _missing_error(missing)
    import torch

    if not torch.cuda.is_available():
        raise EngineError("video.engine diffusers animates the key visual with an image-to-video model and needs "
                          "a CUDA GPU; torch sees none on this machine",
                          "remove video.engine from the brief (the default 'layers' animates the poster's own "
                          "layers on the CPU), or run on a machine with an NVIDIA GPU (`mkt doctor`)")


def load_dtypes(device: str) -> dict[str, Any]:
    """The weights' dtypes, per component ("default" for the rest). On CUDA bfloat16, as Wan is published, with the
    VAE in float32 (diffusers' Wan notes: better decoding; their TI2V-5B example loads it so). On the CPU float32
    throughout: bf16 matmuls are slow on most CPUs (the visual engine does the same), and this is where the tests
    run the real code on a tiny model."""
    import torch

    if str(device).startswith("cuda"):
        return {"default": torch.bfloat16, "vae": torch.float32}
    return {"default": torch.float32}


def model_size(W: int, H: int, max_area: int = MAX_AREA, multiple: int = 32) -> tuple[int, int]:
    """The size the model animates at: the canvas's aspect in about `max_area` pixels, each side a multiple of
    `multiple` (the VAE's spatial factor × the transformer's patch: 16 × 2 for Wan2.2-TI2V-5B)."""
    k = (max_area / (W * H)) ** 0.5
    return max(multiple, int(W * k) // multiple * multiple), max(multiple, int(H * k) // multiple * multiple)


def model_frames(frames: int, max_frames: int = MAX_FRAMES) -> int:
    """How many frames the model makes for a clip of `frames`: about half as many (the model's own 16-24 fps,
    stretched over the clip afterwards), 4k+1 as Wan needs, from 17 (or `max_frames` if lower) to `max_frames`."""
    cap = max(1, (max_frames - 1) // 4 * 4 + 1)
    return min(cap, max(17, (frames // 2) // 4 * 4 + 1))


def _multiple(pipe) -> int:
    try:
        return int(pipe.vae_scale_factor_spatial) * int(pipe.transformer.config.patch_size[1])
    except (AttributeError, TypeError, IndexError):   # another architecture: 32 suits the common VAEs
        return 32


def _frame(f) -> Image.Image:
    import numpy as np

    if isinstance(f, Image.Image):
        return f.convert("RGB")
    return Image.fromarray((np.clip(np.asarray(f, dtype=np.float32), 0, 1) * 255).round().astype("uint8"))


class DiffusersImageToVideo(ImageToVideo):
    name = "diffusers"

    def __init__(self, model: str | None = None, device: str = "cuda", pipe: Any = None, *, steps: int = STEPS,
                 guidance: float = GUIDANCE, max_area: int = MAX_AREA, max_frames: int = MAX_FRAMES):
        self.model = model or DEFAULT_MODEL
        self.device = device
        self._pipe = pipe          # a pipeline already loaded (anything whose call takes image= and gives .frames)
        self.steps, self.guidance = steps, guidance
        self.max_area, self.max_frames = max_area, max_frames

    def pipeline(self):
        if self._pipe is None:
            self._pipe = _load(self.model, self.device)
        return self._pipe

    def animate(self, image: Image.Image, *, frames: int, fps: int, seed: int, prompt: str) -> list[Image.Image]:
        import torch

        pipe = self.pipeline()
        W, H = image.size
        # the model's own resolution (~720p area, its aspect the canvas's), the frames scaled back to the canvas
        w, h = model_size(W, H, self.max_area, _multiple(pipe))
        n = model_frames(frames, self.max_frames)
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        out = pipe(image=image.convert("RGB").resize((w, h), Image.LANCZOS), prompt=prompt,
                   negative_prompt=NEGATIVE, height=h, width=w, num_frames=n, num_inference_steps=self.steps,
                   guidance_scale=self.guidance, generator=gen, output_type="np")
        imgs = [_frame(f).resize((W, H), Image.LANCZOS) for f in out.frames[0]]
        # stretched over the clip: nearest in time (deterministic, no blending ghosts), first to first, last to last
        last = len(imgs) - 1
        return [imgs[round(i * last / max(1, frames - 1))] for i in range(frames)]


def _looks_like_path(model: str) -> bool:
    """A hub id is `owner/name`; anything else (absolute, ./, ~, deeper) is meant as a folder on this machine."""
    return Path(model).is_absolute() or model.startswith((".", "~")) or model.count("/") != 1 or "\\" in model


def _check_source(model: str) -> None:
    """Fail in a moment, with the fix, when the model is neither a folder here nor in the HF cache nor
    downloadable — before diffusers tries the hub (minutes of retries offline; tests never reach the network)."""

    p = Path(model).expanduser()
    folder = ("set video.model to a folder holding model_index.json and one subfolder per component (as "
              "save_pretrained or `hf download` writes it)")
    if p.is_dir():
        if not (p / "model_index.json").is_file():
            raise EngineError(f"image-to-video model folder '{model}' has no model_index.json", folder)
        return
    if _looks_like_path(model):
        raise EngineError(f"image-to-video model folder '{model}' does not exist", folder)
    if local_copy(model, "model_index.json") is not None:
        return
    how = (f"on a machine with internet: `hf download {model}`, then copy the cache to {cache_dir()} (or point "
           "HF_HOME at it); or set video.model to a local folder")
    if offline():
        raise EngineError(f"image-to-video model '{model}' is not in the local cache {cache_dir()} and offline "
                          "mode is on", how)
    if not reachable():
        raise EngineError(f"image-to-video model '{model}' is not in the local cache {cache_dir()}, and the hub "
                          "cannot be reached", how)


def _text_to_video(pipe) -> str | None:
    """Why this pipeline cannot animate a picture, or None if it can."""
    if "image" not in inspect.signature(pipe.__call__).parameters:
        return f"{type(pipe).__name__} takes no image"
    t, vae = getattr(pipe, "transformer", None), getattr(pipe, "vae", None)
    # Wan image-to-video is TI2V (expand_timesteps: the picture as the first latent frame) or has extra input
    # channels for the picture and its mask (Wan 2.1 / 2.2 I2V); a text-to-video Wan has neither
    if (type(pipe).__name__ == "WanImageToVideoPipeline" and t is not None and vae is not None
            and not pipe.config.get("expand_timesteps") and t.config.in_channels == vae.config.z_dim):
        return "a text-to-video Wan (no expand_timesteps, no image channels)"
    return None


@lru_cache(maxsize=2)
def _load(model: str, device: str):
    missing = _missing()
    if missing:
        raise _missing_error(missing)
    _check_source(model)
    import diffusers
    import torch

    from ..visual.diffusion import quiet_libraries

    quiet_libraries()
    kwargs = {"torch_dtype": load_dtypes(device)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)   # torch_dtype → dtype rename; both work until 1.0
            try:
                pipe = diffusers.WanImageToVideoPipeline.from_pretrained(model, **kwargs)
            except (ValueError, TypeError):   # not a Wan folder: the class its model_index.json names
                pipe = diffusers.DiffusionPipeline.from_pretrained(model, **kwargs)
    except torch.OutOfMemoryError:
        raise EngineError(f"out of memory loading the image-to-video model '{model}'",
                          "close other programs, or use a machine with more memory") from None
    except Exception as e:  # noqa: BLE001 — the hub and diffusers raise many types for "cannot load this"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise EngineError(f"image-to-video model '{model}' could not be loaded ({type(e).__name__}: {first})",
                          "download it first (`hf download MODEL`) or set video.model to a local folder written "
                          "by save_pretrained") from e
    why = _text_to_video(pipe)
    if why:
        raise EngineError(f"video.model '{model}' is not an image-to-video model: {why}",
                          f"use an image-to-video model, e.g. {DEFAULT_MODEL} (the default), or remove video.model")
    if os.environ.get("MKT_DEBUG", "") in ("", "0", "false"):
        pipe.set_progress_bar_config(disable=True)
    try:
        return pipe.to(device)
    except torch.OutOfMemoryError:
        raise EngineError(f"the image-to-video model '{model}' does not fit in the GPU's memory",
                          "close other GPU programs, or use a GPU with more memory (24 GB+ for the default "
                          "Wan2.2-TI2V-5B)") from None


def get_i2v(brief) -> ImageToVideo:

    engines = registered("mkt.video.v1", {"diffusers": "mktcli.motion.i2v:DiffusersImageToVideo"})
    cls = load_class(engines, "diffusers", "video engine", "video engines")
    return cls(brief.video.model) if cls is DiffusersImageToVideo else cls()


def animate_background(renderer, scene, brief, engine: ImageToVideo | None = None) -> None:
    """Replace the scene's camera over the key visual by the model's frames; the overlay stays the poster's."""
    eng = engine or get_i2v(brief)
    scene.moving_picture = eng.animate(scene.background, frames=scene.n_frames, fps=scene.fps,
                                       seed=renderer.seed, prompt=PROMPT + (f", {brief.visual.scene}"
                                                                            if brief.visual.scene else ""))
