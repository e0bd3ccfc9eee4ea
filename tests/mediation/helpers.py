"""Building blocks the case tests share: people with accounts, and a case application."""

from __future__ import annotations

from dataclasses import dataclass

from mediation.accounts import Actor, NewAccount, Role
from mediation.cases import Application, PartyDetails
from mediation.services import MediationServices

from .doubles import MemorySms, id_number

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    actor: Actor
    login: str
    id_number: str
    phone: str


async def register_party(services: MediationServices, sms: MemorySms, login: str, serial: int,
                         role: Role = Role.PARTY) -> Person:
    phone = f"1380000{serial:04d}"
    number = id_number(serial)
    await services.accounts.send_code(phone)
    info = await services.accounts.register(
        NewAccount(role, login, login.title(), PASSWORD, phone=phone, id_number=number), sms.last_code(phone))
    return Person(info.as_actor(), login, number, phone)


async def make_staff(services: MediationServices, admin: Actor, role: Role, login: str, *,
                     organisation: str | None = None, court: str | None = None) -> Actor:
    info = await services.accounts.create_staff(admin, NewAccount(role, login, login.title(), PASSWORD,
                                                                  organisation=organisation, court=court))
    return info.as_actor()


def application(applicant: Person, respondent: Person, **overrides: object) -> Application:
    fields: dict[str, object] = dict(
        dispute_type="loan", claims="repay the loan of 12,000 yuan", facts="lent on 2025-01-10, not repaid",
        applicant=PartyDetails(applicant.actor.name, applicant.phone, applicant.id_number, "1 Tianfu Road, Chengdu"),
        respondent=PartyDetails(respondent.actor.name, respondent.phone, respondent.id_number, "2 Jinjiang Road, Chengdu"),
        amount_fen=1_200_000)
    fields.update(overrides)
    return Application(**fields)  # type: ignore[arg-type]


async def case_in_counselling(services: MediationServices, sms: MemorySms) -> tuple[str, Actor, Actor]:
    """A case two registered parties brought to a mediator who accepted it (step 3); the case id,
    the applicant and the respondent."""
    alice = await register_party(services, sms, "alice", 1)
    bob = await register_party(services, sms, "bob", 2)
    admin = (await services.accounts.bootstrap_admin("root", "Root", "correct horse battery")).as_actor()
    mediator = await make_staff(services, admin, Role.MEDIATOR, "med", organisation="Org")
    case = await services.filing.apply(alice.actor, application(alice, bob))
    await services.filing.answer_consent(bob.actor, case.id, True)
    await services.mediator_choice.choose_mediator(alice.actor, case.id, mediator.id)
    await services.mediator_choice.answer_assignment(mediator, case.id, True)
    return case.id, alice.actor, bob.actor
