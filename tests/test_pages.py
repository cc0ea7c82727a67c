"""The HTML pages (approval.html, the `mkt preview` gallery, the audit review sheet, the learn report) from their
Jinja2 templates: hostile text in every field that reaches a page stays text (no tag, attribute, event handler or
javascript: URL comes out of it), and approval.html keeps the exact bytes earlier versions wrote — `mkt check` and
`mkt register` re-make it to tell whether manifest.json was edited, so a bundle made before must still verify."""
from __future__ import annotations

import hashlib
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from mktcli.export.approval import approval_html
from mktcli.export.bundle import BundleError, verify_bundle
from mktcli.export.pages import static_text
from mktcli.preview.gallery import load_gallery, relative_href, server_href
from mktcli.preview.page import gallery_html
from mktcli.registry.store import open_registry
from mktcli.learn.report import page as learn_page

DATA = Path(__file__).parent / "data"

PAYLOADS = [
    "<script>alert(1)</script>",
    '"onerror="alert(1)',
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "{{ 7*7 }}{% if true %}ran{% endif %}",
    "\u202egpj.exe",                                     # right-to-left override
    "javascript:alert(1)",
    "</style></pre></script><svg onload=alert(1)>",
    "&lt;b&gt; &amp; <b>bold</b>",
]

# what each page may contain: its own tags, and exactly its own scripts
PAGE_TAGS = set("html head meta title style link body main header nav h1 h2 h3 p span strong em b small code pre br ul "
                "li dl dt dd a section article div img video table tr th td details summary label select option "
                "script figure figcaption i input textarea button".split())
URL_ATTRS = ("href", "src", "poster", "action", "formaction", "xlink:href")


class Page(HTMLParser):
    """Every tag with its attributes, the text (entities decoded), and what sits inside <script> and <textarea>."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.textareas: list[str] = []
        self._in: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "textarea"):
            self._in = tag
            (self.scripts if tag == "script" else self.textareas).append("")

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1] += data
        elif self._in == "textarea":
            self.textareas[-1] += data
        else:
            self.text.append(data)

    def shape(self, ordered: bool = True) -> list:
        """Tag names with their attribute names; unordered: as a sorted list of <section> chunks (a page whose items
        are sorted by the values themselves)."""
        tags = [(t, tuple(sorted(a))) for t, a in self.tags]
        if ordered:
            return tags
        chunks: list[list] = [[]]
        for t in tags:
            if t[0] in ("section", "script"):
                chunks.append([])
            chunks[-1].append(t)
        return sorted(chunks)


def assert_inert(html: str, benign: str, scripts: list[str], ordered: bool = True) -> Page:
    """`html` (hostile values) has the same tags and attribute names as `benign` (the same data, harmless values),
    no event handler, no javascript: URL, only our scripts and empty textareas."""
    page, ref = Page(html), Page(benign)
    assert page.shape(ordered) == ref.shape(ordered), "a value changed the page's structure (a tag was injected)"
    for tag, attrs in page.tags:
        assert tag in PAGE_TAGS, tag
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        for a in URL_ATTRS:
            v = "".join((attrs.get(a) or "").split()).lower()
            assert not v.startswith(("javascript:", "vbscript:", "data:text")), (tag, a, attrs[a])
    assert page.scripts == scripts
    assert all(t == "" for t in page.textareas)
    return page


def _values(kind: str, payload: str):
    """A value maker: each field gets `payload|field` (hostile) or `ok|field` (benign), so a test can see that every
    field reached the page."""
    return (lambda field: f"{payload}|{field}") if kind == "hostile" else (lambda field: f"ok|{field}")


def _png(w: int = 64, h: int = 40) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


def _file(root: Path, rel: str, data: bytes) -> dict:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(data)
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def hostile_bundle(folder: Path, v) -> dict:
    """A bundle on disk (files that verify) whose every string from a brief, a check or a file name is v(field)."""
    seg = [v("segment-a"), v("segment-b")]
    safe = [s.replace("/", "_") for s in seg]   # folder names: no '/' (a path may not leave the bundle)
    png, sms = _png(), f"{v('sms file text')}\n第二行".encode()
    poster = _file(folder, f"{safe[0]}/{v('file name').replace('/', '_')}.png", png)
    psd = _file(folder, f"{safe[0]}/layers {v('psd').replace('/', '_')}.psd", b"psd")
    clip = _file(folder, f"{safe[1]}/{v('clip').replace('/', '_')}.mp4", b"not really an mp4")
    cover = _file(folder, f"{safe[1]}/cover.png", png)
    text = _file(folder, f"{safe[1]}/sms.txt", sms)
    checks = [{"rule": v("rule"), "severity": "error", "passed": False, "message": v("message"), "where": v("where"),
               "match": v("match"), "fix": v("fix")},
              {"rule": v("warned rule"), "severity": "warning", "passed": False, "message": v("warning")},
              {"rule": v("passed rule"), "severity": "info", "passed": True, "message": ""}]
    texts = {"headline": v("headline"), "apr": v("apr"), "perk1": v("perk"), "disclaimer": v("disclaimer"),
             "brand": v("brand"), v("role"): v("unknown role")}
    engines = {"visual": {"name": v("engine"), "model": v("model"), "seed": 7, "prompt": v("prompt")},
               "copy": {"name": "template", v("engine key"): [v("engine list")]}}
    creatives = [
        {**poster, "id": "c-poster", "segment": seg[0], "channel": "app_banner", "width": 64, "height": 40,
         "format": "png", "texts": texts, "engines": engines, "checks": checks, "dropped": [v("dropped")],
         "layers": {"psd": psd}},
        {**poster, "id": "c-feed", "segment": seg[0], "channel": v("channel"), "width": 64, "height": 40,
         "format": "png", "texts": {"title": v("feed title")}, "checks": []},
        {**clip, "id": "c-clip", "segment": seg[1], "channel": "channels_video", "width": 64, "height": 40,
         "format": "mp4", "cover": cover, "video": {"duration_s": v("duration"), "fps": 25},
         "texts": {"headline": v("clip headline")}, "checks": checks[1:]},
        {**text, "id": "c-sms", "segment": seg[1], "channel": "sms", "format": "text",
         "texts": {"body": v("sms body")}, "checks": checks},
        {**text, "id": "c-push", "segment": seg[1], "channel": "push", "format": "text",
         "texts": {"title": v("push title"), "body": v("push body")}, "checks": checks[2:]},
        {**text, "id": "c-call", "segment": seg[1], "channel": "call_script", "format": "text",
         "texts": {"opening": v("opening"), "refusal": v("refusal")}, "checks": checks[2:]},
    ]
    manifest = {"version": 1, "created": v("created"),
                "brief": {"name": v("brief name"), "path": v("brief path"), "sha256": "f" * 64,
                          "category": v("category")},
                "generator": {"name": "mkt", "version": v("version"), "engine": v("generator engine"), "seed": 7},
                "creatives": creatives, "notes": [v("note")],
                "failures": [{"segment": v("failed segment"), "channel": v("failed channel"), "error": v("error"),
                              "hint": v("hint")}],
                "files": [poster, psd, clip, cover, text],
                "approval": {"ready": ["c-feed", "c-sms"], "blocked": ["c-poster"], "allow_errors": False}}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return manifest


def _reached(page: Page, v, fields: list[str]) -> None:
    """Each field's value is on the page, whole (in a file name: with '/' as '_'), as text or as an attribute's value:
    shown, not dropped — and not run as a template (the `{{ 7*7 }}` payload is there as written)."""
    shown = "\n".join(page.text) + "\n".join(str(x) for _, a in page.tags for x in a.values())
    missing = [f for f in fields if v(f) not in shown and v(f).replace("/", "_") not in shown]
    assert not missing, missing


SHOWN = ["segment-a", "segment-b", "headline", "apr", "perk", "disclaimer", "brand", "role", "unknown role",
         "rule", "message", "where", "match", "fix", "warned rule", "warning", "passed rule", "channel",
         "feed title", "failed segment", "failed channel", "error", "hint"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_approval_page_shows_hostile_text_as_text(tmp_path, payload):
    pages = {}
    for kind in ("benign", "hostile"):
        v = _values(kind, payload)
        manifest = hostile_bundle(tmp_path / kind, v)
        pages[kind] = approval_html(tmp_path / kind, manifest)
    v = _values("hostile", payload)
    page = assert_inert(pages["hostile"], pages["benign"], scripts=[])
    _reached(page, v, SHOWN + ["brief name", "brief path", "category", "created", "version", "generator engine",
                               "note", "dropped", "engine", "model", "prompt", "engine key",
                               "duration", "sms file text", "file name", "psd", "clip"])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_gallery_shows_hostile_text_as_text(tmp_path, payload):
    from mktcli.preview.page import _JS

    pages = {}
    for kind in ("benign", "hostile"):
        v = _values(kind, payload)
        hostile_bundle(tmp_path / kind / "bundle", v)
        gallery = load_gallery(tmp_path / kind)
        assert [b.problem for b in gallery.bundles] == [None]   # the bundle verifies: its cards are shown
        gallery.registry = {"c-poster": v("registry status")}   # a registry value reaches the badge
        pages[kind] = (gallery_html(gallery, server_href),
                       gallery_html(gallery, relative_href(tmp_path / kind / "p.html", gallery.root), static=True))
    v = _values("hostile", payload)
    for hostile, benign in zip(pages["hostile"], pages["benign"], strict=True):
        page = assert_inert(hostile, benign, scripts=[_JS])
        _reached(page, v, SHOWN + ["push title", "push body", "opening", "refusal", "sms file text",
                                   "registry status", "brief name"])


@pytest.mark.parametrize("payload", PAYLOADS)
def test_review_sheet_shows_hostile_text_as_text(tmp_path, payload, monkeypatch):
    pages = {}
    for kind in ("benign", "hostile"):
        v = _values(kind, payload)
        monkeypatch.setenv("MKT_HOME", str(tmp_path / kind / "home"))
        hostile_bundle(tmp_path / kind / "bundle", v)
        with open_registry() as reg:
            reg.register_manifest(tmp_path / kind / "bundle")
            audit = reg.sample(1.0, seed=1, sheet=tmp_path / kind / "sheet.html")
        pages[kind] = audit.sheet.read_text(encoding="utf-8").replace(audit.id, "a-ID")
    v = _values("hostile", payload)
    page = assert_inert(pages["hostile"], pages["benign"], scripts=['"a-ID"', static_text("review_sheet.js").strip()],
                        ordered=False)   # the sample is sorted by channel/segment: hostile names sort apart
    _reached(page, v, ["segment-a", "headline", "unknown role", "rule", "message", "channel", "brief name",
                       "engine", "model"])   # the prompt is there too, inside the engines' JSON


@pytest.mark.parametrize("payload", PAYLOADS)
def test_learn_report_shows_hostile_text_as_text(payload):
    pages = {}
    for kind in ("benign", "hostile"):
        v = _values(kind, payload)
        cells = [{"segment": v("segment"), "family": v("family"), "impressions": 12000, "clicks": 240, "ctr": 0.02,
                  "ci95": [0.018, 0.022], "creatives": 2}]
        summary = {"cells": cells, "days": [v("first day"), v("last day")], "by": v("by"),
                   "ai_vs_human": {"overall": {"ai_ctr": 0.02, "human_ctr": 0.01, "uplift": 1.0, "ci95": [0.5, 1.5],
                                               "ai_click_share": 0.7}, "by_segment": []}}
        pages[kind] = learn_page(summary, {v("chart") + ".png": b"\x89PNG"}, v("title"))
    v = _values("hostile", payload)
    page = assert_inert(pages["hostile"], pages["benign"], scripts=[])
    _reached(page, v, ["segment", "family", "first day", "last day", "by", "chart", "title"])


# ---------------------------------------------------------------------------------------------- approval.html's bytes

# tests/data/approval-0.2.0.json is a manifest reaching every branch of the approval page (poster, clip, unreadable
# image, text file and missing text file, blocked/allowed, layers, dropped and unknown roles, failures, notes, files)
# with quotes, ampersands and tags in its text; approval-0.2.0*.html are the pages mkt 0.2.0 made from it (before the
# templates), all of it (thumbnails given) and its text creatives as a bundle on disk (text_bundle)
SMS = "【银行】<b>\"年化\" & 'APR'</b>\n拒收请回复R\n"


def _golden(tmp_path: Path) -> dict:
    (tmp_path / "s2").mkdir(parents=True, exist_ok=True)
    (tmp_path / "s2" / "sms.txt").write_text(SMS, encoding="utf-8")
    return json.loads((DATA / "approval-0.2.0.json").read_text(encoding="utf-8"))


def test_approval_page_bytes_are_those_of_earlier_versions(tmp_path):
    """The page mkt 0.2.0 wrote for this manifest, byte for byte (thumbnails given: no JPEG encoder involved)."""
    manifest = _golden(tmp_path)
    thumbs = {c["sha256"]: (hashlib.sha256(c["id"].encode()).digest(), (48, 30)) for c in manifest["creatives"]
              if c.get("format") in ("png", "mp4")}
    want = (DATA / "approval-0.2.0.html").read_bytes()
    assert approval_html(tmp_path, manifest, thumbs).encode("utf-8") == want
    manifest["creatives"][0]["texts"]["headline"] += "!"
    assert approval_html(tmp_path, manifest, thumbs).encode("utf-8") != want


def text_bundle(folder: Path) -> dict:
    """The golden manifest's text creatives as a bundle on disk (files, their real sha256), without approval.html."""
    manifest = _golden(folder)
    manifest["creatives"] = [c for c in manifest["creatives"] if c["format"] == "text"]
    (folder / "s2" / "push.txt").write_text("\n".join(manifest["creatives"][1]["texts"].values()), encoding="utf-8")
    manifest["files"] = []
    for c in manifest["creatives"]:
        data = (folder / c["path"]).read_bytes()
        c.update(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
        manifest["files"].append({"path": c["path"], "sha256": c["sha256"], "bytes": c["bytes"]})
    return manifest


def test_a_bundle_made_before_the_templates_still_verifies(tmp_path):
    """`mkt check`/`mkt register` re-make approval.html to tell whether manifest.json was edited: a bundle whose page
    mkt 0.2.0 wrote (listed with its sha256) still verifies, and an edited manifest is still caught."""
    manifest = text_bundle(tmp_path)
    page = (DATA / "approval-0.2.0-text.html").read_bytes()
    (tmp_path / "approval.html").write_bytes(page)
    manifest["files"].append({"path": "approval.html", "sha256": hashlib.sha256(page).hexdigest(), "bytes": len(page)})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    verify_bundle(tmp_path)
    manifest["notes"] = ["edited"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(BundleError, match="edited"):
        verify_bundle(tmp_path)
