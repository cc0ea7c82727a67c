"""`llm` copy engine: any transformers chat model by hub id or local folder (default Qwen/Qwen2.5-1.5B-Instruct,
Apache-2.0).

The model writes only the creative parts (headline, subhead, CTA, SMS body, the call's value pitch, push and feed
text) as one JSON object; mkt owns the parts compliance fixes: the SMS signature and opt-out, the call's opening,
rate sentence, refusal option and closing. Requests are batched with left padding (decoder-only models continue
from the right), the chat template is applied with Qwen3's thinking off, the output is parsed and validated
against a schema, and a draft that fails is returned with the reason so the guard can re-generate or replace it.
Where lm-format-enforcer is installed, decoding is constrained to the JSON schema. CUDA when present, else CPU."""
from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
from typing import Any

from pydantic import BaseModel, ValidationError

from ..errors import EngineError
from .base import CallScript, Copy, CopyEngine, CopyRequest, Draft, Feed, Push, Sms
from .template import lexicon, resolve_segment
from .. import hub

DEFAULT_MODEL = "Qwen/Qwen2.5-1.5B-Instruct"


class LlmFields(BaseModel):
    """What the model writes (the JSON schema in the prompt)."""
    headline: str
    subhead: str
    cta: str
    sms_body: str
    call_value: str
    push_title: str
    push_body: str
    feed_title: str
    feed_description: str


_FIELD_NOTES = {
    "headline": "海报主标题，8-14个字，可用一个空格分成两半",
    "subhead": "副标题，不超过20个字",
    "cta": "按钮文字，2-6个字",
    "sms_body": "短信正文，不含签名和退订语，不超过45个字",
    "call_value": "外呼时介绍产品价值的一两句话",
    "push_title": "推送标题，不超过20个字",
    "push_body": "推送正文，不超过50个字",
    "feed_title": "信息流广告标题，不超过30个字",
    "feed_description": "信息流广告描述，不超过80个字",
}

SYSTEM = ("你是一家银行的营销文案助手。只根据给出的产品事实写中文文案，不编造任何数字、利率、额度、期限或日期；"
          "提到利率或费用时必须原样写出给定的年化利率表述；不使用“最”“第一”“唯一”“保本”“稳赚”“秒批”“包过”等词。"
          "只输出一个JSON对象，不要输出其他内容。")


def build_messages(req: CopyRequest) -> list[dict[str, str]]:
    f = req.facts
    words, _, offer, _ = resolve_segment(req.parts or (req.segment,), f.category)
    lines = [f"产品：{f.product}（{f.provider}）", f"类别：{f.category}"]
    if f.apr_phrase:
        lines.append(f"年化利率表述（必须原样使用）：{f.apr_phrase}")
    if f.perks and (offer is None or offer.uses_perks):
        lines.append("优惠与卖点：" + "、".join(f.perks))
    lines.append(f"目标客群：{req.segment}；他们关心：" + "、".join(words.cares or words.hooks[:3]))
    lines.append(f"行动号召：{f.cta}")
    if f.disclaimer:
        lines.append(f"免责声明：{f.disclaimer}")
    if req.hint:
        lines.append(req.hint)
    if req.learned:
        lines.append("这一版请用上这些措辞：" + "、".join(req.learned))
    if req.avoid:
        lines.append("上一版的问题（这次必须避免）：" + "；".join(req.avoid)[:300])
    schema = "{" + ", ".join(f'"{k}": "{v}"' for k, v in _FIELD_NOTES.items()) + "}"
    lines.append(f"请输出JSON，键和要求如下：{schema}")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def parse_fields(text: str) -> LlmFields:
    """The first JSON object in a model's answer (models like to wrap it in ```json fences or prose)."""
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.S)
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the answer")
    obj, _ = json.JSONDecoder().raw_decode(text[start:])
    return LlmFields.model_validate(obj)


def assemble(fields: LlmFields, req: CopyRequest) -> Copy:
    """The model's words inside mkt's compliance frame."""
    lex = lexicon()
    f = req.facts
    cat = lex.categories.get(f.category) or lex.categories["other"]
    slots = {"provider": f.provider, "brand": f.brand, "noun": cat.noun, "product": f.product, "apr_plain": f.apr_phrase or "",
             "disclaimer": f.disclaimer or "以实际办理为准"}
    return Copy(
        headline=fields.headline.strip(), subhead=fields.subhead.strip(), cta=fields.cta.strip() or f.cta,
        perks=list(f.perks),
        sms=Sms(signature=f.brand, body=fields.sms_body.strip(), opt_out=lex.sms.get("opt_out", "拒收请回复R")),
        call_script=CallScript(opening=lex.call.opening.format(**slots), value=fields.call_value.strip(),
                               apr=lex.call.apr.format(**slots) if f.apr_phrase else "",
                               refusal=lex.call.refusal.format(**slots), closing=lex.call.closing.format(**slots)),
        push=Push(title=fields.push_title.strip(), body=fields.push_body.strip()),
        feed=Feed(title=fields.feed_title.strip(), description=fields.feed_description.strip()),
    )


class LlmEngine(CopyEngine):
    name = "llm"

    def __init__(self, model: str | None = None, device: str | None = None, batch_size: int = 8,
                 max_new_tokens: int = 400, temperature: float = 0.7, **_: Any):
        self.model_id = model or DEFAULT_MODEL
        self.device = device
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self._loaded = None
        self._lock = threading.Lock()
        self.constrained = False
        self.stats = {"batches": 0, "prompt_tokens": 0, "new_tokens": 0}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "model": self.model_id, "device": self.device,
                "constrained": self.constrained}

    # -------------------------------------------------------------------------------------------- loading
    def load(self):
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self):
        missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
        if missing:
            raise EngineError("copy engine 'llm' needs " + ", ".join(missing),
                              "pip install 'mktcli[gpu]' (torch and transformers), or use --engine template")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as tlog

        if os.environ.get("MKT_DEBUG", "") in ("", "0", "false"):
            tlog.set_verbosity_error()
            tlog.disable_progress_bar()
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise EngineError("--device cuda was asked for, and torch sees no CUDA GPU",
                              "leave --device out (the CPU is used), or run on a machine with an NVIDIA GPU")
        self.device = device
        dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
        if not hub.is_local(self.model_id) and not hub.reachable():
            raise EngineError(f"chat model '{self.model_id}' is not in the local cache ({hub.cache_dir()}) and the hub "
                              "cannot be reached",
                              f"on a machine with internet: `hf download {self.model_id}`, then copy the cache here "
                              "(or set HF_HOME); or pass a local folder with --model PATH; or use --engine template")
        try:
            tok = AutoTokenizer.from_pretrained(self.model_id)
            model = AutoModelForCausalLM.from_pretrained(self.model_id, dtype=dtype)
        except Exception as e:  # noqa: BLE001 — the hub raises many types for "not here"
            first = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
            raise EngineError(f"chat model '{self.model_id}' could not be loaded: {first}",
                              f"on a machine with internet: `hf download {self.model_id}` into the HF cache (HF_HOME),"
                              " or pass a local folder with --model PATH; or use --engine template") from None
        if tok.chat_template is None:
            raise EngineError(f"'{self.model_id}' has no chat template", "use an instruct/chat model")
        tok.padding_side = "left"   # decoder-only: pad on the left so every row continues from its own last token
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model.to(device).eval()
        return tok, model

    # -------------------------------------------------------------------------------------------- generation
    def prompts(self, requests: list[CopyRequest]) -> list[str]:
        tok, _ = self.load()
        return [tok.apply_chat_template(build_messages(r), tokenize=False, add_generation_prompt=True,
                                        enable_thinking=False) for r in requests]

    def _prefix_fn(self, tok):
        """Constrained decoding to the JSON schema, when lm-format-enforcer is installed."""
        if importlib.util.find_spec("lmformatenforcer") is None:
            return None
        try:
            from lmformatenforcer import JsonSchemaParser
            from lmformatenforcer.integrations.transformers import build_transformers_prefix_allowed_tokens_fn

            fn = build_transformers_prefix_allowed_tokens_fn(tok, JsonSchemaParser(LlmFields.model_json_schema()))
            self.constrained = True
            return fn
        except Exception:  # an incompatible version: plain decoding, validated after
            return None

    def generate_texts(self, requests: list[CopyRequest]) -> list[str]:
        tok, model = self.load()   # first: a missing torch/transformers is a clear error, not a traceback
        import torch

        texts = self.prompts(requests)
        out: list[str] = []
        prefix_fn = self._prefix_fn(tok)
        for i in range(0, len(texts), self.batch_size):
            chunk = texts[i:i + self.batch_size]
            enc = tok(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
            torch.manual_seed(requests[i].seed * 1000 + requests[i].variant)
            kw: dict[str, Any] = {"max_new_tokens": self.max_new_tokens, "pad_token_id": tok.pad_token_id}
            if self.temperature > 0:
                kw.update(do_sample=True, temperature=self.temperature, top_p=0.9)
            else:
                kw.update(do_sample=False)
            if prefix_fn is not None:
                kw["prefix_allowed_tokens_fn"] = prefix_fn
            with torch.inference_mode():
                gen = model.generate(**enc, **kw)
            new = gen[:, enc["input_ids"].shape[1]:]
            self.stats["batches"] += 1
            self.stats["prompt_tokens"] += int(enc["attention_mask"].sum())
            self.stats["new_tokens"] += int((new != tok.pad_token_id).sum())
            out += tok.batch_decode(new, skip_special_tokens=True)
            if self.report:
                self.report(f"llm: {min(i + self.batch_size, len(texts))}/{len(texts)}")
        return out

    def write(self, requests: list[CopyRequest]) -> list[Draft]:
        drafts = []
        for req, text in zip(requests, self.generate_texts(requests)):
            info = {"engine": "llm", "model": self.model_id, "seed": req.seed, "variant": req.variant}
            try:
                drafts.append(Draft(assemble(parse_fields(text), req), info))
            except (ValueError, ValidationError) as e:
                first = str(e).splitlines()[0][:160]
                drafts.append(Draft(None, {**info, "raw": text[:500]}, f"unusable model output: {first}"))
        return drafts
