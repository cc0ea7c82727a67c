"""The approval request: `approval.html` (one self-contained page an approver opens offline, thumbnails embedded)
and `approval.md` (the same for a ticket system), written into the bundle before manifest.json.

Both are built from the manifest alone plus the files it lists, with no clock: the same bundle gives the same bytes."""
from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..checks import failed_errors
from ..errors import MktError
from ..textsafe import md, md_code
from .files import safe_join, write_listed
from .pages import failed_checks, render, role_label, size, sorted_texts

THUMB_PX = 480          # long side of an embedded thumbnail: a 100-creative bundle stays a few MB
THUMB_QUALITY = 78


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


def text_of(bundle_dir: Path, c: dict) -> str:
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


# ---------------------------------------------------------------- approval.html (templates/approval.html.j2)


def _provenance(c: dict) -> list[tuple[str, str]]:
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
    return rows


def _card(bundle_dir: Path, c: dict, status: str,
          thumbs: dict[str, tuple[bytes, tuple[int, int]]] | None = None) -> dict[str, Any]:
    """What the template shows of one creative: its text, or its thumbnail (a video's cover), or why there is none."""
    badge = {"ready": "ready", "blocked": "BLOCKED · error-level check failed",
             "allowed": "ready · errors allowed"}[status]
    card: dict[str, Any] = {"c": c, "id": str(c.get("id", "")), "status": status, "badge": badge, "text": None,
                            "error": None, "video": None, "provenance": _provenance(c),
                            "links": [("file", str(c.get("path", "")))] + _layers(c)}
    if c.get("format") == "text":
        card["text"] = text_of(bundle_dir, c)
        return card
    try:
        known = (thumbs or {}).get(str(c.get("sha256")))   # made by the worker that encoded the file
        video = c.get("format") == "mp4"
        still = str((c.get("cover") or {}).get("path", "")) if video else str(c["path"])
        data, (w, h) = known or thumbnail(safe_join(bundle_dir, still))
        card.update(src=f'data:image/jpeg;base64,{base64.b64encode(data).decode("ascii")}', w=w, h=h)
        if video:   # the clip plays from the bundle beside the page; its cover is embedded as the poster
            card.update(video=c.get("video") or {}, clip=str(c["path"]))
    except Exception as e:  # noqa: BLE001 — a missing or broken file is shown, not fatal
        card["error"] = type(e).__name__
    return card


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
    segments = []
    for seg, items in _by_segment(manifest).items():
        images = [c for c in items if c.get("format") != "text"]
        texts = [c for c in items if c.get("format") == "text"]
        segments.append({"name": seg, "blocked": sum(1 for c in items if st.get(c.get("id")) == "blocked"),
                         "cards": [_card(bundle_dir, c, st.get(c.get("id"), "ready"), thumbs) for c in images + texts]})
    return render(
        "approval.html.j2", name=name, meta=meta, status_line=status_line(manifest),
        status_class=" blocked" if n_blocked else " partial" if manifest.get("failures") else "",
        counts=[("creatives", len(creatives)), ("posters", len(creatives) - n_text), ("texts", n_text),
                ("ready", len(creatives) - n_blocked), ("blocked", n_blocked),
                ("failures", len(manifest.get("failures", [])))],
        notes=manifest.get("notes") or [], segments=segments, failures=manifest.get("failures") or [],
        files=manifest.get("files", []))


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
            failed = ", ".join(f"{k.get('rule')} ({k.get('severity')})" for k in failed_checks(c))
            lines.append("| " + " | ".join([
                md_code(c.get("id", "")), _cell(c.get("channel", "")), _cell(size(c)),
                _cell(t.get("headline", t.get("title", ""))), _cell(t.get("apr", "")),
                label[st.get(c.get("id"), "ready")], _cell(failed),
                " · ".join([_md_link(Path(str(c.get("path", ""))).name or "—", str(c.get("path", "")))]
                           + [_md_link(k, p) for k, p in _layers(c)])]) + " |")
        lines.append("")
        for c in items:
            failed = failed_checks(c)
            if c.get("format") == "text" or failed:
                lines.append(f"### {md(seg)} / {md(c.get('channel', ''))} · {label[st.get(c.get('id'), 'ready')]}")
                lines.append("")
            if c.get("format") == "text":
                lines += [_quoted(text_of(Path(bundle_dir), c), str(c.get("path", "")).endswith(".md")), ""]
            elif failed:   # the exact strings the failed checks were about
                lines += [f"- {md(role_label(r))} ({md(r)}): {md(v)}" for r, v in sorted_texts(c.get("texts") or {})]
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
