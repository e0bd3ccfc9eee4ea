"""Two cases with the same two parties, for the identity tests (enrolment and the gate)."""

from __future__ import annotations

from dataclasses import dataclass

from mediation.services import MediationServices

from .doubles import MemorySms
from .helpers import Person, application, register_party


@dataclass(frozen=True)
class TwoCases:
    case_id: str
    other_case_id: str
    alice: Person
    bob: Person


async def two_cases(services: MediationServices, sms: MemorySms) -> TwoCases:
    alice = await register_party(services, sms, "alice", 1)
    bob = await register_party(services, sms, "bob", 2)
    first = await services.filing.apply(alice.actor, application(alice, bob))
    second = await services.filing.apply(alice.actor, application(alice, bob, claims="another claim"))
    return TwoCases(first.id, second.id, alice, bob)
