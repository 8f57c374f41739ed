"""``GET /{slug}`` and ``GET /q/{slug}``: the scan path.

Resolve from the in-memory index, hand the scan to the scans actor, wait until its group
commit is durable, then send the redirect. ``HEAD`` answers the same way and records nothing
(link checkers and chat previews are not scans).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from scanlet.actors.events import Source
from scanlet.actors.scans.messages import RecordOrphan, RecordScan
from scanlet.actors.scans.privacy import Network, client_address
from scanlet.http.endpoint import Endpoint, Param, Reply
from scanlet.http.problems import Problem, problem_response
from scanlet.http.ratelimit import ScanLimits, limit_key, retry_after
from scanlet.http.services import Services, services
from scanlet.runtime import ActorCrashed, ActorError
from scanlet.storage.errors import StorageUnavailable

__all__ = ("redirect_endpoints", "trusted_country")

_SLUG_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_NO_STORE = "private, max-age=0"

_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8>"
    '<meta name=viewport content="width=device-width,initial-scale=1"><title>{title}</title>'
    "<style>body{{font:16px system-ui,sans-serif;margin:20vh auto;max-width:30rem;"
    "text-align:center;color:#333}}</style></head><body><h1>{title}</h1><p>{detail}</p>"
    "</body></html>"
)


_PAGE_TITLES = {404: "Code not found", 410: "Code no longer active", 429: "Too many requests"}
_SLOW_DOWN = "Too many requests from your address; try again in a little while."


def _refusal(
    request: Request, status: int, detail: str, headers: dict[str, str] | None = None
) -> Response:
    """An HTML page for a browser, problem+json for everything else."""
    headers = {"Cache-Control": _NO_STORE, **(headers or {})}
    if "text/html" in request.headers.get("accept", ""):
        page = _PAGE.format(title=_PAGE_TITLES[status], detail=escape(detail))
        return HTMLResponse(page, status_code=status, headers=headers)
    return problem_response(Problem(status, detail, headers=headers))


def _limited(request: Request, wait: float) -> Response:
    return _refusal(request, 429, _SLOW_DOWN, {"Retry-After": retry_after(wait)})


def trusted_country(peer: str | None, value: str | None, trusted: Sequence[Network]) -> str | None:
    """The country header's value when the peer is a trusted proxy (else anybody could
    claim any country), cut to a sane length; the read models validate it."""
    if not value or not peer or not trusted:
        return None
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return None
    return value[:16] if any(address in network for network in trusted) else None


def _country(request: Request, svc: Services, peer: str | None) -> str | None:
    name = svc.settings.country_header
    value = request.headers.get(name) if name else None
    return trusted_country(peer, value, svc.trusted_networks)


async def _record(svc: Services, message: RecordScan | RecordOrphan) -> object:
    try:
        reply = await svc.scans.ask(message, wait=False)
    except (ActorError, StorageUnavailable):
        raise
    except Exception as exc:
        # The scans actor crashed on this batch and is being restarted: 503, not a 500.
        raise ActorCrashed(svc.scans.name, f"failed on the scan: {exc!r}") from exc
    if isinstance(reply, StorageUnavailable):
        raise reply
    return reply


async def _scan(request: Request, source: Source, limits: ScanLimits) -> Response:
    svc = services(request)
    slug: str = request.path_params["slug"]
    record = request.method != "HEAD"
    route = svc.index.resolve(slug)
    headers = request.headers
    peer = request.client.host if request.client else None
    if route is None:
        address = client_address(peer, headers.get("x-forwarded-for"), svc.trusted_networks)
        # Checked before anything is recorded: an enumeration costs a dict lookup, not a write.
        wait = limits.notfound.take(limit_key(address))
        if wait:
            limits.refused_notfound.inc()
            return _limited(request, wait)
        if not _SLUG_RE.match(slug):
            return _refusal(request, 404, "There is no code here.")
        if record:
            await _record(
                svc,
                RecordOrphan(
                    slug,
                    source,
                    svc.clock.now(),
                    address,
                    headers.get("user-agent"),
                    headers.get("referer"),
                    _country(request, svc, peer),
                ),
            )
        if svc.index.is_taken(slug):
            return _refusal(request, 410, "This code was deleted.")
        return _refusal(request, 404, "There is no code with this address.")
    now = svc.clock.now()
    gone = route.gone_reason(now)
    if gone is not None:
        return _refusal(request, 410, gone)
    address = client_address(peer, headers.get("x-forwarded-for"), svc.trusted_networks)
    if limits.redirect is not None:
        wait = limits.redirect.take(limit_key(address))
        if wait:
            limits.refused_redirect.inc()
            return _limited(request, wait)
    if record:
        recorded = await _record(
            svc,
            RecordScan(
                slug,
                source,
                now,
                address,
                headers.get("user-agent"),
                headers.get("referer"),
                route.max_scans,
                _country(request, svc, peer),
            ),
        )
        if recorded is False:
            return _refusal(request, 410, "This code has reached its scan limit.")
    return Response(
        status_code=route.redirect_status,
        headers={"Location": route.location, "Cache-Control": _NO_STORE},
    )


def redirect_endpoints(limits: ScanLimits) -> list[Endpoint]:
    """The scan routes; they must come after every other top-level route."""

    async def link_scan(request: Request) -> Response:
        """A visit through the short link: source ``link``."""
        return await _scan(request, "link", limits)

    async def qr_scan(request: Request) -> Response:
        """A visit through the QR payload: source ``qr``."""
        return await _scan(request, "qr", limits)

    slug = Param("slug", "path", {"type": "string"}, "The code's slug.")
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
            "/q/{slug}",
            qr_scan,
            "Scan through the QR image",
            "scan",
            params=[slug],
            replies=replies,
            extra_problems=[404, 410, 429, 503],
        ),
        Endpoint(
            "GET",
            "/{slug}",
            link_scan,
            "Scan through the short link",
            "scan",
            params=[slug],
            replies=replies,
            extra_problems=[404, 410, 429, 503],
        ),
    ]
