"""Encoded frames for in-process consumers (recording, identity checks) that are not peers.

Each subscription is a ``ForwardedTrack`` of its own: bounded, monotonic pts, video starting
at a keyframe, so a slow consumer loses frames, never memory, and never slows the room.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import av
from aiortc.mediastreams import MediaStreamError

from .forwarded_track import ForwardedTrack


class MediaTap:
    def __init__(
        self, request_keyframe: Callable[[str], None], on_subscriptions_changed: Callable[[], None] | None = None
    ) -> None:
        self._request_keyframe = request_keyframe
        self._on_subscriptions_changed = on_subscriptions_changed or (lambda: None)
        self._subscriptions: dict[tuple[str, str], set[ForwardedTrack]] = {}

    def wants(self, seat: str, kind: str) -> bool:
        """Whether anyone consumes this seat's frames (the packet path then makes them)."""
        return bool(self._subscriptions.get((seat, kind)))

    def publish(self, seat: str, kind: str, packet: av.Packet) -> None:
        for track in self._subscriptions.get((seat, kind), ()):
            track.push(packet)

    def source_changed(self, seat: str, kind: str) -> None:
        """The publisher's track was replaced (reconnect): rebase timestamps."""
        for track in self._subscriptions.get((seat, kind), ()):
            track.switch_source()

    async def subscribe_encoded(
        self, publisher_seat: str, kind: str, *, capacity: int | None = None
    ) -> AsyncIterator[av.Packet]:
        """Yield the publisher's encoded frames until ``close()`` or the consumer stops.

        Nothing is yielded while the seat publishes nothing; it resumes when it does.
        """
        track = ForwardedTrack(
            kind, on_keyframe_needed=lambda: self._request_keyframe(publisher_seat), capacity=capacity
        )
        track.resume()
        key = (publisher_seat, kind)
        self._subscriptions.setdefault(key, set()).add(track)
        self._on_subscriptions_changed()
        if kind == "video":
            self._request_keyframe(publisher_seat)
        try:
            while True:
                try:
                    packet = await track.recv()
                except MediaStreamError:
                    return
                yield packet
        finally:
            subscribers = self._subscriptions.get(key, set())
            subscribers.discard(track)
            if not subscribers:
                self._subscriptions.pop(key, None)
                self._on_subscriptions_changed()
            track.stop()

    def close(self) -> None:
        for subscribers in self._subscriptions.values():
            for track in subscribers:
                track.stop()
