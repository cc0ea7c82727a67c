"""Pydantic validation whose errors point at the YAML: file, line, dotted key, and a suggestion.

Models use `extra="forbid"` so a typo is an error ("unknown key 'chanels' — did you mean 'channels'?"), never
silently ignored. Validators raise `invalid(message, hint)` to attach a fix to the message."""
from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from .errors import BriefError, BriefErrors, clip
from .yamlread import LoadedYaml

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base for every user-facing schema: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


def invalid(message: str, hint: str | None = None) -> PydanticCustomError:
    return PydanticCustomError("mkt", message, {"hint": hint or ""})


def suggest(word: str, choices: typing.Iterable[str]) -> str | None:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _unwrap(tp: Any) -> list[Any]:
    """All concrete types inside Optional/Union/list/dict annotations."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType, list, tuple, dict, typing.Annotated):
        out = []
        args = typing.get_args(tp)
        if origin is dict:
            args = args[1:]
        elif origin is typing.Annotated:
            args = args[:1]
        for a in args:
            out.extend(_unwrap(a))
        return out
    return [tp]


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that validates the mapping at `loc` (to list its keys for suggestions)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return None
        models = [t for t in _unwrap(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        current = models[0] if models else None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _dotted(loc: tuple) -> str:
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _describe(value: Any) -> str:
    if isinstance(value, str):   # a long one is not quoted: it may be a whole file given where a mapping belongs
        return f"the text '{value}'" if len(value) <= 40 and "\n" not in value else \
            f"a text of {len(value):,} characters"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, (int, float)):
        return f"the number {clip(value, 40)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing (empty value)"
    return type(value).__name__


_TYPE_WORDS = {
    "string_type": "text", "int_type": "a whole number", "int_parsing": "a whole number",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false", "bool_parsing": "true or false",
    "list_type": "a list (one '- item' per line, or [a, b])", "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values", "model_attributes_type": "a mapping of keys to values",
}


_LIMITS = {
    "string_too_long": "is {n} characters; at most {max_length} fit",
    "string_too_short": "is too short (at least {min_length} characters)",
    "too_long": "has {n} items; at most {max_length} are allowed",
    "too_short": "needs at least {min_length} item(s)",
    "greater_than_equal": "{got} is too small; it must be at least {ge}",
    "greater_than": "{got} is too small; it must be more than {gt}",
    "less_than_equal": "{got} is too large; it must be at most {le}",
    "less_than": "{got} is too large; it must be less than {lt}",
}


def _convert(err: dict, model: type[BaseModel], loaded: LoadedYaml, prefix: tuple) -> BriefError:
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    # pydantic puts union branch names in loc (e.g. 'str', 'list[str]'): drop tags that are not real keys
    clean: list = []
    data: Any = loaded.data
    for p in (*prefix, *loc):
        if isinstance(data, dict) and p in data:
            clean.append(p)
            data = data[p]
        elif isinstance(data, list) and isinstance(p, int) and p < len(data):
            clean.append(p)
            data = data[p]
        elif p == loc[-1] if loc else False:
            clean.append(p)
    full = tuple(clean)
    key = _dotted(full)
    line = loaded.line_of(full)
    kind = err["type"]
    hint = None
    if kind == "extra_forbidden":
        name = full[-1] if full else "?"
        parent = _model_at(model, tuple(p for p in full[len(prefix):-1]))
        allowed = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent else []
        guess = suggest(str(name), allowed) if allowed else None
        msg = f"unknown key '{name}'" + (f" — did you mean '{guess}'?" if guess else "")
        if allowed:
            hint = "allowed keys here: " + ", ".join(allowed)
        if guess:  # remembered so the matching "missing required key" is not reported twice
            e = BriefError(msg, file=loaded.path, line=line, key=key or None, hint=hint)
            e.suggests = _dotted((*full[:-1], guess))
            return e
    elif kind == "missing":
        name = loc[-1] if loc else "?"
        msg = f"missing required key '{name}'"
        parent_key = _dotted(full[:-1]) if full[:-1] else "the top level"
        hint = f"add '{name}:' under {parent_key}"
    elif kind == "mkt":
        msg = err["msg"]
        hint = (err.get("ctx") or {}).get("hint") or None
    elif kind in _TYPE_WORDS:
        msg = f"expected {_TYPE_WORDS[kind]}, got {_describe(err.get('input'))}"
    elif kind in ("literal_error", "enum"):
        expected = (err.get("ctx") or {}).get("expected", "")
        msg = f"{_describe(err.get('input'))} is not allowed; expected {expected}"
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
        guess = suggest(str(err.get("input")), choices)
        if guess:
            hint = f"did you mean '{guess}'?"
    elif kind in _LIMITS:
        ctx = err.get("ctx") or {}
        value = err.get("input")
        size = len(value) if hasattr(value, "__len__") else value
        msg = _LIMITS[kind].format(**ctx, got=_describe(value), n=size)
    else:
        msg = err["msg"].removeprefix("Value error, ")
    return BriefError(msg, file=loaded.path, line=line, key=key or None, hint=hint)


def validate(model: type[M], loaded: LoadedYaml, data: Any = None, prefix: tuple = ()) -> M:
    """Validate `data` (default: the whole file) against `model`; raise BriefErrors with file/line/key."""
    payload = loaded.data if data is None else data
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [_convert(e, model, loaded, prefix) for e in exc.errors(include_url=False)]
        # one error per key is enough (a union failure reports each branch)
        typo_for = {getattr(e, "suggests", None) for e in errors}
        seen, unique = set(), []
        for e in sorted(errors, key=lambda e: e.line or 0):
            if e.key not in seen and not (e.message.startswith("missing required key") and e.key in typo_for):
                seen.add(e.key)
                unique.append(e)
        raise (unique[0] if len(unique) == 1 else BriefErrors(unique)) from None
