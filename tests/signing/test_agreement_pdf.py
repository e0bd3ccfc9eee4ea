"""The rendered agreement: embedded CJK font, the text a court reads, and empty fields in the legal order."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields

from agreement_samples import agreement_dict, resident_id, sample_agreement
from signing.agreement import AgreementData, signer_order
from signing.agreement_pdf import EvidenceAppendix, IdentityEvidence, RecordingHash, render_agreement
from signing.binding import EXPECTED_FIELDS_KEY, SignerTable, SlotOrganisation

EVIDENCE = EvidenceAppendix(
    identity_checks=[IdentityEvidence(signer_key="party:zhang", method="face", score=0.934,
                                      checked_at=dt.datetime(2026, 11, 29, 9, 30, tzinfo=dt.UTC),
                                      frames_sha256="ab" * 32)],
    recordings=[RecordingHash(name="session-1/manifest.json", sha256="cd" * 32)],
    audit_head_sha256="ef" * 32,
)


def _write(tmp_path: Path, pdf: bytes) -> Path:
    path = tmp_path / "agreement.pdf"
    path.write_bytes(pdf)
    return path


def _text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_fonts_are_embedded_cjk(tmp_path: Path) -> None:
    rendered = render_agreement(sample_agreement(), EVIDENCE, agreement_id="ag_0123456789abcdef", version=1)
    out = subprocess.run(["pdffonts", str(_write(tmp_path, rendered.pdf))], check=True, capture_output=True,
                         text=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    assert all("WenQuanYi" in row for row in rows), out
    # columns: name type encoding emb sub uni ...: every font embedded
    assert all(row.split()[-5] == "yes" for row in rows), out


def test_text_contains_title_parties_terms_and_evidence(tmp_path: Path) -> None:
    rendered = render_agreement(sample_agreement(), EVIDENCE, agreement_id="ag_0123456789abcdef", version=3)
    text = _text(_write(tmp_path, rendered.pdf)).replace("\n", "")
    for needle in ("调解协议书", "张三", "李四", "王律师", "赵调解", "朝阳区人民调解委员会", "人民币伍万元整",
                   "（2026）京0105民调字第0042号", "v3", "附件：证据摘要", "0.934", "ab" * 32, "cd" * 32,
                   "ef" * 32, "司法确认", "sig_01_party_zhang", "sig_05_organisation"):
        assert needle in text, needle


def test_fields_are_precreated_in_legal_order_and_listed(tmp_path: Path) -> None:
    agreement = sample_agreement()
    rendered = render_agreement(agreement, EvidenceAppendix(), agreement_id="ag_0123456789abcdef", version=1)
    expected = [slot.field_name for slot in signer_order(agreement)]
    assert [slot.field_name for slot in rendered.slots] == expected
    reader = PdfFileReader(io.BytesIO(rendered.pdf))
    found = [(name, value) for name, value, _ in enumerate_sig_fields(reader, filled_status=None)]
    assert [name for name, _ in found] == expected
    assert all(value is None for _, value in found)  # empty
    assert json.loads(str(reader.root[EXPECTED_FIELDS_KEY])) == expected
    last_page = int(reader.root["/Pages"]["/Count"]) - 1
    assert {box.page for box in rendered.boxes} == {last_page}
    assert rendered.sha256 == hashlib.sha256(rendered.pdf).hexdigest()
    assert reader.xrefs.total_revisions == 1  # one revision: nothing to cut back to


def test_the_locked_pdf_names_each_fields_signer() -> None:
    """The slot table the verifier checks every signer's certificate against."""
    data = agreement_dict()
    data["organisation"]["credit_code"] = "53110105MJ0000001X"
    agreement = AgreementData.model_validate(data)
    rendered = render_agreement(agreement, EvidenceAppendix(), agreement_id="ag_0123456789abcdef", version=2)
    table = SignerTable.from_catalog(PdfFileReader(io.BytesIO(rendered.pdf)).root)
    assert (table.agreement_id, table.version, table.case_number) == ("ag_0123456789abcdef", 2,
                                                                      agreement.case_number)
    assert [(s.field_name, s.role, s.side, s.name) for s in table.slots] == \
        [(s.field_name, s.role.value, s.side.value if s.side else None, s.name) for s in rendered.slots]
    assert all(s.participant_id is None for s in table.slots)  # until slots are keyed by case participant
    assert [s.organisation for s in table.slots if s.organisation] == [
        SlotOrganisation(name="朝阳区人民调解委员会", credit_code="53110105MJ0000001X")]
    assert table.slots[-1].role == "organisation"


def test_many_signers_spill_over_signature_pages(tmp_path: Path) -> None:
    data = agreement_dict()
    for i in range(8):
        data["parties"].append({"key": f"extra{i}", "side": "respondent" if i % 2 else "applicant",
                                "name": f"当事人{i}", "id_number": resident_id(seq=f"{600 + i}"),
                                "address": "北京", "contact": "1380000"})
    data["facts"] = "很长的事实。" * 700
    rendered = render_agreement(sample_agreement(**data), EvidenceAppendix(), agreement_id="ag_0123456789abcdef",
                                version=1)
    pages = {box.page for box in rendered.boxes}
    assert len(pages) >= 2
    reader = PdfFileReader(io.BytesIO(rendered.pdf))
    names = [name for name, _, _ in enumerate_sig_fields(reader, filled_status=None)]
    assert names == [slot.field_name for slot in rendered.slots]
    for box in rendered.boxes:
        x1, y1, x2, y2 = box.box
        assert 0 < x1 < x2 <= 595 and 0 < y1 < y2 <= 842  # inside an A4 page


@pytest.mark.parametrize("dispute_type", ["sales_contract", "property_service", "family", "labour", "general"])
def test_every_template_renders_its_clauses(tmp_path: Path, dispute_type: str) -> None:
    from signing.templates import template_for
    from signing.agreement import DisputeType

    rendered = render_agreement(sample_agreement(dispute_type=dispute_type), EvidenceAppendix(),
                                agreement_id="ag_0123456789abcdef", version=1)
    text = _text(_write(tmp_path, rendered.pdf)).replace("\n", "")
    template = template_for(DisputeType(dispute_type))
    assert template.label_zh in text
    assert template.default_clauses[0][:20] in text


def test_mediator_clauses_replace_the_template(tmp_path: Path) -> None:
    rendered = render_agreement(sample_agreement(default_clauses=["逾期一日支付违约金一百元。"],
                                                 confidentiality="本协议内容不保密。"),
                                EvidenceAppendix(), agreement_id="ag_0123456789abcdef", version=1)
    text = _text(_write(tmp_path, rendered.pdf)).replace("\n", "")
    assert "逾期一日支付违约金一百元。" in text and "本协议内容不保密。" in text
    assert "LPR" not in text
