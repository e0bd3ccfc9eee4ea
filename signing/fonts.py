"""The CJK font for visible signature stamps.

pyHanko mis-spaces TrueType fonts whose units-per-em is not 1000, and a full CJK font makes
every stamp cost close to a second (pyHanko subsets it for each signature). So the stamp font is
Noto Sans CJK SC's CFF face (1000 upem), pulled out of the system ``.ttc`` and cut down to
GB2312 + ASCII once, then cached. A stamp with characters outside GB2312 (names with 喆, 堃 ...)
gets a small font of its own characters instead (0.3 s, cached by content).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

#: Where Debian's fonts-noto-cjk puts the collection.
NOTO_CJK_COLLECTION = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
_FACE_NAME = "Noto Sans CJK SC"
#: Bump when the subsetting options change, so that stale cached fonts are not reused.
_SUBSET_VERSION = "v2"
_lock = threading.Lock()


class FontError(Exception):
    """The stamp font cannot be produced (e.g. fonts-noto-cjk is not installed)."""


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "accord" / "fonts"


@functools.cache
def base_charset() -> frozenset[str]:
    """Every character of GB2312 plus printable ASCII."""
    chars = {chr(c) for c in range(0x20, 0x7F)}
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


def _subset(source: Path, chars: frozenset[str], target: Path) -> None:
    options = subset.Options()
    # A stamp is horizontal text with no shaping: without the (large) OpenType layout and
    # vertical-writing tables, pyHanko's per-signature subsetting costs a fraction.
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "vhea", "vmtx", "VORG"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.desubroutinize = True
    font = subset.load_font(str(source), options, dontLoadGlyphNames=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes={ord(c) for c in chars})
    subsetter.subset(font)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    font.save(str(tmp))
    os.replace(tmp, target)


def _extract_sc_face(collection: Path, target: Path) -> None:
    try:
        faces = TTCollection(str(collection), lazy=True)
    except FileNotFoundError:
        raise FontError(f"{collection} is missing: install fonts-noto-cjk") from None
    for face in faces.fonts:
        if face["name"].getDebugName(4) == _FACE_NAME:
            tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
            face.save(str(tmp))
            os.replace(tmp, target)
            return
    raise FontError(f"{collection} has no {_FACE_NAME} face")


def cjk_stamp_font(text: str = "", cache_dir: Path | None = None,
                   collection: Path = NOTO_CJK_COLLECTION) -> Path:
    """Path of an OpenType (CFF) font covering ASCII and every character of ``text``
    (the shared GB2312 font when that suffices)."""
    cache = cache_dir or _default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    base = cache / f"NotoSansCJKsc-GB2312-{_SUBSET_VERSION}.otf"
    with _lock:
        if not base.exists():
            face = cache / "NotoSansCJKsc-Regular.otf"
            if not face.exists():
                _extract_sc_face(collection, face)
            _subset(face, base_charset(), base)
        chars = {c for c in text if not c.isspace()}
        if chars <= base_charset():
            return base
        own = frozenset(chars | {chr(c) for c in range(0x20, 0x7F)})
        key = hashlib.sha256("".join(sorted(own)).encode()).hexdigest()[:16]
        variant = cache / f"NotoSansCJKsc-stamp-{_SUBSET_VERSION}-{key}.otf"
        if not variant.exists():
            face = cache / "NotoSansCJKsc-Regular.otf"
            if not face.exists():
                _extract_sc_face(collection, face)
            _subset(face, own, variant)
        return variant
