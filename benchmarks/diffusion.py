"""GPU benchmark for the diffusers engine: seconds per 1328×1328 image and peak GPU memory for each profile, and
images per minute for a batch.

    python benchmarks/diffusion.py                # full-size Qwen-Image architecture, random weights, CUDA
    python benchmarks/diffusion.py --tiny --device cpu --size 64   # the same code on a tiny model (smoke run)

The weights cannot be downloaded on the benchmark machines, so the pipeline is built from Qwen-Image's published
architecture (20B MMDiT, its VAE, the Qwen2.5-VL-7B text encoder) with RANDOM weights: the arithmetic, memory and
kernels are those of the real model, the pictures are noise. Timings go through mkt's own code
(`apply_profile`, `generate`): the fast profile's step LoRA is a random LoRA of the same shape, loaded, fused and
unloaded the way the Lightning LoRA is. The baseline is the `quality` profile in the same run; ratios compare
against it. Results are printed and written as JSON (--json-out) after every stage, so a cut-off run keeps what
it measured."""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mktcli.errors import EngineError  # noqa: E402
from mktcli.visual.diffusion import Loaded, apply_profile, generate  # noqa: E402
from mktcli.visual.models import load_registry  # noqa: E402

PROMPT = ("春天的田野与农舍，晨光洒在绿色的庄稼上，写实摄影，深绿与金黄为主色调，温暖、可信赖的金融品牌视觉，"
          "画面主体位于下部，上方留出大面积干净、简洁、低对比的背景用于排版文字，超清，4K，电影级构图。")
NEGATIVE = "文字，水印，logo，乱码，低质量，模糊，畸形，过曝"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny random model (smoke test of this script)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", type=int, default=1328, help="square image side (Qwen-Image native: 1328)")
    ap.add_argument("--batch", type=int, default=2,
                    help="images per batch for the images-per-minute figure (4 at 1328² runs out of 80 GB)")
    ap.add_argument("--lora-rank", type=int, default=64)
    ap.add_argument("--stages", default="quality,cache,fast,fast4,batch,compile,low-vram",
                    help="comma-separated stages to run, in order")
    ap.add_argument("--low-vram-steps", type=int, default=0, help="steps for low-vram (0 = the profile's)")
    ap.add_argument("--budget", type=float, default=1e9, help="skip stages that start after this many seconds")
    ap.add_argument("--attention", default=None, help="diffusers attention backend for every stage (e.g. _native_cudnn)")
    ap.add_argument("--json-out", type=Path, default=None)
    args = ap.parse_args()

    import diffusers
    import torch
    import transformers

    from tests.tiny_models.qwen_image import build_qwen_image, full_configs, tiny_configs

    t_start = time.perf_counter()
    cuda = args.device.startswith("cuda")
    device_name = torch.cuda.get_device_name(0) if cuda else (platform.processor() or "cpu")
    env = {"torch": torch.__version__, "diffusers": diffusers.__version__, "transformers": transformers.__version__,
           "python": platform.python_version(), "device": device_name,
           "weights": "random (architecture of Qwen/Qwen-Image)" + (" — TINY" if args.tiny else ""),
           "size": [args.size, args.size]}
    print(json.dumps(env, ensure_ascii=False))
    results: dict = {"env": env, "stages": {}}

    def save():
        if args.json_out:
            args.json_out.write_text(json.dumps(results, ensure_ascii=False, indent=2))

    registry = load_registry()
    spec, _ = registry.spec("Qwen/Qwen-Image")
    dtype = torch.bfloat16 if cuda else torch.float32
    t = time.perf_counter()
    pipe = build_qwen_image(tiny_configs() if args.tiny else full_configs(), dtype=dtype,
                            device=args.device if cuda else "cpu")
    if args.attention:
        pipe.transformer.set_attention_backend(args.attention)
        env["attention"] = args.attention
    n_params = sum(p.numel() for p in pipe.transformer.parameters())
    n_text = sum(p.numel() for p in pipe.text_encoder.parameters())
    results["build_s"] = round(time.perf_counter() - t, 1)
    results["params"] = {"transformer": n_params, "text_encoder": n_text}
    print(f"built in {results['build_s']} s: transformer {n_params / 1e9:.2f} B params, "
          f"text encoder {n_text / 1e9:.2f} B", flush=True)

    def loaded(profile_name: str, profile=None) -> Loaded:
        prof = profile or registry.profile("Qwen/Qwen-Image", profile_name)[1]
        return Loaded(pipe, "Qwen/Qwen-Image (random weights)", spec, True, profile_name, prof, args.device,
                      str(dtype).replace("torch.", ""), None)

    def timed(name: str, lo: Loaded, n_images: int = 1, steps: int | None = None, cfg: float | None = None,
              warm: bool = True, repeats: int = 1) -> dict:
        if warm:  # first call pays for kernels, allocator growth and (compile) graph capture
            t0 = time.perf_counter()
            generate(lo, PROMPT, NEGATIVE, args.size, args.size, [0], steps=2, cfg=cfg)
            first = time.perf_counter() - t0
        else:
            first = None
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        times = []
        for r in range(repeats):
            t0 = time.perf_counter()
            generate(lo, PROMPT, NEGATIVE, args.size, args.size, list(range(r, r + n_images)), steps=steps, cfg=cfg)
            if cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        sec = min(times)
        out = {"profile": lo.profile_name, "steps": steps or lo.profile.steps,
               "cfg": lo.profile.cfg if cfg is None else cfg, "images": n_images, "seconds": round(sec, 3),
               "s_per_image": round(sec / n_images, 3), "images_per_min": round(60 * n_images / sec, 2),
               "warmup_2steps_s": round(first, 2) if first is not None else None}
        if cuda:
            out["peak_alloc_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
            out["peak_reserved_gb"] = round(torch.cuda.max_memory_reserved() / 2**30, 2)
        results["stages"][name] = out
        print(f"{name:10s} {json.dumps(out)}", flush=True)
        save()
        return out

    def random_lora_loader(p, lora):
        """Same calls as the Lightning LoRA (load → fuse → unload), from an in-memory random state dict."""
        from peft import LoraConfig, get_peft_model_state_dict

        tr = p.transformer
        tr.add_adapter(LoraConfig(r=args.lora_rank, lora_alpha=args.lora_rank, init_lora_weights="gaussian",
                                  target_modules=["to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj",
                                                  "add_v_proj", "to_add_out"]), adapter_name="tmp")
        sd = {k: v.detach().clone() for k, v in get_peft_model_state_dict(tr, adapter_name="tmp").items()}
        tr.delete_adapters("tmp")
        sd = {"transformer." + k: v for k, v in sd.items()}
        p.load_lora_weights(sd, adapter_name="mkt_steps")
        p.fuse_lora(components=["transformer"], lora_scale=lora.scale, adapter_names=["mkt_steps"])
        p.unload_lora_weights()

    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    placed = False
    for stage in stages:
        if time.perf_counter() - t_start > args.budget:
            print(f"{stage}: skipped (over the --budget of {args.budget:.0f} s)", flush=True)
            results["stages"][stage] = "skipped: time budget"
            save()
            continue
        if stage == "quality":
            lo = loaded("quality")
            apply_profile(pipe, lo.profile, args.device)
            placed = True
            timed("quality", lo)
        elif stage in ("fast", "fast4", "batch"):
            prof = registry.profile("Qwen/Qwen-Image", "fast4" if stage == "fast4" else "fast")[1]
            lo = loaded("fast4" if stage == "fast4" else "fast", prof)
            if not getattr(pipe, "_mkt_fast", False):  # the LoRA is fused once
                t0 = time.perf_counter()
                apply_profile(pipe, prof, args.device, lora_loader=random_lora_loader)
                results["lora_fuse_s"] = round(time.perf_counter() - t0, 2)
                pipe._mkt_fast = True
                placed = True
            try:
                timed("batch" if stage == "batch" else stage, lo, n_images=args.batch if stage == "batch" else 1)
            except EngineError as e:   # e.g. a batch that does not fit: record it and go on
                results["stages"][stage] = f"failed: {e.message}"
                print(f"{stage}: {e.message}", flush=True)
                save()
        elif stage == "cache":
            from diffusers.hooks import FirstBlockCacheConfig

            if not placed:
                pipe.to(args.device)
            lo = loaded("quality")
            pipe.transformer.enable_cache(FirstBlockCacheConfig(threshold=0.1))
            try:  # the cache pays off over many steps: quality settings
                timed("quality+cache", lo)
            finally:
                pipe.transformer.disable_cache()
        elif stage == "compile":
            if not placed:
                pipe.to(args.device)
            lo = loaded("fast")
            t0 = time.perf_counter()
            pipe.transformer.compile_repeated_blocks(fullgraph=True)
            r = timed("fast+compile", lo)
            r["compile_and_first_call_s"] = round(time.perf_counter() - t0 - r["seconds"], 1)
            save()
        elif stage == "low-vram":
            prof = registry.profile("Qwen/Qwen-Image", "low-vram")[1]
            lo = loaded("low-vram", prof)
            for m in pipe.transformer.modules():  # undo compile: offload hooks change what the blocks call
                if getattr(m, "_compiled_call_impl", None) is not None:
                    m._compiled_call_impl = None
            pipe.to("cpu")
            if cuda:
                torch.cuda.empty_cache()
            t0 = time.perf_counter()
            notes = apply_profile(pipe, prof.model_copy(update={"scheduler": None, "lora": None}), args.device)
            results["low_vram_setup_s"] = round(time.perf_counter() - t0, 1)
            r = timed("low-vram", lo, steps=args.low_vram_steps or None, warm=True)
            r["notes"] = notes
            save()
    results["total_s"] = round(time.perf_counter() - t_start, 1)
    q = results["stages"].get("quality")
    if isinstance(q, dict):
        for name, r in results["stages"].items():
            if isinstance(r, dict) and name != "quality":
                r["speedup_vs_quality"] = round(q["s_per_image"] / r["s_per_image"], 2)
        print("speed-up per image against quality (same run): " + ", ".join(
            f"{n} {r['speedup_vs_quality']}×" for n, r in results["stages"].items()
            if isinstance(r, dict) and "speedup_vs_quality" in r))
    save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
