"""Guided diagnosis: from five answers (dispute type, amount, relationship, urgency, written
evidence — and whether a contract names arbitration) to a recommended path with its reasons and
legal basis. Rules, not a model: each rule says why, so the page can show the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Relationship = Literal["family", "neighbour", "employment", "business", "consumer", "landlord", "stranger", "other"]
Urgency = Literal["low", "normal", "urgent"]

#: Where a recommendation sends the person; the organisation categories are the directory's.
PATHS = {
    "peoples_mediation": ("人民调解委员会调解", "People's mediation committee"),
    "administrative_mediation": ("行政调解", "Administrative mediation"),
    "industry_mediation": ("行业调解组织", "Industry mediation organisation"),
    "commercial_mediation": ("商事调解组织", "Commercial mediation organisation"),
    "labour_arbitration": ("劳动争议仲裁委员会（可先行劳动争议调解）", "Labour dispute arbitration (mediation first possible)"),
    "arbitration": ("仲裁委员会", "Arbitration commission"),
    "payment_order": ("人民法院支付令（督促程序）", "Court payment order"),
    "court": ("人民法院起诉", "Lawsuit in court"),
}
ORGANISATION_CATEGORY = {"peoples_mediation": "peoples", "administrative_mediation": "administrative",
                         "industry_mediation": "industry", "commercial_mediation": "commercial"}
INDUSTRY_TYPES = {"property_service", "medical", "construction", "financial_loan"}
CLOSE_RELATIONSHIPS = {"family", "neighbour", "landlord"}
LARGE_COMMERCIAL_AMOUNT = Decimal(500_000)


@dataclass(frozen=True)
class Answers:
    dispute_type: str
    amount: Decimal | None
    relationship: Relationship
    urgency: Urgency
    written_evidence: bool
    arbitration_clause: bool = False


@dataclass
class Path:
    path: str
    label_zh: str
    label_en: str
    organisation_category: str | None
    reasons: list[str] = field(default_factory=list)
    legal_basis: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Diagnosis:
    recommended: Path
    alternatives: list[Path]
    estimate_amount: Decimal | None  # what the cost estimator should be opened with


def _path(key: str, reasons: list[str], basis: list[str]) -> Path:
    zh, en = PATHS[key]
    return Path(key, zh, en, ORGANISATION_CATEGORY.get(key), reasons, basis)


def _mediation(a: Answers) -> Path:
    """Which kind of mediation organisation suits this dispute."""
    if a.dispute_type in ("traffic", "consumer"):
        return _path("administrative_mediation",
                     ["交通事故和消费纠纷有专门的行政调解（交警部门、市场监管部门和消费者协会），熟悉定损和赔偿标准"],
                     ["《道路交通安全法》第七十四条", "《消费者权益保护法》第三十九条"])
    if a.dispute_type in INDUSTRY_TYPES:
        return _path("industry_mediation", ["该类纠纷专业性强，行业调解组织的调解员熟悉行业规则和鉴定"],
                     ["《医疗纠纷预防和处理条例》第二十二条（医疗）", "《物业管理条例》（物业）"])
    if a.relationship == "business" and a.amount is not None and a.amount >= LARGE_COMMERCIAL_AMOUNT:
        return _path("commercial_mediation", ["企业之间金额较大的合同纠纷，商事调解组织的专业调解员更合适（可能收费）"],
                     ["《最高人民法院关于人民法院特邀调解的规定》"])
    reasons = ["人民调解免费，就近、快捷"]
    if a.relationship in CLOSE_RELATIONSHIPS:
        reasons.append("双方是亲属、邻居或房东租客，调解有利于维持关系")
    return _path("peoples_mediation", reasons, ["《人民调解法》第四条：人民调解不收取任何费用",
                                                "《人民调解法》第三十三条：调解协议可申请司法确认"])


def diagnose(a: Answers) -> Diagnosis:
    alternatives: list[Path] = []
    if a.dispute_type == "labour" or a.relationship == "employment":
        main = _path("labour_arbitration",
                     ["劳动争议须先经劳动争议仲裁，仲裁裁决不服才能起诉（仲裁前置）", "劳动仲裁不收费，45日内结案"],
                     ["《劳动争议调解仲裁法》第五条、第四十三条、第五十三条"])
        alternatives.append(_path("peoples_mediation", ["仲裁前可先行调解：企业劳动争议调解委员会或人民调解委员会"],
                                  ["《劳动争议调解仲裁法》第十条"]))
        return Diagnosis(main, alternatives, a.amount)
    if a.arbitration_clause:
        main = _path("arbitration", ["合同有仲裁条款的，法院不受理，应向约定的仲裁委员会申请", "仲裁一裁终局"],
                     ["《仲裁法》第五条、第九条"])
        alternatives.append(_mediation(a))
        return Diagnosis(main, alternatives, a.amount)
    mediation = _mediation(a)
    money = a.amount is not None and a.amount > 0
    if a.urgency == "urgent" and a.written_evidence and a.relationship not in CLOSE_RELATIONSHIPS:
        main = _path("court", ["情况紧急且有书面证据：起诉可同时申请财产保全，防止对方转移财产"],
                     ["《民事诉讼法》第一百零三条、第一百零四条（保全）", "《民事诉讼法》第六十七条（举证）"])
        alternatives.append(mediation)
        if money:
            alternatives.append(_payment_order())
        return Diagnosis(main, alternatives, a.amount)
    if not a.written_evidence:
        mediation.reasons.append("没有书面证据时诉讼风险较大；调解中可请对方确认事实并写入协议")
    mediation.reasons.append("调解不成仍可起诉，申请调解使诉讼时效中断")
    mediation.legal_basis.append("《民法典》第一百九十五条")
    if money and a.written_evidence:
        alternatives.append(_payment_order())
    alternatives.append(_path("court", ["调解不成或对方拒绝调解时起诉；金额小、事实清楚的可适用简易程序或小额诉讼，受理费减半"],
                              ["《民事诉讼法》第一百六十条、第一百六十五条", "《诉讼费用交纳办法》第十六条"]))
    return Diagnosis(mediation, alternatives, a.amount)


def _payment_order() -> Path:
    return _path("payment_order", ["债权债务关系明确、金额确定且有书面凭证的，可申请支付令，费用为受理费的三分之一"],
                 ["《民事诉讼法》第二百二十五条", "《诉讼费用交纳办法》第十四条"])
