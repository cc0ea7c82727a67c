"""`mkt quick`: one Chinese sentence → a valid v1 brief, then (by default) the whole bundle and its zip.

Rules read the facts — product category, rate, amounts, perks, segments, channels — with regular expressions and
the word lists in configs/quick.yaml and the segment lexicon. Only what the sentence states goes into the brief:
a rate or an amount is never invented. What a loan or credit-card poster must show and the sentence lacks (the
annualized rate) is an error that says what to add, not a placeholder (the brief schema refuses a loan without a
rate, so a placeholder could only be a made-up figure). A chat model (`engine="llm"`) may fill the creative gaps
(headline, subhead, key-visual scene); the rule facts always win over it."""
from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .brand import load_brand
from .brief import load_brief
from .channels import load_channels
from .copywriting.llm import LlmEngine
from .copywriting.template import lexicon
from .errors import BriefError, BriefErrors, MktError
from .export.bundle import export_zip
from .export.files import atomic_write
from .paths import configs_dir
from .wording import rate_label_pattern
from .yamlio import load_yaml

_NUM = r"\d+(?:\.\d+)?"
_CN_NUM = "零〇一二两三四五六七八九十百千"
_RATE_LEAD = f"(?:{rate_label_pattern()})"   # configs/wording.yaml
_RATE_RANGE = re.compile(rf"(?:{_RATE_LEAD}\s*(?:为|是|:)?\s*)?(?:低至)?({_NUM})\s*%?\s*(?:-|~|–|—|至|到)\s*({_NUM})\s*%")
_RATE_ONE = re.compile(rf"{_RATE_LEAD}\s*(?:为|是|:|仅|只要)?\s*(低至)?\s*({_NUM})\s*%\s*(起)?")
_RATE_BARE_FROM = re.compile(rf"(低至)?({_NUM})\s*%\s*起")          # 3.2%起 without a label
_RATE_NOT_ANNUAL = re.compile(rf"(日|月)(?:利率|息|费率)\s*(?:低至)?\s*({_NUM})")
_RATE_LI = re.compile(rf"({_NUM}|[{_CN_NUM}]+)\s*厘")
_AMOUNT_NUM = rf"(?:{_NUM}|[{_CN_NUM}]+)"
_AMOUNT_UNIT = r"(?:(?:百万|万|千|亿)元?|元)"
_AMOUNT_ONE = rf"{_AMOUNT_NUM}\s*{_AMOUNT_UNIT}"
_AMOUNT = re.compile(
    rf"(?:额度最高|最高额度|最高可借|最高可贷|最高可达|额度高达|授信额度|最高|可借|可贷|额度|授信|高达)\s*(?:可达|为|达)?\s*"
    rf"{_AMOUNT_ONE}(?:\s*(?:-|~|至|到)\s*{_AMOUNT_ONE})?"
    rf"|{_AMOUNT_NUM}\s*(?:万|千)元?(?:额度|授信)")
_QUOTED = re.compile(r"[「“\"《『]([^」”\"》』]{1,40})[」”\"》』]")
_HEADLINE_LEAD = re.compile(r"(?:主标题|标题|主题)\s*(?:是|为|:)?\s*$")
_SEGMENT_SPLIT = re.compile(r"[，。,.;；、:\s/]|和|与|及|跟|或|以及|还有|给|做|发|面向|针对|的|一张|一条|一份")
_CLAUSES = re.compile(r"[，。,;；!！?？\n]+")


@dataclass
class Parsed:
    """What the rules read from one sentence, and what they could not place. Figures and perks are read from the
    NFKC-normalised text (full-width ３.２％ → 3.2%); `sentence` is the user's own, for the brief's header."""

    sentence: str
    category: str = "other"
    product: str | None = None        # a quoted name; else the category's generic name
    headline: str | None = None       # a quoted 标题「…」
    apr: str | None = None            # '3.2%' or '3.2%-7.2%', as the brief's offer.apr
    apr_from: bool | None = None      # 起 / 低至 written (None for a range)
    perks: list[str] = field(default_factory=list)      # exactly as written: 最高可借30万, 首期利息8折 …
    segments: list[str] = field(default_factory=list)   # lexicon names: 种粮大户 → 种植户
    offers: list[str] = field(default_factory=list)     # 有优惠 / 无优惠, when both are asked for
    channels: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)    # clauses nothing was read from
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    path = configs_dir() / "quick.yaml"
    data = load_yaml(path, what="quick-sentence words").data
    if not isinstance(data, dict) or not {"categories", "channels", "perks", "default_posters"} <= set(data):
        raise BriefError("expected categories, channels, perks and default_posters", file=path, line=1)
    return data


class _Reader:
    """The normalised sentence and which of its characters some rule has read (for the 'not understood' list)."""

    def __init__(self, sentence: str):
        self.text = unicodedata.normalize("NFKC", sentence).strip()
        self.lower = self.text.lower()
        self.used = [False] * len(self.text)

    def take(self, start: int, end: int) -> None:
        self.used[start:end] = [True] * (end - start)

    def free(self, start: int, end: int) -> bool:
        return not any(self.used[start:end])

    def blanked(self) -> str:
        """The sentence with read spans replaced by a separator, so 首次 inside a perk is not read as a segment."""
        return "".join("，" if u else c for c, u in zip(self.text, self.used))


def parse_sentence(sentence: str, channel_presets: dict | None = None) -> Parsed:
    """Read the facts of a one-sentence request. Raises BriefError (key SENTENCE) for what must not be guessed:
    an empty sentence, two different rates, a daily/monthly rate or a 厘 figure."""
    r = _Reader(sentence)
    if not r.text:
        raise BriefError("the sentence is empty", key="SENTENCE",
                         hint='e.g. mkt quick "给养殖户做一张贷款海报，年化利率3.2%起，最高可借30万"')
    p = Parsed(sentence=sentence.strip())
    _read_quotes(r, p)
    _read_rate(r, p)
    _read_perks(r, p)
    _read_channels(r, p, channel_presets)
    _read_category(r, p)
    _read_segments(r, p)
    p.ignored = [c.strip() for c in _clauses(r) if c.strip()]
    return p


def _read_quotes(r: _Reader, p: Parsed) -> None:
    """A quoted text after 标题 is the headline; the first other quoted text names the product."""
    for m in _QUOTED.finditer(r.text):
        lead = _HEADLINE_LEAD.search(r.text[:m.start()])
        if lead and p.headline is None:
            p.headline = m.group(1).strip()
            r.take(lead.start(), m.end())
        elif p.product is None:
            p.product = m.group(1).strip()
            r.take(m.start(), m.end())


def _not_a_rate(msg: str, hint: str) -> BriefError:
    return BriefError(msg, key="SENTENCE", hint=hint)


def _read_rate(r: _Reader, p: Parsed) -> None:
    t = r.text
    m = _RATE_NOT_ANNUAL.search(t)
    if m:
        raise _not_a_rate(f"'{m.group(0)}' is a {'daily' if m.group(1) == '日' else 'monthly'} rate; a poster must "
                          "show the annualized rate", "write the annualized rate in the sentence, e.g. 年化利率3.2%起")
    m = _RATE_LI.search(t)
    if m:
        raise _not_a_rate(f"'{m.group(0)}' is ambiguous (厘 is used for monthly and for annual rates)",
                          "write the annualized rate with a percent sign, e.g. 年化利率3.2%起")
    found: list[tuple[int, int, str, bool | None]] = []
    for m in _RATE_RANGE.finditer(t):
        found.append((m.start(), m.end(), f"{m.group(1)}%-{m.group(2)}%", None))
    for rx in (_RATE_ONE, _RATE_BARE_FROM):
        for m in rx.finditer(t):
            if all(m.end() <= s or m.start() >= e for s, e, _, _ in found):
                figure = m.group(2)
                found.append((m.start(), m.end(), f"{figure}%", bool(m.group(1)) or m.group(0).rstrip().endswith("起")))
    rates = {apr for _, _, apr, _ in found}
    if len(rates) > 1:
        raise _not_a_rate("the sentence gives several rates: " + ", ".join(sorted(rates)),
                          "give one rate (年化利率3.2%起) or one range (年化利率3.2%-7.2%)")
    for start, end, apr, from_ in sorted(found):
        r.take(start, end)
        p.apr, p.apr_from = apr, from_


def _read_perks(r: _Reader, p: Parsed) -> None:
    """Amounts (最高可借30万, 额度最高50万元, 5千) and the configured perk phrases, as written, in sentence order."""
    spans: list[tuple[int, int]] = [(m.start(), m.end()) for m in _AMOUNT.finditer(r.text)]
    for pattern in vocabulary()["perks"]:
        spans += [(m.start(), m.end()) for m in re.finditer(pattern, r.text, flags=re.I) if m.end() > m.start()]
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):   # at one place, the longest phrase wins
        if r.free(start, end):
            r.take(start, end)
            p.perks.append(r.text[start:end].strip())


def _first(text: str, words: list[str]) -> int | None:
    hits = [text.find(w.lower()) for w in words]
    hits = [h for h in hits if h >= 0]
    return min(hits) if hits else None


def _take_words(r: _Reader, words: list[str]) -> None:
    for w in words:
        for m in re.finditer(re.escape(w.lower()), r.lower):
            r.take(m.start(), m.end())


def _read_channels(r: _Reader, p: Parsed, presets: dict | None) -> None:
    voc = vocabulary()
    words: dict[str, list[str]] = {ch: list(ws) for ch, ws in voc["channels"].items()}
    for name in presets or {}:
        words.setdefault(name, []).append(name)
    hits = sorted((pos, ch) for ch, ws in words.items() if (pos := _first(r.lower, ws)) is not None)
    for _, ch in hits:
        if ch not in p.channels:
            p.channels.append(ch)
        _take_words(r, words[ch])
    asked_posters = _first(r.lower, voc["poster_words"]) is not None
    _take_words(r, voc["poster_words"])
    named_image = [c for c in p.channels if presets is None or (c in presets and presets[c].is_image)]
    if not named_image and (asked_posters or not p.channels):
        p.channels = list(voc["default_posters"]) + p.channels


def _read_category(r: _Reader, p: Parsed) -> None:
    cats = vocabulary()["categories"]
    for strength in ("strong", "weak"):
        hits = sorted((pos, cat) for cat, ws in cats[strength].items() if (pos := _first(r.lower, ws)) is not None)
        if hits:
            p.category = hits[0][1]
            _take_words(r, cats[strength][p.category])
            break
    else:
        p.notes.append("no product type in the sentence (贷款, 信用卡, 存款, 理财, 保险 …): category 'other'")
    if p.product is None:
        p.product = vocabulary().get("product_names", {}).get(p.category, "金融服务")


def _read_segments(r: _Reader, p: Parsed) -> None:
    """One lexicon segment per phrase (its earliest keyword: 养殖大户 is 养殖户, not also 种植户 for 大户), plus any
    further exact segment names; 有优惠 and 无优惠 together become a coupon dimension."""
    lex = lexicon()
    text = r.blanked()
    keywords = [(name, w) for name, seg in lex.segments.items() for w in [name, *seg.match]]
    pos = 0
    for phrase in _SEGMENT_SPLIT.split(text):
        start = text.find(phrase, pos) if phrase else pos
        pos = start + len(phrase)
        hits = sorted((phrase.find(w), -len(w), name, w) for name, w in keywords if w and w in phrase)
        for i, (at, neg_len, name, w) in enumerate(hits):
            if i > 0 and w != name:      # after the first, only a segment's own name counts in the same phrase
                continue
            if name not in p.segments:
                p.segments.append(name)
            r.take(start + at, start + at - neg_len)
    offers = [o for o in lex.offers if o in r.text]
    if len(offers) > 1:
        p.offers = offers
        _take_words(r, offers)


def _clauses(r: _Reader) -> list[str]:
    """Clauses of which no character was read by any rule: said back to the user as not understood."""
    out, pos = [], 0
    for clause in _CLAUSES.split(r.text):
        start = r.text.find(clause, pos)
        pos = start + len(clause)
        meaningful = re.sub(r"[给做一张条份帮我请要个的\s]", "", clause)
        if meaningful and r.free(start, start + len(clause)):
            out.append(clause)
    return out


# ------------------------------------------------------------------------------------------------ the brief

def sentence_name(sentence: str, category: str) -> str:
    """quick-<category>-<8 hex of the sentence>: ascii, deterministic, the same sentence gives the same name."""
    digest = hashlib.sha256(unicodedata.normalize("NFKC", sentence).strip().encode("utf-8")).hexdigest()
    return f"quick-{category.replace('_', '-')}-{digest[:8]}"


def resolve_provider(given: str | None) -> str:
    """--provider, else $MKT_PROVIDER, else the default brand's `provider` when it has one (exit 2 otherwise)."""
    if given and given.strip():
        return given.strip()
    env = os.environ.get("MKT_PROVIDER", "").strip()
    if env:
        return env
    try:
        brand_provider = getattr(load_brand("default"), "provider", None)
    except MktError:
        brand_provider = None
    if brand_provider:
        return str(brand_provider)
    raise BriefError("the brief needs the lender's legal name (shown as 本产品由…提供), and none was given",
                     key="--provider", hint="pass --provider 示例农村商业银行股份有限公司, or set MKT_PROVIDER")


def brief_data(p: Parsed, provider: str, *, channels: list[str] | None = None, engine: str = "template",
               model: str | None = None, filled: dict[str, str] | None = None) -> dict[str, Any]:
    """The brief as a mapping, keys in the contract's order; `filled` (the model's headline/subhead/scene) only
    fills what the sentence left open."""
    filled = filled or {}
    name = sentence_name(p.sentence, p.category)
    offer: dict[str, Any] = {}
    if p.apr:
        offer["apr"] = p.apr
        if p.apr_from is not None:
            offer["apr_from"] = p.apr_from     # 起 only when the sentence says 起 / 低至
    if p.perks:
        offer["perks"] = p.perks[:6]
    data: dict[str, Any] = {"version": 1, "name": name, "brand": "default",
                            "product": {"name": p.product, "category": p.category, "provider": provider}}
    if offer:
        data["offer"] = offer
    if len(p.segments) == 1 and not p.offers:
        data["audience"] = {"segments": list(p.segments)}
    elif p.segments or p.offers:
        dims = {"segment": list(p.segments)} if p.segments else {}
        data["audience"] = {"dimensions": dims | ({"coupon": list(p.offers)} if p.offers else {})}
    message = {"headline": p.headline or filled.get("headline"), "subhead": filled.get("subhead")}
    if any(message.values()):
        data["message"] = {k: v for k, v in message.items() if v}
    seed = int(name.rsplit("-", 1)[-1], 16) % 10000
    data["visual"] = {"engine": "auto", **({"scene": filled["scene"]} if filled.get("scene") else {}), "seed": seed}
    if engine != "template":
        data["copy"] = {"engine": engine, **({"model": model} if model else {})}
    data["channels"] = list(channels or p.channels)
    return data


def brief_text(p: Parsed, data: dict[str, Any], notes: list[str]) -> str:
    """The brief as YAML with a header saying where it came from and what was not understood."""
    import yaml

    head = ["# Made by `mkt quick` from the sentence:", f"#   {p.sentence}"]
    if not data.get("message", {}).get("headline"):
        head.append("# No headline in the sentence: the copy engine writes one per segment.")
    if p.ignored:
        head.append("# Not understood (add it by hand): " + " / ".join(p.ignored))
    head += [f"# Note: {n}" for n in notes]
    head.append("# Edit freely, then render again with: mkt poster <this file>")
    body = yaml.dump(data, Dumper=_brief_dumper(), allow_unicode=True, sort_keys=False, width=110)
    return "\n".join(head) + "\n" + body


def _brief_dumper():
    """Mappings as blocks, lists on one line, rates in quotes: the shape of the examples a user has seen."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(list, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
    Dumper.add_representer(str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v,
                                                                style='"' if "%" in v else None))
    return Dumper


def check_parsed(p: Parsed) -> None:
    """What the brief must have and the sentence lacks: say what to add (exit 2)."""
    if p.category in ("loan", "credit_card") and not p.apr:
        what = "loan" if p.category == "loan" else "credit-card"
        raise BriefError(f"a {what} poster must show the annualized rate, and the sentence gives none",
                         key="SENTENCE", hint="add it to the sentence in digits, e.g. …，年化利率3.2%起 "
                         "(or a range 年化利率3.2%-7.2%); mkt never makes a rate up")


def validate_text(text: str, name: str, channel_files: list | None = None):
    """Load the YAML through the brief schema (in a temp folder): an error names the sentence, not a temp file."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mkt-quick-") as tmp:
        path = Path(tmp) / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_brief(path, channel_files=channel_files)
        except (BriefError, BriefErrors) as e:
            first = e.errors[0] if isinstance(e, BriefErrors) else e
            raise BriefError(f"the sentence gives {first.key or 'the brief'}: {first.message}", key="SENTENCE",
                             hint=first.hint) from None


def write_brief_file(text: str, path: Path, force: bool = False) -> Path:
    """Write atomically; an existing different file is kept unless `force` (the same text is fine: a re-run)."""
    path = Path(path)
    if path.is_dir():
        raise BriefError(f"{path} is a folder", key="--brief-out", hint=f"give a file name, e.g. {path / 'brief.yaml'}")
    if path.exists() and not force:
        if path.read_bytes() != text.encode("utf-8"):
            raise BriefError(f"{path} exists and differs from the new brief", key="--brief-out",
                             hint="pass --force to replace it, or --brief-out another.yaml")
    atomic_write(path, text.encode("utf-8"))
    return path


# ------------------------------------------------------------------------------------------------ the model

MODEL_FIELDS = {"headline": "海报主标题，8-14个字，可用一个空格分成两半，不含数字",
                "subhead": "副标题，不超过16个字，不含数字",
                "scene": "主视觉画面描述（写实摄影的场景，不含任何文字和数字），不超过30个字"}
MODEL_SYSTEM = ("你是一家银行的营销策划助手。根据一句话需求，为海报简报补充创意字段。不编造任何数字、利率、额度或期限；"
                "不使用“最”“第一”“唯一”“保本”“稳赚”“秒批”“包过”等词。只输出一个JSON对象，不要输出其他内容。")


def model_messages(p: Parsed) -> list[dict[str, str]]:
    facts = [f"需求：{p.sentence}", f"产品类别：{p.category}；产品：{p.product}"]
    if p.segments:
        facts.append("目标客群：" + "、".join(p.segments))
    if p.perks:
        facts.append("卖点：" + "、".join(p.perks))
    schema = "{" + ", ".join(f'"{k}": "{v}"' for k, v in MODEL_FIELDS.items()) + "}"
    facts.append(f"请输出JSON，键和要求如下：{schema}")
    return [{"role": "system", "content": MODEL_SYSTEM}, {"role": "user", "content": "\n".join(facts)}]


def ask_model(p: Parsed, model: str | None, device: str | None = None) -> tuple[dict[str, str], list[str]]:
    """The chat model's headline / subhead / scene (loaded by the llm copy engine's loader), each kept only when it
    is text without digits — numbers come from the sentence alone. Returns (fields, notes)."""
    import json

    eng = LlmEngine(model=model, device=device, temperature=0)
    tok, lm = eng.load()
    import torch

    prompt = tok.apply_chat_template(model_messages(p), tokenize=False, add_generation_prompt=True,
                                     enable_thinking=False)
    enc = tok(prompt, return_tensors="pt", add_special_tokens=False).to(eng.device)
    with torch.inference_mode():
        gen = lm.generate(**enc, max_new_tokens=160, do_sample=False, pad_token_id=tok.pad_token_id)
    answer = tok.decode(gen[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    answer = re.sub(r"<think>.*?</think>", "", answer, flags=re.S)
    try:
        obj = json.JSONDecoder().raw_decode(answer[answer.index("{"):])[0]
    except ValueError:
        return {}, [f"the model ({eng.model_id}) gave no usable JSON; the brief has the rules' facts only"]
    fields, notes = {}, []
    for key in MODEL_FIELDS:
        value = obj.get(key) if isinstance(obj, dict) else None
        if not isinstance(value, str) or not value.strip():
            continue
        if re.search(r"[\d%％]", unicodedata.normalize("NFKC", value)):
            notes.append(f"the model's {key} '{value.strip()}' has a number in it; left out (numbers come only "
                         "from the sentence)")
            continue
        fields[key] = value.strip()
    return fields, notes


# ------------------------------------------------------------------------------------------------ the run

@dataclass
class QuickResult:
    parsed: Parsed
    brief_path: Path
    text: str
    notes: list[str] = field(default_factory=list)
    bundle: Any = None          # poster.BundleResult when the bundle was rendered
    zip_path: Path | None = None


def make_brief(sentence: str, *, provider: str | None = None, channels: list[str] | None = None,
               channel_files: list | None = None, engine: str = "template", model: str | None = None,
               device: str | None = None) -> tuple[Parsed, str, list[str]]:
    """(what was read, the brief's YAML text, notes) — validated through the brief schema, nothing written."""
    presets = load_channels(channel_files)
    p = parse_sentence(sentence, presets)
    check_parsed(p)
    who = resolve_provider(provider)
    notes = list(p.notes)
    if len(p.perks) > 6:
        notes.append("more than 6 perks: kept the first 6 (" + "、".join(p.perks[6:]) + " left out)")
    filled: dict[str, str] = {}
    if engine == "llm":
        filled, said = ask_model(p, model, device)
        notes += said
    data = brief_data(p, who, channels=channels, engine=engine, model=model, filled=filled)
    text = brief_text(p, data, notes)
    try:
        validate_text(text, data["name"], channel_files)
    except BriefError as e:
        if not filled:
            raise
        # the model's words broke the brief (too long, a character no font has): keep the rules' facts only
        notes.append(f"the model's suggestions were left out ({e.message})")
        data = brief_data(p, who, channels=channels, engine=engine, model=model)
        text = brief_text(p, data, notes)
        validate_text(text, data["name"], channel_files)
    return p, text, notes


def quick(sentence: str, *, out: str | Path = "out", brief_out: str | Path | None = None,
          provider: str | None = None, channels: list[str] | None = None, channel_files: list | None = None,
          run: bool = True, force: bool = False, engine: str = "template", model: str | None = None,
          register: bool = True, on_brief: Callable[[Path, str], None] | None = None) -> QuickResult:
    """Sentence → brief file (default briefs/<name>.yaml) → unless `run` is False, make_posters into OUT and a zip
    of the bundle. `on_brief(path, text)` is called once the brief is written (the CLI shows it there)."""
    p, text, notes = make_brief(sentence, provider=provider, channels=channels, channel_files=channel_files,
                                engine=engine, model=model)
    name = sentence_name(p.sentence, p.category)
    path = write_brief_file(text, Path(brief_out) if brief_out else Path("briefs") / f"{name}.yaml", force)
    result = QuickResult(p, path, text, notes)
    if on_brief:
        on_brief(path, text)
    if not run:
        return result
    from .poster import PosterOptions, make_posters

    result.bundle = make_posters(path, out, PosterOptions(channel_files=channel_files, register=register))
    if result.bundle.manifest_path:
        result.zip_path = export_zip(result.bundle.out_dir)
    return result
