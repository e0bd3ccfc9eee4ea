"""The ICE hooks at work: refused candidates are never contacted, gathering follows the settings.

Real UDP sockets on loopback addresses stand in for internal hosts: 127.0.0.2 is refused by
the server's configuration, 127.0.0.3 is allowed (the control that proves checks are sent).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re

import aioice
import pytest
from aioice import stun
from aiortc import RTCIceCandidate

from rtc import aiortc_hooks
from rtc.errors import IceCandidateRefusedError
from rtc.ice_policy import CandidatePolicy, IceNetwork
from rtc.router import MediaRouter
from rtc_test_clients import TestClient, TestRoom, wait_for
from tests.support.loopback_media import NETWORK as LOOPBACK

pytestmark = pytest.mark.timeout(60)

REFUSED_HOST, ALLOWED_HOST = "127.0.0.2", "127.0.0.3"
GUARDED = IceNetwork(
    addresses=("127.0.0.1",),
    candidates=CandidatePolicy(allow_loopback=True, refused_networks=(ipaddress.ip_network(REFUSED_HOST),)),
)


class Listener(asyncio.DatagramProtocol):
    """A UDP socket that keeps what it receives, as a host next to the server would."""

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.packets.append(data)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])


async def listen(host: str) -> Listener:
    _, listener = await asyncio.get_running_loop().create_datagram_endpoint(Listener, local_addr=(host, 0))
    return listener


def with_candidates(offer: str, *hosts_and_ports: tuple[str, int]) -> str:
    """The offer with extra host candidates, ranked above the client's own so they are checked first."""
    extra = "".join(
        f"a=candidate:fake{i} 1 udp {2147483647 - i} {host} {port} typ host\r\n"
        for i, (host, port) in enumerate(hosts_and_ports)
    )
    return re.sub(r"(a=candidate:)", extra.replace("\\", "\\\\") + r"\1", offer, count=1)


def server_connection(router: MediaRouter, seat: str) -> aioice.Connection:
    peer = router._participants[seat].peer  # noqa: SLF001 - the router's own aioice connection
    return peer.pc.getTransceivers()[0].receiver.transport.transport.iceGatherer._connection


def binding_request(server_ufrag: str, client_ufrag: str, server_password: str) -> bytes:
    """A connectivity check the server would answer: right username, right password."""
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = f"{server_ufrag}:{client_ufrag}"
    request.attributes["PRIORITY"] = 1853824767
    request.attributes["ICE-CONTROLLING"] = 1
    request.add_message_integrity(server_password.encode())
    request.add_fingerprint()
    return bytes(request)


def ice_credentials(description: str) -> tuple[str, str]:
    ufrag = re.search(r"a=ice-ufrag:(\S+)", description)
    password = re.search(r"a=ice-pwd:(\S+)", description)
    assert ufrag and password
    return ufrag.group(1), password.group(1)


async def test_no_packet_ever_reaches_a_refused_candidate_or_answers_its_checks() -> None:
    refused, allowed = await listen(REFUSED_HOST), await listen(ALLOWED_HOST)
    router = MediaRouter([], network=GUARDED, policy=lambda *_: True, on_offer_needed=lambda _: asyncio.sleep(0))
    client = TestClient("alice")
    try:
        offer = with_candidates(await client.create_offer(), (REFUSED_HOST, refused.port), (ALLOWED_HOST, allowed.port))
        answer = await router.accept_offer("alice", offer, reset=True)
        await client.accept_answer(answer)
        connection = server_connection(router, "alice")
        assert REFUSED_HOST not in {c.host for c in connection.remote_candidates}
        assert ALLOWED_HOST in {c.host for c in connection.remote_candidates}
        assert all(pair.remote_addr[0] != REFUSED_HOST for pair in connection._check_list)  # noqa: SLF001
        await wait_for(lambda: client.pc.connectionState == "connected", 15, "the client to connect")
        await wait_for(lambda: len(allowed.packets) > 0, 5, "a check to the allowed candidate")

        # Checks arriving from both addresses, signed with the right credentials.
        server_ufrag, server_password = ice_credentials(answer)
        client_ufrag, _ = ice_credentials(offer)
        request = binding_request(server_ufrag, client_ufrag, server_password)
        port = next(c.port for c in connection.local_candidates if c.host == "127.0.0.1")
        allowed_before = len(allowed.packets)
        for listener in (refused, allowed):
            assert listener.transport is not None
            listener.transport.sendto(request, ("127.0.0.1", port))
        await wait_for(lambda: len(allowed.packets) > allowed_before, 5, "the allowed address's check to be answered")
        await asyncio.sleep(1.0)  # time for retransmitted or triggered checks to show up
        assert refused.packets == []
        assert REFUSED_HOST not in {c.host for c in connection.remote_candidates}  # no peer-reflexive either
        assert any(stun.parse_message(p).message_class == stun.Class.RESPONSE for p in allowed.packets)
    finally:
        await router.close()
        await client.close()
        for listener in (refused, allowed):
            assert listener.transport is not None
            listener.transport.close()


async def test_a_trickled_refused_candidate_is_dropped_too() -> None:
    refused = await listen(REFUSED_HOST)
    router = MediaRouter([], network=GUARDED, policy=lambda *_: True, on_offer_needed=lambda _: asyncio.sleep(0))
    client = TestClient("alice")
    try:
        offer = (await client.create_offer()).replace("a=end-of-candidates\r\n", "")  # more may trickle in
        await client.accept_answer(await router.accept_offer("alice", offer, reset=True))
        pc = router._participants["alice"].peer.pc  # noqa: SLF001
        mid = pc.getTransceivers()[0].mid
        for host, port in ((REFUSED_HOST, refused.port), ("169.254.169.254", 80)):
            await pc.addIceCandidate(RTCIceCandidate(
                component=1, foundation="trickled", ip=host, port=port, priority=2147483647, protocol="udp",
                type="host", sdpMid=mid,
            ))
        connection = server_connection(router, "alice")
        assert not {REFUSED_HOST, "169.254.169.254"} & {c.host for c in connection.remote_candidates}
        await pc.addIceCandidate(RTCIceCandidate(
            component=1, foundation="trickled", ip=ALLOWED_HOST, port=9, priority=1, protocol="udp", type="host",
            sdpMid=mid,
        ))
        assert ALLOWED_HOST in {c.host for c in connection.remote_candidates}  # trickling does reach aioice
        await wait_for(lambda: client.pc.connectionState == "connected", 15, "the client to connect")
        await asyncio.sleep(0.5)
        assert refused.packets == []
    finally:
        await router.close()
        await client.close()
        assert refused.transport is not None
        refused.transport.close()


async def test_without_the_refusal_the_same_candidate_is_contacted() -> None:
    """The control for the test above: the trap socket does receive checks when allowed."""
    trap = await listen(REFUSED_HOST)
    router = MediaRouter([], network=LOOPBACK, policy=lambda *_: True, on_offer_needed=lambda _: asyncio.sleep(0))
    client = TestClient("alice")
    try:
        offer = with_candidates(await client.create_offer(), (REFUSED_HOST, trap.port))
        await client.accept_answer(await router.accept_offer("alice", offer, reset=True))
        await wait_for(lambda: len(trap.packets) > 0, 10, "a check to the candidate")
    finally:
        await router.close()
        await client.close()
        assert trap.transport is not None
        trap.transport.close()


async def test_an_offer_with_only_refused_candidates_is_refused_with_a_code() -> None:
    router = MediaRouter([], network=IceNetwork(), policy=lambda *_: True, on_offer_needed=lambda _: asyncio.sleep(0))
    client = TestClient("alice")
    try:
        offer = (await client.create_offer()).replace("127.0.0.1", "169.254.169.254")
        with pytest.raises(IceCandidateRefusedError) as refused:
            await router.accept_offer("alice", offer, reset=True)
        assert refused.value.code == "ice_candidate_refused"
        assert "169.254.169.254" in refused.value.message and "metadata" in refused.value.message
        assert router.stats().peers == 0
    finally:
        await router.close()
        await client.close()


async def test_the_test_setting_keeps_all_media_on_loopback() -> None:
    room = TestRoom()
    try:
        await room.join("alice")
        await room.join("bob")
        await wait_for(lambda: room.frames_from("bob", "alice", "video") > 5, 20, "media to flow")
        for seat in ("alice", "bob"):
            connection = server_connection(room.router, seat)
            assert {c.host for c in connection.local_candidates} == {"127.0.0.1"}
            nominated = list(connection._nominated.values())  # noqa: SLF001
            assert nominated and all(
                pair.local_addr[0] == "127.0.0.1" and pair.remote_addr[0] == "127.0.0.1" for pair in nominated
            )
    finally:
        await room.close()


async def test_host_candidates_are_advertised_with_the_public_address() -> None:
    network = IceNetwork(addresses=("127.0.0.1",), public_address="198.51.100.7",
                         candidates=CandidatePolicy(allow_loopback=True))
    router = MediaRouter([], network=network, policy=lambda *_: True, on_offer_needed=lambda _: asyncio.sleep(0))
    client = TestClient("alice")
    try:
        answer = await router.accept_offer("alice", await client.create_offer(), reset=True)
        candidates = re.findall(r"a=candidate:\S+ \d \S+ \d+ (\S+) \d+ typ host", answer)
        assert candidates and set(candidates) == {"198.51.100.7"}
        connection = server_connection(router, "alice")
        assert {c.host for c in connection.local_candidates} == {"127.0.0.1"}  # bound where configured
    finally:
        await router.close()
        await client.close()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("_add_remote_candidate", "_add_remote_candidate"), ("request_received", "request_received"),
     ("get_component_candidates", "get_component_candidates")],
)
def test_compatibility_check_names_a_missing_aioice_internal(
    monkeypatch: pytest.MonkeyPatch, name: str, expected: str
) -> None:
    monkeypatch.delattr(aioice.Connection, name)
    with pytest.raises(aiortc_hooks.AiortcCompatibilityError, match=expected):
        aiortc_hooks.check_compatibility()


def test_compatibility_check_notices_another_aioice_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice, "__version__", "0.14.0")
    with pytest.raises(aiortc_hooks.AiortcCompatibilityError, match="aioice 0.14.0"):
        aiortc_hooks.check_compatibility()
