"""What a QR image request may ask for: parsed from query parameters, checked, kept canonical."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Literal, NamedTuple, cast

import msgspec

from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images._font import label_problem

__all__ = (
    "DEFAULT_DPI",
    "FORMATS",
    "MAX_LABEL",
    "MEDIA_TYPES",
    "TRANSPARENT",
    "Ecc",
    "Format",
    "Length",
    "QrOptions",
    "Shape",
)

Format = Literal["svg", "png", "pdf", "eps"]
Ecc = Literal["L", "M", "Q", "H"]
Shape = Literal["square", "rounded", "dots"]
Frame = Literal["none", "label"]
Unit = Literal["mm", "cm", "in", "px"]

FORMATS: tuple[Format, ...] = ("svg", "png", "pdf", "eps")
_ECCS: tuple[Ecc, ...] = ("L", "M", "Q", "H")
_SHAPES: tuple[Shape, ...] = ("square", "rounded", "dots")
_FRAMES: tuple[Frame, ...] = ("none", "label")
MEDIA_TYPES: dict[Format, str] = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "eps": "application/postscript",
}
_SCALE_RANGE = (1, 50)
_BORDER_RANGE = (0, 20)
_DPI_RANGE = (72, 1200)
DEFAULT_DPI = 300
MAX_LABEL = 40
_DEFAULT_SCALE = 10
# Physical sizes from 5 mm (a module of a small code is then about 0.2 mm, the edge of what
# any printer resolves) to 2 m (a banner); pixel sizes from 32 to 4096 (the PNG limit).
_MM_RANGE = (5.0, 2000.0)
_PX_RANGE = (32, 4096)
_MM_PER_UNIT = {"mm": 1.0, "cm": 10.0, "in": 25.4}
# ASCII digits only: int() would also take " 7", "+7", "1_0" and other scripts' digits.
_INTEGER = re.compile(r"[0-9]{1,6}")
_LENGTH = re.compile(r"([0-9]{1,4})(?:\.([0-9]{1,3}))?(mm|cm|in|px)", re.IGNORECASE)
_COLOUR = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_TRUE = ("true", "1")
_FALSE = ("false", "0")
TRANSPARENT = "transparent"
_SIZE_RULE = "a number and a unit: mm, cm, in or px (e.g. 30mm, 1.5in, 600px)"


class Length(NamedTuple):
    """A length with its unit, e.g. Length(30.0, "mm"); ``str()`` gives "30mm"."""

    value: float
    unit: Unit

    @property
    def physical(self) -> bool:
        """True for mm, cm and in; False for pixels."""
        return self.unit != "px"

    def inches(self) -> float:
        """The length in inches (a CSS pixel is 1/96 in)."""
        if self.unit == "px":
            return self.value / 96
        return self.value * _MM_PER_UNIT[self.unit] / 25.4

    def __str__(self) -> str:
        return f"{_number(self.value)}{self.unit}"


def _number(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def parse_length(raw: str) -> Length:
    """``"30mm"`` -> Length(30.0, "mm"); raises InvalidField("size") for anything else."""
    match = _LENGTH.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        raise InvalidField("size", f"must be {_SIZE_RULE}")
    whole, fraction, spelled = match.groups()
    unit = cast(Unit, spelled.lower())  # one of the regex's four
    if unit == "px":
        if fraction is not None:
            raise InvalidField("size", "must be a whole number of pixels")
        if not _PX_RANGE[0] <= int(whole) <= _PX_RANGE[1]:
            raise InvalidField("size", f"must be from {_PX_RANGE[0]}px to {_PX_RANGE[1]}px")
        return Length(float(whole), "px")
    value = float(f"{whole}.{fraction or 0}")
    length = Length(value, unit)
    if not _MM_RANGE[0] <= value * _MM_PER_UNIT[unit] <= _MM_RANGE[1]:
        raise InvalidField("size", "must be from 5mm to 2000mm (0.5cm to 200cm, 0.2in to 78.7in)")
    return length


class QrOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How to draw a QR image; kept canonical so that equal images have equal options.

    Colours are "#rrggbb" (light may be "transparent"); ``finder`` defaults to ``dark``.
    Either ``scale`` (pixels per module, 10 when neither is given) or ``size`` (the width of
    the code with its quiet zone: "30mm", "1.5in", "3cm", "600px"); ``dpi`` only counts for
    PNGs of a physical size (300 by default) and is dropped otherwise. A ``label`` implies
    ``frame="label"``; ``logo`` raises ``ecc`` to H.
    """

    format: Format = "svg"
    scale: int | None = None
    border: int = 4
    ecc: Ecc = "M"
    dark: str = "#000000"
    light: str = "#ffffff"
    finder: str | None = None
    shape: Shape = "square"
    size: str | None = None
    dpi: int | None = None
    frame: Frame = "none"
    label: str = ""
    logo: bool = False

    def __post_init__(self) -> None:
        # Checked here as well as in parse() so that options built in code are held to the
        # same rules, and so that equal images always have equal (canonical) options: the
        # cache key and the ETag depend on it.
        _check_choice("format", self.format, FORMATS)
        _check_choice("ecc", self.ecc, _ECCS)
        _check_choice("shape", self.shape, _SHAPES)
        _check_choice("frame", self.frame, _FRAMES)
        _check_range("border", self.border, _BORDER_RANGE)
        set_ = msgspec.structs.force_setattr
        length = None
        if self.size is not None:
            length = parse_length(self.size)
            if self.scale is not None:
                raise InvalidField("scale", "give either scale or size, not both")
            set_(self, "size", str(length))
        else:
            scale = _DEFAULT_SCALE if self.scale is None else self.scale
            _check_range("scale", scale, _SCALE_RANGE)
            set_(self, "scale", scale)
        if self.dpi is not None:
            _check_range("dpi", self.dpi, _DPI_RANGE)
        if self.format == "png" and length is not None and length.physical:
            set_(self, "dpi", DEFAULT_DPI if self.dpi is None else self.dpi)
        else:
            set_(self, "dpi", None)
        dark = _canonical_colour("dark", self.dark, allow_transparent=False)
        light = _canonical_colour("light", self.light, allow_transparent=True)
        finder = dark if self.finder is None else self.finder
        finder = _canonical_colour("finder", finder, allow_transparent=False)
        if dark == light:
            raise InvalidField("dark", "must differ from light, or the code cannot be read")
        if finder == light:
            raise InvalidField("finder", "must differ from light, or the code cannot be read")
        set_(self, "dark", dark)
        set_(self, "light", light)
        set_(self, "finder", finder)
        self._settle_label()
        if type(self.logo) is not bool:
            raise InvalidField("logo", "must be true or false")
        if self.logo:
            # A logo hides modules: H restores up to 30 % of the codewords.
            set_(self, "ecc", "H")

    def _settle_label(self) -> None:
        if not isinstance(self.label, str):
            raise InvalidField("label", "must be text")
        label = unicodedata.normalize("NFC", self.label).strip()
        if len(label) > MAX_LABEL:
            raise InvalidField("label", f"at most {MAX_LABEL} characters")
        problem = label_problem(label)
        if problem is not None:
            raise InvalidField("label", problem)
        msgspec.structs.force_setattr(self, "label", label)
        if label:
            msgspec.structs.force_setattr(self, "frame", "label")
        elif self.frame == "label":
            raise InvalidField("label", "is required with frame=label")

    @property
    def length(self) -> Length | None:
        """The requested size, or None when the image is sized by ``scale``."""
        return None if self.size is None else parse_length(self.size)

    @property
    def media_type(self) -> str:
        """The Content-Type of an image in this format."""
        return MEDIA_TYPES[self.format]

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QrOptions:
        """Build options from query parameters; absent ones take defaults, unknown are ignored.

        ``format``, ``ecc``, ``shape``, ``frame`` and units are case-insensitive; colours are
        hex with or without "#" (which must be written %23 in a URL), e.g.
        {"format": "PNG", "dark": "0a0", "size": "30MM"} -> png, #00aa00, 30mm at 300 dpi.
        """
        fmt = params.get("format", "svg").lower()
        _check_choice("format", fmt, FORMATS)
        ecc = params.get("ecc", "M").upper()
        _check_choice("ecc", ecc, _ECCS)
        shape = params.get("shape", "square").lower()
        _check_choice("shape", shape, _SHAPES)
        frame = params.get("frame", "none").lower()
        _check_choice("frame", frame, _FRAMES)
        scale = params.get("scale")
        dpi = params.get("dpi")
        return cls(
            format=fmt,  # type: ignore[arg-type]  # checked just above
            ecc=ecc,  # type: ignore[arg-type]
            shape=shape,  # type: ignore[arg-type]
            frame=frame,  # type: ignore[arg-type]
            scale=None if scale is None else _parse_integer("scale", scale, _SCALE_RANGE),
            border=_parse_integer("border", params.get("border", "4"), _BORDER_RANGE),
            size=params.get("size"),
            dpi=None if dpi is None else _parse_integer("dpi", dpi, _DPI_RANGE),
            dark=params.get("dark", "#000000"),
            light=params.get("light", "#ffffff"),
            finder=params.get("finder"),
            label=params.get("label", ""),
            logo=_parse_bool("logo", params.get("logo", "false")),
        )


def _check_choice(field: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        if len(choices) == 2:
            allowed = f"'{choices[0]}' or '{choices[1]}'"
        else:
            allowed = "one of " + ", ".join(choices)
        raise InvalidField(field, f"must be {allowed}")


def _parse_integer(field: str, raw: str, bounds: tuple[int, int]) -> int:
    if not _INTEGER.fullmatch(raw):
        raise InvalidField(field, f"must be a whole number from {bounds[0]} to {bounds[1]}")
    value = int(raw)
    _check_range(field, value, bounds)
    return value


def _parse_bool(field: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidField(field, "must be true or false")


def _check_range(field: str, value: int, bounds: tuple[int, int]) -> None:
    # bool is an int subclass; True as a scale is a bug, not 1.
    if type(value) is not int or not bounds[0] <= value <= bounds[1]:
        raise InvalidField(field, f"must be a whole number from {bounds[0]} to {bounds[1]}")


def _canonical_colour(field: str, raw: str, *, allow_transparent: bool) -> str:
    if allow_transparent and isinstance(raw, str) and raw.lower() == TRANSPARENT:
        return TRANSPARENT
    match = _COLOUR.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        expected = "a hex colour (#RGB or #RRGGBB)"
        if allow_transparent:
            expected += " or 'transparent'"
        raise InvalidField(field, f"must be {expected}")
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def rgb(colour: str) -> tuple[int, int, int]:
    """``"#0a0b0c"`` -> (10, 11, 12)."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
