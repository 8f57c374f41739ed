import contextlib
import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images import QrOptions, QrRenderer, etag_for

SVG_NS = "{http://www.w3.org/2000/svg}"

PAYLOADS = [
    "https://example.com/q/Ab3xYz9k",
    "HELLO123",
    "https://qr.example.org/q/" + "x" * 64 + "?utm_source=print&utm_medium=poster",
    "https://example.com/q/straße?ü=✓",
    "https://example.com/" + "long-path/" * 30,
]


def decode_png(body: bytes) -> list[str]:
    image = Image.open(io.BytesIO(body))
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("ecc", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("payload", PAYLOADS)
def test_png_decodes_back_to_exactly_the_payload(payload: str, ecc: Any) -> None:
    rendered = QrRenderer().render(payload, QrOptions(format="png", ecc=ecc, scale=4))
    assert rendered.media_type == "image/png"
    assert rendered.body.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_png(rendered.body) == [payload]


@pytest.mark.parametrize(
    "options",
    [
        QrOptions(format="png", dark="#123", light="fafafa", scale=2, border=1),
        QrOptions(format="png", dark="1a237e", light="transparent"),
        QrOptions(format="png", scale=1, border=4),
    ],
)
def test_png_with_custom_colours_and_sizes_still_decodes(options: QrOptions) -> None:
    payload = "https://example.com/q/colour"
    assert decode_png(QrRenderer().render(payload, options).body) == [payload]


def test_png_size_follows_scale_and_border() -> None:
    renderer = QrRenderer()
    small = Image.open(io.BytesIO(renderer.render("x", QrOptions(format="png", scale=1)).body))
    big = Image.open(
        io.BytesIO(renderer.render("x", QrOptions(format="png", scale=3, border=6)).body)
    )
    modules = small.size[0] - 2 * 4
    assert big.size == ((modules + 2 * 6) * 3,) * 2


def svg_root(body: bytes) -> ET.Element:
    return ET.fromstring(body)


def test_svg_is_a_standalone_document_with_a_title() -> None:
    payload = "https://example.com/q/a?b=1&c=<2>"
    rendered = QrRenderer().render(payload, QrOptions(format="svg"))
    assert rendered.media_type == "image/svg+xml"
    assert rendered.body.startswith(b"<?xml")
    root = svg_root(rendered.body)
    assert root.tag == f"{SVG_NS}svg"
    title = root.find(f"{SVG_NS}title")
    assert title is not None
    assert title.text is not None
    assert payload in title.text


@pytest.mark.parametrize(("scale", "border"), [(1, 0), (10, 4), (7, 2), (50, 20)])
def test_svg_view_box_is_modules_plus_border_times_scale(scale: int, border: int) -> None:
    root = svg_root(QrRenderer().render("HELLO", QrOptions(scale=scale, border=border)).body)
    x, y, width, height = (float(v) for v in root.attrib["viewBox"].split())
    assert (x, y) == (0, 0)
    assert width == height
    modules = width / scale - 2 * border
    # A QR symbol of version v is 17 + 4v modules wide.
    assert modules == int(modules)
    assert (modules - 17) % 4 == 0
    assert modules >= 21
    assert root.attrib["width"] == root.attrib["height"] == f"{int(width)}px"


def test_svg_uses_the_requested_colours() -> None:
    body = QrRenderer().render("x", QrOptions(dark="#123456", light="#abcdef")).body.decode()
    assert "#123456" in body
    assert "#abcdef" in body


def test_etag_is_a_quoted_strong_validator() -> None:
    etag = QrRenderer().render("x", QrOptions()).etag
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert not etag.startswith("W/")
    assert '"' not in etag[1:-1]


def test_etag_is_the_same_in_another_process() -> None:
    options = QrOptions(format="png", scale=3, ecc="H", dark="#abc", light="transparent")
    script = (
        "from scanlet.adapters.qr_images import QrOptions, etag_for\n"
        "print(etag_for('https://e.example/q/x', QrOptions(format='png', scale=3, ecc='H',"
        " dark='#abc', light='transparent')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == etag_for("https://e.example/q/x", options)


@pytest.mark.parametrize(
    "changed",
    [
        {"format": "png"},
        {"scale": 11},
        {"border": 0},
        {"ecc": "H"},
        {"dark": "#111111"},
        {"light": "transparent"},
    ],
)
def test_etag_differs_when_any_option_differs(changed: dict[str, Any]) -> None:
    renderer = QrRenderer()
    base = renderer.render("https://example.com/q/x", QrOptions())
    other = renderer.render("https://example.com/q/x", QrOptions(**changed))
    assert base.etag != other.etag
    assert base.body != other.body


def test_etag_differs_when_the_payload_differs() -> None:
    assert etag_for("a", QrOptions()) != etag_for("b", QrOptions())


def test_equivalent_colour_spellings_give_the_same_options_and_etag() -> None:
    spelled = QrOptions.parse({"dark": "000", "light": "#FFF"})
    assert spelled == QrOptions()
    assert hash(spelled) == hash(QrOptions())
    assert etag_for("x", spelled) == etag_for("x", QrOptions())


def test_repeated_renders_hit_the_cache() -> None:
    renderer = QrRenderer()
    first = renderer.render("x", QrOptions())
    second = renderer.render("x", QrOptions.parse({}))
    assert second is first
    stats = renderer.statistics()
    assert (stats.hits, stats.misses, stats.size, stats.max_entries) == (1, 1, 1, 512)


def test_cache_evicts_the_least_recently_used_entry_past_max_entries() -> None:
    renderer = QrRenderer(max_entries=2)
    options = QrOptions()
    renderer.render("a", options)
    renderer.render("b", options)
    renderer.render("a", options)  # a is now the most recently used
    renderer.render("c", options)  # evicts b
    assert renderer.statistics().size == 2
    renderer.render("a", options)
    assert (renderer.statistics().hits, renderer.statistics().misses) == (2, 3)
    renderer.render("b", options)
    assert (renderer.statistics().hits, renderer.statistics().misses) == (2, 4)
    assert renderer.statistics().size == 2


def test_cache_keys_include_the_options() -> None:
    renderer = QrRenderer()
    renderer.render("a", QrOptions(format="svg"))
    renderer.render("a", QrOptions(format="png"))
    assert renderer.statistics().misses == 2


def test_a_renderer_with_no_entries_caches_nothing() -> None:
    renderer = QrRenderer(max_entries=0)
    renderer.render("a", QrOptions())
    renderer.render("a", QrOptions())
    assert renderer.statistics().size == 0
    assert renderer.statistics().hits == 0


def test_a_negative_cache_size_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        QrRenderer(max_entries=-1)


def test_parse_gives_defaults_for_absent_parameters_and_ignores_unknown_ones() -> None:
    options = QrOptions.parse({"utm_source": "x", "v": "2"})
    assert options == QrOptions(format="svg", scale=10, border=4, ecc="M")
    assert (options.dark, options.light) == ("#000000", "#ffffff")


def test_parse_reads_every_parameter() -> None:
    options = QrOptions.parse(
        {
            "format": "PNG",
            "scale": "50",
            "border": "0",
            "ecc": "q",
            "dark": "#0A0",
            "light": "Transparent",
        }
    )
    assert options == QrOptions(
        format="png", scale=50, border=0, ecc="Q", dark="#00aa00", light="transparent"
    )


BAD_PARAMETERS = [
    ("format", "gif"),
    ("format", ""),
    ("format", "svg "),
    ("scale", "0"),
    ("scale", "51"),
    ("scale", "-1"),
    ("scale", "+5"),
    ("scale", " 5"),
    ("scale", "1_0"),
    ("scale", "5.0"),
    ("scale", "\u0667"),
    ("scale", "ten"),
    ("scale", ""),
    ("scale", "99999999999999999999"),
    ("border", "21"),
    ("border", "-0"),
    ("border", "x"),
    ("ecc", "X"),
    ("ecc", "LM"),
    ("ecc", ""),
    ("dark", "transparent"),
    ("dark", "red"),
    ("dark", "#12"),
    ("dark", "#1234"),
    ("dark", "#12345g"),
    ("dark", "##123"),
    ("dark", "#123\n"),
    ("light", "rgba(0,0,0,0)"),
    ("light", "none"),
    ("light", ""),
    ("dark", "#ffffff"),  # the same as the default light: an unreadable code
]


@pytest.mark.parametrize(("field", "value"), BAD_PARAMETERS)
def test_bad_parameters_raise_invalid_field_naming_the_field(field: str, value: str) -> None:
    with pytest.raises(InvalidField) as info:
        QrOptions.parse({field: value})
    assert info.value.field == field
    assert info.value.msg


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("format", {"format": "gif"}),
        ("scale", {"scale": 0}),
        ("scale", {"scale": True}),
        ("border", {"border": 21}),
        ("ecc", {"ecc": "Z"}),
        ("dark", {"dark": "blue"}),
        ("light", {"light": "#ggg"}),
    ],
)
def test_options_built_directly_are_validated_too(field: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidField) as info:
        QrOptions(**kwargs)
    assert info.value.field == field


@given(
    st.dictionaries(
        st.sampled_from(["format", "scale", "border", "ecc", "dark", "light", "other"]),
        st.text(max_size=8) | st.sampled_from(["png", "svg", "h", "7", "000", "transparent"]),
    )
)
def test_no_parameters_make_parse_raise_anything_but_invalid_field(
    params: dict[str, str],
) -> None:
    with contextlib.suppress(InvalidField):
        QrOptions.parse(params)
