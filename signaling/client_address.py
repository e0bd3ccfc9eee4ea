"""The address a request came from, for throttling and logs.

By default the TCP peer (``request.remote``): behind a reverse proxy that is the proxy, so every
client would share one address. ``X-Forwarded-For`` is believed only when the peer is listed in
the ``trusted_proxies`` setting; otherwise anyone could name any address and dodge a limit.
"""

from __future__ import annotations

import functools
import ipaddress
from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def parse_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """``"10.0.0.5"`` or ``"10.0.0.0/8"``; a bad entry is a configuration error (``ValueError``),
    raised when the settings are loaded."""
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(request: web.Request, trusted_proxies: tuple[str, ...]) -> str | None:
    """The peer; or, when the peer is a trusted proxy, the right-most ``X-Forwarded-For`` hop
    that is not itself a trusted proxy (hops to its left were written by the client: untrusted)."""
    peer = request.remote
    trusted = parse_networks(trusted_proxies)
    if peer is None or not trusted:
        return peer
    current = _address(peer)
    if current is None or not any(current in net for net in trusted):
        return peer
    hops = [h for value in request.headers.getall("X-Forwarded-For", []) for h in value.split(",")]
    for hop in reversed(hops):
        found = _address(hop)
        if found is None:
            break  # garbage from the client's side of the chain: stop at the last proxy we trust
        current = found
        if not any(found in net for net in trusted):
            break
    return str(current)
