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


def is_local(model: str, marker: str = "config.json") -> bool:
    """A folder with the marker file, or a snapshot of the repo in the HF cache that has it."""
    p = Path(model).expanduser()
    if p.is_dir():
        return (p / marker).is_file()
    snaps = cache_dir() / ("models--" + model.replace("/", "--")) / "snapshots"
    return snaps.is_dir() and any((s / marker).is_file() for s in snaps.iterdir())


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
