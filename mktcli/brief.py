"""The brief (contract v1): schema, YAML loading with line-numbered errors, and segment expansion.

A brief is what a marketer writes. Everything a user can get wrong is reported with file, line, key and a fix —
including names that only the data files know (channels, brands, layout families, themes, objects, engines, fonts,
purposes): those are read from layer-1 modules (catalog, plugins, fontfiles, purposes), never from the engines."""
from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Callable, Literal

from pydantic import AfterValidator, Field, PrivateAttr, field_validator, model_validator

from . import plugins   # the engine lists through the module: a test may register an engine there
from .brand import brand_names, resolve_brand_path
from .catalog import layout_families, object_names, themes
from .channels import Channel, check_window, load_channels
from .errors import BriefError, BriefErrors, ConfigError, clip
from .filecheck import check_regular
from .fontfiles import coverage, registry as font_registry
from .limits import limits
from .paths import configs_dir, default_knowledge_path, limit_hint
from .purposes import purposes
from .schema import Strict, invalid, suggest, validate
from .userfiles import load_image
from .yamlio import LoadedYaml, load_yaml

BRIEF_VERSION = 1
SEED_MAX = 2**32 - 1          # numpy and torch generators take 32-bit seeds
SEGMENT_JOIN = "·"
MESSAGE_FIELDS = ("headline", "subhead", "cta", "disclaimer")
DEFAULT_SEGMENT = "通用"

_NUM = r"\d+(?:\.\d+)?"
_RATE_ONE = re.compile(rf"^{_NUM}%(起)?$")
_RATE_RANGE = re.compile(rf"^{_NUM}%?\s*[-~～–—至]\s*{_NUM}%$")
_UNSAFE = re.compile(r"[\\/\x00-\x1f\x7f:*?\"<>|]")


def check_safe_name(value: str, what: str) -> str:
    """Names become folder and file names: nothing that could leave the output folder or break a filesystem."""
    if not value or not value.strip():
        raise invalid(f"{what} is empty", f"give the {what} a short name, e.g. farm-loan-spring")
    if _UNSAFE.search(value) or value.startswith(".") or ".." in value or len(value) > 80:
        raise invalid(f"{what} '{clip(value)}' is not a safe file name",
                      "use letters, digits, Chinese characters, '-', '_' or '·' (no / \\ : * ? \" < > | or '..')")
    return value


def parse_rate(text: str) -> list[float]:
    """'3.2%' → [3.2]; '3.2%-7.2%' → [3.2, 7.2]; raises a located error with the fix otherwise."""
    s = text.strip()
    shown = clip(text)
    longest = max((len(f) for f in re.findall(_NUM, s)), default=0)
    cap = limits().brief.max_figure_chars
    if longest > cap:
        raise invalid(f"'{shown}': a figure of {longest} characters; at most {cap} are shown on a rate badge",
                      "write the rate as printed, e.g. '3.2%' or '3.85%'; " + limit_hint("brief.max_figure_chars"))
    if _RATE_ONE.match(s):
        return [float(re.findall(_NUM, s)[0])]
    if _RATE_RANGE.match(s):
        lo, hi = (float(x) for x in re.findall(_NUM, s))
        if lo > hi:
            raise invalid(f"'{shown}': the range goes down ({lo}% > {hi}%)", f"write it low to high: '{hi}%-{lo}%'")
        return [lo, hi]
    fixed = unicodedata.normalize("NFKC", s).replace(",", ".").replace("，", ".").replace(" ", "")
    hint = "write '3.2%' or a range '3.2%-7.2%' (in quotes)"
    if fixed != s and (_RATE_ONE.match(fixed) or _RATE_RANGE.match(fixed)):
        hint = f"write '{fixed}'"
    elif re.fullmatch(_NUM, fixed):
        hint = f"add the percent sign: '{fixed}%'"
    raise invalid(f"'{shown}' is not a rate", hint)


class Product(Strict):
    name: str = Field(min_length=1, max_length=40)
    category: Literal["loan", "credit_card", "deposit", "wealth", "insurance", "retail", "other"] = "other"
    provider: str = Field(min_length=2, max_length=60)
    # what the money is for (FIN-PURPOSE): business | consumer | housing | card …, the classes of
    # configs/compliance/zh-CN.yaml `purposes:`; default: read from the product's name and category
    purpose: str | None = Field(None, max_length=20)


class Offer(Strict):
    apr: str | None = None
    apr_note: str | None = Field(None, max_length=8)     # e.g. 单利 → 年化利率(单利)
    apr_from: bool | None = None                         # append 起 (default per category)
    rate_label: str | None = Field(None, max_length=10)   # overrides the category's label
    perks: list[str] = Field(default_factory=list, max_length=6)

    @field_validator("apr", mode="before")
    @classmethod
    def _apr(cls, v: Any):
        if v is None:
            return v
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            raise invalid(f"the number {clip(v)} is not a rate",
                          f"write it as text with a percent sign: apr: \"{clip(v, 20)}%\"")
        if not isinstance(v, str):
            raise invalid("expected a rate such as '3.2%'", "write apr: \"3.2%\" or \"3.2%-7.2%\"")
        figures = parse_rate(v)
        if any(f > 100 for f in figures):
            raise invalid(f"'{clip(v)}' is over 100%", "check the figure; an annualized rate is e.g. '3.2%'")
        return v.strip()

    @field_validator("perks")
    @classmethod
    def _perks(cls, v: list[str]):
        for p in v:
            if not p.strip():
                raise invalid("a perk is empty", "remove the empty '-' line")
            if len(p) > 20:
                raise invalid(f"perk '{clip(p)}' is {len(p)} characters; at most 20 fit a chip",
                              "shorten it, e.g. '最高可借30万'")
        return v


class Message(Strict):
    headline: str | None = Field(None, max_length=30)
    subhead: str | None = Field(None, max_length=40)
    cta: str | None = Field(None, max_length=8)
    disclaimer: str | None = Field(None, max_length=80)


class SegmentOverride(Message):
    """What a segment may change: message fields (flat, or nested under `message:`) and the perks."""

    perks: list[str] | None = None
    message: Message | None = None

    def updates(self) -> dict[str, str]:
        flat = {k: getattr(self, k) for k in MESSAGE_FIELDS if getattr(self, k) is not None}
        nested = {k: v for k, v in (self.message.model_dump() if self.message else {}).items() if v is not None}
        return {**nested, **flat}


class SegmentSpec(SegmentOverride):
    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return check_safe_name(v, "segment name")


class Audience(Strict):
    segments: list[SegmentSpec] | None = Field(None, min_length=1)
    dimensions: dict[str, list[str]] | None = Field(None, min_length=1)
    overrides: dict[str, SegmentOverride] = Field(default_factory=dict)

    @field_validator("segments", mode="before")
    @classmethod
    def _names_to_specs(cls, v):
        """segments: [养殖户, {name: 种植户, headline: …}] or a mapping {养殖户: null, 种植户: {headline: …}}."""
        if isinstance(v, dict):
            v = [{"name": k, **(o if isinstance(o, dict) else {})} for k, o in v.items()]
        if isinstance(v, list):
            return [{"name": s} if isinstance(s, (str, int)) and not isinstance(s, bool) else s for s in v]
        return v

    @field_validator("segments")
    @classmethod
    def _segment_count(cls, v):
        cap = limits().brief.max_segments
        if v is not None and len(v) > cap:
            raise invalid(f"{len(v):,} segments; at most {cap:,} are made from one brief",
                          "split the campaign into several briefs; " + limit_hint("brief.max_segments"))
        return v

    @field_validator("dimensions")
    @classmethod
    def _dims(cls, v):
        """Each dimension a list of distinct safe names; their product (the segments) counted before it is made."""
        if v is None:
            return v
        lim = limits().brief
        if len(v) > lim.max_dimensions:
            raise invalid(f"{len(v)} dimensions; at most {lim.max_dimensions}",
                          "combine or drop some; " + limit_hint("brief.max_dimensions"))
        total = 1
        for dim, values in v.items():
            d = clip(dim, 40)
            if not values:
                raise invalid(f"dimension '{d}' has no values", "list at least one, e.g. [养殖户, 种植户]")
            if len(values) > lim.max_dimension_values:
                raise invalid(f"dimension '{d}' has {len(values):,} values; at most {lim.max_dimension_values}",
                              limit_hint("brief.max_dimension_values"))
            seen: set[str] = set()
            for val in values:
                check_safe_name(str(val), f"value of dimension '{d}'")
                if str(val) in seen:
                    raise invalid(f"dimension '{d}' lists '{clip(val, 40)}' twice",
                                  "remove the duplicate (every segment would be made twice)")
                seen.add(str(val))
            total *= len(values)
        if total > lim.max_segments:
            sizes = " × ".join(str(len(x)) for x in v.values())
            raise invalid(f"{sizes} = {total:,} segments; at most {lim.max_segments:,} are made from one brief",
                          "use fewer dimension values, or split the campaign into several briefs; "
                          + limit_hint("brief.max_segments"))
        return v

    @model_validator(mode="after")
    def _one_of(self):
        if self.segments is not None and self.dimensions is not None:
            raise invalid("use either 'segments' or 'dimensions', not both",
                          "dimensions multiply out into segments by themselves")
        return self


class Visual(Strict):
    engine: str = "auto"          # auto | procedural | image | diffusers | any engine registered under mkt.visual.v1
    scene: str | None = None
    image: str | None = None
    focus: tuple[float, float] | None = None   # focal point of visual.image, fractions (x, y); default: detected
    model: str | None = None      # engine diffusers: hub id or local folder (default: configs/models.yaml)
    profile: str | None = None    # engine diffusers: quality | fast | low-vram … (mkt models lists them)
    negative_prompt: str | None = None   # engine diffusers: replaces the model's default negative prompt
    text_in_image: bool = False   # engine diffusers: the model draws the headline, verified by OCR, else typeset
    seed: int = Field(0, ge=0, le=SEED_MAX)
    layout: str | None = None     # a layout family (configs/layouts/: hero | split | editorial | card); default by seed
    theme: str | None = None      # engine illustration: a season or festival (configs/visuals.yaml: 春节, 中秋, 618 …)
    objects: list[str] | None = Field(None, min_length=1, max_length=5)   # engine illustration: hero first

    @field_validator("focus")
    @classmethod
    def _focus(cls, v):
        if v is not None and not all(0 <= f <= 1 for f in v):
            raise invalid("focus is a point as fractions of the image, each 0..1", "e.g. focus: [0.6, 0.4]")
        return v


class VideoSettings(Strict):
    """How a video channel's clip is made (all optional; only video channels read it)."""

    duration: float | None = Field(None, ge=5, le=15)   # seconds; default: the channel's default_s
    engine: Literal["layers", "diffusers"] = "layers"   # layers: the poster's own layers animated (CPU);
                                                        # diffusers: the key visual animated by an image-to-video model
    model: str | None = None      # engine diffusers: hub id or local folder of an image-to-video pipeline


def check_url(v: str | None) -> str | None:
    if v is None:
        return v
    from urllib.parse import urlsplit

    u = urlsplit(str(v).strip())
    if u.scheme not in ("https", "http") or not u.netloc or any(c.isspace() for c in str(v).strip()):
        raise invalid(f"'{clip(v)}' is not a web address", "write the full link, e.g. https://m.example-bank.cn/loan")
    return str(v).strip()


LandingUrl = Annotated[str, AfterValidator(check_url)]   # per item, so an error names its key


class Placement(Strict):
    """What the placement system needs besides the creatives (all optional; written to placement.json)."""

    landing_url: str | None = None        # where a click goes; each creative's link gets UTM parameters
    utm: bool = True                      # utm_source=<channel>, utm_campaign=<brief name>, utm_content=<id>
    start: date | None = None             # first day on air (placement timezone)
    end: date | None = None               # last day on air
    timezone: str = "Asia/Shanghai"
    send_window: str | None = None        # SMS / calls / push: overrides the channel's window, e.g. '09:00-18:00'
    landing: dict[str, LandingUrl] = Field(default_factory=dict)   # per segment, dimension value or channel

    @field_validator("landing_url")
    @classmethod
    def _url(cls, v):
        return check_url(v)

    @field_validator("send_window")
    @classmethod
    def _window(cls, v):
        return check_window(v)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date(cls, v):
        if v is None or isinstance(v, date):
            return v
        try:
            return date.fromisoformat(unicodedata.normalize("NFKC", str(v)).strip())
        except ValueError:
            raise invalid(f"'{clip(v)}' is not a date", "write it as YYYY-MM-DD, e.g. 2026-12-01") from None

    @field_validator("end")
    @classmethod
    def _order(cls, v, info):
        start = info.data.get("start")
        if v and start and v < start:
            raise invalid(f"placement ends ({v}) before it starts ({start})", "swap start and end")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v):
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(v)
        except (ValueError, KeyError, OSError):
            raise invalid(f"unknown timezone '{clip(v)}'", "an IANA name, e.g. Asia/Shanghai") from None
        return v


class CopySettings(Strict):
    engine: str = "template"      # template (embedded) | llm (a transformers chat model)
    model: str | None = None      # engine llm: hub id or local folder
    knowledge: str | None = None  # learned wording (mkt learn distill); default MKT_HOME/knowledge/zh-CN.yaml if any


class Brief(Strict):
    version: int = BRIEF_VERSION
    name: str
    brand: str = "default"
    product: Product
    offer: Offer = Field(default_factory=Offer)
    audience: Audience | None = None
    message: Message = Field(default_factory=Message)
    visual: Visual = Field(default_factory=Visual)
    video: VideoSettings = Field(default_factory=VideoSettings)
    copy_: CopySettings = Field(default_factory=CopySettings, alias="copy")
    placement: Placement = Field(default_factory=Placement)
    channels: list[str] = Field(min_length=1)
    variants: int = Field(1, ge=1, le=8)   # visually distinct creatives per segment × channel (layout family …)

    @property
    def copy(self) -> CopySettings:  # noqa: A003 — the brief's key is 'copy'
        return self.copy_

    _path: Path | None = PrivateAttr(None)
    _sha256: str = PrivateAttr("")
    _channel_presets: dict[str, Channel] = PrivateAttr(default_factory=dict)

    @field_validator("version")
    @classmethod
    def _version(cls, v):
        if v != BRIEF_VERSION:
            raise invalid(f"brief version {v} is not supported", f"this mkt reads 'version: {BRIEF_VERSION}' briefs")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v):
        return check_safe_name(v, "brief name")

    # ---- derived -----------------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path else Path.cwd()

    @property
    def sha256(self) -> str:
        return self._sha256

    def channel(self, name: str) -> Channel:
        return self._channel_presets[name]

    def image_path(self) -> Path | None:
        return (self.base_dir / self.visual.image) if self.visual.image else None

    def segments(self) -> list["Segment"]:
        return expand_segments(self)


@dataclass
class Segment:
    """One audience segment with the brief's message and perks after overrides. `sources`: the brief key each
    message field and the perks came from (message.headline, audience.overrides.种植户.headline, offer.perks …)."""

    name: str
    message: Message
    perks: list[str]
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def key(self, field_name: str) -> str:
        """The brief key of a message field ('headline') or a perk ('perks[1]') of this segment."""
        if field_name.startswith("perks["):
            return self.sources.get("perks", "offer.perks") + field_name[5:]
        return self.sources.get(field_name, f"message.{field_name}")


@lru_cache(maxsize=1)
def category_defaults() -> dict[str, dict[str, Any]]:
    path = configs_dir() / "categories.yaml"
    data = load_yaml(path, what="category defaults").data
    if not isinstance(data, dict) or not isinstance(data.get("categories"), dict):
        raise ConfigError("expected a 'categories:' mapping", file=path, line=1)
    return data["categories"]


def _apply(message: Message, perks: list[str], ov: SegmentOverride | None, sources: dict[str, str] | None = None,
           at: str = "") -> tuple[Message, list[str]]:
    """The override applied; `sources` (field → brief key) records what it changed, under the key path `at`."""
    if ov is None:
        return message, perks
    if sources is not None:
        nested = {k for k, v in (ov.message.model_dump() if ov.message else {}).items() if v is not None}
        for k in ov.updates():
            sources[k] = f"{at}.{k}" if getattr(ov, k) is not None or k not in nested else f"{at}.message.{k}"
        if ov.perks is not None:
            sources["perks"] = f"{at}.perks"
    return message.model_copy(update=ov.updates()), (list(ov.perks) if ov.perks is not None else perks)


_JOINERS = re.compile(r"\s*[×xX*/|+,，、·]\s*|\s+")


def _override_for(overrides: dict[str, SegmentOverride], name: str) -> SegmentOverride | None:
    """An override by full segment name; '养殖户×有优惠', '养殖户/有优惠' or '养殖户 有优惠' name it too."""
    if name in overrides:
        return overrides[name]
    for key, ov in overrides.items():
        if _JOINERS.sub(SEGMENT_JOIN, key.strip()) == name:
            return ov
    return None


def expand_segments(brief: Brief) -> list[Segment]:
    """segments list, or the cartesian product of dimensions ('养殖户·有优惠'); overrides applied in order:
    per dimension value, then per full segment name (the most specific wins)."""
    aud = brief.audience
    base_msg, base_perks = brief.message, list(brief.offer.perks)
    if aud is None or (aud.segments is None and aud.dimensions is None):
        return [Segment(DEFAULT_SEGMENT, base_msg, base_perks)]
    out: list[Segment] = []
    if aud.segments is not None:
        for i, spec in enumerate(aud.segments):
            src: dict[str, str] = {}
            msg, perks = _apply(base_msg, base_perks, spec, src, f"audience.segments[{i}]")
            msg, perks = _apply(msg, perks, aud.overrides.get(spec.name), src, f"audience.overrides.{spec.name}")
            out.append(Segment(spec.name, msg, perks, sources=src))
    else:
        dims = aud.dimensions or {}
        for combo in itertools.product(*dims.values()):
            values = dict(zip(dims.keys(), (str(c) for c in combo)))
            name = SEGMENT_JOIN.join(values.values())
            msg, perks = base_msg, base_perks
            src = {}
            for v in values.values():
                msg, perks = _apply(msg, perks, aud.overrides.get(v), src, f"audience.overrides.{v}")
            key = name if name in aud.overrides else next(
                (k for k in aud.overrides if _JOINERS.sub(SEGMENT_JOIN, k.strip()) == name), name)
            msg, perks = _apply(msg, perks, _override_for(aud.overrides, name), src, f"audience.overrides.{key}")
            out.append(Segment(name, msg, perks, values, src))
    return out


Err = Callable[..., None]   # err(keypath, message, hint=None): one BriefError with the key's file and line


def _semantic_checks(brief: Brief, loaded: LoadedYaml, presets: dict[str, Channel]) -> list[BriefError]:
    """Checks that need more than the schema: channel names, files on disk, overrides that match nothing. Each
    concern is one small function below (_BRIEF_CHECKS), run in order; all findings are returned together."""
    errs: list[BriefError] = []

    def err(keypath: tuple, msg: str, hint: str | None = None):
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in keypath).replace(".[", "[")
        errs.append(BriefError(msg, file=loaded.path, line=loaded.line_of(keypath), key=key, hint=hint))

    if not _check_channels(brief, presets, err):   # too many to look at one by one
        return errs
    for check in _BRIEF_CHECKS:
        check(brief, loaded, err, errs)
    return errs


def _unknown(err: Err, keypath: tuple, what: str, value: str, known, hint: str) -> None:
    guess = suggest(value, known)
    err(keypath, f"unknown {what} '{clip(value)}'" + (f" — did you mean '{guess}'?" if guess else ""), hint)


def _check_channels(brief: Brief, presets: dict[str, Channel], err: Err) -> bool:
    """Known, allowed, listed once; False when there are too many to check one by one."""
    lim = limits().brief
    if len(brief.channels) > lim.max_channels:
        err(("channels",), f"{len(brief.channels):,} channels; at most {lim.max_channels} in one brief",
            limit_hint("brief.max_channels"))
        return False
    seen: set[str] = set()
    for i, ch in enumerate(brief.channels):
        if ch not in presets:
            guess = suggest(ch, presets)
            err(("channels", i), f"unknown channel '{clip(ch)}'" + (f" — did you mean '{guess}'?" if guess else ""),
                "known channels: " + ", ".join(sorted(presets)) + " (add your own with --channels FILE)")
        elif presets[ch].refuse:
            err(("channels", i), f"channel '{ch}' is refused: {presets[ch].refuse}")
        elif ch in seen:
            err(("channels", i), f"channel '{ch}' is listed twice", "remove the duplicate")
        seen.add(ch)
    return True


def _check_segments(brief: Brief, loaded: LoadedYaml, err: Err, errs: list) -> None:
    """Not more creatives than a brief may make; no segment name made twice by the dimensions."""
    lim = limits().brief
    segments = brief.segments()
    n_creatives = len(segments) * len(brief.channels)
    if n_creatives > lim.max_creatives:
        err(("audience",), f"{len(segments):,} segments × {len(brief.channels)} channels = {n_creatives:,} creatives; "
            f"at most {lim.max_creatives:,} from one brief", "split the campaign into several briefs; "
            + limit_hint("brief.max_creatives"))
    names: dict[str, int] = {}
    for seg in segments:
        names[seg.name] = names.get(seg.name, 0) + 1
    twice = [n for n, k in names.items() if k > 1]
    if twice and aud_dims(brief):
        err(("audience", "dimensions"), f"the segment name '{clip(twice[0])}' comes out of the dimensions twice",
            f"dimension values are joined with '{SEGMENT_JOIN}': a value containing '{SEGMENT_JOIN}' can make the "
            "same name as two others; rename one")


def _check_segments_listed_once(brief: Brief, loaded: LoadedYaml, err: Err, errs: list) -> None:
    if brief.audience and brief.audience.segments:
        dup = [s.name for s in brief.audience.segments]
        for i, name in enumerate(dup):
            if name in dup[:i]:
                err(("audience", "segments", i), f"segment '{clip(name)}' is listed twice", "remove the duplicate")


def _check_product(brief: Brief, loaded: LoadedYaml, err: Err, errs: list) -> None:
    """A loan or card states its rate; a purpose is one the rules know; every character has a glyph; the brand is
    there."""
    if brief.product.category in ("loan", "credit_card") and not brief.offer.apr:
        err(("offer", "apr"), f"a {brief.product.category} poster must show the annualized rate",
            "add under offer:  apr: \"3.2%\"  (PBOC Announcement 2021 No. 3)")
    if brief.product.purpose:
        classes = purposes().classes
        if brief.product.purpose not in classes:
            guess = suggest(brief.product.purpose, classes)
            err(("product", "purpose"), f"unknown purpose '{brief.product.purpose}'"
                + (f" — did you mean '{guess}'?" if guess else ""),
                "one of: " + ", ".join(classes) + " (configs/compliance/zh-CN.yaml purposes:), or leave it out")
    _check_glyphs(brief, err)
    if resolve_brand_path(brief.brand, brief.base_dir) is None:
        guess = suggest(brief.brand, brand_names())
        err(("brand",), f"brand '{clip(brief.brand)}' not found" + (f" — did you mean '{guess}'?" if guess else ""),
            "known brands: " + ", ".join(brand_names()) + "; or give a path to a brand YAML file")


def _check_visual_names(brief: Brief, loaded: LoadedYaml, err: Err, errs: list) -> None:
    """The layout family, theme, objects and engine are ones mkt has."""
    vis = brief.visual
    if vis.layout is not None and vis.layout not in layout_families():
        _unknown(err, ("visual", "layout"), "layout family", vis.layout, layout_families(),
                 "families: " + ", ".join(layout_families()))
    if vis.theme is not None and vis.theme not in themes():
        _unknown(err, ("visual", "theme"), "theme", vis.theme, themes(),
                 "themes: " + ", ".join(themes()) + " (configs/visuals.yaml)")
    if vis.objects:
        names = object_names()
        for i, o in enumerate(vis.objects):
            if o not in names:
                _unknown(err, ("visual", "objects", i), "object", o, names,
                         "objects are the names in assets/visuals/fluent-emoji/objects.yaml, e.g. money-bag, tractor")
    engines = {"auto", "diffusers", *plugins.visual_engines()}
    if vis.engine not in engines:
        _unknown(err, ("visual", "engine"), "visual engine", vis.engine, engines,
                 "engines: " + ", ".join(sorted(engines)))


def _check_files(brief: Brief, loaded: LoadedYaml, err: Err, errs: list) -> None:
    """The picture and the knowledge file the brief names are there, readable and within the limits."""
    vis = brief.visual
    if vis.engine == "image" and not vis.image:
        err(("visual", "engine"), "engine 'image' needs a picture", "add visual.image: hero.jpg (relative to the brief)")
    if vis.image:
        p = brief.base_dir / vis.image
        if not p.exists():
            err(("visual", "image"), f"image '{clip(vis.image)}' does not exist (looked for {clip(p)})",
                "put the file next to the brief or give a path relative to the brief")
        else:   # a regular file within the limits that decodes whole: a truncated JPEG stops here, before any output
            try:
                load_image(p, "image", _where(loaded, ("visual", "image")), draft=(256, 256)).close()
            except BriefError as e:
                errs.append(e)
    if brief.copy.knowledge:
        try:
            st = check_regular(knowledge_path(brief), "knowledge file", _where(loaded, ("copy", "knowledge")))
            cap = limits().files.yaml
            if st.st_size > cap:
                err(("copy", "knowledge"), f"knowledge file '{clip(brief.copy.knowledge)}' is over the "
                    f"{cap:,}-byte limit ({st.st_size:,} bytes)", limit_hint("files.yaml"))
        except BriefError as e:
            errs.append(e)
    copy_engines = plugins.copy_engines()
    if brief.copy.engine not in copy_engines:
        _unknown(err, ("copy", "engine"), "copy engine", brief.copy.engine, copy_engines,
                 "copy engines: " + ", ".join(sorted(copy_engines)))


def _check_keys_match(brief: Brief, loaded: LoadedYaml, err: Err, errs: list) -> None:
    """Every override and landing link names a segment, a dimension value (or, for links, a channel)."""
    aud = brief.audience
    if aud and aud.overrides:
        names = {s.name for s in brief.segments()}
        values = {v for s in brief.segments() for v in s.values.values()}
        for key in aud.overrides:
            if key not in names and key not in values and _JOINERS.sub(SEGMENT_JOIN, key.strip()) not in names:
                guess = suggest(key, names | values)
                err(("audience", "overrides", key), f"override '{clip(key)}' matches no segment"
                    + (f" — did you mean '{guess}'?" if guess else ""),
                    "segments are: " + clip(", ".join(sorted(names)), 200))
    if brief.placement.landing:
        segs = brief.segments()
        known = {s.name for s in segs} | {v for s in segs for v in s.values.values()} | set(brief.channels)
        for key in brief.placement.landing:
            if key not in known:
                guess = suggest(key, known)
                err(("placement", "landing", key), f"landing link for '{clip(key)}' matches no segment, dimension value "
                    "or channel" + (f" — did you mean '{guess}'?" if guess else ""),
                    "keys are segments, dimension values or channels: " + clip(", ".join(sorted(known)), 200))


# in the order a reader of the brief meets the keys (the errors are listed in this order)
_BRIEF_CHECKS = (_check_segments, _check_product, _check_visual_names, _check_files, _check_keys_match,
                 _check_segments_listed_once)


def aud_dims(brief: Brief) -> bool:
    return brief.audience is not None and brief.audience.dimensions is not None


def knowledge_path(brief: Brief | None) -> Path | None:
    """Which knowledge file a brief's copy would read (None: none), without loading it: the brief's own
    `copy.knowledge` (relative to the brief), else MKT_HOME/knowledge/zh-CN.yaml when it exists. Part of a
    creative's inputs (inputs.py); learn.knowledge.resolve_knowledge loads it for the copy."""
    own = getattr(getattr(brief, "copy", None), "knowledge", None) if brief is not None else None
    if own:
        p = Path(own).expanduser()
        return p if p.is_absolute() else Path(brief.base_dir) / p
    default = default_knowledge_path()
    return default if default.is_file() else None


def _where(loaded: LoadedYaml, keypath: tuple) -> dict:
    """file / line / key of a brief's key, for an error about the file that key names."""
    return {"file": loaded.path, "line": loaded.line_of(keypath), "key": ".".join(str(p) for p in keypath)}


def _check_glyphs(brief: Brief, err) -> None:
    """Every character that will be typeset must exist in some bundled font (fallback covers the rest)."""
    covered = set().union(*(coverage(fid) for fid in font_registry()))

    def scan(keypath: tuple, text: str | None):
        missing = sorted({ch for ch in (text or "") if ord(ch) not in covered and not ch.isspace()})
        if missing:
            shown = "".join(missing[:5])
            err(keypath, f"no bundled font can draw {shown!r} ({', '.join(f'U+{ord(c):04X}' for c in missing[:5])})",
                "use a common (GB2312) character instead, e.g. a simplified form")

    scan(("product", "name"), brief.product.name)
    scan(("product", "provider"), brief.product.provider)
    for i, perk in enumerate(brief.offer.perks):
        scan(("offer", "perks", i), perk)
    for key in MESSAGE_FIELDS:
        scan(("message", key), getattr(brief.message, key))
    aud = brief.audience
    specs = [(("audience", "segments", i), s) for i, s in enumerate(aud.segments or [])] if aud else []
    specs += [(("audience", "overrides", k), o) for k, o in aud.overrides.items()] if aud else []
    for kp, spec in specs:
        for key in MESSAGE_FIELDS:
            scan((*kp, key), getattr(spec, key))
            scan((*kp, "message", key), getattr(spec.message, key) if spec.message else None)
        for i, perk in enumerate(spec.perks or []):
            scan((*kp, "perks", i), perk)


def load_brief(path: str | Path, *, channel_files: list[str | Path] | None = None) -> Brief:
    """Load and validate a brief. Raises BriefError / BriefErrors naming file, line and key."""
    path = Path(path)
    loaded = load_yaml(path, what="brief")
    if not isinstance(loaded.data, dict):
        raise BriefError("a brief is a mapping of keys (version, name, product, offer, channels …)",
                         file=path, line=1, hint="see examples/briefs/farm-loan.yaml")
    brief = validate(Brief, loaded)
    brief._path = path
    brief._sha256 = loaded.sha256
    presets = load_channels(channel_files)
    errs = _semantic_checks(brief, loaded, presets)
    if errs:
        raise errs[0] if len(errs) == 1 else BriefErrors(errs)
    brief._channel_presets = {c: presets[c] for c in brief.channels}
    return brief


_TERM = re.compile(r"([0-9]+|[一二两三四五六七八九十]+)(年|个月)期?")


def term_in_name(name: str) -> str | None:
    """The term a product's name states, as a rate label's prefix: 三年期大额存单 → 三年期, 3年定期 → 3年期,
    六个月定期存款 → 六个月期; None when it states none."""
    m = _TERM.search(name or "")
    return m.group(1) + m.group(2) + "期" if m else None


def rate_text(brief: Brief) -> tuple[str, str, str] | None:
    """(label, figure, suffix) for the rate badge, e.g. ('年化利率', '3.2%', '起'); None when no rate.
    The figure is the brief's string as written, so exact-string checks find it."""
    apr = brief.offer.apr
    if not apr:
        return None
    cat = category_defaults().get(brief.product.category, {})
    label = brief.offer.rate_label or cat.get("rate_label", "年化利率")
    if not brief.offer.rate_label and cat.get("rate_term_from_name"):
        term = term_in_name(brief.product.name)
        if term and not label.startswith(term):
            label = term + label      # 三年期大额存单 → 三年期年利率: a deposit's rate is the rate of its term
    if brief.offer.apr_note:
        label += f"({brief.offer.apr_note})"
    figure, suffix = apr, ""
    if figure.endswith("起"):
        figure, suffix = figure[:-1], "起"
    elif len(parse_rate(apr)) == 1:
        from_ = brief.offer.apr_from if brief.offer.apr_from is not None else cat.get("rate_from", False)
        suffix = "起" if from_ else ""
    return label, figure, suffix


def resolved_message(brief: Brief, seg: Segment, copy: Any = None) -> dict[str, str]:
    """Every text a poster carries: the brief's (after the segment's overrides) first, then the copy engine's
    (`copy`, a copywriting.base.Copy), then category defaults."""
    cat = category_defaults().get(brief.product.category, {})
    m = seg.message
    out = {
        "headline": m.headline or (copy.headline if copy is not None else "") or brief.product.name,
        "subhead": m.subhead or (copy.subhead if copy is not None else ""),
        "cta": m.cta or cat.get("cta", "了解详情"),
        "disclaimer": m.disclaimer or cat.get("disclaimer", ""),
        "provider": f"本产品由{brief.product.provider}提供",
    }
    return {k: v for k, v in out.items() if v}
