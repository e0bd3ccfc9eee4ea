"""The first look at an uploaded reference photo: bounded size, a real JPEG/PNG/WebP, not a
decompression bomb. Done before anything is stored; the face itself is the engine's business
(:mod:`identity.face_match`)."""

from __future__ import annotations

import io
import warnings

from PIL import Image

from mediation.errors import InvalidInput

#: A phone photo of an ID card or a camera portrait is far below this.
MAX_REFERENCE_BYTES = 6 * 1024 * 1024
MAX_REFERENCE_PIXELS = 4096 * 4096
_FORMATS = {"JPEG", "PNG", "WEBP"}


def check_reference_image(data: bytes) -> tuple[int, int]:
    """Width and height of a readable photo; else :class:`InvalidInput` ``image_too_large`` or
    ``image_unreadable``. Reads the header, then decodes once (in the caller's worker thread)."""
    if len(data) > MAX_REFERENCE_BYTES:
        raise InvalidInput("image_too_large", f"the photo is larger than {MAX_REFERENCE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise InvalidInput("image_unreadable", "the photo is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in _FORMATS:
                    raise InvalidInput("image_unreadable", "the photo must be a JPEG, PNG or WebP image")
                width, height = image.size
                if width * height > MAX_REFERENCE_PIXELS:
                    raise InvalidInput("image_too_large", "the photo has more than 4096×4096 pixels")
                image.load()
    except InvalidInput:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("image_unreadable", "the photo cannot be read as an image") from None
    if min(width, height) < 64:
        raise InvalidInput("image_unreadable", "the photo is too small to show a face")
    return width, height
