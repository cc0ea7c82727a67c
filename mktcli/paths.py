"""Where bundled data lives: configs/ and assets/ at the top of a source checkout, or mktcli/_data/ in a wheel; and
where a user's own files go (MKT_HOME: limits, knowledge) and the cache."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def data_root() -> Path:
    here = Path(__file__).resolve().parent
    wheel = here / "_data"
    if (wheel / "configs").is_dir():
        return wheel
    return here.parent  # source checkout / editable install


def configs_dir() -> Path:
    return data_root() / "configs"


def fonts_dir() -> Path:
    return data_root() / "assets" / "fonts"


def user_dir() -> Path:
    """Per-user overrides (channels.yaml, brands/). MKT_HOME moves it, e.g. for tests."""
    return Path(os.environ.get("MKT_HOME", Path.home() / ".mkt"))


def cache_root() -> Path:
    """Where mkt keeps what it can remake (rasterised objects, font subsets): MKT_CACHE, else
    $XDG_CACHE_HOME/mktcli, else ~/.cache/mktcli. A cache: safe to delete."""
    if os.environ.get("MKT_CACHE"):
        return Path(os.environ["MKT_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "mktcli"


LIMITS_FILE = "limits.yaml"   # configs/limits.yaml, then MKT_HOME/limits.yaml (limits.py reads both)


def limit_hint(key: str) -> str:
    """Where a limit lives, for the hint of an error that hit it (here, not in limits.py: the YAML reader, which
    limits.py uses to read its own files, names them too)."""
    return (f"the limit is {key} in {configs_dir() / LIMITS_FILE}; to raise it for your team, set it in "
            f"{user_dir() / LIMITS_FILE}")


def default_knowledge_path(locale: str = "zh-CN") -> Path:
    """The learned-wording file the copy reads when a brief names none (`mkt learn distill` writes it)."""
    return user_dir() / "knowledge" / f"{locale}.yaml"
