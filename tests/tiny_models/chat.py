"""Tiny chat models built in code, for the tests and the benchmark (never for a user's copy).

A byte-level BPE tokenizer is trained with the `tokenizers` library, given a Qwen-style chat template (with
Qwen3's `enable_thinking` switch), and paired with a small random Qwen2 decoder. `teach()` then trains that model
for a few hundred steps to answer the given prompts with one fixed text — so a test can drive the real loading,
chat-template, batching, parsing and repair code with a model whose answer it knows (a correct JSON, or one with a
wrong rate). Everything stays on the CPU and takes seconds."""
from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n"
    "{% if enable_thinking is defined and enable_thinking is false %}<think>\n\n</think>\n\n{% endif %}"
    "{% endif %}")
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tokenizer(corpus: list[str], vocab_size: int = 1200):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus * 3, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=SPECIAL[1:])
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer, *, hidden: int = 128, layers: int = 2, heads: int = 4, seed: int = 0, config=None):
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    cfg = config or Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 2,
                                num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads // 2,
                                max_position_embeddings=4096, tie_word_embeddings=True,
                                bos_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                                pad_token_id=tokenizer.pad_token_id)
    return Qwen2ForCausalLM(cfg)


def teach(model, tokenizer, prompts: list[str], answer: str, max_steps: int = 2000, lr: float = 1e-3,
          target: float = 0.002):
    """Train the model to reply `answer` (then end of turn) to each of `prompts` (already chat-formatted), until
    the loss on every prompt is under `target` (a greedy decode then reproduces the answer)."""
    import torch

    ids_answer = tokenizer(answer + "<|im_end|>", add_special_tokens=False)["input_ids"]
    rows = []
    for p in prompts:
        ids_p = tokenizer(p, add_special_tokens=False)["input_ids"]
        x = torch.tensor(ids_p + ids_answer)
        labels = x.clone()
        labels[:len(ids_p)] = -100          # learn the answer, not the prompt
        rows.append((x[None], labels[None]))
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = [1e9] * len(rows)
    for step in range(max_steps):
        x, labels = rows[step % len(rows)]
        loss = model(input_ids=x, labels=labels).loss
        losses[step % len(rows)] = float(loss.detach())
        if max(losses) < target:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return max(losses)


def _greedy(model, tok, prompt: str, max_new: int) -> str:
    import torch

    enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
    return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)


def save_tiny_chat(path: str | Path, prompts: list[str] | None = None, answer: str | None = None,
                   corpus: list[str] | None = None, max_steps: int = 2000) -> Path:
    """A tiny chat model saved with save_pretrained: random, or taught to give `answer` to `prompts`."""
    flat = [m["content"] for p in prompts or [] for m in p] if prompts and isinstance(prompts[0], list) \
        else list(prompts or [])
    text = list(corpus or []) + flat + ([answer] if answer else [])
    path = Path(path)
    fast = build_tokenizer(text or ["你好，世界。hello world {\"a\": 1}"])
    fast.save_pretrained(path)
    model = build_model(fast)
    model.config.save_pretrained(path)
    from transformers import AutoTokenizer

    # teach with the tokenizer exactly as the engine loads it back: with config.json beside it, AutoTokenizer
    # picks the model family's tokenizer class, which may pre-tokenize differently (Qwen2 splits digits)
    tok = AutoTokenizer.from_pretrained(path)
    if answer and prompts:
        # the prompts as the engine will format them, so teaching and inference see the same tokens
        chat = [tok.apply_chat_template(p, tokenize=False, add_generation_prompt=True, enable_thinking=False)
                if isinstance(p, list) else p for p in prompts]
        for _ in range(4):   # teach until a greedy decode gives the answer back for every prompt
            loss = teach(model, tok, chat, answer, max_steps=max_steps)
            if all(_greedy(model, tok, c, len(answer) * 2) == answer for c in chat):
                break
        else:
            raise RuntimeError(f"the tiny chat model did not learn its answer (loss {loss:.4f})")
    model.save_pretrained(path)
    return path
