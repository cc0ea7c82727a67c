"""The image-to-video engine (mktcli/motion/i2v.py) on a tiny random Wan 2.2 TI2V pipeline built in code
(tests/tiny_wan.py), saved with save_pretrained and loaded back through the engine's real loading code on the CPU:
the model's frames, their determinism, the scene they go into under the poster's text, and the clear errors. The
real Wan2.2-TI2V-5B on CUDA is not run here (docs/video.md)."""
from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from PIL import Image, ImageDraw  # noqa: E402

from mktcli.errors import EngineError  # noqa: E402
from mktcli.motion import i2v  # noqa: E402

from .tiny_wan import save_tiny_wan  # noqa: E402

SMALL = dict(steps=2, max_area=32 * 32, max_frames=5)   # the tiny model at 32×32, 5 frames (2 latent frames)


@pytest.fixture(scope="module")
def tiny_wan(tmp_path_factory):
    return save_tiny_wan(tmp_path_factory.mktemp("wan") / "tiny-wan2.2-ti2v")


@pytest.fixture(scope="module")
def engine(tiny_wan):
    return i2v.DiffusersImageToVideo(model=str(tiny_wan), device="cpu", **SMALL)


def _picture(W: int = 90, H: int = 60) -> Image.Image:
    """A key visual with structure (a gradient sky, a field, a sun): not a multiple of the model's 32 px."""
    x = np.linspace(0, 1, W)[None, :, None]
    y = np.linspace(0, 1, H)[:, None, None]
    arr = np.concatenate([np.broadcast_to(40 + 150 * y, (H, W, 1)), np.broadcast_to(90 + 100 * x, (H, W, 1)),
                          np.broadcast_to(200 - 120 * y, (H, W, 1))], axis=2)
    im = Image.fromarray(arr.astype("uint8"))
    d = ImageDraw.Draw(im)
    d.rectangle((0, int(H * 0.65), W, H), fill=(60, 140, 50))
    d.ellipse((W * 0.6, H * 0.1, W * 0.8, H * 0.4), fill=(250, 210, 80))
    return im


def test_the_tiny_folder_has_the_layout_of_wan22_ti2v_5b(tiny_wan):
    idx = json.loads((tiny_wan / "model_index.json").read_text(encoding="utf-8"))
    # as Wan-AI/Wan2.2-TI2V-5B-Diffusers: a WanPipeline folder in TI2V mode, no image encoder, one transformer
    assert idx["_class_name"] == "WanPipeline" and idx["expand_timesteps"] is True and idx["boundary_ratio"] is None
    assert "image_encoder" not in idx and idx["transformer_2"] == [None, None]
    assert idx["text_encoder"] == ["transformers", "UMT5EncoderModel"]
    assert idx["scheduler"] == ["diffusers", "UniPCMultistepScheduler"]
    vae = json.loads((tiny_wan / "vae" / "config.json").read_text(encoding="utf-8"))
    assert vae["z_dim"] == 48 and vae["patch_size"] == 2 and vae["scale_factor_spatial"] == 16
    assert (tiny_wan / "tokenizer" / "tokenizer.json").is_file()


def test_load_gives_the_image_to_video_pipeline_in_float32_on_the_cpu(tiny_wan):
    pipe = i2v._load(str(tiny_wan), "cpu")
    assert type(pipe).__name__ == "WanImageToVideoPipeline"     # not the WanPipeline the folder names
    assert pipe.config.expand_timesteps is True and pipe.image_encoder is None
    assert {m.dtype for m in (pipe.transformer, pipe.vae, pipe.text_encoder)} == {torch.float32}
    assert i2v._load(str(tiny_wan), "cpu") is pipe                # one load per model and device
    assert i2v._multiple(pipe) == 32                              # 16× VAE × 2×2 patches, as the 5B


def test_dtypes_bf16_on_cuda_with_a_float32_vae_float32_on_the_cpu():
    assert i2v.load_dtypes("cuda") == {"default": torch.bfloat16, "vae": torch.float32}
    assert i2v.load_dtypes("cuda:1")["default"] is torch.bfloat16
    assert i2v.load_dtypes("cpu") == {"default": torch.float32}


def test_model_size_and_frames():
    assert i2v.model_size(1080, 1920) == (704, 1248)       # 9:16 at ~720p area, multiples of 32
    assert i2v.model_size(1920, 1080) == (1248, 704)
    assert i2v.model_size(90, 60, 64 * 64, 32) == (64, 32)
    assert i2v.model_frames(50) == 25 and i2v.model_frames(300) == 121 and i2v.model_frames(10) == 17
    assert all((i2v.model_frames(f) - 1) % 4 == 0 for f in range(2, 400))
    assert i2v.model_frames(50, max_frames=5) == 5 and i2v.model_frames(50, max_frames=7) == 5


def test_animate_gives_n_rgb_frames_of_the_input_size_and_repeats_by_seed(engine):
    pic = _picture()
    a = engine.animate(pic, frames=7, fps=10, seed=1, prompt="a farm at sunrise, " + i2v.PROMPT)
    assert len(a) == 7 and all(f.mode == "RGB" and f.size == pic.size for f in a)
    arrs = [np.asarray(f) for f in a]
    assert any(not np.array_equal(arrs[0], x) for x in arrs[1:])          # the picture moves
    b = engine.animate(pic, frames=7, fps=10, seed=1, prompt="a farm at sunrise, " + i2v.PROMPT)
    assert all(np.array_equal(x, np.asarray(y)) for x, y in zip(arrs, b))   # same seed: the same frames
    c = engine.animate(pic, frames=7, fps=10, seed=2, prompt="a farm at sunrise, " + i2v.PROMPT)
    assert not all(np.array_equal(x, np.asarray(y)) for x, y in zip(arrs, c))


def test_animate_asks_the_pipeline_for_the_model_size_and_stretches_its_frames_over_the_clip():
    # a stand-in pipeline that records its call: frame k of n is grey level k/(n-1)
    from types import SimpleNamespace

    calls = []

    def pipe(**kw):
        calls.append(kw)
        n, h, w = kw["num_frames"], kw["height"], kw["width"]
        return SimpleNamespace(frames=[np.stack([np.full((h, w, 3), k / (n - 1), np.float32) for k in range(n)])])

    eng = i2v.DiffusersImageToVideo(pipe=pipe, device="cpu", max_area=64 * 64)   # else the real-use defaults
    out = eng.animate(_picture(90, 160), frames=50, fps=10, seed=3, prompt="p")
    kw = calls[0]
    assert (kw["width"], kw["height"], kw["num_frames"]) == (32, 64, 25) and kw["image"].size == (32, 64)
    assert kw["num_inference_steps"] == 50 and kw["guidance_scale"] == 5.0 and kw["negative_prompt"] == i2v.NEGATIVE
    assert kw["generator"].initial_seed() == 3 and kw["output_type"] == "np"
    levels = [np.asarray(f)[0, 0, 0] for f in out]
    assert len(out) == 50 and out[0].size == (90, 160)
    assert levels[0] == 0 and levels[-1] == 255 and levels == sorted(levels)   # first to first, last to last


def _scene(W: int = 96, H: int = 128, n_s: float = 1.0):
    """A small poster's scene: a key visual, a headline that enters, a legal line on screen throughout."""
    from mktcli.compose.layers import LayerRecorder
    from mktcli.motion.frames import build_scene

    bg = _picture(W, H)
    rec = LayerRecorder(bg)
    for role, box in (("headline", (8, 8, 88, 24)), ("disclaimer", (4, 110, 92, 122))):
        mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
        for x in range(2, mask.width - 4, 7):          # glyph-like strokes, fully opaque in their cores
            ImageDraw.Draw(mask).rectangle((x, 2, x + 3, mask.height - 3), fill=255)
        rec.paint(role, (255, 255, 255), box, mask, kind="text")
    return build_scene(_flat(bg, rec), bg, [], rec, fps=10, duration=n_s, focus_zone=(0, 0, W, H), seed=3)


def _flat(bg, rec):
    """The poster the recorder's layers make over the background (what the composer painted)."""
    out = bg.convert("RGBA")
    for lay in rec.layers:
        r = lay.render(*out.size)
        if r is not None:
            out.alpha_composite(r[0], r[1][:2])
    return out.convert("RGB")


def test_animate_background_puts_the_moving_picture_under_the_unchanged_text(engine):
    from types import SimpleNamespace

    scene = _scene()
    plain = _scene()                                # the same scene, animated by the layers (camera) alone
    brief = SimpleNamespace(visual=SimpleNamespace(scene="a farm at sunrise"), video=SimpleNamespace(model=None))
    asked = []

    class Recording(i2v.ImageToVideo):
        def animate(self, image, **kw):
            asked.append(kw)
            return engine.animate(image, **kw)

    i2v.animate_background(SimpleNamespace(seed=5), scene, brief, engine=Recording())
    # the model was asked for the clip's frames, with the brief's seed and scene
    assert asked == [dict(frames=10, fps=10, seed=5, prompt=i2v.PROMPT + ", a farm at sunrise")]
    mp = scene.moving_picture
    assert len(mp) == scene.n_frames == 10 and all(f.size == (scene.W, scene.H) for f in mp)
    head, legal = (slice(8, 24), slice(8, 88)), (slice(110, 122), slice(4, 92))
    for i in (0, 4, scene.n_frames - 1):
        frame = np.asarray(scene.frame(i), dtype=np.int16)
        ov, box = scene._overlay_at(scene.t(i))
        alpha = np.zeros((scene.H, scene.W), dtype=np.uint8)
        alpha[box[1]:box[3], box[0]:box[2]] = np.asarray(ov.getchannel("A"))
        # where no text is: the model's frame itself
        assert np.array_equal(frame[alpha == 0], np.asarray(mp[i], dtype=np.int16)[alpha == 0])
        # where the text is opaque: the same pixels as the layers' clip at the same moment (same text, place, time)
        solid = alpha == 255
        assert solid[legal].sum() > 50                                  # the legal line: on every frame
        assert np.array_equal(frame[solid], np.asarray(plain.frame(i), dtype=np.int16)[solid])
        if i in (0, scene.n_frames - 1):                               # the headline: there from frame 0
            assert solid[head].sum() > 50
    # the model's frames move, and the last frame is the model's last one under the whole text, not the still poster
    assert not np.array_equal(np.asarray(mp[0]), np.asarray(mp[-1]))
    assert not np.array_equal(np.asarray(scene.frame(scene.n_frames - 1)), np.asarray(scene.poster))


def test_a_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(EngineError) as ei:
        i2v.DiffusersImageToVideo(model=str(tmp_path / "no-such-model"), device="cpu").animate(
            _picture(), frames=4, fps=10, seed=1, prompt="x")
    assert "does not exist" in ei.value.message and "video.model" in ei.value.hint
    (tmp_path / "empty").mkdir()
    with pytest.raises(EngineError) as ei:
        i2v._load(str(tmp_path / "empty"), "cpu")
    assert "model_index.json" in ei.value.message


def test_a_hub_model_not_in_the_cache_offline_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")      # and so no connection is even tried
    with pytest.raises(EngineError) as ei:
        i2v._load(i2v.DEFAULT_MODEL, "cpu")
    assert "not in the local cache" in ei.value.message and f"hf download {i2v.DEFAULT_MODEL}" in ei.value.hint


def test_a_text_to_video_wan_is_refused(tmp_path):
    d = save_tiny_wan(tmp_path / "tiny-wan-t2v", t2v=True)
    with pytest.raises(EngineError) as ei:
        i2v._load(str(d), "cpu")
    assert "not an image-to-video model" in ei.value.message and "text-to-video" in ei.value.message


def test_without_ftfy_the_error_names_it(monkeypatch, tmp_path):
    # diffusers' Wan pipelines clean the prompt with ftfy and fail with a NameError without it
    real = i2v.importlib.util.find_spec
    monkeypatch.setattr(i2v.importlib.util, "find_spec", lambda m, *a: None if m == "ftfy" else real(m, *a))
    with pytest.raises(EngineError) as ei:
        i2v._load(str(tmp_path / "any"), "cpu")
    assert "ftfy" in ei.value.message and "mktcli[gpu]" in ei.value.hint


@pytest.mark.slow
def test_a_clip_with_the_tiny_model_end_to_end(tiny_wan, tmp_path, monkeypatch):
    """make_posters with `video.engine: diffusers`: the CUDA check passed by hand and the engine on the CPU,
    everything else as on a GPU machine (scene, overlay, encode, checks, manifest)."""
    from mktcli import make_posters

    from .test_motion import BRIEF, CHANNELS

    made = []

    def cpu_engine(brief):
        assert brief.video.model == str(tiny_wan)
        made.append(i2v.DiffusersImageToVideo(model=brief.video.model, device="cpu", **SMALL))
        return made[-1]

    monkeypatch.setattr(i2v, "check_i2v_available", lambda brief: None)
    monkeypatch.setattr(i2v, "get_i2v", cpu_engine)
    (tmp_path / "ch.yaml").write_text(CHANNELS, encoding="utf-8")
    b = tmp_path / "b.yaml"
    b.write_text(BRIEF + f"video:\n  engine: diffusers\n  model: {tiny_wan}\n", encoding="utf-8")
    res = make_posters(b, tmp_path / "o", channel_files=[tmp_path / "ch.yaml"], register=False,
                       channels=["test_video"], jobs=1)
    assert not res.failures, [str(f.error) for f in res.failures]
    assert len(made) == 1
    c = res.creatives[0].data
    v = c["video"]
    assert v["engine"]["name"] == "diffusers" and v["frames"] == 50 and v["file"]["codec"] == "h264"
    assert (v["file"]["width"], v["file"]["height"]) == (360, 640)
    rules = {k["rule"]: k for k in c["checks"]}
    assert {"VID-SPEC", "VID-LEGAL", "VID-LABEL"} <= set(rules) and rules["VID-SPEC"]["passed"]
