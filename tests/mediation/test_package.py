"""The case package a court imports: every member listed in the manifest with its hash, the
documents and the court-signed rulings byte for byte, the audit trail and its head verifiable
offline; and not for mediators or strangers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import zipfile

from mediation.package import zip_package
from mediation.package_check import check_package
from recordings.manifest import write_manifest
from recordings.store import CONSENTED, FINISHED, ClosedSegment, Participant
from signaling.recordings_setup import RECORDING_ACCESS_KEY
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


async def _recorded_session(api: Api, case_id: str) -> str:
    """A finished recording session of the case with one segment and its manifest (as the recorder
    leaves it: stored, hashed, audited)."""
    access = api.client.server.app[RECORDING_ACCESS_KEY]
    store = access.store
    session = await store.start_session(case_id, "room-rec", {"mode": "joint"})
    seat = Participant("s_alice", "party", "applicant_party", "Alice", None)
    await store.record_consent(session.id, seat, CONSENTED)
    track = await store.add_track(session.id, seat, "audio", "opus")
    await store.add_segment(track.id, ClosedSegment(index=0, sha256="ab" * 32, size=10, start_us=0,
                                                    end_us=4_000_000, frames=200, path=f"{session.id}/a/00000.webm"))
    await store.finish(session.id, state=FINISHED, end_us=4_000_000, note="stopped")
    await write_manifest(store, access.storage, session.id)
    return session.id


def _rezipped(package: bytes, edit) -> bytes:  # type: ignore[no-untyped-def]
    """The package with ``edit(members)`` applied and its manifest recomputed (a careful forger)."""
    archive = zipfile.ZipFile(io.BytesIO(package))
    members = {n: archive.read(n) for n in archive.namelist() if n != "manifest.json"}
    edit(members)
    header = {k: v for k, v in json.loads(archive.read("manifest.json")).items() if k != "members"}
    return zip_package(members, header)


async def test_recordings_are_cited_in_the_application_and_the_package(api: Api) -> None:
    c = await cast_of_characters(api)
    sessions: list[str] = []

    async def record(cid: str) -> None:
        sessions.append(await _recorded_session(api, cid))

    cid, application_id = await case_with_filed_confirmation(api, c, record)
    (session_id,) = sessions
    info = await api.client.server.app[RECORDING_ACCESS_KEY].store.session(session_id)
    application = await api.call("GET", f"/api/court/applications/{application_id}", c["clerk"], expect=200)
    (cited,) = application["materials"]["recordings"]
    assert (cited["session_id"], cited["state"], cited["manifest_sha256"]) == (session_id, "finished",
                                                                                info.manifest_sha256)
    assert cited["chain_length"] == 1 and cited["chain_head"] and cited["started_at"] and cited["ended_at"]

    response = await api.client.get(f"/api/cases/{cid}/package", headers={"Authorization": f"Bearer {c['clerk'].token}"})
    package = await response.read()
    archive = zipfile.ZipFile(io.BytesIO(package))
    (entry,) = json.loads(archive.read("case.json"))["recordings"]
    manifest = archive.read(entry["path"])
    assert hashlib.sha256(manifest).hexdigest() == info.manifest_sha256 == entry["manifest_sha256"]
    assert json.loads(manifest)["chain"]["head"] == cited["chain_head"]
    report = await asyncio.to_thread(check_package, package, _no_pdf)
    assert report.reasons == [] and report.valid, report.to_dict()

    def alter(members: dict[str, bytes]) -> None:
        members[entry["path"]] = members[entry["path"]].replace(b'"frames":200', b'"frames":201')

    def drop(members: dict[str, bytes]) -> None:
        del members[entry["path"]]

    def unaudit(members: dict[str, bytes]) -> None:  # cite another hash in case.json, trail unchanged
        content = json.loads(members["case.json"])
        content["recordings"][0]["manifest_sha256"] = "00" * 32
        members["case.json"] = json.dumps(content).encode()

    codes = {}
    for name, edit in (("alter", alter), ("drop", drop), ("unaudit", unaudit)):
        forged = await asyncio.to_thread(check_package, _rezipped(package, edit), _no_pdf)
        codes[name] = [r.code for r in forged.reasons]
        assert not forged.valid
    assert codes == {"alter": ["recording_manifest_mismatch"], "drop": ["recording_manifest_missing"],
                     "unaudit": ["recording_manifest_mismatch", "recording_audit_mismatch"]}


def _no_pdf(pdf: bytes):  # type: ignore[no-untyped-def]
    raise AssertionError("this package has no signed PDF")
