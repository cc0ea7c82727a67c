"""Digests of what a creative is made from: creative ids, and the cache that lets `mkt batch` skip unchanged work.

Two levels, kept apart on purpose:
- `content_digest`: everything that decides a run's pixels and words (the brief's content without comments,
  placement or channel list; brand; logo and picture bytes; engine, seed, options; mkt version). Creative ids hash it.
- `creative_key`: the content digest plus what else lands in a creative's manifest entry and files (its segment
  and channel preset, the compliance rules, --verify, --layers). Equal keys → the cached creative is reused."""
from __future__ import annotations

import hashlib
import json
import stat
from dataclasses import asdict, is_dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import __version__
from .brief import knowledge_path
from .checks.rules import rules_files


def json_digest(obj: Any) -> str:
    """sha256 (hex) of an object's canonical JSON (sorted keys; what JSON cannot hold is written with str)."""
    blob = json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@lru_cache(maxsize=512)
def _file_sha(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_digest(path: str | Path | None) -> str | None:
    """sha256 of a file's bytes (memoised on size and mtime: a batch asks about the same logo for every brief)."""
    if path is None:
        return None
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):   # a FIFO or /dev/zero would block or never end (load_brief refuses them)
        return None
    return _file_sha(str(p.resolve()), st.st_size, st.st_mtime_ns)


def _options(visual_options: Any) -> Any:
    if visual_options is None:
        return None
    if is_dataclass(visual_options):
        d = asdict(visual_options)
        d.pop("device", None)   # where the model runs does not change what it is asked to draw
        return d
    return repr(visual_options)


def content_digest(brief, brand, engine: str, seed: int, visual_options: Any = None) -> str:
    # a brief without video settings hashes as it did before they existed (its creatives keep their ids)
    skip = {"placement", "channels"} | ({"video"} if not brief.video.model_fields_set else set())
    content = brief.model_dump(mode="json", by_alias=True, exclude=skip)
    return json_digest({
        # what `mkt learn distill` found ranks and writes the copy: a new knowledge file is new input
        "knowledge": file_digest(knowledge_path(brief)),
        "brief": content, "brand": brand.model_dump(mode="json"), "logo": file_digest(brand.logo_path()),
        "image": file_digest(brief.image_path()), "engine": engine, "seed": seed,
        "options": _options(visual_options), "mkt": __version__,
    })


def rules_fingerprint(extra: tuple[str, ...] = ()) -> str:
    """The compliance rule files in force (shipped, ~/.mkt, --rules) by content: a rule change re-checks creatives."""
    return json_digest([(str(p), file_digest(p)) for p in rules_files(tuple(str(e) for e in extra))])


def creative_key(content: str, segment: str, channel: Any, *, rules: str, verify: bool, layered: bool,
                 variant: int = 0) -> str:
    """The cache key of one creative (see the module docstring)."""
    preset = channel.model_dump(mode="json") if hasattr(channel, "model_dump") else channel
    return json_digest([content, segment, preset, rules, verify, layered] + ([variant] if variant else []))[:32]
