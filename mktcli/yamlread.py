"""The YAML reader, for briefs and configs alike: line numbers, duplicate keys refused, and the yaml: limits
(configs/limits.yaml) enforced while a file is parsed. The limits are an argument: limits.py reads its own files
with this reader, under the built-in defaults; yamlio.load_yaml is the front door that passes the limits in force.

`yaml.safe_load` semantics (no Python tags), but we keep the node tree so every key path can be mapped back to a
line, and we refuse duplicate keys (safe_load silently keeps the last one, which hides typos)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import BriefError, clip
from .filecheck import read_regular
from .paths import data_root, limit_hint

KeyPath = tuple  # of str | int
Limits = Any     # limits.Limits (limits.py is above this module: it reads its files with it)


@dataclass
class LoadedYaml:
    data: Any
    path: Path
    lines: dict[KeyPath, int] = field(default_factory=dict)  # key path -> 1-based line of the key (or item)
    sha256: str = ""                                           # of the bytes read (read_yaml)

    def line_of(self, keypath: KeyPath) -> int | None:
        """Line of the deepest known ancestor of keypath (a missing key reports its parent's line)."""
        kp = tuple(keypath)
        while kp:
            if kp in self.lines:
                return self.lines[kp]
            kp = kp[:-1]
        return self.lines.get((), 1)


def _walk(node: yaml.Node, prefix: KeyPath, lines: dict, file: Path, seen_nodes: set[int]) -> None:
    """Key path → line for every key and item, and duplicate keys refused. A node reached again through an alias
    is not walked again: its keys are already known, and walking every use is what made a small alias bomb huge."""
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else str(knode.value)
            line = knode.start_mark.line + 1
            if key in seen:
                dotted = ".".join(clip(str(p), 40) for p in (*prefix, key))
                raise BriefError(f"duplicate key '{clip(key, 40)}' (first on line {seen[key]})", file=file, line=line,
                                 key=dotted, hint="remove one of them; YAML would silently keep only the last")
            seen[key] = line
            lines[(*prefix, key)] = line
            _walk(vnode, (*prefix, key), lines, file, seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*prefix, i)] = item.start_mark.line + 1
            _walk(item, (*prefix, i), lines, file, seen_nodes)


def read_yaml(path: str | Path, *, what: str = "file", limits: Callable[[], Limits]) -> LoadedYaml:
    """Read and parse a YAML file: a regular file within the size limit (files.brief for a brief, files.yaml
    otherwise), parsed within the yaml: limits. `limits()` gives the limits; it is called only for a file it
    applies to: mkt's own files (configs/ and assets/ of the package) take libyaml's C parser instead, ~10× faster,
    and their line numbers are only worked out (under `limits()`) when something asks for one."""
    path = Path(path)
    if _FastLoader is not None and _shipped(path):
        return _load_shipped(path, limits)
    lim = limits()
    kind = "brief" if what == "brief" else "yaml"
    if not path.exists() and not path.is_symlink():
        raise BriefError(f"{what} not found", file=path, hint="check the path (it is relative to where you run mkt)")
    raw = read_regular(path, what, getattr(lim.files, kind), limit_key=f"files.{kind}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise BriefError("file is not UTF-8 text", file=path, line=line,
                         hint="save it as UTF-8 (in most editors: Save As… → Encoding: UTF-8); GBK is not accepted")
    loaded = parse_yaml(text, path, limits=lim)
    loaded.sha256 = hashlib.sha256(raw).hexdigest()
    return loaded


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML's implicit timestamps ('2026-13-01' would crash PyYAML's date constructor: dates
    stay strings and the schema parses them), and with the yaml: limits enforced while the node tree is composed:
    nesting, values and alias uses are counted as if every alias were expanded — without expanding anything — so
    a 470-byte alias bomb, a recursive alias or 100,000 nested brackets are refused with their line, in
    milliseconds and a few KB."""

    def __init__(self, stream, limits):
        super().__init__(stream)
        self._lim = limits.yaml
        self._depth = 0
        self._open: set[str] = set()             # anchors whose node is being composed (an alias to one loops)
        self._sizes: dict[int, tuple[int, int]] = {}   # id(node) → (values once expanded, depth once expanded)
        self._aliases = 0

    def _limit(self, message: str, mark, key: str, hint: str | None = None) -> None:
        raise _LimitHit(message, mark, (hint + "; " if hint else "") + limit_hint(key))

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            if event.anchor in self._open:
                raise _LimitHit(f"the alias *{clip(event.anchor, 40)} refers to the value that contains it (a loop)",
                                event.start_mark, "an alias cannot point into its own anchor; copy the values instead")
            self._aliases += 1
            if self._aliases > self._lim.max_aliases:
                self._limit(f"more than {self._lim.max_aliases} alias uses (*name)", event.start_mark,
                            "yaml.max_aliases")
            return super().compose_node(parent, index)
        event = self.peek_event()
        self._depth += 1
        if self._depth > self._lim.max_depth:
            self._limit(f"nested more than {self._lim.max_depth} levels deep", event.start_mark, "yaml.max_depth",
                        "flatten the structure")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open.discard(anchor)
        self._measure(node)
        return node

    def _measure(self, node) -> None:
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > self._lim.max_scalar_chars:
                self._limit(f"a value of {len(node.value):,} characters; at most {self._lim.max_scalar_chars:,} are "
                            "read", node.start_mark, "yaml.max_scalar_chars")
            size, depth = 1, 0
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else [c for kv in node.value for c in kv]
            measured = [self._sizes.get(id(c), (1, 0)) for c in children]
            size = 1 + sum(m[0] for m in measured)
            depth = 1 + max((m[1] for m in measured), default=0)
        if size > self._lim.max_nodes:
            self._limit(f"more than {self._lim.max_nodes:,} values once its aliases are expanded ({size:,})",
                        node.start_mark, "yaml.max_nodes", "use fewer aliases (*name) or fewer values")
        if depth > self._lim.max_depth:
            self._limit(f"nested more than {self._lim.max_depth} levels deep once its aliases are expanded",
                        node.start_mark, "yaml.max_depth", "flatten the structure")
        self._sizes[id(node)] = (size, depth)


class _LimitHit(yaml.MarkedYAMLError):
    def __init__(self, problem: str, mark, hint: str):
        super().__init__(problem=problem, problem_mark=mark)
        self.hint = hint


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _reader_error(e: yaml.reader.ReaderError, text: str, path: Path) -> BriefError:
    """A character YAML does not allow (NUL, BEL, ESC, U+FFFE …): its line and what it is."""
    pos = e.position if isinstance(e.position, int) else 0
    line = text[:pos].count("\n") + 1 if isinstance(e.character, str) or pos else None
    code = e.character if isinstance(e.character, int) else ord(e.character) if e.character else 0
    names = {0: "a NUL byte", 7: "a BEL (bell) character", 8: "a backspace", 27: "an ESC (escape) character",
             0xFFFE: "the non-character U+FFFE", 0xFFFF: "the non-character U+FFFF", 0x7F: "a DEL character"}
    what = names.get(code, f"the control character U+{code:04X}")
    return BriefError(f"{what} is not allowed in YAML (character {pos + 1})", file=path, line=line,
                      hint="remove it (it is invisible in most editors; it often comes from a copy-paste or a "
                           "binary file saved as .yaml)")


def parse_yaml(text: str, path: Path, *, limits: Limits) -> LoadedYaml:
    """The data of a YAML text with the line of every key and item, parsed within `limits.yaml`."""
    try:
        loader = _Loader(text, limits)   # the reader checks every character here: NUL, ESC … raise now
    except yaml.reader.ReaderError as e:
        raise _reader_error(e, text, path) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return LoadedYaml(None, path, {(): 1})
        lines: dict = {(): node.start_mark.line + 1}
        _walk(node, (), lines, path, set())
        data = loader.construct_document(node)
    except _LimitHit as e:
        mark = e.problem_mark
        raise BriefError(f"YAML: {e.problem}", file=path, line=mark.line + 1 if mark else None,
                         hint=e.hint) from None
    except yaml.reader.ReaderError as e:
        raise _reader_error(e, text, path) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = clip(" ".join(p for p in (e.context, e.problem) if p), 160)
        hint = "check indentation and quoting near that line"
        if "\t" in text and "tab" in problem.lower() or "found character '\\t'" in problem:
            hint = "YAML does not allow tabs for indentation; use spaces"
        elif "mapping values are not allowed" in problem:
            hint = "a value containing ': ' needs quotes, e.g. headline: \"补栏: 周转\""
        raise BriefError(f"YAML syntax error: {problem}", file=path, line=line, hint=hint) from None
    except yaml.YAMLError as e:
        raise BriefError(f"YAML error: {clip(str(e), 160)}", file=path, hint="check the file is valid YAML") from None
    except RecursionError:   # a limit set above what Python's stack allows
        raise BriefError("YAML: nested too deeply to read", file=path,
                         hint="flatten the structure; yaml.max_depth in configs/limits.yaml must stay below 200") \
            from None
    except ValueError as e:   # a value the constructor cannot make (an integer of thousands of digits …)
        raise BriefError(f"YAML: a value cannot be read ({clip(str(e), 120)})", file=path,
                         hint="check the numbers in the file") from None
    finally:
        loader.dispose()
    return LoadedYaml(data, path, lines)


# ---- mkt's own configuration files -------------------------------------------------------------------------------
_FastLoader = None
if getattr(yaml, "__with_libyaml__", False):
    class _FastLoader(yaml.CSafeLoader):   # noqa: N801 — the C parser, with the same resolvers as _Loader (no dates)
        pass

    _FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


@dataclass
class _ShippedYaml(LoadedYaml):
    """A config file of mkt's own, parsed fast; its key lines are found (with the full parser, under the limits
    `limits()` gives then) on first need."""
    text: str = ""
    limits: Callable[[], Limits] | None = field(default=None, repr=False)

    def line_of(self, keypath: KeyPath) -> int | None:
        if not self.lines:
            self.lines = parse_yaml(self.text, self.path, limits=self.limits()).lines
        return super().line_of(keypath)


def _shipped(path: Path) -> bool:
    try:
        p, root = path.resolve(), data_root().resolve()
    except OSError:
        return False
    return any(d in p.parents for d in (root / "configs", root / "assets"))


def _load_shipped(path: Path, limits: Callable[[], Limits]) -> LoadedYaml:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    data = yaml.load(text, Loader=_FastLoader)  # noqa: S506 — a SafeLoader, on the package's own files
    return _ShippedYaml(data, path, {}, hashlib.sha256(raw).hexdigest(), text, limits)
