"""OCR read-back sweep: render many generated briefs (random products, rates, segments, every image channel) and
read each poster back with RapidOCR the way ../shared/tools/ocr_verify.py does (the rate's first figure on every
poster; the disclaimer where the short side is ≥ 250 px). Prints the pass rate and every miss.

    python benchmarks/ocr_readback.py --briefs 12 --seed 1      (needs: pip install -e ".[ocr]")
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import yaml

from mktcli import load_channels, make_posters

PRODUCTS = [("惠农e贷", "loan"), ("薪享贷", "loan"), ("商户经营贷", "loan"), ("金穗信用卡", "credit_card"),
            ("三年期大额存单", "deposit"), ("稳享理财", "wealth"), ("安心存", "deposit")]
HEADLINES = ["补栏周转 不误农时", "春耕备耕 资金无忧", "经营周转 随借随还", "大额消费 轻松分期", "稳稳的幸福 存下来",
             "闲钱理财 省心之选", "开店进货 有底气", "装修安家 一步到位"]
PERKS = ["首期利息8折", "最高可借30万", "随借随还", "线上申请", "最长可分24期", "20万元起存", "1元起购", "当天放款"]
DISCLAIMERS = {"loan": "贷款额度、利率以实际审批结果为准", "credit_card": "分期年化利率以实际账单为准",
               "deposit": "存款利率以办理时本行挂牌利率为准", "wealth": "理财非存款，产品有风险，投资须谨慎"}
PROVIDERS = ["示例农村商业银行股份有限公司", "示例银行股份有限公司", "某某城市商业银行股份有限公司", "示例理财有限责任公司"]


def norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def random_rate(rng: random.Random) -> str:
    a = round(rng.uniform(1.2, 9.9), rng.choice([1, 2]))
    if rng.random() < 0.3:
        b = round(a + rng.uniform(2, 12), rng.choice([0, 1, 2]))
        return f"{a:g}%-{b:g}%"
    return f"{a:g}%"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--briefs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from rapidocr_onnxruntime import RapidOCR

    ocr = RapidOCR()
    rng = random.Random(args.seed)
    image_channels = [n for n, c in load_channels().items() if c.is_image and not c.refuse]
    ok = n = strict_ok = 0
    misses = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.briefs):
            name, cat = rng.choice(PRODUCTS)
            brief = {"version": 1, "name": f"sweep-{i}",
                     "product": {"name": name, "category": cat, "provider": rng.choice(PROVIDERS)},
                     "offer": {"apr": random_rate(rng), "perks": rng.sample(PERKS, rng.randint(0, 3))},
                     "message": {"headline": rng.choice(HEADLINES), "disclaimer": DISCLAIMERS[cat]},
                     "visual": {"seed": rng.randint(0, 999)},
                     "channels": rng.sample(image_channels, 6)}
            p = Path(tmp) / f"b{i}.yaml"
            p.write_text(yaml.safe_dump(brief, allow_unicode=True), encoding="utf-8")
            res = make_posters(p, Path(tmp) / "out")
            for f in res.failures:
                misses.append(f"render failed {brief['offer']['apr']} {f.channel}: {f.error}")
            for c in res.creatives:
                d = c.data
                n += 1
                out, _ = ocr(str(res.out_dir / d["path"]))
                text = norm("".join(r[1] for r in out or []))
                need = [brief["offer"]["apr"].split("-")[0]]
                if min(d["width"], d["height"]) >= 250:
                    need.append(DISCLAIMERS[cat][:8])
                missing = [m for m in need if norm(m) not in text]
                # strict: the whole APR string, the whole disclaimer and the provider line, on every size
                strict_need = [brief["offer"]["apr"], DISCLAIMERS[cat], d["texts"]["provider"]]
                strict_ok += all(norm(m) in text for m in strict_need)
                if missing:
                    misses.append(f"{d['channel']} {d['width']}x{d['height']} apr={brief['offer']['apr']}: "
                                  f"missing {missing} | read {text[:90]}")
                else:
                    ok += 1
    for m in misses:
        print("MISS", m)
    print(f"ocr read-back: {ok}/{n} posters verified ({100 * ok / max(n, 1):.1f}%) "
          f"in {time.perf_counter() - t0:.1f}s")
    print(f"strict (full APR string, disclaimer and provider line on every size): {strict_ok}/{n}")
    return 0 if ok == n else 1


if __name__ == "__main__":
    sys.exit(main())
