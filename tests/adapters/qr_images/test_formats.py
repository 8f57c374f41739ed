"""Every format at print sizes, read back by a real reader of that format and decoded."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images import QrOptions, QrRenderer, qr_facts
from tests.adapters.qr_images.helpers import (
    PAYLOAD,
    decode,
    needs_ghostscript,
    pdf_page_size,
    png_image,
    read,
    svg_image,
)

FORMATS = [
    "svg",
    "png",
    "pdf",
    pytest.param("eps", marks=needs_ghostscript),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("shape", ["square", "rounded", "dots"])
def test_every_format_and_shape_decodes_to_the_payload(fmt: Any, shape: Any) -> None:
    rendered = QrRenderer().render(PAYLOAD, QrOptions(format=fmt, size="30mm", shape=shape))
    assert rendered.checked
    assert decode(read(fmt, rendered.body)) == [PAYLOAD]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_label_and_a_finder_colour_still_decode(fmt: Any) -> None:
    options = QrOptions(
        format=fmt, size="40mm", label="Scan for the menu", finder="#b00020", shape="rounded"
    )
    image = read(fmt, QrRenderer().render(PAYLOAD, options).body).convert("RGB")
    assert decode(image) == [PAYLOAD]
    # The label makes the drawing taller than wide, with dark pixels below the code.
    assert image.height > image.width
    band = image.crop((0, image.width, image.width, image.height))
    darkest, _ = band.convert("L").getextrema()
    assert isinstance(darkest, (int, float))
    assert darkest < 100
    # The finder pattern's eye (3 modules in from the quiet zone's corner) is the finder red.
    modules = qr_facts(PAYLOAD)[1] + 8  # with a 4-module quiet zone
    step = image.width / modules
    r, g, b = image.getpixel((int(7.5 * step), int(7.5 * step)))  # type: ignore[misc]
    assert r > 120
    assert max(g, b) < 80


def test_svg_carries_the_physical_size_exactly_and_a_module_view_box() -> None:
    body = QrRenderer().render(PAYLOAD, QrOptions(size="30mm")).body
    root = ET.fromstring(body)
    assert root.attrib["width"] == root.attrib["height"] == "30mm"
    assert root.attrib["viewBox"] == "0 0 37 37"  # 29 modules (version 3) + 2 x 4
    assert qr_facts(PAYLOAD) == (3, 29)


@pytest.mark.parametrize(
    ("size", "points"),
    [("30mm", 30 / 25.4 * 72), ("3cm", 30 / 25.4 * 72), ("1.5in", 108.0), ("96px", 72.0)],
)
def test_pdf_page_box_is_the_size_in_points(size: str, points: float) -> None:
    body = QrRenderer().render(PAYLOAD, QrOptions(format="pdf", size=size)).body
    assert body.startswith(b"%PDF-1.4\n")
    width, height = pdf_page_size(body)
    assert width == pytest.approx(points, abs=0.01)
    assert height == pytest.approx(points, abs=0.01)


def test_eps_bounding_box_is_the_size_in_points() -> None:
    body = QrRenderer().render(PAYLOAD, QrOptions(format="eps", size="30mm")).body
    text = body.decode("ascii")
    assert text.startswith("%!PS-Adobe-3.0 EPSF-3.0\n")
    assert "%%BoundingBox: 0 0 86 86\n" in text
    match = re.search(r"%%HiResBoundingBox: 0 0 ([0-9.]+) ([0-9.]+)", text)
    assert match is not None
    assert float(match.group(1)) == pytest.approx(85.0394, abs=0.001)


@pytest.mark.parametrize(("dpi", "pixels"), [(None, 354), (600, 709), (72, 85)])
def test_png_of_a_physical_size_has_its_pixels_and_resolution(dpi: int | None, pixels: int) -> None:
    options = QrOptions(format="png", size="30mm", dpi=dpi)
    image = png_image(QrRenderer().render(PAYLOAD, options).body)
    assert image.size == (pixels, pixels)
    assert round(image.info["dpi"][0]) == (dpi or 300)
    assert decode(image) == [PAYLOAD]


def test_png_in_pixels_is_that_many_pixels_wide() -> None:
    image = png_image(QrRenderer().render(PAYLOAD, QrOptions(format="png", size="500px")).body)
    assert image.size == (500, 500)
    assert "dpi" not in image.info


def test_labels_look_alike_in_svg_and_png() -> None:
    options = QrOptions(size="400px", label="Scan for the menu")
    renderer = QrRenderer()
    vector = svg_image(renderer.render(PAYLOAD, options).body, width=400).convert("L")
    raster = png_image(
        renderer.render(PAYLOAD, QrOptions(**{**_fields(options), "format": "png"})).body
    )
    raster = raster.convert("L")
    assert vector.size == raster.size
    # The label's ink, box by box, within a few pixels: same font file, same layout.
    for image in (vector, raster):
        assert image.getbbox() is not None
    box_v = _ink_box(vector, top=400)
    box_r = _ink_box(raster, top=400)
    assert all(abs(a - b) <= 4 for a, b in zip(box_v, box_r, strict=True)), (box_v, box_r)


def _fields(options: QrOptions) -> dict[str, Any]:
    return {f: getattr(options, f) for f in options.__struct_fields__}


def _ink_box(image: Any, top: int) -> tuple[int, int, int, int]:
    band = image.crop((0, top, image.width, image.height)).point(lambda v: 255 if v < 128 else 0)
    box = band.getbbox()
    assert box is not None
    return tuple(box)


def test_a_label_longer_than_the_code_is_wide_is_refused() -> None:
    with pytest.raises(InvalidField) as info:
        QrRenderer().render(PAYLOAD, QrOptions(label="W" * 40))
    assert info.value.field == "label"
    assert "longer than the code is wide" in info.value.msg


def test_a_png_over_4096_pixels_is_refused_naming_the_size() -> None:
    with pytest.raises(InvalidField) as info:
        QrRenderer().render(PAYLOAD, QrOptions(format="png", size="500mm", dpi=300))
    assert info.value.field == "size"
    assert "4096" in info.value.msg


def test_vector_formats_are_the_same_bytes_every_time() -> None:
    for fmt in ("svg", "pdf", "eps"):
        options = QrOptions(format=fmt, size="30mm", label="Menu", shape="dots")
        first = QrRenderer().render(PAYLOAD, options).body
        assert QrRenderer().render(PAYLOAD, options).body == first


def test_labels_in_vector_formats_are_outlines_not_text() -> None:
    options = QrOptions(size="30mm", label="Menu")
    body = QrRenderer().render(PAYLOAD, options).body
    assert b"<text" not in body
    pdf = QrRenderer().render(PAYLOAD, QrOptions(format="pdf", size="30mm", label="Menu")).body
    assert b"/Font" not in pdf
