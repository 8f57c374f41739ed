"""Logos for the middle of a QR code: PNG and JPEG checked with Pillow, SVG sanitised.

``load_logo(data, media_type)`` is the one way in: it refuses what is not a usable image
(``LogoRejected``, a 422 naming ``logo``) and returns a ``Logo`` whose bytes are safe to
store and serve (for SVG, the sanitised document). The renderer takes a ``Logo``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import warnings
from xml.parsers import expat

import resvg_py
from PIL import Image

from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.logos import LOGO_TYPES, MAX_LOGO_BYTES, LogoType
from scanlet.storage.records import StoredLogo

__all__ = (
    "LOGO_TYPES",
    "MAX_LOGO_BYTES",
    "MAX_PIXELS",
    "MAX_RASTER_BYTES",
    "MAX_SVG_BYTES",
    "Logo",
    "LogoRejected",
    "LogoType",
    "load_logo",
    "sanitize_svg",
    "validate_raster",
)

MAX_SVG_BYTES = MAX_LOGO_BYTES
MAX_RASTER_BYTES = MAX_LOGO_BYTES
_RASTER_SIDES = (16, 4096)
#: Pixels a PNG or JPEG may decode to: a 256 KiB PNG of one colour can claim 4096 x 4096
#: pixels (64 MiB of RGBA) and more; this caps an upload's decoded size at 16 MiB.
MAX_PIXELS = 2048 * 2048
# Kept pixels: a logo covers at most a third of a code, so 1024 px is 600 dpi at 4 cm.
_KEEP_SIDE = 1024
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
_MAX_ELEMENTS = 5000
_MAX_DEPTH = 64
# Shapes, groups, gradients, clipping and masks. Everything else goes, with its content:
# script, style (CSS can load URLs), foreignObject, image, a, animation (set, animate...),
# filters (feImage loads URLs), text (it would need fonts the reader may lack).
_ELEMENTS = frozenset({
    "svg", "g", "defs", "symbol", "use", "path", "rect", "circle", "ellipse", "line",
    "polyline", "polygon", "linearGradient", "radialGradient", "stop", "clipPath", "mask",
    "title", "desc",
})  # fmt: skip
_PRESENTATION = frozenset({
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
    "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray",
    "stroke-dashoffset", "opacity", "clip-path", "clip-rule", "mask", "stop-color",
    "stop-opacity", "display", "visibility", "color",
})  # fmt: skip
_ATTRIBUTES = _PRESENTATION | frozenset({
    "id", "d", "x", "y", "width", "height", "cx", "cy", "r", "rx", "ry", "x1", "y1", "x2",
    "y2", "fx", "fy", "points", "viewBox", "preserveAspectRatio", "transform", "offset",
    "gradientUnits", "gradientTransform", "spreadMethod", "clipPathUnits", "maskUnits",
    "maskContentUnits", "version", "style",
})  # fmt: skip
_LOCAL_URL = re.compile(r"url\(\s*#[A-Za-z_][\w.-]*\s*\)")
# What makes an SVG hostile rather than merely unsupported: refused with the reason, so the
# uploader learns why, instead of stored with parts silently missing.
_SCRIPT_ELEMENTS = frozenset({"script", "handler"})
_SCRIPT_VALUE = re.compile(r"(java|vb)script\s*:", re.IGNORECASE)
_ANY_URL = re.compile(r"url\(|@import", re.IGNORECASE)
_UNSAFE_VALUE = re.compile(r"url\(|[\\<>@]|expression|javascript:|data:", re.IGNORECASE)
_FRAGMENT = re.compile(r"#[A-Za-z_][\w.-]*")
_NUMBER = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px)?\s*")


class LogoRejected(InvalidField):
    """Raised when an uploaded logo is not a usable PNG, JPEG or SVG image."""

    def __init__(self, message: str) -> None:
        super().__init__("logo", message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.msg,))


class Logo:
    """A checked logo: its (sanitised) bytes, media type, digest and aspect ratio.

    Build one with ``load_logo``; it is immutable and safe to share between threads.
    """

    __slots__ = ("_image", "aspect", "data", "digest", "media_type")

    def __init__(
        self, data: bytes, media_type: LogoType, aspect: float, image: Image.Image | None
    ) -> None:
        self.data = data
        self.media_type: LogoType = media_type
        self.digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        #: Width divided by height.
        self.aspect = aspect
        self._image = image

    def __repr__(self) -> str:
        return f"Logo({self.media_type}, {len(self.data)} bytes, {self.digest[:8]})"

    def stored(self) -> StoredLogo:
        """The logo as the codes context stores it."""
        return StoredLogo(self.media_type, self.digest, self.data)

    def raster(self, width: int, height: int) -> Image.Image:
        """The logo as an RGBA image of ``width`` x ``height`` pixels."""
        if self._image is None:
            return _svg_raster(self.data, width, height)
        return self._image.resize((width, height), Image.Resampling.LANCZOS)


def load_logo(data: bytes, media_type: str) -> Logo:
    """Check (PNG, JPEG) or sanitise (SVG) an uploaded logo; raises LogoRejected.

    ``media_type`` may carry parameters ("image/svg+xml; charset=utf-8").
    """
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind == "image/svg+xml":
        clean = sanitize_svg(data)
        return Logo(clean, "image/svg+xml", _svg_aspect(clean), None)
    if kind in _PILLOW_FORMATS:
        image = validate_raster(data, kind)
        return Logo(data, kind, image.width / image.height, image)  # type: ignore[arg-type]
    raise LogoRejected("must be image/png, image/jpeg or image/svg+xml")


def validate_raster(data: bytes, media_type: str) -> Image.Image:
    """Open a PNG or JPEG logo with Pillow, refusing what is not what it says, too large or
    too small, or broken; return it as RGBA, at most 1024 pixels on its longer side."""
    if len(data) > MAX_RASTER_BYTES:
        raise LogoRejected(f"must be at most {MAX_RASTER_BYTES // 1024} KiB")
    expected = _PILLOW_FORMATS.get(media_type)
    if expected is None:
        raise LogoRejected("must be image/png or image/jpeg")
    low, high = _RASTER_SIDES
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[expected])
            # Opening reads only the header: refuse huge dimensions before decoding pixels.
            if not (low <= image.width <= high and low <= image.height <= high):
                raise LogoRejected(f"must be from {low} to {high} pixels wide and high")
            if image.width * image.height > MAX_PIXELS:
                raise LogoRejected(
                    f"must have at most {MAX_PIXELS} pixels (2048 x 2048), "
                    f"not {image.width} x {image.height}"
                )
            if expected == "JPEG":
                # Decode at the smallest scale (1/2 to 1/8) still covering what is kept.
                image.draft("RGB", (_KEEP_SIDE, _KEEP_SIDE))
            image.load()
    except LogoRejected:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
        raise LogoRejected(f"is not a readable {expected} image ({exc})") from None
    rgba = image.convert("RGBA")
    rgba.thumbnail((_KEEP_SIDE, _KEEP_SIDE), Image.Resampling.LANCZOS)
    return rgba


@functools.lru_cache(maxsize=64)
def _svg_raster(document: bytes, width: int, height: int) -> Image.Image:
    png = resvg_py.svg_to_bytes(
        svg_string=document.decode("utf-8"),
        width=width,
        height=height,
        dpi=96,  # resvg_py defaults to 0, which makes mm, cm and in lengths zero
        skip_system_fonts=True,
    )
    image = Image.open(io.BytesIO(png))
    return image.convert("RGBA")


def _svg_aspect(document: bytes) -> float:
    root = _parse(document)
    _, attrs, _ = root
    box = attrs.get("viewBox", "").replace(",", " ").split()
    if len(box) == 4:
        try:
            width, height = float(box[2]), float(box[3])
        except ValueError:
            width = height = 0.0
        if width > 0 and height > 0:
            return width / height
    sizes = [_NUMBER.fullmatch(attrs.get(name, "")) for name in ("width", "height")]
    if sizes[0] and sizes[1] and float(sizes[0].group(1)) > 0 and float(sizes[1].group(1)) > 0:
        return float(sizes[0].group(1)) / float(sizes[1].group(1))
    raise LogoRejected("an SVG logo needs a viewBox, or a width and a height in pixels")


# An element as (tag, attributes, children); tags and attribute names are local names.
_Element = tuple[str, dict[str, str], list["_Element"]]


def sanitize_svg(data: bytes) -> bytes:
    """Return an SVG logo with only shapes, groups, gradients, clips and masks left.

    Refused (LogoRejected, with the reason): what is hostile, namely scripts (``<script>``,
    ``<handler>``, ``javascript:`` values), event-handler attributes (``on*``), references
    outside the document (an ``href`` other than ``#id`` or ``data:``, ``url()`` other than
    ``url(#id)``, ``@import``), a DOCTYPE or entity; and what cannot be used: more than
    256 KiB, not XML, a root that is not ``<svg>``, more than 5000 elements or 64 levels,
    no size to scale by.
    Dropped: what is merely unsupported, namely ``style`` elements, ``foreignObject``,
    images, links, animations, filters, text, every attribute not in a fixed list, and
    ``use`` of anything that is not in the document or itself holds a ``use`` (no fan-out).
    """
    if len(data) > MAX_SVG_BYTES:
        raise LogoRejected(f"an SVG logo must be at most {MAX_SVG_BYTES // 1024} KiB")
    root = _clean(_parse(data))
    ids = _ids(root)
    root = _drop_fanout(root, ids)
    out: list[str] = ['<svg xmlns="http://www.w3.org/2000/svg"']
    _, attrs, children = root
    out.extend(f' {name}="{_escape(value)}"' for name, value in attrs.items())
    out.append(">")
    for child in children:
        _write(child, out)
    out.append("</svg>")
    document = "".join(out).encode("utf-8")
    _svg_aspect(document)
    return document


def _parse(data: bytes) -> _Element:
    parser = expat.ParserCreate(namespace_separator=" ")
    # Expat fetches no external entity unless asked; refusing every DOCTYPE and entity
    # declaration also leaves nothing to expand (no billion laughs), as defusedxml does.
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[_Element] = []
    roots: list[_Element] = []
    style_text: list[str] = []
    count = 0

    def refuse(*_: object) -> int:
        raise LogoRejected("an SVG logo must not have a DOCTYPE or entities")

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > _MAX_ELEMENTS or len(stack) >= _MAX_DEPTH:
            raise LogoRejected(f"an SVG logo may have {_MAX_ELEMENTS} elements, {_MAX_DEPTH} deep")
        namespace, _, local = name.rpartition(" ")
        _refuse_hostile(local, attributes)
        kept: dict[str, str] = {}
        for key, value in attributes.items():
            space, _, attr = key.rpartition(" ")
            if space == _XLINK and attr == "href":
                kept["href"] = value
            elif not space:
                kept[attr] = value
        element: _Element = (local if namespace == _SVG else "", kept, [])
        (stack[-1][2] if stack else roots).append(element)
        stack.append(element)
        style_text.clear()

    def text(chunk: str) -> None:
        if stack and stack[-1][0] == "style":
            style_text.append(chunk)

    def end(_: str) -> None:
        if stack.pop()[0] == "style" and _ANY_URL.search(_LOCAL_URL.sub("", "".join(style_text))):
            raise LogoRejected("an SVG logo must not load anything by URL (url() or @import)")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise LogoRejected(f"is not well-formed XML ({exc})") from None
    if len(roots) != 1 or roots[0][0] != "svg":
        raise LogoRejected("an SVG logo must have <svg> in the SVG namespace as its root")
    return roots[0]


def _refuse_hostile(local: str, attributes: dict[str, str]) -> None:
    """Refuse an element that runs code or reaches outside the document (in any namespace:
    an XHTML ``<script>`` inside ``foreignObject`` runs as well as an SVG one)."""
    if local in _SCRIPT_ELEMENTS:
        raise LogoRejected(f"an SVG logo must not contain scripts (<{local}>)")
    for key, value in attributes.items():
        attr = key.rpartition(" ")[2]
        if attr.lower().startswith("on"):
            raise LogoRejected(f"an SVG logo must not have event-handler attributes ({attr})")
        if _SCRIPT_VALUE.search(value):
            raise LogoRejected(f"an SVG logo must not contain scripts ({attr}=javascript:)")
        if attr == "href":
            target = value.strip()
            if not (_FRAGMENT.fullmatch(target) or target.lower().startswith("data:")):
                raise LogoRejected(
                    f"an SVG logo must not reference anything outside itself (href={target!r})"
                )
        elif _ANY_URL.search(_LOCAL_URL.sub("", value)):
            raise LogoRejected(
                f"an SVG logo must not load anything by URL ({attr} has url() or @import)"
            )


def _clean(element: _Element) -> _Element:
    tag, attrs, children = element
    kept: dict[str, str] = {}
    for name, value in attrs.items():
        if name == "href":
            if _FRAGMENT.fullmatch(value.strip()) and tag in (
                "use",
                "linearGradient",
                "radialGradient",
            ):
                kept["href"] = value.strip()
        elif name == "style":
            style = _clean_style(value)
            if style:
                kept["style"] = style
        elif name in _ATTRIBUTES and _safe_value(value):
            kept[name] = value
    return tag, kept, [_clean(child) for child in children if child[0] in _ELEMENTS]


def _safe_value(value: str) -> bool:
    return not _UNSAFE_VALUE.search(_LOCAL_URL.sub("", value))


def _clean_style(style: str) -> str:
    kept: list[str] = []
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip()
        if name in _PRESENTATION and value and _safe_value(value):
            kept.append(f"{name}:{value}")
    return ";".join(kept)


def _ids(element: _Element) -> dict[str, _Element]:
    found: dict[str, _Element] = {}
    stack = [element]
    while stack:
        current = stack.pop()
        if "id" in current[1]:
            found.setdefault(current[1]["id"], current)
        stack.extend(current[2])
    return found


def _holds_use(element: _Element) -> bool:
    return element[0] == "use" or any(_holds_use(child) for child in element[2])


def _drop_fanout(element: _Element, ids: dict[str, _Element]) -> _Element:
    tag, attrs, children = element
    kept: list[_Element] = []
    for child in children:
        if child[0] == "use":
            target = ids.get(child[1].get("href", "")[1:])
            if target is None or _holds_use(target):
                continue
        kept.append(_drop_fanout(child, ids))
    return tag, attrs, kept


def _write(element: _Element, out: list[str]) -> None:
    tag, attrs, children = element
    out.append(f"<{tag}")
    out.extend(f' {name}="{_escape(value)}"' for name, value in attrs.items())
    if not children:
        out.append("/>")
        return
    out.append(">")
    for child in children:
        _write(child, out)
    out.append(f"</{tag}>")


def _escape(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
