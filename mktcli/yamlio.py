"""The front door for YAML files (briefs, brands, channel and rules files, knowledge, mkt's own configs): read with
yamlread.py within the limits in force (configs/limits.yaml, then MKT_HOME/limits.yaml)."""
from __future__ import annotations

from pathlib import Path

from .limits import Limits
from .limits import limits as current_limits
from .yamlread import LoadedYaml, read_yaml

__all__ = ["LoadedYaml", "load_yaml"]   # LoadedYaml: what load_yaml returns; its users import it from here


def load_yaml(path: str | Path, *, what: str = "file", limits: Limits | None = None) -> LoadedYaml:
    """Read and parse a YAML file (yamlread.read_yaml) within `limits`, by default the limits in force when the file
    is read (for a file of mkt's own: when a line number is first asked for)."""
    return read_yaml(path, what=what, limits=current_limits if limits is None else (lambda: limits))
