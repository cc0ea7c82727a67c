"""Copy benchmark: variants per second for the template engine (guard included), and tokens per second for the
llm engine with batching against one request at a time (same run, same prompts). Named copy_engines.py, not
copy.py: a script called copy.py would shadow the standard library's `copy` module for everything it imports.

    python benchmarks/copy_engines.py               # template engine + llm on a tiny model, CPU
    python benchmarks/copy_engines.py --llm full --device cuda   # llm on Qwen2.5-1.5B-Instruct's architecture, random
                                                         # weights (the machines cannot download it)

Random weights never stop early, so every row generates exactly --new-tokens tokens: the timing is the
architecture's, the text is noise. The prompts are the engine's real chat prompts for a brief's segments."""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mktcli import load_brief  # noqa: E402
from mktcli.copywriting.base import CopyRequest  # noqa: E402
from mktcli.brief_copy import write_copy  # noqa: E402
from mktcli.copywriting.writer import facts_for  # noqa: E402

BRIEF = """version: 1
name: bench-copy
product: {name: 惠农e贷, category: loan, provider: 示例农村商业银行股份有限公司}
offer: {apr: "3.2%", perks: [首期利息8折, 最高可借30万, 随借随还]}
audience:
  dimensions:
    who: [养殖户, 种植户, 个体工商户, 工薪族, 新市民, 渔业合作社]
    coupon: [有优惠, 无优惠]
channels: [app_banner, sms, call_script, push]
"""
QWEN25_15B = dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                  num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0,
                  tie_word_embeddings=True, rms_norm_eps=1e-6)


def bench_template(brief, seconds: float) -> dict:
    write_copy(brief, n=1)  # warm: lexicon, rules, brand
    n_var, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        res = write_copy(brief, n=10, seed=n_var)
        n_var += sum(len(v) for v in res.variants.values())
    dt = time.perf_counter() - t0
    return {"variants": n_var, "seconds": round(dt, 2), "variants_per_s": round(n_var / dt, 1)}


def bench_llm(brief, kind: str, device: str, batch: int, new_tokens: int) -> dict:
    import torch
    from transformers import Qwen2Config

    from mktcli.copywriting.llm import LlmEngine, build_messages
    from tests.tiny_models.chat import build_model, build_tokenizer

    segs = brief.segments()
    reqs = [CopyRequest(facts_for(brief, s), s.name, tuple(s.values.values()), 7, v) for v in range(2) for s in segs]
    reqs = (reqs * (batch // len(reqs) + 1))[:batch]
    corpus = [m["content"] for r in reqs for m in build_messages(r)]
    tok = build_tokenizer(corpus)
    cfg = None
    if kind == "full":
        cfg = Qwen2Config(**{**QWEN25_15B, "bos_token_id": tok.pad_token_id, "eos_token_id": tok.eos_token_id,
                             "pad_token_id": tok.pad_token_id})
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    with tempfile.TemporaryDirectory() as tmp:
        old = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        try:
            with torch.device(device):
                model = build_model(tok, config=cfg)
        finally:
            torch.set_default_dtype(old)
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        del model
        eng = LlmEngine(model=tmp, device=device, batch_size=batch, max_new_tokens=new_tokens, temperature=0)
        tk, md = eng.load()
        n_params = sum(p.numel() for p in md.parameters())
        prompts = eng.prompts(reqs)

        def run(chunk_size: int) -> tuple[float, int]:
            total = 0
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for i in range(0, len(prompts), chunk_size):
                enc = tk(prompts[i:i + chunk_size], return_tensors="pt", padding=True,
                         add_special_tokens=False).to(device)
                with torch.inference_mode():
                    out = md.generate(**enc, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                      do_sample=False, pad_token_id=tk.pad_token_id)
                total += (out.shape[1] - enc["input_ids"].shape[1]) * out.shape[0]
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            return time.perf_counter() - t0, total

        run(min(2, batch))                    # warm-up
        n_single = min(batch, 4)              # one at a time is slow: time a few and scale per token
        dt1, tok1 = run(1) if n_single == batch else _first(run, prompts, n_single)
        dtb, tokb = run(batch)
    single, batched = tok1 / dt1, tokb / dtb
    return {"model": "random " + ("Qwen2.5-1.5B architecture" if kind == "full" else "tiny Qwen2"),
            "params": n_params, "device": device, "batch": batch, "new_tokens_per_request": new_tokens,
            "one_at_a_time_tokens_per_s": round(single, 1), "batched_tokens_per_s": round(batched, 1),
            "speedup": round(batched / single, 2), "prompt_tokens": len(tk(prompts[0])["input_ids"])}


def _first(run, prompts, n):
    full = prompts[:]
    del prompts[n:]
    try:
        return run(1)
    finally:
        prompts[:] = full


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--llm", choices=["tiny", "full", "none"], default="tiny")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "b.yaml"
        p.write_text(BRIEF, encoding="utf-8")
        brief = load_brief(p)
    out = {"machine": platform.processor() or platform.machine(), "python": platform.python_version(),
           "template": bench_template(brief, args.seconds)}
    print("template engine:", json.dumps(out["template"]), flush=True)
    if args.llm != "none":
        out["llm"] = bench_llm(brief, args.llm, args.device, args.batch, args.new_tokens)
        print("llm engine:", json.dumps(out["llm"], ensure_ascii=False), flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
