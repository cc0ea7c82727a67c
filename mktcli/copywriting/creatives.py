"""Text channels (sms, call_script, push) as creatives of the bundle: a file beside the images and a manifest
entry with the exact text and the checks that apply to that channel."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from .writer import Variant

# the rules each text channel is checked against (failed ones come from the guard's findings)
CHANNEL_RULES = {
    "sms": ["SMS-SIGN", "SMS-OPTOUT", "SMS-LEN", "FIN-APR", "FIN-CONSISTENT", "FIN-PURPOSE", "FIN-CAP", "AD-ABS",
            "AD-STATE", "AD-BAIT", "FIN-BAN", "FIN-BAN-RANGE", "FIN-SOFT"],
    "call_script": ["CALL-OPEN", "CALL-REFUSAL", "FIN-APR", "FIN-CONSISTENT", "FIN-PURPOSE", "FIN-CAP", "AD-ABS",
                    "AD-STATE", "AD-BAIT", "FIN-BAN", "FIN-BAN-RANGE", "FIN-SOFT"],
    "push": ["COPY-LEN", "COPY-EMPTY", "FIN-APR", "FIN-CONSISTENT", "FIN-PURPOSE", "FIN-CAP", "AD-ABS", "AD-STATE",
             "AD-BAIT", "FIN-BAN", "FIN-BAN-RANGE", "FIN-SOFT"],
}
_SEVERITY = {"SMS-LEN": "warning", "FIN-SOFT": "warning", "FIN-CAP": "warning"}
EXT = {"sms": "txt", "call_script": "md", "push": "txt"}


def _unit(channel: str, message: str) -> bool:
    """Does a guard finding (prefixed 'sms: …', 'push.title …') belong to this channel?"""
    return message.split(":", 1)[0].split(" ", 1)[0].startswith(channel)


def text_creative(channel: str, v: Variant, brief_sha: str, engine: dict[str, Any]) -> tuple[bytes, dict]:
    c = v.copy
    if channel == "sms":
        texts = {"body": c.sms.text}
        data = c.sms.text + "\n"
    elif channel == "call_script":
        cs = c.call_script
        texts = {"opening": cs.opening, "value": cs.value, "apr": cs.apr, "refusal": cs.refusal,
                 "closing": cs.closing}
        data = "# 外呼话术 · " + v.segment + "\n\n" + "\n\n".join(
            f"**{k}**：{t}" for k, t in zip(("开场", "介绍", "利率", "拒绝选项", "结束"), texts.values()) if t) + "\n"
    elif channel == "push":
        texts = {"title": c.push.title, "body": c.push.body}
        data = f"{c.push.title}\n{c.push.body}\n"
    else:
        raise ValueError(channel)
    failed: dict[str, list] = {}
    for f in v.findings:   # each violation once: a rule may fail on several words
        if _unit(channel, f.message) and not any(g.match == f.match and g.message == f.message
                                                 for g in failed.get(f.rule, [])):
            failed.setdefault(f.rule, []).append(f)
    rules = CHANNEL_RULES[channel] + (["FIN-RISK"] if "FIN-RISK" in failed or v.info.get("category") == "wealth"
                                      else [])
    rules += [r for r in failed if r not in rules]
    checks = [c for r in rules for c in (
        [{"rule": r, "severity": f.severity, "passed": False, "message": f.message,
          **({"match": f.match} if f.match else {})} for f in failed[r]] if r in failed
        else [{"rule": r, "severity": _SEVERITY.get(r, "error"), "passed": True, "message": ""}])]
    raw = data.encode("utf-8")
    ident = json.dumps([brief_sha, v.segment, channel, texts, engine], ensure_ascii=False, sort_keys=True)
    entry = {"id": "c-" + hashlib.sha256(ident.encode()).hexdigest()[:16], "segment": v.segment,
             "channel": channel, "format": "text", "texts": texts,
             "engines": {"copy": {**engine, "variant": v.variant, **({"repairs": v.repairs} if v.repairs else {})}},
             "checks": checks, "chars": len(c.sms.text) if channel == "sms" else len(data.strip())}
    if channel == "sms":
        entry["sms_segments"] = 1 if len(c.sms.text) <= 70 else -(-len(c.sms.text) // 67)
    return raw, entry
