"""What dashboard pages load besides HTML: QR images, the live scan count, static files.

``/dashboard/stream`` is the API's event stream (``EventStream`` from ``stream.py``) behind
the session cookie instead of a bearer key, since ``EventSource`` cannot send headers. For
one code it carries that code's ``scan.recorded`` events, and after each batch (and once at
the start) a ``count`` message with the code's total read from the scan counters, which are
committed with the events: the figure on the page converges to the stored one even if the
page was rendered a moment before a scan, or the stream reconnected in between.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import cast

from starlette.requests import Request
from starlette.responses import Response

from scanlet.http.dashboard.pages import SECURITY_HEADERS, error_page, static_file
from scanlet.http.dashboard.session import User, current_user
from scanlet.http.log_tail import LogTail
from scanlet.http.params import invalid, query_str
from scanlet.http.qr_api import qr_image
from scanlet.http.scoping import visible_slug
from scanlet.http.services import services
from scanlet.http.stream import (
    EventStream,
    EventStreamResponse,
    StillAllowed,
    StreamConfig,
    stream_hub,
)
from scanlet.storage.ports import EventLogReader

__all__ = ("CountingStream", "dashboard_qr", "dashboard_stream", "not_found", "static")


class CountingStream(EventStream):
    """An event stream that follows each batch with a ``count`` message."""

    def __init__(
        self,
        log: EventLogReader,
        tail: LogTail,
        *,
        after: int,
        slug: str,
        count: Callable[[], Awaitable[int]],
        config: StreamConfig,
        allowed: StillAllowed | None = None,
    ) -> None:
        types = frozenset({"scan.recorded"})
        super().__init__(
            log, tail, after=after, types=types, slug=slug, config=config, allowed=allowed
        )
        self._count = count

    async def frames(self) -> AsyncIterator[bytes]:
        """The inner frames, each batch (and the opening ``retry``) followed by the count."""
        inner = cast(AsyncGenerator[bytes, None], super().frames())
        try:
            async for chunk in inner:
                yield chunk
                # Heartbeats are comments (":"); everything else is the opening or events.
                if not chunk.startswith(b":"):
                    yield b"event: count\ndata: %d\n\n" % await self._count()
        finally:
            await inner.aclose()


async def dashboard_stream(request: Request, user: User) -> Response:
    """``scan.recorded`` events of ``slug`` with its running count, as SSE.

    Counted under the same stream caps as the API's streams, against the signed-in key; it
    closes within a few seconds of the session ending (sign-out, revoked key)."""
    svc = services(request)
    slug = query_str(request, "slug", max_length=64)
    if not slug:
        raise invalid("slug", "name the code whose scans to follow")
    await visible_slug(svc, user.principal, slug)
    hub = stream_hub(svc)
    slot = hub.limits.acquire(user.principal.id)
    try:
        after = await hub.log.last_position()
    except BaseException:
        slot.release()
        raise

    async def count() -> int:
        return (await svc.storage.scans.counts_for([slug])).get(slug, 0)

    async def signed_in() -> bool:
        return await current_user(request) is not None

    stream = CountingStream(
        hub.log,
        hub.tail,
        after=after,
        slug=slug,
        count=count,
        config=hub.config,
        allowed=signed_in,
    )
    response = EventStreamResponse(stream, hub.config, slot)
    response.headers.update(SECURITY_HEADERS)
    return response


async def dashboard_qr(request: Request, user: User) -> Response:
    """The code's QR image for the page and its download buttons (the API's renderer)."""
    response = await qr_image(request)
    response.headers.update(SECURITY_HEADERS)
    return response


async def static(request: Request) -> Response:
    """A stylesheet, script or icon shipped in the package (no CDN, no build step)."""
    found = static_file(request.path_params["name"])
    if found is None:
        return error_page(request, 404, "There is no such file.")
    body, media_type = found
    # URLs carry a content hash (?v=...), so a file may be kept for as long as a browser likes.
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=31536000, immutable"}
    return Response(body, media_type=media_type, headers=headers)


async def not_found(request: Request) -> Response:
    """Any other path under /dashboard: an HTML 404 rather than the API's problem+json."""
    return error_page(
        request, 404, f"Nothing is served at {request.url.path}.", user=await current_user(request)
    )
