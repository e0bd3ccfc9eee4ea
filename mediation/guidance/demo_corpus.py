"""A fictional corpus of past cases for demonstrations and benchmarks: every name, amount and
court number is made up; cases are drawn from per-type templates with a seeded generator, so the
same ``count`` and ``seed`` give the same corpus."""

from __future__ import annotations

import datetime as dt
import random
from typing import Iterator

from .similar import PastCaseIn

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
COURTS = ("成都市武侯区人民法院", "成都市锦江区人民法院", "成都市青羊区人民法院", "成都市金牛区人民法院",
          "成都市成华区人民法院", "成都市高新技术产业开发区人民法院")
#: dispute type -> (facts template, claims template, mediated result, judgment result)
TEMPLATES: dict[str, tuple[str, str, str, str]] = {
    "loan": ("{a}于{y}年向{b}借款{n}元，出具借条一张，约定{m}个月内归还，到期后{b}多次催要，{a}以生意亏损为由拒不还款。",
             "请求判令{a}归还借款本金{n}元及逾期利息。", "双方达成分期还款协议，{a}分{m}期归还借款。",
             "判决{a}归还借款{n}元及利息。"),
    "labour": ("{b}在{a}经营的餐馆工作，{a}拖欠{b}工资{m}个月共计{n}元，{b}离职后要求结清工资和经济补偿被拒。",
               "请求支付拖欠工资{n}元及解除劳动合同经济补偿金。", "用人单位当场支付工资{n}元，双方解除劳动关系。",
               "裁决支付拖欠工资{n}元。"),
    "traffic": ("{a}驾驶小型轿车与骑电动车的{b}相撞，交警认定{a}负主要责任，{b}住院{m}周，花费医疗费{n}元。",
                "请求赔偿医疗费、误工费、护理费等共计{n}元。", "保险公司在交强险限额内赔付，{a}另行补偿{n}元。",
                "判决保险公司及{a}赔偿{n}元。"),
    "property_service": ("{a}居住的小区电梯长期故障、绿化无人管理，{a}以物业服务不到位为由拒交物业费{m}年共{n}元。",
                         "物业公司请求{a}支付拖欠的物业费{n}元及违约金。", "物业公司承诺整改，{a}补交物业费，违约金免除。",
                         "判决{a}支付物业费{n}元，驳回违约金请求。"),
    "neighbour": ("{a}家卫生间漏水导致楼下{b}家天花板发霉、墙面脱落，双方就维修和赔偿多次争吵。",
                  "请求{a}修复防水层并赔偿装修损失{n}元。", "{a}负责修复防水层并赔偿{b}损失{n}元。",
                  "判决{a}赔偿{n}元。"),
    "tenancy": ("{b}租住{a}的房屋，租期届满退租时{a}以墙面污损为由扣留押金{n}元，{b}认为属正常使用损耗。",
                "请求返还押金{n}元。", "房东退还押金{n}元中的大部分，双方互不追究。", "判决{a}返还押金{n}元。"),
    "consumer": ("{b}在{a}经营的网店购买手机一部，收货后发现是翻新机，商家拒绝退货退款，价款{n}元。",
                 "请求退还货款{n}元并按价款三倍赔偿。", "商家退还货款并赔偿{n}元。", "判决退还货款并三倍赔偿。"),
    "marriage_family": ("{b}年迈多病，子女{a}等人对赡养费分担和轮流照顾发生争执，{b}每月医药费约{n}元。",
                        "请求子女每月支付赡养费并轮流照顾。", "子女按月各支付赡养费，并约定轮流照顾。",
                        "判决子女每月支付赡养费。"),
    "contract": ("{a}公司向{b}公司采购一批建材，货款{n}元，{b}交货延迟{m}周且部分质量不合格，{a}拒付尾款。",
                 "请求支付货款{n}元及逾期付款违约金。", "双方核减货款后{a}公司分两期付清。", "判决{a}公司支付货款{n}元。"),
    "medical": ("{b}在医院接受手术后出现感染，再次住院{m}周，{b}认为医院存在过错，医院认为属并发症。",
                "请求赔偿医疗费、误工费等{n}元。", "医疗纠纷人民调解委员会调解，医院补偿{n}元。",
                "经医疗损害鉴定，判决医院承担次要责任，赔偿{n}元。"),
    "construction": ("{b}作为包工头带领农民工完成{a}公司发包的装修工程，工程款{n}元尚欠尾款，农民工工资无法发放。",
                     "请求支付工程款{n}元及利息。", "{a}公司先行支付农民工工资，余款分期支付。", "判决支付工程款{n}元。"),
    "financial_loan": ("{a}向银行申请信用卡并透支消费，因失业逾期{m}个月未还款，欠本金及利息共{n}元。",
                       "银行请求归还透支本金、利息及违约金共{n}元。", "银行同意停息分期，{a}分{m}期还款。",
                       "判决归还透支本金及利息{n}元。"),
}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(("某", "某某"))


def demo_cases(count: int, seed: int = 2016, start: int = 1) -> Iterator[PastCaseIn]:
    rng = random.Random(seed)
    types = sorted(TEMPLATES)
    for i in range(start, start + count):
        kind = types[rng.randrange(len(types))]
        facts, claims, mediated, judged = TEMPLATES[kind]
        values = {"a": _name(rng), "b": _name(rng), "n": rng.choice((3000, 8000, 20000, 56000, 120000, 480000)),
                  "m": rng.randint(2, 12), "y": rng.randint(2020, 2025)}
        is_mediated = rng.random() < 0.62
        duration = rng.randint(7, 45) if is_mediated else rng.randint(60, 240)
        decided = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1000))
        yield PastCaseIn(reference=f"(2026)川demo民初{i}号", court=rng.choice(COURTS), dispute_type=kind,
                         facts=facts.format(**values), claims=claims.format(**values),
                         outcome="mediated" if is_mediated else "judgment",
                         result=(mediated if is_mediated else judged).format(**values), amount_yuan=values["n"],
                         duration_days=duration, decided_on=decided)
