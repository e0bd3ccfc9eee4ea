"""The structured content of a mediation agreement (调解协议书) and who must sign it, in which order.

The PDF, the signature fields and the signing ceremony are all derived from these models, so
everything a court later reads is validated here first: identity numbers carry their check digit,
amounts are exact decimals in yuan, and every obligation names parties that exist.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .id_numbers import IdNumberError, validate_credit_code, validate_resident_id

# --- identity documents -------------------------------------------------------------------------


class IdType(StrEnum):
    """Identity documents accepted for parties, agents and mediators."""

    RESIDENT_ID = "resident_id"  # 居民身份证
    PASSPORT = "passport"  # 护照
    HK_MACAO_PERMIT = "hk_macao_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证
    FOREIGN_PERMANENT_ID = "foreign_permanent_id"  # 外国人永久居留身份证
    CREDIT_CODE = "credit_code"  # 统一社会信用代码 (legal persons)


ID_TYPE_LABELS: dict[IdType, str] = {
    IdType.RESIDENT_ID: "居民身份证",
    IdType.PASSPORT: "护照",
    IdType.HK_MACAO_PERMIT: "港澳居民来往内地通行证",
    IdType.TAIWAN_PERMIT: "台湾居民来往大陆通行证",
    IdType.FOREIGN_PERMANENT_ID: "外国人永久居留身份证",
    IdType.CREDIT_CODE: "统一社会信用代码",
}

_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")


def validate_id_number(id_type: IdType, number: str) -> str:
    """Normalise and check an identity number for its document type."""
    if id_type is IdType.RESIDENT_ID:
        return validate_resident_id(number)
    value = number.strip().upper()
    if id_type is IdType.CREDIT_CODE:
        return validate_credit_code(value)
    if not _OTHER_ID.fullmatch(value):
        raise IdNumberError("document", f"a {id_type.value} number has 5 to 20 letters or digits")
    return value


# --- people -------------------------------------------------------------------------------------

Name = Annotated[str, Field(min_length=1, max_length=64)]
Line = Annotated[str, Field(min_length=1, max_length=200)]
Paragraph = Annotated[str, Field(min_length=1, max_length=2000)]
#: A party's short key, used in field names and obligations: ASCII so PDF field names stay portable.
PartyKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Side(StrEnum):
    APPLICANT = "applicant"  # 申请人
    RESPONDENT = "respondent"  # 被申请人


SIDE_LABELS = {Side.APPLICANT: "申请人", Side.RESPONDENT: "被申请人"}


class Identified(_Strict):
    """Someone identified by a document: the check digit is verified, the number normalised."""

    name: Name
    id_type: IdType = IdType.RESIDENT_ID
    id_number: Annotated[str, Field(min_length=1, max_length=32)]

    @model_validator(mode="after")
    def _check_id(self) -> Identified:
        try:
            normalised = validate_id_number(self.id_type, self.id_number)
        except IdNumberError as exc:
            raise exc.as_field_error() from None
        object.__setattr__(self, "id_number", normalised)
        return self


class Person(Identified):
    address: Line
    contact: Annotated[str, Field(min_length=3, max_length=64)]


#: The account id of a case participant (party, agent or mediator) on this platform.
ParticipantId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class Agent(Person):
    """An authorised agent (委托代理人). ``signs`` when the agent signs next to the party.

    The address is optional: an agent's account carries no address, and the power of attorney
    on the case file (not the agreement) is what proves the authority."""

    address: Line | None = None  # type: ignore[assignment]
    authority: Literal["general", "special"] = "special"  # 一般授权 / 特别授权
    signs: bool = False
    participant_id: ParticipantId | None = None


class Party(Person):
    """A party (当事人): a natural person or a legal person represented by ``representative``."""

    key: PartyKey
    side: Side
    legal_person: bool = False
    representative: Name | None = None  # 法定代表人, for legal persons
    agent: Agent | None = None
    #: The case party's account: only this account signs the party's field.
    participant_id: ParticipantId | None = None

    @model_validator(mode="after")
    def _legal_person_needs_representative(self) -> Party:
        if self.legal_person and not self.representative:
            raise ValueError("a legal person needs its legal representative (representative)")
        return self


class Mediator(_Strict):
    """The mediator: the ID number is not printed, only needed (at lock) for the event certificate,
    so a draft made from the case may lack it until the mediator's account or the editor gives it."""

    name: Name
    id_type: IdType = IdType.RESIDENT_ID
    id_number: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    certificate_number: Annotated[str, Field(max_length=64)] | None = None  # 调解员证号
    participant_id: ParticipantId | None = None

    @model_validator(mode="after")
    def _check_id(self) -> Mediator:
        if self.id_number is not None:
            try:
                object.__setattr__(self, "id_number", validate_id_number(self.id_type, self.id_number))
            except IdNumberError as exc:
                raise exc.as_field_error() from None
        return self


class Organisation(_Strict):
    """The mediation organisation whose seal closes the agreement (``organisation_id``: its
    directory row, when the organisation is in the directory)."""

    name: Name
    credit_code: Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")] | None = None
    address: Line | None = None
    organisation_id: ParticipantId | None = None


# --- terms --------------------------------------------------------------------------------------

MAX_AMOUNT = Decimal("1000000000000")  # one trillion yuan: anything bigger is a typo


class MonetaryObligation(_Strict):
    """Money one party pays another: exact to the fen, in CNY."""

    payer: PartyKey
    payee: PartyKey
    amount: Decimal = Field(gt=0, le=MAX_AMOUNT)
    currency: Literal["CNY"] = "CNY"
    due_date: dt.date
    method: Annotated[str, Field(max_length=200)] | None = None  # e.g. bank transfer to an account
    description: Annotated[str, Field(max_length=500)] | None = None

    @field_validator("amount")
    @classmethod
    def _fen(cls, value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError("amount must be a finite number")
        if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):  # type: ignore[operator]
            raise ValueError("amount has more than two decimal places (fen)")
        return value.quantize(Decimal("0.01"))


class Performance(_Strict):
    """A non-monetary obligation (e.g. return goods, repair, issue an apology)."""

    obligor: PartyKey
    description: Paragraph
    due_date: dt.date | None = None


class DisputeType(StrEnum):
    """The one vocabulary of dispute types: a case is filed under one, and its agreement's
    template follows from it. Values of the old template-only vocabulary still parse."""

    LOAN = "loan"  # 民间借贷纠纷
    MARRIAGE_FAMILY = "marriage_family"  # 婚姻家庭纠纷
    LABOUR = "labour"  # 劳动争议
    TRAFFIC = "traffic"  # 交通事故纠纷
    PROPERTY_SERVICE = "property_service"  # 物业服务纠纷
    NEIGHBOUR = "neighbour"  # 相邻关系纠纷
    CONTRACT = "contract"  # 合同纠纷
    CONSUMER = "consumer"  # 消费纠纷
    MEDICAL = "medical"  # 医疗纠纷
    CONSTRUCTION = "construction"  # 建设工程纠纷
    FINANCIAL_LOAN = "financial_loan"  # 金融借款纠纷
    TENANCY = "tenancy"  # 房屋租赁纠纷
    OTHER = "other"  # 其他民事纠纷

    @classmethod
    def _missing_(cls, value: object) -> DisputeType | None:
        return _LEGACY_DISPUTE_TYPES.get(str(value))


#: The agreement templates' former values, read from old agreements and old clients.
_LEGACY_DISPUTE_TYPES = {"private_lending": DisputeType.LOAN, "sales_contract": DisputeType.CONTRACT,
                         "family": DisputeType.MARRIAGE_FAMILY, "general": DisputeType.OTHER}

#: Chinese and English names, for case pages, the directory and the agreement's heading.
DISPUTE_LABELS: dict[DisputeType, tuple[str, str]] = {
    DisputeType.LOAN: ("民间借贷纠纷", "Private loan"),
    DisputeType.MARRIAGE_FAMILY: ("婚姻家庭纠纷", "Marriage and family"),
    DisputeType.LABOUR: ("劳动争议", "Labour dispute"),
    DisputeType.TRAFFIC: ("交通事故纠纷", "Traffic accident"),
    DisputeType.PROPERTY_SERVICE: ("物业服务纠纷", "Property service"),
    DisputeType.NEIGHBOUR: ("相邻关系纠纷", "Neighbours"),
    DisputeType.CONTRACT: ("合同纠纷", "Contract"),
    DisputeType.CONSUMER: ("消费纠纷", "Consumer"),
    DisputeType.MEDICAL: ("医疗纠纷", "Medical"),
    DisputeType.CONSTRUCTION: ("建设工程纠纷", "Construction"),
    DisputeType.FINANCIAL_LOAN: ("金融借款纠纷", "Bank loan"),
    DisputeType.TENANCY: ("房屋租赁纠纷", "Tenancy"),
    DisputeType.OTHER: ("其他民事纠纷", "Other civil dispute"),
}


class AgreementData(_Strict):
    """Everything printed in the agreement. Clause lists left empty take the template's text."""

    case_number: Annotated[str, Field(min_length=1, max_length=64)]
    dispute_type: DisputeType = DisputeType.OTHER
    parties: list[Party] = Field(min_length=2, max_length=20)
    mediator: Mediator
    organisation: Organisation
    facts: Annotated[str, Field(min_length=1, max_length=5000)]
    monetary: list[MonetaryObligation] = Field(default_factory=list, max_length=50)
    performance: list[Performance] = Field(default_factory=list, max_length=50)
    default_clauses: list[Paragraph] = Field(default_factory=list, max_length=20)
    confidentiality: Annotated[str, Field(max_length=2000)] | None = None
    date: dt.date
    place: Line

    @model_validator(mode="after")
    def _consistent(self) -> AgreementData:
        keys = [p.key for p in self.parties]
        duplicate = {k for k in keys if keys.count(k) > 1}
        if duplicate:
            raise ValueError(f"party keys must be unique, repeated: {sorted(duplicate)}")
        sides = {p.side for p in self.parties}
        if sides != {Side.APPLICANT, Side.RESPONDENT}:
            raise ValueError("an agreement needs at least one applicant and one respondent")
        known = set(keys)
        for i, ob in enumerate(self.monetary):
            for role in ("payer", "payee"):
                if getattr(ob, role) not in known:
                    raise ValueError(f"monetary[{i}].{role}: no party with key {getattr(ob, role)!r}")
            if ob.payer == ob.payee:
                raise ValueError(f"monetary[{i}]: payer and payee are the same party")
        for i, perf in enumerate(self.performance):
            if perf.obligor not in known:
                raise ValueError(f"performance[{i}].obligor: no party with key {perf.obligor!r}")
        if not self.monetary and not self.performance:
            raise ValueError("an agreement needs at least one agreed term (monetary or performance)")
        return self

    def party(self, key: str) -> Party:
        for p in self.parties:
            if p.key == key:
                return p
        raise KeyError(key)


# --- who signs, in which order ------------------------------------------------------------------


class SignerRole(StrEnum):
    PARTY = "party"
    AGENT = "agent"
    MEDIATOR = "mediator"
    ORGANISATION = "organisation"


ROLE_LABELS = {
    SignerRole.PARTY: "当事人",
    SignerRole.AGENT: "委托代理人",
    SignerRole.MEDIATOR: "调解员",
    SignerRole.ORGANISATION: "调解组织（印章）",
}


class SignerSlot(_Strict):
    """One signature the agreement needs: its PDF field, the signer's role and who it is."""

    index: int
    field_name: str
    role: SignerRole
    signer_key: str  # stable across versions: "party:alice", "agent:alice", "mediator", "organisation"
    name: str
    side: Side | None = None
    #: The case participant who signs this field (their account id); ``None`` for a person the
    #: case does not know (they sign by a link bound to this slot) and for the seal.
    participant_id: str | None = None
    #: For the seal slot: the organisation (``med_organisations.id``) whose seal closes the agreement.
    organisation_id: str | None = None

    @property
    def is_party_side(self) -> bool:
        """Parties and their agents: their signatures make the agreement effective."""
        return self.role in (SignerRole.PARTY, SignerRole.AGENT)

    @property
    def holder_id(self) -> str | None:
        """Whose slot it is, as certificates and the slot table name it: the participant's account,
        or for the seal the organisation."""
        return self.participant_id or self.organisation_id


def signer_order(agreement: AgreementData) -> list[SignerSlot]:
    """The legal signing order: applicants then respondents (each followed by an agent who signs),
    then the mediator, then the organisation's seal (People's Mediation Law art. 29)."""
    slots: list[SignerSlot] = []

    def add(role: SignerRole, key: str, name: str, side: Side | None, participant_id: str | None,
            organisation_id: str | None = None) -> None:
        index = len(slots) + 1
        suffix = f"_{key}" if key else ""
        slots.append(SignerSlot(index=index, field_name=f"sig_{index:02d}_{role.value}{suffix}", role=role,
                                signer_key=f"{role.value}:{key}" if key else role.value, name=name, side=side,
                                participant_id=participant_id, organisation_id=organisation_id))

    for side in (Side.APPLICANT, Side.RESPONDENT):
        for party in (p for p in agreement.parties if p.side is side):
            add(SignerRole.PARTY, party.key, party.name, side, party.participant_id)
            if party.agent is not None and party.agent.signs:
                add(SignerRole.AGENT, party.key, party.agent.name, side, party.agent.participant_id)
    add(SignerRole.MEDIATOR, "", agreement.mediator.name, None, agreement.mediator.participant_id)
    org = agreement.organisation
    add(SignerRole.ORGANISATION, "", org.name, None, org.organisation_id, org.organisation_id)
    return slots


# --- amounts in Chinese capitals (大写), as agreements and courts expect -------------------------

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def amount_in_words(amount: Decimal) -> str:
    """``Decimal("10500.30")`` → ``人民币壹万零伍佰元叁角``; whole yuan end in 整."""
    fen_total = int((amount * 100).to_integral_value())
    if fen_total < 0:
        raise ValueError("amount must not be negative")
    yuan, fen = divmod(fen_total, 100)
    jiao, fen = divmod(fen, 10)
    groups: list[int] = []
    while yuan:
        yuan, group = divmod(yuan, 10000)
        groups.append(group)
    text = ""
    zero_pending = False
    for gi in range(len(groups) - 1, -1, -1):
        group = groups[gi]
        if group == 0:
            zero_pending = bool(text)
            continue
        digits = f"{group:04d}"
        part = ""
        for pos, ch in enumerate(digits):
            d = int(ch)
            unit = _SMALL_UNITS[3 - pos]
            if d == 0:
                zero_pending = bool(text or part)
                continue
            if zero_pending:
                part += "零"
                zero_pending = False
            part += _DIGITS[d] + unit
        text += part + _BIG_UNITS[gi]
    out = "人民币" + (text + "元" if text else "")
    if jiao == 0 and fen == 0:
        return (out if text else "人民币零元") + "整"
    if jiao:
        out += _DIGITS[jiao] + "角"
    elif text:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    return out
