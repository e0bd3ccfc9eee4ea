"""Password sign-in throttling (per login and per client address, in the database) and the body
limits of JSON endpoints: refused before argon2 runs, alike for unknown logins, lifted by time."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request
from argon2 import PasswordHasher

from mediation.accounts import Channel
from mediation.clock import ManualClock
from mediation.errors import Throttled, Unauthenticated
from mediation.login_throttle import ACCOUNT_RULE, LoginThrottler, ThrottleRule
from mediation.services import MediationServices
from signaling.client_address import client_address

from .api_client import Api
from .doubles import MemorySms
from .helpers import PASSWORD, register_party

WRONG = "not the password"


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per argon2 verification anywhere in the process."""
    calls: list[int] = []
    real = PasswordHasher.verify

    def counted(self: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return calls


async def _attempt(services: MediationServices, login: str, password: str, client: str | None = "198.51.100.7") -> str:
    """The refusal's code, or ``"ok"``."""
    try:
        await services.accounts.login_password(Channel.PARTY, login, password, client)
    except (Unauthenticated, Throttled) as err:
        return err.code
    return "ok"


async def test_thirty_wrong_then_the_right_one_is_refused_without_hashing(
        services: MediationServices, sms: MemorySms, hashes: list[int]) -> None:
    await register_party(services, sms, "alice", 1)
    answers = [await _attempt(services, "alice", WRONG) for _ in range(30)]
    assert answers == ["bad_credentials"] * ACCOUNT_RULE.limit + ["login_throttled"] * (30 - ACCOUNT_RULE.limit)
    assert await _attempt(services, "alice", PASSWORD) == "login_throttled"
    assert len(hashes) == ACCOUNT_RULE.limit  # the throttled 26 cost no argon2


async def test_an_unknown_login_is_throttled_alike(services: MediationServices, sms: MemorySms,
                                                   hashes: list[int]) -> None:
    await register_party(services, sms, "alice", 1)

    async def run(login: str) -> list[tuple[str, Any]]:
        out = []
        for _ in range(8):
            try:
                await services.accounts.login_password(Channel.PARTY, login, WRONG, None)
            except (Unauthenticated, Throttled) as err:
                out.append((err.code, err.message, err.details))
        return out

    assert await run("alice") == await run("nobody")
    assert len(hashes) == 2 * ACCOUNT_RULE.limit


async def test_parallel_guesses_reach_argon2_at_most_limit_times(services: MediationServices, sms: MemorySms,
                                                                 hashes: list[int]) -> None:
    await register_party(services, sms, "alice", 1)
    answers = await asyncio.gather(*(_attempt(services, "alice", WRONG) for _ in range(20)))
    assert sorted(answers) == sorted(["bad_credentials"] * ACCOUNT_RULE.limit
                                     + ["login_throttled"] * (20 - ACCOUNT_RULE.limit))
    assert len(hashes) == ACCOUNT_RULE.limit


async def test_lockout_expires_grows_and_success_resets(services: MediationServices, sms: MemorySms,
                                                        clock: ManualClock) -> None:
    await register_party(services, sms, "alice", 1)

    async def locked_for() -> int:
        with pytest.raises(Throttled) as err:
            await services.accounts.login_password(Channel.PARTY, "alice", PASSWORD, None)
        return int(err.value.details["retry_after"])

    for _ in range(ACCOUNT_RULE.limit):
        await _attempt(services, "alice", WRONG, None)
    first = ACCOUNT_RULE.first_lockout.total_seconds()
    assert await locked_for() == first
    clock.advance(ACCOUNT_RULE.first_lockout - timedelta(seconds=1))
    assert await locked_for() == 1  # the right password, still refused
    clock.advance(timedelta(seconds=1))
    for _ in range(ACCOUNT_RULE.limit):  # the second lockout in a row lasts twice as long
        await _attempt(services, "alice", WRONG, None)
    assert await locked_for() == 2 * first
    clock.advance(2 * ACCOUNT_RULE.first_lockout)
    assert await _attempt(services, "alice", PASSWORD, None) == "ok"
    for _ in range(ACCOUNT_RULE.limit - 1):  # the success forgot the failures and the lockouts
        await _attempt(services, "alice", WRONG, None)
    assert await _attempt(services, "alice", PASSWORD, None) == "ok"
    for _ in range(ACCOUNT_RULE.limit):
        await _attempt(services, "alice", WRONG, None)
    assert await locked_for() == first


async def test_one_address_guessing_many_logins_is_throttled(services: MediationServices, sms: MemorySms,
                                                            clock: ManualClock) -> None:
    await register_party(services, sms, "alice", 1)
    services.accounts.throttler = LoginThrottler(services.db, clock, address_rule=ThrottleRule(limit=3))
    assert [await _attempt(services, f"user{i}", WRONG, "203.0.113.9") for i in range(4)] == \
        ["bad_credentials"] * 3 + ["login_throttled"]
    assert await _attempt(services, "alice", PASSWORD, "203.0.113.9") == "login_throttled"
    assert await _attempt(services, "alice", PASSWORD, "203.0.113.10") == "ok"  # another address
    clock.advance(timedelta(minutes=1))
    assert await _attempt(services, "alice", PASSWORD, "203.0.113.9") == "ok"


async def test_a_second_node_sees_the_lockout(services: MediationServices, sms: MemorySms,
                                              clock: ManualClock) -> None:
    """The counters are rows, not process memory: another throttler over the same database refuses."""
    await register_party(services, sms, "alice", 1)
    for _ in range(ACCOUNT_RULE.limit):
        await _attempt(services, "alice", WRONG, None)
    with pytest.raises(Throttled):
        await LoginThrottler(services.db, clock).reserve("alice", None)


async def test_http_answers_429_with_retry_after_for_known_and_unknown(api: Api) -> None:
    await api.register("alice", 1)
    answers = {}
    for login in ("alice", "nobody"):
        for _ in range(ACCOUNT_RULE.limit):
            await api.call("POST", "/api/auth/login", json={"channel": "party", "login": login, "password": WRONG},
                           expect=401)
        response = await api.client.post("/api/auth/login", json={"channel": "party", "login": login,
                                                                  "password": PASSWORD})
        assert response.status == 429
        answers[login] = (response.headers["Retry-After"], await response.json())
    assert answers["alice"] == answers["nobody"]
    retry_after, body = answers["alice"]
    assert int(retry_after) == ACCOUNT_RULE.first_lockout.total_seconds()
    assert body["error"]["code"] == "login_throttled"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    def request(peer: str, forwarded: str) -> Any:
        req = make_mocked_request("POST", "/api/auth/login", headers={"X-Forwarded-For": forwarded})
        req._transport_peername = (peer, 4711)
        return req

    assert client_address(request("203.0.113.5", "1.2.3.4"), ()) == "203.0.113.5"
    assert client_address(request("203.0.113.5", "1.2.3.4"), ("10.0.0.0/8",)) == "203.0.113.5"
    # The proxy appends the real peer; whatever the client wrote to its left is ignored.
    assert client_address(request("10.0.0.2", "6.6.6.6, 198.51.100.20"), ("10.0.0.0/8",)) == "198.51.100.20"
    assert client_address(request("10.0.0.2", "198.51.100.20, 10.0.0.3"), ("10.0.0.0/8",)) == "198.51.100.20"
    assert client_address(request("10.0.0.2", "garbage"), ("10.0.0.0/8",)) == "10.0.0.2"


# --- request body limits --------------------------------------------------------------------------
async def test_a_megabyte_json_body_to_login_is_413_json_quickly(api: Api) -> None:
    body = b'{"channel": "party", "login": "alice", "password": "' + b"x" * (1024 * 1024) + b'"}'
    started = time.monotonic()
    response = await api.client.post("/api/auth/login", data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "too_large"
    assert time.monotonic() - started < 2

    async def chunked() -> Any:  # no Content-Length: refused once the limit is passed
        for _ in range(32):
            yield b"x" * 8192

    response = await api.client.post("/api/auth/login", data=chunked(), headers={"Content-Type": "application/json"})
    assert response.status == 413 and (await response.json())["error"]["code"] == "too_large"


async def test_an_upload_still_takes_a_big_file(api: Api) -> None:
    bob = await api.register("bob", 2)
    await api.register("lawyer", 5, role="agent")
    document = b"%PDF-1.7 signed POA\n" + b"0" * (600 * 1024)  # far above the JSON limit
    out = await api.call("POST", "/api/accounts/agents?agent=lawyer&name=poa.pdf", bob, data=document,
                         headers={"Content-Type": "application/pdf"}, expect=201)
    assert out["agent_id"]
    over = await api.client.post("/api/accounts/agents?agent=lawyer&name=poa.pdf", data=b"0" * (2 * 1024 * 1024),
                                 headers={"Content-Type": "application/pdf", "Authorization": f"Bearer {bob.token}"})
    assert over.status == 413 and (await over.json())["error"]["code"] == "too_large"  # JSON, not a plain-text 500
