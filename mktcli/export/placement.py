"""placement.json: what a placement (投放) system needs to put the bundle on air, per channel — the creatives
that passed approval checks with their files and sizes, segment targeting, landing links with UTM parameters,
schedule and send window, and the copy fields. Schema: docs/placement.md (version 1)."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..brief import Brief

PLACEMENT_VERSION = 1

# copy fields a placement form asks for, from the manifest's texts
IMAGE_COPY = ("headline", "subhead", "cta", "apr", "disclaimer", "provider")


def landing_link(url: str | None, *, channel: str, campaign: str, content_id: str, utm: bool) -> str | None:
    """The brief's landing URL with utm_source/utm_campaign/utm_content added (existing parameters are kept and
    never overwritten), so a click can be traced back to the creative (mkt learn)."""
    if not url:
        return None
    if not utm:
        return url
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    have = {k for k, _ in query}
    add = [(k, v) for k, v in (("utm_source", channel), ("utm_medium", "mkt"), ("utm_campaign", campaign),
                               ("utm_content", content_id)) if k not in have]
    return urlunsplit(parts._replace(query=urlencode(query + add)))


def placement_config(brief: Brief, creatives: list[dict[str, Any]], approval: dict[str, Any]) -> dict[str, Any]:
    """One entry per channel of the brief that produced creatives. Blocked creatives are listed by id only."""
    p = brief.placement
    ready = set(approval.get("ready", []))
    # targeting per segment, expanded once (not once per creative)
    targets = {s.name: {"segment": s.name, **({"dimensions": s.values} if s.values else {})}
               for s in brief.segments()}
    channels: dict[str, Any] = {}
    for c in creatives:
        ch = brief.channel(c["channel"])
        slot = channels.setdefault(ch.name, {
            "label": ch.label, "kind": ch.kind,
            **({"width": ch.width, "height": ch.height, "max_bytes": ch.max_bytes, "formats": ch.formats}
               if ch.is_image else {}),
            **({"video": {"fps": ch.video.fps, "min_s": ch.video.min_s, "max_s": ch.video.max_s, "codec": "h264",
                          "container": "mp4"}} if ch.is_video and ch.video else {}),
            "send_window": (p.send_window or ch.send_window) if not ch.is_image else None,
            "creatives": [], "blocked": [],
        })
        if c["id"] not in ready:
            slot["blocked"].append(c["id"])
            continue
        target = targets.get(c["segment"], {"segment": c["segment"]})
        # most specific first: the segment, one of its dimension values, the channel, then the brief's link
        keys = [c["segment"], *target.get("dimensions", {}).values(), ch.name]
        url = next((p.landing[k] for k in keys if k in p.landing), p.landing_url)
        texts = c.get("texts", {})
        copy = ({k: texts[k] for k in IMAGE_COPY if k in texts} | {"perks": [v for k, v in sorted(texts.items())
                                                                           if k.startswith("perk")]}
                if ch.is_image else dict(texts))
        entry = {"id": c["id"], "targeting": target, "path": c["path"],
                 "format": c["format"], "bytes": c["bytes"], "sha256": c["sha256"]}
        if ch.is_image:
            entry |= {"width": c["width"], "height": c["height"]}
        if isinstance(c.get("video"), dict):   # a clip: its cover (poster frame), length and frame rate
            v = c["video"]
            entry |= {"cover": (c.get("cover") or {}).get("path"), "duration_s": v.get("duration_s"),
                      "fps": v.get("fps"), "codec": "h264"}
        entry |= {"landing_url": landing_link(url, channel=ch.name, campaign=brief.name, content_id=c["id"],
                                              utm=p.utm),
                  "copy": copy}
        slot["creatives"].append(entry)
    return {
        "version": PLACEMENT_VERSION,
        "campaign": brief.name,
        "brief_sha256": brief.sha256,
        "product": {"name": brief.product.name, "category": brief.product.category,
                    "provider": brief.product.provider},
        "schedule": {"start": p.start.isoformat() if p.start else None,
                     "end": p.end.isoformat() if p.end else None, "timezone": p.timezone},
        "channels": channels,
    }
