"""The webhook outbound policy (SSRF). No test here sends a packet off loopback: the policy is
checked as a function over the addresses of the attack, names resolve through a fake resolver,
and deliveries only go to listeners on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from mediation.outbound import REFUSED_BY_POLICY, OutboundPolicy, OutboundRefused
from mediation.services import MediationServices
from mediation.webhooks import NO_ANSWER, SUBSCRIPTION_DELETED, RetryPolicy
from signaling.config import load_settings

from .doubles import MemorySms
from .test_webhooks import LOOPBACK, Receiver, _delivery, _open_case, _parties, _subscribe, receiver, serve_hooks

__all__ = ["receiver"]  # the fixture, shared with the webhook tests

PUBLIC = "93.184.215.14"


class FakeResolver(AbstractResolver):
    """DNS without the network: each name answers the next entry of its list (the last one sticks)."""

    def __init__(self, answers: dict[str, list[list[str]]]):
        self.answers = answers
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(socket.EAI_NONAME, "no such name")
        queue = self.answers[host]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST) for a in addresses]

    async def close(self) -> None:
        pass


# --- the policy as a function ---------------------------------------------------------------
ATTACKS = [
    "https://169.254.169.254/latest/meta-data/", "http://169.254.169.254/", "https://[::1]/",
    "http://0.0.0.0:6379/", "https://0.0.0.0/", "https://10.0.0.1/", "https://localhost/", "https://LOCALHOST./",
    "https://api.localhost/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:a9fe:a9fe]/", "https://100.64.0.1/",
    "https://100.100.100.200/", "https://127.0.0.1/", "https://127.8.9.10/", "https://172.16.0.1/",
    "https://172.31.255.255/", "https://192.168.1.1/", "https://[fe80::1]/", "https://[fd00:ec2::254]/",
    "https://[fc00::1]/", "https://224.0.0.1/", "https://[ff02::1]/", "https://255.255.255.255/", "https://[::]/",
    "https://[::127.0.0.1]/", "https://[2002:7f00:1::]/", "https://[64:ff9b::a9fe:a9fe]/",
    "https://metadata.google.internal/", "https://metadata/",
]


@pytest.mark.parametrize("url", ATTACKS)
@pytest.mark.parametrize("allow_http", [False, True])
def test_internal_destinations_are_refused(url: str, allow_http: bool) -> None:
    with pytest.raises(OutboundRefused) as refused:
        OutboundPolicy(allow_http=allow_http).check_url(url)
    assert (refused.value.code, refused.value.message) == ("url_not_allowed", REFUSED_BY_POLICY)


def test_https_to_public_addresses_on_standard_ports_only() -> None:
    strict = OutboundPolicy()
    assert strict.check_url(f"https://{PUBLIC}/hook") == URL(f"https://{PUBLIC}/hook")
    assert strict.check_url("https://hooks.example.org/x").host == "hooks.example.org"
    assert strict.check_url("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/").port == 443
    for url in (f"http://{PUBLIC}/hook", f"https://{PUBLIC}:8443/hook", "https://hooks.example.org:6379/",
                f"ftp://{PUBLIC}/"):
        with pytest.raises(OutboundRefused):
            strict.check_url(url)
    assert OutboundPolicy(allow_http=True).check_url(f"http://{PUBLIC}/hook").port == 80


def test_the_allow_list_admits_internal_receivers_and_their_ports() -> None:
    policy = OutboundPolicy(allowed=("10.1.0.0/16", "hooks.internal", "::1"))
    assert policy.check_url("https://10.1.2.3:9443/hook").port == 9443
    assert policy.check_url("https://hooks.internal:8443/").port == 8443
    assert policy.check_url("https://[::1]:8443/").port == 8443
    for url in ("https://10.2.0.1/", "https://127.0.0.1/", "https://other.internal:8443/"):
        with pytest.raises(OutboundRefused):
            policy.check_url(url)
    policy.check_addresses("hooks.internal", ["10.9.9.9"])  # a listed name is trusted whatever it resolves to
    policy.check_addresses("x.example", ["10.1.0.7"])
    with pytest.raises(OutboundRefused):
        policy.check_addresses("x.example", ["10.2.0.7"])


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "", "bad/host", "a..b"])
def test_a_bad_allow_list_entry_stops_start_up(entry: str) -> None:
    with pytest.raises(ValueError):
        OutboundPolicy(allowed=(entry,))


def test_settings_read_the_allow_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "accord.toml"
    config.write_text('[server]\nwebhook_allow_http = true\nwebhook_allowed_hosts = ["10.0.0.0/8", "hooks.lan"]\n')
    settings = load_settings(config)
    assert (settings.webhook_allow_http, settings.webhook_allowed_hosts) == (True, ("10.0.0.0/8", "hooks.lan"))
    monkeypatch.setenv("ACCORD_WEBHOOK_ALLOWED_HOSTS", "a.lan, 127.0.0.1")
    assert load_settings(config).webhook_allowed_hosts == ("a.lan", "127.0.0.1")
    monkeypatch.delenv("ACCORD_WEBHOOK_ALLOWED_HOSTS")
    assert load_settings(config, webhook_allowed_hosts="").webhook_allowed_hosts == ()
    config.write_text('[server]\nwebhook_allowed_hosts = ["10.0.0.0/99"]\n')
    with pytest.raises(ValueError):
        load_settings(config)


# --- after resolution -----------------------------------------------------------------------
@pytest.mark.parametrize("answer", [["127.0.0.1"], ["::1"], ["::ffff:127.0.0.1"], ["169.254.169.254"],
                                    [PUBLIC, "10.0.0.1"], []])
async def test_names_resolving_inside_are_refused(answer: list[str]) -> None:
    policy = OutboundPolicy(resolver=FakeResolver({"hooks.example.org": [answer]}))
    with pytest.raises(OutboundRefused):
        await policy.check_destination("https://hooks.example.org/hook")


async def test_rebinding_is_caught_at_connect_time() -> None:
    resolver = FakeResolver({"rebind.example.org": [[PUBLIC], ["127.0.0.1"]]})
    policy = OutboundPolicy(resolver=resolver)
    assert (await policy.check_destination("https://rebind.example.org/")).host == "rebind.example.org"
    with pytest.raises(OutboundRefused):  # what the HTTP client's connector calls for each connection
        await policy.http_resolver().resolve("rebind.example.org", 443, socket.AF_INET)
    assert resolver.asked == ["rebind.example.org", "rebind.example.org"]


async def test_an_unresolvable_name_is_refused_at_subscription_and_retried_at_delivery() -> None:
    policy = OutboundPolicy(resolver=FakeResolver({}))
    with pytest.raises(OutboundRefused):
        await policy.check_destination("https://gone.example.org/")
    with pytest.raises(OSError):  # a DNS failure while delivering is a connection failure, not a refusal
        await policy.http_resolver().resolve("gone.example.org", 443)


# --- the delivery path, only to 127.0.0.1 ---------------------------------------------------
async def test_allow_list_off_refuses_loopback_with_one_answer(services: MediationServices, engine: AsyncEngine,
                                                               tmp_path: Path, sms: MemorySms,
                                                               receiver: Receiver) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    async with serve_hooks(services, engine, tmp_path / "data", sms, OutboundPolicy(allow_http=True)) as h:
        answers = [await h.api.call("POST", "/api/webhooks", h.admin, json={"url": url, "kinds": ["*"]}, expect=422)
                   for url in (receiver.url, closed, receiver.url.replace("127.0.0.1", "[::1]"))]
        assert all(a == answers[0] for a in answers)  # open and closed ports look the same
        assert answers[0]["error"]["code"] == "url_not_allowed"
        assert await h.api.call("GET", "/api/webhooks", h.admin, expect=200) == []
    assert receiver.got == []


async def test_allow_listed_name_is_delivered_through_the_policy_resolver(
        services: MediationServices, engine: AsyncEngine, tmp_path: Path, sms: MemorySms, receiver: Receiver) -> None:
    resolver = FakeResolver({"receiver.lan": [["127.0.0.1"]]})
    outbound = OutboundPolicy(allow_http=True, allowed=("receiver.lan",), resolver=resolver)
    async with serve_hooks(services, engine, tmp_path / "data", sms, outbound) as h:
        created = await _subscribe(h, receiver.url.replace("127.0.0.1", "receiver.lan"), ["case.created"])
        applicant, respondent = await _parties(h.api)
        await _open_case(h.api, applicant, respondent)
        await h.dispatcher.drain()
        (delivery,) = await h.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", h.admin, expect=200)
    assert delivery["status"] == "delivered" and len(receiver.got) == 1
    assert resolver.asked.count("receiver.lan") >= 2  # at subscription and at connect time


async def test_a_name_rebound_to_loopback_is_refused_when_delivering(
        services: MediationServices, engine: AsyncEngine, tmp_path: Path, sms: MemorySms) -> None:
    resolver = FakeResolver({"rebind.example.org": [[PUBLIC], ["127.0.0.1"]]})
    async with serve_hooks(services, engine, tmp_path / "data", sms, OutboundPolicy(resolver=resolver)) as h:
        created = await _subscribe(h, "https://rebind.example.org/hook", ["case.created"])
        applicant, respondent = await _parties(h.api)
        await _open_case(h.api, applicant, respondent)
        await h.dispatcher.drain()
        (delivery,) = await h.api.call("GET", f"/api/webhooks/{created['id']}/deliveries", h.admin, expect=200)
    # Refused before any connection, once: retrying a refused destination sends nothing either.
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("failed", 1, REFUSED_BY_POLICY)


async def test_closed_port_and_non_http_port_read_the_same(services: MediationServices, engine: AsyncEngine,
                                                           tmp_path: Path, sms: MemorySms) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"-ERR not http\r\n")  # what a Redis or SMTP port says
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    try:
        async with serve_hooks(services, engine, tmp_path / "data", sms, LOOPBACK) as h:
            ids = [(await _subscribe(h, f"http://127.0.0.1:{port}/hook", ["case.created"]))["id"]
                   for port in (server.sockets[0].getsockname()[1], closed)]
            applicant, respondent = await _parties(h.api)
            await _open_case(h.api, applicant, respondent)
            await h.dispatcher.drain()
            logs = [await h.api.call("GET", f"/api/webhooks/{i}/deliveries", h.admin, expect=200) for i in ids]
    finally:
        server.close()
        await server.wait_closed()
    assert [[(d["status"], d["last_status_code"], d["last_error"]) for d in log] for log in logs] == \
        [[("failed", None, NO_ANSWER)]] * 2


async def test_deleting_a_subscription_stops_its_retries(services: MediationServices, engine: AsyncEngine,
                                                         tmp_path: Path, sms: MemorySms, receiver: Receiver) -> None:
    slow = RetryPolicy(attempts=5, first_delay=0.5, factor=1.0, max_delay=0.5, timeout=30.0)
    receiver.statuses = [503] * 10
    async with serve_hooks(services, engine, tmp_path / "data", sms, LOOPBACK, slow) as h:
        created = await _subscribe(h, receiver.url, ["case.created"])
        applicant, respondent = await _parties(h.api)
        await _open_case(h.api, applicant, respondent)
        async with asyncio.timeout(20):
            while (await _delivery(services, created["id"])).attempts < 1:
                await asyncio.sleep(0.01)
        await h.api.call("DELETE", f"/api/webhooks/{created['id']}", h.admin, expect=200)
        await h.dispatcher.drain()
    assert len(receiver.got) == 1
    row = await _delivery(services, created["id"])
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, SUBSCRIPTION_DELETED)
    assert row.finished_at is not None and row.next_attempt_at is None
