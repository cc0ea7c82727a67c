"""Reading the files a user names (briefs, YAML files, pictures, logs): regular files only, never more than the
limit for their kind (configs/limits.yaml `files:`), and never a read that can block.

A FIFO would wait forever for a writer, /dev/zero never ends, a folder or a socket is not a file: each is refused
by its type before a byte is read, and the open is non-blocking, so a file swapped for a FIFO after the check is
still refused (by fstat on the open descriptor) rather than waited on."""
from __future__ import annotations

import io
import os
import stat
import warnings
from pathlib import Path
from typing import Any

from .errors import BriefError
from .limits import clip, limit_hint, limits

Where = dict[str, Any]   # file / line / key of the place that named the path (a brief's visual.image …)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _error(message: str, path: Path, where: Where | None, hint: str | None) -> BriefError:
    w = dict(where or {})
    w.setdefault("file", path)
    return BriefError(message, hint=hint, **w)


def _shown(what: str, path: Path, where: Where | None) -> str:
    """'brief' when the error names the file itself, else 'image /path/named' (the error names the brief's key)."""
    return f"{what} {clip(str(path))}" if where else what


def check_regular(path: str | Path, what: str, where: Where | None = None) -> os.stat_result:
    """The file's stat, when it is a regular file (symlinks followed); a located error otherwise."""
    path = Path(path)
    shown = clip(str(path))
    named = _shown(what, path, where)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise _error(f"{what} not found: {shown}", path, where,
                     "check the path (a brief's paths are relative to the brief)") from None
    except OSError as e:
        raise _error(f"cannot read {what} {shown}: {e.strerror or e}", path, where, "check the path") from None
    if not stat.S_ISREG(st.st_mode):
        raise _error(f"{named} is {_kind(st.st_mode)}, not a file", path, where,
                     "give the path of a file" + (" (a folder's files are not read)" if stat.S_ISDIR(st.st_mode)
                                                  else ""))
    return st


def read_user_file(path: str | Path, what: str, limit: str, where: Where | None = None, *,
                   max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limits().files.<limit>` bytes; a located error otherwise."""
    path = Path(path)
    if max_bytes is None:
        max_bytes = getattr(limits().files, "json_" if limit == "json" else limit)
    st = check_regular(path, what, where)
    too_big = f"{_shown(what, path, where)} is over the {max_bytes:,}-byte limit"
    if st.st_size > max_bytes:
        raise _error(f"{too_big} ({st.st_size:,} bytes)", path, where, limit_hint(f"files.{limit}"))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise _error(f"cannot read {what} {clip(str(path))}: {e.strerror or e}", path, where,
                     "check the file's permissions") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):   # swapped after the check above
            raise _error(f"{_shown(what, path, where)} is not a regular file", path, where, "give the path of a file")
        try:
            data = f.read(max_bytes + 1)   # a file that grows (or a /proc file that lies about its size) stops here
        except OSError as e:   # /proc/self/mem and the like: "regular", unreadable
            raise _error(f"cannot read {_shown(what, path, where)}: {e.strerror or e}", path, where,
                         "give the path of an ordinary file") from None
    if len(data) > max_bytes:
        raise _error(too_big, path, where, limit_hint(f"files.{limit}"))
    return data


def load_image(path: str | Path, what: str, where: Where | None = None, *, draft: tuple[int, int] | None = None):
    """A picture a user gave (visual.image, a logo, mkt check IMAGE), decoded whole: refused when it is not a
    regular file, over the size, pixel or side limits (checked on the header, before decoding), or truncated or
    damaged (a truncated JPEG decodes to a grey half otherwise). `draft` decodes a JPEG at a reduced scale, for a
    check that only needs to know the whole file decodes. Returns a loaded PIL image (its own copy of the data)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    data = read_user_file(path, what, "image", where)
    lim = limits().image
    shown = _shown(what, path, where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if max(w, h) > lim.max_side:
                raise _error(f"{shown} is {w}×{h} pixels; the longer side may be at most {lim.max_side:,}",
                             path, where, "scale it down (a poster needs at most a few thousand pixels); "
                             + limit_hint("image.max_side"))
            if w * h > lim.max_pixels:
                raise _error(f"{shown} is {w}×{h} = {w * h:,} pixels; at most {lim.max_pixels:,} are read",
                             path, where, "scale it down; " + limit_hint("image.max_pixels"))
            if draft and im.format == "JPEG":
                im.draft("RGB", draft)
            im.load()
    except BriefError:
        raise
    except Image.DecompressionBombError:
        raise _error(f"{shown} has more pixels than mkt reads (at most {lim.max_pixels:,}; Pillow refused it as a "
                     "possible decompression bomb)", path, where,
                     "scale it down; " + limit_hint("image.max_pixels")) from None
    except UnidentifiedImageError:
        raise _error(f"{shown} is not a readable image (not a format Pillow knows)", path, where,
                     "use a JPEG or PNG file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:   # truncated or damaged data
        raise _error(f"{shown} is truncated or damaged ({clip(str(e), 60)})", path, where,
                     "export or download the picture again; use a JPEG or PNG file") from None
    return im
