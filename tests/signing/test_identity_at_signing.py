"""The identity check at signing against a real server: enrolment over HTTP, a live camera (an
aiortc peer sending a still picture) checked by the server, the one-time code, and the
signature that then cites the check's attestation."""

from __future__ import annotations

import asyncio
import datetime as dt
import base64
import io
import json
from pathlib import Path
from typing import Any, AsyncIterator

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, VideoStreamTrack
from av import VideoFrame
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy import select, update

from agreement_samples import agreement_dict
from agreement_server import Person, Server, start_server
from identity.attestation import attestation_sha256
from identity.enrolment import CONSENT_VERSION
from mediation.identity_models import IdentityCheckRow
from mediation.models import OneTimeCode
from signing.evidence import SignatureEvidence
from provider_keys import ProviderKey
from test_provider_outbound import TestProvider
from tests.identity.face_samples import astronaut, decode, grace_hopper, grace_hopper_jpeg, jpeg
from tests.support.loopback_media import loopback_peer

pytestmark = pytest.mark.timeout(240)
FIELD = "sig_01_party_applicant"


class StillCamera(VideoStreamTrack):
    """A camera that shows one picture (like Chromium's fake camera fed a y4m of a photo)."""

    def __init__(self, image: np.ndarray):
        super().__init__()
        self.image = image

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame.from_ndarray(self.image, format="bgr24")
        frame.pts, frame.time_base = pts, time_base
        return frame


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await start_server(tmp_path, identity_gate="face", identity_policy="face+otp")
    yield srv
    await srv.close()


async def _agreement(server: Server) -> tuple[str, str, dict[str, str]]:
    case_id, agreement_id = await server.drafted_agreement()
    status, locked = await server.call("POST", f"/api/agreements/{agreement_id}/versions/1/lock")
    assert status == 200, locked
    status, links = await server.call("POST", f"/api/agreements/{agreement_id}/signing-links")
    assert status == 200, links
    return case_id, agreement_id, {link["field_name"]: link["token"] for link in links["links"]}


async def _enrol(server: Server, person: Person, case_id: str, photo: bytes, id_number: str) -> tuple[int, Any]:
    return await server.as_user(person, "PUT", f"/api/cases/{case_id}/identity", json={
        "name": person.actor.name, "id_type": "resident_id", "id_number": id_number,
        "reference_source": "id_card", "photo": base64.b64encode(photo).decode(), "consent": True,
        "consent_version": CONSENT_VERSION})


async def _live_check(server: Server, token: str, image: np.ndarray,
                      prompts: list[tuple[str, int, int]] | None = None,
                      session_id: str | None = None) -> dict[str, Any]:
    """The camera's offer, then the session's state until done (the liveness prompts seen go to ``prompts``)."""
    if session_id is None:
        status, session = await server.call("POST", "/api/sign/identity/sessions", token=token,
                                            json={"field_name": FIELD})
        assert status == 201, session
    else:
        session = {"session_id": session_id}
    pc = loopback_peer(RTCPeerConnection(RTCConfiguration(iceServers=[])))
    try:
        pc.addTransceiver(StillCamera(image), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        status, answer = await server.call("POST", f"/api/sign/identity/sessions/{session['session_id']}/offer",
                                           token=token, json={"field_name": FIELD, "sdp": pc.localDescription.sdp})
        assert status == 200, answer
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        for _ in range(300):
            status, state = await server.call("GET", f"/api/sign/identity/sessions/{session['session_id']}?field={FIELD}",
                                              token=token)
            assert status == 200, state
            if state["state"] == "done":
                return state
            if prompts is not None and state["prompt"]:
                prompts.append((state["prompt"], state["prompt_index"], state["prompt_count"]))
            await asyncio.sleep(0.2)
        raise AssertionError("the live check did not finish")
    finally:
        await pc.close()


async def test_the_enrolled_person_passes_face_and_code_and_the_signature_cites_the_attestation(
        server: Server) -> None:
    c = await server.cast()
    case_id, agreement_id, tokens = await _agreement(server)
    token = tokens[FIELD]
    status, refused = await server.call("POST", "/api/sign/identity/sessions", token=token, json={"field_name": FIELD})
    assert status == 422 and refused["error"]["code"] == "not_enrolled"
    zhang_id = agreement_dict()["parties"][0]["id_number"]
    status, enrolled = await _enrol(server, c.zhang, case_id, grace_hopper_jpeg(), zhang_id)
    assert status == 200, enrolled
    status, standing = await server.call("GET", f"/api/sign/identity?field={FIELD}", token=token)
    assert status == 200 and standing["required"] == ["face", "otp"] and standing["passed"] == []

    verdict = await _live_check(server, token, grace_hopper())
    assert verdict["passed"] is True and verdict["score"] >= 0.40, verdict
    status, standing = await server.call("GET", f"/api/sign/identity?field={FIELD}", token=token)
    assert standing["passed"] == ["face"]
    status, session = await server.call("GET", "/api/sign/session", token=token)
    assert session["blocked"]["code"] == "identity_check_required"  # the code is still missing

    async with server.services.db.begin() as s:  # registration's code was texted more than a minute ago
        await s.execute(update(OneTimeCode).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)))
    status, sent = await server.call("POST", "/api/sign/identity/code", token=token, json={"field_name": FIELD})
    assert status == 201, sent
    status, result = await server.call("POST", "/api/sign/identity/code/verify", token=token,
                                       json={"field_name": FIELD, "code": server.last_code(c.zhang.actor.phone or "")})
    assert status == 200 and result == {"passed": True, "reason": None}
    status, session = await server.call("GET", "/api/sign/session", token=token)
    assert session["blocked"] is None, session

    status, body = await server.sign_as(token, FIELD, ec.generate_private_key(ec.SECP256R1()))
    assert status == 200, body
    state = await server.store.current(agreement_id)
    evidence = state.signatures[0].identity
    assert evidence is not None and evidence.method == "face+otp"
    async with server.services.db() as s:
        rows = (await s.scalars(select(IdentityCheckRow).where(IdentityCheckRow.agreement_id == agreement_id)
                                .order_by(IdentityCheckRow.id))).all()
    assert [(r.method, r.passed) for r in rows] == [("face", True), ("otp", True)]
    face = rows[0]
    assert face.attestation and attestation_sha256(face.attestation) == face.attestation_sha256
    # every check that allowed the signature is cited: the face check's and the code's attestations
    assert [(a.method, a.sha256) for a in evidence.attestations] == [(r.method, r.attestation_sha256) for r in rows]
    assert face.participant_id == c.zhang.actor.id and face.case_id == case_id
    status, pdf = await server.call("GET", "/api/sign/document.pdf", token=token)
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0]
    stated = SignatureEvidence.parse(signature.sig_object["/Reason"])
    assert stated is not None and f"attestation-sha256={face.attestation_sha256},{rows[1].attestation_sha256}" \
        in (stated.identity_check or "")


async def test_another_face_is_no_match_and_an_empty_picture_no_face(server: Server) -> None:
    c = await server.cast()
    case_id, agreement_id, tokens = await _agreement(server)
    token = tokens[FIELD]
    zhang_id = agreement_dict()["parties"][0]["id_number"]
    status, enrolled = await _enrol(server, c.zhang, case_id, jpeg(astronaut()), zhang_id)
    assert status == 200, enrolled
    verdict = await _live_check(server, token, grace_hopper())
    assert verdict["passed"] is False and verdict["reason"] == "no_match", verdict
    verdict = await _live_check(server, token, np.full((480, 640, 3), 90, np.uint8))
    assert verdict["passed"] is False and verdict["reason"] == "no_face", verdict
    status, standing = await server.call("GET", f"/api/sign/identity?field={FIELD}", token=token)
    assert standing["passed"] == [] and standing["last_failure"] == "no_face" and standing["failures_left"] == 3
    status, wrong = await server.call("POST", "/api/sign/identity/code/verify", token=token,
                                      json={"field_name": FIELD, "code": "000000"})
    assert status == 200 and wrong == {"passed": False, "reason": "no_code"}
    async with server.services.db() as s:
        rows = (await s.scalars(select(IdentityCheckRow).where(IdentityCheckRow.agreement_id == agreement_id))).all()
    assert sorted((r.method, r.reason) for r in rows) == [("face", "no_face"), ("face", "no_match"), ("otp", "no_code")]
    assert all(r.attestation and not r.passed for r in rows)
    # Someone else's field is not there for this signer.
    status, other = await server.call("POST", "/api/sign/identity/sessions", token=token,
                                      json={"field_name": "sig_02_party_respondent"})
    assert status == 404 and other["error"]["code"] == "unknown_field"


async def test_a_still_picture_passes_the_face_but_cannot_answer_the_liveness_prompts(tmp_path: Path) -> None:
    server = await start_server(tmp_path, identity_gate="face", identity_policy="face+liveness")
    try:
        c = await server.cast()
        case_id, agreement_id, tokens = await _agreement(server)
        token = tokens[FIELD]
        status, enrolled = await _enrol(server, c.zhang, case_id, grace_hopper_jpeg(),
                                        agreement_dict()["parties"][0]["id_number"])
        assert status == 200, enrolled
        prompts: list[tuple[str, int, int]] = []
        verdict = await _live_check(server, token, grace_hopper(), prompts)
        assert verdict["passed"] is False and verdict["reason"] in ("static", "planar"), verdict
        assert verdict["methods"] == ["face", "liveness"] and verdict["score"] >= 0.40
        assert prompts and prompts[0][1] == 1 and prompts[0][2] == 4
        assert prompts[0][0] in ("turn_left", "turn_right", "nod", "come_closer")
        async with server.services.db() as s:
            rows = (await s.scalars(select(IdentityCheckRow).where(IdentityCheckRow.agreement_id == agreement_id)
                                    .order_by(IdentityCheckRow.id))).all()
        assert [(r.method, r.passed) for r in rows] == [("face", True), ("liveness", False)]
        assert rows[1].attestation and rows[1].reason == verdict["reason"]
        status, standing = await server.call("GET", f"/api/sign/identity?field={FIELD}", token=token)
        assert standing["passed"] == []  # the failed liveness check voids the face pass before it
    finally:
        await server.close()


async def test_the_live_frame_goes_to_the_real_name_provider_and_the_signature_cites_both_checks(
        tmp_path: Path) -> None:
    """Policy face+provider: after the face match the server sends the enrolled name and ID number
    with a live frame to the configured provider (a local test server) and records its signed verdict."""
    provider = TestProvider(ProviderKey.make("CTID 测试平台"))
    await provider.start()
    server = await start_server(tmp_path, identity_gate="face", identity_policy="face+provider",
                                identity_provider_url=provider.url, identity_provider_name="ctid",
                                identity_provider_certificates=(provider.key.write(tmp_path / "ctid.pem"),),
                                webhook_allow_http=True, webhook_allowed_hosts=("127.0.0.1",))
    try:
        c = await server.cast()
        case_id, agreement_id, tokens = await _agreement(server)
        zhang_id = agreement_dict()["parties"][0]["id_number"]
        status, enrolled = await _enrol(server, c.zhang, case_id, grace_hopper_jpeg(), zhang_id)
        assert status == 200, enrolled
        verdict = await _live_check(server, tokens[FIELD], grace_hopper())
        assert verdict["passed"] is True, verdict
        (asked,) = provider.got
        assert asked["id_number"] == zhang_id and asked["name"] == c.zhang.actor.name
        assert decode(base64.b64decode(asked["photo"])).shape == grace_hopper().shape  # one live frame
        status, body = await server.sign_as(tokens[FIELD], FIELD, ec.generate_private_key(ec.SECP256R1()))
        assert status == 200, body
        state = await server.store.current(agreement_id)
        assert [a.method for a in state.signatures[0].identity.attestations] == ["face", "provider"]
    finally:
        await server.close()
        await provider.stop()


async def test_enrolment_over_http_owner_checks_and_bad_input(server: Server) -> None:
    c = await server.cast()
    case_id, _, _ = await _agreement(server)
    zhang_id = agreement_dict()["parties"][0]["id_number"]
    status, own = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}/identity")
    assert status == 200 and own["enrolment"] is None and own["consent"]["version"] == CONSENT_VERSION
    assert own["consent"]["text"]["zh"] and own["consent"]["retention_days"] == 90
    status, bad = await server.as_user(c.zhang, "PUT", f"/api/cases/{case_id}/identity", json={
        "name": "张三", "id_type": "resident_id", "id_number": zhang_id, "reference_source": "id_card",
        "photo": "not base64!", "consent": True, "consent_version": CONSENT_VERSION})
    assert status == 422 and bad["error"]["code"] == "image_unreadable"
    status, bad = await _enrol(server, c.zhang, case_id, b"\x89PNG\r\n\x1a\n broken", zhang_id)
    assert status == 422 and bad["error"]["code"] == "image_unreadable"
    status, enrolled = await _enrol(server, c.zhang, case_id, grace_hopper_jpeg(), zhang_id)
    assert status == 200 and enrolled["id_number"] != zhang_id and "photo" not in enrolled
    stranger = await server.stranger()
    status, hidden = await server.as_user(stranger, "GET", f"/api/cases/{case_id}/identity")
    assert status == 404 and hidden["error"]["code"] == "case_not_found"
    status, refused = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}/identity/enrolments")
    assert status == 403
    status, listed = await server.as_user(c.mediator, "GET", f"/api/cases/{case_id}/identity/enrolments")
    assert status == 200 and [e["account_id"] for e in listed["enrolments"]] == [c.zhang.actor.id]
    assert zhang_id not in json.dumps(listed) and "photo" not in json.dumps(listed)
    status, _ = await server.as_user(c.zhang, "DELETE", f"/api/cases/{case_id}/identity")
    assert status == 204
    status, own = await server.as_user(c.zhang, "GET", f"/api/cases/{case_id}/identity")
    assert own["enrolment"]["reference_kept"] is False


async def test_a_broken_offer_is_refused_as_invalid_sdp(server: Server) -> None:
    c = await server.cast()
    case_id, _, tokens = await _agreement(server)
    await _enrol(server, c.zhang, case_id, grace_hopper_jpeg(), agreement_dict()["parties"][0]["id_number"])
    status, session = await server.call("POST", "/api/sign/identity/sessions", token=tokens[FIELD],
                                        json={"field_name": FIELD})
    assert status == 201, session
    status, refused = await server.call("POST", f"/api/sign/identity/sessions/{session['session_id']}/offer",
                                        token=tokens[FIELD], json={"field_name": FIELD, "sdp": "v=0\r\nnonsense"})
    assert status == 400 and refused["error"]["code"] == "invalid_sdp", refused
    verdict = await _live_check(server, tokens[FIELD], grace_hopper(), session_id=session["session_id"])
    assert verdict["passed"] is True, verdict  # the same session takes a good offer afterwards
