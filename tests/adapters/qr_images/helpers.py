"""Readers for every format the renderer writes, so tests decode what a reader would show."""

from __future__ import annotations

import io
import os
import shutil

import pypdfium2 as pdfium
import pytest
import resvg_py
import zxingcpp
from PIL import Image

PAYLOAD = "https://qr.example.com/q/Ab3xYz9k"


def decode(image: Image.Image) -> list[str]:
    """What zxing-cpp reads, flattened onto white paper, inverted codes not tried."""
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        paper = Image.new("RGB", image.size, "white")
        paper.paste(image, mask=image.getchannel("A"))
        image = paper
    found = zxingcpp.read_barcodes(image.convert("L"), try_invert=False)
    return [r.text for r in found]


def png_image(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    assert image.format == "PNG"
    return image


def svg_image(body: bytes, width: int = 400) -> Image.Image:
    # resvg: an independent SVG renderer (the one Scanlet uses for SVG logos, not for codes).
    png = resvg_py.svg_to_bytes(
        svg_string=body.decode(), width=width, dpi=96, skip_system_fonts=True
    )
    return Image.open(io.BytesIO(png))


def pdf_image(body: bytes, scale: float = 4.0) -> Image.Image:
    # PDFium, Chrome's PDF reader.
    page = pdfium.PdfDocument(body)[0]
    image: Image.Image = page.render(scale=scale).to_pil()
    return image


def pdf_page_size(body: bytes) -> tuple[float, float]:
    width, height = pdfium.PdfDocument(body)[0].get_size()
    return float(width), float(height)


needs_ghostscript = pytest.mark.skipif(
    shutil.which("gs") is None and os.environ.get("CI") != "true",
    reason="Pillow reads EPS through Ghostscript (apt-get install ghostscript; CI installs it)",
)


def eps_image(body: bytes, scale: int = 4) -> Image.Image:
    # Ghostscript, through Pillow's EPS reader.
    image = Image.open(io.BytesIO(body))
    image.load(scale=scale)  # type: ignore[call-arg]  # EpsImageFile.load takes a scale
    return image


def read(fmt: str, body: bytes) -> Image.Image:
    """A raster of ``body`` in format ``fmt`` as its own kind of reader draws it."""
    if fmt == "png":
        return png_image(body)
    if fmt == "svg":
        return svg_image(body)
    if fmt == "pdf":
        return pdf_image(body)
    return eps_image(body)
