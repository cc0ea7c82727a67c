"""`template` copy engine (embedded default): segment lexicon + channel templates from configs/lexicon/zh-CN.yaml.

Deterministic by seed; each variant starts from a different template, and each segment brings its own hooks and
needs, so segments read differently, not as one sentence with a word swapped. Every shape is tried against the
channel limits and the first that fits is kept (an SMS that fits one 70-character segment beats a longer one)."""
from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any, Callable

from pydantic import Field

from ..brief import DEFAULT_SEGMENT
from ..paths import configs_dir
from ..schema import Strict, validate
from ..yamlio import load_yaml
from .base import CallScript, Copy, CopyEngine, CopyRequest, Draft, Feed, Push, Sms


class OwnWords(Strict):
    hooks: list[str] = Field(min_length=1)
    needs: list[str] = Field(min_length=1)


class SegmentWords(Strict):
    fits: list[str] = Field(default_factory=list)   # categories its hooks suit; empty = all
    by_category: dict[str, OwnWords] = Field(default_factory=dict)   # the segment's words for another category
    match: list[str] = Field(default_factory=list)
    who: str = "您"
    cares: list[str] = Field(default_factory=list)
    hooks: list[str] = Field(min_length=1)
    needs: list[str] = Field(min_length=1)


class OfferWords(Strict):
    match: list[str] = Field(default_factory=list)
    lead: list[str] = Field(min_length=1)
    uses_perks: bool = True


class CategoryWords(Strict):
    verb: str
    noun: str
    action: str
    lead: list[str] = Field(min_length=1)
    value: list[str] = Field(min_length=1)
    hooks: list[str] = Field(default_factory=list)
    needs: list[str] = Field(default_factory=list)


class CallLines(Strict):
    opening: str
    apr: str
    refusal: str
    closing: str


class Lexicon(Strict):
    version: int = 1
    segments: dict[str, SegmentWords]
    generic: SegmentWords
    offers: dict[str, OfferWords] = Field(default_factory=dict)
    categories: dict[str, CategoryWords]
    templates: dict[str, list[str]]
    call: CallLines
    sms: dict[str, str]
    risk: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, int] = Field(default_factory=dict)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return validate(Lexicon, load_yaml(configs_dir() / "lexicon" / "zh-CN.yaml", what="lexicon"))


def resolve_segment(parts: tuple[str, ...], category: str | None = None
                    ) -> tuple[SegmentWords, str | None, OfferWords | None, list[str]]:
    """The lexicon entries for a segment's parts: (who it is, its name in the lexicon, the offer framing, parts
    that matched nothing). Among several matches, one whose `fits` includes the category wins."""
    lex = lexicon()
    seg: tuple[str, SegmentWords] | None = None
    offer: OfferWords | None = None
    unknown = []
    for part in parts:
        hit = False
        if part in lex.offers or any(k in part for o in lex.offers.values() for k in o.match):
            offer = lex.offers.get(part) or next(o for o in lex.offers.values() if any(k in part for k in o.match))
            hit = True
        if not hit and seg is None:
            if part in lex.segments:
                seg, hit = (part, lex.segments[part]), True
            else:
                found = [(n, w) for n, w in lex.segments.items() if any(k in part for k in w.match)]
                found.sort(key=lambda nw: 0 if (not nw[1].fits or category in nw[1].fits) else 1)
                if found:
                    seg, hit = found[0], True
        if not hit:
            unknown.append(part)
    return (seg[1] if seg else lex.generic), (seg[0] if seg else None), offer, unknown


def _who_short(who: str) -> str:
    return who[:-2] if who.endswith("朋友") else who


class TemplateEngine(CopyEngine):
    name = "template"

    def __init__(self, **_: Any):
        pass

    def write(self, requests: list[CopyRequest]) -> list[Draft]:
        return [self.one(r) for r in requests]

    def one(self, req: CopyRequest, sms_limit: int = 70) -> Draft:
        lex = lexicon()
        f = req.facts
        parts = tuple(p for p in (req.parts or (req.segment,)) if p != DEFAULT_SEGMENT)  # 通用: no audience
        words, seg_name, offer, unknown = resolve_segment(parts, f.category)
        cat = lex.categories.get(f.category) or lex.categories["other"]
        # a real need: the segment's own (it fits the category) or the category's — generic words are not one
        real_need = seg_name is not None
        if f.category in words.by_category:   # the segment's own words for this kind of product
            own = words.by_category[f.category]
            words = words.model_copy(update={"hooks": own.hooks, "needs": own.needs})
        elif words.fits and f.category not in words.fits:   # keep the segment's voice, not its needs
            real_need = bool(cat.needs)
            if cat.hooks:
                words = words.model_copy(update={"hooks": cat.hooks, "needs": cat.needs or words.needs})
        words, real_need = for_purpose(words, cat, lex.generic, req.screen, real_need)
        limits = lex.limits
        # seeded by segment, not variant: variant k takes the k-th next choice, so variants differ
        rng = random.Random(f"{req.seed}|{req.segment}")
        pick = lambda items: items[(rng.randrange(len(items)) + req.variant) % len(items)]  # noqa: E731
        uses_perks = offer.uses_perks if offer else True
        perks = list(f.perks) if uses_perks else []
        who = words.who
        if seg_name is None and unknown:   # a segment the lexicon does not know: still address them by name
            who = unknown[0] + "朋友"
        hook = pick(words.hooks)   # the segment's own line, in sentences
        if req.learned:   # a candidate built on wording the click data favoured (knowledge file)
            hook = learned_hook(req.learned, words.hooks, limits.get("headline", 14)) or hook
        title = f.headline if f.headline and len(f.headline) <= limits.get("push_title", 20) else hook
        slots = {
            "who": who, "who_short": _who_short(who),
            "greet": "您好" if who == "您" else who + "您好", "hook": hook, "title": title,
            "need": pick(words.needs), "value": pick(cat.value),
            "lead": pick(offer.lead) if offer and uses_perks else pick(cat.lead),
            "product": f.product, "brand": f.brand, "provider": f.provider, "noun": cat.noun,
            "apr": f"，{f.apr_phrase}" if f.apr_phrase else "", "apr_plain": f.apr_phrase or "",
            "perks": ("、".join(perks) + "，") if perks else "",
            "perk1": (perks[0] + "，") if perks else "",
            "perks_sentence": ("、".join(perks) + "。") if perks else "",
            "action": cat.action, "disclaimer": (f.disclaimer + "。") if f.disclaimer else "",
        }
        start = rng.randrange(1 << 16) + req.variant

        # the slots that make a segment's copy its own ({hook} only when it is the segment's, not the brief's)
        personal = ("{need}", "{greet}", "{who}", "{who_short}", "{hook}", "{lead}")
        sentence = ("sms", "call_value", "feed_description", "push_body")

        def fill(field: str, limit: int | None, **extra) -> str:
            shapes = lex.templates[field]
            texts = []
            for t in shapes:
                text = _tidy(t.format(**{**slots, **extra}))
                if field in sentence:   # a headline's space reads as a pause inside a sentence: a comma
                    text = _tidy(text.replace(" ", "，"))
                texts.append((text, any(p in t for p in personal)))
            fit = [t for t, _ in texts if (limit is None or len(t) <= limit) and not _repeats(t)]
            own = [t for t, mine in texts if mine and t in fit]   # the segment's own words first
            pool = own or fit
            return pool[start % len(pool)] if pool else min((t for t, _ in texts), key=len)

        headline = slots["hook"]
        if len(headline) > limits.get("headline", 14):
            headline = min(words.hooks, key=len)
        opt_out = lex.sms.get("opt_out", "拒收请回复R")
        risk = lex.risk.get(f.category, "")
        if risk:   # wealth: the risk phrase travels with every SMS (FIN-RISK), ahead of the opt-out
            opt_out = risk + "。" + opt_out
        frame = len(f.brand) + 2 + len(opt_out)
        body = fill("sms", sms_limit - frame)
        if len(body) + frame > sms_limit and perks:   # one segment is worth more than the perk list
            body = fill("sms", sms_limit - frame, perk1="")
        if risk and not any(p in body for p in (slots["hook"].replace(" ", "，"), slots["need"], slots["greet"])):
            # only the bare shape fitted one segment (a wealth SMS carries the risk phrase): two segments of the
            # segment's own words beat one that reads the same for everybody
            longer = fill("sms", 2 * 67 - frame, perk1="")
            if any(p in longer for p in (slots["hook"].replace(" ", "，"), slots["need"], slots["greet"])):
                body = longer
        # a subhead says the segment's real need (or the brief's fact the template names), or nothing at all
        subhead = fill("subhead", limits.get("subhead")) if real_need else ""
        if subhead and (_repeats(subhead, words=True) or subhead == headline):
            subhead = ""
        copy = Copy(
            headline=headline,
            subhead=subhead,
            cta=f.cta,
            perks=perks,
            sms=Sms(signature=f.brand, body=body, opt_out=opt_out),
            call_script=CallScript(
                opening=lex.call.opening.format(**slots),
                value=fill("call_value", None),
                apr=lex.call.apr.format(**{**slots, "disclaimer": f.disclaimer or "以实际办理为准"})
                if f.apr_phrase else "",
                refusal=lex.call.refusal.format(**slots),
                closing=lex.call.closing.format(**slots)),
            push=Push(title=title if f.headline and title == f.headline else fill("push_title", limits.get("push_title")),
                      body=_with_risk(fill("push_body", limits.get("push_body") - (len(risk) + 1 if risk else 0)),
                                      risk)),
            feed=Feed(title=fill("feed_title", limits.get("feed_title")),
                      description=fill("feed_description", limits.get("feed_description"))),
        )
        info: dict[str, Any] = {"engine": "template", "seed": req.seed, "variant": req.variant,
                                "lexicon_segment": seg_name}
        if unknown:
            info["note"] = ("not in the lexicon: " + "、".join(unknown)
                            + " — generic wording used (add them to configs/lexicon/zh-CN.yaml)")
        return Draft(copy, info)


def learned_hook(learned: tuple[str, ...], hooks: list[str], limit: int) -> str | None:
    """A hook that carries learned wording: one of the segment's hooks that already has all of it, else the
    wording itself with the second half of a hook ('随借随还 不误农时'), within the headline limit."""
    own = [h for h in hooks if all(w in h for w in learned)]
    if own:
        return own[0]
    phrase = "".join(learned)
    if len(phrase) > limit:
        return None
    for h in hooks:
        parts = h.split()
        tail = parts[-1] if len(parts) > 1 else ""
        text = f"{phrase} {tail}" if tail and not any(w in tail for w in learned) else phrase
        if len(text) <= limit and not _repeats(text):
            return text
    return phrase


def for_purpose(words: SegmentWords, cat: CategoryWords, generic: SegmentWords,
                screen: Callable[[str], bool] | None, real_need: bool) -> tuple[SegmentWords, bool]:
    """The segment's hooks and needs without those that steer the product to a use it may not fund (FIN-PURPOSE:
    新市民's 租房安家 for a business loan, 创业起步的资金 for a card): the lines `screen` (the request's, from the
    writer's guard) refuses. Emptied lists fall back to the category's words, then the generic ones; needs that fell
    back to generic ones are no real need."""
    if screen is None:   # no purpose rule applies to this product
        return words, real_need
    ok = lambda lines: [x for x in lines if not screen(x)]  # noqa: E731
    hooks = ok(words.hooks) or ok(cat.hooks) or ok(generic.hooks) or generic.hooks
    needs = ok(words.needs)
    if not needs:
        needs, real_need = (ok(cat.needs), True) if ok(cat.needs) else (ok(generic.needs) or generic.needs, False)
    return words.model_copy(update={"hooks": hooks, "needs": needs}), real_need


def _with_risk(text: str, risk: str) -> str:
    return f"{text.rstrip('。')}。{risk}" if risk and risk not in text else text


def _repeats(text: str, words: bool = False) -> bool:
    """The same phrase twice ('线上申请，线上申请 审批便捷'): a slot echoed another. `words`: also the same
    two-character word in two of the parts ('手机银行 线上可办，线上申请' says 线上 twice)."""
    parts = [p for p in re.split(r"[，。：！、\s｜]", text) if len(p) >= 2]
    if len(parts) != len(set(parts)):
        return True
    if words:
        seen: dict[str, int] = {}
        for i, p in enumerate(parts):
            for j in range(len(p) - 1):
                w = p[j:j + 2]
                if re.fullmatch(r"[\u4e00-\u9fa5]{2}", w) and seen.setdefault(w, i) != i:
                    return True
    return False


def _tidy(text: str) -> str:
    """Punctuation left over by empty slots: '，。' → '。', doubled commas, a leading comma."""
    for a, b in (("，。", "。"), ("，，", "，"), ("。。", "。"), ("，！", "！"), ("：，", "："), ("！，", "！")):
        text = text.replace(a, b)
    return text.lstrip("，。")
