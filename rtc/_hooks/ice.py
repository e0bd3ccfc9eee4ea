"""aioice hooks: gather on the chosen addresses, advertise the NAT address, refuse candidates.

Applied per peer connection (``apply_ice_network``), never process-wide: aiortc peers that
are not the server's (tests, tools) keep aioice's behaviour. aiortc creates one ICE gatherer
per transport inside ``RTCPeerConnection.__createDtlsTransport``; wrapping that method on the
instance reaches each aioice ``Connection`` before it gathers or hears of a remote candidate.
On the connection, three instance attributes replace aioice's methods:

- ``get_component_candidates``: host candidates on ``IceNetwork.gathering_addresses``;
- ``_add_remote_candidate``: where every signalled candidate (SDP, trickle, resolved mDNS)
  goes before it is paired; a refused one is dropped there, so no check is ever sent to it;
- ``request_received``: an incoming check from a refused address gets no answer and makes
  no peer-reflexive candidate (its triggered check would reach that address).

``compatibility_problems()`` verifies every name and shape used here (aioice is pinned).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

import aioice
import aioice.ice
import ifaddr
from aiortc import RTCPeerConnection
from aiortc.rtcicetransport import RTCIceCandidate, RTCIceGatherer

from ..ice_policy import IceNetwork, LocalAddress
from .introspection import parameters as _params, source as _source

log = logging.getLogger(__name__)

PINNED_AIOICE = "0.13.0"


def local_addresses() -> list[LocalAddress]:
    """Every address of every interface, as aioice itself enumerates them."""
    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                found.append(LocalAddress(adapter.nice_name, ip.ip))
            else:
                address, _flow, scope_id = ip.ip
                found.append(LocalAddress(adapter.nice_name, address, scope_id))
    return found


def apply_ice_network(pc: RTCPeerConnection, network: IceNetwork) -> None:
    """Make every ICE transport ``pc`` creates follow ``network``. Call before any offer/answer."""
    create: Callable[[], Any] = pc._RTCPeerConnection__createDtlsTransport  # type: ignore[attr-defined]

    def create_following_network() -> Any:
        transport = create()
        _restrict(transport.transport.iceGatherer, network)
        return transport

    pc._RTCPeerConnection__createDtlsTransport = create_following_network  # type: ignore[attr-defined]


def _restrict(gatherer: RTCIceGatherer, network: IceNetwork) -> None:
    connection: aioice.Connection = gatherer._connection
    policy = network.candidates

    if network.restricted:
        gather = connection.get_component_candidates

        async def gather_on_chosen(component: int, addresses: list[str], timeout: int = 5) -> list[Any]:
            if connection._transport_policy == aioice.TransportPolicy.ALL:
                addresses = network.gathering_addresses(local_addresses())
                if not addresses:
                    log.warning("ICE: no local address matches ice_interfaces/ice_addresses; no host candidate")
            return await gather(component=component, addresses=addresses, timeout=timeout)

        connection.get_component_candidates = gather_on_chosen  # type: ignore[method-assign]

    add = connection._add_remote_candidate

    def add_if_allowed(remote_candidate: aioice.Candidate, network_host: str) -> None:
        reason = policy.refusal(network_host, remote_candidate.port)
        if reason is not None:
            log.info("ICE: remote candidate %s:%s refused (%s)", network_host, remote_candidate.port, reason)
            return
        add(remote_candidate, network_host)

    connection._add_remote_candidate = add_if_allowed  # type: ignore[method-assign]

    received = connection.request_received

    def request_if_allowed(message: Any, addr: tuple[str, int], protocol: Any) -> None:
        if policy.refusal(addr[0], addr[1]) is not None:
            return  # no response, no peer-reflexive candidate, no triggered check
        received(message, addr, protocol)

    connection.request_received = request_if_allowed  # type: ignore[method-assign]

    if network.public_address is not None:
        local_candidates = gatherer.getLocalCandidates

        def advertised() -> list[RTCIceCandidate]:
            candidates = local_candidates()
            for candidate in candidates:
                if candidate.type == "host":
                    candidate.ip = network.advertised_host(candidate.ip)
            return candidates

        gatherer.getLocalCandidates = advertised  # type: ignore[method-assign]


def compatibility_problems() -> list[str]:
    """Every aioice/aiortc name or shape above that changed; empty when all is as pinned."""
    problems: list[str] = []

    def need(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    def connection(name: str) -> Any:
        return getattr(aioice.Connection, name, None)

    need(aioice.__version__ == PINNED_AIOICE,
         f"aioice {aioice.__version__} installed, rtc/_hooks/ice.py was checked against {PINNED_AIOICE}")
    need(_params(connection("get_component_candidates")) == ["self", "component", "addresses", "timeout"],
         "aioice Connection.get_component_candidates(component, addresses, timeout) changed")
    need("self.get_component_candidates(component=component, addresses=addresses)"
         in _source(connection("gather_candidates")),
         "aioice Connection.gather_candidates no longer passes the host addresses to get_component_candidates")
    need(_params(connection("_add_remote_candidate")) == ["self", "remote_candidate", "network_host"],
         "aioice Connection._add_remote_candidate(remote_candidate, network_host) changed")
    adding = _source(connection("add_remote_candidate"))
    need(adding.count("self._add_remote_candidate(") == 2 and "_pair_remote_candidate" not in adding
         and "_remote_candidates.append" not in adding,
         "aioice Connection.add_remote_candidate no longer goes through _add_remote_candidate for every candidate")
    need("self._pair_remote_candidate(remote_candidate)" in _source(connection("_add_remote_candidate")),
         "aioice Connection._add_remote_candidate no longer pairs the candidate itself")
    need(_params(connection("request_received")) == ["self", "message", "addr", "protocol"]
         and "self.receiver.request_received(message, addr, self)" in _source(aioice.ice.StunProtocol.datagram_received),
         "aioice StunProtocol no longer hands incoming checks to Connection.request_received(message, addr, protocol)")
    callers = [name for name, member in inspect.getmembers(aioice.Connection, inspect.isfunction)
               if "check_incoming(" in _source(member) and name not in ("request_received", "connect", "check_incoming")]
    need(not callers, f"aioice calls check_incoming from {callers}, outside request_received")
    need("_transport_policy" in _source(connection("__init__")), "aioice Connection lost _transport_policy")

    create_names = inspect.getsource(RTCPeerConnection).count("self.__createDtlsTransport()")
    need(callable(getattr(RTCPeerConnection, "_RTCPeerConnection__createDtlsTransport", None)) and create_names >= 1,
         "RTCPeerConnection no longer creates its transports in __createDtlsTransport")
    need("self._connection = Connection(" in _source(RTCIceGatherer.__init__)
         and "self._connection.local_candidates" in _source(RTCIceGatherer.getLocalCandidates),
         "RTCIceGatherer no longer keeps its aioice Connection in _connection")
    return problems
