"""Chromium's fake camera fed a y4m made from a photo: matplotlib's ``grace_hopper.jpg`` by
default (the room tests, the identity check's enrolled person), or any other picture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

CAMERA_SIZE = (640, 480)
CAMERA_FPS = 15
CAMERA_SECONDS = 2


def _rgb_to_i420(rgb: np.ndarray) -> bytes:
    """BT.601 limited-range RGB → planar YUV 4:2:0, the layout y4m ``C420jpeg`` expects."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + 0.257 * r + 0.504 * g + 0.098 * b
    u = 128 - 0.148 * r - 0.291 * g + 0.439 * b
    v = 128 + 0.439 * r - 0.368 * g - 0.071 * b

    def sub(plane: np.ndarray) -> np.ndarray:
        return plane.reshape(plane.shape[0] // 2, 2, plane.shape[1] // 2, 2).mean(axis=(1, 3))

    planes = [y, sub(u), sub(v)]
    return b"".join(np.clip(p, 0, 255).round().astype(np.uint8).tobytes() for p in planes)


def grace_hopper_image() -> Image.Image:
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        return Image.open(fh).convert("RGB")


def make_fake_camera(path: Path, picture: Image.Image | None = None) -> Path:
    """Write a looping y4m of ``picture`` (Grace Hopper by default) drifting slowly left and right
    (so VP8 keeps sending)."""
    width, height = CAMERA_SIZE
    margin = 40
    image = picture.convert("RGB") if picture is not None else grace_hopper_image()
    scale = max((width + 2 * margin) / image.width, height / image.height)
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    canvas = np.asarray(image)
    top = (canvas.shape[0] - height) // 2
    frames = CAMERA_FPS * CAMERA_SECONDS
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{CAMERA_FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(frames):
            # Out and back, so the loop has no jump.
            x = round(2 * margin * (1 - abs(2 * n / frames - 1)))
            out.write(b"FRAME\n")
            out.write(_rgb_to_i420(canvas[top:top + height, x:x + width]))
    tmp.replace(path)
    return path
