"""Options shared by several commands, declared once."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

OutOpt = Annotated[Path, typer.Option("--out", "-o", help="Output folder; the bundle goes to OUT/<brief name>/.")]
SEED_MAX = 4294967295   # 2^32 − 1, as visual.seed (mktcli.brief.SEED_MAX): numpy and torch take 32-bit seeds
SeedOpt = Annotated[Optional[int], typer.Option("--seed", min=0, max=SEED_MAX, help="Seed for the key visual, 0 … 2^32−1 (default: the brief's visual.seed).")]
EngineOpt = Annotated[Optional[str], typer.Option("--engine", help="Key-visual engine: auto, procedural, image, diffusers (overrides visual.engine).")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", rich_help_panel="Diffusion (engine diffusers)", help="Diffusion model: hub id or local folder (overrides visual.model; `mkt models` lists profiles).")]
ProfileOpt = Annotated[Optional[str], typer.Option("--profile", rich_help_panel="Diffusion (engine diffusers)", help="Diffusion profile: quality, fast, low-vram … (overrides visual.profile).")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", rich_help_panel="Diffusion (engine diffusers)", help="Where the diffusion model runs: cuda (default), cuda:N, or cpu for small models.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a machine-readable JSON result on stdout instead of tables.")]
VariantsOpt = Annotated[Optional[int], typer.Option("--variants", min=1, max=8, help="Visually distinct creatives per segment × channel (layout family, arrangement; default: the brief's variants, else 1).")]
ChannelFilesOpt = Annotated[Optional[list[Path]], typer.Option("--channels", help="Extra channel preset YAML file(s) that add or override channels.")]
