"""The approval request: `approval.html` (one self-contained page an approver opens offline, thumbnails embedded)
and `approval.md` (the same for a ticket system), written into the bundle before manifest.json.

Both are built from the manifest alone plus the files it lists, with no clock: the same bundle gives the same bytes."""
from __future__ import annotations

import base64
import io
import json
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..checks import failed_errors
from ..errors import MktError
from ..textsafe import md, md_code
from .files import safe_join, write_listed

THUMB_PX = 480          # long side of an embedded thumbnail: a 100-creative bundle stays a few MB
THUMB_QUALITY = 78

# display order and labels of the text roles (the manifest's keys stay as they are; unknown roles follow)
ROLE_LABELS = {
    "headline": "标题", "subhead": "副标题", "apr": "利率", "cta": "按钮", "disclaimer": "免责声明",
    "provider": "提供方", "brand": "品牌", "ai_label": "AI 标识", "title": "标题", "body": "正文",
    "opening": "开场", "value": "介绍", "refusal": "拒绝选项", "closing": "结束",
}
_ROLE_ORDER = ["headline", "subhead", "apr", "perk", "cta", "disclaimer", "provider", "brand", "ai_label", "title",
               "body", "opening", "value", "refusal", "closing"]
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def write_approval(bundle_dir: Path, manifest: dict[str, Any],
                   thumbs: dict[str, tuple[bytes, tuple[int, int]]] | None = None) -> list[dict[str, Any]]:
    """Write approval.html and approval.md into the bundle (atomically); return their entries for `files`."""
    bundle_dir = Path(bundle_dir)
    entries = []
    for name, text in (("approval.html", approval_html(bundle_dir, manifest, thumbs)),
                       ("approval.md", approval_markdown(bundle_dir, manifest))):
        entries.append(write_listed(bundle_dir, name, text.encode("utf-8")))
    return entries


# ---------------------------------------------------------------- shared reading of the manifest


def _failed_error(c: dict) -> bool:
    return bool(failed_errors(c.get("checks")))


def statuses(manifest: dict[str, Any]) -> dict[str, str]:
    """Creative id → 'ready', 'blocked' or 'allowed' (ready although an error-level check failed: --allow-errors).
    The manifest's `approval` decides; a manifest without one is judged by its checks."""
    approval = manifest.get("approval")
    creatives = manifest.get("creatives", [])
    if isinstance(approval, dict):
        blocked = set(approval.get("blocked", []))
    else:
        blocked = {c.get("id") for c in creatives if _failed_error(c)}
    out = {}
    for c in creatives:
        cid = c.get("id")
        out[cid] = "blocked" if cid in blocked else "allowed" if _failed_error(c) else "ready"
    return out


def status_line(manifest: dict[str, Any]) -> str:
    st = list(statuses(manifest).values())
    ready = st.count("ready") + st.count("allowed")
    parts = [f"{ready} ready for approval", f"{st.count('blocked')} blocked by error-level checks"]
    if st.count("allowed"):
        parts.append(f"{st.count('allowed')} ready despite failed error-level checks (--allow-errors)")
    if manifest.get("failures"):
        parts.append(f"{len(manifest['failures'])} failed to render")
    return " · ".join(parts)


def _by_segment(manifest: dict[str, Any]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for c in manifest.get("creatives", []):
        groups.setdefault(str(c.get("segment", "")), []).append(c)
    return groups


def _sorted_texts(texts: dict[str, Any]) -> list[tuple[str, str]]:
    def rank(role: str) -> tuple[int, str]:
        base = "perk" if role.startswith("perk") and role[4:].isdigit() else role
        return (_ROLE_ORDER.index(base) if base in _ROLE_ORDER else len(_ROLE_ORDER), role.zfill(8))
    return [(r, str(texts[r])) for r in sorted(texts, key=rank)]


def _role_label(role: str) -> str:
    if role.startswith("perk") and role[4:].isdigit():
        return f"权益{role[4:]}"
    return ROLE_LABELS.get(role, role)


def _failed_checks(c: dict) -> list[dict]:
    return sorted((k for k in c.get("checks", []) if not k.get("passed", True)),
                  key=lambda k: _SEVERITY_ORDER.get(k.get("severity"), 3))


def _size(c: dict) -> str:
    return f"{c['width']}×{c['height']}" if c.get("width") and c.get("height") else "text"


def _kb(n: Any) -> str:
    if not isinstance(n, int):
        return "?"
    return f"{n} B" if n < 1024 else f"{n / 1024:.0f} KB"


def _short(h: Any) -> str:
    return str(h or "")[:12]


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)


def _layers(c: dict) -> list[tuple[str, str]]:
    layers = c.get("layers") if isinstance(c.get("layers"), dict) else {}
    out = []
    cover = c.get("cover")
    if isinstance(cover, dict) and isinstance(cover.get("path"), str):   # a video's poster frame
        out.append(("cover", cover["path"]))
    for k in ("psd", "svg"):   # {"psd": {"path", "sha256", "bytes"}} as make_posters writes it, or a bare path
        v = layers.get(k)
        path = v.get("path") if isinstance(v, dict) else v
        if isinstance(path, str) and path:
            out.append((k.upper(), path))
    return out


def _text_of(bundle_dir: Path, c: dict) -> str:
    """A text creative as the file has it; the manifest's strings when the file cannot be read."""
    try:
        return safe_join(bundle_dir, c["path"]).read_text(encoding="utf-8").rstrip("\n")
    except (OSError, KeyError, UnicodeDecodeError, MktError):   # missing file, or a path outside the bundle
        return "\n".join(str(v) for v in (c.get("texts") or {}).values())


def thumbnail(source: Path | bytes, px: int = THUMB_PX) -> tuple[bytes, tuple[int, int]]:
    """A small JPEG of an image file, or of its bytes (deterministic: same file → same bytes; a render worker makes
    it from the bytes it just encoded, the page from the file: the same thumbnail)."""
    from PIL import Image

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
        im.draft("RGB", (px, px))   # JPEG: decode at a reduced scale, much faster for big posters
        if im.mode in ("RGBA", "LA", "P"):
            im = im.convert("RGBA")
            flat = Image.new("RGB", im.size, (255, 255, 255))
            flat.paste(im, mask=im.getchannel("A"))
            im = flat
        else:
            im = im.convert("RGB")
        im.thumbnail((px, px), Image.LANCZOS)
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=THUMB_QUALITY, optimize=True)
        return buf.getvalue(), im.size


# ---------------------------------------------------------------- approval.html

_CSS = """
:root { --ok:#1a7f37; --bad:#c62828; --warn:#b26a00; --line:#d8dce3; --muted:#5f6670; --bg:#f5f6f8; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:#1d2125; line-height:1.55; font-size:14px;
  font-family: -apple-system, BlinkMacSystemFont, "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
  "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Segoe UI", Roboto, sans-serif; }
main { max-width:1280px; margin:0 auto; padding:24px; }
h1 { font-size:22px; margin:0 0 4px; } h2 { font-size:18px; margin:32px 0 12px; border-bottom:2px solid var(--line);
  padding-bottom:4px; } h3 { font-size:15px; margin:0; }
header { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px 20px; }
dl.meta { display:grid; grid-template-columns:max-content 1fr; gap:2px 16px; margin:12px 0; }
dl.meta dt { color:var(--muted); } dl.meta dd { margin:0; }
.status { font-size:16px; font-weight:600; padding:8px 12px; border-radius:6px; background:#e8f5ec; color:var(--ok); }
.status.blocked { background:#fdecea; color:var(--bad); }
.status.partial { background:#fff4e0; color:#8a5a00; }
.counts span { display:inline-block; margin-right:16px; }
nav a { margin-right:12px; }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(340px, 1fr)); gap:16px; }
.card { background:#fff; border:1px solid var(--line); border-top:4px solid var(--ok); border-radius:8px;
  padding:12px; break-inside:avoid; page-break-inside:avoid; }
.card.blocked { border-color:var(--bad); border-top-width:6px; background:#fffafa; }
.card.allowed { border-top-color:var(--warn); }
.card video { display:block; max-width:100%; height:auto; margin:0 auto 8px; background:#000; }
.card img { display:block; max-width:100%; height:auto; margin:0 auto 8px; border:1px solid var(--line);
  background:repeating-conic-gradient(#eee 0 25%, #fff 0 50%) 50%/16px 16px; }
.badge { display:inline-block; font-size:12px; font-weight:700; padding:1px 8px; border-radius:10px; color:#fff;
  background:var(--ok); float:right; }
.badge.blocked { background:var(--bad); } .badge.allowed { background:var(--warn); }
.sub { color:var(--muted); font-size:12px; }
table.texts { width:100%; border-collapse:collapse; margin:8px 0; }
table.texts th { text-align:left; color:var(--muted); font-weight:normal; white-space:nowrap; vertical-align:top;
  padding:2px 8px 2px 0; width:1%; }
table.texts td { padding:2px 0; word-break:break-all; }
pre.text { white-space:pre-wrap; word-break:break-all; background:var(--bg); border-radius:4px; padding:8px;
  font-family:inherit; margin:8px 0; }
ul.checks { list-style:none; padding:0; margin:8px 0; }
ul.checks li.fail { border-left:4px solid var(--bad); background:#fdecea; padding:4px 8px; margin:4px 0; }
ul.checks li.fail.warning { border-color:var(--warn); background:#fff4e0; }
ul.checks li.fail.info { border-color:var(--muted); background:var(--bg); }
.fix { color:var(--muted); } code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size:12px; }
details { margin:6px 0; } summary { cursor:pointer; color:var(--muted); }
dl.prov { display:grid; grid-template-columns:max-content 1fr; gap:0 8px; font-size:12px; margin:4px 0; }
dl.prov dt { color:var(--muted); } dl.prov dd { margin:0; word-break:break-all; }
.missing { padding:24px; text-align:center; color:var(--bad); border:1px dashed var(--bad); margin-bottom:8px; }
table.list { border-collapse:collapse; width:100%; background:#fff; }
table.list th, table.list td { border:1px solid var(--line); padding:4px 8px; text-align:left; vertical-align:top; }
@media print {
  body { background:#fff; font-size:11px; } main { padding:0; max-width:none; } nav { display:none; }
  .grid { grid-template-columns:repeat(2, 1fr); } a { color:inherit; text-decoration:none; }
  h2 { break-after:avoid; page-break-after:avoid; }
}
"""


def _href(path: str) -> str:
    return escape(quote(path, safe="/"))


def _dl(pairs: list[tuple[str, str]], cls: str) -> str:
    return f'<dl class="{cls}">' + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in pairs) + "</dl>"


def _checks_html(c: dict) -> str:
    checks = c.get("checks", [])
    if not checks:
        return '<p class="sub">no checks recorded</p>'
    out = []
    failed = _failed_checks(c)
    if failed:
        out.append('<ul class="checks">')
        for k in failed:
            sev = str(k.get("severity", ""))
            line = f"<strong>{escape(str(k.get('rule', '')))}</strong> <em>{escape(sev)}</em>"
            if k.get("message"):
                line += f": {escape(str(k['message']))}"
            if k.get("where"):
                line += f' <span class="sub">({escape(str(k["where"]))})</span>'
            if k.get("match"):
                line += f' <span class="sub">matched “{escape(str(k["match"]))}”</span>'
            if k.get("fix"):
                line += f'<br><span class="fix">fix: {escape(str(k["fix"]))}</span>'
            out.append(f'<li class="fail {escape(sev)}">{line}</li>')
        out.append("</ul>")
    passed = [k for k in checks if k.get("passed", True)]
    if passed:
        out.append(f"<details><summary>{len(passed)} of {len(checks)} checks passed</summary><p class=\"sub\">"
                   + ", ".join(f"{escape(str(k.get('rule', '')))} ({escape(str(k.get('severity', '')))})"
                               for k in passed) + "</p></details>")
    return "".join(out)


def _provenance_html(c: dict) -> str:
    eng = c.get("engines") or {}
    rows = []
    for kind in ("visual", "copy"):
        info = eng.get(kind)
        if not isinstance(info, dict):
            continue
        first = [k for k in ("name", "model", "seed", "profile", "prompt") if k in info]
        rows += [(f"{kind} {k}" if k != "name" else kind, _value(info[k]))
                 for k in first + sorted(k for k in info if k not in first)]
    rows += [("content id", str(c.get("id", ""))), ("sha256", _short(c.get("sha256")) + "…")]
    return "<details open><summary>provenance</summary>" + _dl(rows, "prov") + "</details>"


def _links_html(c: dict) -> str:
    links = [("file", str(c.get("path", "")))] + _layers(c)
    return " · ".join(f'<a href="{_href(p)}">{escape(k)}</a>' for k, p in links if p)


def _card_html(bundle_dir: Path, c: dict, status: str,
               thumbs: dict[str, tuple[bytes, tuple[int, int]]] | None = None) -> str:
    cid = str(c.get("id", ""))
    badge = {"ready": "ready", "blocked": "BLOCKED · error-level check failed",
             "allowed": "ready · errors allowed"}[status]
    head = (f'<span class="badge {status}">{escape(badge)}</span><h3>{escape(str(c.get("channel", "")))}</h3>'
            f'<div class="sub">{escape(_size(c))} · {escape(c.get("format", ""))} · {_kb(c.get("bytes"))} · '
            f"<code>{escape(cid)}</code></div>")
    if c.get("format") == "text":
        body = f'<pre class="text">{escape(_text_of(bundle_dir, c))}</pre>'
    else:
        try:
            known = (thumbs or {}).get(str(c.get("sha256")))   # made by the worker that encoded the file
            video = c.get("format") == "mp4"
            still = str((c.get("cover") or {}).get("path", "")) if video else str(c["path"])
            data, (w, h) = known or thumbnail(safe_join(bundle_dir, still))
            src = f'data:image/jpeg;base64,{base64.b64encode(data).decode("ascii")}'
            if video:   # the clip plays from the bundle beside the page; its cover is embedded as the poster
                v = c.get("video") or {}
                body = (f'<video src="{escape(_href(str(c["path"])))}" poster="{src}" width="{w}" height="{h}" '
                        'controls muted playsinline loop preload="metadata"></video>'
                        f'<div class="sub">{escape(str(v.get("duration_s", "")))} s · {escape(str(v.get("fps", "")))}'
                        f' fps · H.264</div>')
            else:
                body = (f'<img src="{src}" width="{w}" '
                        f'height="{h}" alt="{escape(str(c.get("segment", "")))} {escape(str(c.get("channel", "")))}">')
        except Exception as e:  # noqa: BLE001 — a missing or broken file is shown, not fatal
            body = f'<div class="missing">image not readable: {escape(type(e).__name__)}</div>'
        texts = _sorted_texts(c.get("texts") or {})
        if texts:
            body += '<table class="texts">' + "".join(
                f"<tr><th>{escape(_role_label(r))}</th><td>{escape(t)}</td></tr>" for r, t in texts) + "</table>"
        if c.get("dropped"):
            body += f'<p class="sub">left out for lack of room: {escape(", ".join(map(str, c["dropped"])))}</p>'
    return (f'<article class="card {status}" id="{escape(cid)}">{head}{body}{_checks_html(c)}'
            f'{_provenance_html(c)}<div class="sub">{_links_html(c)}</div></article>')


def approval_html(bundle_dir: Path, manifest: dict[str, Any],
                  thumbs: dict[str, tuple[bytes, tuple[int, int]]] | None = None) -> str:
    """The approval page as a string: one file, no external resources, images as base64 JPEG thumbnails."""
    bundle_dir = Path(bundle_dir)
    brief = manifest.get("brief") or {}
    gen = manifest.get("generator") or {}
    creatives = manifest.get("creatives", [])
    st = statuses(manifest)
    n_text = sum(1 for c in creatives if c.get("format") == "text")
    n_blocked = list(st.values()).count("blocked")
    name = str(brief.get("name", bundle_dir.name))
    meta = [("brief", name), ("brief file", str(brief.get("path") or "—")),
            ("brief sha256", _short(brief.get("sha256")) + "…"), ("category", str(brief.get("category") or "—")),
            ("created", str(manifest.get("created", "—"))),
            ("generator", (f"{gen.get('name', 'mkt')} {gen.get('version', '')} · engine {gen.get('engine', '?')}"
                           f" · seed {gen.get('seed', '?')}"))]
    groups = _by_segment(manifest)
    parts = [('<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
              '<meta name="viewport" content="width=device-width, initial-scale=1">'
              f"<title>审批请求 · {escape(name)}</title><style>{_CSS}</style></head><body><main>"),
             f"<header><h1>审批请求 Approval request · {escape(name)}</h1>{_dl(meta, 'meta')}",
             f'<p class="status{" blocked" if n_blocked else " partial" if manifest.get("failures") else ""}">'
             f'{escape(status_line(manifest))}</p>',
             '<p class="counts">' + "".join(f"<span>{escape(k)}: <strong>{v}</strong></span>" for k, v in (
                 ("creatives", len(creatives)), ("posters", len(creatives) - n_text), ("texts", n_text),
                 ("ready", len(creatives) - n_blocked), ("blocked", n_blocked),
                 ("failures", len(manifest.get("failures", []))))) + "</p>"]
    if manifest.get("notes"):
        parts.append("<ul>" + "".join(f"<li>{escape(str(n))}</li>" for n in manifest["notes"]) + "</ul>")
    if len(groups) > 1:
        parts.append("<nav>" + "".join(f'<a href="#seg-{i}">{escape(s)}</a>' for i, s in enumerate(groups))
                     + ("<a href=\"#failures\">failures</a>" if manifest.get("failures") else "") + "</nav>")
    parts.append("</header>")
    for i, (seg, items) in enumerate(groups.items()):
        blocked_here = sum(1 for c in items if st.get(c.get("id")) == "blocked")
        parts.append(f'<section id="seg-{i}"><h2>{escape(seg)} <span class="sub">{len(items)} creatives'
                     + (f" · {blocked_here} blocked" if blocked_here else "") + '</span></h2><div class="grid">')
        images = [c for c in items if c.get("format") != "text"]
        texts = [c for c in items if c.get("format") == "text"]
        parts += [_card_html(bundle_dir, c, st.get(c.get("id"), "ready"), thumbs) for c in images + texts]
        parts.append("</div></section>")
    if manifest.get("failures"):
        parts.append('<section id="failures"><h2>Failures · 未生成</h2><table class="list"><tr><th>segment</th>'
                     "<th>channel</th><th>error</th><th>hint</th></tr>")
        parts += [f"<tr><td>{escape(str(f.get('segment', '')))}</td><td>{escape(str(f.get('channel', '')))}</td>"
                  f"<td>{escape(str(f.get('error', '')))}</td><td>{escape(str(f.get('hint') or ''))}</td></tr>"
                  for f in manifest["failures"]]
        parts.append("</table></section>")
    files = manifest.get("files", [])
    if files:
        parts.append(f"<section><h2>Files</h2><details><summary>{len(files)} files listed in manifest.json "
                     "(paths relative to this page)</summary><table class=\"list\"><tr><th>path</th><th>bytes</th>"
                     "<th>sha256</th></tr>")
        parts += [f'<tr><td><a href="{_href(str(f.get("path", "")))}">{escape(str(f.get("path", "")))}</a></td>'
                  f"<td>{escape(str(f.get('bytes', '')))}</td><td><code>{escape(str(f.get('sha256', '')))}</code>"
                  "</td></tr>" for f in files]
        parts.append("</table></details></section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


# ---------------------------------------------------------------- approval.md


def _cell(v: Any) -> str:
    return md(v).strip() or "—"


def _md_link(label: str, path: str) -> str:
    # the target percent-encoded (a path can only be a relative link, never javascript:), the label inert text;
    # Chinese stays readable (ticket systems render UTF-8 links)
    target = "".join(ch if ch.isalnum() or ch in "/-_.·" else quote(ch) for ch in path)   # no ':', no '(' …
    return f"[{md(label)}]({target})"


def _quoted(text: str, markdown: bool) -> str:
    """A text creative as a Markdown quote, line by line: a .txt file's words as inert text (md), a .md file (a
    call script, written inert by copywriting.creatives) as it is, with any raw < > made entities all the same, so
    the approval request carries no live HTML anywhere — not even inside a code block a ticket system might not
    honour."""
    shown = [(ln.replace("<", "&lt;").replace(">", "&gt;") if markdown else md(ln)) for ln in text.splitlines()]
    return "\n>\n".join(f"> {ln}" for ln in shown if ln.strip()) or "> —"


def approval_markdown(bundle_dir: Path, manifest: dict[str, Any]) -> str:
    """The approval request in Markdown for a ticket system: summary, a table per segment, the text creatives in
    quotes (as their files have them, inert), failed checks, failures, relative links to the files."""
    brief = manifest.get("brief") or {}
    gen = manifest.get("generator") or {}
    st = statuses(manifest)
    creatives = manifest.get("creatives", [])
    name = str(brief.get("name", ""))
    lines = [f"# 审批请求 Approval request: {md(name)}", "",
             f"**{md(status_line(manifest))}**", "",
             (f"- Brief: {md_code(brief.get('path') or '—')} (sha256 {md_code(_short(brief.get('sha256')))}), "
              f"category {md(brief.get('category') or '—')}"),
             f"- Created: {md(manifest.get('created', '—'))}",
             (f"- Generator: {md(gen.get('name', 'mkt'))} {md(gen.get('version', ''))}, engine "
              f"{md(gen.get('engine', '?'))}, seed {md(gen.get('seed', '?'))}"),
             f"- Creatives: {len(creatives)} · failures: {len(manifest.get('failures', []))}",
             "- Thumbnails, every check and provenance: " + _md_link("approval.html", "approval.html"), ""]
    if manifest.get("notes"):
        lines += ["Notes:", ""] + [f"- {md(n)}" for n in manifest["notes"]] + [""]
    label = {"ready": "ready", "blocked": "**BLOCKED**", "allowed": "ready (errors allowed)"}
    for seg, items in _by_segment(manifest).items():
        lines += [f"## {md(seg)}", "", "| id | channel | size | headline | rate | status | failed checks | file |",
                  "|---|---|---|---|---|---|---|---|"]
        for c in items:
            t = c.get("texts") or {}
            failed = ", ".join(f"{k.get('rule')} ({k.get('severity')})" for k in _failed_checks(c))
            lines.append("| " + " | ".join([
                md_code(c.get("id", "")), _cell(c.get("channel", "")), _cell(_size(c)),
                _cell(t.get("headline", t.get("title", ""))), _cell(t.get("apr", "")),
                label[st.get(c.get("id"), "ready")], _cell(failed),
                " · ".join([_md_link(Path(str(c.get("path", ""))).name or "—", str(c.get("path", "")))]
                           + [_md_link(k, p) for k, p in _layers(c)])]) + " |")
        lines.append("")
        for c in items:
            failed = _failed_checks(c)
            if c.get("format") == "text" or failed:
                lines.append(f"### {md(seg)} / {md(c.get('channel', ''))} · {label[st.get(c.get('id'), 'ready')]}")
                lines.append("")
            if c.get("format") == "text":
                lines += [_quoted(_text_of(Path(bundle_dir), c), str(c.get("path", "")).endswith(".md")), ""]
            elif failed:   # the exact strings the failed checks were about
                lines += [f"- {md(_role_label(r))} ({md(r)}): {md(v)}" for r, v in _sorted_texts(c.get("texts") or {})]
                lines.append("")
            for k in failed:
                line = f"- **{md(k.get('rule'))}** ({md(k.get('severity'))}): {md(k.get('message', ''))}"
                if k.get("where"):
                    line += f" ({md(k['where'])})"
                if k.get("fix"):
                    line += f" — fix: {md(k['fix'])}"
                lines.append(line)
            if failed:
                lines.append("")
    if manifest.get("failures"):
        lines += ["## Failures", "", "| segment | channel | error | hint |", "|---|---|---|---|"]
        lines += [f"| {_cell(f.get('segment', ''))} | {_cell(f.get('channel', ''))} | {_cell(f.get('error', ''))} | "
                  f"{_cell(f.get('hint') or '')} |" for f in manifest["failures"]]
        lines.append("")
    files = manifest.get("files", [])
    if files:
        lines += ["## Files", "", "| file | bytes | sha256 |", "|---|---|---|"]
        lines += [f"| {_md_link(str(f.get('path', '')), str(f.get('path', '')))} | {_cell(f.get('bytes', '—'))} | "
                  f"{md_code(_short(f.get('sha256')))} |" for f in files]
        lines.append("")
    return "\n".join(lines)
