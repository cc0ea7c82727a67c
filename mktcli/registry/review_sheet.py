"""The audit's HTML review sheet: one self-contained file (thumbnails inlined as base64 JPEG, no network) that a
reviewer opens in any browser, marks pass/fail with notes, and downloads as decisions-<audit id>.json — exactly the
file `mkt audit record AUDIT_ID decisions-<audit id>.json` reads. Decisions are kept in the browser's localStorage
while the reviewer works, so closing the tab loses nothing."""
from __future__ import annotations

import base64
import json
from html import escape
from typing import TYPE_CHECKING

from ..export.files import sha256

if TYPE_CHECKING:  # pragma: no cover
    from .store import Audit, CreativeRecord



def thumbnail(rec: CreativeRecord) -> tuple[str | None, str | None]:
    """(data URI of a ≤ 480 px JPEG, note) — note says why there is no picture, or that the file changed."""
    if rec.format == "text":
        return None, None
    p = rec.abs_path
    if not p.is_file():
        return None, f"file not found: {p}"
    data = p.read_bytes()
    note = None if not rec.sha256 or sha256(data) == rec.sha256 else "the file changed since it was registered"
    try:
        from ..export.approval import thumbnail as small_jpeg

        jpeg, _ = small_jpeg(p)
    except Exception as e:  # noqa: BLE001 — a broken image must not stop the sheet
        return None, f"cannot read the image: {e}"
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"), note


def _item(n: int, rec: CreativeRecord | None, cid: str, stratum: str) -> str:
    if rec is None:   # deleted from the registry after sampling: still decidable by id
        return (f'<section class="item" data-id="{escape(cid)}"><h2>{n}. {escape(cid)}</h2>'
                f"<p class=warn>not in the registry any more</p>{_decision(cid)}</section>")
    src, note = thumbnail(rec)
    size = f"{rec.width}×{rec.height}" if rec.width else "text"
    pic = f'<img src="{src}" alt="{escape(rec.id)}">' if src else ""
    texts = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rec.texts.items())
    failed = "".join(f'<li class="{escape(str(c.get("severity")))}"><b>{escape(str(c.get("rule")))}</b> '
                     f'({escape(str(c.get("severity")))}): {escape(str(c.get("message", "")))}</li>'
                     for c in rec.failed_checks) or "<li>none</li>"
    engines = escape(json.dumps(rec.engines, ensure_ascii=False, indent=1), quote=False)
    return f"""<section class="item" data-id="{escape(rec.id)}">
<h2>{n}. {escape(rec.brief)} · {escape(rec.segment)} · {escape(rec.channel)} <small>{size}</small></h2>
<p class=meta>{escape(rec.id)} · stratum {escape(stratum)} · status <b>{escape(rec.status)}</b> ·
{escape(str(rec.abs_path))}</p>
{f'<p class=warn>{escape(note)}</p>' if note else ''}<div class=row>{pic}<div>
<table>{texts}</table>
<h3>failed checks</h3><ul>{failed}</ul>
<details><summary>{escape(_engines_line(rec.engines))}</summary><pre>{engines}</pre></details>
</div></div>{_decision(rec.id)}</section>"""


def _engines_line(engines: dict) -> str:
    """'visual: diffusers Qwen/Qwen-Image seed 7 · copy: template seed 7' — the full record is one click away."""
    parts = []
    for role, info in engines.items():
        if isinstance(info, dict):
            bits = [str(info.get("name", "?"))]
            if info.get("model"):
                bits.append(str(info["model"]))
            if info.get("seed") is not None:
                bits.append(f"seed {info['seed']}")
            parts.append(f"{role}: {' '.join(bits)}")
    return " · ".join(parts) or "engines: not recorded"


def _decision(cid: str) -> str:
    name = escape(f"d-{cid}")
    return (f'<div class=decide><label><input type=radio name="{name}" value=pass> pass</label> '
            f'<label><input type=radio name="{name}" value=fail> fail</label> '
            f'<textarea placeholder="note (why it fails, what to fix)"></textarea></div>')


STYLE = """body{font:14px/1.5 system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:2em auto;max-width:1100px;
padding:0 1em;color:#222}h1{font-size:20px}h2{font-size:16px;margin:.2em 0}small,.meta{color:#666}
.item{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}.row{display:flex;gap:1em;flex-wrap:wrap}
img{max-width:480px;max-height:480px;border:1px solid #eee}table{border-collapse:collapse}th{text-align:left;
padding-right:1em;color:#555;font-weight:normal}.warn{color:#b00}li.error{color:#b00}li.warning{color:#a60}
.decide{margin-top:.6em}textarea{width:100%;min-height:2.5em}pre{font-size:12px}
#bar{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd}"""

# Reads the radios and notes; downloads {"audit_id", "decisions": [{"id", "decision", "note"}]}.
SCRIPT = """(function () {
  var AUDIT = JSON.parse(document.getElementById('audit-id').textContent);
  var KEY = 'mkt-audit-' + AUDIT;
  function items() { return Array.prototype.slice.call(document.querySelectorAll('section.item')); }
  function collect() {
    return {audit_id: AUDIT, decisions: items().map(function (s) {
      var c = s.querySelector('input[type=radio]:checked');
      return {id: s.dataset.id, decision: c ? c.value : null, note: s.querySelector('textarea').value.trim()};
    })};
  }
  function progress() {
    var d = collect().decisions, done = d.filter(function (x) { return x.decision; }).length;
    document.getElementById('progress').textContent = done + ' of ' + d.length + ' decided';
    try { localStorage.setItem(KEY, JSON.stringify(collect())); } catch (e) {}
  }
  try {
    var saved = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (saved) saved.decisions.forEach(function (d) {
      items().forEach(function (s) {
        if (s.dataset.id !== d.id) return;
        s.querySelectorAll('input[type=radio]').forEach(function (r) { r.checked = r.value === d.decision; });
        s.querySelector('textarea').value = d.note || '';
      });
    });
  } catch (e) {}
  document.addEventListener('change', progress);
  document.addEventListener('input', progress);
  document.getElementById('download').addEventListener('click', function () {
    var blob = new Blob([JSON.stringify(collect(), null, 2)], {type: 'application/json'});
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'decisions-' + AUDIT + '.json';
    document.body.appendChild(a);
    a.click();
    a.remove();
  });
  progress();
})();"""


def render(audit: Audit, records: dict[str, CreativeRecord]) -> str:
    head = (f"sample of {len(audit.items)} from {audit.population} creatives"
            + (f" (fraction {audit.fraction})" if audit.fraction else f" (count {audit.requested})")
            + f" · seed {audit.seed} · {audit.at}")
    filters = ", ".join(f"{k}={v}" for k, v in audit.filters.items()) or "none"
    body = "\n".join(_item(n, records.get(it.creative_id), it.creative_id, it.stratum)
                     for n, it in enumerate(audit.items, 1))
    audit_json = json.dumps(audit.id).replace("<", "\\u003c")
    cmd = f"mkt audit record {audit.id} decisions-{audit.id}.json"
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>mkt audit {escape(audit.id)}</title>
<style>{STYLE}</style></head><body>
<h1>mkt audit {escape(audit.id)}</h1>
<p>{escape(head)}<br>filters: {escape(filters)}</p>
<div id=bar><button id=download type=button>Download decisions</button> <span id=progress></span>
<br><small>then: <code>{escape(cmd)}</code></small></div>
{body}
<script type="application/json" id="audit-id">{audit_json}</script>
<script>{SCRIPT}</script>
</body></html>
"""
