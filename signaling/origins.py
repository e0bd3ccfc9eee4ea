"""Which web origins may act with a person's cookie: the configured public URL, and the origin the
request itself was addressed to (the default local setup has no public URL; a browser cannot
forge the ``Host`` of a request that carries this site's cookie).

The one rule serves both the HTTP API (cookie-authenticated unsafe methods) and the Socket.IO
handshake, where a WebSocket carries the cookie with no CORS protection of its own.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` in lower case without a default port; ``None`` for
    anything that is not an http(s) URL (including the opaque origin ``null``)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != _DEFAULT_PORTS[scheme] else "")


def origin_allowed(origin: str, *, public_url: str, own: str) -> bool:
    """May a page of ``origin`` act here? ``own`` is ``scheme://host`` the request was sent to."""
    seen = normalise(origin)
    return seen is not None and seen in {normalise(public_url), normalise(own)}
