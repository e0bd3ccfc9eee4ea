"""Face match on real faces: Grace Hopper is enrolled; altered copies of her photo must match,
other people must not, and pictures the rules refuse (tiny faces, two faces, broken or huge
files) are refused with their reason."""

from __future__ import annotations

import pickle
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from face_samples import (AUGMENTATIONS, astronaut, cameraman, grace_hopper, grace_hopper_jpeg, jpeg,
                          lfw_enlarged, png, scale, side_by_side, webcam_frame)
from identity import worker
from identity.errors import IdentityInputError
from identity.face_match import (MATCH_THRESHOLD, MAX_FRAMES, MAX_IMAGE_BYTES, MIN_FACE_PX, detect_faces,
                                 frames_digest, match_frames, reference_face, sample_frames, single_face)
from identity.models import MODEL_SHA256
from mediation.errors import InvalidInput


@pytest.fixture(scope="module")
def hopper():
    return reference_face(grace_hopper_jpeg())


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_altered_copies_of_the_reference_match(hopper, name):
    frame = AUGMENTATIONS[name](grace_hopper())
    result = match_frames(hopper, [frame, frame])
    assert result.passed, result
    assert result.reason is None and result.frames_used == 2
    assert result.score >= MATCH_THRESHOLD + 0.3  # far above the threshold, not just over it


def test_the_reference_matches_on_webcam_sized_frames(hopper):
    frames = [webcam_frame(grace_hopper(), height) for height in (300, 360, 420)]
    result = match_frames(hopper, frames)
    assert result.passed and result.frames_used == 3
    assert result.model_sha256 == MODEL_SHA256
    assert result.frames_sha256 == frames_digest(frames)


@pytest.mark.parametrize("other", [astronaut, lambda: webcam_frame(astronaut(), 470)], ids=["astronaut", "astronaut_frame"])
def test_another_person_is_rejected(hopper, other):
    result = match_frames(hopper, [other()])
    assert not result.passed
    assert result.reason == "no_match" and result.frames_used == 1
    assert result.score < MATCH_THRESHOLD


def test_other_people_enlarged_from_tiny_faces_are_rejected(hopper):
    """The prototype's false accept: someone else's tiny face, enlarged. None of 100 may pass."""
    faces = lfw_enlarged()
    results = [match_frames(hopper, [face]) for face in faces]
    assert not any(r.passed for r in results)
    judged = [r for r in results if r.reason == "no_match"]
    assert len(judged) > 80  # the faces were really compared, not refused for another reason
    assert max(r.score for r in judged) < MATCH_THRESHOLD


def test_astronaut_enrolled_rejects_grace_hopper():
    result = match_frames(reference_face(jpeg(astronaut())), [grace_hopper()])
    assert not result.passed and result.reason == "no_match"


def test_a_face_below_the_minimum_size_is_refused(hopper):
    small = scale(grace_hopper(), 0.3)  # her face is about 52 px wide here
    faces = detect_faces(small)
    assert len(faces) == 1 and faces[0].size < MIN_FACE_PX  # detected, but too small to judge
    result = match_frames(hopper, [small])
    assert not result.passed and result.reason == "face_too_small" and result.score is None
    with pytest.raises(IdentityInputError) as refused:
        reference_face(jpeg(small))
    assert refused.value.code == "face_too_small"
    with pytest.raises(IdentityInputError) as refused:
        reference_face(jpeg(cameraman()))
    assert refused.value.code == "face_too_small"


def test_two_faces_are_refused(hopper):
    pair = side_by_side(grace_hopper(), astronaut())
    assert single_face(detect_faces(pair)) == "several_faces"
    result = match_frames(hopper, [pair])
    assert not result.passed and result.reason == "several_faces"
    with pytest.raises(IdentityInputError) as refused:
        reference_face(png(pair))
    assert refused.value.code == "several_faces"


def test_one_frame_with_a_second_face_fails_the_whole_check(hopper):
    good = grace_hopper()
    result = match_frames(hopper, [good, good, side_by_side(good, astronaut()), good])
    assert not result.passed and result.reason == "several_faces" and result.frames_used == 3


def test_one_lucky_frame_does_not_pass(hopper):
    """Most frames without a face: the median rule wants at least half of them usable."""
    empty = np.full((480, 640, 3), 90, np.uint8)
    result = match_frames(hopper, [empty, empty, empty, webcam_frame(grace_hopper())])
    assert not result.passed and result.reason == "no_face" and result.frames_used == 1


def test_no_frames_and_faceless_frames(hopper):
    result = match_frames(hopper, [])
    assert not result.passed and result.reason == "no_frames" and result.frames_used == 0
    noise = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    result = match_frames(hopper, [noise])
    assert not result.passed and result.reason == "no_face" and result.score is None


def test_the_frames_digest_pins_content_order_and_shape():
    a = np.zeros((4, 6, 3), np.uint8)
    b = np.ones((4, 6, 3), np.uint8)
    assert frames_digest([a, b]) != frames_digest([b, a])
    assert frames_digest([a]) != frames_digest([a.reshape(6, 4, 3)])
    assert frames_digest([a, b]) == frames_digest([a.copy(), b.copy()])


@pytest.mark.parametrize("blob, code", [
    (b"", "image_unreadable"),
    (b"GIF89a" + bytes(100), "image_unreadable"),
    (grace_hopper_jpeg()[:200], "image_unreadable"),  # header only: no pixels to decode
    (b"\x89PNG\r\n\x1a\n" + bytes(40), "image_unreadable"),
    (b"\xff" * (MAX_IMAGE_BYTES + 1), "image_too_large"),
])
def test_unusable_uploads_are_refused_with_a_code(blob, code):
    with pytest.raises(IdentityInputError) as refused:
        reference_face(blob)
    assert refused.value.code == code
    assert isinstance(refused.value, InvalidInput) and refused.value.kind == "invalid"


def test_a_small_file_that_decodes_to_a_huge_image_is_refused_before_decoding():
    """A 20000x20000 PNG compresses to a few hundred kB; the header check refuses it."""
    raw = b"".join(b"\x00" + bytes(20000) for _ in range(1))  # one scanline is enough for the header check
    ihdr = (20000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    chunk = lambda kind, body: (len(body).to_bytes(4, "big") + kind + body
                                + zlib.crc32(kind + body).to_bytes(4, "big"))
    blob = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with pytest.raises(IdentityInputError) as refused:
        reference_face(blob)
    assert refused.value.code == "image_too_large"


def test_a_photo_without_a_face_is_refused():
    with pytest.raises(IdentityInputError) as refused:
        reference_face(png(np.full((300, 300, 3), 200, np.uint8)))
    assert refused.value.code == "no_face"


def test_the_input_error_survives_the_process_boundary():
    err = pickle.loads(pickle.dumps(IdentityInputError("no_face", "no face", {"min_face_px": 64})))
    assert (err.code, err.message, err.details) == ("no_face", "no face", {"min_face_px": 64})
    with pytest.raises(ValueError):
        IdentityInputError("made_up", "x")


def test_the_reference_embedding_is_not_in_its_repr(hopper):
    assert "embedding" not in repr(hopper) and str(hopper.face_px) in repr(hopper)


async def test_match_in_worker_runs_in_another_process():
    try:
        result = await worker.match_in_worker(grace_hopper_jpeg(), [webcam_frame(grace_hopper())] * 3)
        assert result.passed and result.frames_used == 3
        with pytest.raises(IdentityInputError) as refused:
            await worker.match_in_worker(b"not an image", [grace_hopper()])
        assert refused.value.code == "image_unreadable"
        enrolled = await worker.reference_in_worker(grace_hopper_jpeg())
        assert enrolled.face_px == reference_face(grace_hopper_jpeg()).face_px
        with pytest.raises(IdentityInputError) as refused:
            await worker.reference_in_worker(png(side_by_side(grace_hopper(), astronaut())))
        assert refused.value.code == "several_faces"
    finally:
        worker.shutdown()


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_are_refused_with_a_code_or_read(blob):
    try:
        reference_face(blob)
    except IdentityInputError as err:
        assert err.code in {"image_unreadable", "image_too_large", "no_face"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=12))
def test_damaged_photos_are_refused_with_a_code_or_read(damage):
    """Bytes of a real photo overwritten here and there: a clear refusal or a usable reference,
    never another exception (truncated or corrupt JPEG data, broken headers)."""
    blob = bytearray(_HOPPER_JPEG)
    for position, value in damage:
        blob[position] = value
    try:
        reference_face(bytes(blob))
    except IdentityInputError as err:
        assert err.code in {"image_unreadable", "image_too_large", "no_face", "several_faces", "face_too_small"}


_HOPPER_JPEG = grace_hopper_jpeg()


def test_at_most_max_frames_are_examined(hopper):
    frames = [np.full((48, 64, 3), i, np.uint8) for i in range(100)]
    result = match_frames(hopper, frames)
    assert result.reason == "no_face" and result.frames_sha256 == frames_digest(sample_frames(frames))
    assert len(sample_frames(frames)) == MAX_FRAMES
    assert sample_frames(frames)[0] is frames[0] and sample_frames(frames)[-1] is frames[-1]
