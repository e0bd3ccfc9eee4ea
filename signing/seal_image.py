"""The red round seal of an organisation (or a court), drawn as PDF vectors from its name.

Why drawn: a seal signature should read as an e-seal at a glance — a red ring, the holder's name
along the upper arc, a five-pointed star in the centre — and every organisation and court has
its own name, so no bitmap is shipped: the seal is a one-page PDF made at signing time. Ring and
star are vector paths; the name is real text in the CJK stamp font
(:func:`signing.fonts.cjk_stamp_font`: CFF with 1000 units per em, so pyHanko's glyph widths are
right), embedded as a subset, one glyph at a time, each rotated to follow the arc.
:class:`SealImage` imports that page into the signature's appearance as a form XObject, glyphs
and all. Building the page subsets the font (tens of milliseconds), so pages are cached in
memory by name and caption: they derive from them alone.
"""

from __future__ import annotations

import binascii
import functools
import math
import uuid
from io import BytesIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import PdfContent
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.layout import BoxConstraints
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PdfFileWriter

from .fonts import cjk_stamp_font

#: Seal red (the ink of official seals), as PDF RGB.
SEAL_RED = (0.86, 0.08, 0.10)
#: The drawn size: 42 mm, the usual diameter of an organisation's seal. Stamps scale it to fit.
DIAMETER = 119.0
_R = DIAMETER / 2
_RING_WIDTH = 3.4
#: The name's glyph tops stay this far inside the ring.
_NAME_GAP = 3.0
_NAME_SIZE = 16.5
#: The name's arc, centred on the top: at most this long (longer names get narrower glyphs)...
_MAX_SPAN = math.radians(260)
#: ... and at least this long (short names are spaced out, as on carved seals).
_MIN_SPAN = math.radians(160)
#: Seal lettering is tall and narrow: glyphs are at most this wide (horizontal scale).
_MAX_SQUEEZE = 0.9
#: Below this horizontal scale the name's glyphs get smaller instead of narrower.
_MIN_SQUEEZE = 0.55
_STAR_RADIUS = 0.3 * _R
_CAPTION_SIZE = 11.0
#: Noto CJK's ideographs reach 0.88 em above the baseline.
_ASCENT = 0.88
#: Fill and outline the glyphs: the seal's lettering is bolder than the regular face.
_EMBOLDEN = 0.45


def _fmt(*numbers: float) -> bytes:
    return " ".join(f"{n:.3f}".rstrip("0").rstrip(".") for n in numbers).encode()


def _circle(radius: float) -> bytes:
    """A circle around the seal's centre from four Bézier arcs."""
    k = 0.5523 * radius
    c = _R
    return b" ".join([
        _fmt(c + radius, c) + b" m",
        _fmt(c + radius, c + k, c + k, c + radius, c, c + radius) + b" c",
        _fmt(c - k, c + radius, c - radius, c + k, c - radius, c) + b" c",
        _fmt(c - radius, c - k, c - k, c - radius, c, c - radius) + b" c",
        _fmt(c + k, c - radius, c + radius, c - k, c + radius, c) + b" c",
        b"h",
    ])


def _star(radius: float) -> bytes:
    """A five-pointed star, point up, centred on the seal."""
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))
    ops = []
    for i in range(10):
        r = radius if i % 2 == 0 else inner
        angle = math.radians(90 + 36 * i)
        ops.append(_fmt(_R + r * math.cos(angle), _R + r * math.sin(angle)) + (b" m" if i == 0 else b" l"))
    return b" ".join(ops) + b" h f"


def _glyph(font: GlyphAccumulator, char: str, size: float, squeeze: float, angle: float,
           x: float, y: float) -> bytes:
    """One glyph whose baseline centre is (x, y), turned by ``angle`` (radians, counter-clockwise)
    and narrowed by ``squeeze``."""
    shaped = font.shape(char, with_actual_text=False)
    half = shaped.x_advance * size * squeeze / 2
    cos, sin = math.cos(angle), math.sin(angle)
    origin_x, origin_y = x - half * cos, y - half * sin
    return (b"/F1 " + _fmt(size) + b" Tf " + _fmt(squeeze * cos, squeeze * sin, -sin, cos, origin_x, origin_y)
            + b" Tm " + shaped.graphics_ops)


def _name_arc(font: GlyphAccumulator, name: str) -> bytes:
    """The name clockwise along the upper arc, each glyph's top towards the ring."""
    chars = [c for c in name if not c.isspace()]
    n = len(chars)
    size = _NAME_SIZE
    top = _R - _RING_WIDTH - _NAME_GAP
    mid = top - _ASCENT * size / 2
    pitch = size * 1.12 / mid  # an upright glyph and a little air, as an angle
    span = min(max(n * pitch, _MIN_SPAN), _MAX_SPAN)
    step = span / n
    squeeze = min(_MAX_SQUEEZE, step * mid * 0.92 / size)  # keep 8 % of each step between glyphs
    if squeeze < _MIN_SQUEEZE:
        size *= squeeze / _MIN_SQUEEZE
        squeeze = _MIN_SQUEEZE
    baseline = top - _ASCENT * size
    ops = []
    for i, char in enumerate(chars):
        theta = math.pi / 2 + span / 2 - (i + 0.5) * step
        ops.append(_glyph(font, char, size, squeeze, theta - math.pi / 2,
                          _R + baseline * math.cos(theta), _R + baseline * math.sin(theta)))
    return b" ".join(ops)


def _caption(font: GlyphAccumulator, caption: str) -> bytes:
    """A short horizontal line under the star (e.g. 调解专用章), narrowed to fit the ring."""
    width = font.shape(caption, with_actual_text=False).x_advance * _CAPTION_SIZE
    room = 0.9 * _R
    squeeze = min(1.0, room / width)
    return _glyph(font, caption, _CAPTION_SIZE, squeeze, 0.0, _R, 0.4 * _R)  # baseline 0.6 R below the centre


@functools.lru_cache(maxsize=128)
def seal_pdf(name: str, caption: str = "") -> bytes:
    """A one-page PDF, :data:`DIAMETER` points square: the seal of ``name``, with ``caption``
    (may be empty) under the star. Cached: the page depends on its arguments only."""
    name = name.strip()
    if not name:
        raise ValueError("a seal needs the holder's name")
    caption = caption.strip()
    writer = PdfFileWriter(stream_xrefs=False)
    with open(cjk_stamp_font(name + caption), "rb") as handle:
        font = GlyphAccumulator(writer, handle, font_size=_NAME_SIZE)
        text = [_name_arc(font, name)] + ([_caption(font, caption)] if caption else [])
        content = b"\n".join([
            b"q " + _fmt(*SEAL_RED) + b" RG " + _fmt(*SEAL_RED) + b" rg",
            _fmt(_RING_WIDTH) + b" w " + _circle(_R - _RING_WIDTH / 2) + b" S",
            _star(_STAR_RADIUS),
            _fmt(_EMBOLDEN) + b" w 1 j BT 2 Tr " + b" ".join(text) + b" ET Q",
        ])
        stream = generic.StreamObject(stream_data=content)
        stream.compress()
        writer.insert_page(generic.DictionaryObject({
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): generic.ArrayObject(map(generic.FloatObject, (0, 0, DIAMETER, DIAMETER))),
            pdf_name("/Contents"): writer.add_object(stream),
            pdf_name("/Resources"): generic.DictionaryObject({
                pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): font.as_resource()}),
            }),
        }))
        out = BytesIO()
        writer.write(out)
    return out.getvalue()


class SealImage(PdfContent):
    """The seal page (:func:`seal_pdf`) as content of a stamp: imported as a form XObject,
    glyphs and all, into the document being signed."""

    def __init__(self, name: str, caption: str = ""):
        super().__init__()
        self.pdf = seal_pdf(name, caption)

    def render(self) -> bytes:
        xobject = self._ensure_writer.import_page_as_xobject(PdfFileReader(BytesIO(self.pdf)))
        resource = "/Seal" + binascii.hexlify(uuid.uuid4().bytes).decode("ascii")
        self.resources.xobject[resource] = xobject
        self.box = BoxConstraints(width=DIAMETER, height=DIAMETER)
        return resource.encode("ascii") + b" Do"
