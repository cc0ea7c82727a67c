"""Channel presets from configs/channels.yaml, plus the user's own files (which add or override presets)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .errors import ConfigError
from .paths import configs_dir, user_dir
from .schema import Strict, invalid, validate
from .yamlio import load_yaml


class SafeZone(Strict):
    left: float = Field(0.06, ge=0, lt=0.5)
    right: float = Field(0.06, ge=0, lt=0.5)
    top: float = Field(0.04, ge=0, lt=0.5)
    bottom: float = Field(0.04, ge=0, lt=0.5)


class Channel(Strict):
    name: str = ""
    label: str = ""
    kind: Literal["image", "text"] = "image"
    width: int | None = Field(None, gt=0, le=8192)
    height: int | None = Field(None, gt=0, le=8192)
    max_bytes: int | None = Field(None, gt=0)
    formats: list[Literal["jpeg", "png", "webp"]] | None = None
    safe: SafeZone | None = None
    min_text_px: float | None = Field(None, gt=0)
    layout: str | None = None        # force a layout shape (portrait | square | landscape | wide | strip)
    tappable: bool = True            # False where the slot cannot be tapped (an article cover): no button drawn
    refuse: str | None = None
    checked: date | None = None
    notes: str | None = None
    # text channels
    max_chars: int | None = None
    segment_chars: int | None = None
    long_segment_chars: int | None = None
    title_max: int | None = None
    body_max: int | None = None
    send_window: str | None = None   # text channels: when messages may go out, local time, e.g. '08:00-20:00'

    @field_validator("send_window")
    @classmethod
    def _window(cls, v):
        from .brief import check_window

        return check_window(v)

    @model_validator(mode="after")
    def _sizes(self):
        if self.kind == "image" and (self.width is None or self.height is None):
            raise invalid("an image channel needs width and height", "add e.g. 'width: 1080' and 'height: 1920'")
        return self

    @property
    def size(self) -> tuple[int, int]:
        return (self.width or 0, self.height or 0)

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    def legible_px(self) -> float:
        """Smallest legible text: the preset's value, else 11 pt on a 375 pt-wide phone."""
        if self.min_text_px:
            return self.min_text_px
        return max(10.0, 11 * (self.width or 375) / 375)


class ChannelDefaults(Strict):
    safe: SafeZone = SafeZone()
    formats: list[Literal["jpeg", "png", "webp"]] = ["jpeg", "png"]


class ChannelFile(Strict):
    version: int = 1
    defaults: ChannelDefaults | None = None
    channels: dict[str, Channel] = {}


def _merge(into: dict[str, Channel], loaded_file: Path, defaults: ChannelDefaults) -> ChannelDefaults:
    loaded = load_yaml(loaded_file, what="channel file")
    if not isinstance(loaded.data, dict):
        raise ConfigError("a channel file must be a mapping with a 'channels:' key", file=loaded_file, line=1)
    cf = validate(ChannelFile, loaded)
    if cf.defaults is not None:
        defaults = cf.defaults
    for name, ch in cf.channels.items():
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError("channel names use letters, digits, '_' and '-' only", file=loaded_file,
                              line=loaded.line_of(("channels", name)), key=f"channels.{name}")
        ch.name = name
        if ch.safe is None:
            ch.safe = defaults.safe
        if ch.formats is None:
            ch.formats = list(defaults.formats)
        into[name] = ch
    return defaults


def load_channels(extra_files: list[str | Path] | None = None) -> dict[str, Channel]:
    """Bundled presets, then ~/.mkt/channels.yaml (MKT_HOME), then each extra file; later files win."""
    channels: dict[str, Channel] = {}
    defaults = _merge(channels, configs_dir() / "channels.yaml", ChannelDefaults())
    user = user_dir() / "channels.yaml"
    files = ([user] if user.exists() else []) + [Path(f) for f in (extra_files or [])]
    for f in files:
        _merge(channels, f, defaults)
    return channels
