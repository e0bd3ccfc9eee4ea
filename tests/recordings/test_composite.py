"""The review composite (worker process): one tile per participant with their name, the mixed
audio, VP8/Opus WebM that decodes, on the session clock (a participant who joined late appears late)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from recordings.composite import FPS, LABEL_H, TILE_H, TILE_W, CompositeWorker, Tile, grid, read_progress


def _video(path: Path, colour: tuple[int, int, int], seconds: float, start_s: float = 0.0) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=15)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for n in range(int(seconds * 15)):
            img = np.full((120, 160, 3), colour, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = int((start_s + n / 15) * 1000), Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _tone(path: Path, hz: float, seconds: float) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        for n in range(int(seconds * 50)):
            t = (np.arange(960) + n * 960) / 48000
            data = (np.sin(2 * math.pi * hz * t) * 0.3).astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(data, format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, n * 960, Fraction(1, 48000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_grid_shapes() -> None:
    assert [grid(n) for n in (1, 2, 3, 4, 5)] == [(1, 1), (2, 1), (2, 2), (2, 2), (3, 2)]


@pytest.mark.timeout(120)
async def test_a_composite_of_three_participants(tmp_path: Path) -> None:
    tiles = [Tile("调解员 李", _video(tmp_path / "m.webm", (200, 30, 30), 6), _tone(tmp_path / "m.opus.webm", 440, 6)),
             Tile("申请人 张三", _video(tmp_path / "a.webm", (30, 200, 30), 3, start_s=3), None),
             Tile("Observer", None, _tone(tmp_path / "o.opus.webm", 660, 6))]
    out, progress = tmp_path / "composite.webm", tmp_path / "composite.progress"
    worker = CompositeWorker()
    try:
        result = await worker.render(tiles, 6.0, out, progress)
    finally:
        worker.close()
    assert result.tiles == 3 and read_progress(progress) == 1.0
    with av.open(str(out)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.name, container.streams.audio[0].codec_context.name) == ("vp8", "opus")
        assert (video.width, video.height) == (2 * TILE_W, 2 * TILE_H)  # three tiles: a 2x2 grid
        pictures = [(float(f.pts * f.time_base), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    assert len(pictures) == 6 * FPS
    assert abs(pictures[-1][0] - 6.0) < 0.2

    def tile_colour(picture: np.ndarray, index: int) -> np.ndarray:
        r, c = divmod(index, 2)
        return picture[r * TILE_H + 20:r * TILE_H + TILE_H - LABEL_H - 20, c * TILE_W + 20:(c + 1) * TILE_W - 80] \
            .reshape(-1, 3).mean(axis=0)

    early, late = pictures[FPS][1], pictures[5 * FPS][1]
    assert tile_colour(early, 0)[0] > 150 and tile_colour(early, 0)[1] < 80  # the mediator, red
    assert tile_colour(early, 1).max() < 30  # Zhang San joins at 3 s: black until then
    assert tile_colour(late, 1)[1] > 150 and tile_colour(late, 1)[0] < 80  # then green
    name_band = early[TILE_H - LABEL_H:TILE_H, :TILE_W]
    assert (name_band > 200).any()  # the name is written in the tile
    with av.open(str(out)) as container:
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    assert len(samples) / 48000 == pytest.approx(6.0, abs=0.1)
    assert float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) > 0.2  # two tones mixed, not silence
