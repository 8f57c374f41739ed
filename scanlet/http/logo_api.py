"""``/api/v1/codes/{slug}/logo``: upload (PUT), read (GET) and remove (DELETE) a code's logo.

The body is the image itself, PNG, JPEG or SVG by its Content-Type, at most 256 KiB: the
limit is enforced as the body streams in (413 beyond, never buffered whole). The bytes are
checked (Pillow decodes PNG and JPEG, with a pixel cap) or sanitised (SVG) off the event
loop, then handed to the codes actor, which stores them and records the change as a
``code.updated`` event with the logo's hash.
"""

from __future__ import annotations

import anyio
from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.access.keys import Scope
from scanlet.actors.codes.logos import LOGO_TYPES, MAX_LOGO_BYTES
from scanlet.actors.events import By
from scanlet.adapters.qr_images import LogoRejected, load_logo
from scanlet.http.codes_api import SLUG_PARAM, load_code
from scanlet.http.endpoint import Endpoint, Reply
from scanlet.http.errors import code_problem
from scanlet.http.problems import Problem
from scanlet.http.resources import CodeResource, code_resource, qr_links
from scanlet.http.responses import json_response
from scanlet.http.services import services
from scanlet.storage.records import CodeRow

__all__ = ("logo_endpoints", "store_uploaded_logo")

#: A served SVG logo is sanitised already; this keeps a browser that opens it directly
#: from running or loading anything even so (and sniffing is off for every format).
_LOGO_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
}
#: A tiny SVG logo, the OpenAPI example (and what schemathesis' example phase uploads).
EXAMPLE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
    '<circle cx="2" cy="2" r="2" fill="#1565c0"/></svg>'
)


def _logo_media_type(request: Request) -> str:
    """The upload's media type, one of ``LOGO_TYPES`` (parameters dropped), or 415."""
    declared = request.headers.get("content-type", "")
    media = declared.split(";", 1)[0].strip().lower()
    if media not in LOGO_TYPES:
        raise Problem(
            415,
            f"A logo is image/png, image/jpeg or image/svg+xml, not {media or 'none'}.",
        )
    return media


async def _read_logo_body(request: Request) -> bytes:
    """The request's body, refused with 413 as soon as it passes ``MAX_LOGO_BYTES`` (by its
    Content-Length up front, or by counting as it arrives), 400 when empty."""
    too_large = Problem(413, f"A logo must be at most {MAX_LOGO_BYTES // 1024} KiB.")
    try:
        if int(request.headers.get("content-length", "0")) > MAX_LOGO_BYTES:
            raise too_large
    except ValueError:
        raise Problem(400, "Content-Length is not a number.") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_LOGO_BYTES:
            raise too_large
        chunks.append(chunk)
    if size == 0:
        raise Problem(400, "The request body is empty; a PNG, JPEG or SVG image was expected.")
    return b"".join(chunks)


async def store_uploaded_logo(request: Request, by: By) -> CodeRow:
    """Make the request's body the logo of the code in its path, on behalf of ``by``: the
    API's and the dashboard's one upload. Raises Problem (415, 413, 404, 400; 422 naming
    ``logo`` with the reason) or the codes actor's refusal."""
    svc = services(request)
    slug = request.path_params["slug"]
    media_type = _logo_media_type(request)
    await load_code(svc, slug)
    data = await _read_logo_body(request)
    try:
        logo = await anyio.to_thread.run_sync(load_logo, data, media_type)
    except LogoRejected as exc:
        raise code_problem(exc) from None
    return await svc.codes.set_logo(slug, logo.stored(), by)


async def put_logo(request: Request) -> Response:
    """Check (or sanitise) the uploaded image and make it the code's logo."""
    svc = services(request)
    slug = request.path_params["slug"]
    row = await store_uploaded_logo(request, request.state.principal.author)
    counts = await svc.storage.scans.counts_for([slug])
    return json_response(code_resource(row, qr_links(svc), counts.get(slug, 0)))


async def get_logo(request: Request) -> Response:
    """The code's logo as stored (for SVG, the sanitised document)."""
    svc = services(request)
    slug = request.path_params["slug"]
    await load_code(svc, slug)
    stored = await svc.storage.codes.logo(slug)
    if stored is None:
        raise Problem(404, f"The code {slug!r} has no logo.")
    etag = f'"{stored.digest}"'
    headers = {**_LOGO_HEADERS, "ETag": etag}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(stored.data, media_type=stored.media_type, headers=headers)


async def delete_logo(request: Request) -> Response:
    """Remove the code's logo; 404 when it has none."""
    svc = services(request)
    slug = request.path_params["slug"]
    row = await load_code(svc, slug)
    if row.logo is None:
        raise Problem(404, f"The code {slug!r} has no logo.")
    await svc.codes.set_logo(slug, None, request.state.principal.author)
    return Response(status_code=204)


def logo_endpoints() -> list[Endpoint]:
    """The logo routes of a code."""
    path = "/api/v1/codes/{slug}/logo"
    return [
        Endpoint(
            "PUT",
            path,
            put_logo,
            "Upload the code's logo",
            "codes",
            scope=Scope.WRITE,
            params=[SLUG_PARAM],
            raw_body=LOGO_TYPES,
            raw_body_example=("image/svg+xml", EXAMPLE_SVG),
            description=(
                "The body is the image, PNG, JPEG or SVG by its Content-Type (415 for any "
                f"other), at most {MAX_LOGO_BYTES // 1024} KiB (413 beyond). PNG and JPEG "
                "must decode as what they claim to be, 16 to 4096 pixels a side and at most "
                "2048 x 2048 pixels in all. An SVG is refused (422, with the reason) for "
                "scripts, event-handler attributes, references outside itself (an href other "
                "than #id, url() other than url(#id), @import), a DOCTYPE or entities; what "
                "is merely unsupported (text, images, filters, animation, style sheets) is "
                "dropped. `logo=true` on the QR image then draws it."
            ),
            extra_problems=[404, 503],
            replies=[Reply(200, "The code, with has_logo true.", CodeResource)],
        ),
        Endpoint(
            "GET",
            path,
            get_logo,
            "The code's logo",
            "codes",
            scope=Scope.READ,
            params=[SLUG_PARAM],
            extra_problems=[404],
            replies=[
                Reply(
                    200,
                    "The logo as stored (an SVG sanitised), of its own media type.",
                    media_type="image/svg+xml",
                    headers=("ETag",),
                    alternatives=("image/png", "image/jpeg"),
                ),
            ],
        ),
        Endpoint(
            "DELETE",
            path,
            delete_logo,
            "Remove the code's logo",
            "codes",
            scope=Scope.WRITE,
            params=[SLUG_PARAM],
            extra_problems=[404, 503],
            replies=[Reply(204, "Removed.", media_type="")],
        ),
    ]
