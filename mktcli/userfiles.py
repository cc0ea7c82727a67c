"""Reading the files a user names (briefs, YAML files, pictures, logs): regular files only, never more than the
limit for their kind (configs/limits.yaml `files:`), and never a read that can block — filecheck.py does the
reading; this module looks the limits up (limits in force, `image:` for pictures)."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

from .errors import BriefError, clip
from .filecheck import Where, file_error, named, read_regular
from .filecheck import check_regular  # noqa: F401 — learn/store.py checks a click log through this front door
from .limits import limits
from .paths import limit_hint


def read_user_file(path: str | Path, what: str, limit: str, where: Where | None = None, *,
                   max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file of at most `limits().files.<limit>` bytes; a located error otherwise."""
    if max_bytes is None:
        max_bytes = getattr(limits().files, "json_" if limit == "json" else limit)
    return read_regular(path, what, max_bytes, where, limit_key=f"files.{limit}")


def load_image(path: str | Path, what: str, where: Where | None = None, *, draft: tuple[int, int] | None = None):
    """A picture a user gave (visual.image, a logo, mkt check IMAGE), decoded whole: refused when it is not a
    regular file, over the size, pixel or side limits (checked on the header, before decoding), or truncated or
    damaged (a truncated JPEG decodes to a grey half otherwise). `draft` decodes a JPEG at a reduced scale, for a
    check that only needs to know the whole file decodes. Returns a loaded PIL image (its own copy of the data)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    data = read_user_file(path, what, "image", where)
    lim = limits().image
    shown = named(what, path, where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            w, h = im.size
            if max(w, h) > lim.max_side:
                raise file_error(f"{shown} is {w}×{h} pixels; the longer side may be at most {lim.max_side:,}",
                                 path, where, "scale it down (a poster needs at most a few thousand pixels); "
                                 + limit_hint("image.max_side"))
            if w * h > lim.max_pixels:
                raise file_error(f"{shown} is {w}×{h} = {w * h:,} pixels; at most {lim.max_pixels:,} are read",
                                 path, where, "scale it down; " + limit_hint("image.max_pixels"))
            if draft and im.format == "JPEG":
                im.draft("RGB", draft)
            im.load()
    except BriefError:
        raise
    except Image.DecompressionBombError:
        raise file_error(f"{shown} has more pixels than mkt reads (at most {lim.max_pixels:,}; Pillow refused it as a "
                         "possible decompression bomb)", path, where,
                         "scale it down; " + limit_hint("image.max_pixels")) from None
    except UnidentifiedImageError:
        raise file_error(f"{shown} is not a readable image (not a format Pillow knows)", path, where,
                         "use a JPEG or PNG file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:   # truncated or damaged data
        raise file_error(f"{shown} is truncated or damaged ({clip(str(e), 60)})", path, where,
                         "export or download the picture again; use a JPEG or PNG file") from None
    return im
