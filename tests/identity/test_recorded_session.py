"""The signer's live face against their seat's face in the case's recorded session: a real VP8
WebM of Grace Hopper stored as a recording segment, compared with live frames of her (match) and of
skimage's astronaut (no match); a case without a recording has nothing to compare."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from identity import worker
from identity.attestation import AttestationSubject, FaceMatchEvidence, RecordedSessionEvidence, make_attestation
from identity.checks import IdentityPolicy, StoredIdentityGate
from identity.face_match import FaceMatchResult
from identity.gate import GateSubject
from identity.recorder import CheckRecorder, CheckTarget
from identity.recorded_session import (MAX_RECORDED_FRAMES, RecordedComparison, RecordedTrack, compare_recorded,
                                       decode_segments, face_embeddings, recorded_track)
from mediation.services import MediationServices
from recordings.storage import LocalRecordingStorage
from recordings.store import FINISHED, ClosedSegment, Participant, RecordingStore
from signaling.config import Settings
from signing.attestation_key import AttestationKeyStore
from signing.pki import PlatformPKI
from tests.identity.face_samples import astronaut, grace_hopper, write_webm
from tests.mediation.conftest import clock, court_pki, engine, events, pg_schema, rooms, services, sms  # noqa: F401
from tests.mediation.doubles import MemorySms
from tests.mediation.helpers import case_in_counselling

FRAMES_PER_SEGMENT = 6


@pytest.fixture
def store(services: MediationServices) -> RecordingStore:
    return RecordingStore(services.db, services.cases.clock)


async def _recorded_case(services: MediationServices, sms: MemorySms, store: RecordingStore,
                         storage: LocalRecordingStorage) -> tuple[str, str]:
    case_id, alice, _bob = await case_in_counselling(services, sms)
    session = await store.start_session(case_id, "room1", {"joint": True})
    track = await store.add_track(session.id, Participant("s_alice", "party", "applicant_party", "Alice", alice.id),
                                  "video", "vp8")
    for index in range(2):
        key = f"{session.id}/{track.id}/{index:06d}.webm"
        write_webm(storage.spool(key), grace_hopper(), FRAMES_PER_SEGMENT)
        sha256, size = storage.commit(key)
        await store.add_segment(track.id, ClosedSegment(index=index, sha256=sha256, size=size,
                                                        start_us=index * 600_000, end_us=(index + 1) * 600_000,
                                                        frames=FRAMES_PER_SEGMENT, path=key))
    await store.finish(session.id, state=FINISHED, end_us=1_200_000, note="stopped")
    return case_id, alice.id


async def test_the_recorded_face_is_compared_with_the_live_one(services: MediationServices, sms: MemorySms,
                                                               store: RecordingStore, tmp_path: Path) -> None:
    storage = LocalRecordingStorage(tmp_path / "recordings")
    case_id, alice_id = await _recorded_case(services, sms, store, storage)
    found = await recorded_track(store, storage, case_id, alice_id)
    assert found is not None and found.seat == "s_alice" and len(found.segment_sha256) == 2

    try:
        same = await worker.recorded_in_worker(face_embeddings([grace_hopper()] * 3), found.segments)
    finally:
        worker.shutdown()
    assert same.verdict == "match" and same.score is not None and same.score >= same.threshold
    assert 0 < same.frames_used <= same.frames_decoded == MAX_RECORDED_FRAMES  # 4 from each segment

    other = compare_recorded(face_embeddings([astronaut()] * 2), found.segments)
    assert other.verdict == "no_match" and other.score is not None and other.score < other.threshold
    assert other.frames_sha256 == same.frames_sha256  # the same recorded frames were decoded

    subject = AttestationSubject(case_id=case_id, participant_id=alice_id)
    now = dt.datetime.now(dt.UTC)
    face = FaceMatchEvidence(passed=True, reason=None, score=0.9, threshold=0.4, frames_used=3,
                             frames_sha256="00" * 32, model_sha256={})
    reported = make_attestation(subject, now, now, face_match=face,
                                recorded_session=RecordedSessionEvidence.of(found, other, required=False))
    assert reported.verdict == "passed" and reported.methods == ["face_match", "recorded_session"]
    assert reported.recorded_session is not None and reported.recorded_session.verdict == "no_match"
    assert reported.recorded_session.segment_sha256 == list(found.segment_sha256)
    required = make_attestation(subject, now, now, face_match=face,
                                recorded_session=RecordedSessionEvidence.of(found, other, required=True))
    assert (required.verdict, required.reason) == ("failed", "recorded_session:no_match")
    matched = make_attestation(subject, now, now, face_match=face,
                               recorded_session=RecordedSessionEvidence.of(found, same, required=True))
    assert matched.verdict == "passed"


def test_the_policy_may_require_the_comparison_but_the_default_does_not() -> None:
    assert IdentityPolicy.parse("face+session").methods == ("face", "session")
    assert "session" not in IdentityPolicy.parse(Settings(data_dir=Path("unused")).identity_policy).methods


async def test_no_recording_means_nothing_to_compare(services: MediationServices, sms: MemorySms,
                                                     store: RecordingStore, tmp_path: Path) -> None:
    storage = LocalRecordingStorage(tmp_path / "recordings")
    case_id, alice, bob = await case_in_counselling(services, sms)
    assert await recorded_track(store, storage, case_id, alice.id) is None
    running = await store.start_session(case_id, "room1", {})
    await store.add_track(running.id, Participant("s_bob", "party", "respondent_party", "Bob", bob.id), "video", "vp8")
    assert await recorded_track(store, storage, case_id, alice.id) is None  # running, and not hers


def test_frames_are_spread_over_each_segment(tmp_path: Path) -> None:
    path = tmp_path / "grey.webm"
    write_webm(path, [np.full((64, 64, 3), 8 * i, np.uint8) for i in range(30)], 30)
    levels = [float(frame.mean()) for frame in decode_segments([(str(path), 30)], max_frames=4)]
    assert levels == pytest.approx([0, 80, 152, 232], abs=12)  # frames 0, 10, 19, 29


def test_an_unreadable_segment_is_reported_not_raised(tmp_path: Path) -> None:
    broken = tmp_path / "broken.webm"
    broken.write_bytes(b"\x1a\x45\xdf\xa3not a webm")
    assert compare_recorded(face_embeddings([grace_hopper()]), [(str(broken), 10)]).verdict == "undecodable"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    return PlatformPKI.init(tmp_path_factory.mktemp("pki") / "pki", "correct horse battery staple",
                            "https://accord.test/", "测试调解委员会")


@pytest.mark.parametrize(("policy", "verdict", "allowed"), [
    ("face", "no_match", True),  # reported only
    ("face+session", "no_match", False),
    ("face+session", "match", True),
    ("face+session", None, True),  # no recording: nothing to compare, nothing required
])
async def test_the_policy_decides_whether_a_mismatch_blocks_signing(
        services: MediationServices, sms: MemorySms, pki: PlatformPKI, policy: str, verdict: str | None,
        allowed: bool) -> None:
    case_id, alice, _ = await case_in_counselling(services, sms)
    gate = StoredIdentityGate(services.db, services.cases.clock, IdentityPolicy.parse(policy))
    recorder = CheckRecorder(gate, AttestationKeyStore(pki))
    subject = GateSubject("ag_0123456789abcdef", case_id, "party:applicant", alice.id)
    face = FaceMatchResult(True, 0.8, 0.4, None, 6, "ab" * 32, {})
    evidence = None if verdict is None else RecordedSessionEvidence.of(
        RecordedTrack("rec_1", "trk_1", "s_alice", ("cd" * 32,), (("x.webm", 120),)),
        RecordedComparison(verdict, 0.7 if verdict == "match" else 0.05, 0.8, 0.4, 4, 4, "01" * 32),
        required=recorder.session_required)
    started = services.cases.clock.now()
    recorded = await recorder.face(CheckTarget(subject, 1, "sig_01"), started, face, evidence)
    assert recorded.passed is allowed and (recorded.reason is None) is allowed
    assert (await gate.check(subject) is not None) is allowed
