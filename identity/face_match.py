"""Face match: is the person on the live frames the person on the enrolled reference photo?

YuNet finds faces and their 5 landmarks; SFace turns an aligned 112x112 crop into a 128-d
embedding; two faces are the same person when the cosine of their embeddings reaches
:data:`MATCH_THRESHOLD` (calibration: README, "Identity checks").

Rules, each because of a way the check could be fooled or could judge on too little:

- *Exactly one face* (:func:`single_face`): a second face of at least half the minimum size in
  any frame fails the check (someone else in view could be the one answering); smaller faces
  (a poster far behind) are ignored.
- *A minimum face size* (:data:`MIN_FACE_PX`, the shorter side of YuNet's box in the image's own
  pixels): SFace enlarges whatever it gets to 112x112, and a prototype accepted a tiny enlarged
  face of someone else at 0.47. Faces are measured before any enlargement we do, so only an image
  that was itself blown up could get a small face past this rule.
- *The median, not the best frame* (:func:`match_frames`): the score is the median cosine over the
  usable frames, and at least half of the frames must be usable — one lucky frame does not pass.

Everything here is CPU-heavy and synchronous: call it through :mod:`identity.worker`, never on
the event loop. Embeddings are biometric data: they are kept out of ``repr`` and never logged.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence, TypeVar

import cv2
import numpy as np

from identity.errors import IdentityInputError
from identity.models import MODEL_SHA256, face_models

#: Cosine at or above which two faces are the same person (OpenCV documents 0.363 for SFace; see
#: the README for the scores measured here).
_T = TypeVar("_T")

MATCH_THRESHOLD = 0.40
#: A face's box must be at least this many pixels on its shorter side (in the image as given).
MIN_FACE_PX = 64
#: Faces at least this big count as "another person in view" even when too small to be judged.
COUNTED_FACE_PX = MIN_FACE_PX // 2
#: Detection runs on a copy whose longer side is at most this (faces are measured at full size):
#: 640 for reference photos and liveness landmarks (precise points); live frames compared by face
#: use 320, four times cheaper, with the same scores to ±0.05 (README, "Identity checks").
DETECT_MAX_SIDE = 640
FRAME_DETECT_MAX_SIDE = 320
#: Bounds on a reference upload: bytes, and pixels read from the header before decoding.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 25_000_000
#: At most this many frames are examined (evenly spaced); more adds time, not evidence.
MAX_FRAMES = 30

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class DetectedFace:
    """One face YuNet found: box ``(x, y, w, h)`` and 5 landmarks ``(x, y)`` in the image's own
    pixels — right eye, left eye, nose tip, right and left mouth corner (YuNet's order: the
    person's right eye is on the viewer's left)."""

    box: tuple[float, float, float, float]
    landmarks: tuple[tuple[float, float], ...]
    confidence: float

    @property
    def size(self) -> float:
        return min(self.box[2], self.box[3])

    def yunet_row(self) -> np.ndarray:
        """The 15-value row OpenCV's ``alignCrop`` expects."""
        values = [*self.box, *(c for point in self.landmarks for c in point), self.confidence]
        return np.asarray(values, dtype=np.float32)


@dataclass(frozen=True)
class ReferenceFace:
    """The enrolled face: its unit-length embedding (biometric data: not in ``repr``) and size."""

    embedding: np.ndarray = field(repr=False)
    face_px: int


@dataclass(frozen=True)
class FaceMatchResult:
    """The verdict of one live check, kept as evidence (attestation) — never the frames themselves.

    ``reason`` is ``None`` when passed, else ``no_face``, ``several_faces``, ``face_too_small``,
    ``no_match`` or ``no_frames``. ``score`` is the median cosine over the usable frames (``None``
    when no frame was usable); ``frames_sha256`` covers every frame examined, in order, with its
    shape (:func:`frames_digest`)."""

    passed: bool
    score: float | None
    threshold: float
    reason: str | None
    frames_used: int
    frames_sha256: str
    model_sha256: dict[str, str]
    #: The usable live frames' embeddings (biometric: in memory only, never stored or attested),
    #: reused by the recorded-session comparison instead of embedding the frames again.
    embeddings: tuple[np.ndarray, ...] = field(default=(), repr=False, compare=False)


def detect_faces(image: np.ndarray, max_side: int = DETECT_MAX_SIDE) -> list[DetectedFace]:
    """Every face YuNet finds in a BGR image, in the image's own pixel coordinates. Larger images
    are searched on a copy reduced to ``max_side`` to bound the work."""
    _check_frame(image)
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    probe = image if scale == 1.0 else cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                                                  interpolation=cv2.INTER_AREA)
    detector = face_models().detector
    detector.setInputSize((probe.shape[1], probe.shape[0]))
    _, rows = detector.detect(probe)
    if rows is None:
        return []
    faces = []
    for row in rows:
        coords = [float(v) / scale for v in row[:14]]
        faces.append(DetectedFace(box=(coords[0], coords[1], coords[2], coords[3]),
                                  landmarks=tuple((coords[i], coords[i + 1]) for i in range(4, 14, 2)),
                                  confidence=float(row[14])))
    return faces


def single_face(faces: Sequence[DetectedFace]) -> DetectedFace | str:
    """The one face big enough to judge, or why there is none: ``several_faces`` (two faces of at
    least :data:`COUNTED_FACE_PX`), ``face_too_small`` or ``no_face``."""
    counted = [f for f in faces if f.size >= COUNTED_FACE_PX]
    if len(counted) > 1:
        return "several_faces"
    big = [f for f in counted if f.size >= MIN_FACE_PX]
    if big:
        return big[0]
    return "face_too_small" if faces else "no_face"


def embed(image: np.ndarray, face: DetectedFace) -> np.ndarray:
    """SFace's embedding of ``face`` (aligned on its landmarks), scaled to unit length."""
    recognizer = face_models().recognizer
    crop = recognizer.alignCrop(image, face.yunet_row())
    vector = np.asarray(recognizer.feature(crop), dtype=np.float64).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def decode_image(image_bytes: bytes) -> np.ndarray:
    """A JPEG or PNG upload as a BGR array (EXIF orientation applied), within the size bounds.
    Raises :class:`IdentityInputError` (``image_too_large``, ``image_unreadable``)."""
    if len(image_bytes) > MAX_IMAGE_BYTES:
        raise IdentityInputError("image_too_large",
                                 f"the photo is {len(image_bytes)} bytes; at most {MAX_IMAGE_BYTES} are accepted",
                                 {"max_bytes": MAX_IMAGE_BYTES})
    dimensions = _header_dimensions(image_bytes)
    if dimensions is None:
        raise IdentityInputError("image_unreadable", "the photo is not a readable JPEG or PNG image")
    width, height = dimensions
    if width * height > MAX_IMAGE_PIXELS:
        raise IdentityInputError("image_too_large",
                                 f"the photo is {width}x{height} pixels; at most {MAX_IMAGE_PIXELS} pixels are accepted",
                                 {"max_pixels": MAX_IMAGE_PIXELS})
    image = cv2.imdecode(np.frombuffer(image_bytes, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.size == 0:
        raise IdentityInputError("image_unreadable", "the photo could not be decoded")
    return image


def jpeg_bytes(image: np.ndarray, quality: int = 90) -> bytes:
    """A BGR frame as JPEG (what a real-name provider is sent: one live frame, never kept here)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("the frame could not be encoded as JPEG")
    return encoded.tobytes()


def reference_face(image_bytes: bytes) -> ReferenceFace:
    """The enrolled face of a reference photo: exactly one face of at least :data:`MIN_FACE_PX`.
    Raises :class:`IdentityInputError` with the reason as ``code``."""
    image = decode_image(image_bytes)
    found = single_face(detect_faces(image))
    if isinstance(found, str):
        raise IdentityInputError(found, _REFERENCE_REFUSALS[found], {"min_face_px": MIN_FACE_PX})
    return ReferenceFace(embedding=embed(image, found), face_px=int(found.size))


_REFERENCE_REFUSALS = {
    "no_face": "no face was found on the photo",
    "several_faces": "the photo shows more than one face; use a photo of the person alone",
    "face_too_small": f"the face on the photo is too small (at least {MIN_FACE_PX} pixels wide is needed)",
}


def match_frames(reference: ReferenceFace, frames: Sequence[np.ndarray]) -> FaceMatchResult:
    """Compare live BGR frames with the reference.

    Each frame must show exactly one face of the minimum size (:func:`single_face`). The check
    passes when no frame shows several faces, at least half of the frames (and at least one) are
    usable, and the *median* cosine over the usable frames reaches :data:`MATCH_THRESHOLD`. When it
    fails for lack of usable frames, ``reason`` is the most frequent refusal among the frames."""
    examined = sample_frames(frames)
    digest = frames_digest(examined)
    if not examined:
        return _result(False, None, "no_frames", 0, digest)
    embeddings: list[np.ndarray] = []
    refusals: Counter[str] = Counter()
    for frame in examined:
        found = single_face(detect_faces(frame, FRAME_DETECT_MAX_SIDE))
        if isinstance(found, str):
            refusals[found] += 1
            continue
        embeddings.append(embed(frame, found))
    scores = [float(np.dot(reference.embedding, vector)) for vector in embeddings]
    score = round(statistics.median(scores), 4) if scores else None
    if refusals["several_faces"]:
        return _result(False, score, "several_faces", len(scores), digest, embeddings)
    if len(scores) < math.ceil(len(examined) / 2):
        return _result(False, score, refusals.most_common(1)[0][0], len(scores), digest, embeddings)
    passed = score is not None and score >= MATCH_THRESHOLD
    return _result(passed, score, None if passed else "no_match", len(scores), digest, embeddings)


def spread(items: list[_T], limit: int) -> list[_T]:
    """At most ``limit`` items, evenly spaced, first and last included."""
    if len(items) <= limit:
        return items
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def sample_frames(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """At most :data:`MAX_FRAMES` frames, evenly spaced, first and last included."""
    return spread(list(frames), MAX_FRAMES)


def frames_digest(frames: Sequence[np.ndarray]) -> str:
    """SHA-256 over the frames in order, each as ``b"HxWxC:"`` followed by its raw BGR bytes, so
    the digest pins content, order and shape (of an empty sequence: the hash of nothing)."""
    digest = hashlib.sha256()
    for frame in frames:
        _check_frame(frame)
        height, width, channels = frame.shape
        digest.update(f"{height}x{width}x{channels}:".encode())
        digest.update(np.ascontiguousarray(frame).tobytes())
    return digest.hexdigest()


def _result(passed: bool, score: float | None, reason: str | None, used: int, digest: str,
            embeddings: Sequence[np.ndarray] = ()) -> FaceMatchResult:
    return FaceMatchResult(passed=passed, score=score, threshold=MATCH_THRESHOLD, reason=reason, frames_used=used,
                           frames_sha256=digest, model_sha256=dict(MODEL_SHA256), embeddings=tuple(embeddings))


def _check_frame(image: np.ndarray) -> None:
    """Frames come from our own decoder: a wrong shape is a programming error, not bad input."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError("expected a BGR image: a uint8 array of shape (height, width, 3)")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError("expected a non-empty image")


def _header_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR or a JPEG's frame header, without decoding pixels, so a
    small file that would decode to a huge image is refused before any allocation."""
    if data.startswith(_PNG_MAGIC) and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if not data.startswith(_JPEG_MAGIC):
        return None
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2:
            return None
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                return None
            height = int.from_bytes(data[pos + 5:pos + 7], "big")
            width = int.from_bytes(data[pos + 7:pos + 9], "big")
            return width, height
        pos += 2 + length
    return None
