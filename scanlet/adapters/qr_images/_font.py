"""The bundled label font (DejaVu Sans): which text it can set, widths, outlines, FreeType.

Labels are set left to right, glyph by glyph, without kerning or shaping, the same way in
every format: SVG, PDF and EPS get the glyphs' outlines as paths (read with fontTools, so
no reader needs the font), PNG gets them through Pillow's FreeType from the same file.
"""

from __future__ import annotations

import functools
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from PIL import ImageFont

from scanlet.adapters.qr_images._geometry import Contour, Point, Segment

__all__ = ("FONT_PATH", "label_advance", "label_contours", "label_problem", "pillow_font")

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "DejaVuSans.ttf"
#: The font's ascent and descent as fractions of its em (hhea: 1901 and 483 of 2048 units).
ASCENT = 1901 / 2048
DESCENT = 483 / 2048
#: Held while Pillow draws with a font from ``pillow_font``: the fonts are shared between
#: threads, and a FreeType face is not safe to use from two at once.
FREETYPE_LOCK = threading.Lock()
# Scripts that need right-to-left ordering or shaping, which glyph-by-glyph setting lacks.
_RTL = frozenset({"R", "AL", "AN"})


@dataclass(frozen=True, slots=True)
class _Face:
    glyphs: Any  # fontTools' glyph set
    cmap: dict[int, str]
    units_per_em: int
    lock: threading.Lock


@functools.cache
def _face() -> _Face:
    # lazy=True: glyphs are decompiled when first drawn (the file is 750 KB, labels are short).
    font = TTFont(str(FONT_PATH), lazy=True)
    return _Face(font.getGlyphSet(), font.getBestCmap(), font["head"].unitsPerEm, threading.Lock())


def label_problem(text: str) -> str | None:
    """Why ``text`` cannot be set as a label, or None when it can."""
    cmap = _face().cmap if text else {}
    for char in text:
        category = unicodedata.category(char)
        code = f"U+{ord(char):04X}"
        if category[0] == "C" or category in ("Zl", "Zp"):
            return f"must not contain control or format characters ({code})"
        if category[0] == "M":
            return f"must not contain combining marks ({code}): write the composed letter"
        if unicodedata.bidirectional(char) in _RTL:
            return f"must not contain right-to-left text ({code}): not supported in labels"
        if ord(char) not in cmap:
            return f"has a character the label font (DejaVu Sans) lacks: {char!r} ({code})"
    return None


def label_advance(text: str) -> float:
    """The width of ``text`` set in the label font, in ems."""
    face = _face()
    with face.lock:
        units = sum(face.glyphs[face.cmap[ord(char)]].width for char in text)
    return float(units) / face.units_per_em


def label_contours(text: str, left: float, baseline: float, em: float) -> list[Contour]:
    """The outlines of ``text`` at ``em`` units per em, starting at ``left`` on ``baseline``.

    Coordinates grow rightwards and downwards, like every drawing in this package.
    """
    face = _face()
    scale = em / face.units_per_em
    contours: list[Contour] = []
    x = left
    with face.lock:  # fontTools' lazy glyph set is not safe to fill from two threads
        for char in text:
            glyph = face.glyphs[face.cmap[ord(char)]]
            pen = _ContourPen(face.glyphs, x, baseline, scale)
            glyph.draw(pen)
            contours.extend(pen.contours)
            x += glyph.width * scale
    return contours


@functools.lru_cache(maxsize=64)
def pillow_font(pixels: int) -> ImageFont.FreeTypeFont:
    """The label font for Pillow at ``pixels`` per em (basic layout: no shaping, no raqm)."""
    return ImageFont.truetype(str(FONT_PATH), pixels, layout_engine=ImageFont.Layout.BASIC)


class _ContourPen(BasePen):  # type: ignore[misc]  # fontTools ships no type information
    """Collects a glyph's contours, quadratic curves raised to cubic ones, y turned down."""

    def __init__(self, glyphs: Any, x: float, baseline: float, scale: float) -> None:
        super().__init__(glyphs)
        self._x, self._y, self._scale = x, baseline, scale
        self.contours: list[Contour] = []
        self._start: Point = (0.0, 0.0)
        self._segments: list[Segment] = []

    def _map(self, point: tuple[float, float]) -> Point:
        return (self._x + point[0] * self._scale, self._y - point[1] * self._scale)

    def _moveTo(self, pt: tuple[float, float]) -> None:  # fontTools' names
        self._start = self._map(pt)
        self._segments = []

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self._segments.append(self._map(pt))

    def _curveToOne(
        self, pt1: tuple[float, float], pt2: tuple[float, float], pt3: tuple[float, float]
    ) -> None:
        (a, b), (c, d), (e, f) = self._map(pt1), self._map(pt2), self._map(pt3)
        self._segments.append((a, b, c, d, e, f))

    def _qCurveToOne(self, pt1: tuple[float, float], pt2: tuple[float, float]) -> None:
        # A quadratic Bezier is the cubic whose controls lie 2/3 of the way to its control.
        x0, y0 = self._getCurrentPoint()
        c1 = (x0 + 2 / 3 * (pt1[0] - x0), y0 + 2 / 3 * (pt1[1] - y0))
        c2 = (pt2[0] + 2 / 3 * (pt1[0] - pt2[0]), pt2[1] + 2 / 3 * (pt1[1] - pt2[1]))
        self._curveToOne(c1, c2, pt2)

    def _closePath(self) -> None:
        self.contours.append((self._start, tuple(self._segments)))
        self._segments = []

    def _endPath(self) -> None:
        self._closePath()
