"""Registration with a phone code, login per channel, sessions that expire and end, agents."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mediation.accounts import Channel, NewAccount, Role
from mediation.clock import ManualClock
from mediation.errors import Forbidden, InvalidInput, Unauthenticated
from mediation.services import MediationServices
from mediation.sms import LoggingSmsGateway

from .doubles import MemorySms, id_number
from .helpers import PASSWORD, make_staff, register_party


async def test_register_login_resolve_logout(services: MediationServices, sms: MemorySms, clock: ManualClock) -> None:
    alice = await register_party(services, sms, "alice", 1)
    issued = await services.accounts.login_password(Channel.PARTY, "alice", PASSWORD)
    resolved = await services.accounts.resolve_session(issued.token)
    assert resolved is not None and resolved.account.id == alice.actor.id and resolved.account.role == Role.PARTY
    await services.accounts.logout(issued.token)
    assert await services.accounts.resolve_session(issued.token) is None


async def test_sessions_expire(services: MediationServices, sms: MemorySms, clock: ManualClock) -> None:
    await register_party(services, sms, "alice", 1)
    issued = await services.accounts.login_password(Channel.PARTY, "alice", PASSWORD)
    clock.advance(services.accounts.session_ttl - timedelta(seconds=1))
    assert await services.accounts.resolve_session(issued.token) is not None
    clock.advance(timedelta(seconds=1))
    assert await services.accounts.resolve_session(issued.token) is None


async def test_wrong_password_and_wrong_channel_are_refused_alike(services: MediationServices, sms: MemorySms) -> None:
    await register_party(services, sms, "alice", 1)
    for channel, password in ((Channel.PARTY, "wrong password!"), (Channel.MEDIATOR, PASSWORD),
                              (Channel.COURT, PASSWORD)):
        with pytest.raises(Unauthenticated) as err:
            await services.accounts.login_password(channel, "alice", password)
        assert err.value.code == "bad_credentials"
    with pytest.raises(Unauthenticated):
        await services.accounts.login_password(Channel.PARTY, "nobody", PASSWORD)


async def test_code_login_and_code_rules(services: MediationServices, sms: MemorySms, clock: ManualClock) -> None:
    alice = await register_party(services, sms, "alice", 1)
    clock.advance(timedelta(minutes=2))
    await services.accounts.send_code(alice.phone)
    with pytest.raises(InvalidInput):  # one code per minute per phone
        await services.accounts.send_code(alice.phone)
    good = sms.last_code(alice.phone)
    wrong = f"{(int(good) + 1) % 10**6:06d}"
    with pytest.raises(Unauthenticated):
        await services.accounts.login_code(Channel.PARTY, alice.phone, wrong)
    issued = await services.accounts.login_code(Channel.PARTY, alice.phone, good)
    assert issued.session.account.id == alice.actor.id
    with pytest.raises(Unauthenticated):  # used once only
        await services.accounts.login_code(Channel.PARTY, alice.phone, good)


async def test_code_expires_and_locks_after_attempts(services: MediationServices, sms: MemorySms,
                                                     clock: ManualClock) -> None:
    alice = await register_party(services, sms, "alice", 1)
    clock.advance(timedelta(minutes=2))
    await services.accounts.send_code(alice.phone)
    good = sms.last_code(alice.phone)
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await services.accounts.login_code(Channel.PARTY, alice.phone, "000000" if good != "000000" else "111111")
    with pytest.raises(Unauthenticated):  # locked: even the right code no longer works
        await services.accounts.login_code(Channel.PARTY, alice.phone, good)
    clock.advance(timedelta(minutes=2))
    await services.accounts.send_code(alice.phone)
    code = sms.last_code(alice.phone)
    clock.advance(services.accounts.code_ttl)
    with pytest.raises(Unauthenticated):
        await services.accounts.login_code(Channel.PARTY, alice.phone, code)


async def test_registration_validates_and_changes_nothing_when_refused(services: MediationServices,
                                                                        sms: MemorySms) -> None:
    await services.accounts.send_code("13800000001")
    code = sms.last_code("13800000001")
    bad_id = id_number(1)[:17] + ("0" if id_number(1)[17] != "0" else "1")
    with pytest.raises(InvalidInput) as err:
        await services.accounts.register(NewAccount(Role.PARTY, "alice", "Alice", PASSWORD, phone="13800000001",
                                                    id_number=bad_id), code)
    assert err.value.code == "invalid_id_number"
    with pytest.raises(Forbidden):
        await services.accounts.register(NewAccount(Role.JUDGE, "judge", "J", PASSWORD, phone="13800000001",
                                                    id_number=id_number(1)), code)
    # The code was not consumed by the refused attempts.
    info = await services.accounts.register(NewAccount(Role.PARTY, "alice", "Alice", PASSWORD, phone="13800000001",
                                                       id_number=id_number(1)), code)
    assert info.login == "alice"


async def test_staff_accounts_and_who_may_create_them(services: MediationServices, sms: MemorySms) -> None:
    admin = (await services.accounts.bootstrap_admin("root", "Root", PASSWORD)).as_actor()
    org_admin = await make_staff(services, admin, Role.ORG_ADMIN, "orgadmin", organisation="Jinjiang People's Mediation")
    mediator = await make_staff(services, org_admin, Role.MEDIATOR, "med1", organisation="Jinjiang People's Mediation")
    assert mediator.organisation == "Jinjiang People's Mediation"
    with pytest.raises(Forbidden):
        await make_staff(services, org_admin, Role.MEDIATOR, "med2", organisation="Another Org")
    with pytest.raises(Forbidden):
        await make_staff(services, org_admin, Role.JUDGE, "judge", court="Chengdu Intermediate Court")
    with pytest.raises(InvalidInput):
        await make_staff(services, admin, Role.JUDGE, "judge")
    alice = await register_party(services, sms, "alice", 1)
    with pytest.raises(Forbidden):
        await make_staff(services, alice.actor, Role.MEDIATOR, "med3", organisation="X")


async def test_agent_authorised_by_power_of_attorney(services: MediationServices, sms: MemorySms) -> None:
    alice = await register_party(services, sms, "alice", 1)
    lawyer = await register_party(services, sms, "lawyer", 2, role=Role.AGENT)
    auth = await services.accounts.authorise_agent(alice.actor, "lawyer", b"%PDF-1.7 power of attorney", "poa.pdf",
                                                   "application/pdf")
    assert len(auth.power_of_attorney_sha256) == 64
    assert await services.accounts.represented_parties(lawyer.actor.id) == [alice.actor.id]
    with pytest.raises(Forbidden):
        await services.accounts.authorise_agent(lawyer.actor, "lawyer", b"x", "poa.pdf", "application/pdf")


async def test_logging_gateway_writes_codes_to_a_private_file(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    gateway = LoggingSmsGateway(tmp_path)
    await gateway.send("13800000001", "Accord verification code: 123456")
    assert "123456" in gateway.path.read_text()
    assert gateway.path.stat().st_mode & 0o777 == 0o600
    assert "123456" not in caplog.text
