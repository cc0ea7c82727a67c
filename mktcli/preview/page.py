"""The gallery page of `mkt preview`: one HTML document with its CSS and a small vanilla script (filters), no
external resources besides the bundle files it links.

Every string from a brief or a manifest goes through html.escape; nothing from them is put inside the script (the
filters read data-* attributes), and a Content-Security-Policy lets only this page's own script and style run
(by hash), so even a text that slipped through could not run or load anything."""
from __future__ import annotations

import base64
import hashlib
from html import escape
from pathlib import Path
from typing import Any

from ..export.approval import _CSS as APPROVAL_CSS
from ..export.approval import _checks_html, _kb, _role_label, _size, _sorted_texts, _text_of, status_line
from ..registry.store import STATUSES as REGISTRY_STATUSES
from .gallery import BundleView, Gallery, Href, gallery_data

STATUS_LABELS = {"ready": "ready", "allowed": "ready · errors allowed", "blocked": "BLOCKED · error-level check failed"}

_CSS = APPROVAL_CSS + """
[hidden] { display:none !important; }
header.top { position:sticky; top:0; z-index:5; border-radius:0 0 8px 8px; }
.filters { display:flex; flex-wrap:wrap; gap:8px 16px; align-items:center; margin-top:8px; }
.filters select { font:inherit; padding:2px 4px; }
section.bundle { margin-top:24px; } section.segment h3 { font-size:16px; margin:20px 0 8px; }
.creative { margin:0 0 16px; }
.creative .body { display:flex; flex-wrap:wrap; gap:20px; align-items:flex-start; margin-top:8px; }
.creative .info { flex:1 1 320px; min-width:0; }
.badge.reg { background:#44506a; margin-left:6px; } .badge.reg.recalled { background:#6d1b1b; }
.badge.reg.live { background:#0b5cad; } .badge.reg.approved { background:#2e7d32; }
.counts-fail { color:var(--bad); font-weight:600; } .counts-warn { color:var(--warn); font-weight:600; }
.truesize { margin-top:12px; }
.truesize .scroll { overflow:auto; max-height:560px; border:1px solid var(--line);
  background:repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 50%/16px 16px; }
.card .truesize img, .card .truesize video { display:block; max-width:none; width:auto; height:auto; margin:0; border:0; }
/* the phone: 280 CSS px of screen, about a 19.5:9 handset; images are scaled to its width */
.phone { flex:none; width:300px; border:10px solid #1d2125; border-radius:34px; background:#1d2125;
  box-shadow:0 4px 16px rgba(0,0,0,.18); }
.screen { position:relative; height:606px; border-radius:24px; overflow:hidden; background:#f2f3f5;
  display:flex; flex-direction:column; font-size:12px; }
.card .screen img, .card .screen video { display:block; width:100%; max-width:100%; height:auto; margin:0; border:0; background:none; }
.statusbar { display:flex; justify-content:space-between; padding:6px 18px 3px; font-size:11px; font-weight:600;
  background:#fff; }
.appbar { background:#fff; padding:6px 12px 8px; font-weight:600; font-size:13px; border-bottom:1px solid #e5e6eb; }
.tiles { display:grid; grid-template-columns:repeat(4, 1fr); gap:12px; padding:14px; background:#fff; margin-top:8px; }
.tiles i { display:block; height:34px; border-radius:10px; background:#e3e6ec; }
.ghost { margin:8px; padding:10px; border-radius:8px; background:#fff; }
.ghost i { display:block; height:9px; margin:6px 0; border-radius:4px; background:#e3e6ec; }
.ghost i + i { width:70%; }
.post { display:flex; gap:8px; background:#fff; padding:10px; margin:8px 0; }
.avatar { flex:none; width:32px; height:32px; border-radius:6px; background:#c9d3e6; }
.post .who { color:#576b95; font-weight:600; } .post p { margin:2px 0 6px; word-break:break-all; }
.post .ad { display:inline-block; margin-top:4px; font-size:10px; color:var(--muted); border:1px solid var(--line);
  padding:0 4px; border-radius:3px; }
.splash { position:absolute; inset:0; background:#000; display:flex; flex-direction:column; }
.splash .skip { position:absolute; top:30px; right:12px; background:rgba(0,0,0,.45); color:#fff; border-radius:12px;
  padding:2px 10px; font-size:11px; }
.splash .foot { flex:1; background:#fff; display:flex; align-items:center; justify-content:center; font-weight:700;
  color:#444; min-height:40px; }
.thread { padding:10px; display:flex; flex-direction:column; gap:8px; overflow:auto; }
.bubble { max-width:88%; padding:8px 10px; border-radius:12px; background:#fff; white-space:pre-wrap;
  word-break:break-all; box-shadow:0 1px 1px rgba(0,0,0,.06); }
.bubble.out { align-self:flex-end; background:#95ec69; } .bubble small { display:block; color:var(--muted); }
.lock { flex:1; background:linear-gradient(160deg, #3b4a6b, #8a6f8f); color:#fff; padding:10px; }
.lock .clock { font-size:52px; font-weight:300; text-align:center; margin:28px 0 2px; }
.lock .date { text-align:center; margin-bottom:24px; }
.notif { background:rgba(255,255,255,.88); color:#1d2125; border-radius:14px; padding:8px 12px; }
.notif .app { color:var(--muted); font-size:11px; } .notif strong { display:block; }
.notif p { margin:2px 0 0; word-break:break-all; }
pre.note { white-space:pre-wrap; word-break:break-all; padding:10px; margin:0; font-family:inherit; }
"""

# the page's only script: client-side filters over the cards' data-* attributes; the choice is kept in the URL's
# #fragment so a reload (which re-reads the manifests) keeps it
_JS = """
(function () {
  "use strict";
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var cards = Array.prototype.slice.call(document.querySelectorAll(".creative"));
  function matches(card, key, want) {
    if (!want) { return true; }
    if (key !== "status") { return card.getAttribute("data-" + key) === want; }
    if (want.indexOf("reg:") === 0) { return (card.getAttribute("data-registry") || "none") === want.slice(4); }
    var st = card.getAttribute("data-status");
    return want === "ready" ? st !== "blocked" : st === want;
  }
  function apply() {
    var shown = 0, state = [];
    selects.forEach(function (s) {
      if (s.value) { state.push(s.getAttribute("data-filter") + "=" + encodeURIComponent(s.value)); }
    });
    cards.forEach(function (card) {
      var ok = selects.every(function (s) { return matches(card, s.getAttribute("data-filter"), s.value); });
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".segment, .bundle"), function (g) {
      var any = g.querySelectorAll(".creative").length;
      g.hidden = any > 0 && g.querySelectorAll(".creative:not([hidden])").length === 0;
    });
    document.getElementById("shown").textContent = String(shown);
    try { history.replaceState(null, "", state.length ? "#" + state.join("&") : location.pathname); } catch (e) {}
  }
  function restore() {
    location.hash.slice(1).split("&").forEach(function (kv) {
      var i = kv.indexOf("="), key, val;
      if (i < 0) { return; }
      key = kv.slice(0, i);
      try { val = decodeURIComponent(kv.slice(i + 1)); } catch (e) { return; }
      selects.forEach(function (s) {
        var known = Array.prototype.some.call(s.options, function (o) { return o.value === val; });
        if (s.getAttribute("data-filter") === key && known) { s.value = val; }
      });
    });
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  restore();
  apply();
})();
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# Only this page's own script and style (by hash) run; images from this origin (or beside a static page); no
# fetches, no forms, no <base>, no framing. The static page carries it as <meta> (which cannot set frame-ancestors).
_POLICY = (f"default-src 'none'; script-src {_csp_hash(_JS)}; style-src {_csp_hash(_CSS)}; img-src 'self' data:; media-src 'self'; "
           "connect-src 'none'; base-uri 'none'; form-action 'none'")
PAGE_CSP = _POLICY + "; frame-ancestors 'none'"
STATIC_CSP = _POLICY.replace("img-src 'self' data:", "img-src 'self' data: file:").replace(
    "media-src 'self'", "media-src 'self' file:")


def _attr(v: Any) -> str:
    return escape(str(v if v is not None else ""), quote=True)


def _select(key: str, label: str, options: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{_attr(v)}">{escape(t)}</option>' for v, t in [("", "all"), *options])
    return f'<label>{escape(label)} <select data-filter="{key}">{opts}</select></label>'


def _filters(data: dict[str, Any]) -> str:
    creatives = [c for b in data["bundles"] for c in b["creatives"]]

    def distinct(k: str) -> list[tuple[str, str]]:
        return [(v, v) for v in dict.fromkeys(str(c.get(k) or "") for c in creatives)]

    status = [("ready", "ready for approval"), ("blocked", "blocked by checks")]
    status += [(f"reg:{s}", f"registry: {s}") for s in REGISTRY_STATUSES] + [("reg:none", "not in the registry")]
    total = len(creatives)
    return ('<div class="filters">' + _select("status", "状态 status", status)
            + _select("brief", "brief", distinct("brief")) + _select("segment", "分群 segment", distinct("segment"))
            + _select("channel", "渠道 channel", distinct("channel"))
            + f'<span><strong id="shown">{total}</strong> of {total} shown</span></div>')


# ---------------------------------------------------------------------------------------------------- phones


def _phone(inner: str, kind: str) -> str:
    bar = '<div class="statusbar"><span>9:41</span><span>5G ▮▮▮</span></div>'
    return f'<div class="phone" title="phone mock-up: {kind}"><div class="screen m-{kind}">{bar}{inner}</div></div>'


def _img(url: str, d: dict[str, Any]) -> str:
    alt = f"{d.get('segment') or ''} {d.get('channel') or ''}"
    if d.get("format") == "mp4":   # a video channel's clip plays in place (silent, so it may start by itself)
        return f'<video src="{_attr(url)}" title="{_attr(alt)}" autoplay muted loop playsinline controls></video>'
    return f'<img src="{_attr(url)}" alt="{_attr(alt)}">'


def _image_phone(d: dict[str, Any]) -> str:
    """A poster where its slot puts it: atop an app's home screen, full screen at launch, or a card in a feed."""
    texts = d.get("texts") or {}
    brand = escape(str(texts.get("brand") or texts.get("provider") or "品牌"))
    img = _img(d["url"], d)
    ghost = '<div class="ghost"><i></i><i></i></div>'
    if d["mockup"] == "banner":
        inner = f'<div class="appbar">手机银行 · 首页</div>{img}<div class="tiles">{"<i></i>" * 8}</div>{ghost * 3}'
    elif d["mockup"] == "splash":
        inner = f'<div class="splash">{img}<span class="skip">跳过 3</span><div class="foot">{brand}</div></div>'
    else:
        line = escape(str(texts.get("headline") or texts.get("title") or ""))
        inner = (f'<div class="appbar">发现 · 信息流</div>{ghost}<div class="post"><div class="avatar"></div><div>'
                 f'<div class="who">{brand}</div><p>{line}</p>{img}<span class="ad">广告</span></div></div>{ghost}')
    return _phone(inner, d["mockup"])


def _text_phone(d: dict[str, Any], content: str) -> str:
    """A text creative as the customer meets it: an SMS bubble, a lock-screen push, or the call script's turns."""
    texts = d.get("texts") or {}
    kind = d["mockup"]
    if kind == "sms":
        inner = ('<div class="appbar">短信 · 1065…</div>'
                 f'<div class="thread"><div class="bubble">{escape(content)}</div></div>')
    elif kind == "push":
        title = texts.get("title") or content.split("\n", 1)[0]
        body = texts.get("body") or content.split("\n", 1)[-1]
        inner = ('<div class="lock"><div class="clock">9:41</div><div class="date">推送通知</div><div class="notif">'
                 f'<div class="app">手机银行 · 现在</div><strong>{escape(str(title))}</strong>'
                 f'<p>{escape(str(body))}</p></div></div>')
    elif kind == "call" and texts:
        turns = "".join(f'<div class="bubble out"><small>{escape(_role_label(r))}</small>{escape(t)}</div>'
                        for r, t in _sorted_texts(texts))
        inner = f'<div class="appbar">外呼话术 · 通话中</div><div class="thread">{turns}</div>'
    else:
        inner = f'<pre class="note">{escape(content)}</pre>'
    return _phone(inner, kind)


# ---------------------------------------------------------------------------------------------------- cards


def _check_counts(c: dict[str, Any]) -> str:
    failed = [k for k in c.get("checks", []) if isinstance(k, dict) and not k.get("passed", True)]
    errors = sum(1 for k in failed if k.get("severity") == "error")
    warns = len(failed) - errors
    parts = [f'<span class="counts-fail">{errors} failed error-level</span>'] if errors else []
    parts += [f'<span class="counts-warn">{warns} other failed</span>'] if warns else []
    return " · ".join(parts) or f"{len(c.get('checks', []))} checks passed"


def _card(bundle_dir: Path, c: dict[str, Any], d: dict[str, Any]) -> str:
    status, reg = d["status"], d.get("registry")
    badges = f'<span class="badge {status}">{escape(STATUS_LABELS.get(status, status))}</span>'
    if reg:
        badges += f'<span class="badge reg {_attr(reg)}">registry: {escape(reg)}</span>'
    links = [("file", d["url"])] + [(k.upper(), u) for k, u in sorted(d["layers"].items())]
    head = (f'<div>{badges}<h3>{escape(str(d.get("channel") or ""))}</h3><div class="sub">{escape(_size(c))} · '
            f'{escape(str(d.get("format") or ""))} · {_kb(d.get("bytes"))} · <code>{escape(str(d.get("id") or ""))}'
            f'</code> · {_check_counts(c)} · '
            + " · ".join(f'<a href="{_attr(u)}">{escape(k)}</a>' for k, u in links) + "</div></div>")
    texts = _sorted_texts(d.get("texts") or {})
    copy = ('<table class="texts">' + "".join(f"<tr><th>{escape(_role_label(r))}</th><td>{escape(t)}</td></tr>"
                                              for r, t in texts) + "</table>") if texts else ""
    if d.get("format") == "text":
        phone, true_size = _text_phone(d, _text_of(bundle_dir, c)), ""
    else:
        phone = _image_phone(d)
        w, h = c.get("width"), c.get("height")
        dims = f' width="{int(w)}" height="{int(h)}"' if isinstance(w, int) and isinstance(h, int) else ""
        true_size = (f'<div class="truesize"><div class="sub">true size {escape(_size(c))} (natural pixels)</div>'
                     f'<div class="scroll">{_img(d["url"], d).replace(">", dims + ">", 1)}</div></div>')
    data = " ".join(f'data-{k}="{_attr(v)}"' for k, v in (
        ("status", status), ("registry", reg or "none"), ("brief", d.get("brief")), ("segment", d.get("segment")),
        ("channel", d.get("channel"))))
    return (f'<article class="card creative {status}" id="{_attr(d.get("id"))}" {data}>{head}'
            f'<div class="body">{phone}<div class="info">{copy}{_checks_html(c)}{true_size}</div></div></article>')


def _failures(manifest: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{escape(str(f.get('segment', '')))}</td><td>{escape(str(f.get('channel', '')))}</td>"
                   f"<td>{escape(str(f.get('error', '')))}</td><td>{escape(str(f.get('hint') or ''))}</td></tr>"
                   for f in manifest.get("failures", []) if isinstance(f, dict))
    if not rows:
        return ""
    return ('<details open><summary>failed to render</summary><table class="list"><tr><th>segment</th>'
            f"<th>channel</th><th>error</th><th>hint</th></tr>{rows}</table></details>")


def _bundle(gallery: Gallery, b: BundleView, entry: dict[str, Any]) -> str:
    title = (f'<h2>{escape(b.name)} <span class="sub">{escape(entry["folder"])}'
             + (f' · {escape(str(entry.get("created") or ""))}' if entry.get("created") else ""))
    if b.manifest is None:
        return (f'<section class="bundle incomplete" data-brief="{_attr(b.name)}">{title}</span></h2>'
                f'<p class="missing">{escape(b.problem or "incomplete bundle")}</p></section>')
    creatives = entry["creatives"]
    approval = f' · <a href="{_attr(entry["approval"])}">approval.html</a>' if entry.get("approval") else ""
    parts = [f'<section class="bundle" data-brief="{_attr(b.name)}">{title} · {len(creatives)} creatives'
             f'{approval}</span></h2>',
             f'<p class="status{" blocked" if any(d["status"] == "blocked" for d in creatives) else ""}">'
             f"{escape(status_line(b.manifest))}</p>", _failures(b.manifest)]
    bundle_dir = gallery.root / b.rel if b.rel else gallery.root
    segments: dict[str, list[str]] = {}
    for c, d in zip(b.creatives, creatives, strict=True):
        segments.setdefault(str(d.get("segment") or ""), []).append(_card(bundle_dir, c, d))
    for seg, cards in segments.items():
        parts.append(f'<section class="segment" data-segment="{_attr(seg)}"><h3>{escape(seg)}</h3>{"".join(cards)}'
                     "</section>")
    parts.append("</section>")
    return "".join(parts)


def gallery_html(gallery: Gallery, href: Href, *, static: bool = False) -> str:
    """The whole gallery page. `href` turns a file's path under OUT into its link (server URL or relative path);
    `static` adds the Content-Security-Policy as <meta> (a page opened from disk gets no headers)."""
    data = gallery_data(gallery, href)
    n = data["counts"]
    csp = f'<meta http-equiv="Content-Security-Policy" content="{_attr(STATIC_CSP)}">' if static else ""
    summary = (f'{n["bundles"]} bundle(s) · {n["creatives"]} creatives · {n["ready"]} ready · {n["blocked"]} blocked'
               + (f' · {n["incomplete"]} incomplete' if n["incomplete"] else ""))
    body = "".join(_bundle(gallery, b, e) for b, e in zip(gallery.bundles, data["bundles"], strict=True))
    if not gallery.bundles:
        body = '<p class="missing">no bundles here yet (a batch that is starting: reload in a moment)</p>'
    reload_hint = "" if static else " · reload the page to re-read the manifests (a running batch adds bundles)"
    # the data: icon spares the browser a /favicon.ico request (a 404 in its console)
    return ('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">{csp}'
            '<link rel="icon" href="data:,">'
            f"<title>mkt preview · {escape(gallery.root.name)}</title><style>{_CSS}</style></head><body><main>"
            f'<header class="top"><h1>mkt preview <span class="sub">{escape(str(gallery.root))}</span></h1>'
            f'<div class="sub">{escape(summary)}{escape(reload_hint)}</div>{_filters(data)}</header>'
            f"{body}</main><script>{_JS}</script></body></html>\n")
