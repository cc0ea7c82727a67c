"""`mkt doctor`: what this machine can do for mkt, in one report (library API: `diagnose()`).

Versions come from package metadata, so nothing heavy is imported except torch, and only to ask about CUDA."""
from __future__ import annotations

import importlib.util
import os
import platform
import sys
from importlib import metadata
from typing import Any

from . import __version__, gpu
from .hub import cache_dir, local_copy
from .paths import configs_dir, user_dir
from .visual.models import load_registry

EXTRAS = {
    "gpu": ["torch", "diffusers", "transformers", "accelerate", "peft", "safetensors", "ftfy"],
    "low-vram (optional)": ["bitsandbytes", "torchao"],
    "ocr": ["rapidocr-onnxruntime", "onnxruntime"],
    "bench": ["playwright"],
}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _torch_report() -> dict[str, Any]:
    if importlib.util.find_spec("torch") is None:
        return {"installed": False}
    if not gpu.nvidia_gpu_present():   # no driver: torch would find no CUDA; not worth its 2 s import to hear it
        return {"installed": True, "version": _version("torch"), "cuda_build": None, "cuda_available": False,
                "gpus": [], "probe": "no NVIDIA driver found (torch not imported)"}
    try:
        import torch
    except Exception as e:  # a broken install is worth reporting, not crashing on
        return {"installed": True, "error": f"{type(e).__name__}: {e}"}
    out: dict[str, Any] = {"installed": True, "version": torch.__version__, "cuda_build": torch.version.cuda,
                           "cuda_available": torch.cuda.is_available(), "gpus": []}
    if out["cuda_available"]:
        for i in range(torch.cuda.device_count()):
            free, total = torch.cuda.mem_get_info(i)
            p = torch.cuda.get_device_properties(i)
            out["gpus"].append({"index": i, "name": p.name, "memory_gb": round(total / 2**30, 1),
                                "free_gb": round(free / 2**30, 1), "capability": f"{p.major}.{p.minor}",
                                "bf16": bool(torch.cuda.is_bf16_supported())})
    return out


def diagnose() -> dict[str, Any]:
    from .compose.fonts import registry
    from .visual.base import available, resolve_engine_name

    torch_info = _torch_report()
    extras = {group: {d: _version(d) for d in dists} for group, dists in EXTRAS.items()}
    fonts = {}
    for fid, info in registry().items():
        f = info.path
        fonts[fid] = {"family": info.family + ("" if info.weight == 400 else f" {info.weight}"), "file": str(f),
                      "ok": f.is_file(),
                      "bytes": f.stat().st_size if f.is_file() else 0}
    reg = load_registry()
    cache = cache_dir()
    engine, why = resolve_engine_name("auto", has_image=False)
    models = {m: str(p) if (p := local_copy(m)) else None for m in reg.models}
    advice = []
    if engine != "diffusers":
        if not torch_info.get("installed") or extras["gpu"]["diffusers"] is None:
            advice.append("for generated key visuals: pip install 'mktcli[gpu]' on a machine with an NVIDIA GPU")
        elif not torch_info.get("cuda_available"):
            advice.append("torch sees no CUDA GPU: generated key visuals need one (posters still work: the embedded illustration engine)")
    else:
        gpus = torch_info.get("gpus") or [{}]
        if gpus[0].get("memory_gb", 0) < 60:
            advice.append(f"{gpus[0].get('name')} has {gpus[0].get('memory_gb')} GB: use --profile low-vram "
                          "for Qwen-Image (quality and fast need about 61 GB)")
        if not models.get(reg.default_model):
            advice.append(f"{reg.default_model} is not in the local cache: `hf download {reg.default_model}`")
    return {
        "mkt": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
        "torch": torch_info, "extras": extras,
        "engines": {"registered": sorted(available()), "auto_picks": engine, "why": why},
        "fonts": fonts,
        "dirs": {"configs": str(configs_dir()), "user (MKT_HOME)": str(user_dir()), "hf_cache": str(cache),
                 "hf_cache_exists": cache.is_dir(),
                 "hf_offline": os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")},
        "models": models,
        "advice": advice,
    }
