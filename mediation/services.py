"""Wiring of the case system's services over one database engine: what the HTTP layer, the
command line and the tests build, so they all run the same objects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .accounts import AccountService
from .application_drafts import ApplicationDrafts
from .agreement_store import SqlAgreementStore
from .clock import Clock
from .case_documents import CaseDocuments
from .case_evaluation import CaseEvaluation
from .case_filing import CaseFiling
from .case_results import CaseResults
from .case_video import CaseVideo
from .cases import CaseService
from .counselling import Counselling
from .court import CourtService, RulingSigner
from .courts import CourtDirectory
from .deadlines import DeadlineMonitor
from .events import CaseEventHub
from .files import FileStore
from .litigation import Litigation
from .mediator_choice import MediatorChoices
from .mediator_desk import MediatorDesk
from .pii import PiiCipher
from .recording_policy import RecordingPolicyService
from .rooms import RoomScheduler
from .sms import SmsGateway
from .video_sessions import VideoSessions
from .workflow import WorkflowPolicy


@dataclass
class MediationServices:
    db: async_sessionmaker[AsyncSession]
    events: CaseEventHub
    accounts: AccountService
    agreements: SqlAgreementStore
    cases: CaseService  # what every step shares, and reading cases
    filing: CaseFiling  # step 1
    mediator_choice: MediatorChoices  # step 2
    counselling: Counselling  # step 3
    video: CaseVideo  # step 4
    results: CaseResults  # step 5
    evaluation: CaseEvaluation  # step 6
    documents: CaseDocuments
    litigation: Litigation
    court: CourtService
    courts: CourtDirectory
    deadlines: DeadlineMonitor
    recording_policy: RecordingPolicyService
    drafts: ApplicationDrafts
    sessions: VideoSessions
    desk: MediatorDesk


def build_services(engine: AsyncEngine, *, data_dir: Path, pii_key: bytes, code_key: bytes, clock: Clock,
                   sms: SmsGateway, rooms: RoomScheduler | None, max_upload_bytes: int = 20 * 1024 * 1024,
                   policy: WorkflowPolicy | None = None, sign_ruling: RulingSigner | None = None) -> MediationServices:
    """``pii_key`` encrypts identity numbers; ``code_key`` keys the HMAC of one-time codes (two
    secrets: each can be rotated without touching the other's data). ``sign_ruling`` makes the
    court-signed ruling PDF (:class:`signing.ruling.CourtRulingSigner`); without it judges cannot rule."""
    db = async_sessionmaker(engine, expire_on_commit=False)
    events = CaseEventHub()
    cipher = PiiCipher(pii_key)
    files = FileStore(data_dir / "case-files", max_upload_bytes)
    agreements = SqlAgreementStore(db, files, clock, cipher)
    cases = CaseService(db, clock, events, cipher, files, rooms, sms, agreements, policy)
    litigation = Litigation(cases)
    video = CaseVideo(cases)
    sessions = VideoSessions(cases, video)
    return MediationServices(db=db, events=events, accounts=AccountService(db, clock, sms, cipher, files, code_key),
                             agreements=agreements, cases=cases, filing=CaseFiling(cases, litigation),
                             mediator_choice=MediatorChoices(cases), counselling=Counselling(cases), video=video,
                             results=CaseResults(cases), evaluation=CaseEvaluation(cases, litigation),
                             documents=CaseDocuments(cases), litigation=litigation,
                             court=CourtService(cases, sign_ruling),
                             courts=CourtDirectory(db, clock),
                             deadlines=DeadlineMonitor(db, clock, events),
                             recording_policy=RecordingPolicyService(cases),
                             drafts=ApplicationDrafts(db, clock, cipher), sessions=sessions,
                             desk=MediatorDesk(sessions))
