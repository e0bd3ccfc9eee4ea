"""Valid agreement data shared by the agreement and ceremony tests (ID numbers carry real check digits)."""

from __future__ import annotations

from typing import Any

from signing.agreement import AgreementData
from signing.id_numbers import resident_id_check_digit


def resident_id(region: str = "110105", born: str = "19850312", seq: str = "123") -> str:
    first17 = region + born + seq
    return first17 + resident_id_check_digit(first17)


def agreement_dict(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "case_number": "（2026）京0105民调字第0042号",
        "dispute_type": "private_lending",
        "parties": [
            {"key": "zhang", "side": "applicant", "name": "张三", "id_number": resident_id(seq="123"),
             "address": "北京市朝阳区建国路1号", "contact": "13800000001"},
            {"key": "li", "side": "respondent", "name": "李四", "id_number": resident_id("310104", "19900101", "456"),
             "address": "上海市徐汇区漕溪北路2号", "contact": "13900000002",
             "agent": {"name": "王律师", "id_number": resident_id("440103", "19800520", "789"),
                       "address": "广州市荔湾区3号", "contact": "13700000003", "signs": True}},
        ],
        "mediator": {"name": "赵调解", "id_number": resident_id("110101", "19750808", "321"),
                     "certificate_number": "TJY-2026-001"},
        "organisation": {"name": "朝阳区人民调解委员会", "address": "北京市朝阳区调解路9号"},
        "facts": "2025年3月1日，被申请人李四向申请人张三借款人民币50,000元，约定于2025年12月31日前归还，至今未还。",
        "monetary": [{"payer": "li", "payee": "zhang", "amount": "50000.00", "due_date": "2026-12-31",
                      "method": "银行转账"}],
        "performance": [{"obligor": "zhang", "description": "收到全部款项后三日内将借条原件交还李四。"}],
        "date": "2026-11-29",
        "place": "北京市朝阳区（在线调解）",
    }
    data.update(changes)
    return data


def sample_agreement(**changes: Any) -> AgreementData:
    return AgreementData.model_validate(agreement_dict(**changes))

