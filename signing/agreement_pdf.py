"""Render an agreement to the PDF that gets locked and signed.

reportlab lays out the text with an embedded (subset) TrueType CJK font; pyHanko then adds one
empty signature field per signer slot, in the legal order, on the signature page(s). The list of
expected fields is printed *and* stored machine-readably in the document catalog, so a verifier
can tell a fully signed agreement from one cut back to an earlier revision. Next to that list
the catalog carries the slot table (:class:`signing.binding.SignerTable`: who must sign each
field, the agreement id, version and case number), against which the verifier checks each
signer's certificate.

This is CPU work (~0.1–0.3 s): callers on the event loop run it in an executor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter, copy_into_new_writer
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from .agreement import (
    ID_TYPE_LABELS,
    ROLE_LABELS,
    SIDE_LABELS,
    AgreementData,
    Party,
    SignerRole,
    SignerSlot,
    amount_in_words,
    signer_order,
)
from .binding import EXPECTED_FIELDS_KEY, SIGNER_SLOTS_KEY, SignerTable, SlotEntry, SlotOrganisation
from .identity_print import add_identity_field, field_lock
from .templates import clauses_for, template_for

CJK_FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_NAME = "AccordCJK"
SHA256_HEX = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


# --- evidence appendix input --------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttestationEntry(_Frozen):
    """One signed identity attestation (:mod:`identity.attestation`) that allowed a signature."""

    method: Annotated[str, Field(min_length=1, max_length=64)]
    sha256: SHA256_HEX
    checked_at: dt.datetime
    score: float | None = None
    threshold: float | None = None
    note: Annotated[str, Field(max_length=200)] | None = None


class IdentityEvidence(_Frozen):
    """One signer's identity check as reported by the identity service (not computed here)."""

    signer_key: str
    method: Annotated[str, Field(min_length=1, max_length=64)]
    checked_at: dt.datetime
    score: float | None = Field(default=None, ge=0, le=1)
    frames_sha256: SHA256_HEX | None = None
    #: Records stored before every attestation was cited: the one (face check's) attestation.
    attestation_sha256: SHA256_HEX | None = None
    #: Every signed attestation of the checks that allowed the signature, in the policy's order.
    attestations: list[AttestationEntry] = Field(default_factory=list, max_length=8)


class RecordingHash(_Frozen):
    """A recording session's manifest (its SHA-256 is in the case's audit trail)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    sha256: SHA256_HEX
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None


class EvidenceAppendix(_Frozen):
    """What the appendix prints: identity checks, recording manifests, the audit-trail head."""

    identity_checks: list[IdentityEvidence] = Field(default_factory=list, max_length=64)
    recordings: list[RecordingHash] = Field(default_factory=list, max_length=64)
    audit_head_sha256: SHA256_HEX | None = None


# --- output -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldBox:
    field_name: str
    page: int  # 0-based
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class RenderedAgreement:
    pdf: bytes
    sha256: str
    slots: list[SignerSlot]
    boxes: list[FieldBox]


# --- layout -------------------------------------------------------------------------------------


@cache
def _font() -> str:
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(CJK_FONT_PATH), subfontIndex=0))
    return FONT_NAME


def _styles() -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=1, spaceAfter=4 * mm),
        "sub": ParagraphStyle("sub", parent=base, alignment=2, textColor=colors.grey, spaceAfter=4 * mm),
        "h": ParagraphStyle("h", parent=base, fontSize=12.5, leading=20, spaceBefore=3 * mm, spaceAfter=1.5 * mm),
        "body": base,
        "item": ParagraphStyle("item", parent=base, leftIndent=6 * mm, firstLineIndent=-6 * mm),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


class SignatureBox(Flowable):
    """A labelled empty box; remembers where it landed so pyHanko can put the field there."""

    HEIGHT = 34 * mm
    BOX_W = 80 * mm
    BOX_H = 26 * mm

    def __init__(self, field_name: str, label: str, placed: list[FieldBox]):
        super().__init__()
        self.field_name = field_name
        self.label = label
        self.placed = placed

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, self.HEIGHT

    def draw(self) -> None:
        c = self.canv
        c.setFont(_font(), 10.5)
        c.drawString(0, self.HEIGHT - 14, self.label)
        c.setFont(_font(), 8)
        c.setFillColor(colors.grey)
        c.drawString(0, self.HEIGHT - 28, f"签名域 / field: {self.field_name}")
        x0 = self.width - self.BOX_W
        c.setStrokeColor(colors.lightgrey)
        c.rect(x0, 2, self.BOX_W, self.BOX_H)
        ax, ay = c.absolutePosition(x0, 2)
        self.placed.append(FieldBox(self.field_name, c.getPageNumber() - 1,
                                    (round(ax), round(ay), round(ax + self.BOX_W), round(ay + self.BOX_H))))


class IdentityBox(SignatureBox):
    """The appendix's empty box where a signer's identity checks are printed when they sign
    (:mod:`signing.identity_print`); remembers where it landed like a signature box."""

    HEIGHT = 38 * mm
    BOX_H = 30 * mm

    def draw(self) -> None:
        c = self.canv
        c.setFont(_font(), 9)
        c.drawString(0, self.HEIGHT - 11, self.label)
        c.setStrokeColor(colors.lightgrey)
        c.rect(0, 2, self.width, self.BOX_H)
        ax, ay = c.absolutePosition(0, 2)
        self.placed.append(FieldBox(self.field_name, c.getPageNumber() - 1,
                                    (round(ax), round(ay), round(ax + self.width), round(ay + self.BOX_H))))


def _slot_who(slot: SignerSlot) -> str:
    side = f"{SIDE_LABELS[slot.side]} " if slot.side else ""
    return f"{side}{ROLE_LABELS[slot.role]}：{slot.name}"


def _slot_label(slot: SignerSlot) -> str:
    return f"{slot.index}. {_slot_who(slot)}"


def _party_lines(party: Party) -> list[str]:
    head = f"{SIDE_LABELS[party.side]}：{party.name}"
    if party.legal_person:
        head += f"，{ID_TYPE_LABELS[party.id_type]}：{party.id_number}，法定代表人：{party.representative}"
    else:
        head += f"，{ID_TYPE_LABELS[party.id_type]}号码：{party.id_number}"
    head += f"，住所：{party.address}，联系方式：{party.contact}。"
    lines = [head]
    if party.agent is not None:
        a = party.agent
        authority = "特别授权" if a.authority == "special" else "一般授权"
        address = f"住所：{a.address}，" if a.address else ""
        lines.append(f"委托代理人：{a.name}，{ID_TYPE_LABELS[a.id_type]}号码：{a.id_number}，"
                     f"{address}联系方式：{a.contact}，代理权限：{authority}。")
    return lines


def _story(agreement: AgreementData, evidence: EvidenceAppendix, slots: list[SignerSlot], agreement_id: str,
           version: int, placed: list[FieldBox], identity_boxes: list[FieldBox]) -> list[Flowable]:
    s = _styles()
    template = template_for(agreement.dispute_type)
    clauses = clauses_for(agreement)
    names = {p.key: p.name for p in agreement.parties}
    story: list[Flowable] = [
        _p("调解协议书", s["title"]),
        _p(f"案号：{agreement.case_number}    纠纷类型：{template.label_zh}    版本：v{version}", s["sub"]),
        _p("一、当事人及代理人", s["h"]),
    ]
    for party in agreement.parties:
        story += [_p(line, s["body"]) for line in _party_lines(party)]
    m, org = agreement.mediator, agreement.organisation
    story += [
        _p(f"调解组织：{org.name}" + (f"（统一社会信用代码：{org.credit_code}）" if org.credit_code else "")
           + (f"，地址：{org.address}" if org.address else "") + "。", s["body"]),
        _p(f"调解员：{m.name}" + (f"，调解员证号：{m.certificate_number}" if m.certificate_number else "") + "。",
           s["body"]),
        _p("二、纠纷事实", s["h"]),
        _p(agreement.facts, s["body"]),
        _p("三、经调解，各方当事人自愿达成如下协议", s["h"]),
    ]
    n = 0
    for ob in agreement.monetary:
        n += 1
        text = (f"{n}. {names[ob.payer]}于{ob.due_date.year}年{ob.due_date.month}月{ob.due_date.day}日前向"
                f"{names[ob.payee]}支付{amount_in_words(ob.amount)}（¥{ob.amount:,.2f}）")
        if ob.description:
            text += f"，款项性质：{ob.description}"
        if ob.method:
            text += f"，支付方式：{ob.method}"
        story.append(_p(text + "。", s["item"]))
    for perf in agreement.performance:
        n += 1
        due = f"于{perf.due_date.year}年{perf.due_date.month}月{perf.due_date.day}日前" if perf.due_date else ""
        story.append(_p(f"{n}. {names[perf.obligor]}{due}{perf.description}", s["item"]))
    story.append(_p("四、违约责任", s["h"]))
    story += [_p(f"{i}. {c}", s["item"]) for i, c in enumerate(clauses.default_clauses, 1)]
    story += [_p("五、保密", s["h"]), _p(clauses.confidentiality, s["body"]), _p("六、其他", s["h"])]
    story += [_p(f"{i}. {c}", s["item"]) for i, c in enumerate(clauses.closing_clauses, 1)]
    story += [
        Spacer(1, 3 * mm),
        _p(f"签订日期：{agreement.date.year}年{agreement.date.month}月{agreement.date.day}日    "
           f"签订地点：{agreement.place}", s["body"]),
        _p("本协议须由下列签名域全部签署方为完整（按顺序）：", s["h"]),
    ]
    story += [_p(f"{slot.index}. {slot.field_name} — {_slot_who(slot)}", s["small"]) for slot in slots]
    story += _appendix(evidence, slots, agreement_id, version, s, identity_boxes)
    story += [PageBreak(), _p("签署页", s["title"])]
    story += [SignatureBox(slot.field_name, _slot_label(slot), placed) for slot in slots]
    return story


def _people(slots: list[SignerSlot]) -> list[SignerSlot]:
    """The slots a person signs (identity checked); the organisation's seal is no person's."""
    return [slot for slot in slots if slot.role is not SignerRole.ORGANISATION]


def _appendix(evidence: EvidenceAppendix, slots: list[SignerSlot], agreement_id: str, version: int,
              s: dict[str, ParagraphStyle], identity_boxes: list[FieldBox]) -> list[Flowable]:
    names = {slot.signer_key: slot.name for slot in slots}
    out: list[Flowable] = [PageBreak(), _p("附件：证据摘要", s["title"]),
                           _p(f"协议编号：{agreement_id}    版本：v{version}", s["body"]),
                           _p("（一）身份核验", s["h"])]
    if evidence.identity_checks:
        rows = [["签署人", "方式", "时间 (UTC)", "分值", "所用画面 SHA-256"]]
        for check in evidence.identity_checks:
            rows.append([names.get(check.signer_key, check.signer_key), check.method,
                         check.checked_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                         "" if check.score is None else f"{check.score:.3f}",
                         _p(check.frames_sha256 or "—", s["small"])])
        table = Table(rows, colWidths=[28 * mm, 20 * mm, 34 * mm, 14 * mm, 74 * mm])
        table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), _font(), 8),
                                   ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        out.append(table)
    out.append(_p("各签署人签署时通过的身份核验（方式、时间、结果、分值与阈值）在其签署时填入下框，并由其签名覆盖；"
                  "每项核验的记录由平台身份核验证书签名，按 SHA-256 引用（见案件材料包 attestations/）。", s["small"]))
    out += [IdentityBox(slot.field_name, _slot_label(slot), identity_boxes) for slot in _people(slots)]
    out.append(_p("（二）调解录像清单", s["h"]))
    out += [_p(f"{r.name}{_span(r.started_at, r.ended_at)}：清单 SHA-256 {r.sha256}", s["small"])
            for r in evidence.recordings] or [_p("无。", s["body"])]
    out += [_p("（三）案件审计链", s["h"]),
            _p(f"审计链头哈希 SHA-256：{evidence.audit_head_sha256 or '无'}", s["small"])]
    return out


def _span(start: dt.datetime | None, end: dt.datetime | None) -> str:
    """A recording's times in UTC, as the identity checks above are printed."""
    if start is None:
        return ""
    fmt = "%Y-%m-%d %H:%M:%S"
    until = "—" if end is None else end.astimezone(dt.UTC).strftime(fmt)
    return f"（{start.astimezone(dt.UTC).strftime(fmt)} 至 {until}，UTC）"


def _footer(case_number: str, agreement_id: str, version: int):  # type: ignore[no-untyped-def]
    def draw(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(_font(), 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(20 * mm, 10 * mm, f"案号 {case_number} · 协议 {agreement_id} · v{version}")
        canvas.drawRightString(A4[0] - 20 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    return draw


def signer_table(agreement: AgreementData, slots: list[SignerSlot], *, agreement_id: str,
                 version: int) -> SignerTable:
    """Who must sign each field, as the locked PDF states it."""
    org = agreement.organisation
    seal_org = SlotOrganisation(name=org.name, credit_code=org.credit_code)
    return SignerTable(agreement_id=agreement_id, version=version, case_number=agreement.case_number, slots=[
        SlotEntry(field_name=slot.field_name, role=slot.role.value, side=slot.side.value if slot.side else None,
                  name=slot.name, participant_id=slot.holder_id,
                  organisation=seal_org if slot.role is SignerRole.ORGANISATION else None)
        for slot in slots])


def write_signer_catalog(writer: BasePdfFileWriter, table: SignerTable) -> None:
    """Put the expected-fields list and the slot table into the document catalog.

    The slot table itself is an indirect object: every signature's incremental update rewrites
    the catalog, which should not carry a copy of the table each time."""
    entries: dict[str, Any] = {EXPECTED_FIELDS_KEY: json.dumps([s.field_name for s in table.slots],
                                                               separators=(",", ":"))}
    entries |= table.catalog_entries()
    for key, value in entries.items():
        obj = generic.NumberObject(value) if isinstance(value, int) else generic.TextStringObject(value)
        writer.root[generic.NameObject(key)] = writer.add_object(obj) if key == SIGNER_SLOTS_KEY else obj


def render_agreement(agreement: AgreementData, evidence: EvidenceAppendix, *, agreement_id: str,
                     version: int, slots: list[SignerSlot] | None = None) -> RenderedAgreement:
    """Lay out the agreement, add the empty signature fields and return the bytes with their hash.

    ``slots`` default to :func:`signing.agreement.signer_order` (callers with participant-keyed
    slots pass theirs)."""
    slots = signer_order(agreement) if slots is None else slots
    placed: list[FieldBox] = []
    identity_boxes: list[FieldBox] = []
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=f"调解协议书 {agreement.case_number}",
                            author=agreement.organisation.name, subject=f"{agreement_id} v{version}",
                            creator="Accord", pageCompression=1, initialFontName=_font())
    footer = _footer(agreement.case_number, agreement_id, version)
    doc.build(_story(agreement, evidence, slots, agreement_id, version, placed, identity_boxes),
              onFirstPage=footer, onLaterPages=footer)
    writer = copy_into_new_writer(PdfFileReader(io.BytesIO(buf.getvalue())))
    write_signer_catalog(writer, signer_table(agreement, slots, agreement_id=agreement_id, version=version))
    people = {slot.field_name for slot in _people(slots)}
    for fb in identity_boxes:
        add_identity_field(writer, fb.field_name, fb.page, fb.box)
    for fb in placed:  # a person's signature locks their identity box once signed
        append_signature_field(writer, SigFieldSpec(fb.field_name, on_page=fb.page, box=fb.box,
                                                    field_mdp_spec=field_lock(fb.field_name)
                                                    if fb.field_name in people else None))
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    return RenderedAgreement(pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(), slots=slots, boxes=placed)
