"""The selective forwarding unit: who receives whose encoded media, and when.

Every seat has one peer connection. What a seat publishes arrives on receive-only
transceivers; what it receives leaves on send-only "slots" the server adds, one audio+video
pair per other publisher. A slot whose publisher left goes idle and is rebound to the next
publisher without renegotiation (only the mid map changes), so people coming and going do
not cost an offer/answer each time. Frames are never decoded or encoded here; the policy
callback (caucus, mutes, permissions) decides route by route, and ``refresh()`` applies it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import RTCConfiguration, RTCIceServer, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RtpPacket

from . import aiortc_hooks
from ._hooks import packet_path
from .active_speaker import ActiveSpeakerDetector
from .errors import NoOfferPendingError, SdpError
from .forwarded_track import ForwardedTrack, ForwardingCounters
from .ice_policy import IceNetwork
from .media_tap import MediaTap
from .packet_leg import PacketLeg
from .packet_plane import PacketPlane
from .participant_peer import ParticipantPeer, PublishedTrack

aiortc_hooks.check_compatibility()
packet_path.check_compatibility()
aiortc_hooks.install()
packet_path.install()

log = logging.getLogger(__name__)

KINDS = ("audio", "video")
KEYFRAME_REQUEST_INTERVAL = 0.2  # seconds; many subscribers asking at once make one PLI
SPEAKER_EVALUATION_INTERVAL = 0.2
FEEDBACK_INTERVAL = 1.0  # seconds between receiver reports / REMB to publishers


@dataclass(frozen=True)
class RouterStats:
    packets_in: int  # RTP packets received from publishers
    frames_forwarded: int  # encoded frames handed to subscribers' senders
    bytes_forwarded: int  # their payload bytes
    frames_dropped: int  # frames not forwarded: queue overflow, waiting for a keyframe, stale
    packets_forwarded: int  # RTP packets sent to subscribers by the packet path
    packets_retransmitted: int  # NACKs answered from a leg's history
    upstream_nacks: int  # sequence numbers a subscriber asked for that only the publisher had
    losses_nacked: int  # sequence numbers missing from publishers that the server NACKed
    video_pauses: int  # times a subscriber's video was paused because it could not keep up
    keyframe_requests: int  # PLIs sent to publishers
    decoders_created: int  # real codecs opened for this router's peers: 0 when forwarding
    encoders_created: int
    peers: int


@dataclass
class _Leg:
    """One send transceiver in a subscriber's peer, created when the next offer is made."""

    track: ForwardedTrack  # the frame path's feed; on the packet path it only parks the sender
    transceiver: RTCRtpTransceiver | None = None
    packets: PacketLeg | None = None  # the packet path's state for this leg

    @property
    def mid(self) -> str | None:
        return self.transceiver.mid if self.transceiver is not None else None

    @property
    def negotiated(self) -> bool:
        return self.transceiver is not None and self.transceiver.currentDirection in ("sendonly", "sendrecv")


@dataclass
class _Slot:
    legs: dict[str, _Leg]
    publisher: str | None

    @property
    def materialized(self) -> bool:
        return all(leg.transceiver is not None for leg in self.legs.values())


@dataclass
class _Participant:
    seat: str
    peer: ParticipantPeer
    slots: list[_Slot] = field(default_factory=list)


class MediaRouter:
    def __init__(
        self,
        ice_servers: list[RTCIceServer],
        *,
        network: IceNetwork | None = None,
        policy: Callable[[str, str, str], bool],
        on_offer_needed: Callable[[str], Awaitable[None]],
        on_tracks_changed: Callable[[str], Awaitable[None]] | None = None,
        on_active_speaker: Callable[[list[str], str | None], Awaitable[None]] | None = None,
        packet_path: bool = True,
    ) -> None:
        """``on_active_speaker(subscribers, seat)``: these subscribers now see ``seat`` speaking
        (``None``: nobody), among the seats they hear. ``packet_path=False`` forwards reassembled
        frames through aiortc's packetiser (the earlier data plane, kept for comparison in
        bench/forwarding.py)."""
        self._ice_servers = list(ice_servers)
        self._network = network or IceNetwork()  # the default refuses link-local, metadata, loopback
        self._policy = policy
        self._on_offer_needed = on_offer_needed
        self._on_tracks_changed = on_tracks_changed
        self._on_active_speaker = on_active_speaker
        self._participants: dict[str, _Participant] = {}
        self._published: dict[tuple[str, str], PublishedTrack] = {}
        self._seat_locks: dict[str, asyncio.Lock] = {}
        self._codec_counters = aiortc_hooks.CodecCounters()
        self._traffic = ForwardingCounters()
        self._packets_in = 0
        self._keyframe_requests = 0
        self._last_keyframe_request: dict[str, float] = {}
        self._deferred_keyframes: set[str] = set()
        self._pending_notifications: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._tap = MediaTap(self.request_keyframe, on_subscriptions_changed=self._rebuild_fanout)
        self._speaker = ActiveSpeakerDetector()
        self._speaker_task: asyncio.Task[None] | None = None
        self._speaker_shown: dict[str, str | None] = {}  # subscriber -> speaker last announced
        self._plane = PacketPlane(self._audio_level) if packet_path else None
        self._feedback_task: asyncio.Task[None] | None = None
        self._retired_legs: list[PacketLeg] = []
        self._closed = False

    # -- negotiation -------------------------------------------------------------------

    async def accept_offer(self, seat: str, sdp: str, *, reset: bool = False) -> str:
        """Answer the seat's offer; ``reset`` replaces its peer connection (reload, rejoin).

        A refused offer leaves the seat's existing peer exactly as it was.
        """
        self._require_open()
        self._start_speaker_detection()
        lock = self._seat_locks.setdefault(seat, asyncio.Lock())
        async with lock:
            participant = self._participants.get(seat)
            if participant is not None and not reset and not participant.peer.closed:
                answer = await participant.peer.accept_offer(sdp)
            else:
                peer = self._new_peer(seat)
                try:
                    answer = await peer.accept_offer(sdp)
                except BaseException:
                    await peer.close()
                    raise
                if participant is not None:
                    await self._retire(participant)
                participant = _Participant(seat, peer)
                self._participants[seat] = participant
                self._speaker_shown.pop(seat, None)  # a new page knows no speaker yet
                publishers = sorted({p for (p, _kind) in self._published if p != seat})
                for publisher in publishers:
                    self._add_slot(participant, publisher)
        self._offer_if_slots_pending(participant)
        return answer

    async def make_offer(self, seat: str) -> str | None:
        """A re-offer for the seat if renegotiation is pending and no offer is outstanding."""
        participant = self._participants.get(seat)
        if participant is None or self._closed:
            return None

        def add_pending_transceivers() -> None:
            for slot in participant.slots:
                for leg in slot.legs.values():
                    if leg.transceiver is None:
                        leg.transceiver = participant.peer.add_send_transceiver(leg.track)
                        aiortc_hooks.route_sender(
                            leg.transceiver.sender,
                            on_keyframe_request=lambda slot=slot: self._slot_needs_keyframe(slot),
                        )
                        if self._plane is not None:
                            leg.packets = self._packet_leg(leg.transceiver, slot)

        return await participant.peer.make_offer(add_pending_transceivers)

    async def accept_answer(self, seat: str, sdp: str) -> None:
        participant = self._participants.get(seat)
        if participant is None:
            raise NoOfferPendingError("the server has no offer waiting for an answer from this seat")
        await participant.peer.accept_answer(sdp)
        self.refresh()
        self._offer_if_slots_pending(participant)

    def track_map(self, seat: str) -> list[dict[str, str]]:
        """Which publisher each of the seat's receiving transceivers (by mid) carries."""
        participant = self._participants.get(seat)
        if participant is None:
            return []
        return [
            {"mid": leg.mid, "seat": slot.publisher, "kind": kind}
            for slot in participant.slots
            if slot.publisher is not None
            for kind, leg in slot.legs.items()
            if leg.mid is not None
        ]

    # -- routing -----------------------------------------------------------------------

    def refresh(self) -> None:
        """Apply the policy to every route; newly opened video routes get a keyframe soon."""
        keyframes_needed: set[str] = set()
        for participant in self._participants.values():
            for slot in participant.slots:
                for kind, leg in slot.legs.items():
                    forward = (
                        slot.publisher is not None
                        and leg.negotiated
                        and (slot.publisher, kind) in self._published
                        and self._allowed(participant.seat, slot.publisher, kind)
                    )
                    if leg.packets is not None:
                        if leg.packets.set_active(forward):
                            keyframes_needed.add(slot.publisher)  # type: ignore[arg-type]
                    elif self._plane is not None:
                        continue  # not negotiated yet
                    elif forward and leg.track.paused:
                        leg.track.resume()
                        if kind == "video":
                            keyframes_needed.add(slot.publisher)  # type: ignore[arg-type]
                    elif not forward and not leg.track.paused:
                        leg.track.pause()
        self._rebuild_fanout()
        for publisher in keyframes_needed:
            self.request_keyframe(publisher)

    def request_keyframe(self, publisher_seat: str) -> None:
        """Ask the publisher for a keyframe, at most once per ``KEYFRAME_REQUEST_INTERVAL``."""
        published = self._published.get((publisher_seat, "video"))
        if published is None or self._closed:
            return
        now = time.monotonic()
        wait = self._last_keyframe_request.get(publisher_seat, -1e9) + KEYFRAME_REQUEST_INTERVAL - now
        if wait > 0:
            if publisher_seat not in self._deferred_keyframes:
                self._deferred_keyframes.add(publisher_seat)
                asyncio.get_running_loop().call_later(wait, self._deferred_keyframe, publisher_seat)
            return
        self._last_keyframe_request[publisher_seat] = now
        self._spawn(self._send_keyframe_request(published))

    def subscribe_encoded(self, publisher_seat: str, kind: str) -> AsyncIterator[av.Packet]:
        """Bounded stream of a seat's encoded frames for in-process consumers (see media_tap)."""
        return self._tap.subscribe_encoded(publisher_seat, kind)

    # -- lifecycle ---------------------------------------------------------------------

    async def remove(self, seat: str) -> None:
        """Close the seat's peer; its slots in other peers go idle, ready for reuse."""
        participant = self._participants.pop(seat, None)
        for kind in KINDS:
            published = self._published.pop((seat, kind), None)
            if published is not None and self._plane is not None:
                self._plane.remove_stream(published.receiver)
        self._speaker.forget(seat)
        self._seat_locks.pop(seat, None)
        self._last_keyframe_request.pop(seat, None)
        for other in self._participants.values():
            for slot in other.slots:
                if slot.publisher == seat:
                    slot.publisher = None
                    if slot.materialized:
                        self._notify("tracks", other.seat)
        self.refresh()
        if participant is not None:
            await self._retire(participant)

    async def close(self) -> None:
        """Close every peer connection (graceful shutdown)."""
        self._closed = True
        for task in (self._speaker_task, self._feedback_task):
            if task is not None:
                task.cancel()
        self._tap.close()
        participants = list(self._participants.values())
        self._participants.clear()
        self._published.clear()
        await asyncio.gather(*(self._retire(p) for p in participants))
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stats(self) -> RouterStats:
        legs = self._retired_legs + [leg for leg in self._packet_legs()]
        return RouterStats(
            packets_in=self._packets_in + (self._plane.packets_in if self._plane is not None else 0),
            frames_forwarded=self._traffic.frames_forwarded + sum(leg.frames for leg in legs),
            bytes_forwarded=self._traffic.bytes_forwarded + sum(leg.octets for leg in legs),
            frames_dropped=self._traffic.frames_dropped,
            packets_forwarded=sum(leg.packets for leg in legs),
            packets_retransmitted=sum(leg.retransmitted for leg in legs),
            upstream_nacks=sum(leg.upstream_nacks for leg in legs),
            losses_nacked=self._plane.losses_nacked if self._plane is not None else 0,
            video_pauses=sum(leg.video_pauses for leg in legs),
            keyframe_requests=self._keyframe_requests,
            decoders_created=self._codec_counters.decoders_created,
            encoders_created=self._codec_counters.encoders_created,
            peers=len(self._participants),
        )

    # -- internals ---------------------------------------------------------------------

    def _require_open(self) -> None:
        if self._closed:
            raise SdpError("the media router is shut down")

    def _new_peer(self, seat: str) -> ParticipantPeer:
        peer = ParticipantPeer(
            seat,
            RTCConfiguration(iceServers=self._ice_servers),
            network=self._network,
            on_published=lambda track: self._track_published(seat, track),
        )
        aiortc_hooks.own_peer(peer.pc, self._codec_counters)
        return peer

    def _track_published(self, seat: str, published: PublishedTrack) -> None:
        """Runs inside aiortc's ``track`` event, before the receiver starts."""
        aiortc_hooks.route_receiver(
            published.receiver, published.kind, on_rtp=self._rtp_observer(seat, published.kind)
        )
        if self._plane is not None:
            self._plane.add_stream(seat, published.kind, published.receiver)
        key = (seat, published.kind)
        if key in self._published:
            for leg in self._legs_fed_by(seat, published.kind):
                leg.track.switch_source()
                if leg.packets is not None:
                    leg.packets.restart()
            if self._plane is not None:
                self._plane.remove_stream(self._published[key].receiver)
            self._tap.source_changed(seat, published.kind)
        self._published[key] = published
        self._spawn(self._pump(seat, published))
        for other in self._participants.values():
            if other.seat != seat and not any(slot.publisher == seat for slot in other.slots):
                self._add_slot(other, seat)
        self.refresh()

    def _add_slot(self, participant: _Participant, publisher: str) -> None:
        """Bind an idle slot (no renegotiation) or plan a new one (next offer)."""
        idle = next((slot for slot in participant.slots if slot.publisher is None), None)
        if idle is not None:
            idle.publisher = publisher
            for leg in idle.legs.values():
                leg.track.switch_source()
                if leg.packets is not None:
                    leg.packets.restart()
            self._rebuild_fanout()
            if idle.materialized:
                self._notify("tracks", participant.seat)
            return
        slot = _Slot(legs={}, publisher=publisher)
        slot.legs = {
            kind: _Leg(
                ForwardedTrack(kind, on_keyframe_needed=lambda: self._slot_needs_keyframe(slot), counters=self._traffic)
            )
            for kind in KINDS
        }
        participant.slots.append(slot)
        participant.peer.mark_renegotiation_needed()
        self._notify("offer", participant.seat)

    def _slot_needs_keyframe(self, slot: _Slot) -> None:
        if slot.publisher is not None:
            self.request_keyframe(slot.publisher)

    def _legs_fed_by(self, seat: str, kind: str) -> list[_Leg]:
        return [
            slot.legs[kind]
            for participant in self._participants.values()
            if participant.seat != seat
            for slot in participant.slots
            if slot.publisher == seat
        ]

    async def _pump(self, seat: str, published: PublishedTrack) -> None:
        """Fan one publisher track out to every subscribing leg and tap."""
        kind = published.kind
        try:
            while True:
                packet = await published.track.recv()
                if not isinstance(packet, av.Packet):
                    continue  # a decoded frame: the hook failed, and decoders_created shows it
                if self._published.get((seat, kind)) is not published:
                    continue  # a newer track of this kind (re-offer, screen share) replaced it
                if self._plane is None:
                    for leg in self._legs_fed_by(seat, kind):
                        leg.track.push(packet)
                self._tap.publish(seat, kind, packet)
        except MediaStreamError:
            pass
        finally:
            if self._published.get((seat, kind)) is published:
                del self._published[(seat, kind)]
                if self._plane is not None:
                    self._plane.remove_stream(published.receiver)
                if kind == "audio":
                    self._speaker.forget(seat)
                self.refresh()

    def _rtp_observer(self, seat: str, kind: str) -> Callable[[RtpPacket], None]:
        def observe(packet: RtpPacket) -> None:
            self._packets_in += 1
            if kind == "audio":
                level = aiortc_hooks.audio_level(packet)
                if level is not None:
                    self._speaker.observe(seat, level, time.monotonic())

        return observe

    def _allowed(self, subscriber: str, publisher: str, kind: str) -> bool:
        try:
            return bool(self._policy(subscriber, publisher, kind))
        except Exception:
            log.exception("routing policy failed for %s <- %s %s; not forwarding", subscriber, publisher, kind)
            return False

    def _deferred_keyframe(self, publisher_seat: str) -> None:
        self._deferred_keyframes.discard(publisher_seat)
        self.request_keyframe(publisher_seat)

    async def _send_keyframe_request(self, published: PublishedTrack) -> None:
        stream = self._plane.stream(published.receiver) if self._plane is not None else None
        if stream is not None:
            self._keyframe_requests += stream.picture_loss()
        else:
            self._keyframe_requests += await aiortc_hooks.request_keyframe(published.receiver)

    def _offer_if_slots_pending(self, participant: _Participant) -> None:
        if any(not slot.materialized for slot in participant.slots):
            participant.peer.mark_renegotiation_needed()
            self._notify("offer", participant.seat)

    def _notify(self, what: str, seat: str) -> None:
        """Callbacks run in their own task, never inside a negotiation step, once per burst."""
        callback = self._on_offer_needed if what == "offer" else self._on_tracks_changed
        if callback is None or (what, seat) in self._pending_notifications or self._closed:
            return
        self._pending_notifications.add((what, seat))

        async def deliver() -> None:
            self._pending_notifications.discard((what, seat))
            if seat in self._participants:
                await callback(seat)

        self._spawn(deliver())

    def _start_speaker_detection(self) -> None:
        if self._on_active_speaker is not None and self._speaker_task is None:
            self._speaker_task = asyncio.get_running_loop().create_task(self._announce_speakers())
        if self._plane is not None and self._feedback_task is None:
            self._feedback_task = asyncio.get_running_loop().create_task(self._send_feedback())

    async def _announce_speakers(self) -> None:
        """Tell each subscriber whose speaker changed, one call per new speaker."""
        assert self._on_active_speaker is not None
        while True:
            await asyncio.sleep(SPEAKER_EVALUATION_INTERVAL)
            audiences = {seat: self._heard_by(participant) for seat, participant in self._participants.items()}
            shown = self._speaker.speakers(audiences, time.monotonic())
            changes: dict[str | None, list[str]] = {}
            for subscriber, speaker in shown.items():
                if self._speaker_shown.get(subscriber) != speaker:
                    changes.setdefault(speaker, []).append(subscriber)
            self._speaker_shown = shown
            for speaker, subscribers in changes.items():
                try:
                    await self._on_active_speaker(subscribers, speaker)
                except Exception:
                    log.exception("on_active_speaker failed")

    @staticmethod
    def _heard_by(participant: _Participant) -> frozenset[str]:
        """The seats whose audio reaches this participant now (``refresh`` applied the policy),
        and its own: people see themselves highlighted when they speak."""
        heard = {participant.seat}
        for slot in participant.slots:
            leg = slot.legs.get("audio")
            if slot.publisher is None or leg is None:
                continue
            if leg.packets.active if leg.packets is not None else not leg.track.paused:
                heard.add(slot.publisher)
        return frozenset(heard)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("media router task failed", exc_info=task.exception())

    async def _retire(self, participant: _Participant) -> None:
        for slot in participant.slots:
            for leg in slot.legs.values():
                leg.track.stop()
                if leg.packets is not None:
                    leg.packets.set_active(False)
                    self._retired_legs.append(leg.packets)
                    leg.packets = None
        self._retired_legs = self._retired_legs[-64:]  # counters only; bounded
        await participant.peer.close()

    # -- the packet path -----------------------------------------------------------------

    def _packet_leg(self, transceiver: RTCRtpTransceiver, slot: _Slot) -> PacketLeg:
        sender = transceiver.sender
        leg = PacketLeg(
            transceiver.kind,
            packet_path.DirectSender(lambda: sender.transport),
            on_keyframe_request=lambda: self._slot_needs_keyframe(slot),
        )
        packet_path.on_sender_start(sender, leg.configure)
        packet_path.intercept_sender_rtcp(sender, leg.handle_rtcp)
        return leg

    def _packet_legs(self) -> list[PacketLeg]:
        return [
            leg.packets
            for participant in self._participants.values()
            for slot in participant.slots
            for leg in slot.legs.values()
            if leg.packets is not None
        ]

    def _rebuild_fanout(self) -> None:
        """Which legs each published stream feeds, and whether a tap needs its frames."""
        if self._plane is None:
            return
        for (seat, kind), published in self._published.items():
            stream = self._plane.stream(published.receiver)
            if stream is None:
                continue
            stream.legs = [
                leg.packets
                for leg in self._legs_fed_by(seat, kind)
                if leg.packets is not None and leg.packets.active
            ]
            stream.frames_wanted = self._tap.wants(seat, kind)

    def _audio_level(self, seat: str, level: int) -> None:
        self._speaker.observe(seat, level, time.monotonic())

    async def _send_feedback(self) -> None:
        """Receiver reports and REMB to publishers, congestion checks, sender reports."""
        assert self._plane is not None
        while True:
            await asyncio.sleep(FEEDBACK_INTERVAL)
            now = time.monotonic()
            try:
                self._plane.tick(now, self.request_keyframe)
                for participant in self._participants.values():
                    for slot in participant.slots:
                        for leg in slot.legs.values():
                            report = leg.packets.sender_report(now) if leg.packets is not None else None
                            if report is not None and leg.transceiver is not None:
                                packet_path.set_sender_report(leg.transceiver.sender, *report)
            except Exception:
                log.exception("media feedback failed")
