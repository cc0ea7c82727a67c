"""YAML loading with line numbers, for briefs and configs alike.

`yaml.safe_load` semantics (no Python tags), but we keep the node tree so every key path can be mapped back to a
line, and we refuse duplicate keys (safe_load silently keeps the last one, which hides typos)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import BriefError

KeyPath = tuple  # of str | int


@dataclass
class LoadedYaml:
    data: Any
    path: Path
    lines: dict[KeyPath, int] = field(default_factory=dict)  # key path -> 1-based line of the key (or item)

    def line_of(self, keypath: KeyPath) -> int | None:
        """Line of the deepest known ancestor of keypath (a missing key reports its parent's line)."""
        kp = tuple(keypath)
        while kp:
            if kp in self.lines:
                return self.lines[kp]
            kp = kp[:-1]
        return self.lines.get((), 1)


def _walk(node: yaml.Node, prefix: KeyPath, lines: dict, file: Path) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for knode, vnode in node.value:
            key = knode.value if isinstance(knode, yaml.ScalarNode) else str(knode.value)
            line = knode.start_mark.line + 1
            if key in seen:
                dotted = ".".join(str(p) for p in (*prefix, key))
                raise BriefError(f"duplicate key '{key}' (first on line {seen[key]})", file=file, line=line,
                                 key=dotted, hint="remove one of them; YAML would silently keep only the last")
            seen[key] = line
            lines[(*prefix, key)] = line
            _walk(vnode, (*prefix, key), lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*prefix, i)] = item.start_mark.line + 1
            _walk(item, (*prefix, i), lines, file)


def load_yaml(path: str | Path, *, what: str = "file") -> LoadedYaml:
    path = Path(path)
    if not path.exists():
        raise BriefError(f"{what} not found", file=path, hint="check the path (it is relative to where you run mkt)")
    if path.is_dir():
        raise BriefError(f"{what} is a folder, not a YAML file", file=path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise BriefError("file is not UTF-8 text", file=path, line=line,
                         hint="save it as UTF-8 (in most editors: Save As… → Encoding: UTF-8); GBK is not accepted")
    return parse_yaml(text, path)


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML's implicit timestamps: '2026-13-01' would crash PyYAML's date constructor. Dates
    stay strings here and the schema parses them, so a bad one is an error with its line, key and a fix."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def parse_yaml(text: str, path: Path) -> LoadedYaml:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return LoadedYaml(None, path, {(): 1})
        lines: dict = {(): node.start_mark.line + 1}
        _walk(node, (), lines, path)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = " ".join(p for p in (e.context, e.problem) if p)
        hint = "check indentation and quoting near that line"
        if "\t" in text and "tab" in problem.lower() or "found character '\\t'" in problem:
            hint = "YAML does not allow tabs for indentation; use spaces"
        elif "mapping values are not allowed" in problem:
            hint = "a value containing ': ' needs quotes, e.g. headline: \"补栏: 周转\""
        raise BriefError(f"YAML syntax error: {problem}", file=path, line=line, hint=hint) from None
    except yaml.YAMLError as e:
        raise BriefError(f"YAML error: {e}", file=path, hint="check the file is valid YAML") from None
    finally:
        loader.dispose()
    return LoadedYaml(data, path, lines)
