"""The court's ruling as a signed PDF: 民事裁定书 (judicial confirmation: the agreement is valid, or
the application is rejected; a rejected payment-order application) or 支付令 (payment order).

Laid out like the agreement, with :mod:`signing.agreement_pdf`'s embedded CJK font and styles, and
one pre-created field for the court's seal; the catalog carries the
:class:`signing.binding.RulingStatement` (court, case number, application, the agreement's
SHA-256, the audit head), which the verifier reads to require that court's certificate on that
field. Signed with the court's certificate (:meth:`signing.seals.SealRegistry.for_court`) as
PAdES B-LTA, like the agreement's seal: signature with timestamp and validation data, then a
document timestamp.

Rendering and signing are CPU work (~0.5 s): :class:`CourtRulingSigner` runs them in worker threads.
"""

from __future__ import annotations

import asyncio
import io
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko_certvalidator import ValidationContext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer

from .agreement import amount_in_words
from .agreement_pdf import FieldBox, SignatureBox, _font, _p, _styles
from .binding import EXPECTED_FIELDS_KEY, RULING_KEY, RulingStatement
from .pades import CHINA_TIME, KeyCustody, SignatureEvidence, SigningError, StampText, finalize_lta, sign_with_key
from .pki import PKIError
from .seals import Seal, SealRegistry
from .tsa import TimeStampRejected

#: The one signature field of a ruling: the court's seal.
COURT_SEAL_FIELD = "court_seal"
_DIGITS = "〇一二三四五六七八九"
_CPL = "《中华人民共和国民事诉讼法》"
_INTERPRETATION = "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》"


class RulingError(Exception):
    """The ruling could not be signed (no usable court certificate, the TSA refused...)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RulingParty(_Frozen):
    """A party as the ruling names them; ``title`` is their standing in the court proceedings."""

    title: Literal["applicant", "respondent"]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    id_number: Annotated[str, Field(max_length=32)] | None = None
    address: Annotated[str, Field(max_length=200)] | None = None


class PaymentDemand(_Frozen):
    """What a payment order orders (CPL art. 225: money only, a certain amount)."""

    amount_fen: int = Field(gt=0)
    due_date: date | None = None


class RulingContent(_Frozen):
    """Everything the ruling prints. The statement goes into the catalog as well."""

    statement: RulingStatement
    parties: list[RulingParty] = Field(min_length=1, max_length=8)
    organisation: Annotated[str, Field(max_length=100)] | None = None
    agreement_effective_at: AwareDatetime | None = None
    filed_at: AwareDatetime | None = None
    reasons: Annotated[str, Field(max_length=2000)] | None = None
    payment: PaymentDemand | None = None

    @property
    def title(self) -> str:
        s = self.statement
        return "支付令" if (s.kind, s.decision) == ("payment_order", "issued") else "民事裁定书"


# --- text -----------------------------------------------------------------------------------------


def chinese_date(day: date) -> str:
    """``2026-03-05`` → ``二〇二六年三月五日``, as court documents date themselves."""

    def number(n: int) -> str:
        tens, ones = divmod(n, 10)
        return (("" if tens == 1 else _DIGITS[tens]) + "十" if tens else "") + (_DIGITS[ones] if ones else "")

    return "".join(_DIGITS[int(d)] for d in str(day.year)) + f"年{number(day.month)}月{number(day.day)}日"


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _local_day(moment: datetime) -> date:
    return moment.astimezone(CHINA_TIME).date()


def _names(parties: list[RulingParty], title: str) -> str:
    return "、".join(p.name for p in parties if p.title == title)


def _yuan(amount_fen: int) -> str:
    amount = Decimal(amount_fen) / 100
    return f"{amount_in_words(amount)}（¥{amount:,.2f}）"


def _agreement_ref(c: RulingContent) -> str:
    s = c.statement
    ident = f"编号 {s.agreement_id}" if s.agreement_id else "编号未载明"
    digest = f"，电子文件 SHA-256：{s.agreement_sha256}" if s.agreement_sha256 else "，申请未附电子文件"
    return f"调解协议（{ident}{digest}）"


def _body(c: RulingContent) -> list[str]:
    """The ruling's paragraphs: facts, the court's view, the decision, what follows from it."""
    s = c.statement
    applicants = _names(c.parties, "applicant")
    by = f"经{c.organisation}主持调解，" if c.organisation else "经调解，"
    effective = f"于{_day(_local_day(c.agreement_effective_at))}生效的" if c.agreement_effective_at else ""
    filed = f"于{_day(_local_day(c.filed_at))}" if c.filed_at else ""
    if s.kind == "judicial_confirmation":
        facts = (f"申请人{applicants}{by}达成了{effective}{_agreement_ref(c)}，{filed}共同向本院申请司法确认。"
                 f"本院受理后依法进行了审查。")
        if s.decision == "valid":
            return [facts,
                    "本院经审查认为，申请人达成的调解协议符合司法确认调解协议的法定条件"
                    + (f"。{c.reasons}" if c.reasons else "") + "。"
                    f"依照{_CPL}第二百零五条、第二百零六条规定，裁定如下：",
                    f"申请人{applicants}经调解达成的上述调解协议有效。",
                    "当事人应当按照调解协议的约定自觉履行义务。一方当事人拒绝履行或者未全部履行的，"
                    "对方当事人可以向人民法院申请执行。"]
        return [facts,
                f"本院经审查认为：{c.reasons or '申请不符合司法确认调解协议的条件'}。"
                f"依照{_CPL}第二百零六条、{_INTERPRETATION}第三百五十八条规定，裁定如下：",
                f"驳回申请人{applicants}的司法确认申请。",
                "当事人可以通过调解方式变更原调解协议或者达成新的调解协议，也可以向人民法院提起诉讼。"]
    debtors = _names(c.parties, "respondent")
    amount = _yuan(c.payment.amount_fen) if c.payment else "调解协议约定的款项"
    due = f"（约定履行期限：{_day(c.payment.due_date)}）" if c.payment and c.payment.due_date else ""
    facts = (f"申请人{applicants}{filed}向本院申请支付令，请求被申请人{debtors}依照双方{effective}"
             f"{_agreement_ref(c)}给付{amount}{due}。")
    if s.decision == "issued":
        return [facts,
                f"本院经审查认为，申请人的申请符合{_CPL}第二百二十五条规定的条件"
                + (f"。{c.reasons}" if c.reasons else "") + "。"
                f"依照{_CPL}第二百二十七条规定，特发出如下支付令：",
                f"被申请人{debtors}应当自收到本支付令之日起十五日内，给付申请人{applicants}{amount}。",
                "被申请人如对本支付令有异议，应当自收到本支付令之日起十五日内向本院书面提出。"
                "逾期不提出异议又不履行支付令的，申请人可以向人民法院申请执行。"]
    return [facts,
            f"本院经审查认为：{c.reasons or '申请不符合发出支付令的条件'}。"
            f"依照{_CPL}第二百二十五条、{_INTERPRETATION}第四百二十七条规定，裁定如下：",
            f"驳回申请人{applicants}的支付令申请。",
            "申请人可以就该债权债务关系向人民法院提起诉讼。"]


def _party_line(party: RulingParty) -> str:
    line = f"{'申请人' if party.title == 'applicant' else '被申请人'}：{party.name}"
    if party.id_number:
        line += f"，公民身份号码：{party.id_number}"
    if party.address:
        line += f"，住所：{party.address}"
    return line + "。"


# --- layout -----------------------------------------------------------------------------------------


def _story(c: RulingContent, placed: list[FieldBox]) -> list[Flowable]:
    s = _styles()
    st = c.statement
    court = ParagraphStyle("court", parent=s["title"], fontSize=18, leading=26, spaceAfter=2 * mm)
    number = ParagraphStyle("number", parent=s["body"], alignment=2, spaceAfter=4 * mm)
    paragraph = ParagraphStyle("paragraph", parent=s["body"], firstLineIndent=21, spaceAfter=2 * mm)
    signed = ParagraphStyle("signed", parent=s["body"], alignment=2)
    story: list[Flowable] = [_p(st.court, court), _p(c.title, s["title"]), _p(st.court_case_number, number)]
    story += [_p(_party_line(p), s["body"]) for p in c.parties]
    story.append(Spacer(1, 3 * mm))
    story += [_p(text, paragraph) for text in _body(c)]
    story += [Spacer(1, 8 * mm), _p(f"审判员　{st.judge}", signed), _p(chinese_date(_local_day(st.ruled_at)), signed),
              Spacer(1, 4 * mm), SignatureBox(COURT_SEAL_FIELD, f"{st.court}（院印）", placed),
              Spacer(1, 4 * mm),
              _p(f"申请编号：{st.application_id}    调解案件：{st.case_id}    审计链：第 {st.audit_seq} 条 "
                 f"{st.audit_head}", s["small"])]
    return story


def _footer(case_number: str):  # type: ignore[no-untyped-def]
    def draw(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(_font(), 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(20 * mm, 10 * mm, case_number)
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    return draw


def render_ruling(content: RulingContent) -> bytes:
    """The unsigned ruling: laid-out text, the statement in the catalog, the empty seal field."""
    st = content.statement
    placed: list[FieldBox] = []
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=25 * mm, rightMargin=25 * mm, topMargin=25 * mm,
                            bottomMargin=20 * mm, title=f"{content.title} {st.court_case_number}", author=st.court,
                            subject=st.application_id, creator="Accord", pageCompression=1, initialFontName=_font())
    footer = _footer(st.court_case_number)
    doc.build(_story(content, placed), onFirstPage=footer, onLaterPages=footer)
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(buf.getvalue())))
    writer.root[generic.NameObject(EXPECTED_FIELDS_KEY)] = generic.TextStringObject(json.dumps([COURT_SEAL_FIELD]))
    writer.root[generic.NameObject(RULING_KEY)] = writer.add_object(generic.TextStringObject(st.model_dump_json()))
    (box,) = placed
    append_signature_field(writer, SigFieldSpec(box.field_name, on_page=box.page, box=box.box))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- signing ----------------------------------------------------------------------------------------


async def sign_ruling(pdf: bytes, seal: Seal, timestamper: TimeStamper, validation_context: ValidationContext,
                      *, signed_at: datetime) -> bytes:
    """The court's seal on :data:`COURT_SEAL_FIELD`, then B-LTA (validation data and a document timestamp)."""
    stamp = StampText(seal.holder.name, "人民法院", signed_at=signed_at)
    signed = await sign_with_key(pdf, COURT_SEAL_FIELD, seal.key, seal.cert, seal.chain, stamp, timestamper,
                                 validation_context, evidence=SignatureEvidence(KeyCustody.SERVER))
    return await finalize_lta(signed, timestamper, validation_context)


class CourtRulingSigner:
    """What the case system calls when a judge rules: the ruling rendered and signed with the
    certificate of the court it names, every step in worker threads."""

    def __init__(self, seals: SealRegistry, timestamper: TimeStamper):
        self.seals = seals
        self.timestamper = timestamper

    async def __call__(self, content: RulingContent) -> bytes:
        try:
            pdf = await asyncio.to_thread(render_ruling, content)
            seal = await asyncio.to_thread(self.seals.for_court, content.statement.court)
            context = await asyncio.to_thread(self.seals.validation_context)
            return await sign_ruling(pdf, seal, self.timestamper, context, signed_at=content.statement.ruled_at)
        except (PKIError, SigningError, TimeStampRejected, TimestampRequestError) as exc:
            raise RulingError(f"the ruling of {content.statement.court} cannot be signed: {exc}") from None
