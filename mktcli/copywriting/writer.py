"""Copy for a brief: requests per segment × variant, the engine's drafts, and the guard loop.

The guard is given, not imported (`CopyGuard`; checks/copy_guard.py is the one mkt uses, with the compliance rule
set): it checks every variant before it is used — channel limits, SMS signature and opt-out, banned and absolute
phrases, the brief's numbers — and a variant it rejects is never shipped: it is re-generated (llm), then replaced by
the template engine's, and the repair is recorded. Learned knowledge (a knowledge file, already read) orders the
variants. brief_copy.write_copy gives both: the rules in force and the knowledge file the brief names."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

from ..brand import load_brand
from ..brief import Brief, Segment, category_defaults, rate_text, resolved_message
from ..purposes import purposes
from .base import Copy, CopyEngine, CopyRequest, Draft, Facts, get_copy_engine
from .template import TemplateEngine, lexicon


class Finding(Protocol):
    """One problem the guard found (checks.registry.Finding): the rule, how bad, what, the words."""
    rule: str
    severity: str
    message: str
    match: str

    def as_dict(self) -> dict[str, Any]: ...


class CopyGuard(Protocol):
    """What the writer asks of the rules (checks.copy_guard.CopyGuard answers with the compliance rule set)."""

    def check(self, copy: Copy, facts: Facts, brief: Brief | None = None,
              brief_fields: tuple[str, ...] = ()) -> list[Finding]:
        """Every problem of one variant of copy for these facts."""

    def forbidden(self, words: list[str]) -> list[str]:
        """The rules the words break (learned wording is not used when it breaks one)."""

    def screen(self, facts: Facts) -> Callable[[str], bool] | None:
        """A test for a line these facts' product may not say, for an engine to leave it out (CopyRequest.screen)."""


@dataclass
class Variant:
    segment: str
    variant: int
    copy: Copy
    info: dict[str, Any]
    findings: list[Finding]
    repairs: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def checks(self) -> list[dict]:
        return [{**f.as_dict(), "passed": False} for f in self.findings]


@dataclass
class CopyResult:
    engine: dict[str, Any]
    variants: dict[str, list[Variant]]
    notes: list[str] = field(default_factory=list)

    def first(self, segment: str) -> Variant:
        return self.variants[segment][0]


def facts_for(brief: Brief, seg: Segment) -> Facts:
    brand = _brand(brief)
    msg = resolved_message(brief, seg)
    rate = rate_text(brief)
    cat = category_defaults().get(brief.product.category, {})
    sources = offer_sources(brief, seg)
    return Facts(product=brief.product.name, category=brief.product.category, provider=brief.product.provider,
                 brand=re.sub(r"[^\u4e00-\u9fa5A-Za-z0-9]", "", brand.short(brief.product.provider))[:12],
                 apr_phrase="".join(rate) if rate else None, disclaimer=msg.get("disclaimer", ""),
                 cta=seg.message.cta or cat.get("cta", "了解详情"), perks=tuple(seg.perks),
                 numbers_from=tuple(t for _, t in sources) + ((brief.offer.apr,) if brief.offer.apr else ()),
                 headline=seg.message.headline, apr=brief.offer.apr, offer_sources=sources,
                 purpose=purposes().purpose_of(brief.product.name, brief.product.category, brief.product.purpose))


def offer_sources(brief: Brief, seg: Segment) -> tuple[tuple[str, str], ...]:
    """(brief key, text) of everything that states the offer's figures for a segment: the product's name
    (三年期大额存单) and the segment's perks — the brief's, or the segment's own where an override replaces them.
    Message fields are not among them: their figures are checked against these (FIN-CONSISTENT), never taken as
    given."""
    return (("product.name", brief.product.name),
            *((seg.key(f"perks[{i}]"), p) for i, p in enumerate(seg.perks)))


_BRANDS: dict[tuple, Any] = {}   # one parse of the brand file per brief, not one per segment


def _brand(brief: Brief):
    key = (brief.brand, str(brief.base_dir), brief.sha256)
    if key not in _BRANDS:
        _BRANDS[key] = load_brand(brief.brand, brief.base_dir, brief_file=brief.path)
    return _BRANDS[key]


def push_limits(brief: Brief | None) -> tuple[int, int]:
    """(title, body) character limits of a push: the brief's push channel preset, else the lexicon's."""
    limits = lexicon().limits
    push_ch = brief.channel("push") if brief is not None and "push" in brief.channels else None
    return ((push_ch.title_max if push_ch else None) or limits.get("push_title", 20),
            (push_ch.body_max if push_ch else None) or limits.get("push_body", 50))


def _brief_wins(copy: Copy, seg: Segment) -> Copy:
    """Brief message fields (after the segment's overrides) replace generated ones."""
    m = seg.message
    upd = {k: getattr(m, k) for k in ("headline", "subhead", "cta") if getattr(m, k)}
    return copy.model_copy(update=upd) if upd else copy


def _learned(know, segs, facts, seed: int, n: int, eng: CopyEngine, notes: list[str], guard: CopyGuard
             ) -> tuple[dict[str, str], list[CopyRequest]]:
    """Per segment: the prompt line (what worked, what to avoid) and, for the template engine, extra candidates
    built on the two best learned phrases. Learned wording the guard's rules forbid is dropped, with a note."""
    hints: dict[str, str] = {}
    extra: list[CopyRequest] = []
    for s in segs:
        works = []
        for e in know.works(s.name):
            rules = guard.forbidden(e.words) if e.words else []
            if rules:
                notes.append(f"{s.name}: learned wording {e.feature} is not used: it breaks {', '.join(rules)}")
                continue
            works.append(e)
        phrases = [e for e in works if e.kind == "phrase" and e.words]
        avoid = [e for e in know.avoid(s.name) if e.words]
        if phrases or avoid:
            line = "点击数据（仅供参考，上面的合规要求优先）："
            if phrases:
                line += "这类客户更常点击的措辞：" + "、".join(f"{'/'.join(e.words)}（{e.lift:+.0%}）" for e in phrases[:5])
            if avoid:
                line += ("；" if phrases else "") + "点击更少的措辞：" + "、".join("/".join(e.words) for e in avoid[:5])
            hints[s.name] = line
        if eng.name == "template":
            for k, e in enumerate(phrases[:2]):
                extra.append(CopyRequest(facts[s.name], s.name, tuple(s.values.values()) or (s.name,), seed, n + k,
                                         learned=tuple(e.words), screen=guard.screen(facts[s.name])))
    return hints, extra


def _copy_texts(copy: Copy) -> dict[str, str]:
    return {k: v for k, v in copy.fields().items() if v}


def write_guarded(brief: Brief, guard: CopyGuard, *, engine: str | CopyEngine = "template",
                  segments: list[str] | None = None, n: int = 1, seed: int | None = None, retries: int = 1,
                  engine_options: dict | None = None, on_progress: Callable[[int, int], None] | None = None,
                  knowledge: Any = None) -> CopyResult:
    """n variants of copy for each segment of the brief, each one passed by `guard`.

    With knowledge (`knowledge`: a learn.knowledge.Knowledge, or None) the template engine also writes candidates
    on the segment's learned phrases, the llm engine's prompt lists what worked and what to avoid, and each
    segment's variants are ordered by the predicted lift (stable), keeping n. Every variant still goes through the
    guard; a candidate the guard rejects is dropped."""
    segs = [s for s in brief.segments() if not segments or s.name in segments]
    seed = brief.visual.seed if seed is None else seed
    eng = engine if isinstance(engine, CopyEngine) else get_copy_engine(engine, **(engine_options or {}))
    fallback = TemplateEngine()
    facts = {s.name: facts_for(brief, s) for s in segs}
    reqs = [CopyRequest(facts[s.name], s.name, tuple(s.values.values()) or (s.name,), seed, v,
                        screen=guard.screen(facts[s.name])) for s in segs for v in range(n)]
    notes: list[str] = []
    know = knowledge
    if know is not None:
        notes += know.notes
        hints, extra = _learned(know, segs, facts, seed, n, eng, notes, guard)
        reqs = [replace(r, hint=hints.get(r.segment, "")) for r in reqs] + extra
    drafts = eng.write(reqs)
    by_name = {s.name: s for s in segs}
    out: dict[str, list[Variant]] = {s.name: [] for s in segs}
    for i, (req, draft) in enumerate(zip(reqs, drafts)):
        seg = by_name[req.segment]
        repairs: list[dict] = []
        attempt = 0
        findings = _check_draft(draft, req, seg, brief, guard)   # checked once per draft, not once per question
        while True:
            problems = _errors(draft, findings)
            if not problems or attempt >= (retries if eng.name != "template" else 4):
                break
            attempt += 1
            repairs.append({"action": "regenerate", "problems": problems})
            draft = eng.write([replace(req, seed=req.seed + 7919 * attempt, avoid=tuple(problems))])[0]
            findings = _check_draft(draft, req, seg, brief, guard)
        if _errors(draft, findings) and eng.name != "template":
            repairs.append({"action": "template", "problems": _errors(draft, findings)})
            draft = fallback.one(req)
            draft.info["replaced"] = eng.name
            findings = _check_draft(draft, req, seg, brief, guard)
        if req.learned and _errors(draft, findings):   # an extra candidate: dropped, never shipped failing
            notes.append(f"{req.segment}: a candidate on learned wording {'/'.join(req.learned)} failed the guard "
                         "and was dropped")
            continue
        copy = _brief_wins(draft.copy, seg)
        draft.info.setdefault("category", req.facts.category)
        if req.learned:
            draft.info["learned"] = "/".join(req.learned)
        note = f"{req.segment}: {draft.info['note']}" if draft.info.get("note") else None
        if note and note not in notes:
            notes.append(note)
        out[req.segment].append(Variant(req.segment, req.variant, copy, draft.info, findings, repairs))
        if on_progress:
            on_progress(i + 1, len(reqs))
    if know is not None:
        _rank(out, know, n)
    fixed = sum(1 for vs in out.values() for v in vs if v.repairs)
    if fixed:
        notes.append(f"{fixed} variant(s) from the {eng.name} engine were repaired (numbers, limits or phrases); "
                     "see each variant's 'repairs'")
    return CopyResult(eng.describe(), out, notes)


def _rank(out: dict[str, list[Variant]], know, n: int) -> None:
    """Order each segment's variants by the knowledge file's predicted lift (guarded ones first; stable, so ties
    keep the engine's order) and keep n; record the file, its sha256 and the lift in each variant's info."""
    for seg, vs in out.items():
        lifts = [know.lift(seg, _copy_texts(v.copy)) for v in vs]
        order = sorted(range(len(vs)), key=lambda i: (not vs[i].ok, -round(lifts[i], 9)))[:n]
        ranked = []
        for rank, i in enumerate(order):
            v = vs[i]
            v.info["knowledge"] = {"path": str(know.path) if know.path else None, "sha256": know.sha256,
                                   "lift": round(lifts[i], 4), "generated_as": v.variant}
            v.variant = rank
            ranked.append(v)
        out[seg] = ranked


def _check_draft(draft: Draft, req: CopyRequest, seg: Segment, brief: Brief, guard: CopyGuard) -> list[Finding]:
    own = tuple(k for k in ("headline", "subhead", "cta") if getattr(seg.message, k))
    return [] if draft.copy is None else guard.check(_brief_wins(draft.copy, seg), req.facts, brief, own)


def _errors(draft: Draft, findings: list[Finding]) -> list[str]:
    if draft.copy is None:
        return [draft.error or "no copy"]
    return [f"{f.rule}: {f.message}" for f in findings if f.severity == "error"]
