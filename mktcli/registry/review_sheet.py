"""The audit's HTML review sheet: one self-contained file (thumbnails inlined as base64 JPEG, no network) that a
reviewer opens in any browser, marks pass/fail with notes, and downloads as decisions-<audit id>.json — exactly the
file `mkt audit record AUDIT_ID decisions-<audit id>.json` reads. Decisions are kept in the browser's localStorage
while the reviewer works, so closing the tab loses nothing. The page is templates/review_sheet.html.j2, its style and
script static/review_sheet.css and .js."""
from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from ..export.approval import thumbnail as small_jpeg
from ..export.files import sha256
from ..export.pages import render as render_page

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
        jpeg, _ = small_jpeg(p)
    except Exception as e:  # noqa: BLE001 — a broken image must not stop the sheet
        return None, f"cannot read the image: {e}"
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii"), note


def _item(n: int, rec: CreativeRecord | None, cid: str, stratum: str) -> dict[str, Any]:
    if rec is None:   # deleted from the registry after sampling: still decidable by id
        return {"n": n, "id": cid, "rec": None}
    src, note = thumbnail(rec)
    return {"n": n, "id": cid, "rec": rec, "stratum": stratum, "src": src, "note": note,
            "size": f"{rec.width}×{rec.height}" if rec.width else "text", "path": str(rec.abs_path),
            "texts": list(rec.texts.items()), "failed": rec.failed_checks, "engines_line": _engines_line(rec.engines),
            "engines": json.dumps(rec.engines, ensure_ascii=False, indent=1)}


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


def render(audit: Audit, records: dict[str, CreativeRecord]) -> str:
    head = (f"sample of {len(audit.items)} from {audit.population} creatives"
            + (f" (fraction {audit.fraction})" if audit.fraction else f" (count {audit.requested})")
            + f" · seed {audit.seed} · {audit.at}")
    filters = ", ".join(f"{k}={v}" for k, v in audit.filters.items()) or "none"
    items = [_item(n, records.get(it.creative_id), it.creative_id, it.stratum) for n, it in enumerate(audit.items, 1)]
    return render_page("review_sheet.html.j2", audit_id=audit.id, head=head, filters=filters, items=items,
                       command=f"mkt audit record {audit.id} decisions-{audit.id}.json")
