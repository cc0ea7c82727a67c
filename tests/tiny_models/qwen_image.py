"""Random-weight Qwen-Image pipelines built in code: tiny ones for the tests, full-size ones for the GPU benchmark.

Nothing here is downloaded. The tokenizer is a byte-level BPE trained with the `tokenizers` library on a few
hundred Chinese and English marketing phrases, with the chat special tokens Qwen-Image's prompt template uses.
The images these pipelines make are noise: they exist to run the real loading and generation code, and to time
the real architecture honestly. Never used to make a poster for a user."""
from __future__ import annotations

from pathlib import Path
from typing import Any

_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
            "<|video_pad|>"]

_CORPUS = """
system Describe the image by detailing the color, shape, size, texture, quantity, text, spatial relationships
of the objects and background: user assistant 清晨的养殖场，金色阳光，写实摄影 春耕时节的农田 银行信用卡 理财 存款
补栏周转 不误农时 线上申请 最快当天放款 立即申请 贷款额度、利率以实际审批结果为准 年化利率 起 本产品由 提供
画面主体位于下部，上方留出大面积干净、简洁的背景用于排版文字 超清 4K 电影级构图 文字 水印 乱码 低质量 模糊
温暖 可信赖 金融品牌 主色 深绿 金黄 深蓝 红色 留白 构图 柔和 光线 a photo of a farm at sunrise, soft light
"""


def build_tokenizer(vocab_size: int = 600):
    """A Qwen2 fast tokenizer trained in code (byte-level BPE, the chat special tokens at the end)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=_SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([_CORPUS] * 4, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=_SPECIAL[1:])


def tiny_configs(layers: int = 2) -> dict[str, dict[str, Any]]:
    """Configs small enough for a CPU test (a 64×64 image in well under a second)."""
    return {
        "transformer": dict(patch_size=2, in_channels=16, out_channels=4, num_layers=layers, attention_head_dim=16,
                            num_attention_heads=3, joint_attention_dim=16, guidance_embeds=False,
                            axes_dims_rope=(8, 4, 4)),
        "vae": dict(base_dim=24, z_dim=4, dim_mult=[1, 2, 4], num_res_blocks=1, temperal_downsample=[False, True],
                    latents_mean=[0.0] * 4, latents_std=[1.0] * 4),
        "text": dict(text_config={"hidden_size": 16, "intermediate_size": 16, "num_hidden_layers": 2,
                                  "num_attention_heads": 2, "num_key_value_heads": 2,
                                  "rope_scaling": {"mrope_section": [1, 1, 2], "rope_type": "default",
                                                   "type": "default"},
                                  "rope_theta": 1000000.0},
                     vision_config={"depth": 1, "hidden_size": 16, "intermediate_size": 16, "num_heads": 2,
                                    "out_hidden_size": 16},
                     hidden_size=16),
    }


def full_configs() -> dict[str, dict[str, Any]]:
    """Qwen/Qwen-Image's published architecture: a 20B MMDiT (the class defaults), its VAE (defaults) and the
    Qwen2.5-VL-7B text encoder."""
    return {
        "transformer": {},
        "vae": {},
        "text": dict(text_config={"hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
                                  "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064,
                                  "max_position_embeddings": 128000, "rms_norm_eps": 1e-6,
                                  "rope_scaling": {"mrope_section": [16, 24, 24], "rope_type": "default",
                                                   "type": "default"},
                                  "rope_theta": 1000000.0},
                     vision_config={"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
                                    "out_hidden_size": 3584},
                     hidden_size=3584, vocab_size=152064),
    }


def build_qwen_image(configs: dict[str, dict[str, Any]] | None = None, *, seed: int = 0, dtype=None,
                     device: str | None = None):
    """A QwenImagePipeline with random weights from `configs` (default: tiny)."""
    import torch
    from diffusers import (AutoencoderKLQwenImage, FlowMatchEulerDiscreteScheduler, QwenImagePipeline,
                           QwenImageTransformer2DModel)
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    configs = configs or tiny_configs()
    tokenizer = build_tokenizer()
    text_cfg = dict(configs["text"])
    text_cfg.setdefault("vocab_size", len(tokenizer))
    text_cfg["text_config"] = {"vocab_size": text_cfg["vocab_size"], **text_cfg["text_config"]}
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in _SPECIAL}
    text_cfg["text_config"].update(bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"])
    text_cfg.update(vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
                    image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"])
    old = torch.get_default_dtype()
    if dtype is not None:  # build straight in the target dtype: a 20B model in fp32 would need 80 GB
        torch.set_default_dtype(dtype)
    try:
        with torch.device(device or "cpu"):
            torch.manual_seed(seed)
            transformer = QwenImageTransformer2DModel(**configs["transformer"])
            torch.manual_seed(seed)
            vae = AutoencoderKLQwenImage(**configs["vae"])
            torch.manual_seed(seed)
            text_encoder = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(**text_cfg)).eval()
    finally:
        torch.set_default_dtype(old)
    return QwenImagePipeline(transformer=transformer, vae=vae, text_encoder=text_encoder, tokenizer=tokenizer,
                             scheduler=FlowMatchEulerDiscreteScheduler())


def save_tiny_qwen_image(path: str | Path, *, seed: int = 0, layers: int = 2) -> Path:
    """Build a tiny random Qwen-Image pipeline and save it as a diffusers folder (model_index.json …)."""
    pipe = build_qwen_image(tiny_configs(layers), seed=seed)
    pipe.save_pretrained(str(path))
    return Path(path)


def save_tiny_lora(pipeline_dir: str | Path, out_dir: str | Path, *, rank: int = 4, seed: int = 1,
                   weight_name: str = "tiny-lightning.safetensors") -> Path:
    """A random LoRA for the tiny transformer, saved the way step-distillation LoRAs are published
    (one .safetensors loaded with `load_lora_weights(source, weight_name=…)`)."""
    import torch
    from diffusers import QwenImagePipeline, QwenImageTransformer2DModel
    from peft import LoraConfig, get_peft_model_state_dict

    transformer = QwenImageTransformer2DModel.from_pretrained(str(pipeline_dir), subfolder="transformer")
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                       target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in transformer.named_parameters():
            if "lora_" in name:
                p.copy_(torch.randn_like(p) * 0.5)
    QwenImagePipeline.save_lora_weights(str(out_dir), transformer_lora_layers=get_peft_model_state_dict(transformer),
                                        weight_name=weight_name)
    return Path(out_dir) / weight_name
