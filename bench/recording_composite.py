"""Review composite render speed: N participants' recorded tracks (VP8 640x480 15 fps with a moving
picture, Opus tone) of ``--seconds`` each, rendered by the worker process into one composite.

Reported (JSON lines ``{"metric", "value", "unit"}``):
- ``composite_render_speed``: seconds of session per wall-clock second of rendering (> 1: faster
  than real time), worker process start included;
- ``composite_render_seconds``: wall time of the render;
- ``composite_bytes_per_minute``: size of the composite per minute of session.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av  # noqa: E402
import numpy as np  # noqa: E402

from bench.forwarding import emit  # noqa: E402
from recordings.composite import CompositeWorker, Tile  # noqa: E402


def _video(path: Path, seconds: float, shade: int) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=15)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
        for n in range(int(seconds * 15)):
            img = np.full((480, 640, 3), shade, dtype=np.uint8)
            x = (n * 8) % 600
            img[:, x:x + 40] = (255, 200, 0)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = n, Fraction(1, 15)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _audio(path: Path, seconds: float, hz: float) -> Path:
    with av.open(str(path), "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        for n in range(int(seconds * 50)):
            t = (np.arange(960) + n * 960) / 48000
            frame = av.AudioFrame.from_ndarray((np.sin(2 * math.pi * hz * t) * 0.3).astype(np.float32).reshape(1, -1),
                                               format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 48000, n * 960, Fraction(1, 48000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tiles = [Tile(f"参与者 {i + 1}", _video(root / f"v{i}.webm", args.seconds, 40 * i),
                      _audio(root / f"a{i}.webm", args.seconds, 300 + 110 * i)) for i in range(args.participants)]
        worker = CompositeWorker()
        out = root / "composite.webm"
        started = time.monotonic()
        try:
            await worker.render(tiles, args.seconds, out, root / "progress.txt")
        finally:
            worker.close()
        wall = time.monotonic() - started
        emit("composite_render_speed", round(args.seconds / wall, 2), f"x real time ({args.participants} participants)")
        emit("composite_render_seconds", round(wall, 1), "s")
        emit("composite_bytes_per_minute", round(out.stat().st_size / (args.seconds / 60)), "bytes")


if __name__ == "__main__":
    asyncio.run(main())
