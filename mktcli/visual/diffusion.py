"""`diffusers` engine: key visuals from a real diffusion pipeline (Qwen-Image by default) on CUDA.

What this module makes sure of:
- the model loads the way its authors intend: bf16 on CUDA (fp16 gives Qwen-Image NaN → black images), its native
  resolutions (each channel is cut from the nearest aspect ratio, never squashed), true CFG with a negative prompt,
  one seeded generator per image;
- the profile (configs/models.yaml) decides speed and memory: step-distillation LoRA + its scheduler (`fast`),
  offload / quantization (`low-vram`), opt-in `torch.compile` of the repeated blocks and a first-block step cache;
- nothing broken gets through: NaN, black or blank images are retried with a new seed; CUDA OOM, a missing model,
  a missing GPU or a missing extra are one-screen errors with the fix;
- provenance (model, revision, dtype, steps, guidance, seed, profile) goes into the manifest.

torch and diffusers are imported only when this engine is used."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import threading
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageFilter

from ..brief import category_defaults
from ..errors import ConfigError, EngineError
from ..paths import configs_dir
from .base import VisualEngine, VisualRequest, VisualResult
from .models import ModelSpec, Profile, load_registry, nearest_resolution
from .photo import crop_box, detect_focus
from .. import hub

VERSION = "1"
SEED_STRIDE = 1_000_003          # a retry's seed: far from the seeds of neighbouring items


@dataclass(frozen=True)
class DiffusionOptions:
    """Run options for the diffusers engine (CLI flags and the brief's visual.* keys end up here)."""
    model: str | None = None          # hub id or local folder; default: configs/models.yaml default_model
    profile: str | None = None        # quality | fast | low-vram | …
    device: str | None = None         # cuda (default) | cuda:N | cpu (small models only: tests, smoke runs)
    compile: bool = False             # torch.compile the transformer's repeated blocks
    step_cache: float | None = None   # first-block cache threshold (e.g. 0.1); None = off
    revision: str | None = None
    allow_research_licence: bool = False
    retries: int = 2                  # extra seeds tried when an image comes out NaN / black / blank
    candidates: int = 4               # text_in_image: images generated per headline


@dataclass
class Loaded:
    pipe: Any
    model: str
    spec: ModelSpec
    known: bool
    profile_name: str
    profile: Profile
    device: str
    dtype: str
    revision: str | None
    notes: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def call_params(self) -> set[str]:
        import inspect

        return set(inspect.signature(self.pipe.__call__).parameters)


# ---------------------------------------------------------------------------------------------- availability

def require_backend(device: str | None) -> str:
    """The device to run on, or a clear error: no [gpu] extra, or no CUDA when CUDA is wanted."""
    missing = [m for m in ("torch", "diffusers", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise EngineError("visual engine 'diffusers' needs " + ", ".join(missing) + " (the [gpu] extra)",
                          "pip install 'mktcli[gpu]' on a machine with an NVIDIA GPU, "
                          "or use --engine procedural (embedded, no GPU)")
    import torch

    device = device or "cuda"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise EngineError("visual engine 'diffusers' needs a CUDA GPU, and torch sees none",
                          "run on a machine with an NVIDIA GPU (`mkt doctor` shows what mkt sees), or use "
                          "--engine procedural; --device cpu runs a small model on the CPU (very slow)")
    if not (device == "cpu" or device.startswith("cuda")):
        raise EngineError(f"unknown device '{device}'", "use cuda, cuda:N or cpu")
    return device


def _torch_dtype(name: str):
    import torch

    return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[name]


def resolve_revision(model: str, revision: str | None) -> str | None:
    """The commit the weights come from (hub cache), or a hash of model_index.json for a local folder."""
    local = Path(model)
    if local.is_dir():
        idx = local / "model_index.json"
        return "local-" + hashlib.sha256(idx.read_bytes()).hexdigest()[:12] if idx.is_file() else None
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(model, "model_index.json", revision=revision)
        if isinstance(hit, str):
            return Path(hit).parent.name   # …/snapshots/<commit>/model_index.json
    except Exception:  # provenance is best effort; loading reports real problems
        pass
    return revision


def _not_available(model: str, err: Exception, spec: ModelSpec) -> EngineError:
    cache = hub.cache_dir()
    size = f" (about {spec.download_gb:g} GB)" if spec.download_gb else ""
    first = (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
    if Path(model).exists():
        return EngineError(f"cannot load the diffusers pipeline in {model}: {first}",
                           "the folder needs model_index.json and one subfolder per component "
                           "(as written by save_pretrained)")
    how = (f"on a machine with internet: `hf download {model}`{size}, then copy the cache to {cache} "
           f"(or point HF_HOME at it); or pass a local folder with --model PATH")
    if hub.offline():
        return EngineError(f"model '{model}' is not in the local cache {cache} and offline mode is on", how)
    return EngineError(f"model '{model}' could not be loaded: {first}", how)


# ---------------------------------------------------------------------------------------------- loading

def quantization_config(profile: Profile):
    """(config, note): the PipelineQuantizationConfig a profile asks for, or (None, why) when its backend is not
    installed here (the profile then runs with offload alone)."""
    q = profile.quantization
    if q is None:
        return None, None
    need = {"bitsandbytes_4bit": "bitsandbytes", "bitsandbytes_8bit": "bitsandbytes", "torchao": "torchao",
            "quanto": "optimum"}[q.backend]
    if importlib.util.find_spec(need) is None:
        return None, f"{q.backend} quantization skipped: {need} is not installed (pip install {need})"
    return build_quantization_config(q), None


_TORCHAO = {"int8_weight_only": "Int8WeightOnlyConfig", "int4_weight_only": "Int4WeightOnlyConfig",
            "float8_weight_only": "Float8WeightOnlyConfig"}


def build_quantization_config(q):
    """diffusers' PipelineQuantizationConfig for a QuantSpec. bitsandbytes configs take the same keywords in
    diffusers and transformers (dtype names become torch dtypes); torchao takes a config object per component."""
    from diffusers import PipelineQuantizationConfig

    if q.backend != "torchao":
        kwargs = {k: (_torch_dtype(v) if k.endswith("_dtype") and isinstance(v, str) else v)
                  for k, v in q.kwargs.items()}
        return PipelineQuantizationConfig(quant_backend=q.backend, quant_kwargs=kwargs,
                                          components_to_quantize=list(q.components))
    import torchao.quantization as tq
    from diffusers import TorchAoConfig

    kind = q.kwargs.get("quant_type", "int8_weight_only")
    if kind not in _TORCHAO:
        raise EngineError(f"unknown torchao quant_type '{kind}' in the profile", "use one of: " + ", ".join(_TORCHAO))
    mapping = {}
    for comp in q.components:
        if comp.startswith("text_encoder"):
            from transformers import TorchAoConfig as TfTorchAoConfig

            mapping[comp] = TfTorchAoConfig(quant_type=getattr(tq, _TORCHAO[kind])())
        else:
            mapping[comp] = TorchAoConfig(getattr(tq, _TORCHAO[kind])())
    return PipelineQuantizationConfig(quant_mapping=mapping)


def apply_profile(pipe, profile: Profile, device: str, *, compile: bool = False, step_cache: float | None = None,
                  lora_loader: Callable | None = None) -> list[str]:
    """Scheduler swap, step LoRA (fused), placement (to device or offload), compile and step cache, in the order
    they must happen. Returns notes for the user. Used by the engine and by benchmarks/diffusion.py."""
    import torch

    notes: list[str] = []
    if profile.scheduler is not None:
        import diffusers

        cls = getattr(diffusers, profile.scheduler.class_name, None)
        if cls is None:
            raise EngineError(f"unknown scheduler '{profile.scheduler.class_name}' in the profile",
                              "use a scheduler class name from diffusers, e.g. FlowMatchEulerDiscreteScheduler")
        pipe.scheduler = cls.from_config({**dict(pipe.scheduler.config), **profile.scheduler.config})
    if profile.lora is not None:
        (lora_loader or load_step_lora)(pipe, profile.lora)
    offload = profile.offload or "none"
    dev = torch.device(device)
    if dev.type == "cpu" and offload != "none":
        notes.append(f"offload '{offload}' does nothing on the CPU; weights stay where they are")
        offload = "none"
    if offload == "none":
        pipe.to(dev)
    elif offload == "model":
        pipe.enable_model_cpu_offload(device=dev)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=dev)
    elif offload == "group":
        if getattr(pipe, "quantization_config", None) is not None or _is_quantized(pipe):
            pipe.enable_model_cpu_offload(device=dev)   # group offload does not stream quantized weights
            notes.append("quantized weights: model offload instead of group offload")
        else:
            pipe.enable_group_offload(onload_device=dev, offload_device=torch.device("cpu"),
                                      offload_type="leaf_level", use_stream=dev.type == "cuda")
    if profile.attention and dev.type == "cuda":
        try:
            pipe.transformer.set_attention_backend(profile.attention)
        except Exception as e:  # noqa: BLE001 — an attention kernel this machine lacks: keep the default, say so
            notes.append(f"attention backend '{profile.attention}' unavailable ({e}); using the default")
    if step_cache or profile.step_cache:
        from diffusers.hooks import FirstBlockCacheConfig

        threshold = float(step_cache or profile.step_cache)
        if hasattr(pipe.transformer, "enable_cache"):
            pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=threshold))
        else:
            notes.append(f"{type(pipe.transformer).__name__} has no step cache; --step-cache ignored")
    if compile or profile.compile:
        backend = os.environ.get("MKT_COMPILE_BACKEND", "inductor")  # 'eager' checks the wiring without a compiler
        if getattr(pipe.transformer, "_repeated_blocks", None):
            pipe.transformer.compile_repeated_blocks(fullgraph=True, backend=backend)
        else:
            pipe.transformer.compile(backend=backend)
    pipe.set_progress_bar_config(disable=True)
    return notes


def _is_quantized(pipe) -> bool:
    return any(getattr(getattr(pipe, c, None), "is_quantized", False) for c in ("transformer", "text_encoder"))


def load_step_lora(pipe, lora) -> None:
    """Load a step-distillation LoRA the way its authors publish it, fuse it into the weights (no per-step LoRA
    cost) and drop the adapter layers."""
    src = lora.source
    kwargs = {"weight_name": lora.weight_name} if lora.weight_name else {}
    if Path(src).is_file():
        src, kwargs = str(Path(src).parent), {"weight_name": Path(src).name}
    try:
        pipe.load_lora_weights(src, adapter_name="mkt_steps", **kwargs)
    except Exception as e:  # noqa: BLE001 — hub / file errors all mean "not available here"
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
        raise EngineError(f"step LoRA '{lora.source}' ({lora.weight_name}) could not be loaded: {first}",
                          "download it on a machine with internet "
                          f"(`hf download {lora.source} {lora.weight_name or ''}`) into the HF cache, "
                          "or use --profile quality") from None
    pipe.fuse_lora(components=["transformer"], lora_scale=lora.scale, adapter_names=["mkt_steps"])
    pipe.unload_lora_weights()


def load_pipeline(opts: DiffusionOptions, model: str | None = None, registry=None) -> Loaded:
    """Load (from the HF cache or a local folder) and prepare the pipeline for a model and profile."""
    registry = registry or load_registry()
    device = require_backend(opts.device)
    model = opts.model or model or registry.default_model
    spec, known = registry.spec(model)
    if spec.commercial_use is False and not opts.allow_research_licence:
        raise EngineError(f"model '{model}' is under the {spec.licence}: non-commercial use only",
                          "bank campaigns are commercial: use Qwen/Qwen-Image or meituan-longcat/LongCat-Image; "
                          "for an internal trial add --allow-research-licence")
    profile_name, profile = registry.profile(model, opts.profile)
    import torch
    import diffusers

    dtype_name = spec.dtype if device.startswith("cuda") else "float32"   # bf16 matmuls are slow on most CPUs
    if device == "cpu" and profile.quantization and profile.quantization.backend.startswith("bitsandbytes"):
        qconf, qnote = None, "bitsandbytes quantization needs CUDA: skipped on the CPU"
    else:
        qconf, qnote = quantization_config(profile)
    kwargs: dict[str, Any] = {"torch_dtype": _torch_dtype(dtype_name)}
    if opts.revision:
        kwargs["revision"] = opts.revision
    if qconf is not None:
        kwargs["quantization_config"] = qconf
    cls = getattr(diffusers, spec.pipeline, None) if spec.pipeline and not Path(model).is_dir() else None
    cls = cls or diffusers.DiffusionPipeline
    quiet_libraries()
    if not Path(model).is_dir() and not hub.is_local(model, "model_index.json") and not hub.reachable():
        raise _not_available(model, OSError("not in the local cache, and the hub cannot be reached"), spec)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)   # torch_dtype → dtype rename; both work until 1.0
            pipe = cls.from_pretrained(model, **kwargs)
    except torch.OutOfMemoryError:
        raise _oom(model, profile_name) from None
    except EngineError:
        raise
    except Exception as e:  # noqa: BLE001 — the hub and diffusers raise many types for "not here"
        raise _not_available(model, e, spec) from None
    notes = [qnote] if qnote else []
    try:
        notes += apply_profile(pipe, profile, device, compile=opts.compile, step_cache=opts.step_cache)
    except torch.OutOfMemoryError:
        raise _oom(model, profile_name) from None
    return Loaded(pipe, model, spec, known, profile_name, profile, device, dtype_name,
                  resolve_revision(model, opts.revision), notes)


def quiet_libraries() -> None:
    """mkt shows its own progress: the libraries' loading bars and config chatter only with MKT_DEBUG."""
    if os.environ.get("MKT_DEBUG", "") not in ("", "0", "false"):
        return
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    dlog.disable_progress_bar()
    dlog.set_verbosity_error()
    tlog.disable_progress_bar()
    tlog.set_verbosity_error()


def _oom(model: str, profile: str) -> EngineError:
    hint = ("use --profile low-vram (offload, and 4-bit weights when bitsandbytes is installed), "
            "fewer --jobs, or a GPU with more memory") if profile != "low-vram" else \
        "install bitsandbytes for 4-bit weights, close other GPU programs, or use a GPU with more memory"
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:
        pass
    return EngineError(f"the GPU ran out of memory running '{model}' (profile {profile})", hint)


# ---------------------------------------------------------------------------------------------- generation

def image_problem(arr: np.ndarray) -> str | None:
    """Why an image (float, 0..1) must not be used: NaN/inf, black, or blank (one flat colour)."""
    if not np.isfinite(arr).all():
        return "NaN"
    if float(arr.mean()) < 0.02:
        return "black"
    if float(arr.std()) < 0.008:
        return "blank"
    return None


def _to_pil(arr: np.ndarray) -> Image.Image:
    a = np.nan_to_num(np.asarray(arr, np.float32))
    if a.ndim == 3 and a.shape[-1] == 4:  # RGBA models: flatten onto a mid grey, the poster draws the rest
        a = a[..., :3] * a[..., 3:] + 0.5 * (1 - a[..., 3:])
    return Image.fromarray((np.clip(a, 0, 1) * 255).round().astype(np.uint8), "RGB")


def generate(loaded: Loaded, prompt: str, negative: str, width: int, height: int, seeds: list[int],
             steps: int | None = None, cfg: float | None = None,
             report: Callable[[str], None] | None = None) -> list[np.ndarray]:
    """One image per seed (a batch), each from its own seeded generator; float arrays in 0..1.
    `report` gets a line per denoising step."""
    import torch

    p, spec = loaded.profile, loaded.spec
    steps = steps or p.steps or 30
    cfg = p.cfg if cfg is None else cfg
    params = loaded.call_params
    kw: dict[str, Any] = {k: v for k, v in spec.call_kwargs.items() if k in params}
    n = len(seeds)
    kw.update(prompt=[prompt] * n, height=height, width=width, num_inference_steps=steps, output_type="np",
              generator=[torch.Generator("cpu").manual_seed(s) for s in seeds])
    if report is not None and "callback_on_step_end" in params:
        def _step(pipe, i, t, tensors):
            report(f"{width}×{height} seed {seeds[0]}: step {i + 1}/{steps}")
            return tensors

        kw["callback_on_step_end"] = _step
    guidance = spec.guidance if spec.guidance != "auto" else ("true_cfg" if "true_cfg_scale" in params else "cfg")
    if guidance == "true_cfg" and "true_cfg_scale" in params:
        kw["true_cfg_scale"] = cfg if cfg is not None else 4.0
        if cfg and cfg > 1 and "negative_prompt" in params:
            kw["negative_prompt"] = [negative or " "] * n
    elif "guidance_scale" in params and cfg is not None:
        kw["guidance_scale"] = cfg
        if cfg > 1 and "negative_prompt" in params and negative:
            kw["negative_prompt"] = [negative] * n
    try:
        with loaded.lock, torch.inference_mode():
            out = loaded.pipe(**kw)
    except torch.OutOfMemoryError:
        raise _oom(loaded.model, loaded.profile_name) from None
    images = out.images if hasattr(out, "images") else out[0]
    return [np.asarray(im, np.float32) for im in images]


def generate_checked(loaded: Loaded, prompt: str, negative: str, width: int, height: int, seed: int,
                     retries: int, report: Callable[[str], None] | None = None) -> tuple[np.ndarray, int, list[dict]]:
    """An image that is not NaN, black or blank; each bad one is retried with a new seed and recorded."""
    rejected: list[dict] = []
    for attempt in range(retries + 1):
        s = (seed + attempt * SEED_STRIDE) % 2**32
        arr = generate(loaded, prompt, negative, width, height, [s], report=report)[0]
        why = image_problem(arr)
        if why is None:
            return arr, s, rejected
        rejected.append({"seed": s, "problem": why})
    tried = ", ".join(f"seed {r['seed']}: {r['problem']}" for r in rejected)
    hint = ("this model gives NaN in float16; keep dtype bfloat16 in configs/models.yaml" if loaded.dtype == "float16"
            else "try another --seed or --profile quality; check the model files")
    raise EngineError(f"'{loaded.model}' produced no usable image after {retries + 1} tries ({tried})", hint)


# ---------------------------------------------------------------------------------------------- prompts

_HUES = [(15, "红"), (40, "橙"), (70, "金黄"), (165, "绿"), (200, "青"), (255, "蓝"), (290, "紫"), (345, "洋红"),
         (360, "红")]


def colour_name(hex_: str) -> str:
    """A Chinese colour word for a brand colour (models read words, not hex codes)."""
    import colorsys

    r, g, b = (int(hex_[i:i + 2], 16) / 255 for i in (1, 3, 5))
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    if sat < 0.15:
        return "白" if light > 0.85 else "黑" if light < 0.15 else "灰"
    name = next(n for limit, n in _HUES if hue * 360 <= limit)
    return ("深" if light < 0.3 else "浅" if light > 0.75 else "") + name


def calm_hint(width: int, height: int, zone) -> str:
    """Tell the model where the subject goes and which side stays calm for the typeset text."""
    x0, y0, x1, y1 = zone
    cx, cy = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height
    if abs(cy - 0.5) >= abs(cx - 0.5):
        where, calm = ("下部", "上方") if cy > 0.5 else ("上部", "下方")
    else:
        where, calm = ("右侧", "左侧") if cx > 0.5 else ("左侧", "右侧")
    return f"画面主体位于{where}，{calm}留出大面积干净、简洁、低对比的背景用于排版文字"


def build_prompt(req: VisualRequest, spec: ModelSpec, extend: bool = False) -> tuple[str, str]:
    """(prompt, negative prompt): the brief's scene, the brand's style in words, and where to stay calm. The
    crop keeps the picture's subject in the layout's visual zone, so the hint names the canvas's calm side; a
    picture that goes whole into the zone of a wide banner (`extend`) should just keep its edges simple."""
    pal = req.palette
    scene = req.scene or default_scene(req.category)
    style = req.style or f"{colour_name(pal.primary)}与{colour_name(pal.accent)}为主色调，温暖、可信赖的金融品牌视觉"
    calm = "主体完整居中，四周背景简洁干净" if extend else calm_hint(req.width, req.height, req.visual_zone)
    parts = [scene.rstrip("。，,. "), style, calm]
    negative = req.negative_prompt if req.negative_prompt is not None else spec.negative_prompt
    if req.headline:
        parts.append(f"画面上方有醒目的中文标题“{req.headline}”，字体清晰端正")
        negative = ",".join(w for w in negative.replace("，", ",").split(",") if w.strip() not in ("文字", "乱码"))
        negative = negative + ",错字,模糊的文字" if negative else "错字,模糊的文字"
    return "，".join(parts) + (spec.prompt_suffix or "。"), negative


def default_scene(category: str) -> str:
    """The scene for a brief without visual.scene: its category's `scene` in configs/categories.yaml (an unknown
    category takes `other`'s)."""
    cats = category_defaults()
    scene = (cats.get(category) or cats.get("other") or {}).get("scene")
    if not isinstance(scene, str) or not scene.strip():
        raise ConfigError(f"category '{category}' has no default scene", file=configs_dir() / "categories.yaml",
                          key=f"categories.{category if category in cats else 'other'}.scene",
                          hint="give the category a scene: one line describing the picture")
    return scene


# ---------------------------------------------------------------------------------------------- fitting

MIN_CROP_SHARE = 0.45


def crop_share(gw: int, gh: int, width: int, height: int) -> float:
    """The share of a gw×gh picture that a cover crop to width:height keeps."""
    a, ga = width / height, gw / gh
    return min(a, ga) / max(a, ga)


def fit_to_canvas(img: Image.Image, width: int, height: int, zone) -> tuple[Image.Image, dict]:
    """Cut the canvas from the generated image without squashing: a crop that puts the image's subject in the
    visual zone; when the crop would keep under 45% of the picture (banners of 4:1 and more), the whole picture
    goes into the visual zone and the rest is extended with a blurred, darkened copy (calm behind the text)."""
    x0, y0, x1, y1 = zone
    target = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height)
    gw, gh = img.size
    kept = crop_share(gw, gh, width, height)
    focus = detect_focus(img)
    cover = img.resize((width, height), Image.LANCZOS,
                       box=crop_box(gw, gh, width, height, focus, target))
    if kept >= MIN_CROP_SHARE:
        return cover, {"fit": "crop", "kept": round(kept, 3)}
    bg = cover.resize((max(1, width // 8), max(1, height // 8)), Image.BILINEAR)
    bg = bg.filter(ImageFilter.GaussianBlur(3)).resize((width, height), Image.BILINEAR)
    bg = Image.eval(bg, lambda v: int(v * 0.8))
    zw, zh = max(1, x1 - x0), max(1, y1 - y0)
    s = min(zw / gw, zh / gh)
    pw, ph = max(1, round(gw * s)), max(1, round(gh * s))
    piece = img.resize((pw, ph), Image.LANCZOS)
    px, py = x0 + (zw - pw) // 2, y0 + (zh - ph) // 2
    mask = Image.new("L", (pw, ph), 255)
    feather = max(1, min(pw, ph) // 12)
    mask = _feathered(mask, feather)
    bg.paste(piece, (px, py), mask)
    return bg, {"fit": "extend", "kept": 1.0}


def _feathered(mask: Image.Image, r: int) -> Image.Image:
    from PIL import ImageDraw

    w, h = mask.size
    m = Image.new("L", (w, h), 0)
    ImageDraw.Draw(m).rectangle([r, r, w - 1 - r, h - 1 - r], fill=255)
    return m.filter(ImageFilter.GaussianBlur(r / 2))


# ---------------------------------------------------------------------------------------------- engine

class DiffusersEngine(VisualEngine):
    name = "diffusers"
    generative = True

    def __init__(self):
        self._pipes: dict[tuple, Loaded] = {}
        self._images: dict[tuple, tuple[np.ndarray, int, list]] = {}
        self._gen_locks: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self._registry = None

    @property
    def registry(self):
        if self._registry is None:
            self._registry = load_registry()
        return self._registry

    def options(self, req: VisualRequest) -> DiffusionOptions:
        opts = req.options if isinstance(req.options, DiffusionOptions) else DiffusionOptions()
        if opts.model is None and req.model:
            opts = replace(opts, model=req.model)
        return opts

    def cache_key(self, req: VisualRequest) -> tuple:
        return super().cache_key(req) + (self.options(req), req.style, req.negative_prompt, req.headline,
                                         req.headline_zone)

    def pipeline(self, opts: DiffusionOptions) -> Loaded:
        key = (opts.model, opts.profile, opts.device, opts.compile, opts.step_cache, opts.revision,
               opts.allow_research_licence)
        with self._lock:  # one load per model/profile, however many threads ask
            if key not in self._pipes:
                self._pipes[key] = load_pipeline(opts, registry=self.registry)
            return self._pipes[key]

    def prepare(self, options: Any = None) -> str | None:
        opts = options if isinstance(options, DiffusionOptions) else DiffusionOptions()
        loaded = self.pipeline(opts)
        return (f"diffusers: {loaded.model} ({loaded.spec.licence}), profile {loaded.profile_name}, "
                f"{loaded.dtype} on {loaded.device}" + "".join(f"; {n}" for n in loaded.notes))

    def render(self, req: VisualRequest) -> VisualResult:
        opts = self.options(req)
        loaded = self.pipeline(opts)
        spec = loaded.spec
        gw, gh = nearest_resolution(spec.resolutions, req.width, req.height)
        prompt, negative = build_prompt(req, spec, extend=crop_share(gw, gh, req.width, req.height) < MIN_CROP_SHARE)
        info: dict[str, Any] = {
            "name": self.name, "model": loaded.model, "revision": loaded.revision, "dtype": loaded.dtype,
            "profile": loaded.profile_name, "steps": loaded.profile.steps, "guidance": loaded.profile.cfg,
            "lora": (loaded.profile.lora.source + "/" + (loaded.profile.lora.weight_name or ""))
            if loaded.profile.lora else None,
            "native": [gw, gh], "licence": spec.licence, "device": loaded.device, "prompt": prompt,
            "negative_prompt": negative, "engine_version": VERSION,
        }
        if req.headline:
            found, record = self.headline_in_image(loaded, req, opts, prompt, negative, (gw, gh))
            if found is not None:
                canvas, seed_used = found
                info.update(seed=seed_used, fit=record.pop("fit"), headline_in_image=record)
                return VisualResult(canvas, info, generative=True, calm=False,
                                    drawn={"headline": (req.headline, tuple(record["box"]))})
            # no candidate was exact: a picture WITHOUT the headline, which is then typeset
            req = replace(req, headline=None)
            prompt, negative = build_prompt(req, spec, extend=crop_share(gw, gh, req.width, req.height)
                                            < MIN_CROP_SHARE)
            info.update(prompt=prompt, negative_prompt=negative, headline_in_image=record)
        arr, seed_used, rejected = self._generated(loaded, prompt, negative, gw, gh, req.seed, opts.retries)
        out, fit = fit_to_canvas(_to_pil(arr), req.width, req.height, req.visual_zone)
        info.update(seed=seed_used, fit=fit["fit"])
        if rejected:
            info["rejected"] = rejected
        if loaded.notes:
            info["notes"] = list(loaded.notes)
        return VisualResult(out, info, generative=True, calm=False)

    def _generated(self, loaded, prompt, negative, gw, gh, seed, retries):
        key = (id(loaded), prompt, negative, gw, gh, seed)
        with self._lock:
            lock = self._gen_locks.setdefault(key, threading.Lock())
        with lock:  # channels that share a native size share one generation
            if key not in self._images:
                self._images[key] = generate_checked(loaded, prompt, negative, gw, gh, seed, retries, self.report)
        return self._images[key]

    def candidates(self, loaded, req, opts, prompt, negative, native) -> list[tuple[int, Image.Image, dict]]:
        """text_in_image: N pictures of the scene with the headline drawn, each cut to this canvas."""
        out = []
        for i in range(max(1, opts.candidates)):
            try:
                arr, seed, _ = self._generated(loaded, prompt, negative, *native, (req.seed + i) % 2**32, 0)
            except EngineError:   # a NaN / black candidate is just not a candidate
                continue
            canvas, fit = fit_to_canvas(_to_pil(arr), req.width, req.height, req.visual_zone)
            out.append((seed, canvas, fit))
        return out

    def headline_in_image(self, loaded, req, opts, prompt, negative, native):
        """Generate candidates with the headline in the scene, read each back with OCR inside the layout's
        headline box, keep the first exact match. ((canvas, seed) or None, record of what was read and why).
        The reader is the request's (req.text_reader: the caller's OCR, checks.ocr for mkt poster)."""
        ocr = req.text_reader
        record: dict[str, Any] = {"requested": req.headline, "verified": False, "candidates": []}
        if ocr is None:
            record["reason"] = "no text reader was given to verify it: the headline is typeset"
            return None, record
        if not ocr.available():
            record["reason"] = "no OCR engine to verify it (pip install 'mktcli[ocr]'): the headline is typeset"
            return None, record
        want = ocr.normalise(req.headline)
        x0, y0, x1, y1 = req.headline_zone or (0, 0, req.width, req.height)
        pad_x, pad_y = (x1 - x0) * 0.08, (y1 - y0) * 0.25   # a drawn headline may sit a little outside the box
        zx0, zy0 = max(0, int(x0 - pad_x)), max(0, int(y0 - pad_y))
        zx1, zy1 = min(req.width, int(x1 + pad_x)), min(req.height, int(y1 + pad_y))
        for seed, canvas, fit in self.candidates(loaded, req, opts, prompt, negative, native):
            lines = ocr.read_lines(canvas.crop((zx0, zy0, zx1, zy1)))
            got = "".join(ocr.normalise(ln.text) for ln in lines)
            hit = [ln for ln in lines if ocr.normalise(ln.text) and ocr.normalise(ln.text) in want]
            cand = {"seed": seed, "read": got, "exact": got == want and bool(hit)}
            record["candidates"].append(cand)
            if cand["exact"]:
                bx0 = min(ln.box[0] for ln in hit) + zx0
                by0 = min(ln.box[1] for ln in hit) + zy0
                bx1 = max(ln.box[2] for ln in hit) + zx0
                by1 = max(ln.box[3] for ln in hit) + zy0
                record.update(verified=True, seed=seed, box=[round(v, 1) for v in (bx0, by0, bx1, by1)],
                              fit=fit["fit"])
                return (canvas, seed), record
        n = len(record["candidates"])
        record["reason"] = (f"none of {n} candidates read back exactly as '{req.headline}': the headline is typeset"
                            if n else "no usable candidate image: the headline is typeset")
        return None, record


__all__ = ["DiffusersEngine", "DiffusionOptions", "load_pipeline", "apply_profile", "generate", "generate_checked",
           "image_problem", "fit_to_canvas", "build_prompt", "require_backend", "quantization_config", "json"]
