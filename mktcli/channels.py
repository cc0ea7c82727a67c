"""Channel presets from configs/channels.yaml, plus the user's own files (which add or override presets)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .errors import ConfigError, clip
from .paths import configs_dir, user_dir
from .schema import Strict, invalid, validate
from .yamlio import load_yaml

# A send window: a text channel's (configs/channels.yaml send_window) or a brief's own (placement.send_window)
_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d\s*[-–~～至]\s*(([01]\d|2[0-3]):[0-5]\d|24:00)$")


def check_window(v: str | None) -> str | None:
    """'08:00-20:00' (local time of the placement's timezone); normalised to HH:MM-HH:MM."""
    if v is None:
        return v
    s = unicodedata.normalize("NFKC", str(v)).strip()
    if not _WINDOW.match(s):
        raise invalid(f"'{clip(v)}' is not a time window",
                      "write it as HH:MM-HH:MM with hours 00-23 (or an end of 24:00), e.g. '08:00-20:00' (in quotes)")
    a, b = re.split(r"\s*[-–~～至]\s*", s)
    if a >= b:
        raise invalid(f"the window '{clip(v)}' ends before it starts", "e.g. '08:00-20:00'")
    return f"{a}-{b}"


class SafeZone(Strict):
    left: float = Field(0.06, ge=0, lt=0.5)
    right: float = Field(0.06, ge=0, lt=0.5)
    top: float = Field(0.04, ge=0, lt=0.5)
    bottom: float = Field(0.04, ge=0, lt=0.5)


class VideoSpec(Strict):
    """A video slot's limits (configs/channels.yaml `video:`): what the platform accepts and what mkt renders."""

    fps: int = Field(30, ge=1, le=60)
    min_s: float = Field(5, gt=0)           # the platform's shortest accepted clip
    max_s: float = Field(60, gt=0)          # … and longest
    default_s: float = Field(10, gt=0)      # what mkt renders when the brief says nothing (video.duration)
    codec: Literal["h264"] = "h264"
    min_kbps: int | None = Field(None, gt=0)   # the platform's least average bitrate, if it publishes one
    max_kbps: int = Field(8000, gt=0)          # the encoder's cap (VBV maxrate)
    cover: bool = True                          # a poster frame (cover image) goes beside the clip

    @model_validator(mode="after")
    def _range(self):
        if not self.min_s <= self.default_s <= self.max_s:
            raise invalid(f"default_s {self.default_s} is outside min_s..max_s ({self.min_s}..{self.max_s})",
                          "e.g. min_s: 5, max_s: 60, default_s: 10")
        return self


class Channel(Strict):
    name: str = ""
    label: str = ""
    kind: Literal["image", "text", "video"] = "image"
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
    video: VideoSpec | None = None   # video channels: frame rate, duration and bitrate limits
    send_window: str | None = None   # text channels: when messages may go out, local time, e.g. '08:00-20:00'

    @field_validator("send_window")
    @classmethod
    def _window(cls, v):
        return check_window(v)

    @model_validator(mode="after")
    def _sizes(self):
        if self.kind == "image" and (self.width is None or self.height is None):
            raise invalid("an image channel needs width and height", "add e.g. 'width: 1080' and 'height: 1920'")
        if self.kind == "video":
            if self.width is None or self.height is None:
                raise invalid("a video channel needs width and height", "add e.g. 'width: 1080' and 'height: 1920'")
            if self.width % 2 or self.height % 2:
                raise invalid(f"a video channel's size must be even for H.264 yuv420p ({self.width}×{self.height})",
                              "e.g. 1080×1920")
            if self.video is None:
                self.video = VideoSpec()
        return self

    @property
    def size(self) -> tuple[int, int]:
        return (self.width or 0, self.height or 0)

    @property
    def is_image(self) -> bool:
        """A creative made of pixels (a picture, or a video whose frames are composed like one): not a text."""
        return self.kind in ("image", "video")

    @property
    def is_video(self) -> bool:
        return self.kind == "video"

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


RESERVED_NAMES = ("ok", "exit_code")   # keys of every JSON result (mktcli/cli/_console.py)


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
        if name in RESERVED_NAMES:   # `mkt channels --json` lists channels by name beside these two keys
            raise ConfigError(f"'{name}' cannot name a channel", file=loaded_file,
                              line=loaded.line_of(("channels", name)), key=f"channels.{name}",
                              hint="ok and exit_code are reserved; pick another name")
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
