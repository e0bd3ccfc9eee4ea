"""The case package a court imports: every member listed in the manifest with its hash, the
documents and the court-signed rulings byte for byte, the audit trail and its head verifiable
offline; and not for mediators or strangers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile

from mediation.package_check import check_package
from signing.pki import PlatformPKI
from signing.verification import verify_agreement

from .api_client import Api
from .court_rulings import court_signed_ruling
from .scenario import case_with_filed_confirmation, cast_of_characters


async def test_package_is_complete_and_checkable(api: Api) -> None:
    c = await cast_of_characters(api)
    cid, application_id = await case_with_filed_confirmation(api, c)
    response = await api.client.get(f"/api/cases/{cid}/package", headers={"Authorization": f"Bearer {c['clerk'].token}"})
    assert response.status == 200 and response.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert set(manifest["members"]) | {"manifest.json"} == set(archive.namelist())
    for name, digest in manifest["members"].items():
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    content = json.loads(archive.read("case.json"))
    (doc,) = content["documents"]
    assert archive.read(doc["path"]) == b"%PDF IOU"
    assert content["audit"]["verification"]["ok"] is True
    assert len(content["audit"]["entries"]) == content["audit"]["verification"]["entries"]
    assert [a["id"] for a in content["court_applications"]] == [application_id]
    assert content["case"]["id"] == cid

    refused = await api.call("GET", f"/api/cases/{cid}/package", c["mediator"], expect=403)
    assert refused["error"]["code"] == "forbidden"
    carol = await api.register("carol", 3)
    await api.call("GET", f"/api/cases/{cid}/package", carol, expect=404)


async def test_package_carries_the_court_signed_ruling_and_checks_offline(api: Api, court_pki: PlatformPKI) -> None:
    c = await cast_of_characters(api)
    cid, application_id = await case_with_filed_confirmation(api, c)
    await api.call("POST", f"/api/court/applications/{application_id}/acceptance", c["clerk"], json={"accept": True},
                   expect=200)
    await api.call("POST", f"/api/court/applications/{application_id}/ruling", c["judge"], json={"grant": True},
                   expect=200)
    ruling = await court_signed_ruling(api, c["alice"], application_id, court_pki)

    response = await api.client.get(f"/api/cases/{cid}/package", headers={"Authorization": f"Bearer {c['alice'].token}"})
    package = await response.read()
    archive = zipfile.ZipFile(io.BytesIO(package))
    content = json.loads(archive.read("case.json"))
    (entry,) = content["rulings"]
    assert archive.read(entry["path"]) == ruling.pdf and entry["sha256"] == hashlib.sha256(ruling.pdf).hexdigest()
    head = content["audit"]["head"]
    assert head["seq"] == len(content["audit"]["entries"]) == ruling.statement.audit_seq + 1

    report = await asyncio.to_thread(check_package, package, lambda pdf: verify_agreement(pdf, [court_pki.root_cert]))
    assert report.reasons == [] and report.audit is not None and report.audit.ok, report.to_dict()
    (document,) = report.documents
    assert document.kind == "ruling" and document.report is not None and document.report.valid
    # The case's agreement here is a bare id (no signed PDF in the application): the court's ruling
    # names no agreement file, so the package cannot show which agreement it confirms.
    assert [r.code for r in document.reasons] == ["ruling_agreement_unstated"] and not report.valid

    # The court's system (API key) and administrators get the package without the ruling: it is
    # served on the parties and kept by the court.
    for reader in (api.service_key, c["admin"].token):
        other = await api.client.get(f"/api/cases/{cid}/package", headers={"Authorization": f"Bearer {reader}"})
        assert json.loads(zipfile.ZipFile(io.BytesIO(await other.read())).read("case.json"))["rulings"] == []
