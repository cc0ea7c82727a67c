"""The compliance corpus of issue 15 (tests/data/compliance_corpus_r2.yaml, written by a helper who had not read
the checker) run the way a user runs it: each line is placed into its field of a brief built from its context —
headline / subhead / cta into `message`, a perk appended to `offer.perks`, `override.*` into
`audience.overrides.<segment>` — and checked through `mkt check BRIEF`'s code path (brief_check.check_brief); SMS,
push and call-script lines go through `mkt check --text … --as sms|push|call_script` with the brief's facts.

    python benchmarks/compliance_corpus.py [--corpus FILE] [--json] [--list]

Prints caught violations (an error of one of the line's rules; "with the field" when the finding also names the
field the line was placed in) and false alarms (an error-level finding on a clean line)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "compliance_corpus_r2.yaml"
TEXT_UNITS = {"sms": "sms", "push": "push", "call_script": "call"}
MESSAGE_FIELDS = {"headline", "subhead", "cta"}


@dataclass
class Outcome:
    item: dict
    kind: str                      # violation | clean
    errors: list[dict] = field(default_factory=list)   # error-level findings: rule, where, message
    where: str = ""                # the brief key the line was placed in ('' for text channels)
    invalid: str = ""              # the brief did not load (too long for its field …)

    @property
    def caught(self) -> bool:
        return any(e["rule"] in self.item["rules"] for e in self.errors)

    @property
    def caught_at_field(self) -> bool:
        return any(e["rule"] in self.item["rules"] and (not self.where or e.get("where") == self.where)
                   for e in self.errors)


def load_corpus(path: Path = CORPUS) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def brief_for(ctx: dict, item: dict | None = None, name: str = "corpus-line") -> tuple[dict, str]:
    """The brief of a context with the line placed into its field, and the brief key it sits at."""
    b = {"version": 1, "name": name, "product": dict(ctx["product"]),
         "offer": {k: v for k, v in ctx.get("offer", {}).items() if v is not None},
         "message": {"disclaimer": ctx["disclaimer"]} if ctx.get("disclaimer") else {},
         "visual": {"engine": "procedural"}, "channels": ["app_banner"]}
    b["offer"]["perks"] = list(b["offer"].get("perks", []))
    if ctx.get("audience"):
        b["audience"] = json.loads(json.dumps(ctx["audience"]))
    where = ""
    if item is not None:
        f, text = item["field"], item["text"]
        if f in MESSAGE_FIELDS:
            b["message"][f] = text
            where = f"message.{f}"
        elif f == "perk":
            b["offer"]["perks"].append(text)
            where = f"offer.perks[{len(b['offer']['perks']) - 1}]"
        elif f.startswith("override."):
            key = f.split(".", 1)[1]
            seg = item["segment"]
            b.setdefault("audience", {}).setdefault("overrides", {}).setdefault(seg, {})[key] = text
            where = f"audience.overrides.{seg}.{key}"
    return b, where


def check_item(item: dict, ctx: dict, kind: str, tmp: Path) -> Outcome:
    from mktcli.brief import load_brief
    from mktcli.brief_check import check_brief
    from mktcli.checks import run as runner
    from mktcli.errors import MktError

    out = Outcome(item, kind)
    b, out.where = brief_for(ctx, item if item["field"] not in TEXT_UNITS else None)
    path = tmp / "brief.yaml"
    path.write_text(yaml.safe_dump(b, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        if item["field"] in TEXT_UNITS:
            from mktcli.checks.copy_guard import rule_facts_for

            brief = load_brief(path)
            facts = rule_facts_for(brief, brief.segments()[0])
            rep = runner.check_text(item["text"], unit=TEXT_UNITS[item["field"]], category=brief.product.category,
                                    facts=facts)
        else:
            rep = check_brief(path)
    except MktError as e:
        out.invalid = str(e)
        return out
    out.errors = [{"rule": r["rule"], "where": r.get("where", ""), "message": r.get("message", "")}
                  for i in rep.items for r in i.results if not r.get("passed") and r.get("severity") == "error"]
    return out


def run_corpus(path: Path = CORPUS) -> list[Outcome]:
    corpus = load_corpus(path)
    briefs = corpus["briefs"]
    outs = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("violations", "clean"):
            for item in corpus[kind]:
                outs.append(check_item(item, briefs[item["brief"]], kind[:-1] if kind == "violations" else kind,
                                       Path(tmp)))
    return outs


def summary(outs: list[Outcome]) -> dict:
    viol = [o for o in outs if o.kind == "violation"]
    clean = [o for o in outs if o.kind == "clean"]
    missed = [o for o in viol if not o.caught]
    no_field = [o for o in viol if o.caught and not o.caught_at_field]
    alarms = [o for o in clean if o.errors or o.invalid]
    return {"violations": len(viol), "caught": len(viol) - len(missed), "caught_at_field": len(viol) - len(missed)
            - len(no_field), "missed": [(o.item["field"], o.item["brief"], o.item["text"], sorted(o.item["rules"]))
                                        for o in missed],
            "clean": len(clean), "false_alarms": [(o.item["field"], o.item["brief"], o.item["text"],
                                                   sorted({e["rule"] for e in o.errors}) or [o.invalid])
                                                  for o in alarms],
            "invalid": [(o.item["field"], o.item["text"], o.invalid) for o in outs if o.invalid]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--list", action="store_true", help="list every miss and false alarm")
    args = ap.parse_args()
    s = summary(run_corpus(args.corpus))
    if args.json:
        print(json.dumps(s, ensure_ascii=False, indent=2))
        return 0
    print(f"violations caught: {s['caught']}/{s['violations']} ({s['caught_at_field']} with the field named) · "
          f"false alarms on clean lines: {len(s['false_alarms'])}/{s['clean']}")
    if args.list:
        for f, b, t, rules in s["missed"]:
            print(f"  missed  [{f} · {b}] {t}  (expected {', '.join(rules)})")
        for f, b, t, rules in s["false_alarms"]:
            print(f"  alarm   [{f} · {b}] {t}  ({', '.join(rules)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
