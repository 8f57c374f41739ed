"""Logos: PNG/JPEG validation, the SVG sanitiser, and logos drawn in every format."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from PIL import Image, ImageDraw

from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images import (
    MAX_SVG_BYTES,
    QrOptions,
    QrRenderer,
    Unscannable,
    _layout,
    load_logo,
    sanitize_svg,
)
from scanlet.adapters.qr_images._codewords import LOGO_SHARE, centred_box, damaged_per_block
from scanlet.adapters.qr_images._layout import lay_out
from tests.adapters.qr_images.helpers import PAYLOAD, decode, needs_ghostscript, read

SVG_NS = "{http://www.w3.org/2000/svg}"


def raster_logo(fmt: str = "PNG", size: tuple[int, int] = (200, 120)) -> bytes:
    image = Image.new("RGBA" if fmt == "PNG" else "RGB", size, (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size[0] - 1, size[1] - 1), fill=(20, 80, 200, 255))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


SVG_LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    b'<circle cx="50" cy="50" r="48" fill="#e33"/></svg>'
)


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (raster_logo("PNG"), "image/png"),
        (raster_logo("JPEG"), "image/jpeg"),
        (SVG_LOGO, "image/svg+xml"),
    ],
)
@pytest.mark.parametrize("fmt", ["png", "svg", "pdf", pytest.param("eps", marks=needs_ghostscript)])
def test_a_logo_of_each_kind_in_each_format_decodes(data: bytes, media_type: str, fmt: Any) -> None:
    logo = load_logo(data, media_type)
    options = QrOptions(format=fmt, size="30mm", logo=True)
    assert options.ecc == "H"
    rendered = QrRenderer().render(PAYLOAD, options, logo)
    assert rendered.checked
    assert decode(read(fmt, rendered.body)) == [PAYLOAD]


def test_the_logo_is_drawn_in_the_middle_on_a_clear_background() -> None:
    logo = load_logo(raster_logo(), "image/png")
    body = QrRenderer().render(PAYLOAD, QrOptions(format="png", size="300px", logo=True), logo).body
    image = read("png", body).convert("RGB")
    r, g, b = image.getpixel((150, 150))  # type: ignore[misc]
    assert (r, g, b) == pytest.approx((20, 80, 200), abs=8)


def test_the_svg_embeds_the_logo_as_it_was_checked() -> None:
    logo = load_logo(SVG_LOGO, "image/svg+xml")
    body = QrRenderer().render(PAYLOAD, QrOptions(logo=True), logo).body
    image = ET.fromstring(body).find(f"{SVG_NS}image")
    assert image is not None
    assert image.attrib["href"].startswith("data:image/svg+xml;base64,")


def test_the_cleared_box_stays_within_what_h_can_correct() -> None:
    logo = load_logo(raster_logo(size=(300, 100)), "image/png")
    layout = lay_out(PAYLOAD, QrOptions(logo=True), logo)
    assert layout.clear is not None
    _, _, w, h = layout.clear
    assert w > h  # a wide logo gets a wide box
    hidden = centred_box(layout.version, int(w), int(h))
    for damaged, capacity in damaged_per_block(layout.version, "H", hidden):
        assert damaged <= LOGO_SHARE * capacity


def test_a_logo_too_big_for_the_code_is_refused_by_the_decode_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_layout, "logo_area", lambda version, aspect: (19, 19))
    logo = load_logo(raster_logo(size=(100, 100)), "image/png")
    with pytest.raises(Unscannable) as info:
        QrRenderer().render(PAYLOAD, QrOptions(format="png", logo=True), logo)
    assert info.value.field == "logo"
    assert "did not scan" in info.value.msg


def test_logo_true_without_a_logo_names_the_field() -> None:
    with pytest.raises(InvalidField) as info:
        QrRenderer().render(PAYLOAD, QrOptions(logo=True))
    assert info.value.field == "logo"
    assert info.value.msg == "this code has no logo"


def test_etag_depends_on_the_logo() -> None:
    renderer = QrRenderer()
    one = renderer.render(PAYLOAD, QrOptions(logo=True), load_logo(SVG_LOGO, "image/svg+xml"))
    other_logo = load_logo(SVG_LOGO.replace(b"#e33", b"#33e"), "image/svg+xml")
    two = renderer.render(PAYLOAD, QrOptions(logo=True), other_logo)
    assert one.etag != two.etag


# --- PNG and JPEG -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type", "fragment"),
    [
        (b"not an image", "image/png", "not a readable PNG"),
        (raster_logo("JPEG"), "image/png", "not a readable PNG"),  # says PNG, is JPEG
        (raster_logo("PNG"), "image/jpeg", "not a readable JPEG"),
        (raster_logo("PNG")[:60], "image/png", "not a readable PNG"),  # truncated
        (raster_logo("PNG", (8, 8)), "image/png", "from 16 to 4096 pixels"),
        (raster_logo("PNG", (5000, 20)), "image/png", "from 16 to 4096 pixels"),
        (b"\x00" * (256 * 1024 + 1), "image/png", "at most 256 KiB"),
        (raster_logo("PNG", (4096, 1100)), "image/png", "at most 4194304 pixels"),
        (raster_logo("GIF"), "image/gif", "must be image/png, image/jpeg or image/svg+xml"),
    ],
)
def test_bad_raster_logos_are_refused_naming_logo(
    data: bytes, media_type: str, fragment: str
) -> None:
    with pytest.raises(InvalidField) as info:
        load_logo(data, media_type)
    assert info.value.field == "logo"
    assert fragment in info.value.msg


def test_a_raster_logo_keeps_its_bytes_and_aspect() -> None:
    data = raster_logo(size=(300, 150))
    logo = load_logo(data, "image/png; charset=binary")
    assert logo.data == data
    assert logo.media_type == "image/png"
    assert logo.aspect == 2.0


# --- SVG ----------------------------------------------------------------------------------


def clean(svg: str) -> ET.Element:
    return ET.fromstring(sanitize_svg(svg.encode()))


def wrap(inner: str, root: str = "") -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" {root}>{inner}</svg>'


@pytest.mark.parametrize(
    ("inner", "root", "reason"),
    [
        ("<script>alert(1)</script>", "", "must not contain scripts (<script>)"),
        (
            '<foreignObject width="5" height="5"><script xmlns="http://www.w3.org/1999/xhtml">'
            "alert(1)</script></foreignObject>",
            "",
            "must not contain scripts (<script>)",
        ),
        ('<handler type="text/ecmascript">x()</handler>', "", "must not contain scripts"),
        ("", 'onload="alert(1)"', "event-handler attributes (onload)"),
        ('<rect width="5" height="5" onclick="alert(1)"/>', "", "event-handler attributes"),
        ('<g ONMOUSEOVER="x()"/>', "", "event-handler attributes (ONMOUSEOVER)"),
        ('<a href="javascript:alert(1)"><rect/></a>', "", "must not contain scripts"),
        ('<set attributeName="href" to="javascript:alert(1)"/>', "", "must not contain scripts"),
        ('<image href="https://evil.example/x.png"/>', "", "outside itself"),
        ('<use href="https://evil.example/s.svg#c"/>', "", "outside itself"),
        (
            '<rect xmlns:x="http://www.w3.org/1999/xlink" x:href="//evil.example"/>',
            "",
            "outside itself",
        ),
        ('<filter id="f"><feImage href="file:///etc/passwd"/></filter>', "", "outside itself"),
        ('<rect fill="url(https://evil.example/#g)"/>', "", "fill has url()"),
        ('<rect style="fill:url(//evil.example/x);stroke:red"/>', "", "style has url()"),
        ('<rect style="behavior:url(x.htc)"/>', "", "url()"),
        ('<rect mask="url(data:image/svg+xml,...)"/>', "", "url()"),
        ("<style>@import url(https://evil.example/x.css);</style>", "", "url() or @import"),
        ("<style>rect { fill: url('http://evil.example/p') }</style>", "", "url() or @import"),
    ],
)
def test_hostile_svg_is_refused_with_the_reason(inner: str, root: str, reason: str) -> None:
    with pytest.raises(InvalidField) as info:
        sanitize_svg(wrap(inner + '<rect width="2" height="2"/>', root=root).encode())
    assert info.value.field == "logo"
    assert reason in info.value.msg


@pytest.mark.parametrize(
    "inner",
    [
        '<foreignObject width="5" height="5"><p xmlns="http://www.w3.org/1999/xhtml">x</p>'
        "</foreignObject>",
        '<image href="data:image/png;base64,iVBORw0KGgo=" width="5" height="5"/>',
        '<a href="#here"><rect width="1" height="1"/></a>',
        "<style>rect { fill: red }</style>",
        '<animate attributeName="x" to="5"/>',
        '<filter id="f"><feGaussianBlur stdDeviation="1"/></filter>',
        '<text x="1" y="5">hello</text>',
        '<metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></metadata>',
    ],
)
def test_unsupported_but_harmless_parts_are_removed(inner: str) -> None:
    root = clean(wrap(inner + '<rect width="2" height="2"/>'))
    assert [child.tag for child in root] == [f"{SVG_NS}rect"]


@pytest.mark.parametrize(
    ("inner", "kept"),
    [
        ('<rect width="5" height="5" fill="url(#g)"/>', {"fill": "url(#g)"}),
        ('<rect width="5" height="5" style="fill:url(#g);stroke:red"/>',
         {"style": "fill:url(#g);stroke:red"}),
        ('<rect width="5" height="5" data-x="1" class="c" stroke="red"/>', {"stroke": "red"}),
    ],
)  # fmt: skip
def test_only_references_into_the_same_document_are_kept(inner: str, kept: dict[str, str]) -> None:
    rect = clean(wrap(inner)).find(f"{SVG_NS}rect")
    assert rect is not None
    assert {k: v for k, v in rect.attrib.items() if k not in ("width", "height")} == kept


def test_use_may_only_point_inside_and_never_fan_out() -> None:
    root = clean(
        wrap(
            '<defs><circle id="c" r="1"/><g id="many"><use href="#c"/><use href="#c"/></g></defs>'
            '<use href="#c"/><use href="#many"/><use href="#nowhere"/>'
            '<use xmlns:xl="http://www.w3.org/1999/xlink" xl:href="#c"/>'
        )
    )
    uses = [e.attrib.get("href") for e in root if e.tag == f"{SVG_NS}use"]
    assert uses == ["#c", "#c"]


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"<svg", "not well-formed"),
        (b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "root"),
        (b"<svg/>", "root"),  # not in the SVG namespace
        (
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
            "DOCTYPE",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>',
            "DOCTYPE",
        ),
        (
            b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">&x;</svg>',
            "DOCTYPE",
        ),
        (
            b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">&c;</svg>',
            "DOCTYPE",
        ),
        (  # an entity never declared: expat refuses it as it parses
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">&x;</svg>',
            "not well-formed",
        ),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', "viewBox"),
        (b" " * (MAX_SVG_BYTES + 1), "256 KiB"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1">'
            + b"<g>" * 70
            + b"</g>" * 70
            + b"</svg>",
            "64 deep",
        ),
    ],
)
def test_bad_svg_logos_are_refused_naming_logo(data: bytes, fragment: str) -> None:
    with pytest.raises(InvalidField) as info:
        load_logo(data, "image/svg+xml")
    assert info.value.field == "logo"
    assert fragment in info.value.msg


def test_a_sanitised_logo_keeps_its_drawing() -> None:
    data = wrap(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#f00"/></linearGradient>'
        '</defs><path d="M0 0H10V10z" fill="url(#g)" transform="rotate(5)"/>'
    ).encode()
    logo = load_logo(data, "image/svg+xml")
    root = ET.fromstring(logo.data)
    path = root.find(f"{SVG_NS}path")
    assert path is not None
    assert path.attrib == {"d": "M0 0H10V10z", "fill": "url(#g)", "transform": "rotate(5)"}
    assert logo.aspect == 1.0
    assert logo.raster(20, 20).getpixel((15, 5))[3] == 255  # type: ignore[index]
