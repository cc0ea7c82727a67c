"""The gallery page of `mkt preview` (templates/preview.html.j2): one HTML document with its CSS and a small vanilla
script (filters, static/preview.js), no external resources besides the bundle files it links.

The template escapes every value it prints; nothing from a brief or a manifest goes inside the script (the filters
read data-* attributes), and a Content-Security-Policy lets only this page's own script and style run (by hash), so
even a text that slipped through could not run or load anything."""
from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..export.approval import status_line, text_of
from ..export.pages import render, static_text
from ..registry.store import STATUSES as REGISTRY_STATUSES
from .gallery import BundleView, Gallery, Href, gallery_data

STATUS_LABELS = {"ready": "ready", "allowed": "ready · errors allowed", "blocked": "BLOCKED · error-level check failed"}

# the approval page's style plus the gallery's (phones, filters); the script: client-side filters over the cards'
# data-* attributes, the choice kept in the URL's #fragment so a reload (which re-reads the manifests) keeps it
_CSS = static_text("approval.css") + static_text("preview.css")
_JS = static_text("preview.js")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# Only this page's own script and style (by hash) run; images from this origin (or beside a static page); no
# fetches, no forms, no <base>, no framing. The static page carries it as <meta> (which cannot set frame-ancestors).
_POLICY = (f"default-src 'none'; script-src {_csp_hash(_JS)}; style-src {_csp_hash(_CSS)}; img-src 'self' data:; media-src 'self'; "
           "connect-src 'none'; base-uri 'none'; form-action 'none'")
PAGE_CSP = _POLICY + "; frame-ancestors 'none'"
STATIC_CSP = _POLICY.replace("img-src 'self' data:", "img-src 'self' data: file:").replace(
    "media-src 'self'", "media-src 'self' file:")


def _text(v: Any) -> str:
    return str(v if v is not None else "")


def _filters(data: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    creatives = [c for b in data["bundles"] for c in b["creatives"]]

    def distinct(k: str) -> list[tuple[str, str]]:
        return [(v, v) for v in dict.fromkeys(str(c.get(k) or "") for c in creatives)]

    status = [("ready", "ready for approval"), ("blocked", "blocked by checks")]
    status += [(f"reg:{s}", f"registry: {s}") for s in REGISTRY_STATUSES] + [("reg:none", "not in the registry")]
    return {"status": status, "brief": distinct("brief"), "segment": distinct("segment"),
            "channel": distinct("channel")}


def _card(bundle_dir: Path, c: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
    """What the template shows of one creative: the gallery's entry `d`, the manifest's `c`, and for the phone the
    text as the customer meets it (text creatives) or the lines a feed card shows (posters)."""
    status, reg = d["status"], d.get("registry")
    texts = d.get("texts") or {}
    failed = [k for k in c.get("checks", []) if isinstance(k, dict) and not k.get("passed", True)]
    errors = sum(1 for k in failed if k.get("severity") == "error")
    w, h = c.get("width"), c.get("height")
    v: dict[str, Any] = {
        "c": c, "d": d, "status": status, "status_label": STATUS_LABELS.get(status, status), "registry": reg,
        "errors": errors, "warnings": len(failed) - errors, "n_checks": len(c.get("checks", [])),
        "links": [("file", d["url"])] + [(k.upper(), u) for k, u in sorted(d["layers"].items())],
        "data": [(k, _text(x)) for k, x in (("status", status), ("registry", reg or "none"), ("brief", d.get("brief")),
                                            ("segment", d.get("segment")), ("channel", d.get("channel")))],
        "texts": texts, "content": None,
        "dims": (int(w), int(h)) if isinstance(w, int) and isinstance(h, int) else None,
        "brand": str(texts.get("brand") or texts.get("provider") or "品牌"),
        "line": str(texts.get("headline") or texts.get("title") or "")}
    if d.get("format") == "text":
        content = v["content"] = text_of(bundle_dir, c)
        v["title"] = str(texts.get("title") or content.split("\n", 1)[0])     # a push: its title and body
        v["body"] = str(texts.get("body") or content.split("\n", 1)[-1])
    return v


def _bundle(gallery: Gallery, b: BundleView, entry: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"name": b.name, "folder": entry["folder"], "created": str(entry.get("created") or ""),
                            "problem": None}
    if b.manifest is None:
        view["problem"] = b.problem or "incomplete bundle"
        return view
    creatives = entry["creatives"]
    bundle_dir = gallery.root / b.rel if b.rel else gallery.root
    segments: dict[str, list[dict[str, Any]]] = {}
    for c, d in zip(b.creatives, creatives, strict=True):
        segments.setdefault(str(d.get("segment") or ""), []).append(_card(bundle_dir, c, d))
    view.update(n_creatives=len(creatives), approval=entry.get("approval"),
                blocked=any(d["status"] == "blocked" for d in creatives), status_line=status_line(b.manifest),
                failures=[f for f in b.manifest.get("failures", []) if isinstance(f, dict)],
                segments=list(segments.items()))
    return view


def gallery_html(gallery: Gallery, href: Href, *, static: bool = False) -> str:
    """The whole gallery page. `href` turns a file's path under OUT into its link (server URL or relative path);
    `static` adds the Content-Security-Policy as <meta> (a page opened from disk gets no headers)."""
    data = gallery_data(gallery, href)
    n = data["counts"]
    summary = (f'{n["bundles"]} bundle(s) · {n["creatives"]} creatives · {n["ready"]} ready · {n["blocked"]} blocked'
               + (f' · {n["incomplete"]} incomplete' if n["incomplete"] else ""))
    return render(
        "preview.html.j2", csp=STATIC_CSP if static else None, root_name=gallery.root.name, root=str(gallery.root),
        summary=summary, reload_hint="" if static else
        " · reload the page to re-read the manifests (a running batch adds bundles)",
        filters=_filters(data), total=sum(len(b["creatives"]) for b in data["bundles"]),
        bundles=[_bundle(gallery, b, e) for b, e in zip(gallery.bundles, data["bundles"], strict=True)],
        css=Markup(_CSS), js=Markup(_JS))   # our own files: hashed into the policy above, inlined as they are
