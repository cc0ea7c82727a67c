"""The diffusers engine on a tiny random Qwen-Image pipeline built in code, saved with save_pretrained and loaded
back through the engine's real loading code on the CPU. Every profile's CPU-runnable path runs here: the step LoRA
(loaded, fused, unloaded), the scheduler swap, a quantized load, compile of the repeated blocks, the step cache;
and the safety nets with real torch errors: NaN images retried on a new seed, CUDA OOM, no CUDA, no extra."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from PIL import Image  # noqa: E402

from mktcli import make_posters  # noqa: E402
from mktcli.cli.app import run  # noqa: E402
from mktcli.errors import EngineError  # noqa: E402
from mktcli.visual import base  # noqa: E402
from mktcli.visual.diffusion import (SEED_STRIDE, DiffusersEngine, DiffusionOptions, build_prompt,  # noqa: E402
                                     build_quantization_config, calm_hint, colour_name, fit_to_canvas,
                                     generate_checked, image_problem, load_pipeline)
from mktcli.visual.models import load_registry, nearest_resolution  # noqa: E402
from .tiny_models.qwen_image import save_tiny_lora, save_tiny_qwen_image  # noqa: E402

from .conftest import GOOD  # noqa: E402

QWEN_RES = [(1328, 1328), (1664, 928), (928, 1664), (1472, 1104), (1104, 1472), (1584, 1056), (1056, 1584)]


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    pipe_dir = save_tiny_qwen_image(root / "tiny-qwen-image")
    lora = save_tiny_lora(pipe_dir, root / "lora")
    return {"dir": pipe_dir, "lora": lora}


@pytest.fixture
def models_yaml(tiny, monkeypatch):
    """Register the tiny model the way a user adds one: ~/.mkt/models.yaml (MKT_HOME in tests)."""
    import os
    from pathlib import Path

    home = Path(os.environ["MKT_HOME"])
    text = f"""version: 1
models:
  {tiny['dir']}:
    label: tiny random Qwen-Image
    pipeline: QwenImagePipeline
    licence: Apache-2.0
    commercial_use: true
    guidance: true_cfg
    resolutions: [[64, 64], [96, 48], [48, 96]]
    negative_prompt: 文字，水印
    profiles:
      quality: {{steps: 2, cfg: 4.0}}
      fast:
        steps: 2
        cfg: 1.0
        lora: {{source: {tiny['lora'].parent}, weight_name: {tiny['lora'].name}}}
        scheduler:
          class_name: FlowMatchEulerDiscreteScheduler
          config: {{shift: 1.0, use_dynamic_shifting: true, time_shift_type: exponential,
                    base_shift: 1.0986122886681098, max_shift: 1.0986122886681098}}
      low-vram:
        steps: 2
        cfg: 4.0
        offload: group
        quantization: {{backend: torchao, components: [transformer], kwargs: {{quant_type: int8_weight_only}}}}
      compiled: {{steps: 2, cfg: 1.0, compile: true}}
"""
    (home / "models.yaml").write_text(text, encoding="utf-8")
    base.get_engine.cache_clear()
    yield tiny["dir"]
    base.get_engine.cache_clear()


def _opts(model, **kw):
    return DiffusionOptions(model=str(model), device="cpu", **kw)


# ------------------------------------------------------------------------------------------- end to end

def test_mkt_poster_with_the_tiny_pipeline_end_to_end(models_yaml, tmp_path, write_brief, capsys):
    brief = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: diffusers\n  seed: 7"))
    code = run(["poster", str(brief), "-o", str(tmp_path / "out"), "--model", str(models_yaml), "--device", "cpu",
                "--json"])
    res = json.loads(capsys.readouterr().out)
    assert code == 0, res
    assert len(res["creatives"]) == 4
    manifest = json.loads((tmp_path / "out" / "test-loan" / "manifest.json").read_text())
    for c in manifest["creatives"]:
        v = c["engines"]["visual"]
        assert v["name"] == "diffusers" and v["model"] == str(models_yaml)
        assert v["revision"].startswith("local-") and v["dtype"] == "float32" and v["device"] == "cpu"
        assert v["profile"] == "quality" and v["steps"] == 2 and v["guidance"] == 4.0 and v["seed"] == 7
        assert tuple(v["native"]) in {(64, 64), (96, 48), (48, 96)}
        assert "文字" in v["negative_prompt"] and "补栏" not in v["prompt"]
        assert c["texts"]["ai_label"] == "AI生成"                      # the visible AIGC label is on
        assert all(k["passed"] for k in c["checks"] if k["rule"] == "AIGC-LABEL")
        with Image.open(tmp_path / "out" / "test-loan" / c["path"]) as im:
            assert im.size == (c["width"], c["height"])
            meta = json.loads(im.getexif().get(0x010E) or im.info.get("Description"))
            assert meta["aigc"] is True and meta["content_id"] == c["id"]
    assert any("diffusers:" in n for n in res["notes"])


def test_brief_picks_model_and_profile(models_yaml, tmp_path, write_brief):
    brief = write_brief(GOOD.replace("visual:\n  seed: 7", f"visual:\n  engine: diffusers\n  model: {models_yaml}\n"
                                     "  profile: fast\n  seed: 3"))
    res = make_posters(brief, tmp_path, visual_options=DiffusionOptions(device="cpu"), channels=["app_banner"])
    v = res.creatives[0].data["engines"]["visual"]
    assert v["profile"] == "fast" and v["guidance"] == 1.0 and v["lora"].endswith("tiny-lightning.safetensors")
    assert v["seed"] == 3


def test_same_seed_same_image_other_seed_other_image(models_yaml):
    lo = load_pipeline(_opts(models_yaml))
    a, _, _ = generate_checked(lo, "田野", "文字", 64, 64, 5, retries=0)
    b, _, _ = generate_checked(lo, "田野", "文字", 64, 64, 5, retries=0)
    c, _, _ = generate_checked(lo, "田野", "文字", 64, 64, 6, retries=0)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# ------------------------------------------------------------------------------------------- profiles

def test_fast_profile_fuses_the_step_lora_and_swaps_the_scheduler(models_yaml):
    plain = load_pipeline(_opts(models_yaml, profile="quality"))
    fast = load_pipeline(_opts(models_yaml, profile="fast"))
    sched = fast.pipe.scheduler.config
    assert sched["time_shift_type"] == "exponential" and sched["use_dynamic_shifting"] is True
    assert math.isclose(sched["base_shift"], math.log(3))
    w_plain = plain.pipe.transformer.transformer_blocks[0].attn.to_q.weight
    w_fast = fast.pipe.transformer.transformer_blocks[0].attn.to_q.weight
    assert not torch.allclose(w_plain, w_fast)                        # the LoRA is in the weights …
    assert not any("lora" in n for n, _ in fast.pipe.transformer.named_parameters())   # … and the adapter is gone
    arr, _, _ = generate_checked(fast, "田野", "", 64, 64, 1, retries=0)  # cfg 1: one pass a step, no negative
    assert arr.shape == (64, 64, 3)


def test_missing_step_lora_is_a_clear_error(models_yaml, tmp_path):
    import os
    from pathlib import Path

    p = Path(os.environ["MKT_HOME"]) / "models.yaml"
    p.write_text(p.read_text().replace(str(Path(str(models_yaml)).parent / "lora"), str(tmp_path / "nope")))
    with pytest.raises(EngineError) as ei:
        load_pipeline(_opts(models_yaml, profile="fast"))
    assert "step LoRA" in ei.value.message and "--profile quality" in ei.value.hint


def test_low_vram_quantized_load_runs(models_yaml):
    lo = load_pipeline(_opts(models_yaml, profile="low-vram"))
    assert lo.pipe.transformer.is_quantized
    assert any("offload" in n for n in lo.notes)                      # group offload is a CUDA call: said so
    arr, _, _ = generate_checked(lo, "田野", "文字", 64, 64, 1, retries=0)
    assert np.isfinite(arr).all()


def test_shipped_low_vram_profile_builds_a_4bit_config():
    from diffusers import PipelineQuantizationConfig

    reg = load_registry()
    name, prof = reg.profile("Qwen/Qwen-Image", "low-vram")
    assert prof.offload == "group" and prof.quantization.backend == "bitsandbytes_4bit"
    conf = build_quantization_config(prof.quantization)
    assert isinstance(conf, PipelineQuantizationConfig)
    assert conf.quant_backend == "bitsandbytes_4bit" and conf.components_to_quantize == ["transformer", "text_encoder"]
    assert conf.quant_kwargs["bnb_4bit_compute_dtype"] is torch.bfloat16


def test_compile_of_repeated_blocks_is_wired(models_yaml, monkeypatch):
    monkeypatch.setenv("MKT_COMPILE_BACKEND", "eager")   # the wiring, without waiting for a C++ compiler
    lo = load_pipeline(_opts(models_yaml, profile="compiled"))
    blocks = lo.pipe.transformer.transformer_blocks
    assert all(getattr(b, "_compiled_call_impl", None) is not None for b in blocks)
    arr, _, _ = generate_checked(lo, "田野", "", 64, 64, 1, retries=0)
    assert arr.shape == (64, 64, 3)


def test_step_cache_is_enabled_on_request(models_yaml):
    lo = load_pipeline(_opts(models_yaml, step_cache=0.2))
    assert lo.pipe.transformer.is_cache_enabled
    arr, _, _ = generate_checked(lo, "田野", "文字", 64, 64, 1, retries=0)
    assert np.isfinite(arr).all()


def test_unknown_profile_suggests_the_known_ones(models_yaml):
    with pytest.raises(EngineError) as ei:
        load_pipeline(_opts(models_yaml, profile="fastt"))
    assert "fastt" in ei.value.message and "'fast'" in ei.value.hint


def test_shipped_models_record_licence_size_and_native_resolutions():
    reg = load_registry()
    assert reg.default_model == "Qwen/Qwen-Image"
    for mid in ("Qwen/Qwen-Image", "meituan-longcat/LongCat-Image", "Qwen/Qwen-Image-2.1"):
        spec, known = reg.spec(mid)
        assert known and spec.licence and spec.params and spec.resolutions and spec.dtype == "bfloat16"
        assert {"quality", "fast", "low-vram"} <= set(spec.profiles)
    assert [tuple(r) for r in reg.spec("Qwen/Qwen-Image")[0].resolutions] == QWEN_RES
    assert reg.spec("Qwen/Qwen-Image-2.1")[0].commercial_use is False
    fast = reg.profile("Qwen/Qwen-Image", "fast")[1]
    assert fast.steps == 8 and fast.cfg == 1.0 and "Lightning" in fast.lora.source


# ------------------------------------------------------------------------------------------- safety nets

def _poison(pipe, calls: int, exc=None):
    """Make the transformer's next `calls` forward passes give NaN (or raise `exc`): a real fault in the real
    pipeline, the way fp16 overflow or a full GPU shows up."""
    state = {"left": calls}

    def hook(module, args, output):
        if state["left"] <= 0:
            return output
        state["left"] -= 1
        if exc is not None:
            raise exc
        first = output[0] if isinstance(output, tuple) else output.sample
        bad = torch.full_like(first, float("nan"))
        return (bad,) + tuple(output[1:]) if isinstance(output, tuple) else type(output)(sample=bad)

    return pipe.transformer.register_forward_hook(hook), state


def test_nan_image_is_retried_on_a_new_seed(models_yaml):
    lo = load_pipeline(_opts(models_yaml))
    handle, _ = _poison(lo.pipe, calls=4)   # 2 steps × (cond + uncond) = the whole first image
    try:
        arr, seed, rejected = generate_checked(lo, "田野", "文字", 64, 64, 11, retries=2)
    finally:
        handle.remove()
    assert rejected == [{"seed": 11, "problem": "NaN"}] and seed == 11 + SEED_STRIDE
    assert np.isfinite(arr).all()


def test_no_usable_image_after_retries_is_a_clear_error(models_yaml):
    lo = load_pipeline(_opts(models_yaml))
    handle, _ = _poison(lo.pipe, calls=10**6)
    try:
        with pytest.raises(EngineError) as ei:
            generate_checked(lo, "田野", "文字", 64, 64, 11, retries=1)
    finally:
        handle.remove()
    assert "no usable image after 2 tries" in ei.value.message and "NaN" in ei.value.message


def test_retry_is_recorded_in_the_manifest(models_yaml, tmp_path, write_brief):
    eng = DiffusersEngine()
    lo = eng.pipeline(_opts(models_yaml))
    handle, _ = _poison(lo.pipe, calls=4)
    try:
        from mktcli.poster import PosterRenderer, plan_jobs
        from mktcli import load_brief

        b = load_brief(write_brief())
        r = PosterRenderer.for_brief(b, engine="diffusers", visual_options=_opts(models_yaml))
        r.engine = eng
        _, entry = r.render(plan_jobs(b, channels=["app_banner"])[0])
    finally:
        handle.remove()
    assert entry["engines"]["visual"]["rejected"] == [{"seed": 7, "problem": "NaN"}]


def test_image_problems_detected():
    rng = np.random.default_rng(0)
    ok = rng.uniform(0, 1, (16, 16, 3)).astype(np.float32)
    assert image_problem(ok) is None
    nan = ok.copy()
    nan[3, 3, 0] = np.nan
    assert image_problem(nan) == "NaN"
    assert image_problem(np.zeros((16, 16, 3), np.float32)) == "black"
    assert image_problem(np.full((16, 16, 3), 0.6, np.float32)) == "blank"


def test_cuda_out_of_memory_is_a_clear_error_with_the_fix(models_yaml, tmp_path, write_brief, capsys):
    eng = base.get_engine("diffusers")
    lo = eng.pipeline(_opts(models_yaml))
    oom = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    handle, _ = _poison(lo.pipe, calls=10**6, exc=oom)
    try:
        brief = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: diffusers\n  seed: 7"))
        code = run(["poster", str(brief), "-o", str(tmp_path), "--model", str(models_yaml), "--device", "cpu"])
    finally:
        handle.remove()
    out = capsys.readouterr()
    assert code == 2
    text = " ".join((out.out + out.err).split())
    assert "ran out of memory" in text and "--profile low-vram" in text and "Traceback" not in text


def test_explicit_diffusers_without_cuda_is_exit_2(tmp_path, write_brief, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    brief = write_brief(GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: diffusers\n  seed: 7"))
    code = run(["poster", str(brief), "-o", str(tmp_path)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and "needs a CUDA GPU" in err and "--engine procedural" in err
    assert not (tmp_path / "test-loan" / "manifest.json").exists()


def test_without_the_gpu_extra_says_how_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "diffusers" else real(n, *a))
    with pytest.raises(EngineError) as ei:
        DiffusersEngine().prepare(DiffusionOptions(device="cpu"))
    assert "[gpu]" in ei.value.message and "mktcli[gpu]" in ei.value.hint
    name, note = base.resolve_engine_name("auto", has_image=False)
    assert name == "illustration" and "mktcli[gpu]" in note


def test_auto_on_cpu_falls_back_and_says_why():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    name, note = base.resolve_engine_name("auto", has_image=False)
    assert name == "illustration" and ("no NVIDIA GPU" in note or "no CUDA GPU" in note)


def test_auto_asks_torch_when_a_driver_is_there_and_falls_back_when_cuda_does_not_work(monkeypatch):
    import mktcli.gpu

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setattr(mktcli.gpu, "nvidia_gpu_present", lambda: True)   # a driver, but torch finds no device
    name, note = base.resolve_engine_name("auto", has_image=False)
    assert name == "illustration" and "no CUDA GPU" in note


def test_model_not_in_cache_offline_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(EngineError) as ei:
        load_pipeline(DiffusionOptions(model="example-org/not-downloaded", device="cpu"))
    assert "not in the local cache" in ei.value.message and "hf download example-org/not-downloaded" in ei.value.hint


def test_research_licence_model_refused_unless_allowed():
    with pytest.raises(EngineError) as ei:
        load_pipeline(DiffusionOptions(model="Qwen/Qwen-Image-2.1", device="cpu"))
    assert "non-commercial" in ei.value.message and "--allow-research-licence" in ei.value.hint


# ------------------------------------------------------------------------------------------- sizes and prompts

@pytest.mark.parametrize("size,expect", [((1080, 1920), (928, 1664)), ((1242, 290), (1664, 928)),
                                         ((800, 450), (1664, 928)), ((300, 250), (1472, 1104)),
                                         ((640, 640), (1328, 1328)), ((300, 600), (928, 1664))])
def test_nearest_native_resolution(size, expect):
    assert nearest_resolution(QWEN_RES, *size) == expect


def test_unknown_model_gets_a_1mp_size_of_the_right_aspect():
    w, h = nearest_resolution([], 1600, 900)
    assert w % 16 == 0 and h % 16 == 0 and abs(w / h - 16 / 9) < 0.05 and 0.9e6 < w * h < 1.15e6


def _disc(w, h):
    img = Image.new("RGB", (w, h), (40, 90, 60))
    from PIL import ImageDraw

    r = min(w, h) // 5
    ImageDraw.Draw(img).ellipse([w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r], fill=(250, 220, 80))
    return img


def _bbox_aspect(img: Image.Image) -> float:
    a = np.asarray(img).astype(int)
    ys, xs = np.nonzero((a[..., 0] > 200) & (a[..., 1] > 170))
    return (xs.max() - xs.min() + 1) / (ys.max() - ys.min() + 1)


@pytest.mark.parametrize("canvas,zone,how", [((1080, 1920), (0, 1075, 1080, 1690), "crop"),
                                             ((800, 450), (460, 0, 800, 370), "crop"),
                                             ((1242, 290), (500, 0, 1242, 226), "extend"),
                                             ((728, 90), (330, 0, 728, 68), "extend")])
def test_fit_to_canvas_never_squashes(canvas, zone, how):
    gen = _disc(928, 1664) if canvas[1] > canvas[0] else _disc(1664, 928)
    out, info = fit_to_canvas(gen, *canvas, zone)
    assert out.size == canvas and info["fit"] == how
    assert abs(_bbox_aspect(out) - 1.0) < 0.08        # the disc stays a disc
    if how == "extend":                                # the whole picture sits in the visual zone
        a = np.asarray(out).astype(int)
        ys, xs = np.nonzero((a[..., 0] > 200) & (a[..., 1] > 170))
        assert xs.min() >= zone[0] and xs.max() < zone[2]


def test_prompt_has_scene_style_and_calm_side():
    from mktcli.brand import load_brand
    from mktcli.visual.base import VisualRequest

    pal = load_brand("default").palette_for("loan")
    spec = load_registry().spec("Qwen/Qwen-Image")[0]
    req = VisualRequest(1080, 1920, pal, "loan", "fields", 1, (0, 1075, 1080, 1690), scene="清晨的养殖场，金色阳光")
    prompt, neg = build_prompt(req, spec)
    assert prompt.startswith("清晨的养殖场，金色阳光") and "上方留出" in prompt and "绿" in prompt
    assert prompt.endswith(spec.prompt_suffix) and "文字" in neg
    req2 = VisualRequest(1080, 1920, pal, "loan", "fields", 1, (0, 1075, 1080, 1690), headline="补栏周转 不误农时")
    prompt2, neg2 = build_prompt(req2, spec)
    assert "“补栏周转 不误农时”" in prompt2 and "文字" not in neg2.split(",")


def test_calm_hint_and_colour_words():
    assert "左侧" in calm_hint(1242, 290, (500, 0, 1242, 226)) and "右侧" in calm_hint(1242, 290, (500, 0, 1242, 226))
    assert colour_name("#1F6B3A") == "深绿" and colour_name("#F6C445") == "金黄" and colour_name("#FFFFFF") == "白"


# ------------------------------------------------------------------------------------------- mkt models / doctor

def test_mkt_models_lists_licences_profiles_and_what_is_local(models_yaml, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    snap = tmp_path / "hf" / "hub" / "models--meituan-longcat--LongCat-Image" / "snapshots" / "abc123"
    snap.mkdir(parents=True)
    (snap / "model_index.json").write_text("{}")
    assert run(["models", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["model"]: r for r in out["models"]}
    assert out["default_model"] == "Qwen/Qwen-Image" and rows["Qwen/Qwen-Image"]["default"]
    assert rows["Qwen/Qwen-Image-2.1"]["commercial_use"] is False
    assert rows["meituan-longcat/LongCat-Image"]["local"] == str(snap)       # found in the HF cache
    assert rows["Qwen/Qwen-Image"]["local"] is None
    assert rows[str(models_yaml)]["local"] == str(models_yaml)               # the user's own model, a folder
    assert rows[str(models_yaml)]["profiles"]["fast"]["lora_local"] is True
    assert rows["Qwen/Qwen-Image"]["profiles"]["fast"]["lora"]["source"] == "lightx2v/Qwen-Image-Lightning"
    assert run(["models", "--profiles"]) == 0
    text = capsys.readouterr().out
    assert "research only" in text and "low-vram" in text and "Lightning" in text


def test_mkt_doctor_reports_torch_extras_fonts_and_auto(capsys):
    assert run(["doctor", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["torch"]["installed"] and d["torch"]["cuda_available"] == torch.cuda.is_available()
    assert d["extras"]["gpu"]["diffusers"] and all(f["ok"] for f in d["fonts"].values())
    assert d["engines"]["auto_picks"] == ("diffusers" if torch.cuda.is_available() else "illustration")
    assert "hf_cache" in d["dirs"] and "Qwen/Qwen-Image" in d["models"]
    assert run(["doctor"]) == 0
    assert "visual.engine auto" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------- text_in_image

TII = GOOD.replace("visual:\n  seed: 7", "visual:\n  engine: diffusers\n  text_in_image: true\n  seed: 7")


def test_text_in_image_falls_back_to_typesetting_when_ocr_cannot_read_it(models_yaml, tmp_path, write_brief):
    pytest.importorskip("rapidocr_onnxruntime")
    res = make_posters(write_brief(TII), tmp_path, channels=["moments_16x9"], segments=["养殖户"],
                       visual_options=_opts(models_yaml, candidates=2))
    d = res.creatives[0].data
    rec = d["engines"]["visual"]["headline_in_image"]
    assert rec["verified"] is False and len(rec["candidates"]) == 2 and "typeset" in rec["reason"]
    head = next(b for b in d["blocks"] if b["role"] == "headline")
    assert not head["fonts"][0].startswith("model:") and d["texts"]["headline"] == "补栏周转 不误农时"
    assert "补栏" not in d["engines"]["visual"]["prompt"]     # the picture used was made without the headline


class _DrawnHeadline(DiffusersEngine):
    """Candidates whose headline is drawn with Pillow where a model would draw it: one with a wrong character,
    one exact. Everything after generation (OCR read-back, choice, composition) is the real code."""

    def candidates(self, loaded, req, opts, prompt, negative, native):
        from mktcli.compose.fonts import registry, truetype
        from PIL import ImageDraw

        fid = next(i for i, f in registry().items() if f.weight == 700)
        out = []
        for seed, text in ((req.seed, "补栏周转 不误农吋"), (req.seed + 1, req.headline)):
            canvas = Image.new("RGB", (req.width, req.height), (24, 80, 48))
            x0, y0, x1, y1 = req.headline_zone
            size = int((y1 - y0) * 0.45)
            ImageDraw.Draw(canvas).text((x0 + 2, y0 + 2), text, font=truetype(fid, size), fill=(255, 255, 255))
            out.append((seed, canvas, {"fit": "crop"}))
        return out


def test_text_in_image_keeps_the_candidate_ocr_reads_exactly(models_yaml, tmp_path, write_brief):
    pytest.importorskip("rapidocr_onnxruntime")
    from mktcli import load_brief
    from mktcli.poster import PosterRenderer, plan_jobs

    b = load_brief(write_brief(TII))
    r = PosterRenderer.for_brief(b, visual_options=_opts(models_yaml))
    r.engine = _DrawnHeadline()
    _, d = r.render(plan_jobs(b, segments=["养殖户"], channels=["moments_16x9"])[0])
    rec = d["engines"]["visual"]["headline_in_image"]
    assert rec["verified"] is True and rec["seed"] == 8                       # the exact one, not the first
    assert [c["exact"] for c in rec["candidates"]] == [False, True]
    head = [blk for blk in d["blocks"] if blk["role"] == "headline"]
    assert len(head) == 1 and head[0]["fonts"][0].startswith("model:")     # not typeset a second time
    assert d["texts"]["headline"] == "补栏周转 不误农时" and d["texts"]["apr"]   # numbers are still typeset


def test_auto_with_cuda_but_no_model_falls_back_and_says_why(monkeypatch, tmp_path, write_brief):
    import mktcli.gpu

    monkeypatch.setattr(mktcli.gpu, "nvidia_gpu_present", lambda: True)   # a GPU box without the weights
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Test GPU")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    base.get_engine.cache_clear()
    res = make_posters(write_brief(), tmp_path / "out", channels=["app_banner"])
    assert not res.failures and res.creatives[0].data["engines"]["visual"]["name"] == "illustration"
    assert any("diffusers could not start" in n and "not in the local cache" in n for n in res.notes)


def test_model_option_with_another_engine_is_noted(tmp_path, write_brief):
    res = make_posters(write_brief(), tmp_path, channels=["app_banner"], engine="procedural",
                       visual_options=DiffusionOptions(profile="fast"))
    assert any("apply to the diffusers engine" in n for n in res.notes)


def test_generated_poster_metadata_names_the_model(models_yaml, tmp_path, write_brief):
    res = make_posters(write_brief(), tmp_path, channels=["app_banner"], segments=["养殖户"], engine="diffusers",
                       visual_options=_opts(models_yaml))
    with Image.open(res.out_dir / res.creatives[0].data["path"]) as im:
        meta = json.loads(im.getexif().get(0x010E))
    assert meta["aigc"] is True and meta["aigc_model"] == str(models_yaml)


def test_long_renders_report_each_step(models_yaml, tmp_path, write_brief):
    lines: list[str] = []
    make_posters(write_brief(), tmp_path, channels=["app_banner"], segments=["养殖户"], engine="diffusers",
                 visual_options=_opts(models_yaml),
                 on_detail=lines.append)
    assert "96×48 seed 7: step 1/2" in lines and "96×48 seed 7: step 2/2" in lines
