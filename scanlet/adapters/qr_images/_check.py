"""Would it scan? Colour contrast first, then a real decode of the pixels with zxing-cpp.

The decoder is asked for QR codes only, and not to try inverted (light-on-dark) images:
many phone scanners don't. A transparent light colour is judged on white paper.
"""

from __future__ import annotations

import zxingcpp
from PIL import Image

from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images._layout import Layout
from scanlet.adapters.qr_images._options import TRANSPARENT, QrOptions, rgb

__all__ = ("MIN_CONTRAST", "Unscannable", "check_colours", "contrast_ratio", "decodes_to")

#: Least contrast ratio (WCAG 2.x's formula) between dark (and finder) and light colours:
#: 3:1 is WCAG's minimum for graphical objects (success criterion 1.4.11, non-text contrast).
MIN_CONTRAST = 3.0


class Unscannable(InvalidField):
    """Raised when an image would not scan; ``field`` names the option most to blame."""


def _luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(dark: str, light: str) -> float:
    """WCAG contrast ratio of two "#rrggbb" colours (or "transparent", taken as white)."""
    a = _luminance(dark)
    b = _luminance("#ffffff" if light == TRANSPARENT else light)
    high, low = max(a, b), min(a, b)
    return (high + 0.05) / (low + 0.05)


def check_colours(options: QrOptions) -> None:
    """Raise Unscannable when dark or finder is not clearly darker than light."""
    light = "#ffffff" if options.light == TRANSPARENT else options.light
    for field, colour in (("dark", options.dark), ("finder", options.finder or options.dark)):
        if _luminance(colour) >= _luminance(light):
            raise Unscannable(
                field,
                f"is not darker than light ({colour} on {light}): many scanners cannot read "
                "light-on-dark codes",
            )
        ratio = contrast_ratio(colour, light)
        if ratio < MIN_CONTRAST:
            raise Unscannable(
                field,
                f"has too little contrast with light ({colour} on {light} is {ratio:.1f}:1; "
                f"at least {MIN_CONTRAST:.0f}:1 is needed)",
            )


def decodes_to(image: Image.Image, payload: str) -> bool:
    """True when zxing-cpp reads exactly ``payload`` from ``image``, and nothing else."""
    if image.mode == "RGBA":
        paper = Image.new("RGB", image.size, (255, 255, 255))
        paper.paste(image, mask=image.getchannel("A"))
        image = paper
    found = zxingcpp.read_barcodes(
        image.convert("L"),
        formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
        try_invert=False,
    )
    return [result.text for result in found] == [payload]


def blame(layout: Layout, per_module: float) -> Unscannable:
    """The refusal for a drawing that did not decode: the likeliest cause, said plainly."""
    options = layout.options
    if layout.logo is not None:
        return Unscannable(
            "logo",
            "did not scan in the server's check with this logo: it covers too much of the "
            "code or blends into it; try a logo with more contrast, or none",
        )
    if options.shape != "square":
        return Unscannable(
            "shape", f"did not scan in the server's check with shape={options.shape}"
        )
    field = "scale" if options.size is None else "size"
    return Unscannable(
        field,
        f"did not scan in the server's check at {per_module:.1f} pixels per module; make it larger",
    )
