"""Standard clauses per dispute type, so a mediator starts from wording courts already accept.

A template fills what the mediator leaves empty (default clauses, confidentiality) and always adds
the closing clauses on effect and judicial confirmation, which are the same law for everyone
(Online Mediation Rules art. 19, Civil Procedure Law art. 205).
"""

from __future__ import annotations

from dataclasses import dataclass

from .agreement import DISPUTE_LABELS, AgreementData, DisputeType


@dataclass(frozen=True)
class AgreementTemplate:
    dispute_type: DisputeType
    label_zh: str
    label_en: str
    #: What the facts section should cover: shown to the mediator as a hint, never printed.
    facts_hint: str
    default_clauses: tuple[str, ...]
    confidentiality: str


_CONFIDENTIAL = (
    "各方当事人对本次调解过程中知悉的对方个人信息、商业信息及调解过程中的陈述负有保密义务，"
    "未经对方同意不得向第三方披露，法律另有规定或者司法机关依法要求的除外。"
)

_LATE_PAYMENT = (
    "如付款义务人未按本协议约定的期限足额履行付款义务，权利人有权就全部未付款项一次性主张权利，"
    "并有权要求付款义务人自逾期之日起按全国银行间同业拆借中心公布的一年期贷款市场报价利率"
    "（LPR）支付逾期利息至实际清偿之日止。"
)

#: Closing clauses printed in every agreement, after the template's clauses.
CLOSING_CLAUSES: tuple[str, ...] = (
    "本协议系各方当事人在调解员主持下，自愿协商达成，内容不违反法律、行政法规的强制性规定，"
    "不损害国家利益、社会公共利益和他人合法权益。",
    "本协议经各方当事人、调解员电子签名并加盖调解组织电子印章；自各方当事人均完成电子签名之时起发生法律效力。",
    "各方当事人可以自本协议生效之日起三十日内，共同向有管辖权的人民法院申请司法确认。",
    "本协议以电子文件形式制作，各方当事人、调解员和调解组织各自可下载的电子文件具有同等效力；"
    "对本协议任何内容或形式的改动均可通过电子签名验证发现。",
)

_GENERAL_HINT = "纠纷发生的时间、经过、各方主张及证据。"
_GENERAL_CLAUSES = ("任何一方未按本协议履行义务的，应当赔偿由此给对方造成的损失；对方可以依法申请强制执行。",)
_LENDING_CLAUSES = (
    _LATE_PAYMENT,
    "付款义务人按约定履行完毕全部付款义务后，双方就本案借贷关系再无其他争议，权利人应当返还或销毁借条原件。",
)
_SALES_CLAUSES = (
    _LATE_PAYMENT,
    "标的物的质量异议以本协议约定的处理方式为最终处理，双方不再就同一批次货物另行主张质量责任。",
)

#: What each dispute type fills in: (facts hint, default clauses, confidentiality). Types that
#: have no wording of their own use the general civil-dispute clauses.
_CLAUSES: dict[DisputeType, tuple[str, tuple[str, ...], str]] = {
    DisputeType.LOAN: ("借款时间、金额、约定利率、已还款项、借条或转账凭证、尚欠本息。", _LENDING_CLAUSES, _CONFIDENTIAL),
    DisputeType.FINANCIAL_LOAN: ("借款合同编号、借款金额、利率、已还本息、逾期期间与尚欠本息。", _LENDING_CLAUSES,
                                 _CONFIDENTIAL),
    DisputeType.CONTRACT: ("合同签订时间、标的物名称、数量、价款、交付与验收情况、质量异议、已付及欠付货款。",
                           _SALES_CLAUSES, _CONFIDENTIAL),
    DisputeType.CONSUMER: ("购买时间、商品或服务、价款、质量问题及协商经过。", _SALES_CLAUSES, _CONFIDENTIAL),
    DisputeType.PROPERTY_SERVICE: (
        "房屋坐落、建筑面积、物业费标准、欠费期间与金额、业主提出的服务质量问题。",
        (_LATE_PAYMENT,
         "物业服务企业应当按照本协议约定的期限整改业主提出的服务问题，整改情况以书面形式告知业主。"),
        _CONFIDENTIAL),
    DisputeType.MARRIAGE_FAMILY: (
        "婚姻或亲属关系、子女情况、共同财产与债务、争议焦点。",
        ("涉及子女抚养的约定，以有利于未成年子女身心健康为原则；不直接抚养子女的一方依法享有探望权，"
         "另一方负有协助义务。",
         "一方未按约定履行给付义务的，另一方可以依法申请人民法院强制执行。"),
        "各方当事人对调解中涉及的家庭成员隐私、未成年子女信息负有保密义务，不得以任何方式公开传播。"),
    DisputeType.LABOUR: (
        "入职时间、岗位、工资标准、解除或终止劳动关系的时间与原因、欠付工资及经济补偿。",
        (_LATE_PAYMENT,
         "用人单位按本协议履行完毕后，双方劳动关系项下的权利义务全部结清，"
         "但用人单位依法应为劳动者办理的档案与社会保险转移手续除外。"),
        _CONFIDENTIAL),
}

TEMPLATES: dict[DisputeType, AgreementTemplate] = {
    t: AgreementTemplate(t, DISPUTE_LABELS[t][0], DISPUTE_LABELS[t][1],
                         *_CLAUSES.get(t, (_GENERAL_HINT, _GENERAL_CLAUSES, _CONFIDENTIAL)))
    for t in DisputeType
}


def template_for(dispute_type: DisputeType) -> AgreementTemplate:
    return TEMPLATES[dispute_type]


@dataclass(frozen=True)
class ClauseText:
    """The clause text an agreement prints once the template has filled its gaps."""

    default_clauses: tuple[str, ...]
    confidentiality: str
    closing_clauses: tuple[str, ...]


def clauses_for(agreement: AgreementData) -> ClauseText:
    template = template_for(agreement.dispute_type)
    return ClauseText(
        default_clauses=tuple(agreement.default_clauses) or template.default_clauses,
        confidentiality=agreement.confidentiality or template.confidentiality,
        closing_clauses=CLOSING_CLAUSES,
    )
