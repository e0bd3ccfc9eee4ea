"""Agreements in the database: the :class:`signing.agreement_versions.AgreementStore` the signing
ceremony uses, over the tables of :mod:`mediation.agreement_models`.

Every change of one agreement runs in one transaction that first locks the agreement's row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway), so two server
processes cannot both append a revision to the same version: the second sees the version moved
and is refused with ``version_outdated``. PDF bytes go to the content-addressed file store
before the transaction; a crash in between leaves an unreferenced file, never a row without bytes.

Agreements of older data directories (JSON files under ``data_dir/agreements``) are brought in by
:func:`import_json_agreements` (``accord agreements import``); the server refuses to start while
any are left (:func:`pending_json_agreements`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from signing.agreement import AgreementData, SignerRole, SignerSlot, Side, signer_order
from signing.agreement_pdf import EvidenceAppendix, IdentityEvidence, RecordingHash, render_agreement
from signing.agreement_versions import (AGREEMENT_ID, PlatformVersion, PreparationClaim, SignatureRecord,
                                        VersionError, VersionState, VersionStatus)

from .agreement_models import (AgreementRevisionRow, AgreementRow, AgreementSignatureRow, AgreementVersionRow,
                               SignerSlotRow, SigningPreparationRow)
from .agreement_pii import open_id_numbers, seal_id_numbers
from .accounts import Role
from .clock import Clock
from .directory_models import Organisation
from .files import FileStore
from .models import Account, Case, CaseResult
from .pii import PiiCipher
from .recording_citations import recording_citations
from .next_actions import Action, NextAction

#: Where an older data directory kept its agreements as JSON files, and where the import moves them.
JSON_DIR = "agreements"
IMPORTED_DIR = "agreements-imported"


@dataclass(frozen=True)
class AgreementInfo:
    """The agreement itself, without a version: what access checks look at."""

    id: str
    case_id: str | None
    organisation_id: str | None
    created_by: str | None
    current_version: int


def _info(row: AgreementRow) -> AgreementInfo:
    return AgreementInfo(row.id, row.case_id, row.organisation_id, row.created_by, row.current_version)


def _not_found() -> VersionError:
    return VersionError("agreement_not_found", "no such agreement")


def _slot_rows(version_id: int, slots: Sequence[SignerSlot]) -> list[SignerSlotRow]:
    """The seal slot's participant is its organisation: the row keeps it in ``organisation_id``
    (``participant_id`` references accounts)."""
    return [SignerSlotRow(version_id=version_id, position=s.index, field_name=s.field_name, role=s.role.value,
                          side=s.side.value if s.side else None, name=s.name, signer_key=s.signer_key,
                          participant_id=None if s.role is SignerRole.ORGANISATION else s.participant_id,
                          organisation_id=s.organisation_id) for s in slots]


def _is_seal(state: VersionState, field_name: str) -> bool:
    return any(s.field_name == field_name and s.role is SignerRole.ORGANISATION for s in state.slots)


def _slot(row: SignerSlotRow) -> SignerSlot:
    role = SignerRole(row.role)
    return SignerSlot(index=row.position, field_name=row.field_name, role=role, signer_key=row.signer_key,
                      name=row.name, side=Side(row.side) if row.side else None,
                      participant_id=row.organisation_id if role is SignerRole.ORGANISATION else row.participant_id,
                      organisation_id=row.organisation_id)


class SqlAgreementStore:
    """Versions, signer slots, revisions and signatures of every agreement, in the case database."""

    def __init__(self, db: async_sessionmaker[AsyncSession], files: FileStore, clock: Clock, cipher: PiiCipher):
        self.db = db
        self.files = files
        self.clock = clock
        self.cipher = cipher
        self._locks: dict[str, asyncio.Lock] = {}

    def lock_for(self, agreement_id: str) -> asyncio.Lock:
        return self._locks.setdefault(agreement_id, asyncio.Lock())

    # --- reading ----------------------------------------------------------------------------

    @staticmethod
    async def _agreement(s: AsyncSession, agreement_id: str, *, lock: bool = False) -> AgreementRow:
        if not AGREEMENT_ID.fullmatch(agreement_id):
            raise _not_found()
        query = select(AgreementRow).where(AgreementRow.id == agreement_id)
        row = await s.scalar(query.with_for_update() if lock else query)
        if row is None:
            raise _not_found()
        return row

    @staticmethod
    async def _version_row(s: AsyncSession, agreement_id: str, version: int) -> AgreementVersionRow:
        row = await s.scalar(select(AgreementVersionRow).where(AgreementVersionRow.agreement_id == agreement_id,
                                                               AgreementVersionRow.version == version))
        if row is None:
            raise VersionError("version_not_found", f"agreement has no version {version}")
        return row

    def _stored(self, data: AgreementData) -> dict[str, Any]:
        """The JSON a version row keeps: ID numbers encrypted (:mod:`mediation.agreement_pii`)."""
        return seal_id_numbers(data.model_dump(mode="json"), self.cipher)

    async def _state(self, s: AsyncSession, agreement: AgreementRow, row: AgreementVersionRow) -> VersionState:
        slots = (await s.scalars(select(SignerSlotRow).where(SignerSlotRow.version_id == row.id)
                                 .order_by(SignerSlotRow.position))).all()
        signatures = (await s.scalars(select(AgreementSignatureRow).where(AgreementSignatureRow.version_id == row.id)
                                      .order_by(AgreementSignatureRow.revision))).all()
        seals = {x.field_name: x.organisation_id for x in slots if x.role == SignerRole.ORGANISATION.value}
        return VersionState(
            agreement_id=agreement.id, version=row.version, status=VersionStatus(row.status),
            data=AgreementData.model_validate(open_id_numbers(row.data, self.cipher)),
            evidence=EvidenceAppendix.model_validate(row.evidence),
            case_id=agreement.case_id, created_at=row.created_at, created_by=row.created_by,
            locked_at=row.locked_at, locked_sha256=row.locked_sha256,
            slots=[_slot(x) for x in slots],
            signatures=[SignatureRecord(
                field_name=x.field_name, signer_key=x.signer_key,
                participant_id=seals[x.field_name] if x.field_name in seals else x.participant_id,
                signed_at=x.signed_at, timestamp_at=x.timestamp_at, key_custody=x.key_custody,  # type: ignore[arg-type]
                identity=IdentityEvidence.model_validate(x.identity) if x.identity else None,
                certificate_sha256=x.certificate_sha256, revision=x.revision, pdf_sha256=x.pdf_sha256)
                for x in signatures],
            effective_at=row.effective_at, completed_at=row.completed_at, final_sha256=row.final_sha256,
            superseded_at=row.superseded_at)

    async def info(self, agreement_id: str) -> AgreementInfo:
        async with self.db() as s:
            return _info(await self._agreement(s, agreement_id))

    async def of_case(self, case_id: str) -> AgreementInfo | None:
        """The case's agreement (the newest, should a failed draft have been replaced)."""
        async with self.db() as s:
            row = await s.scalar(select(AgreementRow).where(AgreementRow.case_id == case_id)
                                 .order_by(AgreementRow.created_at.desc()).limit(1))
        return _info(row) if row is not None else None

    async def version(self, agreement_id: str, version: int) -> VersionState:
        async with self.db() as s:
            agreement = await self._agreement(s, agreement_id)
            return await self._state(s, agreement, await self._version_row(s, agreement_id, version))

    async def current(self, agreement_id: str) -> VersionState:
        async with self.db() as s:
            agreement = await self._agreement(s, agreement_id)
            return await self._state(s, agreement,
                                     await self._version_row(s, agreement_id, agreement.current_version))

    async def revision_path(self, state: VersionState, revision: int | None = None) -> Path:
        """Where the bytes of ``revision`` (default: the newest) of a locked version are."""
        if state.locked_sha256 is None:
            raise VersionError("not_locked", "a draft has no fixed PDF yet; lock it first")
        rev = state.revision if revision is None else revision
        if not 0 <= rev <= state.revision:
            raise VersionError("revision_not_found", f"version {state.version} has no revision {rev}")
        async with self.db() as s:
            path = await s.scalar(select(AgreementRevisionRow.path)
                                  .join(AgreementVersionRow, AgreementVersionRow.id == AgreementRevisionRow.version_id)
                                  .where(AgreementVersionRow.agreement_id == state.agreement_id,
                                         AgreementVersionRow.version == state.version,
                                         AgreementRevisionRow.revision == rev))
        if path is None:
            raise VersionError("revision_not_found", f"version {state.version} has no revision {rev}")
        return self.files.root / path

    async def read_pdf(self, state: VersionState, revision: int | None = None) -> bytes:
        return await asyncio.to_thread((await self.revision_path(state, revision)).read_bytes)

    async def locked_with(self, sha256s: Collection[str]) -> PlatformVersion | None:
        """The version whose locked PDF has one of these hashes: an index seek, not a scan."""
        if not sha256s:
            return None
        async with self.db() as s:
            row = await s.scalar(select(AgreementVersionRow)
                                 .where(AgreementVersionRow.locked_sha256.in_(list(sha256s))).limit(1))
            if row is None:
                return None
            agreement = await self._agreement(s, row.agreement_id)
            hashes = (await s.scalars(select(AgreementRevisionRow.sha256)
                                      .where(AgreementRevisionRow.version_id == row.id)
                                      .order_by(AgreementRevisionRow.revision))).all()
            return PlatformVersion(await self._state(s, agreement, row), agreement.current_version, list(hashes))

    @staticmethod
    async def current_status(s: AsyncSession, agreement_id: str) -> VersionStatus | None:
        """The current version's status, read in the caller's session (``None``: no such agreement)."""
        status = await s.scalar(select(AgreementVersionRow.status)
                                .join(AgreementRow, (AgreementRow.id == AgreementVersionRow.agreement_id)
                                      & (AgreementRow.current_version == AgreementVersionRow.version))
                                .where(AgreementRow.id == agreement_id))
        return VersionStatus(status) if status is not None else None

    async def next_signers(self, s: AsyncSession, case_id: str, agreement_id: str) -> list[NextAction]:
        """Who acts on the case's agreement next (:class:`mediation.next_actions.SignerProgress`),
        read in the caller's session: the mediator while the text is a draft, then each slot in
        the signing order with its participant, the organisation's seal last; nobody once complete."""
        agreement = await s.get(AgreementRow, agreement_id)
        if agreement is None or agreement.case_id != case_id:
            return []
        row = await self._version_row(s, agreement_id, agreement.current_version)
        slots = (await s.scalars(select(SignerSlotRow).where(SignerSlotRow.version_id == row.id)
                                 .order_by(SignerSlotRow.position))).all()
        if row.status == VersionStatus.DRAFT.value:
            mediator = next((x.participant_id for x in slots if x.role == SignerRole.MEDIATOR.value), None)
            return [NextAction(Action.LOCK_AGREEMENT, str(Role.MEDIATOR), account_id=mediator)]
        if row.status != VersionStatus.LOCKED.value:
            return []
        signed = set((await s.scalars(select(AgreementSignatureRow.field_name)
                                      .where(AgreementSignatureRow.version_id == row.id))).all())
        slot = next((x for x in slots if x.field_name not in signed), None)
        if slot is None:
            return []
        if slot.role == SignerRole.ORGANISATION.value:
            name = await s.scalar(select(Organisation.name).where(Organisation.id == slot.organisation_id)) \
                if slot.organisation_id else None
            return [NextAction(Action.SEAL, str(Role.ORG_ADMIN), organisation=name or slot.name)]
        return [NextAction(Action.SIGN, slot.role, side=slot.side, account_id=slot.participant_id)]

    # --- lifecycle --------------------------------------------------------------------------

    async def add_draft(self, s: AsyncSession, data: AgreementData, *, case_id: str | None,
                        organisation_id: str | None, created_by: str | None,
                        evidence: EvidenceAppendix | None = None) -> str:
        """Version 1 as a draft, in the caller's transaction (the case records it in the same one)."""
        agreement_id = "ag_" + secrets.token_hex(8)
        now = self.clock.now()
        s.add(AgreementRow(id=agreement_id, case_id=case_id, organisation_id=organisation_id, created_by=created_by,
                           created_at=now, current_version=1))
        await s.flush()
        row = AgreementVersionRow(agreement_id=agreement_id, version=1, status=VersionStatus.DRAFT.value,
                                  data=self._stored(data),
                                  evidence=(evidence or EvidenceAppendix()).model_dump(mode="json"),
                                  created_at=now, created_by=created_by)
        s.add(row)
        await s.flush()
        s.add_all(_slot_rows(row.id, signer_order(data)))
        return agreement_id

    async def edit(self, agreement_id: str, data: AgreementData, edited_by: str | None,
                   evidence: EvidenceAppendix | None = None) -> VersionState:
        """Change the text: in place for a draft, as version n+1 once the current one is locked."""
        async with self.lock_for(agreement_id), self.db.begin() as s:
            agreement = await self._agreement(s, agreement_id, lock=True)
            current = await self._version_row(s, agreement_id, agreement.current_version)
            new_evidence = evidence.model_dump(mode="json") if evidence is not None else current.evidence
            if current.status == VersionStatus.DRAFT:
                current.data, current.evidence = self._stored(data), new_evidence
                await s.execute(delete(SignerSlotRow).where(SignerSlotRow.version_id == current.id))
                s.add_all(_slot_rows(current.id, signer_order(data)))
                await s.flush()
                return await self._state(s, agreement, current)
            if current.status == VersionStatus.COMPLETED:
                raise VersionError("already_completed",
                                   "this agreement is signed by everyone and in effect; make a new agreement")
            now = self.clock.now()
            current.status, current.superseded_at = VersionStatus.SUPERSEDED.value, now
            row = AgreementVersionRow(agreement_id=agreement_id, version=current.version + 1,
                                      status=VersionStatus.DRAFT.value, data=self._stored(data),
                                      evidence=new_evidence, created_at=now, created_by=edited_by)
            s.add(row)
            await s.flush()
            s.add_all(_slot_rows(row.id, signer_order(data)))
            await s.execute(delete(SigningPreparationRow).where(SigningPreparationRow.agreement_id == agreement_id))
            agreement.current_version = row.version
            await s.flush()
            return await self._state(s, agreement, row)

    async def lock(self, agreement_id: str, version: int) -> VersionState:
        """Render the draft and fix its hash. ``version`` must be the current draft (no lost edits)."""
        async with self.lock_for(agreement_id):
            current = await self.current(agreement_id)
            if current.version != version:
                raise VersionError("version_outdated", f"version {version} is not current (v{current.version} is)")
            if current.status is not VersionStatus.DRAFT:
                raise VersionError("already_locked", f"version {version} is already {current.status.value}")
            if current.data.mediator.id_number is None:
                raise VersionError("mediator_id_number_required",
                                   "the mediator's ID number is needed for the mediator's signing certificate: "
                                   "enter it before locking")
            evidence = await self._with_recordings(current)
            rendered = await asyncio.to_thread(render_agreement, current.data, evidence,
                                               agreement_id=agreement_id, version=version)
            blob = await self.files.put(rendered.pdf)
            async with self.db.begin() as s:
                agreement = await self._agreement(s, agreement_id, lock=True)
                row = await self._version_row(s, agreement_id, version)
                if agreement.current_version != version or row.status != VersionStatus.DRAFT:
                    raise VersionError("version_outdated", "the agreement changed while it was being locked")
                now = self.clock.now()
                row.status, row.locked_at, row.locked_sha256 = VersionStatus.LOCKED.value, now, rendered.sha256
                row.evidence = evidence.model_dump(mode="json")  # what the locked PDF prints
                await s.execute(delete(SignerSlotRow).where(SignerSlotRow.version_id == row.id))
                s.add_all(_slot_rows(row.id, rendered.slots))
                s.add(AgreementRevisionRow(version_id=row.id, revision=0, sha256=blob.sha256, size=blob.size,
                                           path=blob.relative_path, created_at=now))
                await s.flush()
                return await self._state(s, agreement, row)

    async def _with_recordings(self, state: VersionState) -> EvidenceAppendix:
        """The appendix with the case's recording sessions that ended before the lock, each by
        its manifest's SHA-256 (the hash the case's audit trail records), after any recording the
        drafter listed already."""
        if state.case_id is None:
            return state.evidence
        async with self.db() as s:
            cited = await recording_citations(s, state.case_id, ended_by=self.clock.now())
        listed = {r.sha256 for r in state.evidence.recordings}
        recordings = [RecordingHash(name=f"录像 {c.session_id}", sha256=c.manifest_sha256,
                                    started_at=datetime.fromisoformat(c.started_at),
                                    ended_at=None if c.ended_at is None else datetime.fromisoformat(c.ended_at))
                      for c in cited if c.manifest_sha256 not in listed]
        return state.evidence.model_copy(update={"recordings": [*state.evidence.recordings, *recordings]})

    async def add_revision(self, state: VersionState, pdf: bytes, record: SignatureRecord | None) -> VersionState:
        """Store the PDF with one more signature (``record``) or, with ``None``, the final archival
        revision. The caller holds :meth:`lock_for` and has checked the ceremony rules; this
        re-checks, under the row lock, only that nobody moved the version meanwhile.

        The first time every party-side field is signed, ``effective_at`` becomes that signature's
        timestamp-token time (Online Mediation Rules art. 19)."""
        blob = await self.files.put(pdf)
        async with self.db.begin() as s:
            agreement = await self._agreement(s, state.agreement_id, lock=True)
            row = await self._version_row(s, state.agreement_id, state.version)
            latest = await self._state(s, agreement, row)
            if latest.status is not VersionStatus.LOCKED or latest.revision != state.revision:
                raise VersionError("version_outdated", "the agreement changed while this signature was prepared")
            now = self.clock.now()
            rev = latest.revision + 1
            if record is None:
                row.status, row.completed_at, row.final_sha256 = VersionStatus.COMPLETED.value, now, blob.sha256
            else:
                s.add(AgreementSignatureRow(
                    version_id=row.id, field_name=record.field_name, signer_key=record.signer_key,
                    participant_id=None if _is_seal(latest, record.field_name) else record.participant_id,
                    certificate_sha256=record.certificate_sha256,
                    key_custody=record.key_custody,
                    identity=record.identity.model_dump(mode="json") if record.identity else None,
                    signed_at=record.signed_at, timestamp_at=record.timestamp_at, revision=rev,
                    pdf_sha256=record.pdf_sha256))
                signed = latest.model_copy(update={"signatures": [*latest.signatures, record]})
                if row.effective_at is None and signed.party_fields_signed():
                    row.effective_at = record.timestamp_at or record.signed_at
            s.add(AgreementRevisionRow(version_id=row.id, revision=rev, sha256=blob.sha256, size=blob.size,
                                       path=blob.relative_path, created_at=now))
            await s.flush()
            return await self._state(s, agreement, row)

    async def claim_preparation(self, claim: PreparationClaim) -> None:
        async with self.db.begin() as s:
            await s.execute(delete(SigningPreparationRow)
                            .where(SigningPreparationRow.agreement_id == claim.agreement_id))
            s.add(SigningPreparationRow(agreement_id=claim.agreement_id, version=claim.version,
                                        revision=claim.revision, field_name=claim.field_name,
                                        signer_key=claim.signer_key, participant_id=claim.participant_id,
                                        prepared_at=claim.prepared_at, expires_at=claim.expires_at))

    async def release_preparation(self, agreement_id: str) -> None:
        async with self.db.begin() as s:
            await s.execute(delete(SigningPreparationRow).where(SigningPreparationRow.agreement_id == agreement_id))

    async def preparation(self, agreement_id: str) -> PreparationClaim | None:
        """Who holds the agreement's preparation lock now (an expired claim counts as none)."""
        async with self.db() as s:
            row = await s.get(SigningPreparationRow, agreement_id)
        if row is None or row.expires_at < self.clock.now():
            return None
        return PreparationClaim(row.agreement_id, row.version, row.revision, row.field_name, row.signer_key,
                                row.participant_id, row.prepared_at, row.expires_at)


# --- agreements of older data directories ---------------------------------------------------


def pending_json_agreements(data_dir: Path) -> list[Path]:
    """Agreement directories of the former JSON-file store still waiting for ``accord agreements import``."""
    root = data_dir / JSON_DIR
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and AGREEMENT_ID.fullmatch(p.name))


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    #: Agreement id -> why it could not be imported (nothing of it was written).
    failed: dict[str, str] = field(default_factory=dict)
    moved_to: Path | None = None


async def _import_one(store: SqlAgreementStore, directory: Path) -> bool:
    """One agreement, all its versions and revision files, in one transaction. ``False``: already there."""
    agreement_id = directory.name
    pointer = json.loads(await asyncio.to_thread((directory / "agreement.json").read_bytes))
    states: list[VersionState] = []
    for number in range(1, int(pointer["current_version"]) + 1):
        raw = await asyncio.to_thread((directory / f"v{number}" / "state.json").read_bytes)
        states.append(VersionState.model_validate_json(raw))
    blobs: dict[int, list[Any]] = {}
    for state in states:
        if state.locked_sha256 is None:
            continue
        blobs[state.version] = []
        for rev in range(state.revision + 1):
            data = await asyncio.to_thread((directory / f"v{state.version}" / f"rev-{rev:02d}.pdf").read_bytes)
            if rev == 0 and hashlib.sha256(data).hexdigest() != state.locked_sha256:
                raise ValueError(f"v{state.version}/rev-00.pdf is not the PDF locked with hash {state.locked_sha256}")
            blobs[state.version].append(await store.files.put(data))
    async with store.db.begin() as s:
        if await s.get(AgreementRow, agreement_id) is not None:
            return False
        result = await s.scalar(select(CaseResult).where(CaseResult.agreement_id == agreement_id))
        case = await s.get(Case, result.case_id) if result is not None else None
        organisation = await s.scalar(select(Organisation.id).where(Organisation.name == case.organisation)) \
            if case is not None and case.organisation else None
        first = states[0]
        creator = first.created_by if first.created_by and await s.get(Account, first.created_by) else None
        s.add(AgreementRow(id=agreement_id, case_id=case.id if case else None, organisation_id=organisation,
                           created_by=creator, created_at=datetime.fromisoformat(pointer["created_at"]),
                           current_version=len(states)))
        await s.flush()
        for state in states:
            row = AgreementVersionRow(
                agreement_id=agreement_id, version=state.version, status=state.status.value,
                data=store._stored(state.data), evidence=state.evidence.model_dump(mode="json"),
                created_at=state.created_at,
                created_by=state.created_by if state.created_by == creator else None,
                locked_at=state.locked_at, locked_sha256=state.locked_sha256, effective_at=state.effective_at,
                completed_at=state.completed_at, final_sha256=state.final_sha256, superseded_at=state.superseded_at)
            s.add(row)
            await s.flush()
            s.add_all(_slot_rows(row.id, state.slots))
            for sig in state.signatures:
                s.add(AgreementSignatureRow(
                    version_id=row.id, field_name=sig.field_name, signer_key=sig.signer_key, participant_id=None,
                    certificate_sha256=sig.certificate_sha256, key_custody=sig.key_custody,
                    identity=sig.identity.model_dump(mode="json") if sig.identity else None,
                    signed_at=sig.signed_at, timestamp_at=sig.timestamp_at, revision=sig.revision,
                    pdf_sha256=sig.pdf_sha256))
            for rev, blob in enumerate(blobs.get(state.version, [])):
                s.add(AgreementRevisionRow(version_id=row.id, revision=rev, sha256=blob.sha256, size=blob.size,
                                           path=blob.relative_path, created_at=store.clock.now()))
    return True


async def import_json_agreements(store: SqlAgreementStore, data_dir: Path) -> ImportReport:
    """Bring every JSON agreement of ``data_dir/agreements`` into the database (idempotent), then
    move that directory to ``agreements-imported`` so the server starts. An agreement that fails
    is reported and nothing of it is written; the directory then stays where it is."""
    report = ImportReport()
    for directory in pending_json_agreements(data_dir):
        try:
            imported = await _import_one(store, directory)
        except (OSError, ValueError, KeyError) as exc:
            report.failed[directory.name] = str(exc)
            continue
        (report.imported if imported else report.already_present).append(directory.name)
    if not report.failed and (data_dir / JSON_DIR).is_dir():
        target = data_dir / IMPORTED_DIR
        if target.exists():
            target = data_dir / f"{IMPORTED_DIR}-{store.clock.now():%Y%m%dT%H%M%S}"
        (data_dir / JSON_DIR).rename(target)
        report.moved_to = target
    return report
