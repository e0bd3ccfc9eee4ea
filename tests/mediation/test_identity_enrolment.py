"""Enrolment for identity checks: who may enrol, what is refused (nothing stored), the photo
encrypted at rest, and its deletion when the retention period ends or consent is withdrawn."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select

from identity.enrolment import CONSENT_VERSION, ID_TYPES, EnrolmentRequest, EnrolmentService, normalise_id
from mediation.accounts import Actor, Role
from mediation.audit import read_trail
from mediation.clock import ManualClock
from mediation.errors import MediationError
from mediation.id_numbers import validate_id_number
from mediation.identity_models import IdentityEnrolment
from mediation.pii import PiiCipher
from mediation.services import MediationServices

from tests.identity.face_samples import grace_hopper_jpeg

from .doubles import MemorySms, id_number
from .helpers import make_staff
from .identity_helpers import TwoCases, two_cases

RETENTION = dt.timedelta(days=30)


def _plain_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (240, 320), (180, 140, 120)).save(out, "JPEG", quality=85)
    return out.getvalue()


PHOTO = grace_hopper_jpeg()


@pytest.fixture
async def cases(services: MediationServices, sms: MemorySms) -> TwoCases:
    return await two_cases(services, sms)


@pytest.fixture
def enrolment(services: MediationServices, clock: ManualClock) -> EnrolmentService:
    return EnrolmentService(services.db, clock, services.cases, services.cases.cipher, PiiCipher(b"b" * 32), RETENTION)


def _request(cases: TwoCases, **changes: object) -> EnrolmentRequest:
    fields: dict[str, object] = dict(name="Alice", id_type="resident_id", id_number=cases.alice.id_number,
                                     reference_source="id_card", photo=PHOTO, consent=True,
                                     consent_version=CONSENT_VERSION)
    fields.update(changes)
    return EnrolmentRequest(**fields)  # type: ignore[arg-type]


async def _rows(services: MediationServices) -> list[IdentityEnrolment]:
    async with services.db() as s:
        return list((await s.scalars(select(IdentityEnrolment))).all())


async def test_a_party_enrols_with_the_photo_encrypted_and_audited(services: MediationServices, cases: TwoCases,
                                                                  enrolment: EnrolmentService) -> None:
    status = await enrolment.enrol(cases.alice.actor, cases.case_id, _request(cases))
    assert status.id_number != cases.alice.id_number and status.id_number.endswith(cases.alice.id_number[-2:])
    assert status.reference_kept and status.delete_after == status.enrolled_at + RETENTION
    (row,) = await _rows(services)
    assert row.reference_enc is not None and PHOTO[100:140] not in row.reference_enc
    assert cases.alice.id_number.encode() not in row.id_number_enc
    assert (await enrolment.reference(cases.case_id, cases.alice.actor.id)).photo == PHOTO
    trail = await read_trail(services.db, cases.case_id)
    assert trail[-1].action == "identity.enrolled" and trail[-1].payload["consent_version"] == CONSENT_VERSION
    assert (await enrolment.own(cases.alice.actor, cases.case_id)) == status
    # Enrolling again replaces the one row.
    await enrolment.enrol(cases.alice.actor, cases.case_id, _request(cases, reference_source="portrait"))
    assert [r.reference_source for r in await _rows(services)] == ["portrait"]


@pytest.mark.parametrize(("changes", "code"), [
    ({"consent": False}, "consent_required"),
    ({"consent_version": "2020-old"}, "consent_outdated"),
    ({"id_number": "110101199003070000"}, "invalid_id_number"),
    ({"id_number": id_number(77)}, "id_number_mismatch"),
    ({"id_type": "library_card"}, "invalid_id_type"),
    ({"photo": b"\xff\xd8\xff\xe0 not really a jpeg"}, "image_unreadable"),
    ({"photo": b""}, "image_unreadable"),
    ({"photo": b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)}, "image_too_large"),
    ({"photo": _plain_jpeg()}, "no_face"),
    ({"name": "  "}, "invalid_name"),
    ({"reference_source": "selfie"}, "invalid_reference_source"),
])
async def test_bad_input_is_refused_and_nothing_is_stored(services: MediationServices, cases: TwoCases,
                                                          enrolment: EnrolmentService, changes: dict[str, object],
                                                          code: str) -> None:
    before = len(await read_trail(services.db, cases.case_id))
    with pytest.raises(MediationError) as refused:
        await enrolment.enrol(cases.alice.actor, cases.case_id, _request(cases, **changes))
    assert refused.value.code == code
    assert await _rows(services) == []
    assert len(await read_trail(services.db, cases.case_id)) == before


async def test_a_decompression_bomb_is_refused_before_decoding(cases: TwoCases, enrolment: EnrolmentService) -> None:
    out = io.BytesIO()
    Image.new("L", (6000, 6000)).save(out, "PNG")  # a few kB that would decode to 36 Mpx
    assert len(out.getvalue()) < 200_000
    with pytest.raises(MediationError) as refused:
        await enrolment.enrol(cases.alice.actor, cases.case_id, _request(cases, photo=out.getvalue()))
    assert refused.value.code == "image_too_large"


async def test_only_participants_enrol_and_the_mediator_sees_statuses_not_photos(
        services: MediationServices, cases: TwoCases, enrolment: EnrolmentService) -> None:
    stranger = Actor("a_0000000000000000", Role.PARTY, "Stranger", "13999999999")
    with pytest.raises(MediationError) as hidden:
        await enrolment.enrol(stranger, cases.case_id, _request(cases))
    assert hidden.value.code == "case_not_found"
    await enrolment.enrol(cases.bob.actor, cases.case_id, _request(cases, name="Bob", id_number=cases.bob.id_number))
    with pytest.raises(MediationError) as not_mediator:
        await enrolment.of_case(cases.alice.actor, cases.case_id)
    assert not_mediator.value.code == "not_the_mediator"
    admin = (await services.accounts.bootstrap_admin("root", "Root", "correct horse battery")).as_actor()
    mediator = await make_staff(services, admin, Role.MEDIATOR, "med", organisation="Org")
    await services.filing.answer_consent(cases.bob.actor, cases.case_id, True)
    await services.mediator_choice.choose_mediator(cases.alice.actor, cases.case_id, mediator.id)
    await services.mediator_choice.answer_assignment(mediator, cases.case_id, True)
    (seen,) = await enrolment.of_case(mediator, cases.case_id)
    assert seen.account_id == cases.bob.actor.id and seen.id_number != cases.bob.id_number
    assert not hasattr(seen, "photo")


async def test_the_sweep_deletes_references_past_retention_and_audits_it(
        services: MediationServices, clock: ManualClock, cases: TwoCases, enrolment: EnrolmentService) -> None:
    await enrolment.enrol(cases.alice.actor, cases.case_id, _request(cases))
    clock.advance(RETENTION - dt.timedelta(minutes=1))
    assert await enrolment.sweep() == 0
    clock.advance(dt.timedelta(minutes=2))
    assert await enrolment.sweep() == 1
    (row,) = await _rows(services)
    assert row.reference_enc is None and row.reference_deleted_at == clock.now()
    trail = await read_trail(services.db, cases.case_id)
    assert trail[-1].action == "identity.reference_deleted" and trail[-1].payload["why"] == "retention"
    with pytest.raises(MediationError) as gone:
        await enrolment.reference(cases.case_id, cases.alice.actor.id)
    assert gone.value.code == "not_enrolled"
    assert await enrolment.sweep() == 0
    status = await enrolment.own(cases.alice.actor, cases.case_id)
    assert status is not None and not status.reference_kept


async def test_withdrawing_consent_deletes_the_photo_now(services: MediationServices, cases: TwoCases,
                                                        enrolment: EnrolmentService) -> None:
    await enrolment.enrol(cases.alice.actor, cases.case_id, _request(cases))
    await enrolment.withdraw(cases.alice.actor, cases.case_id)
    async with services.db() as s:
        assert await s.scalar(select(func.count()).where(IdentityEnrolment.reference_enc.is_not(None))) == 0
    trail = await read_trail(services.db, cases.case_id)
    assert trail[-1].action == "identity.reference_deleted" and trail[-1].payload["why"] == "withdrawn"


@settings(max_examples=300, deadline=None)
@given(id_type=st.sampled_from(["resident_id", "passport", "taiwan_permit", "library_card", ""]),
       raw=st.text(max_size=30))
def test_any_id_number_is_normalised_or_refused_with_a_precise_code(id_type: str, raw: str) -> None:
    try:
        number = normalise_id(id_type, raw)
    except MediationError as refused:
        assert refused.code in ("invalid_id_number", "invalid_id_type")
        assert (refused.code == "invalid_id_type") == (id_type not in ID_TYPES)
        return
    assert number == number.strip().upper() and 5 <= len(number) <= 20
    if id_type == "resident_id":
        assert validate_id_number(number) == number
