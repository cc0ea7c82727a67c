"""Options shared by several commands, declared once."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder; the bundle goes to OUT/<brief name>/.")]
SeedOpt = Annotated[Optional[int], typer.Option("--seed", help="Seed for the key visual (default: the brief's visual.seed).")]
EngineOpt = Annotated[Optional[str], typer.Option("--engine", help="Key-visual engine: auto, procedural, image (overrides visual.engine).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON result on stdout instead of tables.")]
ChannelFilesOpt = Annotated[Optional[list[Path]], typer.Option("--channels", help="Extra channel preset YAML file(s) that add or override channels.")]
