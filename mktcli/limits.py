"""Limits on what mkt reads, as data: configs/limits.yaml, then MKT_HOME/limits.yaml (only the keys it changes).

A value over a limit is a user's input error (exit 2) that names the file, line and key and the limit's own key
(paths.limit_hint), so the fix is either smaller input or a raised limit. errors.clip keeps a user's value short in
any message (a 100,000-character name must not become a 100 KB error), at messages.quote_chars once this module is
loaded."""
from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field

from .errors import QUOTE_CHARS, ConfigError, quote_chars_from
from .paths import LIMITS_FILE, configs_dir, user_dir
from .schema import Strict, validate
from .yamlread import read_yaml


class FileLimits(Strict):
    brief: int = Field(1 << 20, gt=0)
    yaml: int = Field(8 << 20, gt=0)
    image: int = Field(100 << 20, gt=0)
    text: int = Field(1 << 20, gt=0)
    json_: int = Field(256 << 20, gt=0, alias="json")
    click_log_line: int = Field(1 << 16, gt=0)


class YamlLimits(Strict):
    max_depth: int = Field(32, gt=1, le=200)      # compose recursion: Python's stack allows ~300 levels
    max_nodes: int = Field(200_000, gt=0)
    max_aliases: int = Field(1000, ge=0)
    max_scalar_chars: int = Field(4000, gt=0, le=4300)   # int('9' * 4301) is refused by Python itself


class ImageLimits(Strict):
    max_pixels: int = Field(100_000_000, gt=0)
    max_side: int = Field(20000, gt=0)


class BriefLimits(Strict):
    max_segments: int = Field(500, gt=0)
    max_dimensions: int = Field(8, gt=0)
    max_dimension_values: int = Field(100, gt=0)
    max_channels: int = Field(60, gt=0)
    max_creatives: int = Field(5000, gt=0)
    max_figure_chars: int = Field(8, gt=0)


class ClickLogLimits(Strict):
    max_count: int = Field(10**12, gt=0, le=2**62)     # SQLite integers are 64-bit
    max_cost: float = Field(1e12, gt=0)
    max_json_depth: int = Field(4, gt=0, le=100)
    first_day: date = date(2000, 1, 1)
    last_day: date = date(2099, 12, 31)


class BundleLimits(Strict):
    lock_wait_seconds: float = Field(10, ge=0, le=86400)


class MessageLimits(Strict):
    quote_chars: int = Field(QUOTE_CHARS, ge=20, le=10000)


class PreviewLimits(Strict):
    idle_timeout_seconds: float = Field(10, gt=0, le=3600)
    max_connections: int = Field(32, gt=0, le=10000)
    rescan_seconds: float = Field(1.0, ge=0, le=3600)


class Limits(Strict):
    version: int = 1
    files: FileLimits = FileLimits()
    yaml: YamlLimits = YamlLimits()
    image: ImageLimits = ImageLimits()
    brief: BriefLimits = BriefLimits()
    click_log: ClickLogLimits = ClickLogLimits()
    bundle: BundleLimits = BundleLimits()
    messages: MessageLimits = MessageLimits()
    preview: PreviewLimits = PreviewLimits()


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@lru_cache(maxsize=4)
def _load(home: str) -> Limits:
    # the limits files themselves are read under the built-in defaults (they cannot raise their own limits)
    shipped = read_yaml(configs_dir() / LIMITS_FILE, what="limits file", limits=Limits)
    data = shipped.data if isinstance(shipped.data, dict) else {}
    limits = validate(Limits, shipped, data)
    user = Path(home) / LIMITS_FILE
    if user.is_file():
        loaded = read_yaml(user, what="limits file", limits=lambda: limits)
        if loaded.data is not None:
            if not isinstance(loaded.data, dict):
                raise ConfigError("a limits file is a mapping of sections (files, yaml, image …)", file=user, line=1,
                                  hint=f"see {configs_dir() / LIMITS_FILE}")
            validate(Limits, loaded)   # located errors for the user's own keys
            limits = Limits.model_validate(_merge(limits.model_dump(by_alias=True), loaded.data))
    return limits


_loading = False
_by_env: dict[tuple, Limits] = {}


def limits() -> Limits:
    """The limits in force (shipped, then MKT_HOME/limits.yaml). While the limits files themselves are read (and
    an error in them is reported), the built-in defaults apply."""
    global _loading
    if _loading:
        return Limits()
    key = (os.environ.get("MKT_HOME"), os.environ.get("HOME"))   # cheap: called for every row of a click log
    hit = _by_env.get(key)
    if hit is not None:
        return hit
    _loading = True
    try:
        _by_env[key] = _load(str(user_dir()))
        return _by_env[key]
    finally:
        _loading = False


# clip (errors.py) quotes a user's value at messages.quote_chars of the limits in force from now on
quote_chars_from(lambda: limits().messages.quote_chars)
