"""One drawing for every format: where modules, finders, the logo and the label go.

Everything is measured in modules, from the top-left corner of the quiet zone, y down. The
code with its quiet zone is ``width`` modules wide, whatever the output size; a label adds a
band below it. The backends (``_raster``, ``_vector``) only scale this drawing.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno

from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images._codewords import centred_box, logo_area
from scanlet.adapters.qr_images._font import ASCENT, DESCENT, label_advance
from scanlet.adapters.qr_images._geometry import is_finder
from scanlet.adapters.qr_images._logo import Logo
from scanlet.adapters.qr_images._options import Length, QrOptions

__all__ = ("MAX_PIXELS", "Label", "Layout", "lay_out")

#: The longest side of a PNG, in pixels.
MAX_PIXELS = 4096
#: The label is set as large as fits, up to this share of the code's width per em...
_LABEL_EM_MAX = 0.1
#: ...and refused when it would have to be smaller than this share.
_LABEL_EM_MIN = 1 / 24
#: Clear space around a logo, in modules.
_PAD = 0.5
#: Share of the code's width that the label may take.
_LABEL_SPAN = 0.9


@dataclass(frozen=True, slots=True)
class Label:
    """The label's text, its em size, its left edge and baseline (modules)."""

    text: str
    em: float
    left: float
    baseline: float
    advance: float


@dataclass(frozen=True, slots=True)
class Layout:
    """A QR drawing in module units, ready for any backend."""

    payload: str
    options: QrOptions
    version: int
    modules: int
    #: Dark modules that are not part of a finder pattern nor under the logo: (row, col).
    cells: tuple[tuple[int, int], ...]
    #: Width of the code with its quiet zone, and of the whole drawing's height.
    width: float
    height: float
    #: The box cleared for the logo and the logo's own box inside it: (x, y, w, h) each.
    clear: tuple[float, float, float, float] | None
    logo_box: tuple[float, float, float, float] | None
    logo: Logo | None
    label: Label | None

    @property
    def border(self) -> int:
        """The quiet zone, in modules."""
        return self.options.border

    def pixels_per_module(self) -> float:
        """For a PNG: pixels per module (``scale``, or the size in pixels over the width)."""
        length = self.options.length
        if length is None:
            return float(self.options.scale or 0)
        if not length.physical:
            return length.value / self.width
        return length.inches() * (self.options.dpi or 0) / self.width

    def css_pixels_per_module(self) -> float:
        """For vector formats: CSS pixels (1/96 in) per module."""
        length = self.options.length
        if length is None:
            return float(self.options.scale or 0)
        return length.inches() * 96 / self.width

    def length(self) -> Length | None:
        """The requested width, if any."""
        return self.options.length


def lay_out(payload: str, options: QrOptions, logo: Logo | None = None) -> Layout:
    """Place everything; raises InvalidField for what cannot be drawn (a missing logo, a
    label too long for the code's width, a PNG too large) and ValueError (segno's
    DataOverflowError) when the payload does not fit a QR code at the asked level."""
    qr = segno.make_qr(payload, error=options.ecc)
    version, modules = int(qr.version), int(qr.symbol_size(border=0)[0])
    border = options.border
    width = float(modules + 2 * border)
    clear: tuple[float, float, float, float] | None = None
    logo_box: tuple[float, float, float, float] | None = None
    hidden: set[tuple[int, int]] = set()
    if options.logo:
        if logo is None:
            raise InvalidField("logo", "this code has no logo")
        box_w, box_h = logo_area(version, round(logo.aspect, 2))
        if not box_w:
            raise InvalidField(
                "logo", f"a version-{version} code is too small to hold a logo at ecc=H"
            )
        top, left = (modules - box_h) // 2, (modules - box_w) // 2
        hidden = set(centred_box(version, box_w, box_h))
        clear = (left + border, top + border, float(box_w), float(box_h))
        logo_box = _fit(
            logo.aspect,
            left + border + _PAD,
            top + border + _PAD,
            box_w - 2 * _PAD,
            box_h - 2 * _PAD,
        )
    cells = tuple(
        (r, c)
        for r, row in enumerate(qr.matrix)
        for c, dark in enumerate(row)
        if dark and not is_finder(r, c, modules) and (r, c) not in hidden
    )
    label = None
    height = width
    if options.label:
        label = _set_label(options.label, width, border, modules)
        height = label.baseline + DESCENT * label.em + max(1.0, border / 2)
    layout = Layout(
        payload=payload,
        options=options,
        version=version,
        modules=modules,
        cells=cells,
        width=width,
        height=height,
        clear=clear,
        logo_box=logo_box,
        logo=logo if options.logo else None,
        label=label,
    )
    if options.format == "png":
        _check_pixels(layout)
    return layout


def _fit(
    aspect: float, x: float, y: float, width: float, height: float
) -> tuple[float, float, float, float]:
    """The largest box of ``aspect`` (width/height) centred in the given one."""
    w, h = (width, width / aspect) if width / aspect <= height else (height * aspect, height)
    return x + (width - w) / 2, y + (height - h) / 2, w, h


def _set_label(text: str, width: float, border: int, modules: int) -> Label:
    advance = label_advance(text)
    em = _LABEL_EM_MAX * width
    if advance > 0:
        em = min(em, _LABEL_SPAN * width / advance)
    if em < _LABEL_EM_MIN * width:
        raise InvalidField(
            "label",
            f"is longer than the code is wide: it would be set at {em / width:.1%} of the "
            f"code's width, and at least {_LABEL_EM_MIN:.1%} is needed; shorten it",
        )
    # Below the quiet zone, which must stay clear (at least one module below the symbol).
    top = border + modules + max(border, 1)
    baseline = top + ASCENT * em
    return Label(text, em, (width - advance * em) / 2, baseline, advance * em)


def _check_pixels(layout: Layout) -> None:
    per_module = layout.pixels_per_module()
    longest = max(layout.width, layout.height) * per_module
    if longest > MAX_PIXELS:
        field = "scale" if layout.options.size is None else "size"
        raise InvalidField(
            field,
            f"the PNG would be {round(longest)} pixels on its longer side; at most "
            f"{MAX_PIXELS} (lower the {'scale' if field == 'scale' else 'size or dpi'}, or "
            "choose svg or pdf, which scale without loss)",
        )
