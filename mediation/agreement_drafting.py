"""The agreement drafted from its case, and the rule that keeps the case's identities in it.

:func:`draft_from_case` pre-fills everything the case already knows: the parties (names, sides,
ID numbers, addresses, phones), each party's agent with a power of attorney on file, the
mediator, the organisation from the directory, the dispute type, the facts and claims, and the
amount claimed as a first monetary term. The mediator then edits the terms.

ID numbers never travel back from the browser: :func:`masked` shows them as ``510***********12``
and :func:`keep_case_identities` puts the stored values back into what the editor sends, refusing
any attempt to change who a case participant is. Only the mediator's own ID number, when their
account has none, is typed in the editor (it is needed for their signing certificate).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signing.agreement import (Agent, AgreementData, DisputeType, IdType, Mediator, MonetaryObligation, Organisation,
                               Party, Performance, Side)

from .directory_models import Organisation as DirectoryOrganisation
from .models import Account, AgentLink, Case, CaseParty
from .pii import PiiCipher, mask_id_number

CHINA = ZoneInfo("Asia/Shanghai")
#: The first due date the draft proposes for the amount claimed; the mediator sets the agreed one.
DRAFT_DUE = timedelta(days=30)
MAX_FACTS = 5000


@dataclass(frozen=True)
class Draft:
    data: AgreementData
    organisation_id: str | None


async def _agent_of(s: AsyncSession, cipher: PiiCipher, party_account: str | None) -> Agent | None:
    """The party's agent: the newest power of attorney still in force, if the agent's account
    carries an ID number (agents register with one)."""
    if party_account is None:
        return None
    agent = await s.scalar(select(Account).join(AgentLink, AgentLink.agent_id == Account.id)
                           .where(AgentLink.party_id == party_account, AgentLink.revoked_at.is_(None),
                                  Account.disabled_at.is_(None))
                           .order_by(AgentLink.created_at.desc(), AgentLink.id.desc()).limit(1))
    if agent is None or agent.id_number_enc is None or agent.phone is None:
        return None
    return Agent(name=agent.display_name, id_number=cipher.decrypt(agent.id_number_enc, context="account.id_number"),
                 contact=agent.phone, participant_id=agent.id)


def _facts(case: Case) -> str:
    with_claims = f"{case.facts}\n申请人的请求：{case.claims}"
    return with_claims if len(with_claims) <= MAX_FACTS else case.facts


async def draft_from_case(s: AsyncSession, cipher: PiiCipher, case: Case, parties: dict[str, CaseParty],
                          now: datetime) -> Draft:
    """The first draft of the case's agreement (see the module docstring)."""
    drafted: list[Party] = []
    for side in (Side.APPLICANT, Side.RESPONDENT):
        p = parties[side.value]
        # Both parties consented before a mediator was chosen: a number unknown at filing came from the account then.
        assert p.id_number_enc is not None
        company = p.kind == "company"
        drafted.append(Party(key=side.value, side=side, name=p.name,
                             id_type=IdType.CREDIT_CODE if company else IdType.RESIDENT_ID,
                             id_number=cipher.decrypt(p.id_number_enc, context="party.id_number"),
                             legal_person=company, representative=p.representative if company else None,
                             address=p.address, contact=p.phone, participant_id=p.account_id,
                             agent=await _agent_of(s, cipher, p.account_id)))
    mediator_row = await s.get(Account, case.mediator_id) if case.mediator_id else None
    assert mediator_row is not None  # a case reaches the result step only with its mediator
    mediator = Mediator(name=mediator_row.display_name, participant_id=mediator_row.id,
                        id_number=cipher.decrypt(mediator_row.id_number_enc, context="account.id_number")
                        if mediator_row.id_number_enc else None)
    org_name = case.organisation or mediator_row.organisation or "（调解组织）"
    directory = await s.scalar(select(DirectoryOrganisation).where(DirectoryOrganisation.name == org_name))
    organisation = Organisation(name=org_name, address=directory.address if directory else None,
                                credit_code=directory.credit_code if directory else None,
                                organisation_id=directory.id if directory else None)
    today = now.astimezone(CHINA).date()
    monetary, performance = [], []
    if case.amount_fen:
        monetary.append(MonetaryObligation(payer=Side.RESPONDENT.value, payee=Side.APPLICANT.value,
                                           amount=Decimal(case.amount_fen) / 100, due_date=today + DRAFT_DUE))
    else:
        performance.append(Performance(obligor=Side.RESPONDENT.value, description=case.claims[:2000]))
    try:
        dispute_type = DisputeType(case.dispute_type)
    except ValueError:
        dispute_type = DisputeType.OTHER
    data = AgreementData(case_number=case.case_number or case.id, dispute_type=dispute_type, parties=drafted,
                         mediator=mediator, organisation=organisation, facts=_facts(case), monetary=monetary,
                         performance=performance, date=today, place=f"{org_name}（在线调解）"[:200])
    return Draft(data, organisation.organisation_id)


# --- identities stay the case's ----------------------------------------------------------------

#: The fields that say who a bound person is; the editor may not change them.
_IDENTITY = ("name", "id_type", "participant_id")


def masked(data: AgreementData) -> dict[str, Any]:
    """The agreement as the editor sees it: ID numbers of case participants masked."""
    out = data.model_dump(mode="json")
    for party in out["parties"]:
        for person in (party, party.get("agent")):
            if person and person.get("participant_id") and person.get("id_number"):
                person["id_number"] = mask_id_number(person["id_number"])
    mediator = out["mediator"]
    if mediator.get("participant_id") and mediator.get("id_number"):
        mediator["id_number"] = mask_id_number(mediator["id_number"])
    return out


class IdentityChanged(ValueError):
    """The editor tried to change who a case participant is: ``problems`` as (field path, text)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {p}" for f, p in problems))
        self.problems = problems


def _keep(stored: dict[str, Any], incoming: dict[str, Any], path: str, problems: list[tuple[str, str]],
          *, id_locked: bool) -> None:
    """Put the stored identity into ``incoming`` (in place), noting every attempt to change it."""
    for name in _IDENTITY:
        given = incoming.get(name)
        if given not in (None, stored.get(name)):
            problems.append((f"{path}.{name}", "comes from the case and cannot be changed here"))
        incoming[name] = stored.get(name)
    if id_locked:
        given = incoming.get("id_number")
        if given not in (None, "", stored["id_number"], mask_id_number(stored["id_number"])):
            problems.append((f"{path}.id_number", "the ID number comes from the case and cannot be changed here"))
        incoming["id_number"] = stored["id_number"]


def _unbound(incoming: dict[str, Any] | None, path: str, problems: list[tuple[str, str]]) -> None:
    if incoming and incoming.get("participant_id") is not None:
        problems.append((f"{path}.participant_id", "only the case binds a person to an account"))


def keep_case_identities(stored: AgreementData, incoming: dict[str, Any]) -> dict[str, Any]:
    """``incoming`` (the editor's JSON) with every case participant's identity taken from ``stored``.

    Masked or absent ID numbers are filled in; a different name, ID number or account for a
    participant, or a case party left out, raises :class:`IdentityChanged`. People the case does
    not know (an extra party, an agent without an account) are typed in full as before."""
    data = copy.deepcopy(incoming)
    problems: list[tuple[str, str]] = []
    before = stored.model_dump(mode="json")
    bound = {p["key"]: p for p in before["parties"] if p.get("participant_id")}
    parties = data.get("parties") if isinstance(data.get("parties"), list) else []
    seen = set()
    for i, party in enumerate(parties):
        if not isinstance(party, dict):
            continue
        old = bound.get(party.get("key"))
        if old is None:
            _unbound(party, f"data.parties.{i}", problems)
            _unbound(party.get("agent"), f"data.parties.{i}.agent", problems)
            continue
        seen.add(old["key"])
        _keep(old, party, f"data.parties.{i}", problems, id_locked=True)
        party["side"] = old["side"]
        agent, old_agent = party.get("agent"), old.get("agent")
        if isinstance(agent, dict) and old_agent and old_agent.get("participant_id"):
            _keep(old_agent, agent, f"data.parties.{i}.agent", problems, id_locked=True)
        elif isinstance(agent, dict):
            _unbound(agent, f"data.parties.{i}.agent", problems)
    for key in bound.keys() - seen:
        problems.append(("data.parties", f"the case party {bound[key]['name']} ({key}) must stay in the agreement"))
    mediator, old_mediator = data.get("mediator"), before["mediator"]
    if isinstance(mediator, dict) and old_mediator.get("participant_id"):
        _keep(old_mediator, mediator, "data.mediator", problems, id_locked=old_mediator.get("id_number") is not None)
    elif isinstance(mediator, dict):
        _unbound(mediator, "data.mediator", problems)
    organisation, old_org = data.get("organisation"), before["organisation"]
    if isinstance(organisation, dict) and old_org.get("organisation_id"):
        for name in ("name", "organisation_id"):
            if organisation.get(name) not in (None, old_org[name]):
                problems.append((f"data.organisation.{name}", "the organisation is the case's"))
            organisation[name] = old_org[name]
    if problems:
        raise IdentityChanged(problems)
    return data
