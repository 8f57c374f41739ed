"""The scan routes in the Starlette route table: the entrance for every scan request the raw
front (``scanlet.http.fastpath``) does not take. Both entrances answer through ``ScanPath``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scanlet.actors.events import Source
from scanlet.http.codes_api import SLUG_SCHEMA
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.scan_path import LINK_TEMPLATE, QR_TEMPLATE, ScanPath

__all__ = ("redirect_endpoints",)


def redirect_endpoints(scan_path: ScanPath) -> list[Endpoint]:
    """The scan routes; they must come after every other top-level route."""

    async def scan(request: Request, source: Source) -> Response:
        reply = await scan_path.answer(request.scope, request.path_params["slug"], source)
        response = Response(status_code=reply.status)
        response.body = reply.body
        response.raw_headers = list(reply.headers)
        return response

    async def link_scan(request: Request) -> Response:
        """A visit through the short link: source ``link``."""
        return await scan(request, "link")

    async def qr_scan(request: Request) -> Response:
        """A visit through the QR payload: source ``qr``."""
        return await scan(request, "qr")

    slug = Param("slug", "path", SLUG_SCHEMA, "The code's slug.")
    replies = [
        Reply(301, "Redirect (the code's redirect_status).", media_type="", headers=("Location",)),
        Reply(
            302,
            "Redirect to the target; the scan is stored.",
            media_type="",
            headers=("Location", "Cache-Control"),
        ),
        Reply(307, "Redirect (the code's redirect_status).", media_type="", headers=("Location",)),
        Reply(308, "Redirect (the code's redirect_status).", media_type="", headers=("Location",)),
    ]
    return [
        Endpoint(
            "GET",
            QR_TEMPLATE,
            qr_scan,
            "Scan through the QR image",
            "scan",
            params=[slug],
            replies=replies,
            extra_problems=[404, 410, 422, 429, 503],
        ),
        Endpoint(
            "GET",
            LINK_TEMPLATE,
            link_scan,
            "Scan through the short link",
            "scan",
            params=[slug],
            replies=replies,
            extra_problems=[404, 410, 422, 429, 503],
        ),
    ]
