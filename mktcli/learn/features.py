"""Copy features of one creative, from its exact strings: what `mkt learn distill` attributes clicks to.

Feature names are readable strings, one kind per prefix:

  phrase:补栏      a word of ≥ 2 characters (jieba segmentation) from the headline, subhead, CTA, SMS / push / feed
                   bodies and the call's value pitch — never from boilerplate every creative carries (provider,
                   disclaimer, AI label, brand, the rate sentence, SMS signature and opt-out, the call's opening,
                   refusal and closing), and never a number (figures are the brief's, not wording)
  perk:首期利息8折  each perk string as it is (perk1, perk2 … or perks[0] …)
  rate:起 | rate:range | rate:fixed | rate:none
                   how the rate is framed: 起 / 低至 ("from"), a range (3.2%-7.2%), one figure, or no rate shown
  tone:question    a ？ in the wording;  tone:exclaim: a ！;  tone:imperative: the CTA or headline opens with an
                   action verb (立即, 马上, 快来, 点击, 申请, 办理 …);  tone:address: it speaks to the reader (您, 朋友)
  len:short | len:medium | len:long
                   the headline's length without spaces: ≤ 8, 9–12, ≥ 13 characters

Segmentation: jieba (MIT; its dictionary ships with the package, nothing is downloaded), with the lexicon's
`cares` words and the literal terms of the compliance rules added, so 补栏 or 稳赚 come out as one word. A single
character left between words is glued to its neighbour (随借/随/还 → 随借随还), so a phrase is never cut into
pieces that mean nothing alone. Words that always appear together across a click log are merged later, by distill.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Iterable

from ..wording import wording as _vocab
from ..checks.rules import load_rules
from ..copywriting.template import lexicon
from ..errors import EngineError

# keys whose text every creative carries whatever its wording (the last part of a dotted key, without digits)
BOILERPLATE_KEYS = frozenset({"provider", "disclaimer", "apr", "ai_label", "brand", "signature", "opt_out",
                              "opening", "refusal", "closing", "label", "legal"})
PERK_KEY = re.compile(r"^perks?(\d+|\[\d+\])?$")
_RATE = re.compile(r"(年化)?(利率|收益率|业绩比较基准)[^，。！？\n]{0,24}?\d+(?:\.\d+)?%(?:\s*[-~～–—至]\s*\d+(?:\.\d+)?%)?"
                   r"(?:（单利）|\(单利\))?起?")
_RANGE = re.compile(r"\d+(?:\.\d+)?%?\s*[-~～–—至]\s*\d+(?:\.\d+)?%")
_NUMBER = re.compile(r"[0-9０-９]+(?:[.．][0-9０-９]+)?\s*(%|‰|万元|万|元|期|个月|月|天|日|年|倍|折|岁|小时|分钟|秒)?")
_SIGNATURE = re.compile(r"【[^】]{0,20}】")
_OPT_OUT = re.compile(r"拒收请回复R|回T退订|退订回T|拒收请回复|理财非存款，产品有风险，投资须谨慎|本产品由[^。\n]{0,40}提供")
_SPLIT = re.compile(r"[\s，。！？、：；,.!?:;（）()【】「」《》“”\"'…—\-｜|/]+")
_CJK = re.compile(r"[\u4e00-\u9fa5]")


@lru_cache(maxsize=1)
def _particles() -> frozenset[str]:
    return frozenset(_vocab().learn.particles)


def _key(k: str) -> str:
    return re.sub(r"\[\d+\]|\d+$", "", k.split(".")[-1])


def _as_text(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "，".join(str(x) for x in v)
    return "" if v is None else str(v)


def split_texts(texts: dict[str, Any], channel: str | None = None) -> tuple[list[str], list[str], str, str]:
    """(wording texts, perks, the rate text, the headline) of one creative. `channel` only says how to read the
    keys: a text channel's `body` is the message itself, its other keys are the compliance frame."""
    words: list[str] = []
    perks: list[str] = []
    rate = ""
    headline = ""
    boiler: list[str] = []
    for k, v in texts.items():
        key, text = _key(str(k)), _as_text(v).strip()
        if not text:
            continue
        if PERK_KEY.match(str(k).split(".")[-1]) or key == "perks":
            perks += [p.strip() for p in (v if isinstance(v, (list, tuple)) else [text]) if str(p).strip()]
        elif key == "apr":
            rate = text
        elif key in BOILERPLATE_KEYS:
            boiler.append(text)
        else:
            if key == "headline":
                headline = text
            words.append(text)
    if not rate:   # a text creative carries its rate inside the wording
        m = next((m for m in (_RATE.search(t) for t in words) if m), None)
        rate = m.group(0) if m else ""
    clean = []
    for t in words:
        for b in sorted((*boiler, *perks), key=len, reverse=True):   # boilerplate and perks are not wording
            if len(b) >= 2:
                t = t.replace(b, " ")
        t = _RATE.sub(" ", t)
        t = _SIGNATURE.sub(" ", t)
        t = _OPT_OUT.sub(" ", t)
        clean.append(t)
    return clean, perks, rate, headline


@lru_cache(maxsize=1)
def _tokenizer():
    try:
        import jieba
    except ImportError:   # a core dependency; an old install may lack it
        raise EngineError("learning from clicks needs jieba (Chinese word segmentation)",
                          "pip install 'jieba>=0.42'") from None
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.initialize()
    for w in _extra_words():
        tk.add_word(w)
    return tk


def _extra_words() -> list[str]:
    """The lexicon's `cares` words and the literal terms of the compliance rules (稳赚, 秒批, 随借随还 …)."""
    out: list[str] = []
    try:
        lex = lexicon()
        for s in (*lex.segments.values(), lex.generic):
            out += s.cares
    except Exception:  # noqa: BLE001 — a broken lexicon is reported where it is used; segmentation still works
        pass
    try:
        for r in load_rules().rules.values():
            if r.kind == "pattern" and r.pattern:
                out += [a for a in r.pattern.split("|") if re.fullmatch(r"[\u4e00-\u9fa5]{2,6}", a)]
    except Exception:  # noqa: BLE001
        pass
    return [*dict.fromkeys(out), *_vocab().learn.words]


def words(text: str) -> list[str]:
    """Words of ≥ 2 characters with at least one Chinese character, in reading order (numbers removed)."""
    tk = _tokenizer()
    particles = _particles()
    out: list[str] = []
    for chunk in _SPLIT.split(_NUMBER.sub(" ", text)):
        if not chunk:
            continue
        toks = [t for t in tk.lcut(chunk, HMM=True) if t.strip()]
        glued: list[str] = []
        carry = ""
        for t in toks:   # a lone character joins its neighbour: 随借/随/还 → 随借随还, 心里/不/慌 → 心里不慌
            if t in particles:   # 的, 和 … end a phrase rather than join it
                glued.append("")
                carry = ""
            elif len(t) == 1 and glued and glued[-1]:
                glued[-1] += t
            elif len(t) == 1:
                carry += t
            else:
                glued.append(carry + t)
                carry = ""
        if carry:
            glued.append(carry)
        out += [g for g in glued if len(g) >= 2 and _CJK.search(g)]
    return out


def rate_framing(rate: str) -> str:
    if not rate:
        return "rate:none"
    if "起" in rate or "低至" in rate:
        return "rate:起"
    if _RANGE.search(rate):
        return "rate:range"
    return "rate:fixed"


def length_bucket(headline: str) -> str:
    n = len(re.sub(r"\s", "", headline))
    return "len:short" if n <= 8 else ("len:medium" if n <= 12 else "len:long")


def tones(wording: Iterable[str], texts: dict[str, Any]) -> set[str]:
    joined = "\n".join(wording)
    out: set[str] = set()
    if "？" in joined or "?" in joined:
        out.add("tone:question")
    if "！" in joined or "!" in joined:
        out.add("tone:exclaim")
    leads = [_as_text(v).strip() for k, v in texts.items() if _key(str(k)) in ("cta", "headline", "title")]
    if any(t.startswith(tuple(_vocab().learn.imperative)) for t in leads if t):
        out.add("tone:imperative")
    if any(a in joined for a in _vocab().learn.address):
        out.add("tone:address")
    return out


def features(texts: dict[str, Any], channel: str | None = None) -> set[str]:
    """The copy features of one creative from its exact strings (manifest `texts`, or a Copy's fields)."""
    wording, perks, rate, headline = split_texts(texts, channel)
    out = {f"phrase:{w}" for t in wording for w in words(t)}
    out |= {f"perk:{p}" for p in perks}
    out.add(rate_framing(rate))
    out |= tones(wording, texts)
    if headline:
        out.add(length_bucket(headline))
    return out


def look_features(look: dict[str, Any] | None) -> set[str]:
    """How a poster looks, from its manifest's engines.layout: the layout family (hero, split, editorial, card) and
    the hero's plate — so distill and report can tell which look works for which segment (mkt poster --variants)."""
    if not look:
        return set()
    out = {f"layout:{look['family']}"} if look.get("family") else set()
    if look.get("hero"):
        out.add(f"plate:{look['hero']}")
    for key in ("object", "stage", "theme"):   # the key visual: its hero object, stage and theme
        if look.get(key):
            out.add(f"{key}:{look[key]}")
    return out


def wording_text(texts: dict[str, Any], channel: str | None = None) -> str:
    """The creative's wording (boilerplate, perks and rate removed) as one string: where a learned phrase is
    looked for by substring, whatever the segmentation made of it."""
    return "\n".join(split_texts(texts, channel)[0])
