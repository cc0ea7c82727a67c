"""`mkt init`: a commented starter brief (configs/starter-brief.yaml, every key explained) for one category, with
example values that load and render as they are."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from string import Template

from .errors import BriefError
from .export.files import atomic_write
from .paths import configs_dir
from .schema import suggest

# Example values per category: real-looking, compliant (exact rate, no absolute terms), each segment known to the
# lexicon so the template copy reads well out of the box.
EXAMPLES: dict[str, dict[str, str]] = {
    "loan": dict(name="my-loan", product_name="惠农e贷", apr="3.2%", rate_label="年化利率",
                 perks="首期利息8折, 最高可借30万, 随借随还", segments="养殖户, 种植户",
                 override_segment="种植户", override_headline="春耕备耕 资金无忧", headline="补栏周转 不误农时", subhead="线上申请 审批便捷",
                 cta="立即申请", disclaimer="贷款额度、利率以实际审批结果为准", scene="清晨的养殖场，金色阳光，写实摄影"),
    "credit_card": dict(name="my-card", product_name="金穗信用卡", apr="7.2%-14.4%", rate_label="分期年化利率",
                        perks="新户首刷礼, 账单分期最长24期", segments="工薪族, 个体工商户",
                        override_segment="个体工商户", override_headline="家里添置 分期更从容",
                        headline="大额消费 轻松分期",
                        subhead="账单分期 按期还款更安心", cta="立即办卡",
                        disclaimer="分期年化利率以实际账单为准，请理性消费", scene="城市咖啡馆里刷卡付款的年轻人，暖色调",
                        purpose="card"),
    "deposit": dict(name="my-deposit", product_name="三年期大额存单", apr="2.15%", rate_label="三年期年利率",
                    perks="20万元起存, 可转让, 受存款保险保障", segments="老年客户, 新市民",
                    override_segment="老年客户", override_headline="稳健规划 安心养老", headline="稳稳的幸福 存下来", subhead="大额存单 限量发售",
                    cta="立即存入", disclaimer="存款利率以办理时本行挂牌利率为准", scene="温馨的家庭客厅，午后阳光"),
    "wealth": dict(name="my-wealth", product_name="稳享理财180天", apr="2.6%-3.3%", rate_label="业绩比较基准",
                   perks="1元起购, 中低风险R2, 180天封闭期", segments="老年客户, 年轻客群",
                   override_segment="老年客户", override_headline="闲钱稳稳 安心打理", headline="稳健理财 省心之选", subhead="中低风险 1元起购",
                   cta="了解详情", disclaimer="理财非存款，产品有风险，投资须谨慎。业绩比较基准不代表实际收益",
                   scene="湖边清晨的步道，柔和自然光"),
    # no rate on offer: the apr line stays in the file, commented out
    "insurance": dict(name="my-insurance", product_name="安心住院医疗险", apr_key="# apr", apr="2.5%",
                      rate_label="年化收益率", provider="示例人寿保险股份有限公司",
                      perks="首年保费9.9元起, 保额最高50万, 保障期1年", segments="老年客户, 新市民",
                      override_segment="老年客户", override_headline="住院医疗 多一份安心",
                      headline="小病大病 住院有保障", subhead="投保前请仔细阅读保险条款", cta="了解详情",
                      disclaimer="具体保障内容以保险合同条款为准", scene="明亮的家庭客厅，一家人微笑，柔和自然光"),
    "retail": dict(name="my-retail", product_name="周末生活特惠", apr_key="# apr", apr="3.2%", rate_label="优惠利率",
                   provider="示例银行股份有限公司", perks="满100元减10元, 新人首单立减5元",
                   segments="工薪族, 个体工商户", override_segment="个体工商户",
                   override_headline="周末采购 满减更划算", headline="周末逛超市 满减更划算",
                   subhead="活动期间每周六、周日可参与", cta="立即参与", disclaimer="活动详情以页面公示规则为准",
                   scene="明亮的超市货架，新鲜蔬果，暖色调"),
    "other": dict(name="my-service", product_name="手机银行新客礼", apr_key="# apr", apr="3.2%", rate_label="年化利率",
                  provider="示例银行股份有限公司", perks="绑卡领10元立减金, 每月可领2次",
                  segments="工薪族, 新市民", override_segment="新市民", override_headline="新城生活 手机银行相伴",
                  headline="手机银行 新客有礼", subhead="绑定本行借记卡即可领取", cta="了解详情",
                  disclaimer="活动规则详见手机银行活动页", scene="城市街头拿着手机的年轻人，清新明亮"),
}
# the lender or issuer on every starter unless the category's example names another (an insurer)
_DEFAULTS = {"provider": "示例农村商业银行股份有限公司", "apr_key": "apr", "purpose": "business"}


def starter_text(category: str = "loan", file: str = "brief.yaml") -> str:
    """The starter brief for `category` (loan | credit_card | deposit | wealth | insurance | retail | other)."""
    if category not in EXAMPLES:
        guess = suggest(category, EXAMPLES)
        raise BriefError(f"no starter for category '{category}'" + (f" — did you mean '{guess}'?" if guess else ""),
                         key="--category", hint="choose one of: " + ", ".join(EXAMPLES))
    values = dict(_DEFAULTS, **EXAMPLES[category], category=category, file=file)
    template = Template((configs_dir() / "starter-brief.yaml").read_text(encoding="utf-8"))
    return "\n".join(_align(line) for line in template.substitute(values).split("\n"))


_COMMENT = re.compile(r"^(.*?\S)\s{2,}(# .*)$")
COMMENT_COLUMN = 35


def _width(text: str) -> int:
    """Columns on a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _align(line: str) -> str:
    """Comments in one column after the values are substituted (Chinese values are wider than placeholders)."""
    m = _COMMENT.match(line)
    if not m:
        return line
    value, comment = m.groups()
    return value + " " * max(2, COMMENT_COLUMN - _width(value)) + comment


def write_starter(path: str | Path = "brief.yaml", category: str = "loan", force: bool = False) -> Path:
    """Write the starter brief atomically; an existing file is kept unless `force`."""
    path = Path(path)
    if path.exists() and not force:
        raise BriefError(f"{path} already exists", key="FILE",
                         hint="pass --force to replace it, or give another file name: mkt init my-brief.yaml")
    atomic_write(path, starter_text(category, str(path)).encode("utf-8"))
    return path
