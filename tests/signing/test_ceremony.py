"""The signing ceremony's rules, with a real PKI, TSA and pyHanko; browsers played by Python keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature

from agreement_db import LI, WANG, ZHANG, ZHAO, bound_agreement, create_agreement, open_store
from agreement_samples import sample_agreement
from identity.gate import IdentityCheck, TestIdentityGate
from pades_samples import ID_DIGEST_KEY
from mediation.agreement_store import SqlAgreementStore
from signing.agreement_versions import VersionState, VersionStatus
from signing.ceremony import CeremonyRefused, RefusalCode, Signer, SigningCeremony, gate_key
from signing.development import browser_sign, sign_as_browser, spki_of
from signing.pades import MEDIATION_SEAL_CAPTION, KeyCustody, SignatureEvidence, signature_timestamp_time
from signing.pki import PlatformPKI, id_number_digest
from signing.tsa import InProcessTimeStamper, TimeStampAuthority
from signing.verification import async_verify_agreement

FIELDS = ["sig_01_party_zhang", "sig_02_party_li", "sig_03_agent_li", "sig_04_mediator", "sig_05_organisation"]
SIGNERS = {"sig_01_party_zhang": ZHANG, "sig_02_party_li": LI, "sig_03_agent_li": WANG, "sig_04_mediator": ZHAO}


class Clock:
    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass
class World:
    store: SqlAgreementStore
    pki: PlatformPKI
    gate: TestIdentityGate
    ceremony: SigningCeremony
    clock: Clock
    agreement_id: str
    effective: list[VersionState]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PlatformPKI:
    return PlatformPKI.init(tmp_path_factory.mktemp("pki"), "test-passphrase", "http://accord.test",
                            "Accord 测试平台")


@pytest.fixture
async def world(tmp_path: Path, pki: PlatformPKI) -> AsyncIterator[World]:
    clock = Clock()
    engine, store = await open_store(tmp_path)
    gate = TestIdentityGate(clock=clock)
    effective: list[VersionState] = []

    async def on_effective(state: VersionState) -> None:
        effective.append(state)

    ceremony = SigningCeremony(store, pki, gate, InProcessTimeStamper(TimeStampAuthority(pki)), clock=clock,
                               id_digest_key=ID_DIGEST_KEY, on_effective=on_effective)
    yield World(store, pki, gate, ceremony, clock, await create_agreement(store), effective)
    await engine.dispose()


async def _pass(w: World, signer: Signer) -> None:
    await w.gate.pass_now(gate_key(w.agreement_id, signer.signer_key))


async def _enroll(w: World, field: str, key: ec.EllipticCurvePrivateKey, version: int = 1) -> None:
    signer = SIGNERS[field]
    challenge = await w.ceremony.begin(w.agreement_id, version, signer, field)
    await w.ceremony.enroll(w.agreement_id, version, signer, field, spki_of(key),
                            browser_sign(key, challenge.nonce + spki_of(key)))


async def _sign(w: World, field: str, version: int = 1) -> VersionState:
    """What the browser does (played by :func:`signing.development.sign_as_browser`): enroll,
    prepare, check the digest, sign the signed attributes."""
    signer = SIGNERS[field]
    await _pass(w, signer)
    return await sign_as_browser(w.ceremony, w.agreement_id, version, signer, field)


async def _refused(code: RefusalCode, awaitable) -> CeremonyRefused:  # type: ignore[no-untyped-def]
    with pytest.raises(CeremonyRefused) as info:
        await awaitable
    assert info.value.code is code, info.value.message
    return info.value


async def test_full_ceremony_in_order_gives_a_valid_b_lta_agreement(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    for field in FIELDS[:4]:
        state = await _sign(w, field)
        record = state.signatures[-1]
        assert record.field_name == field and record.participant_id == SIGNERS[field].participant_id
        assert record.key_custody == "browser"
        assert record.identity is not None and record.identity.method == "test"
        # The time the TSA vouches for, read back from the stored PDF's own token.
        assert record.timestamp_at == signature_timestamp_time(await w.store.read_pdf(state), field)
        if field == FIELDS[2]:  # the agent of the last party: every party-side field is signed
            assert [e.version for e in w.effective] == [1]
            assert w.effective[0].effective_at == state.effective_at == record.timestamp_at
    assert len(w.effective) == 1  # the mediator's signature raises no second event
    final = await w.ceremony.seal(w.agreement_id, 1)
    assert final.status is VersionStatus.COMPLETED
    assert final.signatures[-1].key_custody == "server" and final.signatures[-1].identity is None
    pdf = await w.store.read_pdf(final)
    reader = PdfFileReader(io.BytesIO(pdf))
    signed = [name for name, value, _ in enumerate_sig_fields(reader, filled_status=True)]
    assert signed[:5] == FIELDS and len(signed) == 6  # plus the document timestamp's own field
    assert len(reader.embedded_timestamp_signatures) == 1  # the B-LTA document timestamp
    vc = w.pki.validation_context()
    for embedded in reader.embedded_regular_signatures:
        status = await async_validate_pdf_signature(embedded, vc)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    # Each revision file is on disk, the last one is the final PDF.
    assert final.revision == 6
    assert (await w.store.read_pdf(final, 0))[:5] == b"%PDF-"
    # Every certificate names its own field of this locked text; the seal is the organisation's.
    report = await async_verify_agreement(pdf, [w.pki.root_cert])
    assert report.valid, report.to_dict()
    assert report.agreement_id == w.agreement_id and [s["field_name"] for s in report.signer_slots] == FIELDS
    for signature, field in zip(report.signatures[:4], FIELDS):
        assert signature.binding == {"agreement_id": w.agreement_id, "version": 1,
                                     "version_sha256": final.locked_sha256, "field_name": field,
                                     "role": signature.signer.role, "side": signature.signer.side,
                                     "participant_id": SIGNERS[field].participant_id,
                                     "case_number": final.data.case_number}
    organisation = final.data.organisation
    assert report.signatures[4].binding == {"kind": "organisation", "holder_id": None, "name": organisation.name,
                                            "credit_code": organisation.credit_code}
    assert report.signatures[4].signer.organisation == organisation.name != w.pki.org_name
    # The seal field shows the organisation's round seal, not a person's text stamp (its drawing:
    # test_seal_image.py).
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert MEDIATION_SEAL_CAPTION in text and f"签署人：{organisation.name}" not in text


async def test_refuses_another_signers_field(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    await _pass(w, ZHANG)
    await _refused(RefusalCode.NOT_YOUR_FIELD, w.ceremony.turn(w.agreement_id, 1, ZHANG, "sig_02_party_li"))
    with pytest.raises(CeremonyRefused) as info:
        await w.ceremony.begin(w.agreement_id, 1, ZHANG, "sig_04_mediator")
    assert info.value.code is RefusalCode.NOT_YOUR_FIELD
    await _refused(RefusalCode.NOT_YOUR_FIELD, w.ceremony.prepare(w.agreement_id, 1, ZHANG, "sig_02_party_li"))


async def test_a_participant_cannot_get_another_participants_certificate(world: World) -> None:
    """The slot names its participant: another account, or a link bound to someone else, is refused
    before any certificate is issued — even with a passed identity check for that slot."""
    w = world
    await w.store.lock(w.agreement_id, 1)
    await _pass(w, ZHANG)
    key = ec.generate_private_key(ec.SECP256R1())
    for intruder in (Signer("party:zhang", LI.participant_id), Signer("party:zhang", None),
                     Signer("party:zhang", "a_stranger")):
        with pytest.raises(CeremonyRefused) as info:
            await w.ceremony.begin(w.agreement_id, 1, intruder, "sig_01_party_zhang")
        assert info.value.code is RefusalCode.NOT_YOUR_FIELD
        await _refused(RefusalCode.NOT_YOUR_FIELD, w.ceremony.enroll(
            w.agreement_id, 1, intruder, "sig_01_party_zhang", spki_of(key), bytes(64)))
    # 张三's own challenge does not let 李四 enroll on 张三's field either.
    challenge = await w.ceremony.begin(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    await _refused(RefusalCode.NOT_YOUR_FIELD, w.ceremony.enroll(
        w.agreement_id, 1, Signer("party:zhang", LI.participant_id), "sig_01_party_zhang", spki_of(key),
        browser_sign(key, challenge.nonce + spki_of(key))))


async def test_refuses_out_of_order_but_lets_a_later_signer_enroll_early(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    key = ec.generate_private_key(ec.SECP256R1())
    await _pass(w, LI)
    await _enroll(w, "sig_02_party_li", key)
    error = await _refused(RefusalCode.OUT_OF_ORDER, w.ceremony.prepare(w.agreement_id, 1, LI,
                                                                        "sig_02_party_li"))
    assert "张三" in error.message
    await _refused(RefusalCode.OUT_OF_ORDER, w.ceremony.seal(w.agreement_id, 1))
    await _sign(w, "sig_01_party_zhang")
    prep = await w.ceremony.prepare(w.agreement_id, 1, LI, "sig_02_party_li")
    state = await w.ceremony.complete(w.agreement_id, 1, LI, "sig_02_party_li",
                                      browser_sign(key, prep.signed_attrs_der))
    assert [s.field_name for s in state.signatures] == FIELDS[:2]


async def test_refuses_without_a_recent_identity_check(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    key = ec.generate_private_key(ec.SECP256R1())
    challenge = await w.ceremony.begin(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    await _refused(RefusalCode.IDENTITY_CHECK_REQUIRED, w.ceremony.enroll(
        w.agreement_id, 1, ZHANG, "sig_01_party_zhang", spki_of(key),
        browser_sign(key, challenge.nonce + spki_of(key))))
    # A check for the same person in another agreement does not count.
    await w.gate.pass_now(gate_key("ag_ffffffffffffffff", ZHANG.signer_key))
    await _refused(RefusalCode.IDENTITY_CHECK_REQUIRED, w.ceremony.turn(w.agreement_id, 1, ZHANG,
                                                                        "sig_01_party_zhang"))
    await _pass(w, ZHANG)
    await _enroll(w, "sig_01_party_zhang", key)
    w.clock.offset = dt.timedelta(minutes=6)  # the check is older than the 5-minute window
    await _refused(RefusalCode.IDENTITY_CHECK_REQUIRED, w.ceremony.prepare(w.agreement_id, 1, ZHANG,
                                                                           "sig_01_party_zhang"))


async def test_refuses_an_unlocked_draft(world: World) -> None:
    w = world
    await _pass(w, ZHANG)
    await _refused(RefusalCode.NOT_LOCKED, w.ceremony.turn(w.agreement_id, 1, ZHANG, "sig_01_party_zhang"))
    with pytest.raises(CeremonyRefused) as info:
        await w.ceremony.begin(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    assert info.value.code is RefusalCode.NOT_LOCKED


async def test_edit_after_lock_outdates_the_version_and_its_signatures(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    await _sign(w, "sig_01_party_zhang")
    key = ec.generate_private_key(ec.SECP256R1())
    await _pass(w, LI)
    await _enroll(w, "sig_02_party_li", key)
    prep = await w.ceremony.prepare(w.agreement_id, 1, LI, "sig_02_party_li")
    await w.store.edit(w.agreement_id, bound_agreement(place="上海市"), edited_by=None)
    await _refused(RefusalCode.VERSION_OUTDATED, w.ceremony.complete(
        w.agreement_id, 1, LI, "sig_02_party_li", browser_sign(key, prep.signed_attrs_der)))
    await _refused(RefusalCode.NOT_LOCKED, w.ceremony.turn(w.agreement_id, 2, ZHANG, "sig_01_party_zhang"))
    await w.store.lock(w.agreement_id, 2)
    await _refused(RefusalCode.VERSION_OUTDATED, w.ceremony.turn(w.agreement_id, 1, ZHANG,
                                                                 "sig_01_party_zhang"))
    assert (await w.store.version(w.agreement_id, 1)).status is VersionStatus.SUPERSEDED
    state = await _sign(w, "sig_01_party_zhang", version=2)  # v2 starts with no signatures
    assert state.version == 2 and len(state.signatures) == 1


async def test_refuses_signing_twice(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    await _sign(w, "sig_01_party_zhang")
    await _refused(RefusalCode.ALREADY_SIGNED, w.ceremony.turn(w.agreement_id, 1, ZHANG,
                                                               "sig_01_party_zhang"))


async def test_a_signature_by_another_key_is_refused_and_nothing_is_stored(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    key = ec.generate_private_key(ec.SECP256R1())
    await _pass(w, ZHANG)
    await _enroll(w, "sig_01_party_zhang", key)
    prep = await w.ceremony.prepare(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    intruder = ec.generate_private_key(ec.SECP256R1())
    await _refused(RefusalCode.BAD_SIGNATURE, w.ceremony.complete(
        w.agreement_id, 1, ZHANG, "sig_01_party_zhang", browser_sign(intruder, prep.signed_attrs_der)))
    await _refused(RefusalCode.BAD_SIGNATURE, w.ceremony.complete(
        w.agreement_id, 1, ZHANG, "sig_01_party_zhang", b"\x00" * 10))
    assert (await w.store.current(w.agreement_id)).signatures == []
    # The preparation survives a bad attempt: the right key can still complete.
    state = await w.ceremony.complete(w.agreement_id, 1, ZHANG, "sig_01_party_zhang",
                                      browser_sign(key, prep.signed_attrs_der))
    assert len(state.signatures) == 1


async def test_preparation_expires_when_the_browser_never_returns(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    key = ec.generate_private_key(ec.SECP256R1())
    await _pass(w, ZHANG)
    await _enroll(w, "sig_01_party_zhang", key)
    prep = await w.ceremony.prepare(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    w.clock.offset = dt.timedelta(seconds=121)
    await _refused(RefusalCode.PREPARATION_EXPIRED, w.ceremony.complete(
        w.agreement_id, 1, ZHANG, "sig_01_party_zhang", browser_sign(key, prep.signed_attrs_der)))
    await _refused(RefusalCode.NOT_PREPARED, w.ceremony.complete(
        w.agreement_id, 1, ZHANG, "sig_01_party_zhang", browser_sign(key, prep.signed_attrs_der)))


async def test_proof_of_possession_is_required(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    await _pass(w, ZHANG)
    key, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    await _refused(RefusalCode.NO_CHALLENGE, w.ceremony.enroll(w.agreement_id, 1, ZHANG,
                                                               "sig_01_party_zhang", spki_of(key), bytes(64)))
    challenge = await w.ceremony.begin(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    await _refused(RefusalCode.POSSESSION_FAILED, w.ceremony.enroll(
        w.agreement_id, 1, ZHANG, "sig_01_party_zhang", spki_of(key),
        browser_sign(other, challenge.nonce + spki_of(key))))
    # The challenge is single-use.
    await _refused(RefusalCode.NO_CHALLENGE, w.ceremony.enroll(
        w.agreement_id, 1, ZHANG, "sig_01_party_zhang", spki_of(key),
        browser_sign(key, challenge.nonce + spki_of(key))))
    await _refused(RefusalCode.NOT_ENROLLED, w.ceremony.prepare(w.agreement_id, 1, ZHANG,
                                                                "sig_01_party_zhang"))


async def test_server_held_key_for_a_person_is_off_by_default_and_marked_when_on(world: World) -> None:
    w = world
    await w.store.lock(w.agreement_id, 1)
    await _pass(w, ZHANG)
    await _refused(RefusalCode.SERVER_CUSTODY_DISABLED,
                   w.ceremony.sign_with_server_key(w.agreement_id, 1, ZHANG, "sig_01_party_zhang"))
    w.ceremony.allow_server_custody_for_people = True
    state = await w.ceremony.sign_with_server_key(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    assert state.signatures[0].key_custody == "server"
    assert state.signatures[0].identity is not None


async def test_signature_carries_china_time_stamp_evidence_and_keyed_id_digest(world: World, tmp_path: Path) -> None:
    """What a court sees in the PDF alone: the stamp in China time, the key custody and the
    identity check in the signed /Reason, and an ID-number digest only the platform can recompute."""
    w = world
    await w.store.lock(w.agreement_id, 1)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    state = await _sign(w, "sig_01_party_zhang")
    after = dt.datetime.now(dt.UTC)
    pdf = await w.store.read_pdf(state)
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"时间：(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \(UTC\+8\)", text)
    assert match, text
    printed = dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    assert before <= printed <= after
    embedded = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[0]
    evidence = SignatureEvidence.parse(embedded.sig_object["/Reason"])
    check = state.signatures[0].identity
    assert evidence is not None and evidence.key_custody is KeyCustody.BROWSER
    assert evidence.identity_check is not None and evidence.identity_check.startswith("test ")
    assert check is not None and evidence.identity_check == IdentityCheck(
        check.signer_key, check.method, check.checked_at, check.score, check.frames_sha256).reference()
    serial = embedded.signer_cert.subject.native["serial_number"]
    id_number = sample_agreement().parties[0].id_number
    assert serial == id_number_digest(id_number, ID_DIGEST_KEY)
    assert serial != hashlib.sha256(id_number.encode()).hexdigest()
    assert serial != id_number_digest(id_number, b"another-platform-secret-32-bytes")


async def test_a_revoked_event_certificate_is_refused_at_prepare(world: World) -> None:
    """prepare checks the certificate against the validation context before fixing a revision."""
    w = world
    await w.store.lock(w.agreement_id, 1)
    key = ec.generate_private_key(ec.SECP256R1())
    await _pass(w, ZHANG)
    challenge = await w.ceremony.begin(w.agreement_id, 1, ZHANG, "sig_01_party_zhang")
    enrollment = await w.ceremony.enroll(w.agreement_id, 1, ZHANG, "sig_01_party_zhang", spki_of(key),
                                         browser_sign(key, challenge.nonce + spki_of(key)))
    w.pki.revoke(enrollment.certificate.serial_number, "keyCompromise")
    error = await _refused(RefusalCode.BAD_CERTIFICATE, w.ceremony.prepare(w.agreement_id, 1, ZHANG,
                                                                           "sig_01_party_zhang"))
    assert "does not validate" in error.message
    assert (await w.store.current(w.agreement_id)).revision == 0  # nothing was written
