"""The ruling a party or court officer downloads, read the way a court's verifier reads it."""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from pyhanko.pdf_utils.reader import PdfFileReader

from signing.binding import RulingStatement
from signing.pki import PlatformPKI
from signing.verification import AgreementReport, async_verify_agreement

from .api_client import Api, User


@dataclass(frozen=True)
class DownloadedRuling:
    pdf: bytes
    report: AgreementReport
    statement: RulingStatement
    title: str


async def court_signed_ruling(api: Api, who: User, application_id: str, pki: PlatformPKI) -> DownloadedRuling:
    """``GET …/ruling.pdf`` as ``who``, verified against the platform root (court seal, B-LTA)."""
    response = await api.client.get(f"/api/court/applications/{application_id}/ruling.pdf",
                                    headers={"Authorization": f"Bearer {who.token}"})
    assert (response.status, response.content_type) == (200, "application/pdf"), await response.text()
    pdf = await response.read()
    report = await async_verify_agreement(pdf, [pki.root_cert])
    assert report.document_kind == "ruling" and report.ruling is not None
    title = str(PdfFileReader(BytesIO(pdf)).trailer_view["/Info"]["/Title"]).split(" ")[0]
    return DownloadedRuling(pdf, report, RulingStatement.model_validate(report.ruling), title)
