"""The configuration every test and bench runs media with: ICE on 127.0.0.1 only.

The server is configured like any deployment (``ice_addresses``, ``ice_allow_loopback``), not
monkeypatched; the aiortc clients get the same network through the same hook, and Chromium is
allowed to gather on loopback (it gathers on the other interfaces too: the server refuses to
answer those). Nothing then leaves the machine's loopback interface.
"""

from __future__ import annotations

from aiortc import RTCPeerConnection

from rtc import aiortc_hooks
from rtc.ice_policy import IceNetwork
from signaling.config import Settings, ice_network

#: As ``Settings`` fields (``load_settings`` overrides take them too): gather on 127.0.0.1, and
#: contact nothing but loopback (every other address is refused; loopback, more specific, is not).
SETTINGS = {"ice_addresses": ("127.0.0.1",), "ice_allow_loopback": True, "ice_refused_networks": ("0.0.0.0/0", "::/0")}
#: The same for an ``accord serve`` subprocess.
ENVIRONMENT = {"ACCORD_ICE_ADDRESSES": "127.0.0.1", "ACCORD_ICE_ALLOW_LOOPBACK": "true",
               "ACCORD_ICE_REFUSED_NETWORKS": "0.0.0.0/0,::/0"}
#: The same for a ``MediaRouter`` made in the test process.
NETWORK: IceNetwork = ice_network(Settings(**SETTINGS))  # type: ignore[arg-type]
#: Chromium leaves loopback out of WebRTC unless told.
CHROMIUM_ARGS = ["--allow-loopback-in-peer-connection"]


def loopback_peer(pc: RTCPeerConnection) -> RTCPeerConnection:
    """A client peer connection that gathers on 127.0.0.1 only, like the server."""
    aiortc_hooks.apply_ice_network(pc, NETWORK)
    return pc
