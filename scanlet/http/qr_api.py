"""``/api/v1/codes/{slug}/qr``: the code's QR image (SVG, PNG, PDF, EPS), checked by decoding
before it is sent, cacheable by ETag."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.codes.code import Code
from scanlet.actors.codes.errors import InvalidField
from scanlet.actors.codes.keys import slug_of_key
from scanlet.adapters.qr_images import FORMATS, MAX_LABEL, MEDIA_TYPES, QrOptions, etag_for
from scanlet.http.codes_api import SLUG_PARAM
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import invalid, query_bool
from scanlet.http.problems import Problem
from scanlet.http.resources import qr_links
from scanlet.http.services import services

__all__ = ("qr_endpoints", "qr_option_params")

# Pixels are whole (the server refuses 30.5px): a fraction only with a physical unit.
_SIZE_PATTERN = r"^([0-9]{1,4}(\.[0-9]{1,3})?([mM][mM]|[cC][mM]|[iI][nN])|[0-9]{1,4}[pP][xX])$"


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


async def qr_image(request: Request) -> Response:
    """Render the code's ``qr_payload``; 304 when the client already has this image."""
    svc = services(request)
    slug = request.path_params["slug"]
    row = await svc.storage.codes.get(slug)
    if row is None:
        raise Problem(404, f"There is no code with slug {slug!r}.")
    try:
        options = QrOptions.parse(request.query_params)
    except InvalidField as exc:
        raise invalid(exc.field, exc.msg) from None
    download = query_bool(request, "download", default=False)
    logo = None
    if options.logo:
        logo = await svc.logos.logo_for(slug)
        if logo is None:
            raise invalid("logo", "this code has no logo")
    code = Code.from_row(row)
    payload = qr_links(svc).payload(code)
    etag = etag_for(payload, options, logo)
    # A link's image never changes (the payload is the slug's URL, not its target), so
    # clients may keep it; a static code's changes with its content, so clients ask again
    # (its ETag makes that cheap). "private" because the API needs a key.
    disposition = "attachment" if download else "inline"
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=86400" if code.tracked else "private, no-cache",
        # Slugs are [A-Za-z0-9_-]: safe in a quoted filename as they are.
        "Content-Disposition": f'{disposition}; filename="{slug_of_key(slug)}.{options.format}"',
    }
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        # Drawing and decoding take milliseconds: off the event loop, so redirects don't
        # wait. A refused combination is remembered by its ETag, like an image.
        image = await anyio.to_thread.run_sync(svc.qr.render, payload, options, logo)
    except InvalidField as exc:  # Unscannable, or what cannot be drawn
        raise invalid(exc.field, exc.msg) from None
    except ValueError as exc:  # segno's DataOverflowError: too much data for this ecc level
        detail = f"The payload does not fit a QR code at ecc={options.ecc}: {exc}"
        raise Problem(422, detail) from None
    return Response(image.body, media_type=image.media_type, headers=headers)


def qr_option_params() -> list[Param]:
    """The query parameters of ``QrOptions``: for one image and for archives alike."""
    colour = {"type": "string", "pattern": "^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"}
    formats = list(FORMATS)
    return [
        Param(
            "format",
            "query",
            {"enum": formats, "default": "svg"},
            "Image format: svg, png, pdf (one page) or eps.",
        ),
        Param(
            "size",
            "query",
            {"type": "string", "pattern": _SIZE_PATTERN, "examples": ["30mm"]},
            "Width of the code with its quiet zone: mm, cm, in or px (5 mm to 2 m; "
            "32 to 4096 px). SVG and PDF carry it exactly. Not with scale.",
        ),
        Param(
            "dpi",
            "query",
            {"type": "integer", "minimum": 72, "maximum": 1200},
            "PNG resolution for a size in mm, cm or in (default 300).",
        ),
        Param(
            "scale",
            "query",
            {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
            "Pixels per module, when no size is given.",
        ),
        Param(
            "border",
            "query",
            {"type": "integer", "minimum": 0, "maximum": 20, "default": 4},
            "Quiet zone in modules.",
        ),
        Param(
            "ecc",
            "query",
            {"enum": ["L", "M", "Q", "H"], "default": "M"},
            "Error correction level (H with a logo).",
        ),
        Param(
            "shape",
            "query",
            {"enum": ["square", "rounded", "dots"], "default": "square"},
            "Shape of the data modules.",
        ),
        Param("dark", "query", colour, "Colour of dark modules (hex)."),
        Param(
            "light",
            "query",
            {"anyOf": [colour, {"const": "transparent"}]},
            "Background colour (hex) or transparent.",
        ),
        Param("finder", "query", colour, "Colour of the three finder patterns (hex)."),
        Param(
            "frame",
            "query",
            {"enum": ["none", "label"], "default": "none"},
            "label: the label under the code (implied by label).",
        ),
        Param(
            "label",
            "query",
            {"type": "string", "maxLength": MAX_LABEL},
            f"Text under the code, at most {MAX_LABEL} characters, set in DejaVu Sans.",
        ),
        Param(
            "logo",
            "query",
            {"type": "boolean", "default": False},
            "Put the code's logo (PUT /api/v1/codes/{slug}/logo) in the middle, error "
            "correction H; 422 naming logo when the code has none.",
        ),
    ]


def qr_endpoints() -> list[Endpoint]:
    """The QR image route."""
    return [
        Endpoint(
            "GET",
            "/api/v1/codes/{slug}/qr",
            qr_image,
            "The code's QR image",
            "codes",
            scope=Scope.READ,
            description=(
                "Every image is decoded by the server before it is sent (for SVG, PDF and EPS, "
                "a raster of the same drawing): a combination that would not scan (too little "
                "contrast, a logo too large, a label longer than the code is wide) is a 422 "
                "naming the parameter to blame. Results are cached by ETag."
            ),
            params=[
                SLUG_PARAM,
                *qr_option_params(),
                Param(
                    "download",
                    "query",
                    {"type": "boolean", "default": False},
                    "Content-Disposition: attachment (SLUG.FORMAT) rather than inline.",
                ),
                Param("If-None-Match", "header", {"type": "string"}, "A previous ETag."),
            ],
            extra_problems=[404],
            replies=[
                Reply(
                    200,
                    "The image, of the media type that format asks for.",
                    media_type=MEDIA_TYPES["svg"],
                    headers=("ETag", "Cache-Control", "Content-Disposition"),
                    alternatives=tuple(MEDIA_TYPES[f] for f in FORMATS if f != "svg"),
                ),
                Reply(304, "The client's copy is current.", media_type="", headers=("ETag",)),
            ],
        )
    ]
