"""Moved to mktcli.preview (issue 20): gallery.py (what the page shows) and server.py (the local server and the
static page). This name keeps old imports working for one release (0.2.x), with a DeprecationWarning.

The names resolve on first use (PEP 562), so the bundle layer (export/) never depends on the preview above it
unless an old script asks."""
from __future__ import annotations

import importlib
import warnings

_GALLERY = ("FILES_PREFIX", "Href", "BundleView", "Gallery", "gallery_root", "find_bundle_dirs", "BundleCache",
            "stat_key", "registry_statuses", "load_gallery", "mockup_kind", "approval_status", "server_href",
            "relative_href", "gallery_data")
_SERVER = ("DEFAULT_PORT", "HOST", "CONTENT_TYPES", "FILE_CSP", "write_gallery_html", "safe_rel", "PreviewServer",
           "make_server")
__all__ = list(_GALLERY + _SERVER)   # what `from mktcli.export.preview import *` gave


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)
    if name not in _GALLERY + _SERVER:
        raise AttributeError(f"module 'mktcli.export.preview' has no attribute {name!r}")
    home = "mktcli.preview.gallery" if name in _GALLERY else "mktcli.preview.server"
    warnings.warn(f"mktcli.export.preview is deprecated: import {name} from {home} (removed in 0.3)",
                  DeprecationWarning, stacklevel=2)
    return getattr(importlib.import_module(home), name)
