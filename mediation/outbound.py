"""Where the server may send requests on its own (webhook deliveries): the outbound URL policy.

A webhook URL is chosen by whoever subscribes, so without a policy the server can be made to POST
to its own loopback services, the cloud metadata endpoint or the private network (SSRF). The rule:

* ``https`` only; ``http`` when the operator sets ``webhook_allow_http``;
* no address that is loopback, link-local (cloud metadata lives there), private, shared (CGNAT,
  where some clouds put metadata too), multicast, unspecified, broadcast, reserved or documentation
  space, also when written as an IPv4-mapped, -compatible, 6to4, Teredo or NAT64 IPv6 address;
* ports other than 443 and 80 only for hosts on the allow-list;
* the allow-list (``webhook_allowed_hosts``: host names, addresses, CIDR blocks) admits internal
  receivers the operator trusts.

The check runs when a URL is subscribed (on the literal and on what the name resolves to) and
again for every connection, after DNS resolution, inside the HTTP client's resolver
(:class:`PolicyResolver`): a name that resolves to a public address at subscription time and to
``127.0.0.1`` later (DNS rebinding) is refused at connect time. Nothing here sends a packet except
the resolver it wraps.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from .errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

STANDARD_PORTS = frozenset({80, 443})

_BLOCKED_V4 = tuple(ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8",  # "this network", 0.0.0.0 reaches the local host
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",  # private
    "100.64.0.0/10",  # shared address space (CGNAT; 100.100.100.200 is a metadata address)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local, 169.254.169.254 is the cloud metadata service
    "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",  # special, tests
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, 255.255.255.255 broadcast
))
_BLOCKED_V6 = tuple(ipaddress.IPv6Network(n) for n in (
    "::/128", "::1/128",  # unspecified, loopback
    "::/96",  # IPv4-compatible (deprecated); also covers the two above
    "100::/64",  # discard
    "2001:db8::/32",  # documentation
    "fc00::/7",  # unique local (fd00:ec2::254 is a metadata address)
    "fe80::/10", "fec0::/10",  # link-local, site-local
    "ff00::/8",  # multicast
))
#: Names refused whatever they resolve to (they mean "this machine" or the metadata service).
_BLOCKED_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal"})


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the translation forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_public(address: IPAddress) -> bool:
    """True for an address a webhook may reach without being on the allow-list."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        inner = _embedded_v4(address)
        if inner is not None:
            return is_public(inner)
        return not any(address in net for net in _BLOCKED_V6)
    return not any(address in net for net in _BLOCKED_V4)


def _address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class OutboundRefused(InvalidInput):
    """The destination is not one the server may send to. The message never says more than that,
    so that the answer does not tell an attacker anything about the internal network."""

    def __init__(self) -> None:
        super().__init__("url_not_allowed", REFUSED_BY_POLICY, {"field": "url"})


REFUSED_BY_POLICY = "refused by the outbound policy"


@dataclass(frozen=True)
class OutboundPolicy:
    """The rule plus the resolver used to apply it. ``allowed`` holds host names (exact, case
    insensitive), addresses or CIDR blocks; a bad entry raises :class:`ValueError` at start-up."""

    allow_http: bool = False
    allowed: tuple[str, ...] = ()
    resolver: AbstractResolver | None = field(default=None, compare=False)
    _names: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in self.allowed:
            entry = entry.strip().lower()
            if not entry:
                raise ValueError("an empty entry in webhook_allowed_hosts")
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if "/" in entry or ":" in entry or not all(part for part in entry.split(".")):
                    raise ValueError(f"webhook_allowed_hosts: {entry!r} is neither a host name nor an address "
                                     "or CIDR block") from None
                names.add(entry.rstrip("."))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_networks", tuple(networks))

    # --- the pure checks --------------------------------------------------------------------
    def name_allowed(self, host: str) -> bool:
        """The host name itself is on the allow-list: whatever it resolves to is trusted."""
        return host.lower().rstrip(".") in self._names

    def address_allowed(self, address: IPAddress) -> bool:
        if any(address.version == net.version and address in net for net in self._networks):
            return True
        return is_public(address)

    def _listed(self, host: str) -> bool:
        address = _address(host)
        if address is not None:
            return any(address.version == net.version and address in net for net in self._networks)
        return self.name_allowed(host)

    def check_url(self, url: str | URL) -> URL:
        """The parsed URL if its scheme, host and port pass (no DNS); :class:`OutboundRefused`
        otherwise. Literal addresses are fully checked here: the HTTP client never resolves them."""
        parsed = url if isinstance(url, URL) else URL(url)
        host = (parsed.host or "").lower()
        if parsed.scheme not in (("https", "http") if self.allow_http else ("https",)) or not host:
            raise OutboundRefused()
        listed = self._listed(host)
        if parsed.port not in STANDARD_PORTS and not listed:
            raise OutboundRefused()
        if listed:
            return parsed
        address = _address(host)
        if address is not None:
            if not self.address_allowed(address):
                raise OutboundRefused()
        elif host.rstrip(".") in _BLOCKED_NAMES or host.rstrip(".").endswith(".localhost"):
            raise OutboundRefused()
        return parsed

    def check_addresses(self, host: str, addresses: Iterable[str]) -> None:
        """Refuse unless every address ``host`` resolved to may be reached (a name that resolves
        to one public and one internal address is refused: it is not an honest receiver)."""
        if self.name_allowed(host):
            return
        found = [_address(a) for a in addresses]
        if not found or any(a is None or not self.address_allowed(a) for a in found):
            raise OutboundRefused()

    # --- with DNS ---------------------------------------------------------------------------
    async def check_destination(self, url: str | URL) -> URL:
        """:meth:`check_url` plus the addresses the host resolves to now (subscription time)."""
        parsed = self.check_url(url)
        host = parsed.host or ""
        if _address(host) is None:
            try:
                await self.http_resolver().resolve(host, parsed.port or 0, socket.AF_UNSPEC)
            except OSError:  # a name that does not resolve is no receiver (and says nothing more)
                raise OutboundRefused() from None
        return parsed

    def http_resolver(self) -> PolicyResolver:
        """The resolver to give the HTTP client's connector."""
        return PolicyResolver(self, self.resolver or ThreadedResolver())


class PolicyResolver(AbstractResolver):
    """Resolves through ``inner`` and refuses the answer if any address is not allowed, so the
    check holds for the address actually connected to (DNS rebinding included). A failed lookup
    stays an :class:`OSError`: the client reports it as a connection failure, to be retried."""

    def __init__(self, policy: OutboundPolicy, inner: AbstractResolver):
        self.policy = policy
        self.inner = inner

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        self.policy.check_addresses(host, [r["host"] for r in results])
        return results

    async def close(self) -> None:
        """Nothing: the policy's resolver outlives any one client session."""
