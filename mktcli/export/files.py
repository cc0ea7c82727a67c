"""Atomic file writes and safe paths: a reader never sees half a file, and nothing is written outside OUT."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ..errors import PathEscapeError


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_json(path: Path, obj: Any) -> bytes:
    data = (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    atomic_write(path, data)
    return data


def safe_join(root: Path, *parts: str) -> Path:
    """root/parts…, refusing anything that resolves outside root (.., absolute parts, symlinks out)."""
    root_r = root.resolve()
    p = root_r.joinpath(*parts).resolve()
    if p != root_r and root_r not in p.parents:
        raise PathEscapeError(f"refusing to write outside {root}: {'/'.join(parts)}",
                              "names of briefs and segments must be plain file names")
    return p


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
