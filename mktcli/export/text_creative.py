"""Text channels (sms, call_script, push) as creatives of the bundle: a file beside the images and a manifest
entry with the exact text and the checks that apply to that channel."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from ..checks.image import facts_json
from ..checks.rules import load_rules
from ..checks.run import text_checks
from ..copywriting.writer import Variant
from ..textsafe import md

EXT = {"sms": "txt", "call_script": "md", "push": "txt"}


def text_creative(channel: str, v: Variant, brief_sha: str, engine: dict[str, Any], *, rules=None, facts=None,
                  category: str | None = None, push_limits: tuple[int, int] = (20, 50)) -> tuple[bytes, dict]:
    """(file bytes, manifest entry) of one text creative. Its checks are checks.run.text_checks on its texts with
    `rules` (the run's rule set; default the rules in force) — the same call `mkt check BUNDLE` makes with the
    inputs recorded here (`check_inputs`)."""
    c = v.copy
    if channel == "sms":
        texts = {"body": c.sms.text}
        data = c.sms.text + "\n"
    elif channel == "call_script":
        cs = c.call_script
        texts = {"opening": cs.opening, "value": cs.value, "apr": cs.apr, "refusal": cs.refusal,
                 "closing": cs.closing}
        # a Markdown file: the brief's words in it are inert text (no HTML, no links), the exact words in `texts`
        data = "# 外呼话术 · " + md(v.segment) + "\n\n" + "\n\n".join(
            f"**{k}**：{md(t)}" for k, t in zip(("开场", "介绍", "利率", "拒绝选项", "结束"), texts.values()) if t) + "\n"
    elif channel == "push":
        texts = {"title": c.push.title, "body": c.push.body}
        data = f"{c.push.title}\n{c.push.body}\n"
    else:
        raise ValueError(channel)
    rs = rules if rules is not None else load_rules()
    checks = text_checks(rs, channel, texts, category=category, facts=facts, push_limits=push_limits)
    inputs = {"category": category, "facts": facts_json(facts), "push_limits": list(push_limits)}
    raw = data.encode("utf-8")
    ident = json.dumps([brief_sha, v.segment, channel, texts, engine], ensure_ascii=False, sort_keys=True)
    entry = {"id": "c-" + hashlib.sha256(ident.encode()).hexdigest()[:16], "segment": v.segment,
             "channel": channel, "format": "text", "texts": texts,
             "engines": {"copy": {**engine, "variant": v.variant, **({"repairs": v.repairs} if v.repairs else {})}},
             "checks": checks, "chars": len(c.sms.text) if channel == "sms" else len(data.strip()),
             "check_inputs": inputs}
    if channel == "sms":
        entry["sms_segments"] = 1 if len(c.sms.text) <= 70 else -(-len(c.sms.text) // 67)
    return raw, entry
