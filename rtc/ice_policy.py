"""Which addresses the server's ICE uses, and which remote candidates it will ever contact.

A remote ICE candidate is an address the client asks the server to send STUN checks to. Left
alone, a participant could name the cloud metadata service, a link-local router or any
host next to the server, and the server would probe it. ``CandidatePolicy`` decides, as a
pure function of the address, whether the server may ever send a packet there; the hooks in
``rtc/_hooks/ice.py`` apply it before aioice pairs a candidate and to every incoming check.
``IceNetwork`` adds the local side: the interfaces or addresses candidates are gathered on
(aioice otherwise takes every interface except loopback) and a 1:1 NAT public address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Never a destination for a connectivity check, whatever the configuration says.
NEVER = "not a unicast address (unspecified, multicast or broadcast)"

#: Refused unless ``allowed_networks`` names them with a prefix at least as long.
#: Cloud instance metadata and host services (AWS, GCP, Azure, Oracle, DigitalOcean, Tencent,
#: Huawei: 169.254.169.254 and neighbours; AWS IPv6: fd00:ec2::254; Alibaba: 100.100.100.200;
#: Azure's wire server: 168.63.129.16; Oracle's legacy endpoint: 192.0.0.192).
METADATA_NETWORKS = (
    "169.254.169.254/32", "169.254.170.2/32", "169.254.0.23/32", "fd00:ec2::254/128",
    "100.100.100.200/32", "168.63.129.16/32", "192.0.0.192/32",
)
LINK_LOCAL_NETWORKS = ("169.254.0.0/16", "fe80::/10")
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
#: "This network" and the reserved class E block: nothing legitimate answers ICE there.
RESERVED_NETWORKS = ("0.0.0.0/8", "240.0.0.0/4")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class Rule(NamedTuple):
    network: IpNetwork
    allow: bool
    configured: bool
    reason: str


def parse_networks(values: Iterable[str], setting: str) -> tuple[IpNetwork, ...]:
    """Addresses or CIDR networks; a bad entry names the setting it came from."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{setting}: {value!r} is not an address or network ({exc})") from exc
    return tuple(networks)


def embedded_ipv4(address: IpAddress) -> IpAddress:
    """The IPv4 address an IPv4-mapped or NAT64 (64:ff9b::/96) IPv6 address reaches.

    ``::ffff:169.254.169.254`` is the metadata service, not an IPv6 host.
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


@dataclass(frozen=True)
class CandidatePolicy:
    """Which remote addresses the server may send ICE checks (or anything) to.

    Decided by the most specific matching network (longest prefix): a configured network
    beats a built-in one of the same length, a refusal beats an allowance at the same level.
    So ``allowed_networks = ["169.254.0.0/16"]`` admits a link-local LAN but not the metadata
    address inside it; ``refused_networks`` adds internal networks (say, the servers' own
    subnet) to the built-in refusals.
    """

    allow_loopback: bool = False
    refused_networks: tuple[IpNetwork, ...] = ()
    allowed_networks: tuple[IpNetwork, ...] = ()
    _rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def built_in(networks: Iterable[str], reason: str, allow: bool = False) -> list[Rule]:
            return [Rule(ipaddress.ip_network(n), allow, False, reason) for n in networks]

        rules = (
            built_in(METADATA_NETWORKS, "a cloud metadata address")
            + built_in(LINK_LOCAL_NETWORKS, "a link-local address")
            + built_in(RESERVED_NETWORKS, "a reserved address")
            + built_in(LOOPBACK_NETWORKS, "a loopback address", allow=self.allow_loopback)
            + [Rule(n, False, True, "in ice_refused_networks") for n in self.refused_networks]
            + [Rule(n, True, True, "in ice_allowed_networks") for n in self.allowed_networks]
        )
        object.__setattr__(self, "_rules", tuple(rules))

    def refusal(self, host: str, port: int | None = None) -> str | None:
        """Why the server must not contact ``host`` (an IP literal), or ``None`` if it may."""
        try:
            address = embedded_ipv4(ipaddress.ip_address(host.split("%", 1)[0]))
        except ValueError:
            return "not an IP address"
        if port is not None and not 0 < port < 65536:
            return "not a valid port"
        if (
            address.is_unspecified
            or address.is_multicast
            or address == ipaddress.IPv4Address("255.255.255.255")
        ):
            return NEVER
        matching = [rule for rule in self._rules if address.version == rule.network.version and address in rule.network]
        if not matching:
            return None
        decisive = max(matching, key=lambda r: (r.network.prefixlen, r.configured, not r.allow))
        return None if decisive.allow else decisive.reason

    def allows(self, host: str, port: int | None = None) -> bool:
        return self.refusal(host, port) is None


@dataclass(frozen=True)
class LocalAddress:
    """One address of one local interface, as ``ifaddr`` reports it."""

    interface: str
    address: str
    scope_id: int = 0


@dataclass(frozen=True)
class IceNetwork:
    """Where the server's ICE gathers and what it advertises and accepts.

    ``interfaces`` and ``addresses`` both empty: every interface except loopback (aioice's
    choice). Otherwise the union of the named interfaces' addresses and the listed ones;
    loopback is used only when listed (``lo`` or ``127.0.0.1``). ``public_address``: a
    1:1 NAT in front of the server; host candidates of that address family are advertised
    with it instead of the private address (the port stays, the NAT keeps it).
    """

    interfaces: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    public_address: str | None = None
    candidates: CandidatePolicy = field(default_factory=CandidatePolicy)

    def __post_init__(self) -> None:
        for value in (*self.addresses, *((self.public_address,) if self.public_address else ())):
            try:
                ipaddress.ip_address(value)
            except ValueError as exc:
                raise ValueError(f"ICE address {value!r} is not an IP address") from exc

    @property
    def restricted(self) -> bool:
        return bool(self.interfaces or self.addresses)

    def gathering_addresses(self, local: Iterable[LocalAddress]) -> list[str]:
        """The addresses to gather host candidates on, from the machine's ``local`` addresses.

        Link-local IPv6 addresses need a scope id that candidates cannot carry: never used
        for a named interface (aioice skips them too). Listed addresses are taken as given.
        """
        chosen: list[str] = []
        wanted = set(self.interfaces)
        for entry in local:
            if entry.interface in wanted and entry.scope_id == 0 and not ipaddress.ip_address(entry.address).is_link_local:
                chosen.append(entry.address)
        chosen.extend(self.addresses)
        return list(dict.fromkeys(chosen))

    def advertised_host(self, host: str) -> str:
        """The address a host candidate gathered on ``host`` is advertised with."""
        if self.public_address is None:
            return host
        same_family = ipaddress.ip_address(self.public_address).version == ipaddress.ip_address(host).version
        return self.public_address if same_family else host


#: What the test suite and the benches configure: all media on 127.0.0.1.
LOOPBACK_ONLY = IceNetwork(addresses=("127.0.0.1",), candidates=CandidatePolicy(allow_loopback=True))
