"""The server of `mkt preview`: the gallery page at /, the bundle files under /files/, on 127.0.0.1 only, and the
static page (`--html`) written once. What the page shows is read by gallery.py and drawn by page.py."""
from __future__ import annotations

import errno
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..errors import BriefError, MktError
from ..export.files import atomic_write, check_output_file
from ..limits import limits
from .gallery import FILES_PREFIX, Gallery, gallery_root, load_gallery, relative_href, server_href, stat_key
from .page import PAGE_CSP, gallery_html

DEFAULT_PORT = 8765
HOST = "127.0.0.1"                    # never another interface: the gallery shows unreleased creatives
_LOCAL_NAMES = {HOST, "localhost"}    # Host headers we answer (a DNS-rebinding page sends its own name)

CONTENT_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
    ".svg": "image/svg+xml", ".psd": "image/vnd.adobe.photoshop", ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8", ".json": "application/json", ".html": "text/html; charset=utf-8",
    ".zip": "application/zip", ".mp4": "video/mp4",
}
# bundle files are shown, never run: an SVG or HTML file a manifest lists gets no scripts and no network
FILE_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; font-src data:; "
            "sandbox; frame-ancestors 'self'")


def write_gallery_html(out: str | Path, target: str | Path, *,
                       registry: str | Path | None = None) -> tuple[Path, Gallery]:
    """Write the gallery as one static page (atomically) linking the bundle files by relative path."""
    target = check_output_file(target, "--html", example="preview.html")   # a folder, or a typo that would leave stray folders
    gallery = load_gallery(out, registry=registry, require_bundle=True)
    page = gallery_html(gallery, relative_href(target, gallery.root), static=True)
    atomic_write(target, page.encode("utf-8"))
    return target, gallery


# ---------------------------------------------------------------------------------------------------- the server


def safe_rel(url_path: str) -> str | None:
    """The OUT-relative file a /files/ URL names, or None when it is not a plain relative path. Decoded once, so
    %2e%2e is '..' here and refused like '..'; backslashes, empty and dot segments and NUL are refused too."""
    if not url_path.startswith(FILES_PREFIX):
        return None
    rel = unquote(url_path[len(FILES_PREFIX):], errors="strict")
    if not rel or "\\" in rel or "\x00" in rel:
        return None
    if any(part in ("", ".", "..") for part in rel.split("/")):   # also refuses a leading '/' (absolute path)
        return None
    return rel


class _Handler(BaseHTTPRequestHandler):
    server: PreviewServer

    def version_string(self) -> str:
        return "mkt-preview"   # not the Python version: nothing to learn about this machine

    def do_GET(self) -> None:  # noqa: N802 — the name http.server calls
        self._answer(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — the base class's signature
        pass   # quiet: the terminal shows the URL and the hint to stop, not a line per thumbnail

    def setup(self) -> None:
        # a connection that sends nothing (a half-open one, an idle keep-alive) is closed after this long, instead
        # of holding its thread for ever (StreamRequestHandler.setup applies it to the socket)
        self.timeout = self.server.idle_timeout
        super().setup()

    def _answer(self, send_body: bool) -> None:
        host = (self.headers.get("Host") or HOST).rsplit(":", 1)[0].strip("[]").lower()
        if host not in _LOCAL_NAMES:
            return self._send(HTTPStatus.FORBIDDEN, b"forbidden host\n", "text/plain; charset=utf-8", send_body)
        path = urlsplit(self.path).path
        if path in ("/", "/index.html"):
            try:
                page = gallery_html(self.server.refresh(), server_href).encode("utf-8")
            except MktError as e:   # OUT was removed or replaced while the server runs
                return self._send(HTTPStatus.NOT_FOUND, f"{e}\n".encode(), "text/plain; charset=utf-8", send_body)
            return self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", send_body)
        try:
            found = self.server.file_for(path)
        except (UnicodeDecodeError, MktError):   # not UTF-8 once decoded; OUT gone while the server runs
            found = None
        if found is None:
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", send_body)
        try:
            data = found.read_bytes()
        except OSError:
            return self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", send_body)
        kind = CONTENT_TYPES.get(found.suffix.lower(), "application/octet-stream")
        self._send(HTTPStatus.OK, data, kind, send_body, csp=FILE_CSP)

    def _send(self, status: HTTPStatus, body: bytes, kind: str, send_body: bool, csp: str | None = None) -> None:
        """One response with the headers every answer carries (the page's policy unless `csp` says otherwise)."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", csp or PAGE_CSP)
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")   # a reload re-reads the manifests and the files
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class PreviewServer(ThreadingHTTPServer):
    """The gallery server over OUT. `refresh()` re-reads the manifests (each page load); a file is sent only when a
    loaded manifest lists it and it resolves inside OUT."""

    daemon_threads = True   # Ctrl-C does not wait for a browser's idle keep-alive connections

    def __init__(self, out: str | Path, port: int = DEFAULT_PORT, registry: str | Path | None = None):
        lim = limits().preview
        self.root = gallery_root(out)
        self.registry = registry
        self.idle_timeout = lim.idle_timeout_seconds
        self.rescan_seconds = lim.rescan_seconds
        self._slots = threading.BoundedSemaphore(lim.max_connections)
        self._cache: dict = {}                       # each bundle's view while its manifest and files are unchanged
        self._scan_lock = threading.Lock()
        self._scanned = 0.0
        # replaced whole, never changed in place: readers need no lock
        self._listed: frozenset[str] = frozenset()
        self._stats: dict[str, Any] = {}
        self.refresh()   # a bad OUT fails here, before the port is taken
        try:
            super().__init__((HOST, port), _Handler)
        except OSError as e:
            raise _bind_error(port, e) from None

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return   # a browser that left mid-download (a reload, a closed tab): nothing went wrong here
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/"

    def absolute_href(self, rel: str) -> str:
        """A file's full URL on this server (for --json: a script can fetch it as is)."""
        return self.url.rstrip("/") + server_href(rel)

    def process_request(self, request: Any, client_address: Any) -> None:
        """At most preview.max_connections connections at once: more are closed at once, not given a thread."""
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _take(self, gallery: Gallery) -> Gallery:
        self._listed, self._stats = gallery.listed(), gallery.verified_stats()
        self._scanned = time.monotonic()
        return gallery

    def refresh(self) -> Gallery:
        """The gallery as it is now (each page load): bundles whose manifest and files did not change are not read
        again (the cache, keyed on their stat), the registry statuses are."""
        return self._take(load_gallery(self.root, registry=self.registry, cache=self._cache))

    def _rescan(self) -> None:
        """Look for bundles finished since the page was built, at most every preview.rescan_seconds however many
        requests for unlisted paths come in (any web page can send them to 127.0.0.1), one scan at a time, without
        the registry."""
        if time.monotonic() - self._scanned < self.rescan_seconds:
            return
        with self._scan_lock:
            if time.monotonic() - self._scanned < self.rescan_seconds:
                return
            self._take(load_gallery(self.root, cache=self._cache, statuses=False))

    def file_for(self, url_path: str) -> Path | None:
        rel = safe_rel(url_path)
        if rel is None:
            return None
        if rel not in self._listed:
            self._rescan()   # a bundle finished since the page was built
            if rel not in self._listed:
                return None
        root = self.root.resolve()
        p = (root / rel).resolve()   # follows symlinks: one leading out of OUT is refused below
        if root not in p.parents or not p.is_file():
            return None
        if stat_key(root / rel) != self._stats.get(rel):   # changed since its sha256 was checked: check again
            self.refresh()
            if rel not in self._listed or stat_key(root / rel) != self._stats.get(rel):
                return None
        return p


def _bind_error(port: int, e: OSError) -> BriefError:
    if e.errno == errno.EADDRINUSE:
        return BriefError(f"port {port} on {HOST} is in use (another mkt preview, or another server)", key="--port",
                          hint="stop the other one, or pick a free port: --port 0 lets the system choose")
    if e.errno in (errno.EACCES, errno.EPERM):
        return BriefError(f"not allowed to listen on port {port}", key="--port",
                          hint="use a port above 1023, or --port 0 to let the system choose")
    return BriefError(f"cannot listen on {HOST}:{port}: {e.strerror or e}", key="--port",
                      hint="--port 0 lets the system choose a free port")


def make_server(out: str | Path, port: int = DEFAULT_PORT, *, registry: str | Path | None = None) -> PreviewServer:
    """A gallery server bound to 127.0.0.1:PORT (0: any free port); call serve_forever() to run it."""
    if not 0 <= port <= 65535:
        raise BriefError(f"port {port} is out of range", key="--port", hint="0-65535; 0 lets the system choose")
    return PreviewServer(out, port, registry)
