"""The review composite: one WebM per session that a person can watch — every recorded participant
in a grid with their name, everyone's audio mixed, and the session clock burnt in as a timecode.

It is the only place recordings are decoded and encoded (VP8 + Opus through PyAV), so it runs in a
worker process of its own (:class:`CompositeWorker`), never on the server's event loop. The
evidence stays the per-track files; the composite is listed in the session manifest with its hash
like any other file. Progress (0..1) is written to a small file next to the output as it renders.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import math
import multiprocessing
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

TILE_W, TILE_H = 320, 240
FPS = 15
SAMPLE_RATE = 48_000
AUDIO_FRAME = 960  # 20 ms
LABEL_H = 28
#: Noto Sans CJK (Debian's fonts-noto-cjk), face 2 of the collection is Simplified Chinese.
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_INDEX = 2


@dataclass(frozen=True)
class Tile:
    """One participant: their name and their joined track files (either may be missing)."""

    name: str
    video: Path | None
    audio: Path | None


@dataclass(frozen=True)
class CompositeResult:
    duration_s: float
    video_frames: int
    tiles: int


def grid(n: int) -> tuple[int, int]:
    """(columns, rows) of the smallest near-square grid with ``n`` tiles."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return cols, max(1, math.ceil(n / cols))


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONT), size, index=FONT_INDEX)
    except OSError:  # no CJK font installed: names still show in Latin script
        return ImageFont.load_default(size)


def _label(text: str, width: int, height: int, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> np.ndarray:
    """White text on a dark band, as an RGB array."""
    band = Image.new("RGB", (width, height), (24, 24, 24))
    ImageDraw.Draw(band).text((8, height // 2), text, fill=(255, 255, 255), font=font, anchor="lm")
    return np.asarray(band)


def _video_frames(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """(time on the session clock, tile-sized RGB) for each decoded frame of a track file."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.pts is None:
                continue
            picture = frame.reformat(width=TILE_W, height=TILE_H - LABEL_H, format="rgb24").to_ndarray()
            yield float(frame.pts * frame.time_base), picture


def _audio_samples(path: Path, total: int) -> np.ndarray:
    """The track as mono float32 at 48 kHz placed on the session clock, ``total`` samples long."""
    out = np.zeros(total, dtype=np.float32)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            if frame.pts is None:
                continue
            start = int(round(float(frame.pts * frame.time_base) * SAMPLE_RATE))
            for piece in resampler.resample(frame):
                data = piece.to_ndarray().reshape(-1)
                if start >= total:
                    break
                end = min(total, start + len(data))
                if end > max(start, 0):
                    out[max(start, 0):end] += data[max(0, -start):end - start]
                start += len(data)
    return out


@functools.lru_cache(maxsize=4)
def _stamp(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> np.ndarray:
    """The timecode as a small RGB patch (drawn once per tenth of a second, pasted into each frame)."""
    patch = Image.new("RGB", (130, 26), (0, 0, 0))
    ImageDraw.Draw(patch).text((125, 13), text, fill=(255, 255, 0), font=font, anchor="rm")
    return np.asarray(patch)


def _timecode(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{int((seconds - whole) * 10)}"


def render(tiles: list[Tile], duration_s: float, output: Path, progress: Path | None = None) -> CompositeResult:
    """Render the composite of ``duration_s`` seconds of session clock into ``output`` (WebM)."""
    cols, rows = grid(len(tiles))
    width, height = cols * TILE_W, rows * TILE_H
    font, small = _font(18), _font(16)
    labels = [_label(t.name, TILE_W, LABEL_H, font) for t in tiles]
    frames_total = max(1, int(math.ceil(duration_s * FPS)))
    samples_total = int(duration_s * SAMPLE_RATE)
    mixed = np.zeros(samples_total, dtype=np.float32)
    for tile in tiles:
        if tile.audio is not None:
            mixed += _audio_samples(tile.audio, samples_total)
    np.clip(mixed, -1.0, 1.0, out=mixed)
    sources = [_video_frames(t.video) if t.video is not None else iter(()) for t in tiles]
    pending: list[tuple[float, np.ndarray] | None] = [next(s, None) for s in sources]
    shown = [np.zeros((TILE_H - LABEL_H, TILE_W, 3), dtype=np.uint8) for _ in tiles]
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    for i, label in enumerate(labels):
        r, c = divmod(i, cols)
        canvas[r * TILE_H + TILE_H - LABEL_H:(r + 1) * TILE_H, c * TILE_W:(c + 1) * TILE_W] = label

    with av.open(str(output), "w", format="webm") as container:
        vstream = container.add_stream("libvpx", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.bit_rate = 600_000 * len(tiles)
        vstream.codec_context.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
        astream = container.add_stream("libopus", rate=SAMPLE_RATE)
        astream.layout = "mono"
        astream.bit_rate = 64_000
        audio_at = 0
        for n in range(frames_total):
            t = n / FPS
            for i, source in enumerate(sources):  # hold each participant's newest frame up to t
                while pending[i] is not None and pending[i][0] <= t:  # type: ignore[index]
                    shown[i] = pending[i][1]  # type: ignore[index]
                    pending[i] = next(source, None)
                r, c = divmod(i, cols)
                canvas[r * TILE_H:r * TILE_H + TILE_H - LABEL_H, c * TILE_W:(c + 1) * TILE_W] = shown[i]
            stamp = _stamp(_timecode(t), small)
            canvas[4:4 + stamp.shape[0], width - 4 - stamp.shape[1]:width - 4] = stamp
            frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, FPS)
            container.mux(vstream.encode(frame))
            until = min(samples_total, int((n + 1) / FPS * SAMPLE_RATE))
            while audio_at + AUDIO_FRAME <= until or (n == frames_total - 1 and audio_at < samples_total):
                chunk = mixed[audio_at:audio_at + AUDIO_FRAME]
                if len(chunk) < AUDIO_FRAME:
                    chunk = np.pad(chunk, (0, AUDIO_FRAME - len(chunk)))
                audio = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
                audio.sample_rate, audio.pts, audio.time_base = SAMPLE_RATE, audio_at, Fraction(1, SAMPLE_RATE)
                container.mux(astream.encode(audio))
                audio_at += AUDIO_FRAME
            if progress is not None and n % FPS == 0:
                _write_progress(progress, n / frames_total)
        container.mux(vstream.encode(None))
        container.mux(astream.encode(None))
    if progress is not None:
        _write_progress(progress, 1.0)
    return CompositeResult(duration_s, frames_total, len(tiles))


def _write_progress(path: Path, fraction: float) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(f"{fraction:.3f}")
    os.replace(tmp, path)


def read_progress(path: Path) -> float | None:
    try:
        return float(path.read_text())
    except (OSError, ValueError):
        return None


class CompositeWorker:
    """One worker process (spawned, so nothing of the server's state or threads is inherited)
    that renders composites one after another."""

    def __init__(self) -> None:
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    async def render(self, tiles: list[Tile], duration_s: float, output: Path, progress: Path) -> CompositeResult:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        return await asyncio.get_running_loop().run_in_executor(self._pool, render, tiles, duration_s, output,
                                                                progress)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
