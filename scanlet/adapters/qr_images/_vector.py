"""Drawing a layout as vectors: SVG, PDF 1.4 (one page) and EPS (PostScript level 3).

All three fill the same contours (``_geometry``) with the non-zero rule: the modules'
traced outlines, the finder patterns, and the label's glyphs as paths, so no reader needs
the font. A logo is embedded as it came for SVG (PNG, JPEG or the sanitised SVG as a data
URI) and as pixels for PDF and EPS (about 600 dpi at its printed size, at most 1024 px).
PDF and EPS carry the physical size exactly: page box and bounding box in points.
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from PIL import Image

from scanlet.adapters.qr_images._font import label_contours
from scanlet.adapters.qr_images._geometry import Contour, circle, finder_contours, traced
from scanlet.adapters.qr_images._layout import Layout
from scanlet.adapters.qr_images._options import TRANSPARENT, rgb

__all__ = ("eps", "pdf", "svg")

_DOT_RADIUS = 0.45
_LOGO_DPI = 600
_LOGO_PIXELS = (64, 1024)


def _n(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _layers(layout: Layout) -> list[tuple[str, list[Contour]]]:
    """(colour, contours) to fill in order: modules, finders, label."""
    options = layout.options
    b = float(layout.border)
    if options.shape == "dots":
        modules = [circle(c + b + 0.5, r + b + 0.5, _DOT_RADIUS) for r, c in layout.cells]
    else:
        modules = traced(layout.cells, b, b, 0.5 if options.shape == "rounded" else 0.0)
    finders = finder_contours(layout.modules, b, b, options.shape == "rounded")
    layers = [(options.dark, modules), (options.finder or options.dark, finders)]
    if layout.label is not None:
        label = layout.label
        layers.append(
            (options.dark, label_contours(label.text, label.left, label.baseline, label.em))
        )
    return layers


def svg(layout: Layout, title: str) -> bytes:
    """A standalone SVG document; sized in the requested unit, or in pixels by ``scale``."""
    options = layout.options
    length = layout.length()
    unit = 1.0 if length is not None else float(options.scale or 1)
    view_w, view_h = layout.width * unit, layout.height * unit
    if length is None:
        width, height = f"{_n(view_w)}px", f"{_n(view_h)}px"
    else:
        width = f"{_n(length.value)}{length.unit}"
        height = f"{_n(length.value * layout.height / layout.width)}{length.unit}"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {_n(view_w)} {_n(view_h)}">',
        f"<title>{escape(title)}</title>",
    ]
    if options.light != TRANSPARENT:
        out.append(f'<rect width="{_n(view_w)}" height="{_n(view_h)}" fill="{options.light}"/>')
    layers = _layers(layout)
    for colour, contours in layers[:2]:
        out.append(f'<path fill="{colour}" d="{_svg_path(contours, unit)}"/>')
    if layout.logo is not None and layout.logo_box is not None:
        x, y, w, h = (v * unit for v in layout.logo_box)
        uri = f"data:{layout.logo.media_type};base64,{base64.b64encode(layout.logo.data).decode()}"
        out.append(
            f'<image x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
            f'preserveAspectRatio="xMidYMid meet" href={quoteattr(uri)}/>'
        )
    for colour, contours in layers[2:]:
        out.append(f'<path fill="{colour}" d="{_svg_path(contours, unit)}"/>')
    out.append("</svg>\n")
    return "".join(out).encode("utf-8")


def _svg_path(contours: Iterable[Contour], unit: float) -> str:
    parts: list[str] = []
    for (x, y), segments in contours:
        parts.append(f"M{_n(x * unit)} {_n(y * unit)}")
        for segment in segments:
            coords = " ".join(_n(v * unit) for v in segment)
            parts.append(("L" if len(segment) == 2 else "C") + coords)
        parts.append("Z")
    return "".join(parts)


def _points_per_module(layout: Layout) -> float:
    return layout.css_pixels_per_module() * 0.75


def _ops(contours: Iterable[Contour], move: str, line: str, curve: str, close: str) -> str:
    parts: list[str] = []
    for (x, y), segments in contours:
        parts.append(f"{_n(x)} {_n(y)} {move}")
        for segment in segments:
            coords = " ".join(_n(v) for v in segment)
            parts.append(f"{coords} {line if len(segment) == 2 else curve}")
        parts.append(close)
    return "\n".join(parts)


def _colour(colour: str) -> str:
    return " ".join(_n(v / 255) for v in rgb(colour))


def _logo_pixels(layout: Layout) -> tuple[Image.Image, tuple[float, float, float, float]] | None:
    """The logo's pixels for PDF/EPS and its box in modules."""
    if layout.logo is None or layout.logo_box is None:
        return None
    box = layout.logo_box
    inches_per_module = layout.css_pixels_per_module() / 96
    low, high = _LOGO_PIXELS
    longest = max(box[2], box[3])
    pixels = min(high, max(low, round(longest * inches_per_module * _LOGO_DPI)))
    w = max(1, round(pixels * box[2] / longest))
    h = max(1, round(pixels * box[3] / longest))
    return layout.logo.raster(w, h), box


def pdf(layout: Layout, title: str) -> bytes:
    """A one-page PDF 1.4 whose page is the drawing's size in points."""
    options = layout.options
    s = _points_per_module(layout)
    page_w, page_h = layout.width * s, layout.height * s
    content = ["q", f"{_n(s)} 0 0 {_n(-s)} 0 {_n(page_h)} cm"]
    if options.light != TRANSPARENT:
        content.append(
            f"{_colour(options.light)} rg 0 0 {_n(layout.width)} {_n(layout.height)} re f"
        )
    layers = _layers(layout)
    images: list[bytes] = []
    for index, (colour, contours) in enumerate(layers):
        if not contours:
            continue
        content.append(f"{_colour(colour)} rg")
        content.append(_ops(contours, "m", "l", "c", "h"))
        content.append("f")
        if index == 1 and (logo := _logo_pixels(layout)) is not None:
            image, (x, y, w, h) = logo
            content.append(f"q {_n(w)} 0 0 {_n(-h)} {_n(x)} {_n(y + h)} cm /Logo Do Q")
            images = _pdf_image(image)
    content.append("Q")
    stream = zlib.compress("\n".join(content).encode("ascii"), 9)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_n(page_w)} {_n(page_h)}] "
            f"/Resources << {'/XObject << /Logo 6 0 R >> ' if images else ''}>> "
            "/Contents 4 0 R >>"
        ).encode("ascii"),
        _pdf_stream("/Filter /FlateDecode".encode("ascii"), stream),
        f"<< /Producer (Scanlet) /Title <{_pdf_text(title)}> >>".encode("ascii"),
        *images,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode("ascii")
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return bytes(out)


def _pdf_stream(dictionary: bytes, data: bytes) -> bytes:
    return (
        b"<< "
        + dictionary
        + f" /Length {len(data)} >>\nstream\n".encode("ascii")
        + data
        + b"\nendstream"
    )


def _pdf_text(text: str) -> str:
    """A PDF text string in hex: UTF-16BE with its byte order mark."""
    return (b"\xfe\xff" + text.encode("utf-16-be")).hex().upper()


def _pdf_image(image: Image.Image) -> list[bytes]:
    """Objects 6 (the RGB pixels) and 7 (their alpha as a soft mask)."""
    rgba = image.convert("RGBA")
    size = f"/Width {rgba.width} /Height {rgba.height} /BitsPerComponent 8"
    colour = zlib.compress(rgba.convert("RGB").tobytes(), 6)
    alpha = zlib.compress(rgba.getchannel("A").tobytes(), 6)
    return [
        _pdf_stream(
            f"/Type /XObject /Subtype /Image {size} /ColorSpace /DeviceRGB "
            "/Filter /FlateDecode /SMask 7 0 R".encode("ascii"),
            colour,
        ),
        _pdf_stream(
            f"/Type /XObject /Subtype /Image {size} /ColorSpace /DeviceGray "
            "/Filter /FlateDecode".encode("ascii"),
            alpha,
        ),
    ]


def eps(layout: Layout, title: str) -> bytes:
    """An EPS file whose bounding box is the drawing's size in points."""
    options = layout.options
    s = _points_per_module(layout)
    box_w, box_h = layout.width * s, layout.height * s
    ascii_title = (
        title.encode("ascii", "replace").decode("ascii").replace("(", "[").replace(")", "]")
    )
    out = [
        "%!PS-Adobe-3.0 EPSF-3.0",
        "%%Creator: Scanlet",
        f"%%Title: ({ascii_title})",
        f"%%BoundingBox: 0 0 {math.ceil(box_w)} {math.ceil(box_h)}",
        f"%%HiResBoundingBox: 0 0 {_n(box_w)} {_n(box_h)}",
        "%%LanguageLevel: 3",
        "%%EndComments",
        "save",
        "/M {moveto} bind def /L {lineto} bind def /C {curveto} bind def",
        "/Z {closepath} bind def",
        f"0 {_n(box_h)} translate {_n(s)} {_n(-s)} scale",
    ]
    if options.light != TRANSPARENT:
        out.append(
            f"{_colour(options.light)} setrgbcolor 0 0 {_n(layout.width)} {_n(layout.height)} "
            "rectfill"
        )
    for index, (colour, contours) in enumerate(_layers(layout)):
        if contours:
            out.append(f"{_colour(colour)} setrgbcolor newpath")
            out.append(_ops(contours, "M", "L", "C", "Z"))
            out.append("fill")
        if index == 1 and (logo := _logo_pixels(layout)) is not None:
            out.extend(_eps_image(*logo, options.light))
    out.extend(["restore", "%%EOF", ""])
    return "\n".join(out).encode("ascii")


def _eps_image(image: Image.Image, box: tuple[float, float, float, float], light: str) -> list[str]:
    # PostScript has no alpha: the logo is flattened onto its background (white paper when
    # the light colour is transparent).
    background = (255, 255, 255) if light == TRANSPARENT else rgb(light)
    flat = Image.new("RGB", image.size, background)
    flat.paste(image, mask=image.convert("RGBA").getchannel("A"))
    data = zlib.compress(flat.tobytes(), 6).hex()
    x, y, w, h = box
    return [
        f"gsave {_n(x)} {_n(y)} translate {_n(w)} {_n(h)} scale /DeviceRGB setcolorspace",
        f"<< /ImageType 1 /Width {flat.width} /Height {flat.height} /BitsPerComponent 8",
        f"/Decode [0 1 0 1 0 1] /ImageMatrix [{flat.width} 0 0 {flat.height} 0 0]",
        "/DataSource currentfile /ASCIIHexDecode filter /FlateDecode filter >> image",
        *(data[i : i + 78] for i in range(0, len(data), 78)),
        ">",
        "grestore",
    ]
