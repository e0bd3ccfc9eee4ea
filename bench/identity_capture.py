"""Live-capture benchmark: what the server's frame sampler costs for one identity check.

* milliseconds to decode 3 s of 640x480 VP8 (30 fps, from the first keyframe) and convert the 12
  sampled frames to BGR — the work of :func:`rtc.frame_sampler.decode_sampled` in its worker thread;
* the same per decoded frame.

Run from the repository root: ``.venv/bin/python bench/identity_capture.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from matplotlib import cbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rtc.frame_sampler import decode_sampled  # noqa: E402

FPS = 30
SECONDS = 3


def encoded_clip() -> list[av.Packet]:
    """Grace Hopper drifting sideways, 640x480 VP8 with RTP timestamps, as the tap delivers it."""
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        face = cv2.imdecode(np.frombuffer(fh.read(), np.uint8), cv2.IMREAD_COLOR)
    canvas = cv2.resize(face, (720, 480))
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 480, "yuv420p"
    encoder.time_base = Fraction(1, FPS)
    encoder.bit_rate = 1_000_000
    packets: list[av.Packet] = []
    for i in range(FPS * SECONDS):
        x = i % 80
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(canvas[:, x:x + 640]), format="bgr24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = i
        packets += encoder.encode(frame)
    packets += list(encoder.encode(None))
    for packet in packets:
        packet.pts = packet.pts * 90000 // FPS
        packet.time_base = Fraction(1, 90000)
    return packets


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    packets = encoded_clip()
    timings = []
    for _ in range(args.rounds):
        began = time.perf_counter()
        frames = decode_sampled(packets, fps=4.0, max_frames=12)
        timings.append((time.perf_counter() - began) * 1000)
    assert len(frames) == 12 and frames[0].image.shape == (480, 640, 3)
    median = statistics.median(timings)
    print(json.dumps({"metric": "identity_capture_decode_3s_640x480_ms", "value": round(median, 1), "unit": "ms"}))
    print(json.dumps({"metric": "identity_capture_decode_per_frame_ms", "value": round(median / len(packets), 2),
                      "unit": "ms"}))
    print(json.dumps({"metric": "load_average_1min", "value": round(os.getloadavg()[0], 2), "unit": "load"}))


if __name__ == "__main__":
    main()
