"""One recorded track as a series of self-contained WebM segment files, muxed without decoding or
encoding (video: PyAV ``add_mux_stream``, no codec at all; audio: see :func:`open_output`).

Runs in the session's writer thread (:mod:`recordings.mux_worker`), never on the event loop.
Timestamps arrive in microseconds on the session clock and are written unchanged (WebM stores
milliseconds), so every segment of every track sits on the same timeline. A segment is written
to a spool file and committed (hashed, fsynced, renamed) when it is cut: after ``kill -9`` every
committed segment plays, and the spool file of the open one is what recovery salvages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from .storage import RecordingStorage
from .store import ClosedSegment

log = logging.getLogger(__name__)

MICROSECOND = Fraction(1, 1_000_000)
CODECS = {"video": "vp8", "audio": "opus"}
#: A frame's length when the next frame is not known (the last one of a segment).
DEFAULT_FRAME_US = {"video": 33_333, "audio": 20_000}
OPUS_RATE = 48_000
#: Matroska keeps a cluster in memory until it ends: short clusters, each written out at once, so a
#: crash loses at most 0.2 s of the open segment (what recovery salvages from its spool).
MUXER_OPTIONS = {"cluster_time_limit": "200", "flush_packets": "1"}


def vp8_dimensions(frame: bytes) -> tuple[int, int] | None:
    """Width and height from a VP8 keyframe's header (RFC 6386 §9.1), ``None`` for other frames."""
    if len(frame) < 10 or frame[0] & 1 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    return int.from_bytes(frame[6:8], "little") & 0x3FFF, int.from_bytes(frame[8:10], "little") & 0x3FFF


def segment_key(session_id: str, track_id: str, index: int) -> str:
    return f"{session_id}/{track_id}/{index:05d}.webm"


def open_output(path: Path, kind: str, dimensions: tuple[int, int] | None) -> tuple[av.container.OutputContainer,
                                                                                    av.stream.Stream]:
    output = av.open(str(path), "w", format="webm", options=MUXER_OPTIONS)
    if kind == "video":
        width, height = dimensions or (0, 0)
        stream = output.add_mux_stream(CODECS[kind], rate=30, width=width, height=height)
    else:
        # WebM players (Chrome among them) need the Opus header ("OpusHead") as the track's
        # CodecPrivate, and libavformat only has it from an opened encoder context: one is opened
        # (about 1 ms per segment file) and never given a frame. Its pre-skip (312 samples, 6.5 ms)
        # is what players drop at the start of each file.
        stream = output.add_stream("libopus", rate=OPUS_RATE)
        stream.layout = "stereo"
    return output, stream


@dataclass
class _OpenSegment:
    index: int
    key: str
    output: av.container.OutputContainer
    stream: av.stream.Stream
    start_us: int
    last_us: int
    last_delta_us: int
    frames: int


class TrackWriter:
    """Writes one track's frames; ``cut()`` ends the current segment (the next frame starts one)."""

    def __init__(self, storage: RecordingStorage, session_id: str, track_id: str, kind: str, first_index: int = 0):
        if kind not in CODECS:
            raise ValueError(f"unknown media kind {kind!r}")
        self.storage = storage
        self.session_id = session_id
        self.track_id = track_id
        self.kind = kind
        self.next_index = first_index
        self._segment: _OpenSegment | None = None

    def write(self, packet: av.Packet, pts_us: int, keyframe: bool) -> None:
        """Mux ``packet`` (taken over: it is retimed in place) at ``pts_us`` on the session clock."""
        segment = self._segment or self._open(bytes(packet)[:10], pts_us)
        packet.pts = packet.dts = pts_us
        packet.time_base = MICROSECOND
        packet.is_keyframe = keyframe
        packet.stream = segment.stream
        segment.output.mux(packet)
        if segment.frames:
            segment.last_delta_us = pts_us - segment.last_us
        segment.last_us = pts_us
        segment.frames += 1

    def cut(self) -> ClosedSegment | None:
        """Close, hash and commit the open segment, if any."""
        segment, self._segment = self._segment, None
        if segment is None:
            return None
        segment.output.close()
        sha256, size = self.storage.commit(segment.key)
        return ClosedSegment(index=segment.index, sha256=sha256, size=size, start_us=segment.start_us,
                             end_us=segment.last_us + segment.last_delta_us, frames=segment.frames, path=segment.key)

    def abandon(self) -> None:
        """Drop the open segment (the writer failed): its spool file goes."""
        segment, self._segment = self._segment, None
        if segment is not None:
            try:
                segment.output.close()
            except (av.FFmpegError, OSError):
                pass
            self.storage.discard_spool(segment.key)

    def _open(self, frame_head: bytes, pts_us: int) -> _OpenSegment:
        key = segment_key(self.session_id, self.track_id, self.next_index)
        dimensions = vp8_dimensions(frame_head) if self.kind == "video" else None
        output, stream = open_output(self.storage.spool(key), self.kind, dimensions)
        self._segment = _OpenSegment(self.next_index, key, output, stream, pts_us, pts_us,
                                     DEFAULT_FRAME_US[self.kind], 0)
        self.next_index += 1
        return self._segment


@dataclass(frozen=True)
class Remuxed:
    frames: int
    start_us: int | None
    end_us: int | None
    complete: bool  # False: reading stopped at damage (a truncated file)


def remux(sources: list[Path], destination: Path | None, kind: str) -> Remuxed:
    """Copy the packets of ``sources`` in order into one WebM file (no decoding or encoding), up to
    the first unreadable packet. Joins a track's segments; salvages a crashed segment's spool file.
    Without a ``destination`` it only reads (what a file holds)."""
    output: av.container.OutputContainer | None = None
    stream = None
    frames, start, end, last_delta, complete = 0, None, None, DEFAULT_FRAME_US[kind], True
    try:
        for source in sources:
            try:
                container = av.open(str(source))
            except (av.FFmpegError, OSError):
                complete = False
                break
            with container:
                try:
                    for packet in container.demux(container.streams[0]):
                        if packet.size == 0 or packet.pts is None:
                            continue
                        pts_us = int(packet.pts * packet.time_base / MICROSECOND)
                        if start is None:
                            dims = vp8_dimensions(bytes(packet)) if kind == "video" else None
                            if kind == "video" and dims is None:
                                continue  # a video file must start at a keyframe
                            if destination is not None:
                                output, stream = open_output(destination, kind, dims)
                            start = pts_us
                        if end is not None and pts_us > end:
                            last_delta = pts_us - end
                        if output is not None:
                            copy = av.Packet(bytes(packet))
                            copy.pts = copy.dts = pts_us
                            copy.time_base = MICROSECOND
                            copy.is_keyframe = packet.is_keyframe
                            copy.stream = stream
                            output.mux(copy)
                        frames += 1
                        end = pts_us
                except (av.FFmpegError, OSError):
                    complete = False
                    break
    finally:
        if output is not None:
            output.close()
    return Remuxed(frames, start, None if end is None else end + last_delta, complete)


def join_track(storage: RecordingStorage, session_id: str, track_id: str, kind: str,
               keys: list[str]) -> tuple[str, str] | None:
    """One playable file of the whole track from its segments (for playback and the composite):
    its key and SHA-256, or ``None`` if nothing in them plays."""
    key = f"{session_id}/{track_id}.webm"
    result = remux([storage.local_path(k) for k in keys], storage.spool(key), kind)
    if result.frames == 0:
        storage.discard_spool(key)
        return None
    sha256, _size = storage.commit(key, replace=True)  # derived from the segments: redone after a crash
    return key, sha256
