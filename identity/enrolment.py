"""Enrolment for identity checks at signing: a case participant states who they are (name, ID type
and number), gives a reference photo (their ID card's photo, or a portrait taken by their
camera) and consents to biometric processing. Each participant enrols only themself, once per
case (enrolling again replaces the reference).

Biometric data (PIPL art. 28: sensitive personal information) is AES-GCM ciphertext in the
database, bound to its case and account, read only by the face comparison; it is never
written to disk in the clear or logged. :meth:`EnrolmentService.sweep` deletes references past
their retention period and writes that deletion into the case's audit trail.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation import audit
from mediation.accounts import Actor
from mediation.cases import CaseContext, CaseService
from mediation.clock import Clock
from mediation.errors import Forbidden, InvalidInput, NotFound
from mediation.id_numbers import validate_id_number
from mediation.identity_models import IdentityEnrolment
from mediation.models import Case
from mediation.pii import PiiCipher, mask_id_number

from .worker import reference_in_worker

#: The consent text the participant agrees to; a new wording gets a new version.
CONSENT_VERSION = "2026-12-v1"
CONSENT_TEXT = {
    "zh": ("我同意本调解平台为核验我的身份处理我的人脸信息：保存我上传的身份证照片或拍摄的人像（加密保存），"
           "并在我签署调解协议时与摄像头画面比对。该照片在保存期满后删除，我也可随时撤回同意并删除照片。"),
    "en": ("I agree that this mediation platform processes my facial data to verify my identity: it keeps the ID "
           "photo or portrait I provide (encrypted) and compares it with my camera image when I sign the "
           "agreement. The photo is deleted when the retention period ends; I may withdraw and delete it at any time."),
}
ID_TYPES = ("resident_id", "passport", "hk_macao_permit", "taiwan_permit")
REFERENCE_SOURCES = ("id_card", "portrait")
_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")
_PHOTO_CONTEXT = "identity.reference"
_ID_CONTEXT = "identity.id_number"


@dataclass(frozen=True)
class EnrolmentRequest:
    name: str
    id_type: str
    id_number: str
    reference_source: str
    photo: bytes
    consent: bool
    consent_version: str


@dataclass(frozen=True)
class EnrolmentStatus:
    """What may be shown: never the photo, the ID number masked."""

    case_id: str
    account_id: str
    name: str
    id_type: str
    id_number: str  # masked
    reference_source: str
    consent_text_version: str
    consent_at: datetime
    enrolled_at: datetime
    delete_after: datetime
    #: ``False`` once the retention sweep (or a withdrawal) deleted the photo: enrol again.
    reference_kept: bool


@dataclass(frozen=True)
class Reference:
    """What the face comparison needs: the decrypted photo, in memory only."""

    case_id: str
    account_id: str
    photo: bytes


@dataclass(frozen=True)
class EnrolledPerson:
    """Who the participant enrolled as, for a real-name provider: name, ID type and number (clear)."""

    name: str
    id_type: str
    id_number: str


def normalise_id(id_type: str, raw: str) -> str:
    """GB 11643 for the resident identity card (the project's one validator); a plain shape check otherwise."""
    if id_type not in ID_TYPES:
        raise InvalidInput("invalid_id_type", f"the ID type is one of {', '.join(ID_TYPES)}")
    if id_type == "resident_id":
        return validate_id_number(raw)
    number = raw.strip().upper()
    if not _OTHER_ID.match(number):
        raise InvalidInput("invalid_id_number", "the document number has 5-20 letters and digits")
    return number


class EnrolmentService:
    def __init__(self, db: async_sessionmaker[AsyncSession], clock: Clock, cases: CaseService, cipher: PiiCipher,
                 biometric_cipher: PiiCipher, retention: timedelta):
        self.db = db
        self.clock = clock
        self.cases = cases
        self.cipher = cipher
        self.biometric = biometric_cipher
        self.retention = retention

    @staticmethod
    def _participant(ctx: CaseContext) -> None:
        if not (ctx.relation.sides or ctx.relation.mediator):
            raise Forbidden("not_a_participant", "only the case's parties, their agents and its mediator enrol")

    def _check_against_case(self, ctx: CaseContext, actor: Actor, id_type: str, number: str) -> None:
        """A party enrols as the person the case names: same resident ID number (where the case knows it)."""
        if actor.role != "party" or id_type != "resident_id":
            return
        own = [p for p in ctx.parties.values() if p.kind == "person" and (p.account_id == actor.id or
               (p.account_id is None and actor.phone is not None and p.phone == actor.phone))]
        if own and all(self.cases.party_id_number(p) not in (None, number) for p in own):
            raise InvalidInput("id_number_mismatch", "the ID number differs from the one this case names for you")

    async def enrol(self, actor: Actor, case_id: str, request: EnrolmentRequest) -> EnrolmentStatus:
        """Validate everything, then store; a refusal stores nothing. The caller's part in the case
        is checked first: a stranger never gets the face models to work for them."""
        async with self.db.begin() as s:
            self._participant(await self.cases.load_context(s, actor, case_id))
        if not request.consent:
            raise InvalidInput("consent_required", "the photo is kept only with your consent to biometric processing")
        if request.consent_version != CONSENT_VERSION:
            raise InvalidInput("consent_outdated", "the consent text changed: read it again and agree")
        if request.reference_source not in REFERENCE_SOURCES:
            raise InvalidInput("invalid_reference_source", "the photo is an ID card photo or a camera portrait")
        name = request.name.strip()
        if not 1 <= len(name) <= 100:
            raise InvalidInput("invalid_name", "the name has 1-100 characters")
        number = normalise_id(request.id_type, request.id_number)
        # Exactly one face big enough, in a worker process: else image_unreadable, image_too_large,
        # no_face, several_faces or face_too_small (IdentityInputError), before anything is stored.
        await reference_in_worker(request.photo)
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self._participant(ctx)
            self._check_against_case(ctx, actor, request.id_type, number)
            row = await s.scalar(select(IdentityEnrolment).where(IdentityEnrolment.case_id == case_id,
                                                                 IdentityEnrolment.account_id == actor.id))
            if row is None:
                row = IdentityEnrolment(case_id=case_id, account_id=actor.id)
                s.add(row)
            row.name = name
            row.id_type = request.id_type
            row.id_number_enc = self.cipher.encrypt(number, context=_ID_CONTEXT)
            row.reference_source = request.reference_source
            row.reference_enc = self.biometric.seal(request.photo, context=f"{_PHOTO_CONTEXT}:{case_id}:{actor.id}")
            row.reference_sha256 = hashlib.sha256(request.photo).hexdigest()
            row.consent_text_version = request.consent_version
            row.consent_at = now
            row.enrolled_at = now
            row.delete_after = now + self.retention
            row.reference_deleted_at = None
            self.cases.record(s, ctx, actor, "identity.enrolled",
                              {"account": actor.id, "id_type": request.id_type,
                               "reference_source": request.reference_source,
                               "consent_version": request.consent_version,
                               "delete_after": row.delete_after.isoformat()}, now)
            return self._status(row, number)

    def _status(self, row: IdentityEnrolment, number: str | None = None) -> EnrolmentStatus:
        number = number or self.cipher.decrypt(row.id_number_enc, context=_ID_CONTEXT)
        return EnrolmentStatus(case_id=row.case_id, account_id=row.account_id, name=row.name, id_type=row.id_type,
                               id_number=mask_id_number(number), reference_source=row.reference_source,
                               consent_text_version=row.consent_text_version, consent_at=row.consent_at,
                               enrolled_at=row.enrolled_at, delete_after=row.delete_after,
                               reference_kept=row.reference_enc is not None)

    async def own(self, actor: Actor, case_id: str) -> EnrolmentStatus | None:
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            self._participant(ctx)
            row = await s.scalar(select(IdentityEnrolment).where(IdentityEnrolment.case_id == case_id,
                                                                 IdentityEnrolment.account_id == actor.id))
            return self._status(row) if row is not None else None

    async def of_case(self, actor: Actor, case_id: str) -> list[EnrolmentStatus]:
        """For the case's mediator: who has enrolled (statuses, never photos)."""
        async with self.db() as s:
            ctx = await self.cases.load_context(s, actor, case_id)
            if not (ctx.relation.mediator or ctx.relation.oversight):
                raise Forbidden("not_the_mediator", "only the case's mediator sees who has enrolled")
            rows = (await s.scalars(select(IdentityEnrolment).where(IdentityEnrolment.case_id == case_id)
                                    .order_by(IdentityEnrolment.id))).all()
            return [self._status(r) for r in rows]

    async def withdraw(self, actor: Actor, case_id: str) -> None:
        """Consent withdrawn: the photo is deleted now (audited); signing then needs a new enrolment."""
        now = self.clock.now()
        async with self.db.begin() as s:
            ctx = await self.cases.load_context(s, actor, case_id, lock=True)
            self._participant(ctx)
            row = await s.scalar(select(IdentityEnrolment).where(IdentityEnrolment.case_id == case_id,
                                                                 IdentityEnrolment.account_id == actor.id))
            if row is None or row.reference_enc is None:
                raise NotFound("not_enrolled", "you have no reference photo in this case")
            row.reference_enc = None
            row.reference_deleted_at = now
            self.cases.record(s, ctx, actor, "identity.reference_deleted", {"account": actor.id, "why": "withdrawn"},
                              now)

    async def _enrolled(self, case_id: str, account_id: str) -> IdentityEnrolment:
        async with self.db() as s:
            row = await s.scalar(select(IdentityEnrolment).where(IdentityEnrolment.case_id == case_id,
                                                                 IdentityEnrolment.account_id == account_id))
        if row is None or row.reference_enc is None:
            raise InvalidInput("not_enrolled", "enrol first: your ID and a reference photo on your case page")
        return row

    async def ensure_enrolled(self, case_id: str, account_id: str) -> None:
        """``not_enrolled`` unless a reference photo is kept (nothing is decrypted)."""
        await self._enrolled(case_id, account_id)

    async def reference(self, case_id: str, account_id: str) -> Reference:
        """The decrypted photo for the face comparison (the caller already checked who asks)."""
        row = await self._enrolled(case_id, account_id)
        photo = self.biometric.open(row.reference_enc or b"", context=f"{_PHOTO_CONTEXT}:{case_id}:{account_id}")
        return Reference(case_id, account_id, photo)

    async def person(self, case_id: str, account_id: str) -> EnrolledPerson:
        """The enrolled name and ID (decrypted) for an external real-name provider's check."""
        row = await self._enrolled(case_id, account_id)
        return EnrolledPerson(row.name, row.id_type, self.cipher.decrypt(row.id_number_enc, context=_ID_CONTEXT))

    async def sweep(self) -> int:
        """Delete every reference photo past its retention period; one audit entry per deletion."""
        now = self.clock.now()
        deleted = 0
        async with self.db.begin() as s:
            rows = (await s.scalars(select(IdentityEnrolment).where(IdentityEnrolment.delete_after <= now,
                                                                    IdentityEnrolment.reference_enc.is_not(None))
                                    .limit(500))).all()
            for row in rows:
                case = await s.scalar(select(Case).where(Case.id == row.case_id).with_for_update())
                assert case is not None  # a foreign key
                row.reference_enc = None
                row.reference_deleted_at = now
                case.updated_at = now
                audit.append(s, case, "system", "identity.reference_deleted",
                             {"account": row.account_id, "why": "retention", "delete_after": row.delete_after.isoformat()},
                             now)
                deleted += 1
        return deleted
