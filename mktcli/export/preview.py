"""Moved to mktcli.preview (issue 20): gallery.py (what the page shows) and server.py (the local server and the
static page). This name keeps old imports working for one release (0.2.x)."""
from __future__ import annotations

from ..preview.gallery import *  # noqa: F401,F403
from ..preview.gallery import (BundleView, Gallery, Href, gallery_data, load_gallery, mockup_kind,  # noqa: F401
                               relative_href, server_href)
from ..preview.server import *  # noqa: F401,F403
from ..preview.server import PreviewServer, make_server, safe_rel, write_gallery_html  # noqa: F401
