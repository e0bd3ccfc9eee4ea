"""The identity checks printed in the agreement's evidence appendix, one box per signer.

The checks happen after the text is locked, so they cannot be in the rendered pages. Instead the
locked PDF has, in its appendix, one empty read-only text field per signer (``identity_<field>``),
and that signer's signature field carries a lock dictionary (FieldMDP, ``/Include``) naming it.
When the signer signs, the same incremental update fills the box with the identity checks that
allowed the signature — method, time, result, scores and thresholds, each attestation's SHA-256 —
and the signature covers it. Filling a form field is a change a signature permits (pyHanko's
``FORM_FILLING`` level, which the verifier accepts for earlier signatures); the lock makes any
later change of the box a violation of that signer's own signature.
"""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from typing import TYPE_CHECKING

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec
from pyhanko.stamp import TextStamp, TextStampStyle

from .fonts import cjk_stamp_font

if TYPE_CHECKING:  # agreement_pdf lays the boxes out with this module's helpers
    from .agreement_pdf import AttestationEntry, IdentityEvidence

PREFIX = "identity_"
#: Read-only (bit 1) and multiline (bit 13) text field.
_FLAGS = 1 | 4096
_PRINTABLE = 4  # annotation flag: print
_LABELS = {"face": "人脸比对 face match", "liveness": "活体检测 liveness", "otp": "短信验证码 SMS code",
           "session": "与调解录像比对 recorded session", "test": "模拟核验（仅开发）simulated"}
_TIME = "%Y-%m-%d %H:%M:%S UTC"
_LAYOUT = layout.SimpleBoxLayoutRule(x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MAX,
                                     margins=layout.Margins.uniform(3),
                                     inner_content_scaling=layout.InnerScaling.SHRINK_TO_FIT)


def identity_field(field_name: str) -> str:
    """The appendix's text field that prints the identity checks of ``field_name``'s signer."""
    return PREFIX + field_name


def field_lock(field_name: str) -> FieldMDPSpec:
    """The lock a person's signature field carries: after signing, its identity box is frozen."""
    return FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[identity_field(field_name)])


def add_identity_field(writer: BasePdfFileWriter, field_name: str, page: int,
                       box: tuple[int, int, int, int]) -> None:
    """An empty, read-only, printable multiline text field at ``box`` on ``page`` (0-based)."""
    page_ref = writer.find_page_for_modification(page)[0]
    widget = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Annot"), pdf_name("/Subtype"): pdf_name("/Widget"),
        pdf_name("/FT"): pdf_name("/Tx"), pdf_name("/T"): generic.TextStringObject(identity_field(field_name)),
        pdf_name("/Ff"): generic.NumberObject(_FLAGS), pdf_name("/F"): generic.NumberObject(_PRINTABLE),
        pdf_name("/Rect"): generic.ArrayObject(generic.FloatObject(v) for v in box),
        pdf_name("/DA"): generic.TextStringObject("/Helv 7 Tf 0 g"), pdf_name("/P"): page_ref,
        pdf_name("/V"): generic.TextStringObject(""),
    })
    ref = writer.add_object(widget)
    page_obj = page_ref.get_object()
    annots = page_obj.get("/Annots")
    if annots is None:
        page_obj[pdf_name("/Annots")] = annots = generic.ArrayObject()
    annots.get_object().append(ref)
    form = writer.root.get("/AcroForm")
    if form is None:
        writer.root[pdf_name("/AcroForm")] = form = generic.DictionaryObject({pdf_name("/Fields"):
                                                                            generic.ArrayObject()})
    form.get_object()["/Fields"].append(ref)
    writer.update_container(page_obj)


def identity_lines(evidence: IdentityEvidence) -> list[str]:
    """What the box says: the checks that allowed the signature, each with its attestation's hash."""
    lines = [f"签署依据 checks: {evidence.method}    核验时间 checked: "
             f"{evidence.checked_at.astimezone(dt.UTC).strftime(_TIME)}"]
    if not evidence.attestations:  # a record from before every attestation was cited, or a simulated check
        lines.append(f"    核验证明 attestation SHA-256: {evidence.attestation_sha256}" if evidence.attestation_sha256
                     else "无签名的核验证明 no signed attestation")
    for entry in evidence.attestations:
        lines.append(f"{_label(entry.method)} · 通过 passed · {entry.checked_at.astimezone(dt.UTC).strftime(_TIME)}"
                     + _scores(entry) + (f" · {entry.note}" if entry.note else ""))
        lines.append(f"    核验证明 attestation SHA-256: {entry.sha256}")
    return lines


def _label(method: str) -> str:
    if method.startswith("provider:"):
        return f"实名认证平台 identity provider ({method.split(':', 1)[1]})"
    return _LABELS.get(method, method)


def _scores(entry: AttestationEntry) -> str:
    if entry.score is None:
        return ""
    threshold = "" if entry.threshold is None else f"（阈值 threshold {entry.threshold:.3f}）"
    return f" · 分值 score {entry.score:.3f}{threshold}"


def fill_identity_field(writer: IncrementalPdfFileWriter, field_name: str, lines: list[str]) -> bool:
    """Print ``lines`` in ``field_name``'s identity box, in the revision ``writer`` is building
    (the signature that follows covers it). ``False`` if the document has no such box (rendered
    before boxes existed): nothing is changed then."""
    target = identity_field(field_name)
    form = writer.root.get("/AcroForm")
    for ref in (form.get_object().get("/Fields", []) if form is not None else []):
        widget = ref.get_object()
        if widget.get("/T") != target:
            continue
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        text = "\n".join(lines)
        style = TextStampStyle(stamp_text=text.replace("%", "%%"), border_width=0, inner_content_layout=_LAYOUT,
                               text_box_style=TextBoxStyle(font=GlyphAccumulatorFactory(str(cjk_stamp_font(text)),
                                                                                        font_size=7), leading=10))
        appearance = TextStamp(writer, style, box=layout.BoxConstraints(x2 - x1, y2 - y1)).register()
        widget[pdf_name("/V")] = generic.TextStringObject(text)
        widget[pdf_name("/AP")] = generic.DictionaryObject({pdf_name("/N"): appearance})
        writer.mark_update(ref)
        return True
    return False


def printed_identity(pdf: bytes) -> dict[str, str]:
    """Signature field → the text its identity box holds (filled boxes only), for verifiers and tests."""
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    form = reader.root.get("/AcroForm")
    out = {}
    for ref in (form.get_object().get("/Fields", []) if form is not None else []):
        field = ref.get_object()
        name, value = str(field.get("/T", "")), field.get("/V")
        if name.startswith(PREFIX) and value:
            out[name[len(PREFIX):]] = str(value)
    return out
