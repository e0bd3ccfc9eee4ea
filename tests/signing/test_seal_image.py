"""The seal's visible appearance: a red round seal drawn from the holder's name, as poppler
renders it from the signed PDF (ring, star, the name along the upper arc, embedded glyphs)."""

from __future__ import annotations

import asyncio
import math
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import async_validate_pdf_signature

from signing.pades import MEDIATION_SEAL_CAPTION, SealStamp, sign_with_key
from signing.seal_image import seal_pdf

from pades_samples import ORGANISATION, SEAL_EVIDENCE, Platform, blank_pdf

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
COURT = "北京市朝阳区人民法院"
_DPI = 288


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    return Platform.create(tmp_path_factory.mktemp("seal-image") / "pki")


@pytest.fixture(scope="module")
def sealed(platform: Platform) -> bytes:
    return asyncio.run(platform.seal(blank_pdf(["seal"])))


def _field_rect(pdf: bytes, field: str) -> tuple[float, float, float, float]:
    reader = PdfFileReader(BytesIO(pdf))
    for name, _value, ref in enumerate_sig_fields(reader, filled_status=None):
        if name == field:
            x0, y0, x1, y1 = (float(v) for v in ref.get_object()["/Rect"])
            return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)
    raise AssertionError(f"no field {field}")


def _render_field(pdf: bytes, field: str, tmp_path: Path) -> Image.Image:
    """The field's box on page 1 as poppler draws it."""
    path = tmp_path / "sealed.pdf"
    path.write_bytes(pdf)
    page_height = float(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Kids"][0]["/MediaBox"][3])
    x0, y0, x1, y1 = _field_rect(pdf, field)
    k = _DPI / 72
    subprocess.run(["pdftoppm", "-png", "-singlefile", "-f", "1", "-l", "1", "-r", str(_DPI),
                    "-x", str(round(x0 * k)), "-y", str(round((page_height - y1) * k)),
                    "-W", str(round((x1 - x0) * k)), "-H", str(round((y1 - y0) * k)), str(path),
                    str(tmp_path / "field")], check=True, capture_output=True, timeout=60)
    return Image.open(tmp_path / "field.png").convert("RGB")


def _red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 150 and g < 110 and b < 110


def _red_share_on_circle(image: Image.Image, radius: float, degrees: range = range(360)) -> float:
    cx, cy = image.width / 2, image.height / 2
    hits = [_red(image.getpixel((round(cx + radius * math.cos(math.radians(a))),
                                 round(cy - radius * math.sin(math.radians(a)))))) for a in degrees]
    return sum(hits) / len(hits)


def _red_share_in_band(image: Image.Image, inner: float, outer: float, upper: bool) -> float:
    cx, cy = image.width / 2, image.height / 2
    red = total = 0
    for y in range(image.height):
        if (y < cy) != upper:
            continue
        for x in range(image.width):
            if inner <= math.hypot(x - cx, y - cy) <= outer:
                total += 1
                red += _red(image.getpixel((x, y)))
    return red / total


def _assert_reads_as_a_seal(image: Image.Image) -> None:
    """Ring all round, white between star and name, a five-pointed star, lettering on top."""
    seal_radius = (min(image.width, image.height) - 2 * _DPI / 72) / 2  # the stamp's 1 pt margin
    assert _red_share_on_circle(image, 0.97 * seal_radius) > 0.97
    assert _red_share_on_circle(image, 0.42 * seal_radius) < 0.05
    assert _red(image.getpixel((image.width // 2, image.height // 2)))
    assert _red_share_on_circle(image, 0.2 * seal_radius, range(90, 450, 72)) == 1.0  # the star's points
    assert _red_share_on_circle(image, 0.2 * seal_radius, range(126, 486, 72)) == 0.0  # between them
    upper = _red_share_in_band(image, 0.62 * seal_radius, 0.9 * seal_radius, upper=True)
    lower = _red_share_in_band(image, 0.62 * seal_radius, 0.9 * seal_radius, upper=False)
    assert upper > 0.15 and upper > 2 * lower, (upper, lower)


def _page_text_and_fonts(pdf: bytes, tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, fonts


def test_the_organisation_seal_is_a_red_round_seal_with_its_name(sealed: bytes, tmp_path: Path) -> None:
    image = _render_field(sealed, "seal", tmp_path)
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "organisation-seal.png")
    _assert_reads_as_a_seal(image)
    text, fonts = _page_text_and_fonts(sealed, tmp_path)
    # The name and the caption are real text in an embedded subset of the CJK stamp font.
    assert set(ORGANISATION.name) <= set(text) and MEDIATION_SEAL_CAPTION in text, text
    cjk = [line for line in fonts.splitlines() if "NotoSansCJKsc" in line]
    assert cjk and all(" yes yes yes " in line for line in cjk), fonts


def test_the_unsigned_field_is_blank(tmp_path: Path) -> None:
    """What the seal test renders is the seal, not something already on the page."""
    image = _render_field(blank_pdf(["seal"]), "seal", tmp_path)
    assert not any(_red(color) for _count, color in image.getcolors(maxcolors=image.width * image.height))


async def test_a_court_seal_carries_the_court_name_and_validates(platform: Platform, tmp_path: Path) -> None:
    """The court's seal on a ruling: the same drawing, the court's name, no caption."""
    seal = platform.seals.for_court(COURT)
    pdf = await sign_with_key(blank_pdf(["ruling"]), "ruling", seal.key, seal.cert, seal.chain, SealStamp(COURT),
                              platform.timestamper, platform.seals.validation_context(), evidence=SEAL_EVIDENCE)
    _assert_reads_as_a_seal(_render_field(pdf, "ruling", tmp_path))
    text, _fonts = _page_text_and_fonts(pdf, tmp_path)
    assert set(COURT) <= set(text) and MEDIATION_SEAL_CAPTION not in text
    embedded = PdfFileReader(BytesIO(pdf)).embedded_regular_signatures[0]
    status = await async_validate_pdf_signature(embedded, platform.seals.validation_context())
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def test_the_drawing_is_cached_per_name_and_needs_a_name() -> None:
    assert seal_pdf(ORGANISATION.name, MEDIATION_SEAL_CAPTION) is seal_pdf(ORGANISATION.name, MEDIATION_SEAL_CAPTION)
    assert seal_pdf(COURT) != seal_pdf(ORGANISATION.name)
    with pytest.raises(ValueError, match="name"):
        seal_pdf("  ")
