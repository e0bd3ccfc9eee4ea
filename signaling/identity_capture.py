"""Live capture for the identity check at signing: the signing page opens a short publish-only
WebRTC connection to this server (its own :class:`rtc.router.MediaRouter`, one seat, forwarding
nothing), the server samples a few seconds of the video, decodes only those frames in a worker
thread, compares them with the enrolled reference in a worker process, and stores the verdict
with its signed attestation. The browser never reports a result; it only shows the one the
server stored.

One session at a time per signer slot (a new one closes the previous), each with a lifetime
limit. Sessions live on the node that holds the peer connection; their verdicts are checks in
the database, which every node's gate reads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass, field

from aiortc import RTCIceServer

from identity.attestation import LivenessEvidence, RecordedSessionEvidence
from identity.checks import StoredIdentityGate
from identity.enrolment import EnrolmentService
from identity.face_match import FaceMatchResult, jpeg_bytes
from identity.liveness import Challenge, LivenessResult, TimedLandmarks, judge_liveness, make_challenges
from identity.provider_client import HttpIdentityProvider, ProviderRequest
from identity.recorder import CheckRecorder, CheckTarget
from identity.recorded_session import recorded_track
from identity.worker import MAX_LANDMARK_BATCH, landmarks_in_worker, match_in_worker, recorded_in_worker
from mediation.errors import InvalidInput, NotFound
from recordings.storage import RecordingStorage
from recordings.store import RecordingStore
from rtc.frame_sampler import NoFramesError, PacketBuffer, SampledDecoder, SampledFrame, sample_video
from rtc.ice_policy import IceNetwork
from rtc.router import MediaRouter

log = logging.getLogger(__name__)

SEAT = "signer"
#: Seconds of video compared; frames kept per second of it.
CAPTURE_SECONDS = 3.0
SAMPLE_FPS = 4.0
MAX_SAMPLED_FRAMES = 12
#: How long the browser has to start sending video once it answered.
WAIT_FOR_VIDEO = 15.0
#: Liveness: frames judged per second (the judge wants >= 8), and how often prompts advance.
LIVENESS_FPS = 10.0
LIVENESS_STEP = 0.5
MIN_TRACK = 10
#: A session ends this long after it was opened, whatever happened.
LIFETIME = 120.0


@dataclass
class CaptureSession:
    session_id: str
    target: CheckTarget
    opened_at: float
    started_at: dt.datetime
    #: Which checks this session runs: ``face``, ``provider`` (a live frame sent to the real-name
    #: provider) and/or ``liveness``.
    methods: tuple[str, ...] = ("face",)
    #: ``waiting`` (for the offer or the video), ``checking`` (face), ``liveness`` (prompts), ``done``.
    state: str = "waiting"
    passed: bool | None = None
    reason: str | None = None
    score: float | None = None
    #: The liveness prompt to show now (``turn_left``…), its number (from 1) and how many there are.
    prompt: str | None = None
    prompt_index: int = 0
    prompt_count: int = 0
    router: MediaRouter | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class IdentityCapture:
    def __init__(self, ice_servers: list[RTCIceServer], gate: StoredIdentityGate, enrolment: EnrolmentService,
                 recorder: CheckRecorder, recordings: tuple[RecordingStore, RecordingStorage] | None = None,
                 network: IceNetwork | None = None, provider: HttpIdentityProvider | None = None):
        self.ice_servers = ice_servers
        self.network = network
        self.provider = provider
        self.recordings = recordings
        self.gate = gate
        self.enrolment = enrolment
        self.recorder = recorder
        self._sessions: dict[str, CaptureSession] = {}
        self._by_slot: dict[tuple[str, str], str] = {}

    async def open(self, target: CheckTarget) -> CaptureSession:
        """A new session for the slot (closing its previous one); refused while failed attempts
        are exhausted or before the participant enrolled."""
        await self._expire()
        subject = target.subject
        if subject.case_id is None or subject.participant_id is None:
            raise InvalidInput("not_enrolled", "this signature is not bound to a case participant who can enrol")
        await self.gate.ensure_attempts_left(subject)
        await self.enrolment.ensure_enrolled(subject.case_id, subject.participant_id)  # before any video
        slot = (subject.agreement_id, subject.signer_key)
        previous = self._by_slot.pop(slot, None)
        if previous is not None:
            await self._close(self._sessions.pop(previous))
        methods = tuple(m for m in self.gate.policy.methods if m in ("face", "provider", "liveness"))
        if "provider" in methods and self.provider is None:
            raise InvalidInput("provider_not_configured", "this server's identity policy names a real-name provider "
                                                          "but none is configured")
        if not methods:
            raise InvalidInput("no_camera_check", "this server's identity policy has no camera check")
        session = CaptureSession(secrets.token_urlsafe(16), target, time.monotonic(), self.gate.clock.now(),
                                 methods=methods)
        self._sessions[session.session_id] = session
        self._by_slot[slot] = session.session_id
        return session

    def get(self, session_id: str, target: CheckTarget) -> CaptureSession:
        """The caller's own session (same slot and participant), else ``session_not_found``."""
        session = self._sessions.get(session_id)
        if session is None or session.target.subject != target.subject:
            raise NotFound("session_not_found", "no such identity session: start the check again")
        return session

    async def answer(self, session: CaptureSession, sdp: str) -> str:
        """Answer the browser's offer (publish-only: the server sends nothing back), then check."""
        if session.router is not None:
            raise InvalidInput("session_in_use", "this identity session already has its connection")

        async def nothing(_: str) -> None:
            return None

        router = MediaRouter(self.ice_servers, network=self.network, policy=lambda *_: False,
                             on_offer_needed=nothing)
        try:
            answer = await router.accept_offer(SEAT, sdp)
        except BaseException:
            await router.close()  # a refused offer leaves the session as it was: the page may offer again
            raise
        session.router = router
        session.task = asyncio.create_task(self._check(session))
        return answer

    async def _check(self, session: CaptureSession) -> None:
        """Face first (a few seconds of frames), then the real-name provider on one of those frames,
        then the liveness prompts on the same connection; a failed check ends the session (its
        failure already voids older passes)."""
        try:
            passed = True
            frames = await self._sample(session) if {"face", "provider"} & set(session.methods) else []
            if "face" in session.methods:
                passed = await self._face(session, frames)
            if passed and "provider" in session.methods:
                passed = await self._provider(session, frames)
            if passed and "liveness" in session.methods:
                await self._liveness(session)
        except Exception as exc:  # the page must learn that it ended, whatever went wrong
            log.exception("identity check failed to complete")
            session.passed, session.reason = False, getattr(exc, "code", "check_failed")
        finally:
            session.prompt = None
            session.state = "done"
            await self._close(session)

    async def _sample(self, session: CaptureSession) -> list[SampledFrame]:
        assert session.router is not None
        try:
            frames = await sample_video(session.router.subscribe_encoded(SEAT, "video"),
                                        seconds=CAPTURE_SECONDS, wait_for_first=WAIT_FOR_VIDEO,
                                        fps=SAMPLE_FPS, max_frames=MAX_SAMPLED_FRAMES)
        except NoFramesError:
            frames = []
        session.state = "checking"
        return frames

    async def _face(self, session: CaptureSession, frames: list[SampledFrame]) -> bool:
        subject = session.target.subject
        assert subject.case_id is not None and subject.participant_id is not None
        reference = await self.enrolment.reference(subject.case_id, subject.participant_id)
        result: FaceMatchResult = await match_in_worker(reference.photo, [f.image for f in frames])
        compared = await self._recorded_session(subject.case_id, subject.participant_id, result) if result.passed \
            else None
        recorded = await self.recorder.face(session.target, session.started_at, result, compared)
        session.passed, session.reason, session.score = recorded.passed, recorded.reason, result.score
        return recorded.passed

    async def _provider(self, session: CaptureSession, frames: list[SampledFrame]) -> bool:
        """The middle live frame, with the enrolled name and ID, to the real-name provider."""
        assert self.provider is not None
        subject = session.target.subject
        assert subject.case_id is not None and subject.participant_id is not None
        if not frames:
            session.passed, session.reason = False, "no_frames"
            return False
        photo = await asyncio.to_thread(jpeg_bytes, frames[len(frames) // 2].image)
        person = await self.enrolment.person(subject.case_id, subject.participant_id)
        recorded = await self.provider.check(self.recorder, session.target, ProviderRequest(
            subject.agreement_id, subject.signer_key, person, photo))
        session.passed, session.reason = recorded.passed, recorded.reason
        return recorded.passed

    async def _recorded_session(self, case_id: str, participant_id: str,
                                live: FaceMatchResult) -> RecordedSessionEvidence | None:
        """The live faces (the face check's embeddings) against the participant's seat in the
        case's recorded session, if any.
        Unless the policy requires it (``session``), a comparison that cannot run is logged and
        left out rather than failing the face check."""
        if self.recordings is None:
            return None
        store, storage = self.recordings
        required = self.recorder.session_required
        try:
            track = await recorded_track(store, storage, case_id, participant_id)
            if track is None:
                return None
            result = await recorded_in_worker(live.embeddings, track.segments)
        except Exception:
            if required:
                raise
            log.exception("recorded-session comparison could not run")
            return None
        return RecordedSessionEvidence.of(track, result, required=required)

    async def _liveness(self, session: CaptureSession) -> None:
        """Prompts in a random order; each batch of frames is decoded in a thread, its landmarks
        found in the worker, and the track judged, which says when the next prompt shows."""
        assert session.router is not None
        challenges = make_challenges()
        session.state, session.prompt_count = "liveness", len(challenges)
        started_at = self.gate.clock.now()
        decoder = SampledDecoder(fps=LIVENESS_FPS)
        buffer = PacketBuffer(session.router.subscribe_encoded(SEAT, "video"))
        track: list[TimedLandmarks] = []
        limit = sum(c.time_limit_s for c in challenges) + WAIT_FOR_VIDEO
        loop = asyncio.get_running_loop()
        began = loop.time()
        result: LivenessResult | None = None
        try:
            self._show(session, challenges, None)
            while loop.time() - began < limit:
                await asyncio.sleep(LIVENESS_STEP)
                frames = await asyncio.to_thread(decoder.decode, buffer.take(), MAX_LANDMARK_BATCH)
                if frames:
                    track += await landmarks_in_worker([f.image for f in frames], [f.t for f in frames])
                if len(track) < MIN_TRACK:
                    continue  # too few frames yet to tell a missing face from a late start
                result = await asyncio.to_thread(judge_liveness, challenges, list(track))  # grows with the track
                self._show(session, challenges, result)
                if result.complete:
                    break
        finally:
            await buffer.close()
        if result is None or not result.complete:
            result = await asyncio.to_thread(judge_liveness, challenges, list(track),
                                             now=track[-1].t + limit if track else None)
        recorded = await self.recorder.liveness(session.target, started_at, LivenessEvidence.of(result))
        session.passed, session.reason = recorded.passed, recorded.reason

    @staticmethod
    def _show(session: CaptureSession, challenges: tuple[Challenge, ...], result: LivenessResult | None) -> None:
        """The prompt the person should answer now: the first one still pending."""
        if result is None:
            session.prompt, session.prompt_index = challenges[0].kind, 1
            return
        for index, outcome in enumerate(result.challenges, start=1):
            if outcome.outcome == "pending":
                session.prompt, session.prompt_index = outcome.kind, index
                return
        session.prompt = None

    async def _close(self, session: CaptureSession) -> None:
        if session.router is not None:
            await session.router.close()
        if session.task is not None and session.task is not asyncio.current_task() and not session.task.done():
            session.task.cancel()

    async def _expire(self) -> None:
        now = time.monotonic()
        for session_id, session in list(self._sessions.items()):
            if now - session.opened_at > LIFETIME:
                self._sessions.pop(session_id, None)
                slot = (session.target.subject.agreement_id, session.target.subject.signer_key)
                if self._by_slot.get(slot) == session_id:
                    self._by_slot.pop(slot)
                await self._close(session)

    async def close(self) -> None:
        for session in list(self._sessions.values()):
            await self._close(session)
        self._sessions.clear()
        self._by_slot.clear()
