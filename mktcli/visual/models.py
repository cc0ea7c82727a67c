"""Diffusion model profiles from configs/models.yaml (+ ~/.mkt/models.yaml): what to load and how to run it.

No torch here: `mkt models` and brief validation read these without importing any ML library."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from ..errors import ConfigError, EngineError
from ..paths import configs_dir, user_dir
from ..schema import Strict, suggest, validate
from ..yamlio import load_yaml


class LoraSpec(Strict):
    source: str                       # hub id or local folder / file
    weight_name: str | None = None
    scale: float = 1.0
    licence: str | None = None


class SchedulerSpec(Strict):
    class_name: str = "FlowMatchEulerDiscreteScheduler"
    config: dict[str, Any] = Field(default_factory=dict)


class QuantSpec(Strict):
    backend: Literal["bitsandbytes_4bit", "bitsandbytes_8bit", "torchao", "quanto"]
    components: list[str] = Field(default_factory=lambda: ["transformer"])
    kwargs: dict[str, Any] = Field(default_factory=dict)


class Profile(Strict):
    extends: str | None = None
    steps: int | None = Field(None, ge=1, le=200)
    cfg: float | None = Field(None, ge=0, le=30)
    lora: LoraSpec | None = None
    scheduler: SchedulerSpec | None = None
    offload: Literal["none", "model", "group", "sequential"] | None = None
    quantization: QuantSpec | None = None
    compile: bool | None = None       # torch.compile of the transformer's repeated blocks
    step_cache: float | None = Field(None, ge=0, le=1)   # first-block cache threshold; 0/None = off
    attention: str | None = None      # diffusers attention backend (e.g. _native_cudnn); None = diffusers' default


class ModelSpec(Strict):
    label: str = ""
    pipeline: str | None = None       # diffusers class name; None = DiffusionPipeline picks from model_index.json
    licence: str = "unknown"
    commercial_use: bool | None = None
    params: str = ""
    download_gb: float | None = None
    dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    guidance: Literal["true_cfg", "cfg", "auto"] = "auto"
    resolutions: list[tuple[int, int]] = Field(default_factory=list)
    prompt_suffix: str = ""
    negative_prompt: str = ""
    chinese_word: float | None = None
    text_in_image: str | None = None
    call_kwargs: dict[str, Any] = Field(default_factory=dict)
    notes: str = ""
    profiles: dict[str, Profile] = Field(default_factory=dict)


class Generic(Strict):
    dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    resolutions: list[tuple[int, int]] = Field(default_factory=list)
    negative_prompt: str = ""
    profiles: dict[str, Profile] = Field(default_factory=dict)


class ModelsFile(Strict):
    version: int = 1
    default_model: str | None = None
    default_profile: str | None = None
    models: dict[str, ModelSpec] = Field(default_factory=dict)
    generic: Generic | None = None
    profile_notes: dict[str, str] = Field(default_factory=dict)


class Registry:
    def __init__(self, files: list[ModelsFile]):
        self.models: dict[str, ModelSpec] = {}
        self.default_model, self.default_profile = "Qwen/Qwen-Image", "quality"
        self.generic = Generic()
        self.profile_notes: dict[str, str] = {}
        for f in files:  # later files (the user's) override earlier ones, model by model
            self.models.update(f.models)
            self.default_model = f.default_model or self.default_model
            self.default_profile = f.default_profile or self.default_profile
            self.generic = f.generic or self.generic
            self.profile_notes.update(f.profile_notes)

    def spec(self, model: str) -> tuple[ModelSpec, bool]:
        """The settings for a model id or path; (spec, known). Unknown models get the generic settings."""
        if model in self.models:
            return self.models[model], True
        g = self.generic
        return ModelSpec(label=Path(model).name or model, dtype=g.dtype, resolutions=g.resolutions,
                         negative_prompt=g.negative_prompt, profiles=g.profiles), False

    def profile(self, model: str, name: str | None) -> tuple[str, Profile]:
        spec, _ = self.spec(model)
        name = name or self.default_profile
        if name not in spec.profiles:
            near = suggest(name, spec.profiles)
            raise EngineError(f"model '{model}' has no profile '{name}'",
                              (f"did you mean '{near}'? " if near else "")
                              + "profiles: " + ", ".join(spec.profiles) + " (mkt models lists them)")
        return name, resolve_profile(spec.profiles, name)


def resolve_profile(profiles: dict[str, Profile], name: str, _seen: tuple = ()) -> Profile:
    """A profile with `extends` filled in from its parent (keys set here win)."""
    p = profiles[name]
    if not p.extends:
        return p
    if p.extends in _seen or p.extends not in profiles:
        raise ConfigError(f"profile '{name}' extends '{p.extends}', which is missing or circular",
                          key=f"profiles.{name}.extends")
    base = resolve_profile(profiles, p.extends, _seen + (name,))
    merged = base.model_dump(exclude_none=True) | p.model_dump(exclude_none=True, exclude={"extends"})
    return Profile(**merged)


def load_registry(extra: list[str | Path] | None = None) -> Registry:
    paths = [configs_dir() / "models.yaml"]
    user = user_dir() / "models.yaml"
    if user.is_file():
        paths.append(user)
    paths += [Path(p) for p in extra or []]
    files = []
    for p in paths:
        if not Path(p).is_file():
            raise ConfigError(f"models file not found: {p}", hint="check the path")
        files.append(validate(ModelsFile, load_yaml(p, what="models file")))
    return Registry(files)


def nearest_resolution(resolutions: list[tuple[int, int]], width: int, height: int,
                       multiple: int = 16) -> tuple[int, int]:
    """The native bucket whose aspect ratio is closest to width:height (on a log scale, so 2:1 and 1:2 are
    equally far from 1:1). Without a list, a ~1 MP size of that aspect, rounded to `multiple`."""
    target = math.log(width / height)
    if resolutions:
        return min(resolutions, key=lambda r: (abs(math.log(r[0] / r[1]) - target), -r[0] * r[1]))
    a = width / height
    h = math.sqrt(1024 * 1024 / a)
    w = h * a
    return (max(multiple, int(round(w / multiple)) * multiple), max(multiple, int(round(h / multiple)) * multiple))

