"""Recordings of a case's video sessions over HTTP (issue 10): the case's recording policy, which
its mediator sets, and the recordings themselves — listed with short-lived links for the people who
may see them, played with range requests and downloaded. ``setup_room_recording`` wires the room's
recorder, the access rules and the review composites into the app.

Access follows the case (:mod:`recordings.access`): whoever may not see the recordings gets the
404 of a case that does not exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from mediation.recording_policy import RecordingPolicy
from mediation.services import MediationServices
from recordings.access import COMPOSITE, PACKAGE, LinkSigner, Purpose, RecordingAccess, SessionRecordings
from recordings.composite import CompositeWorker
from recordings.retention import DELETED, sweep
from recordings.review import ReviewComposer
from recordings.storage import LocalRecordingStorage
from recordings.store import RecordingStore, SessionInfo

from ..config import Settings, ensure_secret
from ..errors import ApiError
from ..openapi import api
from ..periodic import run_periodically
from ..recording_events import RoomRecording
from ..recordings_setup import RECORDER_SETTINGS_KEY, RECORDING_ACCESS_KEY as ACCESS_KEY, RECORDING_STORAGE_KEY, \
    RECORDING_STORE_KEY
from ..room_events import RoomHub
from .accounts import Strict, actor_of, domain_errors, services_of
from .cases import EVERYONE, MEDIATOR, content_disposition
from .pki import TSA_KEY, platform_timestamper

TAG = "cases"
MEDIA_TAG = "recordings"
#: Who may see a case's recordings (and then only of their own cases).
READERS = frozenset({"party", "agent", "mediator", "court_clerk", "judge"})

Mode = Literal["off", "joint", "joint_and_caucus"]


def setup_room_recording(app: web.Application, settings: Settings, services: MediationServices, hub: RoomHub) -> None:
    """The recorder behind the room's ``rec:*`` events and the access to what it wrote, over the
    store and storage :func:`signaling.recordings_setup.setup_recordings` installed (call it after)."""
    store, storage = app[RECORDING_STORE_KEY], app[RECORDING_STORAGE_KEY]
    access = install_access(app, settings, services, store, storage)
    RoomRecording(hub, services.recording_policy, store, storage, platform_timestamper(settings, app[TSA_KEY]),
                  access.composer, app[RECORDER_SETTINGS_KEY])
    if settings.recording_retention_days > 0:
        retention = timedelta(days=settings.recording_retention_days)
        run_periodically(app, "recording retention sweep", settings.recording_sweep_seconds,
                         lambda: sweep(store, storage, services.recording_policy, retention=retention,
                                       now=services.cases.clock.now()), at_start=True)


def install_access(app: web.Application, settings: Settings, services: MediationServices, store: RecordingStore,
                   storage: LocalRecordingStorage) -> RecordingAccess:
    """What the recording endpoints read: the store, the storage, the link key, the composite worker."""
    worker = CompositeWorker()
    access = RecordingAccess(services.cases, services.recording_policy, store, storage,
                             LinkSigner(ensure_secret(settings, "recording-links.key"), settings.recording_link_seconds),
                             ReviewComposer(store, storage, worker))
    app[ACCESS_KEY] = access

    async def stop_worker(_: web.Application) -> None:
        await access.composer.close()
        worker.close()

    app.on_cleanup.append(stop_worker)
    return access


# --- the policy -------------------------------------------------------------------------------
class RecordingPolicyIn(Strict):
    mode: Mode = Field(description="off; joint: the joint session only (a caucus is never written); "
                                   "joint_and_caucus: the caucus too")


class RecordingPolicyOut(BaseModel):
    case_id: str
    mode: Mode
    set_by: str | None = Field(description="the mediator's account; null while the case never chose (off)")
    set_at: datetime | None

    @classmethod
    def of(cls, policy: RecordingPolicy) -> "RecordingPolicyOut":
        return cls.model_validate(policy, from_attributes=True)


def _case_id(request: web.Request) -> str:
    return request.match_info["case_id"]


@api.route("GET", "/api/cases/{case_id}/recording-policy", summary="Whether the case's video sessions are recorded",
           allow=EVERYONE, tag=TAG, response=RecordingPolicyOut)
@domain_errors
async def get_recording_policy(request: web.Request, _: None) -> RecordingPolicyOut:
    """For everyone who may read the case."""
    return RecordingPolicyOut.of(await services_of(request).recording_policy.view(actor_of(request),
                                                                                  _case_id(request)))


@api.route("PUT", "/api/cases/{case_id}/recording-policy",
           summary="The case's mediator decides whether its video sessions are recorded", allow=MEDIATOR, tag=TAG,
           request=RecordingPolicyIn, response=RecordingPolicyOut)
@domain_errors
async def set_recording_policy(request: web.Request, body: RecordingPolicyIn) -> RecordingPolicyOut:
    """Only the case's mediator, while the case is open; recorded in the case's audit trail. The
    room reads it when the mediator starts recording; nobody is recorded without their consent."""
    return RecordingPolicyOut.of(await services_of(request).recording_policy.set(actor_of(request), _case_id(request),
                                                                                 body.mode))


# --- the recordings ---------------------------------------------------------------------------
class MediaLinks(BaseModel):
    play_url: str = Field(description="for a <video> element: range requests, video/webm; expires")
    download_url: str = Field(description="the same file as an attachment; expires")


class ConsentOut(BaseModel):
    seat: str
    name: str
    case_role: str
    answer: Literal["consented", "refused"]
    answered_at: datetime


class TrackOut(MediaLinks):
    id: str
    seat: str
    name: str
    kind: Literal["audio", "video"]
    codec: str
    start_s: float | None = Field(description="on the session clock")
    end_s: float | None
    sha256: str | None = Field(description="of the joined file")


class CompositeOut(BaseModel):
    state: Literal["none", "rendering", "ready", "failed"] = Field(
        description="none: nothing recorded (or not yet queued); rendering (see progress); ready; failed")
    progress: float | None = Field(description="0..1 while rendering")
    sha256: str | None
    play_url: str | None
    download_url: str | None


class RecordingSessionOut(BaseModel):
    id: str
    room_id: str
    state: Literal["recording", "finished", "interrupted", "deleted"]
    started_at: datetime
    ended_at: datetime | None
    duration_s: float | None
    policy: str
    manifest_sha256: str | None
    consents: list[ConsentOut]
    tracks: list[TrackOut]
    composite: CompositeOut
    package_url: str | None = Field(description="the recording package (manifest, segments, joined tracks, "
                                                 "composite) as a zip, for the verification page; once ended")
    links_expire_in_s: int


class RecordingsOut(BaseModel):
    sessions: list[RecordingSessionOut]


def _links(request: web.Request, session_id: str, file: str) -> dict[str, str]:
    access, actor = request.app[ACCESS_KEY], actor_of(request)

    def url(purpose: Purpose) -> str:
        return f"/api/recordings/media/{access.link(actor, session_id, file, purpose)}"

    return {"play_url": url("play"), "download_url": url("download")}


def _composite_out(request: web.Request, s: SessionInfo) -> CompositeOut:
    state = ReviewComposer.state(s, deleted=s.state == DELETED)
    links = _links(request, s.id, COMPOSITE) if state.state == "ready" else {"play_url": None, "download_url": None}
    return CompositeOut(state=state.state, progress=state.progress, sha256=s.composite_sha256, **links)


def _session_out(request: web.Request, found: SessionRecordings) -> RecordingSessionOut:
    s = found.session
    seconds = (lambda us: None if us is None else round(us / 1e6, 3))
    return RecordingSessionOut(
        id=s.id, room_id=s.room_id, state=s.state, started_at=s.started_at, ended_at=s.ended_at,
        duration_s=seconds(s.end_us), policy=str(s.policy.get("mode", "")), manifest_sha256=s.manifest_sha256,
        consents=[ConsentOut(seat=c.participant.seat, name=c.participant.name, case_role=c.participant.case_role,
                             answer=c.answer, answered_at=c.answered_at) for c in found.consents],
        tracks=[TrackOut(id=t.id, seat=t.seat, name=found.names.get(t.seat, t.seat), kind=t.kind, codec=t.codec,
                         start_s=seconds(t.first_us), end_s=seconds(t.last_us), sha256=t.joined_sha256,
                         **_links(request, s.id, t.id)) for t in found.tracks],
        composite=_composite_out(request, s),
        package_url=_links(request, s.id, PACKAGE)["download_url"]
        if s.manifest_sha256 is not None and s.state != DELETED else None,
        links_expire_in_s=request.app[ACCESS_KEY].links.ttl_seconds)


@api.route("GET", "/api/cases/{case_id}/recordings", summary="The case's recorded sessions, with links to play them",
           allow=READERS, tag=TAG, response=RecordingsOut)
@domain_errors
async def list_recordings(request: web.Request, _: None) -> RecordingsOut:
    """For the case's mediator, its parties and agents, and the clerks and judges of its court.
    Each link is for the caller alone and expires (``recording_link_seconds``); the listing is
    recorded in the case's audit trail."""
    found = await request.app[ACCESS_KEY].sessions(actor_of(request), _case_id(request))
    return RecordingsOut(sessions=[_session_out(request, f) for f in found])


@api.route("GET", "/api/recordings/media/{token}", summary="Play or download one recorded file or the session's package (a link from the list)",
           allow=READERS, tag=MEDIA_TAG)
@domain_errors
async def recording_media(request: web.Request, _: None) -> web.FileResponse:
    """``video/webm`` with range requests. Only for the account the link was issued to, before it
    expires, while that account may still see the case's recordings; starting to play or download
    (a request from the first byte) is recorded in the case's audit trail."""
    try:
        first_byte = request.http_range.start in (None, 0)
    except ValueError:
        raise ApiError(416, "bad_range", "the Range header is not a byte range") from None
    found = await request.app[ACCESS_KEY].open(actor_of(request), request.match_info["token"], first_byte=first_byte)
    disposition = "inline" if found.claims.purpose == "play" else "attachment"
    return web.FileResponse(found.path, headers={
        "Content-Type": "application/zip" if found.claims.file == PACKAGE else "video/webm", "Content-Disposition": content_disposition(disposition, found.name, found.name),
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})
