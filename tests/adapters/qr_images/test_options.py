"""The print studio's query parameters: parsed, checked and kept canonical."""

from __future__ import annotations

import pytest

from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images import Length, QrOptions, etag_for


def test_sizes_take_units_and_are_kept_canonical() -> None:
    assert QrOptions.parse({"size": "30MM"}).size == "30mm"
    assert QrOptions.parse({"size": "1.50in"}).size == "1.5in"
    assert QrOptions.parse({"size": "3.0cm"}).length == Length(3.0, "cm")
    assert QrOptions.parse({"size": "600px"}).length == Length(600.0, "px")
    assert Length(30.0, "mm").inches() == pytest.approx(30 / 25.4)


def test_a_size_replaces_the_scale() -> None:
    options = QrOptions.parse({"size": "30mm"})
    assert options.scale is None
    assert QrOptions.parse({}).scale == 10


def test_png_of_a_physical_size_defaults_to_300_dpi_and_others_drop_dpi() -> None:
    assert QrOptions.parse({"format": "png", "size": "30mm"}).dpi == 300
    assert QrOptions.parse({"format": "png", "size": "30mm", "dpi": "600"}).dpi == 600
    # dpi means nothing to vector formats or pixel sizes: dropped, so the ETag is the same.
    assert QrOptions.parse({"format": "pdf", "size": "30mm", "dpi": "600"}) == QrOptions(
        format="pdf", size="30mm"
    )
    assert QrOptions.parse({"format": "png", "size": "600px", "dpi": "600"}).dpi is None


def test_finder_defaults_to_dark() -> None:
    assert QrOptions(dark="#123").finder == "#112233"
    assert QrOptions.parse({"finder": "c00"}).finder == "#cc0000"


def test_a_label_implies_the_label_frame_and_is_normalised() -> None:
    options = QrOptions.parse({"label": "  Cafe\u0301 menu "})
    assert options.frame == "label"
    assert options.label == "Café menu"
    assert options == QrOptions(frame="label", label="Café menu")


def test_a_logo_raises_error_correction_to_h() -> None:
    assert QrOptions.parse({"logo": "true", "ecc": "L"}).ecc == "H"
    assert QrOptions.parse({"logo": "0"}).logo is False


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "gif"}, "format"),
        ({"format": "PDFX"}, "format"),
        ({"size": "30"}, "size"),
        ({"size": "30 mm"}, "size"),
        ({"size": "30pt"}, "size"),
        ({"size": "-30mm"}, "size"),
        ({"size": "4mm"}, "size"),
        ({"size": "2001mm"}, "size"),
        ({"size": "79in"}, "size"),
        ({"size": "31px"}, "size"),
        ({"size": "4097px"}, "size"),
        ({"size": "100.5px"}, "size"),
        ({"size": "1.2345in"}, "size"),
        ({"size": "30mm", "scale": "5"}, "scale"),
        ({"dpi": "71"}, "dpi"),
        ({"dpi": "1201"}, "dpi"),
        ({"dpi": "300.0"}, "dpi"),
        ({"shape": "hearts"}, "shape"),
        ({"finder": "red"}, "finder"),
        ({"finder": "transparent"}, "finder"),
        ({"finder": "#fff"}, "finder"),  # the same as light
        ({"frame": "box"}, "frame"),
        ({"frame": "label"}, "label"),  # a label frame needs a label
        ({"label": "x" * 41}, "label"),
        ({"label": "tab\there"}, "label"),
        ({"label": "\u202eevil"}, "label"),  # bidi override: a format character
        ({"label": "שלום"}, "label"),  # right-to-left
        ({"label": "漢字"}, "label"),  # not in the font
        ({"logo": "yes"}, "logo"),
    ],
)
def test_bad_parameters_name_their_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidField) as info:
        QrOptions.parse(params)
    assert info.value.field == field
    assert info.value.msg


@pytest.mark.parametrize(
    "changed",
    [
        {"format": "pdf", "size": "30mm"},
        {"size": "31mm"},
        {"shape": "dots"},
        {"finder": "#aa0000"},
        {"label": "Menu"},
        {"format": "png", "size": "30mm", "dpi": 600},
    ],
)
def test_every_new_option_changes_the_etag(changed: dict[str, object]) -> None:
    base = QrOptions(size="30mm")
    other = QrOptions(**{"size": "30mm", **changed})  # type: ignore[arg-type]
    assert etag_for("x", base) != etag_for("x", other)
