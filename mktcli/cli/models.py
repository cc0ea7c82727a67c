"""`mkt models` and `mkt doctor`: which diffusion models and profiles mkt knows, and what this machine has."""
from __future__ import annotations

from typing import Annotated

import typer

from ._options import JsonOpt
from ._console import output
from ..hub import local_copy, lora_copy

MODELS_HELP = ("List the diffusion models and their speed/memory profiles (configs/models.yaml and "
               "~/.mkt/models.yaml): licence, size, native sizes, and whether each is downloaded here.")
DOCTOR_HELP = "Report torch/CUDA/GPU memory, installed extras, fonts, cache folders, and what engine auto picks."


def models(
    as_json: JsonOpt = False,
    all_profiles: Annotated[bool, typer.Option("--profiles", help="Show every profile's settings.")] = False,
) -> int:
    from rich.markup import escape
    from rich.table import Table

    from ..visual.models import load_registry, resolve_profile

    reg = load_registry()
    rows = []
    for mid, spec in reg.models.items():
        local = local_copy(mid)
        profiles = {}
        for pname in spec.profiles:
            p = resolve_profile(spec.profiles, pname)
            profiles[pname] = {**p.model_dump(exclude_none=True, exclude={"extends"}),
                               "lora_local": bool(lora_copy(p.lora.source, p.lora.weight_name)) if p.lora else None}
        rows.append({"model": mid, "label": spec.label, "licence": spec.licence,
                     "commercial_use": spec.commercial_use, "params": spec.params, "download_gb": spec.download_gb,
                     "resolutions": [list(r) for r in spec.resolutions], "chinese_word": spec.chinese_word,
                     "default": mid == reg.default_model, "local": str(local) if local else None,
                     "notes": spec.notes, "profiles": profiles})
    out = output(as_json)
    if as_json:
        return out.result({"default_model": reg.default_model, "default_profile": reg.default_profile,
                           "models": rows, "profile_notes": reg.profile_notes})
    con = out.con
    t = Table(title="diffusion models (visual.engine: diffusers)", title_justify="left")
    for col in ("model", "licence", "CN text", "local"):  # fits 80 columns
        t.add_column(col, no_wrap=col != "licence", min_width=13 if col == "licence" else None)
    for r in rows:
        com = {True: "[green]commercial ok[/green]", False: "[red]research only[/red]", None: "?"}[
            r["commercial_use"]]
        here = "[green]yes[/green]" if r["local"] else f"no\n{r['download_gb']:g} GB" if r["download_gb"] else "no"
        name = escape(r["model"]) + (" [bold](default)[/bold]" if r["default"] else "")
        name += f"\n[dim]{escape(r['params'])}[/dim]\n[dim]profiles: {', '.join(r['profiles'])}[/dim]"
        t.add_row(name, escape(r["licence"]) + "\n" + com,
                  f"{r['chinese_word']:g}" if r["chinese_word"] else "—", here)
    con.print(t)
    con.print("[dim]CN text: ChineseWord score (LongCat-Image report), how well the model draws Chinese text[/dim]")
    if all_profiles:
        for r in rows:
            pt = Table(title=r["model"], title_justify="left")
            for col in ("profile", "steps", "cfg", "step LoRA", "offload", "quantization"):
                pt.add_column(col)
            for pname, p in r["profiles"].items():
                lora = p.get("lora", {})
                lname = (lora.get("weight_name") or lora.get("source", "")) if lora else "—"
                if lora:
                    lname += " [green](here)[/green]" if p.get("lora_local") else " (not downloaded)"
                q = p.get("quantization")
                pt.add_row(pname, str(p.get("steps", "")), str(p.get("cfg", "")), lname,
                           p.get("offload", "none"), q["backend"] if q else "—")
            con.print(pt)
    con.print("[bold]profiles[/bold] (--profile):")
    for name, note in reg.profile_notes.items():
        con.print(f"  [cyan]{escape(name)}[/cyan]: {escape(note)}")
    con.print("Any diffusers text-to-image model also works by hub id or folder (--diffusion-model); add your own in "
              "~/.mkt/models.yaml. `mkt models --profiles` shows each profile's settings.")
    return 0


def doctor(as_json: JsonOpt = False) -> int:
    from rich.markup import escape

    from ..doctor import diagnose

    out = output(as_json)
    d = diagnose()
    if as_json:
        return out.result(d)
    con = out.con
    ok, bad = "[green]✓[/green]", "[red]✗[/red]"
    con.print(f"[bold]mkt {d['mkt']}[/bold] · Python {d['python']} · {escape(d['platform'])}")
    t = d["torch"]
    if not t.get("installed"):
        con.print(f"{bad} torch not installed " + escape("(generated key visuals need: pip install 'mktcli[gpu]')"))
    elif t.get("error"):
        con.print(f"{bad} torch is installed but does not import: {escape(t['error'])}")
    else:
        if t.get("probe"):   # no NVIDIA driver: torch was not imported to ask
            con.print(f"{ok} torch {t['version']}")
        else:
            con.print(f"{ok} torch {t['version']} (CUDA build {t['cuda_build'] or 'none: CPU only'})")
        if t["cuda_available"]:
            for g in t["gpus"]:
                con.print(f"{ok} GPU {g['index']}: {escape(g['name'])}, {g['memory_gb']} GB "
                          f"({g['free_gb']} GB free), compute {g['capability']}, bf16 {'yes' if g['bf16'] else 'no'}")
        else:
            con.print(f"{bad} " + (escape(t["probe"]) if t.get("probe") else "no CUDA GPU visible to torch"))
    for group, dists in d["extras"].items():
        parts = [f"{n} {v}" if v else f"[dim]{n} —[/dim]" for n, v in dists.items()]
        con.print(f"  [bold]{group}[/bold]: " + ", ".join(parts))
    fonts_ok = all(f["ok"] for f in d["fonts"].values())
    con.print(f"{ok if fonts_ok else bad} fonts: " + ", ".join(
        f"{escape(f['family'])}" + ("" if f["ok"] else " [red](missing)[/red]") for f in d["fonts"].values()))
    dirs = d["dirs"]
    con.print(f"  configs: {escape(dirs['configs'])}\n  user overrides: {escape(dirs['user (MKT_HOME)'])}\n"
              f"  HF cache: {escape(dirs['hf_cache'])}" + ("" if dirs["hf_cache_exists"] else " (not created yet)")
              + (" · offline mode" if dirs["hf_offline"] else ""))
    for m, where in d["models"].items():
        con.print(f"  {ok if where else '[dim]·[/dim]'} {escape(m)}" + (f": {escape(where)}" if where else
                                                                       " [dim]not downloaded[/dim]"))
    e = d["engines"]
    con.print(f"[bold]visual.engine auto[/bold] → {e['auto_picks']} ({escape(e['why'])})")
    for a in d["advice"]:
        con.print(f"[yellow]→[/yellow] {escape(a)}")
    return 0
