"""Is a model here, and can the hub be reached? Asked before loading, so a model that is neither cached nor
downloadable fails in a second with the fix, instead of after a minute of connection retries."""
from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse


def cache_dir() -> Path:
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home) / "hub"


def _snapshots(repo: str) -> list[Path]:
    snaps = cache_dir() / ("models--" + repo.replace("/", "--")) / "snapshots"
    return list(snaps.iterdir()) if "/" in repo and snaps.is_dir() else []


def local_copy(model: str, marker: str = "model_index.json") -> Path | None:
    """The folder a model would load from without a download: the folder itself, or the newest snapshot of the
    repo in the HF cache that has the marker file (model_index.json for diffusers, config.json for transformers).
    Reads the file system only."""
    p = Path(model).expanduser()
    if p.is_dir():
        return p if (p / marker).is_file() else None
    found = [s for s in _snapshots(model) if (s / marker).is_file()]
    return max(found, key=lambda s: s.stat().st_mtime) if found else None


def is_local(model: str, marker: str = "config.json") -> bool:
    return local_copy(model, marker) is not None


def lora_copy(source: str, weight_name: str | None) -> Path | None:
    """A LoRA file or folder given as a path, or the cache snapshot that holds its weight file."""
    p = Path(source).expanduser()
    if p.exists():
        return p
    return next((s for s in _snapshots(source) if weight_name is None or (s / weight_name).is_file()), None)


def offline() -> bool:
    return any(os.environ.get(v, "") not in ("", "0", "false") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def reachable(timeout: float = 2.0) -> bool:
    """Can a TCP connection to the hub's endpoint be opened (HF_ENDPOINT, default huggingface.co)?"""
    if offline():
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False
