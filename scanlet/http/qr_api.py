"""``/api/v1/codes/{slug}/qr``: the code's QR image as SVG or PNG, cacheable by ETag."""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.codes.errors import InvalidField
from scanlet.adapters.qr_images import QrOptions, etag_for
from scanlet.http.codes_api import SLUG_PARAM
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.params import invalid
from scanlet.http.problems import Problem
from scanlet.http.services import services

__all__ = ("qr_endpoints",)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


async def qr_image(request: Request) -> Response:
    """Render the code's ``qr_payload``; 304 when the client already has this image."""
    svc = services(request)
    slug = request.path_params["slug"]
    if svc.index.resolve(slug) is None:
        raise Problem(404, f"There is no code with slug {slug!r}.")
    try:
        options = QrOptions.parse(request.query_params)
    except InvalidField as exc:
        raise invalid(exc.field, exc.msg) from None
    payload = f"{svc.settings.public_base_url}/q/{slug}"
    etag = etag_for(payload, options)
    # The image of a slug never changes (the payload is the slug's URL, not its target), so
    # clients may keep it; "private" because the API needs a key.
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        # Drawing a large PNG takes milliseconds: off the event loop, so redirects don't wait.
        image = await anyio.to_thread.run_sync(svc.qr.render, payload, options)
    except ValueError as exc:  # segno's DataOverflowError: too much data for this ecc level
        detail = f"The payload does not fit a QR code at ecc={options.ecc}: {exc}"
        raise Problem(422, detail) from None
    return Response(image.body, media_type=image.media_type, headers=headers)


def qr_endpoints() -> list[Endpoint]:
    """The QR image route."""
    colour = {"type": "string", "pattern": "^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"}
    return [
        Endpoint(
            "GET",
            "/api/v1/codes/{slug}/qr",
            qr_image,
            "The code's QR image",
            "codes",
            scope=Scope.READ,
            params=[
                SLUG_PARAM,
                Param(
                    "format", "query", {"enum": ["svg", "png"], "default": "svg"}, "Image format."
                ),
                Param(
                    "scale",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
                    "Pixels per module.",
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
                    "Error correction level.",
                ),
                Param("dark", "query", colour, "Colour of dark modules (hex)."),
                Param(
                    "light",
                    "query",
                    {"anyOf": [colour, {"const": "transparent"}]},
                    "Background colour (hex) or transparent.",
                ),
                Param("If-None-Match", "header", {"type": "string"}, "A previous ETag."),
            ],
            extra_problems=[404],
            replies=[
                Reply(
                    200,
                    "The image: SVG, or PNG with format=png.",
                    media_type="image/svg+xml",
                    headers=("ETag", "Cache-Control"),
                    alternatives=("image/png",),
                ),
                Reply(304, "The client's copy is current.", media_type="", headers=("ETag",)),
            ],
        )
    ]
