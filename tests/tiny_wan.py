"""A tiny random Wan 2.2 TI2V pipeline built in code and saved as a diffusers folder, for the image-to-video tests.

Nothing is downloaded. The folder has the layout of Wan-AI/Wan2.2-TI2V-5B-Diffusers, the default video model
(mktcli/motion/i2v.py): model_index.json names `WanPipeline` with `expand_timesteps: true` and no image encoder; a
`WanTransformer3DModel` whose input is the 48-channel latent itself (the picture enters as the clean first latent
frame, not through extra channels); the Wan 2.2 VAE (`AutoencoderKLWan` with z_dim 48, patch 2, 16× spatial,
4× temporal); a `UMT5EncoderModel`; a T5 fast tokenizer; `UniPCMultistepScheduler` in flow mode. The sizes follow
diffusers' own fast test of that model (tests/pipelines/wan/test_wan_22_image_to_video.py, Wan225B…), except the
text encoder and the tokenizer, made here instead of downloaded (hf-internal-testing/tiny-random-t5 there).

`t2v=True` saves a text-to-video Wan instead (16-channel VAE, `expand_timesteps: false`): what the engine must
refuse with a clear error rather than fail inside the transformer. The videos are noise: these pipelines exist to
run the real loading and generation code."""
from __future__ import annotations

from pathlib import Path

_CORPUS = """
subtle natural motion, gentle light shimmer, slow cinematic camera push-in, the same scene and objects,
clean commercial advertising look, no text, no captions, letters, watermark, logo, subtitles, distorted, blurry,
flicker, new objects, a farm at sunrise, soft light, fields in spring, a bank card on a table, calm water
清晨的养殖场 金色阳光 写实摄影 春耕时节的农田 微风 光影 缓慢推近 镜头 画面 文字 水印 模糊
"""

TEXT_DIM = 32   # UMT5 d_model = the transformer's text_dim


def build_tokenizer(vocab_size: int = 160):
    """A T5 fast tokenizer trained in code: a Unigram model (SentencePiece-style ▁ word starts) with T5's special
    tokens <pad>=0, </s>=1, <unk>=2 and "</s>" appended to every sequence, as UMT5's tokenizer does."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import T5TokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>", "<unk>"],
                                      unk_token="<unk>", show_progress=False)
    tok.train_from_iterator([_CORPUS] * 4, trainer)
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>",
                                                       special_tokens=[("</s>", tok.token_to_id("</s>"))])
    return T5TokenizerFast(tokenizer_object=tok, eos_token="</s>", unk_token="<unk>", pad_token="<pad>",
                           extra_ids=0)


def build_wan(*, seed: int = 0, t2v: bool = False):
    """A tiny random Wan pipeline: TI2V (Wan 2.2 5B layout) by default, a Wan 2.1-style text-to-video with t2v."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanPipeline, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = build_tokenizer()
    z = 16 if t2v else 48
    torch.manual_seed(seed)
    if t2v:   # the Wan 2.1 VAE: 8× spatial, no patching
        vae = AutoencoderKLWan(base_dim=3, z_dim=z, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                               temperal_downsample=[False, True, True])
    else:     # the Wan 2.2 VAE of TI2V-5B: 2×2 patches in, 16× spatial, 48 latent channels
        vae = AutoencoderKLWan(base_dim=3, z_dim=z, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
                               latents_mean=[0.0] * z, latents_std=[1.0] * z, dim_mult=[1, 1, 1, 1],
                               num_res_blocks=1, scale_factor_spatial=16, scale_factor_temporal=4,
                               temperal_downsample=[False, True, True])
    torch.manual_seed(seed)
    transformer = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                        in_channels=z, out_channels=z, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32,
                                        num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
                                        rope_max_seq_len=32)
    torch.manual_seed(seed)
    text_encoder = UMT5EncoderModel(UMT5Config(
        vocab_size=len(tokenizer), d_model=TEXT_DIM, d_kv=8, d_ff=32, num_layers=1, num_heads=4,
        relative_attention_num_buckets=8, relative_attention_max_distance=32, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id)).eval()
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0)
    return WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=scheduler, expand_timesteps=not t2v)


def save_tiny_wan(path: str | Path, *, seed: int = 0, t2v: bool = False) -> Path:
    """Build a tiny random Wan pipeline and save it with save_pretrained (model_index.json + one folder each)."""
    build_wan(seed=seed, t2v=t2v).save_pretrained(str(path))
    return Path(path)
