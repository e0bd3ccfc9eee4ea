"""The signing ceremony: who may sign which field of which version, when, and with which key.

No HTTP here; :mod:`signaling.api.agreements` translates. The rules, checked on every step:

* only the locked, current version (``not_locked``, ``version_outdated``);
* only your own field (``not_your_field``): the slot's participant (the signed-in account, or the
  participant a signing link was issued to) and no one else, once (``already_signed``);
* only in the legal order (``out_of_order``): parties, agents, mediator, then the seal;
* only after a passed identity check within the gate's window (``identity_check_required``).

Key custody by default is the signer's browser (Electronic Signature Law art. 13 (1)–(2)):
``begin`` hands out a nonce, ``enroll`` checks that the browser holds the key (a signature over
nonce‖SPKI) and has the platform CA issue a short-lived event certificate for the checked
identity, ``prepare`` fixes the next PDF revision and returns the CMS signed attributes the
browser signs, ``complete`` embeds the signature. One preparation per agreement at a time
(prepare and complete hold the agreement's lock), expiring after ``preparation_timeout`` if
the browser never returns. Each event certificate names the one field it may sign
(:class:`signing.binding.SignerBinding`: agreement, version and its locked PDF's hash, field,
role, side, participant, case), so it is worthless on any other field. The organisation seal
(and, where allowed, a device without WebCrypto) uses a key the server holds; the seal is the
agreement's own organisation's (:class:`signing.seals.SealRegistry`). The evidence records which
custody each signature used. After the seal the PDF gets its B-LTA archive timestamp.

When the last party-side signature is recorded, the version's ``effective_at`` is that
signature's timestamp-token time (never a caller's clock) and ``on_effective`` is awaited, so the
case system can move the case on. ``on_revision`` is awaited after every stored signature and
after the final archival revision, so the case's trail names each one and its pages update.

pyHanko's work runs in a worker thread with its own event loop, never on the server's loop: the
:mod:`signing.pades` functions do that themselves; certificate issuing and building the
validation context go through ``asyncio.to_thread`` here.

Each signature carries its own evidence (key custody, identity-check reference) in its signed
``/Reason`` (:class:`signing.pades.SignatureEvidence`), and event certificates carry a keyed digest
of the ID number (:func:`signing.pki.id_number_digest`) under ``id_digest_key``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Awaitable, Callable

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from identity.gate import GateSubject, IdentityCheck, IdentityGate

from .agreement import ROLE_LABELS, SIDE_LABELS, SignerRole, SignerSlot
from .agreement_pdf import AttestationEntry, IdentityEvidence
from .identity_print import identity_lines
from .agreement_versions import (AgreementStore, PreparationClaim, SignatureRecord, VersionError, VersionState,
                                 VersionStatus)
from .binding import SignerBinding
from .pades import MEDIATION_SEAL_CAPTION, KeyCustody, PreparedSignature, SealStamp, SignatureEvidence, SigningError, \
    StampText, finalize_lta, finish_external, prepare_external, sign_with_key, signature_timestamp_time
from .pki import PlatformPKI, PossessionError, SignerIdentity, id_number_digest, verify_possession
from .seals import SealError, SealRegistry


class RefusalCode(StrEnum):
    NOT_YOUR_FIELD = "not_your_field"
    OUT_OF_ORDER = "out_of_order"
    IDENTITY_CHECK_REQUIRED = "identity_check_required"
    VERSION_OUTDATED = "version_outdated"
    NOT_LOCKED = "not_locked"
    ALREADY_SIGNED = "already_signed"
    UNKNOWN_FIELD = "unknown_field"
    NO_CHALLENGE = "no_challenge"
    POSSESSION_FAILED = "possession_failed"
    NOT_ENROLLED = "not_enrolled"
    NOT_PREPARED = "not_prepared"
    PREPARATION_EXPIRED = "preparation_expired"
    BAD_SIGNATURE = "bad_signature"
    SERVER_CUSTODY_DISABLED = "server_custody_disabled"
    BAD_CERTIFICATE = "bad_certificate"


class CeremonyRefused(Exception):
    """A ceremony rule refused the step. ``code`` is stable; ``message`` is for people."""

    def __init__(self, code: RefusalCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Signer:
    """Who asks to sign: the slot key they claim and the case participant they are — the account
    signed in, or the participant a signing link was issued to (``None`` only for a slot the case
    does not bind to anyone). A slot accepts exactly its own participant."""

    signer_key: str
    participant_id: str | None = None

    def owns(self, slot: SignerSlot) -> bool:
        return slot.signer_key == self.signer_key and slot.participant_id == self.participant_id


def gate_key(agreement_id: str, signer_key: str) -> str:
    """The identity gate's key for one signer of one agreement (signer keys repeat across agreements)."""
    return f"{agreement_id}/{signer_key}"


@dataclass(frozen=True)
class Challenge:
    nonce: bytes
    expires_at: dt.datetime


@dataclass(frozen=True)
class Enrollment:
    """A browser key the signer proved to hold, and the event certificate issued for it."""

    spki_der: bytes
    certificate: x509.Certificate
    identity: IdentityCheck


@dataclass(frozen=True)
class Preparation:
    """What the browser needs to check and sign: see :class:`signing.pades.PreparedSignature`."""

    field_name: str
    signed_attrs_der: bytes
    document_digest: bytes
    byte_range: tuple[int, int, int, int]
    expires_at: dt.datetime


@dataclass
class _Active:
    version: int
    revision: int
    signer: Signer
    prepared: PreparedSignature
    identity: IdentityCheck
    expires_at: dt.datetime


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _stamp_role(slot: SignerSlot) -> str:
    """E.g. 申请人（当事人）, 被申请人（委托代理人）, 调解员."""
    role = ROLE_LABELS[slot.role]
    return f"{SIDE_LABELS[slot.side]}（{role}）" if slot.side else role


def slot_subject(state: VersionState, slot: SignerSlot) -> GateSubject:
    """Whom the identity gate is asked about for ``slot`` of this version (its case and participant)."""
    return GateSubject(state.agreement_id, state.case_id, slot.signer_key, slot.participant_id)


def _evidence(check: IdentityCheck) -> IdentityEvidence:
    return IdentityEvidence(signer_key=check.signer_key, method=check.method, checked_at=check.checked_at,
                            score=check.score, frames_sha256=check.frames_sha256,
                            attestations=[AttestationEntry(method=a.method, sha256=a.sha256, checked_at=a.checked_at,
                                                           score=a.score, threshold=a.threshold, note=a.note)
                                          for a in check.attestations])


def _cert_sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class SigningCeremony:
    """One instance per server; state for challenges, enrollments and preparations lives in memory
    (they are worth minutes; a restart just asks the browser to enroll again)."""

    def __init__(self, store: AgreementStore, pki: PlatformPKI, gate: IdentityGate, timestamper: TimeStamper, *,
                 id_digest_key: bytes,
                 preparation_timeout: dt.timedelta = dt.timedelta(seconds=120),
                 challenge_ttl: dt.timedelta = dt.timedelta(minutes=5),
                 certificate_validity: dt.timedelta = dt.timedelta(minutes=30),
                 allow_server_custody_for_people: bool = False,
                 clock: Callable[[], dt.datetime] = _utcnow,
                 on_effective: Callable[[VersionState], Awaitable[None]] | None = None,
                 on_revision: Callable[[VersionState], Awaitable[None]] | None = None):
        self.store = store
        self.pki = pki
        self.gate = gate
        self.timestamper = timestamper
        self.id_digest_key = id_digest_key
        self.preparation_timeout = preparation_timeout
        self.challenge_ttl = challenge_ttl
        self.certificate_validity = certificate_validity
        self.allow_server_custody_for_people = allow_server_custody_for_people
        self.clock = clock
        #: Awaited once per version when its last party-side signature is recorded.
        self.on_effective = on_effective
        #: Awaited after each stored signature and after the final archival revision.
        self.on_revision = on_revision
        self._challenges: dict[tuple[str, int, Signer], Challenge] = {}
        self._enrollments: dict[tuple[str, int, Signer], Enrollment] = {}
        self._active: dict[str, _Active] = {}
        self.seals = SealRegistry(pki)

    # --- rules ------------------------------------------------------------------------------

    async def _locked_version(self, agreement_id: str, version: int) -> VersionState:
        state = await self.store.current(agreement_id)
        if version != state.version:
            if version < state.version:
                raise CeremonyRefused(RefusalCode.VERSION_OUTDATED,
                                      f"version {version} was replaced by version {state.version}; "
                                      "its signatures no longer count — review and sign the new version")
            raise VersionError("version_not_found", f"agreement has no version {version}")
        if state.status is VersionStatus.DRAFT:
            raise CeremonyRefused(RefusalCode.NOT_LOCKED, "the mediator has not locked this text yet")
        if state.status is VersionStatus.COMPLETED:
            raise CeremonyRefused(RefusalCode.ALREADY_SIGNED, "every field of this agreement is already signed")
        return state

    def _own_slot(self, state: VersionState, signer: Signer, field_name: str) -> SignerSlot:
        slot = next((s for s in state.slots if s.field_name == field_name), None)
        if slot is None:
            raise CeremonyRefused(RefusalCode.UNKNOWN_FIELD, f"the agreement has no field {field_name!r}")
        if not signer.owns(slot):
            raise CeremonyRefused(RefusalCode.NOT_YOUR_FIELD, f"field {field_name} belongs to another signer")
        if field_name in state.signed_fields():
            raise CeremonyRefused(RefusalCode.ALREADY_SIGNED, f"field {field_name} is already signed")
        return slot

    @staticmethod
    def _in_turn(state: VersionState, slot: SignerSlot) -> None:
        nxt = state.next_slot()
        if nxt is not None and nxt.field_name != slot.field_name:
            raise CeremonyRefused(RefusalCode.OUT_OF_ORDER,
                                  f"{nxt.name} ({nxt.field_name}) signs before you; please wait for your turn")

    async def _identity(self, state: VersionState, slot: SignerSlot) -> IdentityCheck:
        check = await self.gate.check(slot_subject(state, slot))
        if check is None:
            raise CeremonyRefused(RefusalCode.IDENTITY_CHECK_REQUIRED,
                                  "a passed identity check within the last few minutes is required to sign")
        return check

    async def turn(self, agreement_id: str, version: int, signer: Signer, field_name: str) -> SignerSlot:
        """Every rule at once, for a page that wants to know whether its signer may sign now."""
        state = await self._locked_version(agreement_id, version)
        slot = self._own_slot(state, signer, field_name)
        self._in_turn(state, slot)
        await self._identity(state, slot)
        return slot

    # --- browser-held key -------------------------------------------------------------------

    async def begin(self, agreement_id: str, version: int, signer: Signer, field_name: str) -> Challenge:
        """A nonce for the proof of possession. Order and identity are checked later, so that a
        signer can set up their key while waiting for their turn."""
        state = await self._locked_version(agreement_id, version)
        self._own_slot(state, signer, field_name)
        self._forget_expired()
        challenge = Challenge(nonce=secrets.token_bytes(32), expires_at=self.clock() + self.challenge_ttl)
        self._challenges[(agreement_id, version, signer)] = challenge
        return challenge

    def _forget_expired(self) -> None:
        """Drop challenges and enrollments nobody can use any more, so memory stays bounded."""
        now = self.clock()
        self._challenges = {k: c for k, c in self._challenges.items() if c.expires_at >= now}
        self._enrollments = {k: e for k, e in self._enrollments.items()
                             if e.certificate.not_valid_after_utc >= now}

    async def enroll(self, agreement_id: str, version: int, signer: Signer, field_name: str, spki_der: bytes,
                     proof: bytes) -> Enrollment:
        """Verify possession of the browser key and issue the event certificate for the checked
        identity — only to the slot's own participant."""
        state = await self._locked_version(agreement_id, version)
        slot = self._own_slot(state, signer, field_name)
        challenge = self._challenges.pop((agreement_id, version, signer), None)
        if challenge is None or challenge.expires_at < self.clock():
            raise CeremonyRefused(RefusalCode.NO_CHALLENGE, "no current challenge: call begin first")
        try:
            verify_possession(spki_der, challenge.nonce, proof)
        except PossessionError as exc:
            raise CeremonyRefused(RefusalCode.POSSESSION_FAILED, str(exc)) from None
        check = await self._identity(state, slot)
        public_key = serialization.load_der_public_key(spki_der)
        identity = self._signer_identity(state, slot)
        cert = await asyncio.to_thread(self.pki.issue_event_certificate, public_key, identity,  # type: ignore[arg-type]
                                       self.certificate_validity)
        enrollment = Enrollment(spki_der=spki_der, certificate=cert, identity=check)
        self._enrollments[(agreement_id, version, signer)] = enrollment
        return enrollment

    def _signer_identity(self, state: VersionState, slot: SignerSlot) -> SignerIdentity:
        """The slot's signer, bound to this slot of this locked version (the verifier refuses the
        certificate on any other field, agreement, version or case)."""
        data = state.data
        if slot.role is SignerRole.MEDIATOR:
            id_number = data.mediator.id_number
        else:
            party = data.party(slot.signer_key.split(":", 1)[1])
            id_number = party.agent.id_number if slot.role is SignerRole.AGENT and party.agent else party.id_number
        if state.locked_sha256 is None:
            raise CeremonyRefused(RefusalCode.NOT_LOCKED, "the mediator has not locked this text yet")
        side = slot.side.value if slot.side else None
        binding = SignerBinding(agreement_id=state.agreement_id, version=state.version,
                                version_sha256=state.locked_sha256, field_name=slot.field_name, role=slot.role.value,
                                side=side, participant_id=slot.holder_id, case_number=data.case_number)
        return SignerIdentity(name=slot.name, id_number_digest=id_number_digest(id_number, self.id_digest_key),
                              role=slot.role.value, case_number=data.case_number, side=side, binding=binding)

    async def prepare(self, agreement_id: str, version: int, signer: Signer, field_name: str) -> Preparation:
        """Fix the next revision with this signer's field and return what the browser signs."""
        async with self.store.lock_for(agreement_id):
            state = await self._locked_version(agreement_id, version)
            slot = self._own_slot(state, signer, field_name)
            self._in_turn(state, slot)
            check = await self._identity(state, slot)
            enrollment = self._enrollments.get((agreement_id, version, signer))
            if enrollment is None or enrollment.certificate.not_valid_after_utc < self.clock():
                raise CeremonyRefused(RefusalCode.NOT_ENROLLED, "enroll your signing key first")
            pdf = await self.store.read_pdf(state)
            vc = await asyncio.to_thread(self.pki.validation_context)
            stamp = StampText(slot.name, _stamp_role(slot), signed_at=self.clock())
            evidence = SignatureEvidence(KeyCustody.BROWSER, check.reference(),
                                         printed_identity=tuple(identity_lines(_evidence(check))))
            try:
                prepared = await prepare_external(pdf, field_name, enrollment.certificate, self.pki.chain, stamp,
                                                  self.timestamper, evidence=evidence, validation_context=vc)
            except SigningError as exc:
                raise CeremonyRefused(RefusalCode.BAD_CERTIFICATE, str(exc)) from None
            now = self.clock()
            expires = now + self.preparation_timeout
            # The order rule lets only one signer prepare at a time; a new preparation (another tab,
            # a retry) replaces the previous one, whose signature then no longer verifies.
            await self.store.claim_preparation(PreparationClaim(
                agreement_id=agreement_id, version=version, revision=state.revision, field_name=field_name,
                signer_key=signer.signer_key, participant_id=signer.participant_id, prepared_at=now,
                expires_at=expires))
            self._active[agreement_id] = _Active(version=version, revision=state.revision, signer=signer,
                                                 prepared=prepared, identity=check, expires_at=expires)
            return Preparation(field_name=field_name, signed_attrs_der=prepared.signed_attrs_der,
                               document_digest=prepared.document_digest, byte_range=prepared.byte_range,
                               expires_at=expires)

    def _active_for(self, agreement_id: str, version: int, signer: Signer, field_name: str) -> _Active:
        active = self._active.get(agreement_id)
        if active is None or active.signer != signer or active.version != version \
                or active.prepared.field_name != field_name:
            raise CeremonyRefused(RefusalCode.NOT_PREPARED, "nothing is prepared for you: call prepare first")
        if active.expires_at < self.clock():
            del self._active[agreement_id]
            raise CeremonyRefused(RefusalCode.PREPARATION_EXPIRED, "the preparation expired; prepare again")
        return active

    def prepared_pdf(self, agreement_id: str, version: int, signer: Signer, field_name: str) -> bytes:
        """The exact bytes the signed attributes' messageDigest covers (for the browser to check)."""
        return self._active_for(agreement_id, version, signer, field_name).prepared.prepared_pdf

    async def complete(self, agreement_id: str, version: int, signer: Signer, field_name: str,
                       signature: bytes) -> VersionState:
        """Embed the browser's signature (raw r‖s) after checking it against the event certificate."""
        async with self.store.lock_for(agreement_id):
            active = self._active_for(agreement_id, version, signer, field_name)
            state = await self._locked_version(agreement_id, version)
            if state.revision != active.revision:
                raise CeremonyRefused(RefusalCode.VERSION_OUTDATED, "the agreement changed since prepare")
            vc = await asyncio.to_thread(self.pki.validation_context)
            try:
                pdf = await finish_external(active.prepared, signature, self.timestamper, vc)
            except SigningError as exc:
                raise CeremonyRefused(RefusalCode.BAD_SIGNATURE, str(exc)) from None
            del self._active[agreement_id]
            recorded = await self._record(state, field_name, signer, pdf, KeyCustody.BROWSER, active.identity,
                                          active.prepared.certificate)
            await self.store.release_preparation(agreement_id)
            return recorded

    async def _record(self, state: VersionState, field_name: str, signer: Signer, pdf: bytes,
                      custody: KeyCustody, check: IdentityCheck | None,
                      cert: x509.Certificate) -> VersionState:
        """Store the signed revision; the first time every party-side field is signed, tell
        ``on_effective`` (the effective time is the signature's timestamp-token time)."""
        try:
            timestamp_at = await asyncio.to_thread(signature_timestamp_time, pdf, field_name)
        except SigningError as exc:
            raise CeremonyRefused(RefusalCode.BAD_SIGNATURE, str(exc)) from None
        record = SignatureRecord(field_name=field_name, signer_key=signer.signer_key,
                                 participant_id=signer.participant_id, signed_at=self.clock(),
                                 timestamp_at=timestamp_at, key_custody=custody.value,
                                 identity=_evidence(check) if check else None,
                                 certificate_sha256=_cert_sha256(cert), revision=state.revision + 1,
                                 pdf_sha256=hashlib.sha256(pdf).hexdigest())
        recorded = await self.store.add_revision(state, pdf, record)
        if self.on_revision is not None:
            await self.on_revision(recorded)
        if state.effective_at is None and recorded.effective_at is not None and self.on_effective is not None:
            await self.on_effective(recorded)
        return recorded

    # --- server-held keys ---------------------------------------------------------------------

    async def sign_with_server_key(self, agreement_id: str, version: int, signer: Signer,
                                   field_name: str) -> VersionState:
        """Fallback for a device without WebCrypto: a one-use key made, used and dropped in memory.

        Off unless ``allow_server_custody_for_people``: the signer does not control this key, so
        the evidence marks the signature ``server`` custody.
        """
        if not self.allow_server_custody_for_people:
            raise CeremonyRefused(RefusalCode.SERVER_CUSTODY_DISABLED,
                                  "server-held keys are disabled; sign in a browser")
        async with self.store.lock_for(agreement_id):
            state = await self._locked_version(agreement_id, version)
            slot = self._own_slot(state, signer, field_name)
            self._in_turn(state, slot)
            check = await self._identity(state, slot)
            self._active.pop(agreement_id, None)
            key = ec.generate_private_key(ec.SECP256R1())
            cert = await asyncio.to_thread(self.pki.issue_event_certificate, key.public_key(),
                                           self._signer_identity(state, slot), self.certificate_validity)
            pdf = await self._sign_server_side(state, slot, key, cert, check)
            return await self._record(state, field_name, signer, pdf, KeyCustody.SERVER, check, cert)

    async def seal(self, agreement_id: str, version: int) -> VersionState:
        """The seal of the organisation the agreement names (server-held key), then the B-LTA
        archive timestamp."""
        async with self.store.lock_for(agreement_id):
            state = await self._locked_version(agreement_id, version)
            slot = state.slots[-1]
            if slot.role is not SignerRole.ORGANISATION:
                raise CeremonyRefused(RefusalCode.UNKNOWN_FIELD, "the agreement has no seal field")
            if slot.field_name in state.signed_fields():
                raise CeremonyRefused(RefusalCode.ALREADY_SIGNED, "the seal is already affixed")
            self._in_turn(state, slot)
            self._active.pop(agreement_id, None)
            org = state.data.organisation
            try:
                seal = await asyncio.to_thread(self.seals.for_organisation, slot.holder_id, org.name,
                                               org.credit_code)
                vc = await asyncio.to_thread(self.seals.validation_context)
                pdf = await self._sign_server_side(state, slot, seal.key, seal.cert, None, chain=seal.chain, vc=vc)
            except (SealError, SigningError) as exc:
                raise CeremonyRefused(RefusalCode.BAD_CERTIFICATE, f"the organisation's seal cannot sign: {exc}") \
                    from None
            state = await self._record(state, slot.field_name, Signer(slot.signer_key, slot.participant_id), pdf,
                                       KeyCustody.SERVER, None, seal.cert)
            final = await finalize_lta(pdf, self.timestamper, vc)
            completed = await self.store.add_revision(state, final, None)
            if self.on_revision is not None:
                await self.on_revision(completed)
            return completed

    async def _sign_server_side(self, state: VersionState, slot: SignerSlot, key: Any, cert: x509.Certificate,
                                check: IdentityCheck | None, *, chain: list[x509.Certificate] | None = None,
                                vc: ValidationContext | None = None) -> bytes:
        """Sign with a key held here; ``chain`` and ``vc`` default to the platform's."""
        pdf = await self.store.read_pdf(state)
        if vc is None:
            vc = await asyncio.to_thread(self.pki.validation_context)
        stamp = SealStamp(slot.name, MEDIATION_SEAL_CAPTION) if slot.role is SignerRole.ORGANISATION \
            else StampText(slot.name, _stamp_role(slot), signed_at=self.clock())
        evidence = SignatureEvidence(KeyCustody.SERVER, check.reference() if check else None,
                                     printed_identity=tuple(identity_lines(_evidence(check))) if check else ())
        return await sign_with_key(pdf, slot.field_name, key, cert, chain or self.pki.chain, stamp, self.timestamper,
                                   vc, evidence=evidence)
