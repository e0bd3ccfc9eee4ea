"""The identity checks that allowed each signature are printed in the agreement's evidence appendix:
each person's box is filled in their signature's own revision (method, time, result, score and
threshold, every cited attestation's SHA-256), the final B-LTA PDF still validates with pyHanko and
poppler's ``pdfsig``, and a box changed after its signer signed breaks that signature."""

from __future__ import annotations

import io
from pathlib import Path
from typing import AsyncIterator

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from sqlalchemy import select

from agreement_server import FIELDS, Server, start_server
from identity.gate import reference_attestations
from mediation.identity_models import IdentityCheckRow
from pades_samples import pdfsig
from signaling.api.pki import PKI_KEY
from signing.identity_print import identity_field, printed_identity
from signing.verification import async_verify_agreement

PEOPLE = FIELDS[:4]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path / "data")
    yield srv
    await srv.close()


async def test_each_signers_checks_are_printed_and_the_pdf_still_validates(server: Server, tmp_path: Path) -> None:
    agreement_id, pdf = await server.fully_signed(attested=True)
    pki = server.app[PKI_KEY]
    report = await async_verify_agreement(pdf, [pki.root_cert])
    assert report.valid, report.to_dict()
    printed = printed_identity(pdf)
    assert sorted(printed) == sorted(PEOPLE)  # one box per person; the seal has none
    async with server.services.db() as s:
        stored = {r.attestation_sha256: r for r in (await s.scalars(
            select(IdentityCheckRow).where(IdentityCheckRow.agreement_id == agreement_id))).all()}
    for signature in report.signatures:
        if signature.field not in PEOPLE:
            continue
        text = printed[signature.field]
        cited = reference_attestations(signature.identity_check)
        assert cited and all(digest in text and digest in stored for digest in cited), text
        row = stored[cited[0]]
        assert "人脸比对 face match · 通过 passed" in text and "分值 score 0.930（阈值 threshold 0.400）" in text
        assert row.checked_at.strftime("%Y-%m-%d %H:%M:%S UTC") in text
        assert signature.modification_level in ("NONE", "LTA_UPDATES", "FORM_FILLING") and signature.ok

    path, root_pem = tmp_path / "final.pdf", tmp_path / "root.pem"
    path.write_bytes(pdf)
    root_pem.write_bytes(pki.root_cert.public_bytes(Encoding.PEM))
    out = pdfsig(path, root_pem, tmp_path)
    assert out.count("Signature Validation: Signature is Valid.") == 5, out  # pdfsig leaves the archive stamp
    assert "Signature Validation: Signature is Invalid" not in out


async def test_a_box_rewritten_after_its_signer_signed_breaks_that_signature(server: Server) -> None:
    _, pdf = await server.fully_signed(attested=True)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    form = writer.root["/AcroForm"]
    box = next(ref for ref in form["/Fields"] if ref.get_object().get("/T") == identity_field(PEOPLE[0]))
    box.get_object()["/V"] = generic.TextStringObject("人脸比对 face match · 通过 passed · 分值 score 0.990")
    writer.mark_update(box)
    forged = io.BytesIO()
    writer.write(forged)
    report = await async_verify_agreement(forged.getvalue(), [server.app[PKI_KEY].root_cert])
    assert not report.valid
    signatures = {s.field: s for s in report.signatures}
    assert not signatures[PEOPLE[0]].ok  # the box is locked by its own signer's signature
