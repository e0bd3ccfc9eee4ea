"""Faces for the identity tests and bench: Grace Hopper (matplotlib's sample) as the enrolled
person, her photo altered the ways a live camera alters a face, and other people (skimage's
astronaut and cameraman; the 25x25 LFW faces of ``skimage.data.lfw_subset``, enlarged — the
"tiny enlarged face" case)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import av
import cv2
import numpy as np
from matplotlib import cbook
from skimage import data


def grace_hopper_jpeg() -> bytes:
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        return fh.read()


def grace_hopper() -> np.ndarray:
    return decode(grace_hopper_jpeg())


def astronaut() -> np.ndarray:
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def cameraman() -> np.ndarray:
    return cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)


def lfw_enlarged(size: int = 200) -> list[np.ndarray]:
    """The 100 LFW faces of skimage's subset (25x25 grey), enlarged to ``size`` and framed."""
    faces = data.lfw_subset()[:100]
    out = []
    for face in faces:
        grey = cv2.resize((face * 255).astype(np.uint8), (size, size), interpolation=cv2.INTER_CUBIC)
        out.append(cv2.copyMakeBorder(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR), size // 2, size // 2, size // 2,
                                      size // 2, cv2.BORDER_CONSTANT, value=(128, 128, 128)))
    return out


def decode(blob: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_COLOR)


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    ok, blob = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return blob.tobytes()


def png(image: np.ndarray) -> bytes:
    ok, blob = cv2.imencode(".png", image)
    assert ok
    return blob.tobytes()


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(image.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def scale(image: np.ndarray, factor: float) -> np.ndarray:
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def crop(image: np.ndarray) -> np.ndarray:
    """The central part: 80 % of the width, 75 % of the height, shifted up a little."""
    height, width = image.shape[:2]
    return image[int(height * 0.05):int(height * 0.8), int(width * 0.1):int(width * 0.9)].copy()


AUGMENTATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "original": lambda im: im,
    "crop": crop,
    "scale_0.5": lambda im: scale(im, 0.5),
    "brighter_30": lambda im: brightness(im, 1.3),
    "darker_30": lambda im: brightness(im, 0.7),
    "jpeg_q30": lambda im: decode(jpeg(im, 30)),
    "rotate_+10": lambda im: rotate(im, 10),
    "rotate_-10": lambda im: rotate(im, -10),
    "flip": lambda im: cv2.flip(im, 1),
}


def webcam_frame(image: np.ndarray, face_height: int = 360) -> np.ndarray:
    """``image`` scaled to ``face_height`` rows and centred on a 640x480 grey frame, like a camera's."""
    factor = face_height / image.shape[0]
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640, 3), 96, np.uint8)
    h, w = small.shape[:2]
    top, left = (480 - h) // 2, (640 - w) // 2
    frame[top:top + h, left:left + w] = small[:480, :640]
    return frame


def held_photo(frame: np.ndarray, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0,
               distance: float = 1.0, shift: tuple[float, float] = (0.0, 0.0),
               focal_px: float = 600.0) -> np.ndarray:
    """``frame`` as a flat picture held in front of the camera: turned, tilted and rotated by the
    given degrees about its centre, at ``distance`` times the distance where it fills the frame
    1:1, moved by ``shift`` pixels — a perspective warp, as a printed photo or a phone screen shows."""
    from head_tracks import rotation

    height, width = frame.shape[:2]
    centre = np.array([width / 2, height / 2])
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    placed = np.c_[corners - centre, np.zeros(4)] @ rotation(yaw, pitch, roll).T
    depth = placed[:, 2] + focal_px * distance
    seen = (focal_px * placed[:, :2] / depth[:, None] + centre + np.asarray(shift)).astype(np.float32)
    warp = cv2.getPerspectiveTransform(corners, seen)
    return cv2.warpPerspective(frame, warp, (width, height), borderMode=cv2.BORDER_CONSTANT,
                               borderValue=(96, 96, 96))


def side_by_side(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two portraits pasted next to each other at the same height (two people in one picture)."""
    height = min(left.shape[0], right.shape[0])
    resized = [cv2.resize(im, (round(im.shape[1] * height / im.shape[0]), height)) for im in (left, right)]
    return np.hstack(resized)


def write_webm(path: Path, image: np.ndarray | Sequence[np.ndarray], frames: int, fps: int = 10) -> None:
    """A VP8 WebM of ``frames`` frames — ``image`` repeated, or the given images in turn — like a
    recorded seat's segment file (it starts with a keyframe)."""
    images = [image] * frames if isinstance(image, np.ndarray) else list(image)[:frames]
    height, width = (d - d % 2 for d in images[0].shape[:2])
    with av.open(str(path), "w", format="webm") as output:
        stream = output.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for picture in images:
            output.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(picture[:height, :width]),
                                                                format="bgr24")))
        output.mux(stream.encode(None))
