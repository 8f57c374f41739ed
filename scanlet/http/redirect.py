"""The scan routes in the Starlette route table: the entrance for every scan request the raw
front (``scanlet.http.fastpath``) does not take. Both entrances answer through ``ScanPath``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scanlet.actors.codes.validation import RESERVED_SLUGS
from scanlet.actors.events import Source
from scanlet.http.codes_api import SLUG_SCHEMA
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.scan_path import COMPACT_TEMPLATE, LINK_TEMPLATE, QR_TEMPLATE, ScanPath

__all__ = ("redirect_endpoints",)

#: The most a password form's body can be (one field of at most 256 characters, encoded).
MAX_PASSWORD_FORM = 4096
_RESERVED = frozenset(name.lower() for name in RESERVED_SLUGS)


async def _posted_password(request: Request) -> str:
    """The ``password`` field of a posted form ("" when there is none or it is unreadable:
    a wrong password, answered with the form again)."""
    body = await request.body()
    if len(body) > MAX_PASSWORD_FORM:
        return ""
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), max_num_fields=10))
    except (UnicodeDecodeError, ValueError):
        return ""
    return fields.get("password", "")


def _taken_by_other_routes(request: Request) -> set[str]:
    """The methods the other routes at this path take (none: the path is a code's)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in request.app.router.routes:
        if (
            isinstance(route, Route)
            and route.path not in (LINK_TEMPLATE, QR_TEMPLATE, COMPACT_TEMPLATE)
            and route.path_regex.match(path)
        ):
            methods |= route.methods or set()
    return methods


def redirect_endpoints(scan_path: ScanPath) -> list[Endpoint]:
    """The scan routes; they must come after every other top-level route."""

    async def scan(request: Request, source: Source, fold: bool = False) -> Response:
        password = None
        if request.method == "POST":
            other = _taken_by_other_routes(request)
            if other or request.path_params["slug"].lower() in _RESERVED:
                # POST /livez, /openapi.json and friends: a route of its own, not a code
                # (405 as before).
                raise HTTPException(405, headers={"Allow": ", ".join(sorted(other)) or "GET"})
            password = await _posted_password(request)
        reply = await scan_path.answer(
            request.scope, request.path_params["slug"], source, password=password, fold=fold
        )
        response = Response(status_code=reply.status)
        response.body = reply.body
        response.raw_headers = list(reply.headers)
        return response

    async def root(request: Request) -> Response:
        """``GET /``: SCANLET_ROOT_URL's redirect, else 404."""
        reply = scan_path.root(request.scope)
        if reply is None:
            raise HTTPException(404)
        response = Response(status_code=reply.status)
        response.raw_headers = list(reply.headers)
        return response

    async def link_scan(request: Request) -> Response:
        """A visit through the short link: source ``link``."""
        return await scan(request, "link")

    async def qr_scan(request: Request) -> Response:
        """A visit through the QR payload: source ``qr``."""
        return await scan(request, "qr")

    async def compact_scan(request: Request) -> Response:
        """A visit through the compact QR payload (``/Q/SLUG``): source ``qr``, the slug
        looked up ignoring case."""
        return await scan(request, "qr", fold=True)

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
    form = Reply(
        200,
        "A protected code's password form (HTML), or a tracked vcard code's card "
        "(text/vcard, a .vcf attachment).",
        media_type="text/html",
        headers=("Content-Disposition",),
        alternatives=("text/vcard",),
    )
    posted = [
        Reply(302, "The right password: redirect, the scan is stored.", media_type=""),
        Reply(403, "A wrong password: the form again (HTML).", media_type="text/html"),
    ]
    unlock = [
        Endpoint(
            "POST",
            path,
            handler,
            f"Give a protected code's password ({name})",
            "scan",
            params=[slug],
            replies=posted,
            extra_problems=[404, 405, 410, 429, 503],
        )
        for path, handler, name in (
            (QR_TEMPLATE, qr_scan, "QR image"),
            (COMPACT_TEMPLATE, compact_scan, "compact QR image"),
            (LINK_TEMPLATE, link_scan, "short link"),
        )
    ]
    replies = [*replies, form]
    return [
        Endpoint(
            "GET",
            "/",
            root,
            "The server's root: a redirect to SCANLET_ROOT_URL",
            "scan",
            replies=[
                Reply(302, "Redirect to SCANLET_ROOT_URL.", media_type="", headers=("Location",))
            ],
            extra_problems=[404],
        ),
        *unlock,
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
            COMPACT_TEMPLATE,
            compact_scan,
            "Scan through the compact QR image (SCANLET_QR_COMPACT)",
            "scan",
            description="The slug in any case: the code whose slug equals it ignoring case, "
            "when exactly one slug ever taken does.",
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
